"""Whether a request may be served from or stored in the page cache: the one rule that the fast
path (core.cache.fastpath, before Django) and the middleware (core.cache.pagecache) share.

`verdict()` answers from what both can see without Django: the method, the path, the Accept
header, the cookies' names and the bypass flag. A session cookie leaves the answer open
(IF_ANONYMOUS): only the session can tell a signed-in reader from an anonymous visitor, so the
fast path leaves such requests to Django and the middleware reads the session.

A layer outside the site may make the caches step aside for one request by setting `BYPASS` in
the WSGI environ (request.META): "page" skips the page cache (fragments still used), "all" every
cache, for a render from scratch. Nothing in the site sets it; bench/hooks.py does, for
`make bench`.
"""

from __future__ import annotations

import enum
from collections.abc import Container

from django.conf import settings

BYPASS = "core.cache.bypass"
MESSAGES_COOKIE = "messages"  # django.contrib.messages' CookieStorage.cookie_name
METHODS = ("GET", "HEAD")


class Verdict(enum.Enum):
    NO = "no"
    YES = "yes"
    IF_ANONYMOUS = "if-anonymous"  # a session cookie: cacheable only for an anonymous session


def skips_accept(accept: str) -> bool:
    """True when the Accept header names a type the page cache never answers (the same URL
    answers JSON-LD to ActivityPub peers): PAGE_CACHE_SKIP_ACCEPT."""
    if not accept:
        return False
    lowered = accept.lower()
    return any(kind in lowered for kind in settings.PAGE_CACHE_SKIP_ACCEPT)


def verdict(*, method: str, path: str, accept: str, cookies: Container[str], environ) -> Verdict:
    """Whether this request may be served from or stored in the page cache.

    `cookies` is anything that answers `name in cookies` (a dict of cookies, or the raw Cookie
    header, where a substring match errs on the side of "not cacheable"); `environ` is the WSGI
    environ or request.META.
    """
    if not settings.PAGE_CACHE or method not in METHODS or environ.get(BYPASS):
        return Verdict.NO
    if path.startswith(settings.PAGE_CACHE_SKIP_PREFIXES) or skips_accept(accept):
        return Verdict.NO
    if MESSAGES_COOKIE in cookies:
        return Verdict.NO
    return Verdict.IF_ANONYMOUS if settings.SESSION_COOKIE_NAME in cookies else Verdict.YES


def fragments_bypassed(request) -> bool:
    """Whether a layer outside asked every cache, fragments too, to step aside (BYPASS "all")."""
    return request is not None and getattr(request, "META", {}).get(BYPASS) == "all"
