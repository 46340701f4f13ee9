from django.conf import settings
from django.conf.urls.static import static
from django.contrib import admin
from django.urls import include, path

from sectorblog.health import healthz

urlpatterns = [
    path("admin/", admin.site.urls),
    path("healthz", healthz, name="healthz"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("sectorblog.feed_urls")),
    path("", include("comments.urls")),
    path("comments/", include("django_comments_xtd.urls")),
    path("", include("comments.linkbacks.urls")),
    path("", include("federation.urls")),
    path("", include("posts.urls")),
]
if settings.DEBUG:
    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)

handler404 = "sectorblog.errors.page_not_found"
handler500 = "sectorblog.middleware.server_error"  # a 503 when the database caused it
if settings.BENCH:
    from sectorblog.benchview import floor

    urlpatterns.insert(0, path("bench/floor", floor, name="bench-floor"))
