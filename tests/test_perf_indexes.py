"""The main list queries use indexes at volume: EXPLAIN on PostgreSQL with 10,000 posts and comments.

Seeding goes through generate_series in SQL (a second or two), then ANALYZE, so the planner
sees the real table sizes. On SQLite the test skips and says why.
"""

from __future__ import annotations

import re

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.test.utils import CaptureQueriesContext

from posts.models import Post
from posts.views import listing_queryset
from tests import factories

VOLUME = 10_000
COMMENT_TABLES = ("comments_comment", "django_comments", "django_comments_xtd_xtdcomment")


@pytest.fixture
def volume(db, author):
    if connection.vendor != "postgresql":
        pytest.skip("EXPLAIN plans are checked on PostgreSQL only; set DATABASE_URL to run this test")
    first = factories.CategoryFactory(slug="sanitation")
    second = factories.CategoryFactory(slug="fsm", parent=first)
    tag = factories.TagFactory(slug="rural")
    post_ct = ContentType.objects.get_for_model(Post).pk
    with connection.cursor() as cur:
        cur.execute(
            """
            INSERT INTO posts_post (title, slug, body, body_html, excerpt, status, published_at,
                created_at, updated_at, allow_comments, allow_pings, featured, is_page, language,
                translation_group, featured_image, featured_image_alt, trackback_urls, word_count,
                search_text, featured_image_variants)
            SELECT 'Field note ' || g, 'field-note-' || g, 'Body', '<p>Body</p>', '',
                CASE WHEN g %% 10 = 0 THEN 'draft' ELSE 'published' END,
                now() - g * interval '1 hour', now(), now(), true, true, g %% 500 = 0, g %% 997 = 0,
                'en', gen_random_uuid(), '', '', '', 1, 'Field note ' || g, '{}'
            FROM generate_series(1, %s) AS g
            """,
            [VOLUME],
        )
        cur.execute(
            "INSERT INTO posts_postauthor (post_id, user_id, position) SELECT id, %s, 0 FROM posts_post",
            [author.pk],
        )
        cur.execute(
            """INSERT INTO posts_post_categories (post_id, category_id)
               SELECT id, CASE WHEN id %% 2 = 0 THEN %s ELSE %s END FROM posts_post""",
            [first.pk, second.pk],
        )
        cur.execute(
            "INSERT INTO posts_post_tags (post_id, tag_id) SELECT id, %s FROM posts_post WHERE id %% 7 = 0",
            [tag.pk],
        )
        # 10,000 comments over 2,000 posts: three tables (multi-table inheritance), same ids.
        cur.execute(
            """
            WITH posts AS (SELECT id, row_number() OVER (ORDER BY id) AS n FROM posts_post)
            INSERT INTO django_comments (id, object_pk, user_name, user_email, user_url, comment,
                submit_date, is_public, is_removed, content_type_id, site_id)
            SELECT 1000000 + g, p.id::text, 'Reader', 'reader@example.net', '', 'Thanks',
                now() - g * interval '1 minute', g %% 20 <> 0, false, %s, 1
            FROM generate_series(1, %s) AS g JOIN posts p ON p.n = 1 + g %% 2000
            """,
            [post_ct, VOLUME],
        )
        cur.execute(
            """INSERT INTO django_comments_xtd_xtdcomment
                 (comment_ptr_id, thread_id, parent_id, level, "order", followup, nested_count)
               SELECT id, id, id, 0, 1, false, 0 FROM django_comments WHERE id > 1000000"""
        )
        cur.execute(
            """INSERT INTO comments_comment (xtdcomment_ptr_id, kind, body_html, source_url,
                 source_title, excerpt, author_avatar_url, is_spam, is_internal, duplicate_key, post_id,
                 awaiting_confirmation, needs_spam_check, hold_reason, language, user_agent)
               SELECT id, 'comment', '<p>Thanks</p>', '', '', '', '', false, false, '', object_pk::bigint,
                 false, false, '', 'en', ''
               FROM django_comments WHERE id > 1000000"""
        )
        cur.execute("ANALYZE")
    busy = Post.objects.get(slug="field-note-1")
    return {"category": first, "tag": tag, "busy_post": busy}


def test_main_list_queries_use_indexes_at_volume(volume):
    from comments.models import Comment
    from comments.thread import WHOLE_DISCUSSION_ROWS, ThreadComment, public_comments

    assert Post.objects.count() >= VOLUME
    assert Comment.objects.count() >= VOLUME
    in_category = Post.categories.through.objects.filter(category_id__in=volume["category"].descendant_ids())
    queries = {
        "home": listing_queryset().order_by("-featured", "-published_at", "-id")[:10],
        "archive by date": listing_queryset().order_by("-published_at", "-id")[:10],
        "category": listing_queryset().filter(pk__in=in_category.values("post_id"))[:10],
        "tag": listing_queryset().filter(tags=volume["tag"])[:10],
        "comment thread": public_comments(volume["busy_post"].pk),
        "comment thread read whole": public_comments(volume["busy_post"].pk).values_list(
            *ThreadComment.FIELDS
        )[: WHOLE_DISCUSSION_ROWS + 1],
        "linkback by (source, target)": Comment.objects.filter(
            post=volume["busy_post"], source_url="https://elsewhere.example/a/", kind="pingback"
        ),
    }
    for name, queryset in queries.items():
        plan = queryset.explain()
        for table in ("posts_post", *COMMENT_TABLES):
            assert not re.search(rf"Seq Scan on {table}\b(?!_)", plan), f"{name}: seq scan on {table}\n{plan}"


def explain_from_indexes(sql: str) -> str:
    """The plan with sequential and bitmap scans priced out: whether an index can serve a query
    alone, whatever the visibility map (kept by VACUUM, which a test's transaction cannot run)
    makes the planner prefer on the day."""
    with connection.cursor() as cur:
        cur.execute("SET LOCAL enable_seqscan = off")
        cur.execute("SET LOCAL enable_bitmapscan = off")
        cur.execute("EXPLAIN " + sql)
        return "\n".join(row[0] for row in cur.fetchall())


def test_feed_state_reads_the_date_index_alone(volume):
    """The feeds' conditional-GET state (count, newest, last change) needs every published
    post's dates: post_date_order_idx carries updated_at, so it can answer without reading the
    table."""
    from feeds.posts import PostFeed

    feed = PostFeed()
    feed.lang = ""
    with CaptureQueriesContext(connection) as queries:
        feed.feed_state(None)
    (state,) = queries
    plan = explain_from_indexes(state["sql"])
    assert "Index Only Scan using post_date_order_idx" in plan, plan
