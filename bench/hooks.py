"""`X-Bench-Nocache`, for `make bench` only (bench/settings.py): the header becomes the caches'
own bypass flag (core.cache.policy.BYPASS), "1" for the page cache, "cold" for every cache."""

from __future__ import annotations

from core.cache.policy import BYPASS

HEADER = "HTTP_X_BENCH_NOCACHE"


def mark(environ) -> None:
    value = environ.get(HEADER)
    if value:
        environ[BYPASS] = "all" if value == "cold" else "page"


class NoCacheWSGI:
    """Outermost WSGI wrapper (bench/wsgi.py): before the fast path sees the request."""

    def __init__(self, app):
        self.app = app

    def __call__(self, environ, start_response):
        mark(environ)
        return self.app(environ, start_response)


class NoCacheHeaderMiddleware:
    """The same for requests that do not come through bench.wsgi (Django's test client)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        mark(request.META)
        return self.get_response(request)
