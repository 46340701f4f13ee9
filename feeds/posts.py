"""The post feeds: the site, a category with its sub-categories, a tag and an author.

Each starts from `Post.objects.published()` and uses the framework in feeds/framework.py.
"""

from __future__ import annotations

import datetime as dt
import html
import mimetypes
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

from django.conf import settings
from django.db.models import Count, F, Max, QuerySet, Value
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from core.cache import fragments
from core.origin import absolute_url, public_origin
from core.prepared import Many, PreparedQuery, Shape, prepared, totals
from feeds.framework import FEED_ITEMS, AtomMixin, SiteFeed, absolutize_html
from posts import permalinks
from posts.models import Category, Post, PostAuthor, Tag, display_name, public_authors

# --- post feeds -------------------------------------------------------------------------------


def post_url_maker() -> Callable[[dt.datetime, str], str]:
    """`absolute_url(post.get_absolute_url())` from a published post's date and slug, for many
    posts: the public origin read once, then each permalink written as posts.permalinks writes
    it. A slug the URL pattern would refuse still goes through reverse()."""
    origin = public_origin()

    def url(published_at: dt.datetime, slug: str) -> str:
        path = published_at is not None and permalinks.post_path(timezone.localtime(published_at), slug)
        if not path or path.startswith("//"):  # "//…" would name another host: urljoin decides
            return absolute_url(path or Post(published_at=published_at, slug=slug).get_absolute_url())
        return origin + path  # absolute_url(path) for a path under the origin, without urljoin

    return url


def _featured_image(name: str, alt: str) -> dict[str, str] | None:
    """The item's image from the post's featured_image (its name, as stored) and alt text."""
    if not name:
        return None
    url = absolute_url(_FEATURED_IMAGE.storage.url(name))
    mime = mimetypes.guess_type(name)[0] or "image/jpeg"
    return {"url": url, "type": mime, "alt": alt}


_FEATURED_IMAGE = Post._meta.get_field("featured_image")

# What an item shows of a post, read as values (no model instances); body_html only with full text.
ITEM_FIELDS = (
    "pk",
    "title",
    "slug",
    "excerpt",
    "body_excerpt",
    "published_at",
    "updated_at",
    "featured_image",
    "featured_image_alt",
)


def _summary(row: dict[str, Any]) -> str:
    """Post.summary of a post read as values: the property itself, run on the row (it reads the
    excerpt, and body_excerpt or body_html as far as they were read)."""
    return Post.summary.fget(SimpleNamespace(**row))


class FeedQueries:
    """A kind of post feed's two cold-path queries, compiled once per process (core.prepared): its
    state for conditional GET (count, newest and last changed date) and its items' rows. Both
    start from the publication rule and the feed's language, narrowed by `narrow(queryset,
    **values)`; `kinds` are the kinds of those values."""

    def __init__(self, narrow: Callable, **kinds):
        def posts(now, lang, values):
            queryset = Post.objects.published(now).filter(is_page=False)
            return narrow(queryset.filter(language=lang) if lang else queryset, **values)

        def state(now, lang, **values):
            changes = {"count": Count("pk"), "newest": Max("published_at"), "changed": Max("updated_at")}
            return totals(posts(now, lang, values), **changes)

        def rows(now, lang, full_text, **values):
            fields = ITEM_FIELDS + ("body_html",) if full_text else ITEM_FIELDS
            return posts(now, lang, values).order_by("-published_at", "-id").values(*fields)[:FEED_ITEMS]

        state.__qualname__ = f"{narrow.__qualname__}.state"
        rows.__qualname__ = f"{narrow.__qualname__}.rows"
        self.state = PreparedQuery(state, {"now": dt.datetime, "lang": Shape, **kinds})
        self.rows = PreparedQuery(rows, {"now": dt.datetime, "lang": Shape, "full_text": Shape, **kinds})


def _everything(queryset):
    return queryset


class PostFeed(SiteFeed):
    """The site's latest posts; subclasses narrow it to a category, tag or author."""

    queries = FeedQueries(_everything)

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        # narrow() is the ORM's reading of the feed, `queries` the prepared one: never one alone.
        if "narrow" in cls.__dict__ and "queries" not in cls.__dict__:
            raise TypeError(f"{cls.__name__} narrows the feed: give it its own FeedQueries as well")

    def get_object(self, request, **kwargs):
        return None

    def query_values(self, obj) -> dict:
        """The values `queries` narrows by for this feed's object."""
        return {}

    def post_queryset(self, obj) -> QuerySet[Post]:
        queryset = Post.objects.published().filter(is_page=False)
        if self.lang:
            queryset = queryset.filter(language=self.lang)
        return self.narrow(queryset, obj)

    def narrow(self, queryset: QuerySet[Post], obj) -> QuerySet[Post]:
        return queryset

    def discussion_shown(self, obj) -> tuple:
        return ()  # posts only: a comment anywhere leaves the feed as it is

    def feed_state(self, obj) -> tuple[str, float | None]:
        [(count, newest, changed)] = self.queries.state(
            now=timezone.now(), lang=self.lang, **self.query_values(obj)
        )
        token = f"{count}|{newest}|{changed}"
        dates = [when.timestamp() for when in (newest, changed) if when]
        # A post dropped from the feed (unpublished, deleted) changes the ETag, not this date.
        return token, max(dates, default=None)

    def item_queryset(self, obj) -> QuerySet[Post]:
        """The items' posts, newest first, as rows of what an item shows (ITEM_FIELDS; the
        body's HTML only with full text: without, an item shows the stored summary)."""
        fields = ITEM_FIELDS + ("body_html",) if settings.FEED_FULL_TEXT else ITEM_FIELDS
        return self.post_queryset(obj).order_by("-published_at", "-id").values(*fields)

    def items(self, obj):
        """The items' rows: `item_queryset(obj)[:FEED_ITEMS]`, as a prepared query."""
        return self.queries.rows(
            now=timezone.now(), lang=self.lang, full_text=settings.FEED_FULL_TEXT, **self.query_values(obj)
        )

    def item_entries(self, obj) -> list[dict[str, Any]]:
        """The items, each built once per content version and kept in the cache.

        With the cache warm this is two cache reads (the ids in order, then their entries) and no
        query; only the posts missing from the cache are fetched with their authors, categories
        and tags.
        """
        if not fragments.enabled(getattr(self, "request", None)):
            return self.post_entries(list(self.items(obj)))
        ids = self._remembered(
            "feed-ids",
            lambda: list(
                self.post_queryset(obj)
                .order_by("-published_at", "-id")
                .values_list("pk", flat=True)[:FEED_ITEMS]
            ),
        )
        full_text = settings.FEED_FULL_TEXT
        keys = {pk: fragments.fragment_key("feed-item", (pk, full_text, public_origin())) for pk in ids}
        if None in keys.values():  # the cache is down
            return self.post_entries(list(self.items(obj)))
        found = fragments.get_many(list(keys.values()))
        missing = [pk for pk in ids if keys[pk] not in found]
        if missing:
            fetched = list(self.item_queryset(obj).filter(pk__in=missing))
            built = dict(zip([row["pk"] for row in fetched], self.post_entries(fetched), strict=True))
            fragments.put_many({keys[pk]: entry for pk, entry in built.items()}, tags=())
            found.update({keys[pk]: entry for pk, entry in built.items()})
        return [found[keys[pk]] for pk in ids if keys[pk] in found]

    def post_entries(self, posts: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Every item's entry for the generator, from the posts' rows (item_queryset), with their
        authors in one query and their categories and tags in another: no model instances, and
        the permalinks written from one reversed URL (post_url_maker).

        An item: the post's title; its permalink as link and guid; its summary (Post.summary,
        escaped: RSS descriptions and Atom type="html" summaries are HTML, the summary is plain
        text); published and updated dates (updated never before published); its categories,
        then its tags, each in name order; its authors in byline order (display_name() and the
        author page's URL); its featured image; with full text, the body's HTML with every URL
        in it absolute. tests/test_feeds_direct.py checks each against the post's own methods.
        """
        if not posts:
            return []
        ids = [post["pk"] for post in posts]
        authors: dict[int, list[dict[str, str]]] = {}
        author_uris: dict[str, str] = {}
        for post_id, username, first_name, last_name, profile_name in _item_authorships(ids=ids):
            if username not in author_uris:
                author_uris[username] = absolute_url(reverse("posts:author", kwargs={"username": username}))
            # display_name(): the profile's name, else the full name (User.get_full_name), else
            # the username; no profile reads as None.
            name = profile_name or f"{first_name} {last_name}".strip() or username
            authors.setdefault(post_id, []).append({"name": name, "uri": author_uris[username]})
        terms: dict[int, list[str]] = {}
        for post_id, _kind, term in _item_terms(ids=ids):
            terms.setdefault(post_id, []).append(term)
        full_text = settings.FEED_FULL_TEXT
        post_url = post_url_maker()
        entries = []
        for post in posts:
            pk, published_at, updated_at = post["pk"], post["published_at"], post["updated_at"]
            link = post_url(published_at, post["slug"])
            entry = {
                "title": post["title"],
                "link": link,
                "description": html.escape(_summary(post), quote=False),
                "unique_id": link,
                "unique_id_is_permalink": True,
                "pubdate": published_at,
                "updateddate": max(updated_at, published_at),
                "categories": terms.get(pk, []),
                "authors": authors.get(pk, []),
                "image": _featured_image(post["featured_image"], post["featured_image_alt"]),
            }
            if full_text:
                entry["content"] = absolutize_html(post["body_html"], link)
            entries.append(entry)
        return entries

    def feed_url(self, obj) -> str:
        return reverse("feeds:site")

    def link(self, obj) -> str:
        return reverse("posts:home")

    def title(self, obj) -> str:
        return settings.SITE_NAME

    def description(self, obj) -> str:
        return _("The latest posts from %(site)s") % {"site": settings.SITE_NAME}


@prepared(ids=Many(int))
def _item_authorships(ids):
    """What display_name() reads, and the username for the author's URI, in byline order."""
    return PostAuthor.objects.filter(post_id__in=ids).values_list(
        "post_id", "user__username", "user__first_name", "user__last_name", "user__profile__display_name"
    )


@prepared(ids=Many(int))
def _item_terms(ids):
    """An item's categories: the post's categories, then its tags, each in name order."""
    in_categories = (
        Post.categories.through.objects.filter(post_id__in=ids)
        .annotate(kind=Value(0), term=F("category__name"))
        .values_list("post_id", "kind", "term")
    )
    in_tags = (
        Post.tags.through.objects.filter(post_id__in=ids)
        .annotate(kind=Value(1), term=F("tag__name"))
        .values_list("post_id", "kind", "term")
    )
    return in_categories.union(in_tags, all=True).order_by("kind", "term")


class PostAtomFeed(AtomMixin, PostFeed):
    pass


def _in_categories(queryset, ids):
    through = Post.categories.through.objects.filter(category_id__in=ids)
    return queryset.filter(pk__in=through.values("post_id"))


def _with_tag(queryset, tag_id):
    return queryset.filter(tags=tag_id)


def _by_author(queryset, user_id):
    return queryset.filter(authors=user_id)


class CategoryFeed(PostFeed):
    """Posts in a category or any of its sub-categories."""

    queries = FeedQueries(_in_categories, ids=Many(int))

    def get_object(self, request, slug: str):
        category = get_object_or_404(Category, slug=slug)
        category.subtree_ids = category.descendant_ids()
        return category

    def narrow(self, queryset, category):
        return _in_categories(queryset, ids=category.subtree_ids)

    def query_values(self, category) -> dict:
        return {"ids": sorted(category.subtree_ids)}

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

    queries = FeedQueries(_with_tag, tag_id=int)

    def narrow(self, queryset, tag):
        return _with_tag(queryset, tag.pk)

    def query_values(self, tag) -> dict:
        return {"tag_id": tag.pk}

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

    queries = FeedQueries(_by_author, user_id=int)

    def narrow(self, queryset, user):
        return _by_author(queryset, user.pk)

    def query_values(self, user) -> dict:
        return {"user_id": user.pk}

    def _name(self, user) -> str:
        return display_name(user)

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
