"""Old WordPress URLs answer 301 to the imported post (see `posts.models.Redirect`).

The middleware stays out of the way: it touches the database only when a GET or HEAD would
otherwise be a 404, or when the query names a WordPress post (`?p=<id>`, `?page_id=<id>`,
`?attachment_id=<id>`), which the home page would otherwise answer. A redirect is followed only
to a published post, so old links never reveal drafts or scheduled posts.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qs, unquote, urlsplit

from django.http import HttpRequest, HttpResponse, HttpResponsePermanentRedirect

from posts.models import Redirect, published_filter

LEGACY_QUERY_NAMES = ("p", "page_id", "attachment_id")


def normalize_path(url: str) -> str | None:
    """The lookup key for an old URL: its decoded path with single slashes and a trailing slash,
    plus the WordPress query parameter that names a post, if any. None for unusable input."""
    url = (url or "").strip()
    if url.startswith("/"):
        # A path (maybe "//x/"): never let urlsplit read its first segment as a host name.
        raw_path, _, raw_query = url.partition("?")
    else:
        try:
            parts = urlsplit(url)
        except ValueError:
            return None
        raw_path, raw_query = parts.path, parts.query
    path = re.sub(r"/{2,}", "/", "/" + unquote(raw_path).lstrip("/"))
    last = path.rsplit("/", 1)[-1]
    if last and "." not in last:
        path += "/"
    query = parse_qs(raw_query)
    for name in LEGACY_QUERY_NAMES:
        values = query.get(name)
        if values and values[0].isdigit():
            return f"{path}?{name}={int(values[0])}"[:1000]
    if len(path) > 1000:
        return None
    return path


def redirect_target(old_url: str) -> str | None:
    """Where an old URL now lives (a published post's URL), or None. One query."""
    key = normalize_path(old_url)
    if key is None:
        return None
    found = (
        Redirect.objects.filter(old_path=key)
        .filter(published_filter("post__"))
        .select_related("post")
        .first()
    )
    return found.post.get_absolute_url() if found else None


class WordPressRedirectMiddleware:
    """301 from imported WordPress permalinks and `?p=` / `?page_id=` links to the new URLs."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.method in ("GET", "HEAD") and request.META.get("QUERY_STRING"):
            names = [name for name in LEGACY_QUERY_NAMES if request.GET.get(name, "").isdigit()]
            if names:
                name = names[0]
                response = self._redirect(request, f"{request.path}?{name}={request.GET[name]}")
                if response is not None:
                    return response
        response = self.get_response(request)
        if response.status_code == 404 and request.method in ("GET", "HEAD"):
            return self._redirect(request, request.path) or response
        return response

    @staticmethod
    def _redirect(request: HttpRequest, old: str) -> HttpResponse | None:
        target = redirect_target(old)
        if target is None or target == request.path:
            return None
        return HttpResponsePermanentRedirect(target)
