"""Post permalinks (`…/yyyy/mm/dd/slug/`) written in directly, as reverse() writes them.

A page shows many posts' links (the recent posts, the neighbours, related posts, cards, feed
items), and reverse() costs about as much as drawing a card's byline. The detail pattern is
reversed once per URLconf and script prefix; each link is then the post's local date and its
slug, quoted as reverse() quotes it. A slug the pattern would refuse, or a URLconf whose permalink
is not shaped `…/yyyy/mm/dd/slug…`, goes through reverse() as before (and fails there as it
would have): `post_path` returns None for those.
"""

from __future__ import annotations

import datetime as dt
import re
from urllib.parse import quote

from django.conf import settings
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils.http import RFC3986_SUBDELIMS

from posts.converters import PostSlug

SLUG = re.compile(PostSlug.regex)  # what the <postslug:…> converter accepts
PATH_SAFE = RFC3986_SUBDELIMS + "/~:@"  # what reverse() leaves unquoted in a path
_MARKER = "permalink-slug-marker"
_DATED = "/1970/01/02/"
_shapes: dict[tuple, tuple[str, str] | None] = {}


def _shape() -> tuple[str, str] | None:
    """(what comes before "/yyyy/mm/dd/", what comes after the slug), or None."""
    key = (settings.ROOT_URLCONF, get_urlconf(), get_script_prefix())
    try:
        return _shapes[key]
    except KeyError:
        pass
    sample = reverse("posts:detail", kwargs={"year": "1970", "month": "01", "day": "02", "slug": _MARKER})
    head, found, suffix = sample.partition(_MARKER)
    shape = (head[: -len(_DATED)], suffix) if found and head.endswith(_DATED) else None
    _shapes[key] = shape
    return shape


def post_path(local: dt.datetime, slug: str) -> str | None:
    """reverse("posts:detail") for a post published on `local`'s day (its local time) under
    `slug`; None where only reverse() can tell."""
    shape = _shape()
    if shape is None or not SLUG.fullmatch(slug):
        return None
    return (
        f"{shape[0]}/{local.year:04d}/{local.month:02d}/{local.day:02d}/"
        f"{quote(slug, safe=PATH_SAFE)}{shape[1]}"
    )
