"""Post feeds in RSS 2.0 and Atom 1.0, and the feed machinery the comment feeds reuse.

Specs followed:
- RSS 2.0 (rssboard.org/rss-specification), with the `content` module (content:encoded),
  Dublin Core (dc:creator, one per author), Media RSS (media:content) and `atom:link rel=self`
  (rssboard.org/rss-profile §4.8.1; RSS Best Practices Profile).
- Atom 1.0, RFC 4287: §4.1.1 feed (author, id, title, updated), §4.1.2 entry, §4.1.3 content
  type="html", §4.2.5 icon.
- Conditional GET, RFC 9110 §13 (ETag / If-None-Match, Last-Modified / If-Modified-Since).
- WebSub, W3C Recommendation §4: feeds advertise the hub with a `rel="hub"` link.

Every feed starts from `Post.objects.published()`, holds `FEED_ITEMS` items and is built from a
fixed number of queries. Text that XML 1.0 cannot carry (C0 controls, lone surrogates,
U+FFFE/U+FFFF) is dropped before it reaches the XML writer, so hostile content still gives a
well-formed document.
"""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
import html
import mimetypes
import re
import time
from typing import Any
from urllib.parse import urljoin, urlsplit

from django.conf import settings
from django.contrib.syndication.views import Feed
from django.core.exceptions import ObjectDoesNotExist
from django.db.models import Count, Max, Prefetch, QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import get_object_or_404
from django.templatetags.static import static
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.cache import get_conditional_response, patch_cache_control, quote_etag
from django.utils.feedgenerator import Atom1Feed, Rss201rev2Feed
from django.utils.functional import Promise
from django.utils.http import http_date
from django.utils.translation import gettext as _

from core.cache import fragments
from core.cache.version import changed_at, content_version
from core.origin import absolute_url, public_origin
from posts.models import Category, Post, PostAuthor, Tag, public_authors

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
    if isinstance(value, Promise):
        value = str(value)
    if isinstance(value, str):
        return _XML_FORBIDDEN.sub("", value)
    if isinstance(value, list | tuple):
        return type(value)(xml_text(v) for v in value)
    if isinstance(value, dict):
        return {k: xml_text(v) for k, v in value.items()}
    return value


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
    """Drops XML-forbidden characters from every value handed to the generator."""

    def __init__(self, *args, **kwargs):
        super().__init__(*xml_text(list(args)), **xml_text(kwargs))

    def add_item(self, *args, **kwargs):
        super().add_item(*xml_text(list(args)), **xml_text(kwargs))


def _hub_url() -> str:
    return getattr(settings, "WEBSUB_HUB_URL", "") or ""


class RssFeedGenerator(_XmlSafeMixin, Rss201rev2Feed):
    """RSS 2.0 with content:encoded, dc:creator per author, media:content, generator, image, hub."""

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
                str(getattr(settings, "FEED_FULL_TEXT", True)),
                _hub_url(),
                public_origin(),
            ]
        )
        digest = hashlib.sha256(fingerprint.encode()).hexdigest()[:32]
        etag = quote_etag(digest)
        timestamp = last_modified(modified)
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
        """`compute()`, kept under the content version for this feed's URL and language: every
        change to what a feed lists renews the version, so a warm feed runs no query for it."""
        request = getattr(self, "request", None)
        return fragments.remember(name, (request.path if request else "", self.lang), compute, request)

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


def last_modified(newest: float | None) -> int:
    """A feed's Last-Modified, from its content: the newest publication or update among its
    items (`newest`), the same from every worker however its copy was cached.

    Where item dates can't tell every change (a comment feed: approving an old comment shows it
    without a new date), the feed passes None and gets the time content last changed on the
    site (core.cache.version.changed_at), also the same everywhere: a change elsewhere costs an
    If-Modified-Since reader a full response, never a stale one. Either way the ETag names the
    exact state, and If-None-Match wins when both are sent (RFC 9110 section 13.2.2).
    """
    if newest is not None:
        return int(newest)
    return changed_at(content_version()) or int(time.time())


class AtomMixin:
    feed_type = AtomFeedGenerator

    def feed_url(self, obj) -> str:
        return super().feed_url(obj) + "atom/"


# --- post feeds -------------------------------------------------------------------------------


def _author_entries(post: Post) -> list[dict[str, str]]:
    entries = []
    for authorship in post.authorships.all():
        user = authorship.user
        try:
            name = user.profile.name
        except ObjectDoesNotExist:
            name = user.get_full_name() or user.get_username()
        uri = absolute_url(reverse("posts:author", kwargs={"username": user.get_username()}))
        entries.append({"name": name, "uri": uri})
    return entries


def _featured_image(post: Post) -> dict[str, str] | None:
    if not post.featured_image:
        return None
    url = absolute_url(post.featured_image.url)
    mime = mimetypes.guess_type(post.featured_image.name)[0] or "image/jpeg"
    return {"url": url, "type": mime, "alt": post.featured_image_alt}


class PostFeed(SiteFeed):
    """The site's latest posts; subclasses narrow it to a category, tag or author."""

    def get_object(self, request, **kwargs):
        return None

    def post_queryset(self, obj) -> QuerySet[Post]:
        queryset = Post.objects.published().filter(is_page=False)
        if self.lang:
            queryset = queryset.filter(language=self.lang)
        return self.narrow(queryset, obj)

    def narrow(self, queryset: QuerySet[Post], obj) -> QuerySet[Post]:
        return queryset

    def feed_state(self, obj) -> tuple[str, float | None]:
        state = self.post_queryset(obj).aggregate(
            count=Count("pk"), newest=Max("published_at"), changed=Max("updated_at")
        )
        token = f"{state['count']}|{state['newest']}|{state['changed']}"
        dates = [when.timestamp() for when in (state["newest"], state["changed"]) if when]
        # A post dropped from the feed (unpublished, deleted) changes the ETag, not this date.
        return token, max(dates, default=None)

    def item_queryset(self, obj) -> QuerySet[Post]:
        return (
            self.post_queryset(obj)
            .prefetch_related(
                Prefetch("authorships", queryset=PostAuthor.objects.select_related("user__profile")),
                "categories",
                "tags",
            )
            .defer("body", "search_text")
            .order_by("-published_at", "-id")
        )

    def items(self, obj):
        return self.item_queryset(obj)[:FEED_ITEMS]

    def item_entries(self, obj) -> list[dict[str, Any]]:
        """The items, each built once per content version and kept in the cache.

        With the cache warm this is two cache reads (the ids in order, then their entries) and no
        query; only the posts missing from the cache are fetched with their authors, categories
        and tags.
        """
        if not fragments.enabled(getattr(self, "request", None)):
            return super().item_entries(obj)
        ids = self._remembered(
            "feed-ids",
            lambda: list(
                self.post_queryset(obj)
                .order_by("-published_at", "-id")
                .values_list("pk", flat=True)[:FEED_ITEMS]
            ),
        )
        full_text = getattr(settings, "FEED_FULL_TEXT", True)
        keys = {pk: fragments.fragment_key("feed-item", (pk, full_text, public_origin())) for pk in ids}
        if None in keys.values():  # the cache is down
            return super().item_entries(obj)
        found = fragments.get_many(list(keys.values()))
        missing = [pk for pk in ids if keys[pk] not in found]
        if missing:
            fetched = self.item_queryset(obj).filter(pk__in=missing)
            built = {item.pk: self.item_entry(item) for item in fetched}
            fragments.put_many({keys[pk]: entry for pk, entry in built.items()})
            found.update({keys[pk]: entry for pk, entry in built.items()})
        return [found[keys[pk]] for pk in ids if keys[pk] in found]

    def feed_url(self, obj) -> str:
        return reverse("feeds:site")

    def link(self, obj) -> str:
        return reverse("posts:home")

    def title(self, obj) -> str:
        return settings.SITE_NAME

    def description(self, obj) -> str:
        return _("The latest posts from %(site)s") % {"site": settings.SITE_NAME}

    def item_title(self, post: Post) -> str:
        return post.title

    def item_link(self, post: Post) -> str:
        return post.get_absolute_url()

    def item_description(self, post: Post) -> str:
        # RSS descriptions and Atom type="html" summaries are HTML; the summary is plain text.
        return html.escape(post.summary, quote=False)

    def item_pubdate(self, post: Post) -> dt.datetime:
        return post.published_at

    def item_updateddate(self, post: Post) -> dt.datetime:
        return max(post.updated_at, post.published_at)

    def item_categories(self, post: Post) -> list[str]:
        return [c.name for c in post.categories.all()] + [t.name for t in post.tags.all()]

    def item_extra_kwargs(self, post: Post) -> dict[str, Any]:
        extra: dict[str, Any] = {"authors": _author_entries(post), "image": _featured_image(post)}
        if getattr(settings, "FEED_FULL_TEXT", True):
            extra["content"] = absolutize_html(post.body_html, absolute_url(post.get_absolute_url()))
        return extra


class PostAtomFeed(AtomMixin, PostFeed):
    pass


class CategoryFeed(PostFeed):
    """Posts in a category or any of its sub-categories."""

    def get_object(self, request, slug: str):
        category = get_object_or_404(Category, slug=slug)
        category.subtree_ids = category.descendant_ids()
        return category

    def narrow(self, queryset, category):
        through = Post.categories.through.objects.filter(category_id__in=category.subtree_ids)
        return queryset.filter(pk__in=through.values("post_id"))

    def feed_url(self, category) -> str:
        return reverse("feeds:category", kwargs={"slug": category.slug})

    def link(self, category) -> str:
        return category.get_absolute_url()

    def title(self, category) -> str:
        return _("%(site)s: category %(name)s") % {"site": settings.SITE_NAME, "name": category.name}

    def description(self, category) -> str:
        return category.description or _("Posts filed under %(name)s") % {"name": category.name}


class CategoryAtomFeed(AtomMixin, CategoryFeed):
    pass


class TagFeed(PostFeed):
    """Posts with a tag."""

    def get_object(self, request, slug: str):
        return get_object_or_404(Tag, slug=slug)

    def narrow(self, queryset, tag):
        return queryset.filter(tags=tag)

    def feed_url(self, tag) -> str:
        return reverse("feeds:tag", kwargs={"slug": tag.slug})

    def link(self, tag) -> str:
        return tag.get_absolute_url()

    def title(self, tag) -> str:
        return _("%(site)s: tag %(name)s") % {"site": settings.SITE_NAME, "name": tag.name}

    def description(self, tag) -> str:
        return tag.description or _("Posts tagged %(name)s") % {"name": tag.name}


class TagAtomFeed(AtomMixin, TagFeed):
    pass


class AuthorFeed(PostFeed):
    """Posts (co-)written by one author."""

    def get_object(self, request, username: str):
        # The author page's rule: no feed for an account with nothing published.
        return get_object_or_404(public_authors().select_related("profile"), username=username)

    def narrow(self, queryset, user):
        return queryset.filter(authors=user)

    def _name(self, user) -> str:
        try:
            return user.profile.name
        except ObjectDoesNotExist:
            return user.get_full_name() or user.get_username()

    def feed_url(self, user) -> str:
        return reverse("feeds:author", kwargs={"username": user.get_username()})

    def link(self, user) -> str:
        return reverse("posts:author", kwargs={"username": user.get_username()})

    def title(self, user) -> str:
        return _("%(site)s: posts by %(name)s") % {"site": settings.SITE_NAME, "name": self._name(user)}

    def description(self, user) -> str:
        return _("Posts written by %(name)s") % {"name": self._name(user)}


class AuthorAtomFeed(AtomMixin, AuthorFeed):
    pass


def published_post_for_date(*, year: int, month: int, day: int, slug: str) -> Post:
    """The published post at a date permalink, or 404 (drafts and scheduled posts never match)."""
    try:
        start = dt.datetime.combine(dt.date(year, month, day), dt.time.min, timezone.get_current_timezone())
    except (ValueError, OverflowError) as exc:
        raise Http404(_("No such date.")) from exc
    end = start + dt.timedelta(days=1)
    post = (
        Post.objects.published()
        .filter(slug=slug, published_at__gte=start, published_at__lt=end)
        .only("title", "slug", "published_at", "created_at", "language", "status")
        .first()
    )
    if post is None:
        raise Http404(_("No such post."))
    return post
