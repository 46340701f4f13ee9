"""Reading views: home, archives, taxonomy, author pages, search, the post page, robots.txt.

Every list starts from Post.objects.published(); only the detail page lets staff preview, and
that response is never cached. Each page runs a fixed number of queries whatever the number of
posts, authors or tags on it (tests/test_reading_queries.py pins them).
"""

from __future__ import annotations

import calendar
import datetime as dt
import functools
import uuid
from urllib.parse import urlencode, urljoin

from django.conf import settings
from django.core.paginator import EmptyPage, PageNotAnInteger, Paginator
from django.db import router
from django.db.models import (
    BigIntegerField,
    Case,
    Count,
    F,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.http import Http404, HttpResponsePermanentRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.translation import get_language_info
from django.utils.translation import gettext as _

from core.cache import deps, fragments
from core.origin import public_origin
from core.prepared import Many, PreparedQuery, Shape, prepared, totals
from core.reads import reads
from posts.extensions import list_annotations
from posts.follow import follow_page
from posts.models import Category, Post, PostAuthor, Tag, display_name, public_authors, published_filter
from posts.search import MAX_QUERY_CHARS, attach_snippets, clean_query

PAGE_SIZE = 10
RELATED_POSTS = 3


@functools.cache
def _byline_authors():
    """What a card's byline shows of each author (includes/_byline.html): the username for the
    link and what display_name() reads; not every author's password, email, bio or photo data.
    Built once: each list prefetches with a clone (.all())."""
    return PostAuthor.objects.select_related("user__profile").only(
        "post_id",
        "user_id",
        "position",
        "user__username",
        "user__first_name",
        "user__last_name",
        "user__profile__user_id",
        "user__profile__display_name",
    )


@functools.cache
def _first_category(field: str) -> Subquery:
    """A field of the post's first category by name, as a subquery of the list's own query.

    A card names one category: two small subqueries cost less than a prefetch of every category
    (a query, and a related manager per post). Built once: annotate() resolves a copy."""
    first = Category.objects.filter(posts=OuterRef("pk")).order_by("name", "pk")
    return Subquery(first.values(field)[:1])


@functools.cache
def _listing_shape() -> QuerySet:
    """What every list adds to the publication rule: the cards' annotations, deferred fields and
    order. Built once per process and never evaluated: resolving the annotations' four
    subqueries (copies of every expression in them) cost about 2 ms of CPU per cold list page
    and 2,800 function calls; the SQL is the same. A QuerySet is never changed in place, so each
    list filters its own clone (listing_queryset)."""
    return (
        Post.objects.annotate(
            **list_annotations(),
            card_category_name=_first_category("name"),
            card_category_slug=_first_category("slug"),
        )
        # Cards show the stored summary (Post.body_excerpt), never the body itself.
        .defer("body", "body_html", "search_text", "trackback_urls")
        .order_by("-published_at", "-id")
    )


def listing_queryset():
    """Published posts with everything a list shows, in a fixed number of queries (search's list;
    the others are PreparedLists)."""
    return _listing().prefetch_related(Prefetch("authorships", queryset=_byline_authors().all()))


def _listing(now: dt.datetime | None = None):
    """Published posts with their cards' annotations; bylines are read apart."""
    return _listing_shape().filter(published_filter(now=now)).filter(is_page=False)


class PreparedList:
    """A kind of post list, as Paginator reads it: its count and a page of its cards, each a query
    compiled once per process (core.prepared) from `where(now, **values)`, the list's posts with
    their cards' annotations, in order. `select(**values)` is one list of that kind."""

    def __init__(self, where, **kinds):
        def count(now, **values):
            return totals(where(now, **values), n=Count("pk"))

        def page(now, start, stop, **values):  # the list's own values are named otherwise
            posts = where(now, **values)
            if not start:
                return posts[:stop]
            # PostgreSQL computes the cards' annotations (four subqueries) for every row it reads,
            # the rows an OFFSET skips too: page 50 ran them for 500 posts. Later pages find their
            # ids in a subquery without them and annotate those alone; the first page skips
            # nothing and plans faster as one plain query. (Search, whose rank's raw SQL names
            # posts_post, is not a PreparedList.)
            return posts.filter(pk__in=posts[start:stop].values("pk"))

        self.where = where
        count.__qualname__ = f"{where.__qualname__}.count"
        page.__qualname__ = f"{where.__qualname__}.page"
        self.count = PreparedQuery(count, {"now": dt.datetime, **kinds})
        self.page = PreparedQuery(page, {"now": dt.datetime, "start": Shape, "stop": Shape, **kinds})

    def select(self, **values) -> _Selection:
        return _Selection(self, {"now": timezone.now(), **values})


class _Selection:
    def __init__(self, kind: PreparedList, values: dict):
        self.kind, self.values = kind, values

    def count(self) -> int:
        return self.kind.count(**self.values)[0][0]

    def __getitem__(self, window: slice) -> _Cards:
        return _Cards(self.kind.page, {**self.values, "start": window.start, "stop": window.stop})


class _Cards:
    """One page of a list's posts, each with its byline's authorships; queried at first use (a
    warm list fragment never asks)."""

    def __init__(self, query, values: dict):
        self.query, self.values, self.posts = query, values, None

    def _load(self) -> list[Post]:
        if self.posts is None:
            self.posts = self.query(**self.values)
            _attach_bylines(self.posts)
        return self.posts

    def __iter__(self):
        return iter(self._load())

    def __len__(self) -> int:
        return len(self._load())

    def __getitem__(self, index):
        return self._load()[index]


def _attach_bylines(posts: list[Post]) -> None:
    """Each post's authorships as prefetch_related stores them (what listing_queryset prefetches)."""
    if not posts:
        return
    by_post = {post.pk: [] for post in posts}
    for authorship in _byline_authorships(ids=list(by_post)):
        by_post[authorship.post_id].append(authorship)
    for post in posts:
        for authorship in by_post[post.pk]:
            PostAuthor.post.field.set_cached_value(authorship, post)
        post._prefetched_objects_cache = {"authorships": _as_prefetched(PostAuthor, by_post[post.pk])}


@prepared(ids=Many(int))
def _byline_authorships(ids):
    return _byline_authors().filter(post_id__in=ids)


def _home_posts(now):
    return _listing(now).order_by("-featured", "-published_at", "-id")


def _category_posts(now, ids):
    return _listing(now).filter(
        pk__in=Post.categories.through.objects.filter(category_id__in=ids).values("post_id")
    )


def _tag_posts(now, tag_id):
    return _listing(now).filter(tags=tag_id)


def _author_posts(now, user_id):
    return _listing(now).filter(authorships__user=user_id)


def _period_posts(now, since, until):
    return _listing(now).filter(published_at__gte=since, published_at__lt=until)


HOME_LIST = PreparedList(_home_posts)
CATEGORY_LIST = PreparedList(_category_posts, ids=Many(int))
TAG_LIST = PreparedList(_tag_posts, tag_id=int)
AUTHOR_LIST = PreparedList(_author_posts, user_id=int)
PERIOD_LIST = PreparedList(_period_posts, since=dt.datetime, until=dt.datetime)


def _page_url(url_name: str, url_kwargs: dict, number: int, query: str = "") -> str:
    """The path form of a list page: the list's own URL for page 1, `…/page/<n>/` after it."""
    if number == 1:
        path = reverse(url_name, kwargs=url_kwargs)
    else:
        path = reverse(f"{url_name}-page", kwargs={**url_kwargs, "page": number})
    return f"{path}?{query}" if query else path


def _list(
    request,
    queryset,
    *,
    page: int | None,
    url_name: str,
    url_kwargs: dict | None = None,
    title: str = "",
    description: str = "",
    query: str = "",
    template: str = "posts/post_list.html",
    empty_is_404: bool = False,
    decorate=None,
    **context,
):
    """Render one page of a post list, with path-form pagination links and SEO metadata."""
    url_kwargs = url_kwargs or {}
    # Each card says whose discussion (comment count) it shows: a comment on a post that is not
    # on this page leaves the page cached (core.cache.deps).
    deps.declare()
    if page == 1:
        # /page/1/ is the list itself: one URL per page for readers and search engines.
        return HttpResponsePermanentRedirect(_page_url(url_name, url_kwargs, 1, query))
    paginator = Paginator(queryset, PAGE_SIZE, allow_empty_first_page=True)
    try:
        page_obj = paginator.page(1 if page is None else page)
    except (EmptyPage, PageNotAnInteger) as exc:
        raise Http404(_("No such page.")) from exc
    if empty_is_404 and paginator.count == 0:
        raise Http404(_("Nothing has been published here."))
    if decorate is None:
        # Queried only when the list fragment is rendered, not when it comes from the cache.
        posts = Lazy(list, page_obj.object_list)
        context.setdefault("list_fragment", _page_url(url_name, url_kwargs, page_obj.number, query))
    else:
        posts = list(page_obj.object_list)
        decorate(posts)
    number = page_obj.number
    prev_url = _page_url(url_name, url_kwargs, number - 1, query) if page_obj.has_previous() else None
    next_url = _page_url(url_name, url_kwargs, number + 1, query) if page_obj.has_next() else None
    parts = [title] if title else []
    if number > 1:
        parts.append(_("Page %(number)s") % {"number": number})
    parts.append(settings.SITE_NAME)
    context.update(
        page_obj=page_obj,
        posts=posts,
        prev_page_url=prev_url,
        next_page_url=next_url,
        canonical_path=_page_url(url_name, url_kwargs, number),
        heading=title,
        seo_title=" · ".join(parts),
        seo_description=description,
    )
    return render(request, template, context)


@reads
def home(request, page=None):
    if "s" in request.GET:
        # WordPress answers searches at /?s=; old links and browser search engines still use it.
        return search(request, page=page)
    return _list(request, HOME_LIST.select(), page=page, url_name="posts:home", is_home=True)


@reads
def category(request, slug, page=None):
    # The whole category table in one small query: this category, its descendants for the list,
    # its children for links.
    rows = list(Category.objects.order_by("name").values("id", "parent_id", "name", "slug", "description"))
    cat = next((Category(**row) for row in rows if row["slug"] == slug), None)
    if cat is None:
        raise Http404("No Category matches the given query.")  # what get_object_or_404 said
    children: dict[int | None, list[dict]] = {}
    for row in rows:
        children.setdefault(row["parent_id"], []).append(row)
    found, stack = set(), [cat.pk]
    while stack:
        cid = stack.pop()
        if cid not in found:
            found.add(cid)
            stack.extend(row["id"] for row in children.get(cid, []))
    return _list(
        request,
        CATEGORY_LIST.select(ids=sorted(found)),
        page=page,
        url_name="posts:category",
        url_kwargs={"slug": cat.slug},
        title=cat.name,
        description=cat.description or _("Posts filed under %(name)s.") % {"name": cat.name},
        category=cat,
        subcategories=children.get(cat.pk, []),
        page_kind=_("Category"),
    )


@reads
def tag(request, slug, page=None):
    tag_obj = get_object_or_404(Tag, slug=slug)
    return _list(
        request,
        TAG_LIST.select(tag_id=tag_obj.pk),
        page=page,
        url_name="posts:tag",
        url_kwargs={"slug": tag_obj.slug},
        title=tag_obj.name,
        description=tag_obj.description or _("Posts tagged %(name)s.") % {"name": tag_obj.name},
        tag=tag_obj,
        page_kind=_("Tag"),
    )


@reads
def author(request, username, page=None):
    # A user with nothing published has no public page: usernames of non-authors stay private.
    user = get_object_or_404(public_authors().select_related("profile"), username=username)
    profile = getattr(user, "profile", None)
    name = display_name(user)
    return _list(
        request,
        AUTHOR_LIST.select(user_id=user.pk),
        page=page,
        url_name="posts:author",
        url_kwargs={"username": user.get_username()},
        title=name,
        description=(profile.bio if profile and profile.bio else _("Posts by %(name)s.") % {"name": name}),
        empty_is_404=True,
        author=user,
        profile=profile,
        page_kind=_("Author"),
    )


def _date_range(year, month=None, day=None):
    """The [start, end) datetimes of a calendar period in the site's time zone; 404 if invalid."""
    try:
        if day is not None:
            start = dt.date(year, month, day)
            end = start + dt.timedelta(days=1)
        elif month is not None:
            start = dt.date(year, month, 1)
            end = start + dt.timedelta(days=calendar.monthrange(year, month)[1])
        else:
            start = dt.date(year, 1, 1)
            end = dt.date(year + 1, 1, 1)
    except (ValueError, OverflowError) as exc:
        raise Http404(_("No such date.")) from exc
    tz = timezone.get_current_timezone()
    return (
        dt.datetime.combine(start, dt.time.min, tzinfo=tz),
        dt.datetime.combine(end, dt.time.min, tzinfo=tz),
        start,
    )


@reads
def archive(request, year, month=None, day=None, page=None):
    if year < 1 or year > 9998:
        raise Http404(_("No such date."))
    start, end, first_day = _date_range(year, month, day)
    queryset = PERIOD_LIST.select(since=start, until=end)
    context = {"archive_date": first_day}
    if day is not None:
        url_name, url_kwargs = "posts:archive-day", {"year": year, "month": month, "day": day}
        title = formats.date_format(first_day, "DATE_FORMAT")
        context["archive_kind"] = "day"
    elif month is not None:
        url_name, url_kwargs = "posts:archive-month", {"year": year, "month": month}
        title = formats.date_format(first_day, "YEAR_MONTH_FORMAT")
        context["archive_kind"] = "month"
    else:
        url_name, url_kwargs = "posts:archive-year", {"year": year}
        title = str(year)
        context["archive_kind"] = "year"
        context["archive_months"] = [
            when.date()
            for when in Post.objects.published()
            .filter(is_page=False, published_at__gte=start, published_at__lt=end)
            .datetimes("published_at", "month", order="DESC")
        ]
    return _list(
        request,
        queryset,
        page=page,
        url_name=url_name,
        url_kwargs=url_kwargs,
        title=title,
        description=_("Posts published in %(period)s.") % {"period": title},
        empty_is_404=True,
        page_kind=_("Archive"),
        **context,
    )


@reads
def search(request, page=None):
    raw = request.GET.get("q")
    if raw is None:
        raw = request.GET.get("s", "")
    q = clean_query(raw)
    shortened = len(raw.strip()) > MAX_QUERY_CHARS
    if q:
        title = _("Search results for “%(query)s”") % {"query": q}
        queryset = listing_queryset().search(q)
    else:
        title = _("Search")
        queryset = Post.objects.none()
    return _list(
        request,
        queryset,
        page=page,
        decorate=(lambda posts: attach_snippets(posts, q)) if q else None,
        url_name="posts:search",
        query=urlencode({"q": q}) if q else "",
        title=title,
        description=_("Search the posts of %(site)s.") % {"site": settings.SITE_NAME},
        template="posts/search.html",
        q=q,
        query_shortened=shortened,
        max_query_chars=MAX_QUERY_CHARS,
    )


def _post_queryset():
    return Post.objects.prefetch_related(
        Prefetch("authorships", queryset=PostAuthor.objects.select_related("user__profile")),
        "categories",
        "tags",
    )


def _get_post_for_date(request, year, month, day, slug):
    """The staff preview of an unpublished post at this permalink (the published one is found
    by _published_post_and_translations first), or 404."""
    start, end, _first = _date_range(year, month, day)
    base = _post_queryset()
    if request.user.is_authenticated and request.user.is_staff:
        # Staff preview of a draft or scheduled post, dated by its publication or creation day.
        candidates = base.filter(slug=slug).exclude(published_filter())
        for candidate in candidates:
            when = candidate.published_at or candidate.created_at
            if start <= when < end:
                return candidate, True
    raise Http404(_("No such post."))


def _published_post_and_translations(request, year, month, day, slug):
    """The published post at this permalink with its translations, or None.

    Kept in the cache under the content version (core.cache.fragments), which any change to a
    post, its taxonomy, authors or profiles renews: a warm post page runs no query for it.
    """
    start, end, _first = _date_range(year, month, day)

    def find():
        deps.declare()  # the post, its authors and taxonomy: nothing of its discussion
        rows = _post_and_translations(now=timezone.now(), slug=slug, start=start, end=end)
        post = next((row for row in rows if start <= row.published_at < end and row.slug == slug), None)
        if post is None:
            return None
        others = sorted(
            (row for row in rows if row.translation_group == post.translation_group and row.pk != post.pk),
            key=lambda row: row.language,
        )
        return post, _translation_links(others)

    return fragments.remember("post", (start.isoformat(), slug), find, request)


def _post_and_translations(now, slug, start, end) -> list[Post]:
    """The post at this permalink and its published translations, each with its authorships (their
    users and profiles), categories and tags, as `_post_queryset()` prefetches them: three queries
    (the categories and tags share one), each compiled once per process (core.prepared)."""
    rows = _group_rows(now=now, slug=slug, start=start, end=end)
    if not rows:
        return rows
    posts = {post.pk: post for post in rows}
    for post in rows:
        post._prefetched_objects_cache = {"authorships": [], "categories": [], "tags": []}
    group = rows[0].translation_group
    for authorship in _group_authorships(now=now, group=group):
        post = posts[authorship.post_id]
        PostAuthor.post.field.set_cached_value(authorship, post)
        post._prefetched_objects_cache["authorships"].append(authorship)
    alias = router.db_for_read(Category)
    for kind, post_id, *term in _group_terms(now=now, group=group):
        if kind == "c":
            posts[post_id]._prefetched_objects_cache["categories"].append(Category.from_db(alias, None, term))
        else:
            posts[post_id]._prefetched_objects_cache["tags"].append(Tag.from_db(alias, None, term[:4]))
    for post in rows:
        cache = post._prefetched_objects_cache
        cache["authorships"] = _as_prefetched(PostAuthor, cache["authorships"])
        cache["categories"] = _as_prefetched(Category, cache["categories"])
        cache["tags"] = _as_prefetched(Tag, cache["tags"])
    return rows


def _as_prefetched(model, objects: list) -> QuerySet:
    """What prefetch_related stores for one relation of one object: an evaluated queryset."""
    queryset = model._default_manager.all()
    queryset._result_cache, queryset._prefetch_done = objects, True
    return queryset


@prepared(now=dt.datetime, slug=str, start=dt.datetime, end=dt.datetime)
def _group_rows(now, slug, start, end):
    """The post at this permalink (the newest, as .first() would pick) and the other published posts
    of its translation group: the post is in its own group, so the group's rows hold it and its
    translations."""
    at_permalink = Q(slug=slug, published_at__gte=start, published_at__lt=end)
    group = Post.objects.published(now).filter(at_permalink).values("translation_group")[:1]
    return (
        Post.objects.published(now).filter(translation_group=Subquery(group)).order_by("-published_at", "-id")
    )


def _in_group(now, group):
    return Post.objects.published(now).filter(translation_group=group).values("pk")


@prepared(now=dt.datetime, group=uuid.UUID)
def _group_authorships(now, group):
    return PostAuthor.objects.select_related("user__profile").filter(post__in=_in_group(now, group))


@prepared(now=dt.datetime, group=uuid.UUID)
def _group_terms(now, group):
    """The group's categories and tags, one query for both: (kind, post id, then the term's
    columns in its model's field order: id, name, slug, description, and a category's parent),
    the categories ("c") then the tags ("t"), each by name then id, as the models order them."""
    in_group = _in_group(now, group)

    def links(through, term: str, kind: str, parent):
        return (
            through.objects.filter(post__in=in_group)
            .annotate(
                kind=Value(kind),
                term=F(f"{term}_id"),
                name=F(f"{term}__name"),
                slug=F(f"{term}__slug"),
                description=F(f"{term}__description"),
                parent=parent,
            )
            .values_list("kind", "post_id", "term", "name", "slug", "description", "parent")
        )

    filed = links(Post.categories.through, "category", "c", F("category__parent_id"))
    tagged = links(Post.tags.through, "tag", "t", Value(None, output_field=BigIntegerField()))
    return filed.union(tagged, all=True).order_by("kind", "name", "term")


@reads
def detail(request, year, month, day, slug):
    found = _published_post_and_translations(request, year, month, day, slug)
    if found is not None:
        (post, translations), is_preview = found, False
    else:
        post, is_preview = _get_post_for_date(request, year, month, day, slug)
        translations = _translations(post)
    # Read by the linkbacks middleware to advertise this post's Pingback and Webmention endpoints.
    request.viewed_post = post
    # Of the discussion, the page shows this post's alone: a comment elsewhere leaves it cached.
    deps.discussion(post.pk)
    origin = public_origin()
    alternates = []
    if translations:
        alternates = [{"lang": post.language, "url": origin + post.get_absolute_url()}] + [
            {"lang": t["post"].language, "url": origin + t["post"].get_absolute_url()} for t in translations
        ]
    neighbours = Lazy(_neighbours, post)
    response = render(
        request,
        "posts/post_detail.html",
        {
            "post": post,
            "is_preview": is_preview,
            # Queried only when the article fragment is rendered, not when it comes from the cache.
            "previous_post": Lazy(lambda: neighbours()[0]),
            "next_post": Lazy(lambda: neighbours()[1]),
            "related_posts": Lazy(_related, post),
            "fragments_off": is_preview,
            "translations": translations,
            "hreflang_alternates": alternates,
            "canonical_path": post.get_absolute_url(),
            "seo_title": f"{post.title} · {settings.SITE_NAME}",
            "seo_description": post.summary,
            "og_type": "article",
            "og_image": urljoin(origin, post.featured_image.url) if post.featured_image else "",
        },
    )
    if is_preview:
        response["Cache-Control"] = "private, no-store"
    return response


class Lazy:
    """A value computed on first use, at most once: templates call callables they resolve."""

    def __init__(self, function, *args, **kwargs):
        self.function, self.args, self.kwargs = function, args, kwargs

    def __call__(self):
        if self.function is not None:
            self.value = self.function(*self.args, **self.kwargs)
            self.function = None
        return self.value


def _neighbours(post: Post) -> tuple[Post | None, Post | None]:
    """The adjacent published articles by date, (previous, next): one query, each side found by
    an indexed subquery, never a scan of all posts."""
    if not post.is_published:
        return None, None
    previous = following = None
    for other in _neighbour_rows(now=timezone.now(), when=post.published_at, post_id=post.pk):
        if (other.published_at, other.pk) < (post.published_at, post.pk):
            previous = other
        else:
            following = other
    return previous, following


@prepared(now=dt.datetime, when=dt.datetime, post_id=int)
def _neighbour_rows(now, when, post_id):
    articles = Post.objects.published(now).filter(is_page=False)
    earlier = Q(published_at__lt=when) | Q(published_at=when, id__lt=post_id)
    later = Q(published_at__gt=when) | Q(published_at=when, id__gt=post_id)
    # The bare bounds (implied by the ORs) let the index scan start at the post, not at one end.
    before = articles.filter(earlier, published_at__lte=when).order_by("-published_at", "-id")
    after = articles.filter(later, published_at__gte=when).order_by("published_at", "id")
    return (
        Post.objects.filter(Q(pk=Subquery(before.values("pk")[:1])) | Q(pk=Subquery(after.values("pk")[:1])))
        .only("title", "slug", "published_at", "created_at")
        .order_by()
    )


def _related(post: Post) -> list[Post]:
    """Up to three published posts sharing the most tags with this one: one query, any tag count."""
    if not post.tags.all():  # prefetched: a post without tags has no related posts, and no query
        return []
    return _related_rows(
        now=timezone.now(), post_id=post.pk, group=post.translation_group, language=post.language
    )


@prepared(now=dt.datetime, post_id=int, group=uuid.UUID, language=str)
def _related_rows(now, post_id, group, language):
    return (
        Post.objects.published(now)
        .filter(is_page=False, tags__in=Post.tags.through.objects.filter(post_id=post_id).values("tag_id"))
        .exclude(pk=post_id)
        .exclude(translation_group=group)
        .annotate(
            shared_tags=Count("tags", distinct=True),
            same_language=Case(
                When(language=language, then=Value(1)), default=Value(0), output_field=IntegerField()
            ),
        )
        .only("title", "slug", "published_at", "created_at", "language")
        .order_by("-same_language", "-shared_tags", "-published_at", "-id")[:RELATED_POSTS]
    )


def _translations(post: Post) -> list[dict]:
    """Published translations of a post, each with its language's name in that language."""
    others = (
        Post.objects.published()
        .filter(translation_group=post.translation_group)
        .exclude(pk=post.pk)
        .only("title", "slug", "published_at", "created_at", "language")
        .order_by("language")
    )
    return _translation_links(others)


def _translation_links(others) -> list[dict]:
    return [
        {"post": other, "name": get_language_info(other.language)["name_local"], "code": other.language}
        for other in others
    ]


@reads
def robots_txt(request):
    return render(request, "robots.txt", content_type="text/plain; charset=utf-8")


@reads
def subscribe(request):
    """Ways to follow the blog (posts/follow.py): feeds here, and the sections other apps add."""
    return follow_page(request)
