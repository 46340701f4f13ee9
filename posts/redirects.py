"""Old URLs answer 301 to where their content lives now (see `posts.models.Redirect`).

The rows come from a WordPress import (permalinks, `?p=`, `?page_id=`, `?attachment_id=`, `?cat=`,
`?tag=`, `?author=`, nested category paths, the blog's old folder, old slugs) and from posts whose
slug or date changed here. WordPress's `index.php` in front of a query or a path is ignored, and
a feed or page suffix after an old taxonomy or post URL is carried over to the new one.

The middleware stays out of the way: it touches the database only when a GET or HEAD would
otherwise be a 404, or when the query names a WordPress object (`?p=<id>`, `?cat=<id>`, ...),
which the home page would otherwise answer. A redirect is followed only to a published post, and
to an author's page only when they have published posts, so old links never reveal drafts,
scheduled posts or the user names of people who have published nothing.
"""

from __future__ import annotations

import re

from django.http import HttpRequest, HttpResponse, HttpResponsePermanentRedirect
from django.urls import reverse

from posts.models import Post, Redirect, published_filter
from posts.oldurls import LEGACY_QUERY_NAMES, normalize_path, query_value

# A feed or page of an old URL: "feed/", "feed/atom/", "rss2/", "page/3/", ...
_SUFFIX = re.compile(r"^(?P<base>/.*?/)(?:(?:feed/)?(?P<feed>feed|rss|rss2|rdf|atom)/|page/(?P<page>\d+)/)$")


def _carried_suffix(key: str) -> tuple[str, str] | None:
    """(old base path, suffix for the new URL) when the key is a feed or page of another path."""
    match = _SUFFIX.match(key) if "?" not in key else None
    if match is None:
        return None
    if match["page"]:
        return match["base"], f"page/{match['page']}/"
    return match["base"], "feed/atom/" if match["feed"] == "atom" else "feed/"


def _target(row: Redirect, suffix: str) -> str | None:
    if row.post_id is not None:
        if not row.post.is_published or suffix.startswith("page/"):
            return None  # a post has no numbered pages; its feed is its comments feed
        return row.post.get_absolute_url() + suffix
    if row.category_id is not None:
        return row.category.get_absolute_url() + suffix
    if row.tag_id is not None:
        return row.tag.get_absolute_url() + suffix
    if row.author_id is not None:
        if not Post.objects.filter(published_filter(), authorships__user=row.author_id).exists():
            return None
        return reverse("posts:author", args=[row.author.get_username()]) + suffix
    return row.target_url if row.target_url and not suffix else None


def redirect_target(old_url: str) -> str | None:
    """Where an old URL now lives, or None. One query (two for an author's page)."""
    key = normalize_path(old_url)
    if key is None:
        return None
    carried = _carried_suffix(key)
    keys = [key, carried[0]] if carried else [key]
    rows = {
        row.old_path: row
        for row in Redirect.objects.filter(old_path__in=keys).select_related(
            "post", "category", "tag", "author"
        )
    }
    if key in rows:
        return _target(rows[key], "")
    if carried and carried[0] in rows:
        return _target(rows[carried[0]], carried[1])
    return None


class WordPressRedirectMiddleware:
    """301 from old WordPress URLs, and from posts' URLs before a slug change, to the new URLs."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.method in ("GET", "HEAD") and request.META.get("QUERY_STRING"):
            for name in LEGACY_QUERY_NAMES:
                value = query_value(name, request.GET.get(name, ""))
                if value is not None:
                    response = self._redirect(request, f"{request.path}?{name}={value}")
                    if response is not None:
                        return response
                    break
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
