from django.conf import settings

from core.origin import public_origin


def site(request):
    return {
        "SITE_NAME": settings.SITE_NAME,
        "SITE_ORIGIN": public_origin(),
    }
