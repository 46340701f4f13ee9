"""Template tags for the reading pages: sidebar widgets, the table of contents, share links and
JSON-LD. Each widget runs one query whatever the number of posts, categories or tags, and starts
from the publication rule (`Post.objects.published()` or `published_filter`).
"""

from __future__ import annotations

import json
import math
from html.parser import HTMLParser
from urllib.parse import quote, urlencode, urljoin

from django import template
from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db.models import Count, FilteredRelation, Q
from django.db.models.functions import TruncMonth
from django.urls import reverse
from django.utils import dateformat, formats, timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from core.origin import public_origin
from posts import images
from posts.models import Category, Post, Tag, display_name, published_filter

register = template.Library()

MAIN_CATEGORIES = 5
RECENT_POSTS = 5
TAG_CLOUD_SIZE = 40
TAG_WEIGHTS = 5
# Mastodon has no central share endpoint; every instance answers /share?text=.
MASTODON_SHARE_URL = "https://mastodon.social/share"


def _origin() -> str:
    return public_origin()


def _visible_posts(prefix: str) -> Q:
    return published_filter(prefix) & Q(**{f"{prefix}is_page": False})


@register.inclusion_tag("includes/_recent_posts.html")
def recent_posts(count: int = RECENT_POSTS):
    posts = (
        Post.objects.published()
        .filter(is_page=False)
        .only("title", "slug", "published_at", "created_at")
        .order_by("-published_at", "-id")[:count]
    )
    return {"recent_posts": list(posts)}


@register.inclusion_tag("includes/_category_list.html", takes_context=True)
def category_list(context):
    return {"category_tree": _category_tree(context.get("request"))}


@register.inclusion_tag("includes/_main_categories.html", takes_context=True)
def main_categories(context, count: int = MAIN_CATEGORIES):
    """The header's categories: the top-level ones with the most published posts."""
    roots = sorted(_category_tree(context.get("request")), key=lambda n: -n["category"].post_count)
    return {"main_categories": [node["category"] for node in roots[:count]]}


def _category_tree(request) -> list[dict]:
    # The header and the sidebar show the same tree: one query per request for both.
    if request is None:
        return category_tree()
    if not hasattr(request, "_sectorblog_category_tree"):
        request._sectorblog_category_tree = category_tree()
    return request._sectorblog_category_tree


def category_tree() -> list[dict]:
    """Categories nested under their parents, each with the number of published posts its page
    lists: its own and its sub-categories', each post once. A parent whose posts are all filed
    under a child shows that count, not (0).

    One query: every category with the ids of its visible posts (a filtered left join), so the
    distinct posts of a subtree are counted here rather than summed (a post filed under a parent
    and its child counts once).
    """
    rows = (
        Category.objects.annotate(visible=FilteredRelation("posts", condition=_visible_posts("posts__")))
        .order_by("name", "pk")
        .values_list("pk", "parent_id", "name", "slug", "visible__pk")
    )
    categories: dict[int, Category] = {}
    own_posts: dict[int, set[int]] = {}
    for pk, parent_id, name, slug, post_id in rows:
        if pk not in categories:
            categories[pk] = Category(pk=pk, parent_id=parent_id, name=name, slug=slug)
            own_posts[pk] = set()
        if post_id is not None:
            own_posts[pk].add(post_id)
    children: dict[int | None, list[Category]] = {}
    for cat in categories.values():
        children.setdefault(cat.parent_id, []).append(cat)

    def build(cat: Category, seen: frozenset[int]) -> tuple[dict | None, set[int]]:
        posts = set(own_posts[cat.pk])
        sub = []
        for child in children.get(cat.pk, []):
            if child.pk in seen:
                continue  # a broken (cyclic) parent link
            node, child_posts = build(child, seen | {child.pk})
            posts |= child_posts
            if node is not None:
                sub.append(node)
        cat.post_count = len(posts)
        return ({"category": cat, "children": sub} if posts else None), posts

    # Roots are categories without a (known) parent; a broken parent link never hides a category.
    roots = [c for c in categories.values() if c.parent_id is None or c.parent_id not in categories]
    return [node for node, _posts in (build(cat, frozenset({cat.pk})) for cat in roots) if node is not None]


@register.inclusion_tag("includes/_tag_cloud.html")
def tag_cloud(size: int = TAG_CLOUD_SIZE):
    """The most used tags, alphabetically, each with a weight 1–5 (CSS classes, no inline style)."""
    tags = list(
        Tag.objects.annotate(post_count=Count("posts", filter=_visible_posts("posts__")))
        .filter(post_count__gt=0)
        .order_by("-post_count", "name")[:size]
    )
    if tags:
        low = math.log(min(t.post_count for t in tags))
        high = math.log(max(t.post_count for t in tags))
        for t in tags:
            share = (math.log(t.post_count) - low) / (high - low) if high > low else 0
            t.weight = 1 + round(share * (TAG_WEIGHTS - 1))
    tags.sort(key=lambda t: t.name.casefold())
    return {"cloud_tags": tags}


@register.inclusion_tag("includes/_monthly_archives.html")
def monthly_archives():
    """Months that have published posts, newest first, with counts (site time zone). Links and
    names ("April 2025") are made here: a {% url %} and a date filter per month in the template
    cost several times more, and a site ten years old lists 120 months."""
    months = (
        Post.objects.published()
        .filter(is_page=False)
        .annotate(month=TruncMonth("published_at"))
        .values_list("month")
        .annotate(count=Count("id"))
        .order_by("-month")
    )
    return {
        "archive_months": [
            {
                "url": reverse("posts:archive-month", args=[month.year, month.month]),
                "name": formats.date_format(timezone.localtime(month), "YEAR_MONTH_FORMAT"),
                "count": count,
            }
            for month, count in months
        ]
    }


class _HeadingCollector(HTMLParser):
    """Collects (level, id, text) of h2/h3 elements with an id (the toc extension adds them)."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.headings: list[tuple[int, str, str]] = []
        self._current: tuple[int, str] | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag in {"h2", "h3"}:
            anchor = dict(attrs).get("id")
            if anchor:
                self._current = (int(tag[1]), anchor)
                self._text = []

    def handle_endtag(self, tag):
        if self._current and tag == f"h{self._current[0]}":
            text = " ".join("".join(self._text).split())
            if text:
                self.headings.append((*self._current, text))
            self._current = None

    def handle_data(self, data):
        if self._current:
            self._text.append(data)


@register.simple_tag
def post_toc(post):
    """A nested table of contents from the heading anchors in the rendered body (long posts only)."""
    if not post.has_toc:
        return ""
    collector = _HeadingCollector()
    collector.feed(post.body_html)
    collector.close()
    groups: list[tuple[tuple[str, str], list[tuple[str, str]]]] = []
    for level, anchor, text in collector.headings:
        if level == 2 or not groups:
            groups.append(((anchor, text), []))
        else:
            groups[-1][1].append((anchor, text))
    if not groups:
        return ""

    def sublist(entries):
        if not entries:
            return ""
        return format_html(
            "<ol>{}</ol>",
            format_html_join("", '<li><a href="#{}">{}</a></li>', entries),
        )

    items = format_html_join(
        "",
        '<li><a href="#{}">{}</a>{}</li>',
        ((anchor, text, sublist(children)) for (anchor, text), children in groups),
    )
    return format_html(
        # The heading is interface text inside an article that may be in another language.
        '<nav class="toc" aria-labelledby="toc-title"><h2 id="toc-title" lang="{}">{}</h2><ol>{}</ol></nav>',
        get_language(),
        _("Contents"),
        items,
    )


@register.inclusion_tag("includes/_share.html")
def share_links(post):
    """Plain share URLs (no third-party scripts) and the data for the copy-link button."""
    url = _origin() + post.get_absolute_url()
    text = f"{post.title} {url}"
    return {
        "share_url": url,
        "share_links": [
            (
                "email",
                _("Email"),
                "mailto:?" + urlencode({"subject": post.title, "body": url}, quote_via=quote),
            ),
            ("mastodon", "Mastodon", f"{MASTODON_SHARE_URL}?{urlencode({'text': text}, quote_via=quote)}"),
            (
                "linkedin",
                "LinkedIn",
                "https://www.linkedin.com/sharing/share-offsite/?" + urlencode({"url": url}, quote_via=quote),
            ),
            (
                "x",
                "X",
                "https://x.com/intent/tweet?" + urlencode({"text": post.title, "url": url}, quote_via=quote),
            ),
        ],
    }


# The characters json_script escapes, so the JSON can never close the <script> element.
_JSON_SCRIPT_ESCAPES = {ord(">"): "\\u003E", ord("<"): "\\u003C", ord("&"): "\\u0026"}


def _iso(when):
    return when.isoformat(timespec="seconds") if when else None


@register.simple_tag(takes_context=True)
def post_json_ld(context, post):
    """JSON-LD BlogPosting (schema.org) for a post, in a script element carrying the CSP nonce."""
    origin = _origin()
    url = origin + post.get_absolute_url()
    authors = []
    for authorship in post.authorships.all():  # prefetched with user and profile
        user = authorship.user
        authors.append(
            {
                "@type": "Person",
                "name": display_name(user),
                "url": origin + reverse("posts:author", kwargs={"username": user.get_username()}),
            }
        )
    data = {
        "@context": "https://schema.org",
        "@type": "BlogPosting",
        "headline": post.title,
        "description": post.summary,
        "url": url,
        "mainEntityOfPage": {"@type": "WebPage", "@id": url},
        "inLanguage": post.language,
        "datePublished": _iso(post.published_at),
        "dateModified": _iso(post.updated_at),
        "author": authors,
        "publisher": {"@type": "Organization", "name": settings.SITE_NAME, "url": origin + "/"},
        "wordCount": post.word_count,
        "keywords": [t.name for t in post.tags.all()],
    }
    if post.featured_image:
        # Media may live on another host (object storage): only relative URLs get the site origin.
        data["image"] = urljoin(origin, post.featured_image.url)
    payload = json.dumps(data, cls=DjangoJSONEncoder, ensure_ascii=False).translate(_JSON_SCRIPT_ESCAPES)
    # Escaped JSON, not formatted HTML: the same treatment Django's json_script gives its payload.
    return format_html(
        '<script type="application/ld+json" nonce="{}">{}</script>',
        context.get("csp_nonce", ""),
        mark_safe(payload),  # noqa: S308
    )


@register.filter
def machine_datetime(when):
    """A datetime for <time datetime="">, in the site's time zone, to the second.

    Django's "c" date format adds microseconds, and the HTML standard allows at most three
    fraction digits ("valid global date and time string"), so vnu rejects it.
    """
    if not when:
        return ""

    return _iso(timezone.localtime(when) if timezone.is_aware(when) else when)


@register.filter
def human_datetime(when) -> str:
    """A date and time for people, in the site's time zone and the active language, naming the
    zone: "Dec. 7, 2026, 3:09 a.m. UTC". Without the zone a reader elsewhere can't tell when it
    was, and a sentence no longer ends on the "a.m." abbreviation's own full stop."""
    if not when:
        return ""

    local = timezone.localtime(when) if timezone.is_aware(when) else when
    zone = dateformat.format(local, "T") if timezone.is_aware(local) else ""
    return f"{formats.date_format(local, 'DATETIME_FORMAT')} {zone}".strip()


# Format characters that depend on the day alone (not the time of day or the zone's offset).
_DAY_FORMAT_CHARS = frozenset("bdDEFjlLmMnNoStwWyYz")
# Format characters that depend on the hour and minute alone ("3:09 p.m.", "noon").
_MINUTE_FORMAT_CHARS = frozenset("aAfgGhHiP")
# Their words per (language, character, hour, minute): at most 1,440 entries a character and
# language, the same for every render (a thread's comments rarely share a minute).
_minute_words: dict[tuple[str | None, str, int, int], str] = {}


class HumanDatetimes:
    """`human_datetime` for the many dates of one render (a comment thread): the same text, with
    the language's DATETIME_FORMAT read and split once, each day's part ("Dec. 7, 2026")
    formatted once per day and each minute's ("3:09 p.m.") once per language, so a date costs
    little more than joining its pieces. Make one per render, in the language and time zone of
    that render."""

    def __init__(self):
        # ("text" | "day" | "minute" | "clock", text or format char)
        self._pieces: list[tuple[str, str]] = []
        for i, piece in enumerate(
            dateformat.re_formatchars.split(str(formats.get_format("DATETIME_FORMAT")))
        ):
            if i % 2:
                if piece in _DAY_FORMAT_CHARS:
                    kind = "day"
                elif piece in _MINUTE_FORMAT_CHARS:
                    kind = "minute"
                else:
                    kind = "clock"
                self._pieces.append((kind, piece))
            elif piece:
                self._pieces.append(("text", dateformat.re_escaped.sub(r"\1", piece)))
        self._other_clock = any(kind == "clock" for kind, _char in self._pieces)
        self._days: dict = {}
        self._zone = timezone.get_current_timezone()
        self._language = get_language()

    def __call__(self, when) -> str:
        return self.pair(when)[1] if when else ""

    def _minute(self, local, char: str) -> str:
        key = (self._language, char, local.hour, local.minute)
        text = _minute_words.get(key)
        if text is None:
            text = _minute_words[key] = str(getattr(dateformat.TimeFormat(local.time()), char)())
        return text

    def pair(self, when) -> tuple[str, str]:
        """(machine_datetime, human_datetime) of one datetime, aware or naive, never None."""
        aware = timezone.is_aware(when)
        local = when.astimezone(self._zone) if aware else when
        # A whole DateFormat only for what the day and the minute don't fix (seconds, offsets).
        words = dateformat.DateFormat(local) if self._other_clock else None
        day = self._days.get(local.date())
        if day is None:
            words_of_day = words or dateformat.DateFormat(local)
            day = self._days[local.date()] = {
                char: str(getattr(words_of_day, char)()) for kind, char in self._pieces if kind == "day"
            }
        text = "".join(
            char
            if kind == "text"
            else day[char]
            if kind == "day"
            else self._minute(local, char)
            if kind == "minute"
            else str(getattr(words, char)())
            for kind, char in self._pieces
        )
        zone = ""
        if aware and not _ambiguous_or_imaginary(local):
            zone = str(local.tzinfo.tzname(local))  # DateFormat's "T"
        return _iso(local), f"{text} {zone}".strip()


def _ambiguous_or_imaginary(local) -> bool:
    """A wall-clock time that DST repeats or skips: Django's "T" writes no zone name for it."""
    tz = local.tzinfo
    return tz.utcoffset(local.replace(fold=not local.fold)) != tz.utcoffset(local)


@register.filter(name="display_name")
def display_name_filter(user) -> str:
    """`{{ user|display_name }}`: the one name a person is shown under (posts.models.display_name)."""
    return display_name(user)


@register.filter
def initials(name: str) -> str:
    """ "Wanjiru Kamau" → "WK": the face of an author without a photo."""
    words = [word for word in str(name).split() if word[:1].isalnum()]
    return "".join(word[0] for word in words[:2]).upper() or "?"


@register.simple_tag
def featured_image(post, sizes: str, eager: bool = False, css_class: str = "", decorative: bool = False):
    """The post's featured image as a <picture> with WebP and narrower copies when the worker
    has made them (posts/images.py), else the original. Lazy unless `eager` (above the fold);
    a `decorative` copy (a card's image beside the titled link) has empty alt text."""
    lazy = not eager
    name = post.featured_image.name
    return images.picture_html(
        post.featured_image.url,
        alt="" if decorative else post.featured_image_alt,
        info=images.info_from(post.featured_image_variants, name),
        sizes=sizes,
        lazy=lazy,
        css_class=css_class,
    )


@register.simple_tag
def author_photo(profile, size: int, eager: bool = False):
    """An author's photo `size` CSS pixels square, from the square WebP and original-format copies
    the worker made (posts/images.py), else the upload itself. Lazy unless `eager` (the author
    page, where it is above the fold)."""
    name = profile.avatar.name
    return images.photo_html(
        profile.avatar.url,
        info=images.photo_info_from(profile.avatar_variants, name),
        size=int(size),
        lazy=not eager,
        css_class="u-photo author-photo",
    )
