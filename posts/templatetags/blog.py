"""Template tags for the reading pages: sidebar widgets, the table of contents, share links and
JSON-LD. Each widget runs one query whatever the number of posts, categories or tags, and starts
from the publication rule (`Post.objects.published()` or `published_filter`).
"""

from __future__ import annotations

import html
import json
import math
import zoneinfo
from datetime import datetime
from html.parser import HTMLParser
from typing import NamedTuple
from urllib.parse import quote, urlencode, urljoin

from django import template
from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db.models import Count, QuerySet
from django.db.models.functions import TruncMonth
from django.urls import reverse
from django.utils import dateformat, formats, timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from core.origin import public_origin
from core.prepared import Shape, prepared
from posts import chrome, images, termcounts
from posts.models import Category, Post, Tag, display_name

register = template.Library()

MAIN_CATEGORIES = 5
RECENT_POSTS = 5
TAG_CLOUD_SIZE = 40
TAG_WEIGHTS = 5
# Mastodon has no central share endpoint; every instance answers /share?text=.
MASTODON_SHARE_URL = "https://mastodon.social/share"


def _origin() -> str:
    return public_origin()


@register.simple_tag(takes_context=True)
def sidebar_widgets(context) -> str:
    """The sidebar's widgets, written in Python (posts/chrome.py): the same HTML as
    {% recent_posts %}{% category_list %}{% tag_cloud %}{% monthly_archives %}, whose templates
    are the readable copy of the markup."""
    found = taxonomy(context.get("request"))
    return mark_safe(  # noqa: S308 (posts/chrome.py escapes every value it shows)
        chrome.recent_posts(latest_posts())
        + chrome.category_list(found.categories)
        + chrome.tag_cloud(found.tags)
        + chrome.monthly_archives(archive_months())
    )


@register.simple_tag(takes_context=True)
def main_nav_categories(context, count: int = MAIN_CATEGORIES) -> str:
    """The header's categories, written in Python: the same HTML as {% main_categories %}."""
    categories = top_categories(taxonomy(context.get("request")).categories, count)
    return mark_safe(chrome.main_categories(categories))  # noqa: S308 (escaped in posts/chrome.py)


@register.inclusion_tag("includes/_recent_posts.html")
def recent_posts(count: int = RECENT_POSTS):
    return {"recent_posts": latest_posts(count)}


def latest_posts(count: int = RECENT_POSTS) -> list[Post]:
    if count == RECENT_POSTS:  # the sidebar's: compiled once (core.prepared)
        return _recent_posts(now=timezone.now())
    return list(_latest(timezone.now())[:count])


def _latest(now) -> QuerySet[Post]:
    return (
        Post.objects.published(now)
        .filter(is_page=False)
        .only("title", "slug", "published_at", "created_at")
        .order_by("-published_at", "-id")
    )


@prepared(now=datetime)
def _recent_posts(now) -> QuerySet[Post]:
    return _latest(now)[:RECENT_POSTS]


@register.inclusion_tag("includes/_category_list.html", takes_context=True)
def category_list(context):
    return {"category_tree": taxonomy(context.get("request")).categories}


@register.inclusion_tag("includes/_main_categories.html", takes_context=True)
def main_categories(context, count: int = MAIN_CATEGORIES):
    """The header's categories: the top-level ones with the most published posts."""
    return {"main_categories": top_categories(taxonomy(context.get("request")).categories, count)}


def top_categories(tree: list[dict], count: int = MAIN_CATEGORIES) -> list[Category]:
    roots = sorted(tree, key=lambda n: -n["category"].post_count)
    return [node["category"] for node in roots[:count]]


class Taxonomy(NamedTuple):
    categories: list[dict]  # the category tree's nodes (_category_tree)
    tags: list[Tag]  # tag_cloud()'s tags, alphabetical, with post_count and weight


def taxonomy(request=None) -> Taxonomy:
    """The category tree and the tag cloud, from one query; the header and the sidebar show the
    same tree, so a request runs that query once for both."""
    if request is None:
        return _taxonomy()
    found = getattr(request, "_sectorblog_taxonomy", None)
    if found is None:
        found = request._sectorblog_taxonomy = _taxonomy()
    return found


def _taxonomy() -> Taxonomy:
    """The category tree and the tag cloud: the stored term counts when they are current, else
    counted live, the same rows either way (posts.termcounts.chrome_rows)."""
    categories: dict[int, Category] = {}
    tags: list[Tag] = []
    for kind, pk, parent_id, name, slug, count in termcounts.chrome_rows(timezone.now(), TAG_CLOUD_SIZE):
        if kind == "c":
            categories[pk] = Category(pk=pk, parent_id=parent_id, name=name, slug=slug)
            categories[pk].post_count = count
        else:
            tags.append(Tag(pk=pk, name=name, slug=slug))
            tags[-1].post_count = count
    return Taxonomy(_category_tree(categories), _weighed(tags))


def _category_tree(categories: dict[int, Category]) -> list[dict]:
    """Categories nested under their parents, each with the number of published posts its page
    lists: its own and its sub-categories', each post once (counted in the database). A parent
    whose posts are all filed under a child shows that count, not (0); a category whose subtree
    has none is left out (the query returns only categories with posts)."""
    children: dict[int | None, list[Category]] = {}
    for cat in categories.values():
        children.setdefault(cat.parent_id, []).append(cat)

    def build(cat: Category, seen: frozenset[int]) -> dict:
        sub = [
            build(child, seen | {child.pk})
            for child in children.get(cat.pk, [])
            if child.pk not in seen  # a broken (cyclic) parent link
        ]
        return {"category": cat, "children": sub}

    # Roots are categories without a (known) parent; a broken parent link never hides a category.
    # A category with no visible post in its subtree is not returned, so its children are roots
    # only if their own parent link is broken, as before.
    return [
        build(cat, frozenset({cat.pk}))
        for cat in categories.values()
        if cat.parent_id is None or cat.parent_id not in categories
    ]


def _weighed(tags: list[Tag]) -> list[Tag]:
    """The tags alphabetically, each with a weight 1–5 (CSS classes, no inline style)."""
    if tags:
        low = math.log(min(t.post_count for t in tags))
        high = math.log(max(t.post_count for t in tags))
        for t in tags:
            share = (math.log(t.post_count) - low) / (high - low) if high > low else 0
            t.weight = 1 + round(share * (TAG_WEIGHTS - 1))
    tags.sort(key=lambda t: t.name.casefold())
    return tags


@register.inclusion_tag("includes/_tag_cloud.html", takes_context=True)
def tag_cloud(context):
    """The most used tags, alphabetically, each with a weight 1–5 (CSS classes, no inline style)."""
    return {"cloud_tags": taxonomy(context.get("request")).tags}


@register.inclusion_tag("includes/_monthly_archives.html")
def monthly_archives():
    return {"archive_months": archive_months()}


@prepared(now=datetime, zone=Shape)
def _months(now, zone) -> QuerySet[Post]:
    """(month, count) rows; months begin in `zone`, the current time zone's name."""
    return (
        Post.objects.published(now)
        .filter(is_page=False)
        .annotate(month=TruncMonth("published_at", tzinfo=zoneinfo.ZoneInfo(zone)))
        .values_list("month")
        .annotate(count=Count("id"))
        .order_by("-month")
    )


def archive_months() -> list[dict]:
    """Months that have published posts, newest first, with counts (site time zone). Links and
    names ("April 2025") are made here: a {% url %} and a date filter per month in the template
    cost several times more, and a site ten years old lists 120 months. The URL is reversed once
    and each month's words ("April") formatted once per call (`MonthNames`), not per month."""
    months = _months(now=timezone.now(), zone=timezone.get_current_timezone_name())
    # /1970/01/ split around its year and month: the converters write 4 and 2 digits.
    prefix, _sep, rest = reverse("posts:archive-month", args=[1970, 1]).partition("1970")
    middle, _sep, suffix = rest.partition("01")
    name = MonthNames()
    return [
        {
            "url": f"{prefix}{month.year:04d}{middle}{month.month:02d}{suffix}",
            "name": name(month),
            "count": count,
        }
        for month, count in months
    ]


# Format characters that depend on the month alone, and on the year alone.
_MONTH_FORMAT_CHARS = frozenset("bEFmMnN")
_YEAR_FORMAT_CHARS = {"Y": lambda year: f"{year:04d}", "y": lambda year: f"{year % 100:02d}"}


class MonthNames:
    """`date_format(localtime(when), "YEAR_MONTH_FORMAT")` for the many months of one render (the
    archives): the same text, with the format read and split once and each month's words
    ("April", "abril") formatted once. A format with other characters (a weekday, say) is
    formatted whole, as before. Make one per render, in its language and time zone."""

    def __init__(self):
        self._format = str(formats.get_format("YEAR_MONTH_FORMAT"))
        self._pieces: list[tuple[str, str]] = []  # ("text" | "month" | "year", text or format char)
        self._whole = False
        for i, piece in enumerate(dateformat.re_formatchars.split(self._format)):
            if i % 2:
                if piece in _MONTH_FORMAT_CHARS:
                    self._pieces.append(("month", piece))
                elif piece in _YEAR_FORMAT_CHARS:
                    self._pieces.append(("year", piece))
                else:
                    self._whole = True
            elif piece:
                self._pieces.append(("text", dateformat.re_escaped.sub(r"\1", piece)))
        self._months: dict[int, dict[str, str]] = {}
        self._zone = timezone.get_current_timezone()

    def __call__(self, when) -> str:
        local = when.astimezone(self._zone) if timezone.is_aware(when) else when
        if self._whole:
            return dateformat.format(local, self._format)
        words = self._months.get(local.month)
        if words is None:
            formatter = dateformat.DateFormat(local)
            words = self._months[local.month] = {
                char: str(getattr(formatter, char)()) for kind, char in self._pieces if kind == "month"
            }
        year = local.year
        return "".join(
            words[text] if kind == "month" else _YEAR_FORMAT_CHARS[text](year) if kind == "year" else text
            for kind, text in self._pieces
        )


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
# HumanDatetimes._clock's per (language, the format's minute characters, hour, minute): as bounded.
_clocks: dict[tuple[str | None, tuple[str, ...], int, int], tuple[str, tuple[str, ...]]] = {}


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
        self._minute_chars = tuple(char for kind, char in self._pieces if kind == "minute")
        self._days: dict = {}  # date: its _day
        self._offsets: dict = {}  # UTC offset: its ISO text ("+00:00")
        self._day_templates: dict = {}  # date: its _day_template
        self._zones: dict = {}  # the zone's name: escaped
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

    def _day(self, local) -> tuple[str, list[str | tuple[str, str]]]:
        """The day's ISO date, and the format with the day's words written in and joined to the
        text around them, so what is left per date is its minute's pieces:
        ("2026-12-07", ["Dec. 7, 2026, ", ("minute", "P")])."""
        words = dateformat.DateFormat(local)
        parts: list[str | tuple[str, str]] = []
        for kind, char in self._pieces:
            if kind in ("minute", "clock"):
                parts.append((kind, char))
                continue
            text = char if kind == "text" else str(getattr(words, char)())
            if parts and isinstance(parts[-1], str):
                parts[-1] += text
            else:
                parts.append(text)
        return local.date().isoformat(), parts

    def pair(self, when) -> tuple[str, str]:
        """(machine_datetime, human_datetime) of one datetime, aware or naive, never None."""
        aware = timezone.is_aware(when)
        local = when.astimezone(self._zone) if aware else when
        day = self._days.get(local.date())
        if day is None:
            day = self._days[local.date()] = self._day(local)
        date, parts = day
        # A whole DateFormat only for what the day and the minute don't fix (seconds, offsets).
        words = dateformat.DateFormat(local) if self._other_clock else None
        text = "".join(
            [
                part
                if isinstance(part, str)
                else self._minute(local, part[1])
                if part[0] == "minute"
                else str(getattr(words, part[1])())
                for part in parts
            ]
        )
        # _iso(local), with the date and the offset's text written once: the whole isoformat()
        # of an aware datetime costs several times its clock's.
        machine = f"{date}T{local.time().isoformat('seconds')}"
        if not aware:
            return machine, text.strip()
        offset = local.utcoffset()
        offset_text = self._offsets.get(offset)
        if offset_text is None:
            offset_text = self._offsets[offset] = _iso(local).removeprefix(machine)
        zone = ""
        # Not for a wall-clock time that DST repeats or skips: Django's "T" writes no zone then.
        if local.tzinfo.utcoffset(local.replace(fold=not local.fold)) == offset:
            zone = str(local.tzinfo.tzname(local))  # DateFormat's "T"
        return machine + offset_text, f"{text} {zone}".strip()

    def time_html(self, when) -> str:
        """`<time datetime="machine_datetime">human_datetime, escaped</time>` of an aware or
        naive datetime: what `pair` gives, from one conversion to the local time zone and a
        handful of calls. The day's words come from a template made once per day and the
        minute's ("3:09 p.m.", "15:09") once per hour and minute, both already escaped (escaping
        is character by character, so the parts escaped apart join into the whole escaped)."""
        if when.tzinfo is None or self._other_clock:  # naive (never from the database) or rare formats
            machine, human = self.pair(when)
            return f'<time datetime="{machine}">{html.escape(human)}</time>'
        local = when.astimezone(self._zone)
        date = local.date()
        templates = self._day_templates
        template = templates[date] if date in templates else self._day_template(local)
        minute = (self._language, self._minute_chars, local.hour, local.minute)
        hour_minute, words = _clocks[minute] if minute in _clocks else self._clock(local, minute)
        offset = local.utcoffset()
        offsets = self._offsets
        offset_text = offsets[offset] if offset in offsets else self._offset_text(local, offset)
        zone = ""
        # Not for a wall-clock time that DST repeats or skips: Django's "T" writes no zone then.
        if local.tzinfo.utcoffset(local.replace(fold=not local.fold)) == offset:
            zone = local.tzinfo.tzname(local)  # DateFormat's "T"
            zones = self._zones
            zone = zones[zone] if zone in zones else zones.setdefault(zone, html.escape(str(zone)))
        machine = f"{template[0]}T{hour_minute}{local.second:02d}{offset_text}"
        return f'<time datetime="{machine}">{f"{template[1] % words} {zone}".strip()}</time>'

    def _day_template(self, local) -> tuple[str, str]:
        """The day's ISO date and its human text, escaped, with a %s for each minute piece."""
        date, parts = self._day(local)
        text = "".join(
            html.escape(part).replace("%", "%%") if isinstance(part, str) else "%s" for part in parts
        )
        self._day_templates[local.date()] = date, text
        return date, text

    def _clock(self, local, key) -> tuple[str, tuple[str, ...]]:
        """("15:09:", the minute pieces' words, escaped) for the local time's hour and minute."""
        clock = (
            f"{local.hour:02d}:{local.minute:02d}:",
            tuple(html.escape(self._minute(local, char)) for char in self._minute_chars),
        )
        _clocks[key] = clock
        return clock

    def _offset_text(self, local, offset) -> str:
        text = self._offsets[offset] = _iso(local)[19:]  # "+05:30" after "2026-12-07T03:09:00"
        return text


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
