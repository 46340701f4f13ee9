"""The lookup key of an old URL (`normalize_path`), shared by the Redirect rows' writers (a post's
slug or date change, the WordPress importer, the demo) and their reader (posts/redirects.py).
Pure functions: no model, so posts.models can use them."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, unquote, urlsplit

# WordPress query variables that name one object: a number, except ?tag=, which takes a slug.
LEGACY_QUERY_NAMES = ("p", "page_id", "attachment_id", "cat", "tag", "author")
_SLUG_VALUE = re.compile(r"^[-\w%]{1,200}$")
_INDEX_PHP = re.compile(r"/index\.php(?=/|$)")


def query_value(name: str, value: str) -> str | None:
    if name == "tag":
        return value.strip().lower() if _SLUG_VALUE.match(value.strip()) else None
    return str(int(value)) if value.isdigit() else None


def normalize_path(url: str) -> str | None:
    """The lookup key for an old URL: its decoded path with single slashes, a trailing slash and
    no `index.php`, plus the WordPress query parameter that names an object, if any. None for
    unusable input."""
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
    path = _INDEX_PHP.sub("", path) or "/"
    last = path.rsplit("/", 1)[-1]
    if last and "." not in last:
        path += "/"
    query = parse_qs(raw_query)
    for name in LEGACY_QUERY_NAMES:
        values = query.get(name)
        value = query_value(name, values[0]) if values else None
        if value is not None:
            return f"{path}?{name}={value}"[:1000]
    if len(path) > 1000:
        return None
    return path
