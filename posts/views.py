"""Reading views: home, archives, taxonomy, author pages, search and the post page.

Every list starts from Post.objects.published(); only the detail page lets staff preview.
"""

from __future__ import annotations

import calendar
import datetime as dt

from django.apps import apps
from django.contrib.auth import get_user_model
from django.core.paginator import EmptyPage, PageNotAnInteger, Paginator
from django.db.models import Count, IntegerField, OuterRef, Prefetch, Q, Subquery
from django.db.models.functions import Coalesce
from django.http import Http404
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from posts.models import Category, Post, PostAuthor, Tag
from posts.search import clean_query

PAGE_SIZE = 10


def _comment_count():
    """Public responses per post as a correlated subquery: evaluated for the listed page only,
    so the list can walk an index in order instead of joining and grouping every post."""
    Comment = apps.get_model("comments", "Comment")
    per_post = (
        Comment.objects.filter(post=OuterRef("pk"), is_public=True, is_removed=False)
        .order_by()
        .values("post")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(per_post, output_field=IntegerField()), 0)


def listing_queryset():
    """Published posts with everything a list shows, in a fixed number of queries."""
    return (
        Post.objects.published()
        .filter(is_page=False)
        .annotate(comment_count=_comment_count())
        .prefetch_related(
            Prefetch(
                "authorships",
                queryset=PostAuthor.objects.select_related("user__profile"),
            ),
            "categories",
            "tags",
        )
        .defer("body", "search_text")
    )


def _paginate(request, queryset, page):
    paginator = Paginator(queryset, PAGE_SIZE, allow_empty_first_page=True)
    try:
        return paginator.page(page or 1)
    except (EmptyPage, PageNotAnInteger) as exc:
        raise Http404(_("No such page.")) from exc


def _list(request, queryset, page, template="posts/post_list.html", **context):
    page_obj = _paginate(request, queryset, page)
    context.update(page_obj=page_obj, posts=page_obj.object_list)
    return render(request, template, context)


@require_GET
def home(request, page=None):
    queryset = listing_queryset().order_by("-featured", "-published_at", "-id")
    return _list(request, queryset, page, is_home=True, url_name="posts:home")


@require_GET
def category(request, slug, page=None):
    cat = get_object_or_404(Category, slug=slug)
    in_category = Post.categories.through.objects.filter(category_id__in=cat.descendant_ids())
    queryset = listing_queryset().filter(pk__in=in_category.values("post_id"))  # no DISTINCT
    return _list(request, queryset, page, heading=cat.name, category=cat, description=cat.description)


@require_GET
def tag(request, slug, page=None):
    tag_obj = get_object_or_404(Tag, slug=slug)
    queryset = listing_queryset().filter(tags=tag_obj)
    return _list(request, queryset, page, heading=tag_obj.name, tag=tag_obj, description=tag_obj.description)


@require_GET
def author(request, username, page=None):
    user = get_object_or_404(get_user_model().objects.select_related("profile"), username=username)
    queryset = listing_queryset().filter(authors=user)
    return _list(
        request,
        queryset,
        page,
        author=user,
        heading=_("Posts by %(name)s")
        % {"name": getattr(getattr(user, "profile", None), "name", None) or user.get_username()},
    )


def _date_range(year, month=None, day=None):
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


@require_GET
def archive(request, year, month=None, day=None, page=None):
    if year < 1 or year > 9998:
        raise Http404(_("No such date."))
    start, end, first_day = _date_range(year, month, day)
    queryset = listing_queryset().filter(published_at__gte=start, published_at__lt=end)
    if not queryset.exists():
        raise Http404(_("No posts in this period."))
    if day is not None:
        heading = first_day
        kind = "day"
    elif month is not None:
        heading = first_day
        kind = "month"
    else:
        heading = first_day
        kind = "year"
    return _list(request, queryset, page, archive_date=heading, archive_kind=kind)


@require_GET
def search(request):
    q = clean_query(request.GET.get("q") or request.GET.get("s") or "")
    posts = listing_queryset().search(q) if q else Post.objects.none()
    return _list(request, posts, request.GET.get("page"), template="posts/search.html", q=q)


def _get_post_for_date(request, year, month, day, slug):
    start, end, _first = _date_range(year, month, day)
    base = Post.objects.prefetch_related(
        Prefetch("authorships", queryset=PostAuthor.objects.select_related("user__profile")),
        "categories",
        "tags",
    )
    post = base.published().filter(slug=slug, published_at__gte=start, published_at__lt=end).first()
    if post is not None:
        return post, False
    if request.user.is_authenticated and request.user.is_staff:
        # Staff preview of a draft or scheduled post, dated by its publication or creation day.
        candidates = base.filter(slug=slug).exclude(
            status=Post.Status.PUBLISHED, published_at__lte=timezone.now()
        )
        for candidate in candidates:
            when = candidate.published_at or candidate.created_at
            if start <= when < end:
                return candidate, True
    raise Http404(_("No such post."))


@require_GET
def detail(request, year, month, day, slug):
    post, is_preview = _get_post_for_date(request, year, month, day, slug)
    response = render(
        request,
        "posts/post_detail.html",
        {
            "post": post,
            "is_preview": is_preview,
            "previous_post": _neighbour(post, previous=True),
            "next_post": _neighbour(post, previous=False),
        },
    )
    if is_preview:
        never_cache(lambda r: response)(request)
        response["Cache-Control"] = "private, no-store"
    return response


def _neighbour(post: Post, *, previous: bool):
    """The adjacent published article by date: one indexed query, never a scan of all posts."""
    if not post.is_published:
        return None
    qs = Post.objects.published().filter(is_page=False).only("title", "slug", "published_at")
    if previous:
        return (
            qs.filter(
                Q(published_at__lt=post.published_at) | Q(published_at=post.published_at, id__lt=post.id)
            )
            .order_by("-published_at", "-id")
            .first()
        )
    return (
        qs.filter(Q(published_at__gt=post.published_at) | Q(published_at=post.published_at, id__gt=post.id))
        .order_by("published_at", "id")
        .first()
    )
