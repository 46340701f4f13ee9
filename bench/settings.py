"""The site's settings for `make bench` (DJANGO_SETTINGS_MODULE=bench.settings): production's,
plus the two things a benchmark needs and production must not have.

- /bench/floor, the cheapest page Django can answer through the site's middleware (bench/urls.py).
- The `X-Bench-Nocache` request header (bench/hooks.py): "1" makes the page cache step aside (what
  a page-cache miss costs, fragment caches warm), "cold" every cache (a render from scratch).
  gunicorn serves bench.wsgi, which sets the flag before the fast path sees the request; the
  middleware below does the same for Django's test client.
"""

from sectorblog.settings import *  # noqa: F403
from sectorblog.settings import MIDDLEWARE, PAGE_CACHE_SKIP_PREFIXES

ROOT_URLCONF = "bench.urls"
WSGI_APPLICATION = "bench.wsgi.application"
MIDDLEWARE = ["bench.hooks.NoCacheHeaderMiddleware", *MIDDLEWARE]
PAGE_CACHE_SKIP_PREFIXES = (*PAGE_CACHE_SKIP_PREFIXES, "/bench/")
