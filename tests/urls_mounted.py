"""The site's URLs mounted under /journal/ (tests/test_permalinks.py)."""

from django.urls import include, path

urlpatterns = [path("journal/", include("sectorblog.urls"))]
