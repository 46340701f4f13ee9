from django.conf import settings
from django.conf.urls.static import static
from django.contrib import admin
from django.urls import include, path

from core.adminlinks import view_on_site
from core.health import healthz

urlpatterns = [
    # Before the admin's own r/ pattern: its redirect showed any staff user any draft's URL.
    path("admin/r/<int:content_type_id>/<path:object_id>/", admin.site.admin_view(view_on_site)),
    path("admin/", admin.site.urls),
    # Sign-in, second factor, password reset and sessions (django-allauth; see accounts/).
    path("accounts/", include("allauth.urls")),
    path("healthz", healthz, name="healthz"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("feeds.urls")),
    # The discussion's own views only. django_comments_xtd.urls is not included: its JSON API,
    # like/flag views and django_comments' views created or changed comments without the form's
    # rules (comments/services.py), and its redirect shortcut revealed unpublished posts.
    path("", include("comments.urls")),
    path("", include("comments.linkbacks.urls")),
    path("", include("newsletter.urls")),
    path("", include("federation.urls")),
    path("", include("posts.urls")),
]
if settings.DEBUG:
    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)

handler404 = "core.errors.page_not_found"
handler500 = "core.middleware.server_error"  # a 503 when the database caused it
