"""Each reading page runs a pinned number of queries, the same with 1 post or a full page of
them (50 posts), and with 1 tag per post or 20 (plus several authors, categories and comments).

These are the costs of a page rendered from scratch, so the page and fragment caches are off here
(`uncached_render`); a page served from the page cache costs none."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.factories import CategoryFactory, PostFactory, TagFactory, UserFactory, commit_term_counts

pytestmark = pytest.mark.usefixtures("uncached_render")

UTC = dt.UTC

# Queries per page. Every request is wrapped in a transaction (ATOMIC_REQUESTS): SAVEPOINT and
# RELEASE count as 2, except on pages that only read (core.reads: every page here but the
# sitemap). The chrome adds 3 (recent posts; categories and tags, one query for the header and the
# sidebar; months). A list adds count + posts (each card's first category within) + authors;
# search adds its snippets; the post page adds previous and next (one query), related, the comment
# thread and its fediverse likes and boosts row; its translations come with the post, their
# authorships, and their categories and tags (one query for both).
EXPECTED = {
    "home": 6,
    "year": 7,
    "month": 6,
    "day": 6,
    "category": 7,
    "tag": 7,
    "author": 7,
    "search": 7,
    "post": 10,
    "sitemap": 7,
}


def build(size: str, make_comment):
    """The same site in two sizes; returns the URLs to measure."""
    many = size == "many"
    post_count, tag_count = (50, 20) if many else (1, 1)
    authors = [UserFactory(username="amara")] + ([UserFactory(), UserFactory()] if many else [])
    parent = CategoryFactory(slug="water")
    child = CategoryFactory(slug="rural", parent=parent)
    categories = [parent, child] if many else [parent]
    tags = [TagFactory(slug="pumps")] + [TagFactory() for _ in range(tag_count - 1)]
    posts = [
        PostFactory(
            published_at=dt.datetime(2025, 3, 14, 8, tzinfo=UTC) + dt.timedelta(minutes=n),
            authors=authors,
            categories=categories,
            tags=tags,
            body="pumps and water " * 40 + "\n\n## One\n\n## Two\n\n### Three\n",
        )
        for n in range(post_count)
    ]
    target = posts[len(posts) // 2]
    if many:
        for language in ("es", "fr"):
            PostFactory(
                language=language,
                translation_group=target.translation_group,
                published_at=dt.datetime(2025, 3, 15, tzinfo=UTC),
                tags=tags[:3],
                authors=authors[:1],
            )
        for post in posts[:3]:
            make_comment(post)
            make_comment(post, kind="pingback", source_url="https://elsewhere.example/")
    return {
        "home": "/",
        "year": "/2025/",
        "month": "/2025/03/",
        "day": "/2025/03/14/",
        "category": "/category/water/",
        "tag": "/tag/pumps/",
        "author": "/author/amara/",
        "search": "/search/?q=pumps",
        "post": target.get_absolute_url(),
        "sitemap": "/sitemap.xml",
    }


@pytest.mark.parametrize("size", ["one", "many"])
def test_query_counts_are_pinned_and_constant(client, db, django_assert_num_queries, make_comment, size):
    urls = build(size, make_comment)
    commit_term_counts()
    for page, expected in EXPECTED.items():
        assert client.get(urls[page]).status_code == 200  # warm the per-process Site/ContentType caches
        with django_assert_num_queries(expected, info=f"{page} page ({size})"):
            response = client.get(urls[page])
        assert response.status_code == 200, page
