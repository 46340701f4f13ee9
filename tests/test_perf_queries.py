"""Query discipline: every public page takes a fixed number of SQL queries, whatever the volume.

Each page is measured at a small and a larger volume (posts, comments, tags, authors), the two
counts must be equal, and the count is pinned so a regression shows up as a number. The page
and fragment caches are off here (`uncached_render`; they are on by default), so these are the
costs of a render from scratch: a page served from the page cache costs none.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from posts.models import Post
from tests import factories

pytestmark = pytest.mark.usefixtures("uncached_render")

# Queries per page.
# Lists: 2 for the posts and their count (each card's first category within), 1 prefetch
# (authors), 3 for the chrome (recent posts; the categories and tags, one query for the header and
# the sidebar; the months) (+1 for the taxonomy or author object; a category page's is the whole
# category table, read once). Post: the post with its translations, its authorships, its
# categories and tags (one query), both neighbours (one query), related posts, the chrome, the
# whole discussion and its fediverse likes and boosts row. Pages only read: no request
# transaction (core.reads).
PINNED = {
    "home": 6,
    "home page 2": 6,
    "post": 10,
    "category": 7,
    "tag": 7,
    "author": 7,
    "year archive": 7,
    "search": 7,
}


def add_comments(post: Post, count: int, *, first_id: int) -> None:
    """Insert `count` public, threaded comments in three bulk statements (multi-table model)."""
    ct = ContentType.objects.get_for_model(Post).pk
    now = timezone.now()
    base_rows, xtd_rows, own_rows = [], [], []
    for i in range(count):
        cid = first_id + i
        root = first_id + (i // 5) * 5  # threads of five: a root and four replies under it
        level = 0 if cid == root else 1
        base_rows.append(
            (cid, str(post.pk), f"Reader {i}", f"r{i}@example.net", "", f"Comment {i}",
             now - dt.timedelta(minutes=count - i), True, False, ct, 1)
        )  # fmt: skip
        xtd_rows.append((cid, root, root if level else cid, level, cid - root + 1, False, 0))
        own_rows.append(
            (cid, "comment", f"<p>Comment {i}</p>", "", "", "", "", False, False, "", post.pk)
            + (False, False, "", "en", "")
        )
    with connection.cursor() as cur:
        cur.executemany(
            "INSERT INTO django_comments (id, object_pk, user_name, user_email, user_url, comment,"
            " submit_date, is_public, is_removed, content_type_id, site_id)"
            " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
            base_rows,
        )
        cur.executemany(
            "INSERT INTO django_comments_xtd_xtdcomment (comment_ptr_id, thread_id, parent_id, level,"
            ' "order", followup, nested_count) VALUES (%s, %s, %s, %s, %s, %s, %s)',
            xtd_rows,
        )
        cur.executemany(
            "INSERT INTO comments_comment (xtdcomment_ptr_id, kind, body_html, source_url, source_title,"
            " excerpt, author_avatar_url, is_spam, is_internal, duplicate_key, post_id,"
            " awaiting_confirmation, needs_spam_check, hold_reason, language, user_agent)"
            " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
            own_rows,
        )


def build_site(author, *, posts: int, comments: int, tags: int, authors: int):
    cat = factories.CategoryFactory(slug="sanitation")
    tag_objs = [factories.TagFactory(slug=f"tag-{i}", name=f"tag {i}") for i in range(tags)]
    extra_authors = [factories.UserFactory(username=f"writer{i}") for i in range(authors - 1)]
    start = timezone.now() - dt.timedelta(days=posts + 2)
    made = []
    for i in range(posts):
        made.append(
            factories.PostFactory(
                title=f"Field note {i}",
                slug=f"field-note-{i}",
                authors=[author, *extra_authors],
                categories=[cat],
                tags=tag_objs,
                published_at=start + dt.timedelta(days=i),
            )
        )
    target = made[len(made) // 2]
    add_comments(target, comments, first_id=900_000)
    return target


def urls_for(post: Post) -> dict[str, str]:
    year = f"{timezone.localtime(post.published_at).year:04d}"
    return {
        "home": "/",
        "home page 2": "/page/2/",
        "post": post.get_absolute_url(),
        "category": "/category/sanitation/",
        "tag": "/tag/tag-0/",
        "author": "/author/amara/",
        "year archive": f"/{year}/",
        "search": "/search/?q=field",
    }


def count_queries(client, url: str) -> int:
    client.get(url)  # warm per-process caches (ContentType, Site) as a running server has them
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(ctx)


@pytest.fixture
def small(db, author):
    site = build_site(author, posts=12, comments=1, tags=1, authors=1)
    factories.commit_term_counts()
    return site


@pytest.fixture
def large(db, author):
    site = build_site(author, posts=20, comments=500, tags=6, authors=3)
    factories.commit_term_counts()
    return site


def test_pages_take_the_pinned_number_of_queries_at_small_volume(client, small, django_assert_num_queries):
    for name, url in urls_for(small).items():
        client.get(url)
        with django_assert_num_queries(PINNED[name]):
            assert client.get(url).status_code == 200, name


def test_pages_take_the_same_queries_at_large_volume(client, large):
    counts = {name: count_queries(client, url) for name, url in urls_for(large).items()}
    assert counts == PINNED


def test_post_with_500_comments_costs_no_more_queries_than_with_1(client, author):
    one = build_site(author, posts=3, comments=1, tags=1, authors=1)
    five_hundred = factories.PostFactory(title="Busy", slug="busy", authors=[author])
    add_comments(five_hundred, 500, first_id=800_000)
    response = client.get(five_hundred.get_absolute_url())
    # Threads of five, 50 threads to a page: the first page shows 250 of the 500.
    assert response.content.count(b'class="comment kind-comment') == 250
    assert count_queries(client, five_hundred.get_absolute_url()) <= count_queries(
        client, one.get_absolute_url()
    )


def test_templates_are_loaded_once_per_process_and_none_per_comment(client, author):
    """The cached template loader is on (Django's default when `loaders` is not set), and the
    comment thread is written by comments/render.py: a page with 60 comments renders the same
    templates as a page with one."""
    from django.template import engines
    from django.template.loaders.cached import Loader as CachedLoader
    from django.test.signals import template_rendered

    engine = engines["django"].engine
    assert isinstance(engine.template_loaders[0], CachedLoader)

    def rendered_templates(url) -> list[str]:
        names: list[str] = []

        def record(sender, template, context, **kwargs):
            names.append(template.name)

        template_rendered.connect(record)
        try:
            assert client.get(url).status_code == 200
        finally:
            template_rendered.disconnect(record)
        return names

    one = factories.PostFactory(title="Quiet", slug="quiet", authors=[author])
    add_comments(one, 1, first_id=700_000)
    busy = factories.PostFactory(title="Busy", slug="busy", authors=[author])
    add_comments(busy, 60, first_id=800_000)
    assert sorted(rendered_templates(busy.get_absolute_url())) == sorted(
        rendered_templates(one.get_absolute_url())
    )
