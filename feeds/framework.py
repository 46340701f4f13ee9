"""The feed framework: RSS 2.0 and Atom 1.0 generators and `SiteFeed`, the view every feed uses.

Specs followed:
- RSS 2.0 (rssboard.org/rss-specification), with the `content` module (content:encoded),
  Dublin Core (dc:creator, one per author), Media RSS (media:content) and `atom:link rel=self`
  (rssboard.org/rss-profile §4.8.1; RSS Best Practices Profile).
- Atom 1.0, RFC 4287: §4.1.1 feed (author, id, title, updated), §4.1.2 entry, §4.1.3 content
  type="html", §4.2.5 icon.
- Conditional GET, RFC 9110 §13 (ETag / If-None-Match, Last-Modified / If-Modified-Since).
- WebSub, W3C Recommendation §4: feeds advertise the hub with a `rel="hub"` link.

Every feed holds `FEED_ITEMS` items and is built from a fixed number of queries; the post feeds
(feeds/posts.py) and comment feeds (feeds/comments.py) say what they list. Text that XML 1.0
cannot carry (C0 controls, lone surrogates, U+FFFE/U+FFFF) is dropped before it reaches the XML
writer, so hostile content still gives a well-formed document.
"""

from __future__ import annotations

import copy
import hashlib
import html
import re
import time
from typing import Any
from urllib.parse import urljoin, urlsplit

from django.conf import settings
from django.contrib.syndication.views import Feed
from django.core.exceptions import ObjectDoesNotExist
from django.db import DEFAULT_DB_ALIAS
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.templatetags.static import static
from django.utils import translation
from django.utils.cache import get_conditional_response, patch_cache_control, quote_etag
from django.utils.feedgenerator import Atom1Feed, Rss201rev2Feed
from django.utils.functional import Promise
from django.utils.http import http_date
from django.utils.translation import gettext as _

from core.cache import deps, fragments
from core.cache.version import changed_at, content_version
from core.origin import absolute_url, public_origin
from feeds import xmlwrite

FEED_ITEMS = 20
FEED_MAX_AGE = 300
GENERATOR_NAME = "sectorblog"
FEED_ICON = "img/feed-icon.png"
FEED_ICON_SIZE = 144  # RSS 2.0 caps <image> width at 144 px.
# Bump when the feed layout changes, so caches holding the old layout see a new ETag.
FEED_FORMAT_VERSION = "1"

# XML 1.0 §2.2 Char production: everything outside it is dropped.
_XML_FORBIDDEN = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_URL_ATTRIBUTE = re.compile(r'(\s(?:href|src)=")([^"]*)(")', re.IGNORECASE)


# --- text and URL hygiene ---------------------------------------------------------------------


def xml_text(value: Any) -> Any:
    """`value` with every character XML 1.0 forbids removed; lists and dicts are cleaned deeply."""
    if type(value) is str:  # nearly every value: no isinstance chain
        return _XML_FORBIDDEN.sub("", value)
    if isinstance(value, Promise):
        value = str(value)
    if isinstance(value, str):
        return _XML_FORBIDDEN.sub("", value)
    if isinstance(value, list | tuple):
        return type(value)(xml_text(v) for v in value)
    if isinstance(value, dict):
        return {k: xml_text(v) for k, v in value.items()}
    return value


def _plain_strings(value: dict | list | tuple, out: list[str]) -> bool:
    """Gather the strings in `value` (and the dicts, lists and tuples in it) into `out`; False
    where xml_text() would also convert something (a lazy or other str subclass)."""
    for item in value.values() if type(value) is dict else value:
        kind = type(item)
        if kind is str:
            out.append(item)
        elif kind is dict or kind is list or kind is tuple:
            if not _plain_strings(item, out):
                return False
        elif isinstance(item, str | Promise | dict | list | tuple):
            return False
    return True


def needs_xml_text(value: dict) -> bool:
    """Whether xml_text(value) would change anything: one search over all its strings (joined
    by a newline, which XML allows), rather than one call per string."""
    strings: list[str] = []
    return not _plain_strings(value, strings) or _XML_FORBIDDEN.search("\n".join(strings)) is not None


def absolutize_html(body: str, base_url: str) -> str:
    """Rewrite every relative href/src in sanitized HTML against `base_url` (an absolute URL).

    The sanitizer always writes attributes double-quoted and entity-escaped, so a regular
    expression over `href="…"`/`src="…"` sees every URL attribute there is.
    """

    def rewrite(match: re.Match) -> str:
        raw = html.unescape(match.group(2))
        if urlsplit(raw).scheme:
            return match.group(0)
        return f"{match.group(1)}{html.escape(urljoin(base_url, raw), quote=True)}{match.group(3)}"

    return _URL_ATTRIBUTE.sub(rewrite, body)


# --- feed generators --------------------------------------------------------------------------


class _XmlSafeMixin:
    """Drops XML-forbidden characters from every value handed to the generator, and writes the
    items directly (feeds.xmlwrite) rather than through SAX events: the same bytes."""

    # False writes every item through `add_item_elements` (the SAX form): the reference that
    # tests/test_feeds_direct.py compares the direct writing with.
    write_directly = True

    def __init__(self, *args, **kwargs):
        super().__init__(*xml_text(list(args)), **xml_text(kwargs))

    def add_item(self, *args, **kwargs):
        if args or needs_xml_text(kwargs):
            super().add_item(*xml_text(list(args)), **xml_text(kwargs))
        else:  # nearly every item: nothing to drop
            super().add_item(**kwargs)

    def write_item(self, item) -> str | None:
        """The item's element, written directly; None where only the SAX form can."""
        raise NotImplementedError

    def write_items(self, handler):
        if not self.write_directly:
            return super().write_items(handler)
        written: list[str] = []
        for item in self.items:
            direct = None if self.item_attributes(item) else self.write_item(item)
            if direct is not None:
                written.append(direct)
                continue
            # ignorableWhitespace() is the SAX writer's way to write text as it is.
            handler.ignorableWhitespace("".join(written))
            written = []
            handler.startElement(self.item_element, self.item_attributes(item))
            self.add_item_elements(handler, item)
            handler.endElement(self.item_element)
        handler.ignorableWhitespace("".join(written))


def _hub_url() -> str:
    return settings.WEBSUB_HUB_URL


class RssFeedGenerator(_XmlSafeMixin, Rss201rev2Feed):
    """RSS 2.0 with content:encoded, dc:creator per author, media:content, generator, image, hub."""

    item_element = "item"
    write_item = staticmethod(xmlwrite.rss_item)

    def rss_attributes(self):
        return {
            **super().rss_attributes(),
            "xmlns:content": "http://purl.org/rss/1.0/modules/content/",
            "xmlns:dc": "http://purl.org/dc/elements/1.1/",
            "xmlns:media": "http://search.yahoo.com/mrss/",
        }

    def add_root_elements(self, handler):
        super().add_root_elements(handler)
        handler.addQuickElement("generator", self.feed["generator"])
        handler.addQuickElement("docs", "https://www.rssboard.org/rss-specification")
        handler.startElement("image", {})
        handler.addQuickElement("url", self.feed["icon"])
        handler.addQuickElement("title", self.feed["title"])
        handler.addQuickElement("link", self.feed["link"])
        handler.addQuickElement("width", str(FEED_ICON_SIZE))
        handler.addQuickElement("height", str(FEED_ICON_SIZE))
        handler.endElement("image")
        if self.feed.get("hub"):
            handler.addQuickElement("atom:link", None, {"rel": "hub", "href": self.feed["hub"]})

    def add_item_elements(self, handler, item):
        super().add_item_elements(handler, item)
        for author in item.get("authors", ()):
            handler.addQuickElement("dc:creator", author["name"])
        if item.get("content"):
            handler.addQuickElement("content:encoded", item["content"])
        image = item.get("image")
        if image:
            handler.startElement(
                "media:content", {"url": image["url"], "medium": "image", "type": image["type"]}
            )
            if image.get("alt"):
                handler.addQuickElement("media:description", image["alt"])
            handler.endElement("media:content")


class AtomFeedGenerator(_XmlSafeMixin, Atom1Feed):
    """Atom 1.0 with html content, every author, icon, generator and hub link."""

    item_element = "entry"
    write_item = staticmethod(xmlwrite.atom_entry)

    def add_root_elements(self, handler):
        super().add_root_elements(handler)
        handler.addQuickElement("icon", self.feed["icon"])
        handler.addQuickElement("generator", self.feed["generator"], {"uri": self.feed["home"]})
        if self.feed.get("hub"):
            handler.addQuickElement("link", "", {"rel": "hub", "href": self.feed["hub"]})

    def add_item_elements(self, handler, item):
        super().add_item_elements(handler, item)
        for author in item.get("authors", ()):
            handler.startElement("author", {})
            handler.addQuickElement("name", author["name"])
            if author.get("uri"):
                handler.addQuickElement("uri", author["uri"])
            handler.endElement("author")
        if item.get("content"):
            handler.addQuickElement("content", item["content"], {"type": "html"})
        image = item.get("image")
        if image:
            handler.addQuickElement(
                "link", "", {"rel": "enclosure", "href": image["url"], "type": image["type"]}
            )


# --- the shared view --------------------------------------------------------------------------


class SiteFeed(Feed):
    """A feed view with conditional GET, CDN cache headers and `?lang=` filtering.

    Subclasses provide `items(obj)`, `feed_state(obj)` (one cheap aggregate query giving a
    token that changes whenever the items do, and the newest change among them as a timestamp,
    or None where item dates can't tell: see `last_modified`), `title(obj)`, `link(obj)`,
    `description(obj)` and the `item_*` hooks. Links come from SITE_SCHEME/SITE_DOMAIN, not from
    the request's Host header, so a feed fetched through any proxy names the public site.
    """

    feed_type = RssFeedGenerator
    accepts_language = True
    # Feeds only read: no request transaction (core.reads), which Django reads off the view.
    _non_atomic_requests = frozenset({DEFAULT_DB_ALIAS})

    def __call__(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if request.method not in ("GET", "HEAD"):
            return HttpResponseNotAllowed(["GET", "HEAD"])
        lang = request.GET.get("lang", "") if self.accepts_language else ""
        if lang and lang not in dict(settings.LANGUAGES):
            raise Http404(_("There is no feed in that language."))
        # The URLconf holds one instance for every thread: per-request state goes on a copy.
        return copy.copy(self).respond(request, lang, *args, **kwargs)

    def respond(self, request: HttpRequest, lang: str, *args, **kwargs) -> HttpResponse:
        self.lang = lang
        self.request = request
        try:
            obj = self.get_object(request, *args, **kwargs)
        except ObjectDoesNotExist as exc:
            raise Http404(_("There is no such feed.")) from exc
        self.obj = obj
        self._declare_discussion()
        token, modified = self._remembered("feed-state", lambda: self.feed_state(obj))
        fingerprint = "\x1f".join(
            [
                FEED_FORMAT_VERSION,
                type(self).__name__,
                request.path,
                lang,
                token,
                # The channel's own title and the site name change the document too.
                str(obj or ""),
                settings.SITE_NAME,
                str(settings.FEED_FULL_TEXT),
                _hub_url(),
                public_origin(),
            ]
        )
        digest = hashlib.sha256(fingerprint.encode()).hexdigest()[:32]
        etag = quote_etag(digest)
        timestamp = last_modified(modified, self.discussion_tags(obj))
        response = get_conditional_response(request, etag=etag, last_modified=timestamp)
        if response is None:
            with translation.override(self.feed_language(obj)):
                feedgen = self.get_feed(obj, request)
            # One string, not thousands of small writes to the response.
            response = HttpResponse(feedgen.writeString("utf-8"), content_type=feedgen.content_type)
        response["ETag"] = etag
        response["Last-Modified"] = http_date(timestamp)
        # LocaleMiddleware would otherwise name the reader's language, not the feed's.
        response["Content-Language"] = self.feed_language(obj)
        patch_cache_control(response, public=True, max_age=FEED_MAX_AGE)
        return response

    def _remembered(self, name: str, compute):
        """`compute()`, kept under the content version for this feed's URL and language (and the
        discussion tags it shows): every change to what a feed lists renews one or the other, so
        a warm feed runs no query for it."""
        request = getattr(self, "request", None)

        def declared():
            self._declare_discussion()
            return compute()

        return fragments.remember(name, (request.path if request else "", self.lang), declared, request)

    def discussion_shown(self, obj) -> tuple | None:
        """The posts whose discussions this feed shows, for core.cache.deps: () for none (a feed
        of posts), or None for any post's (the default: a feed of the whole site's comments)."""
        return None

    def discussion_tags(self, obj) -> tuple[str, ...]:
        shown = self.discussion_shown(obj)
        if shown is None:
            return (deps.ANY,)
        return tuple(deps.discussion_tag(pk) for pk in shown)

    def _declare_discussion(self) -> None:
        shown = self.discussion_shown(getattr(self, "obj", None))
        if shown:
            deps.discussion(*shown)
        elif shown is not None:
            deps.declare()

    def feed_language(self, obj) -> str:
        return self.lang or settings.LANGUAGE_CODE

    def feed_path(self, obj) -> str:
        path = self.feed_url(obj)
        return f"{path}?lang={self.lang}" if self.lang else path

    def get_feed(self, obj, request):
        self_url = absolute_url(self.feed_path(obj))
        title = str(self._get_dynamic_attr("title", obj))
        if self.lang:
            title = f"{title} ({translation.get_language_info(self.lang)['name_local']})"
        feed = self.feed_type(
            title=title,
            link=absolute_url(self._get_dynamic_attr("link", obj)),
            description=self._get_dynamic_attr("description", obj),
            subtitle=self._get_dynamic_attr("description", obj),
            language=self.feed_language(obj),
            feed_url=self_url,
            feed_guid=self_url,
            author_name=settings.SITE_NAME,
            generator=GENERATOR_NAME,
            icon=absolute_url(static(FEED_ICON)),
            hub=_hub_url() or None,
            ttl=FEED_MAX_AGE // 60,  # RSS <ttl> is in minutes; it matches Cache-Control.
            home=absolute_url("/"),
        )
        for entry in self.item_entries(obj):
            feed.add_item(**entry)
        return feed

    def item_entries(self, obj) -> list[dict[str, Any]]:
        return [self.item_entry(item) for item in self._get_dynamic_attr("items", obj)]

    def item_entry(self, item) -> dict[str, Any]:
        """Everything the generator needs for one item."""
        link = absolute_url(self._get_dynamic_attr("item_link", item))
        return {
            "title": self._get_dynamic_attr("item_title", item),
            "link": link,
            "description": self._get_dynamic_attr("item_description", item),
            "unique_id": self._get_dynamic_attr("item_guid", item, link),
            "unique_id_is_permalink": True,
            "pubdate": self._get_dynamic_attr("item_pubdate", item),
            "updateddate": self._get_dynamic_attr("item_updateddate", item),
            "categories": self._get_dynamic_attr("item_categories", item),
            **self.item_extra_kwargs(item),
        }


def last_modified(newest: float | None, tags=(deps.ANY,)) -> int:
    """A feed's Last-Modified, from its content: the newest publication or update among its
    items (`newest`), the same from every worker however its copy was cached.

    Where item dates can't tell every change (a comment feed: approving an old comment shows it
    without a new date), the feed passes None and gets the time content last changed on the
    site (core.cache.version.changed_at) or in the discussions it shows (`tags`,
    core.cache.deps), also the same everywhere: a change elsewhere costs an If-Modified-Since
    reader a full response, never a stale one. Either way the ETag names the exact state, and
    If-None-Match wins when both are sent (RFC 9110 section 13.2.2).
    """
    if newest is not None:
        return int(newest)
    # A comment renews its post's discussion tags (core.cache.deps), not the content version.
    changed = max(changed_at(content_version()) or 0, deps.newest(tags) or 0)
    return changed or int(time.time())


class AtomMixin:
    feed_type = AtomFeedGenerator

    def feed_url(self, obj) -> str:
        return super().feed_url(obj) + "atom/"
