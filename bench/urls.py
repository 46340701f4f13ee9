"""The site's URLs plus /bench/floor (bench/floor.py), under `make bench` only."""

from django.urls import path

from bench.floor import floor
from sectorblog.urls import handler404, handler500
from sectorblog.urls import urlpatterns as site_urlpatterns

urlpatterns = [path("bench/floor", floor, name="bench-floor"), *site_urlpatterns]
__all__ = ["handler404", "handler500", "urlpatterns"]
