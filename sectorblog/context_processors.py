from django.conf import settings


def site(request):
    return {
        "SITE_NAME": settings.SITE_NAME,
        "SITE_ORIGIN": f"{settings.SITE_SCHEME}://{settings.SITE_DOMAIN}",
    }
