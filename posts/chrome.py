"""The sidebar widgets' and the main nav's HTML, written directly in Python.

The same markup lives, readable, in templates/includes/ (_main_categories.html,
_recent_posts.html, _category_list.html with _category_tree.html, _tag_cloud.html,
_monthly_archives.html), rendered by the inclusion tags of the same names in
posts/templatetags/blog.py; tests/test_chrome_render.py checks that both give the same HTML,
apart from whitespace beside block elements, in every language. Pages use this module because
every public page draws these widgets, and when the fragment cache is off or misses they are
rendered on every request. The benchmark site's widgets (5 categories, 6 tags, 37 months, 5
recent posts), their data in hand, median of 200 renders on the 2-core machine (2026-12-07,
load average near 1):

    python (posts/chrome.py)            0.18 ms
    templates (templates/includes/)     1.08 ms

Names, titles and URLs are escaped; interface text is the translation as {% translate %} and
{% blocktranslate %} give it. Change the templates and this module together.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Iterable
from urllib.parse import quote

from django.conf import settings
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils.translation import get_language, gettext, ngettext

from posts.models import Category, Post, Tag
from posts.permalinks import PATH_SAFE
from posts.permalinks import SLUG as _SLUG

_MARKER = "chrome-url-marker"
_shapes: dict[tuple, tuple[str, str, str]] = {}


def escape(text) -> str:
    """django.utils.html.escape's text, without its SafeString wrapper."""
    return html.escape(str(text))


def value_url(name: str, kwarg: str, pattern: re.Pattern) -> Callable[[str], str]:
    """`reverse(name, kwargs={kwarg: value})` for many values: reversed once, then each value
    quoted as reverse() quotes it. A value the URL pattern would refuse still goes through
    reverse() (and fails there as it would have). The pattern is reversed once per process,
    URLconf, script prefix and language."""
    key = (name, kwarg, settings.ROOT_URLCONF, get_urlconf(), get_script_prefix(), get_language())
    shape = _shapes.get(key)
    if shape is None:
        shape = _shapes[key] = reverse(name, kwargs={kwarg: _MARKER}).partition(_MARKER)
    prefix, _sep, suffix = shape

    def url(value: str) -> str:
        if pattern.fullmatch(value):
            return f"{prefix}{quote(value, safe=PATH_SAFE)}{suffix}"
        return reverse(name, kwargs={kwarg: value})

    return url


def slug_url(name: str) -> Callable[[str], str]:
    """`reverse(name, kwargs={"slug": slug})` for many slugs (value_url with the slug converter)."""
    return value_url(name, "slug", _SLUG)


def main_categories(categories: Iterable[Category]) -> str:
    url = slug_url("posts:category")
    return "".join(f'<li><a href="{escape(url(c.slug))}">{escape(c.name)}</a></li>\n' for c in categories)


def recent_posts(posts: list[Post]) -> str:
    if not posts:
        return ""
    items = "".join(
        f'<li><a href="{escape(post.get_absolute_url())}">{escape(post.title)}</a></li>\n' for post in posts
    )
    return (
        '<section class="widget widget-recent" aria-labelledby="widget-recent-title">\n'
        f'<h2 id="widget-recent-title">{gettext("Recent posts")}</h2>\n'
        f"<ul>\n{items}</ul>\n</section>\n"
    )


def category_list(tree: list[dict]) -> str:
    if not tree:
        return ""
    url = slug_url("posts:category")

    def nodes(level: list[dict]) -> str:
        items = []
        for node in level:
            cat = node["category"]
            sub = nodes(node["children"]) if node["children"] else ""
            items.append(
                f'<li>\n<a href="{escape(url(cat.slug))}">{escape(cat.name)}</a> '
                f'<span class="count">({cat.post_count})</span>\n{sub}</li>\n'
            )
        return f"<ul>\n{''.join(items)}</ul>\n"

    return (
        '<section class="widget widget-categories" aria-labelledby="widget-categories-title">\n'
        f'<h2 id="widget-categories-title">{gettext("Categories")}</h2>\n'
        f"{nodes(tree)}</section>\n"
    )


def tag_cloud(tags: list[Tag]) -> str:
    if not tags:
        return ""
    url = slug_url("posts:tag")
    items = []
    for tag in tags:
        count = ngettext("(%(counter)s post)", "(%(counter)s posts)", tag.post_count) % {
            "counter": tag.post_count
        }
        items.append(
            f'<li>\n<a class="weight-{tag.weight}" rel="tag" href="{escape(url(tag.slug))}">'
            f'{escape(tag.name)}</a>\n<span class="visually-hidden">{count}</span>\n</li>\n'
        )
    return (
        '<section class="widget widget-tags" aria-labelledby="widget-tags-title">\n'
        f'<h2 id="widget-tags-title">{gettext("Tags")}</h2>\n'
        f'<ul class="tag-cloud">\n{"".join(items)}</ul>\n</section>\n'
    )


def monthly_archives(months: list[dict]) -> str:
    if not months:
        return ""
    items = "".join(
        f'<li><a href="{escape(month["url"])}">{escape(month["name"])}</a> '
        f'<span class="count">({month["count"]})</span></li>\n'
        for month in months
    )
    return (
        '<section class="widget widget-archives" aria-labelledby="widget-archives-title">\n'
        f'<h2 id="widget-archives-title">{gettext("Archives")}</h2>\n'
        f"<ul>\n{items}</ul>\n</section>\n"
    )
