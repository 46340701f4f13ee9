"""Templates learn the fediverse domain here, so the author and subscribe pages can show handles
(@username@domain) without the posts app knowing about federation."""

from django.conf import settings

from federation.actors import webfinger_domain


def fediverse(request):
    if not settings.FEDERATION_ENABLED:
        return {}

    return {"FEDIVERSE_DOMAIN": webfinger_domain(), "FEDIVERSE_BLOG": settings.FEDERATION_BLOG_USERNAME}
