"""Each reading page runs a pinned number of queries, the same with 1 post or a full page of
them, and with 1 tag per post or 20 (plus several authors, categories and comments)."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.factories import CategoryFactory, PostFactory, TagFactory, UserFactory

UTC = dt.UTC

# Queries per page. Every request is wrapped in a transaction (ATOMIC_REQUESTS): SAVEPOINT and
# RELEASE count as 2. The sidebar adds 4 (recent posts, categories, tag cloud, months). A list
# adds count + posts + authors + categories + tags; search adds its snippets; the post page adds
# previous, next, related, translations and the comment thread.
EXPECTED = {
    "home": 11,
    "year": 12,
    "month": 11,
    "day": 11,
    "category": 13,
    "tag": 12,
    "author": 12,
    "search": 12,
    "post": 15,
    "sitemap": 7,
}


def build(size: str, make_comment):
    """The same site in two sizes; returns the URLs to measure."""
    many = size == "many"
    post_count, tag_count = (14, 20) if many else (1, 1)
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
@pytest.mark.parametrize("page", list(EXPECTED))
def test_query_count_is_pinned_and_constant(client, db, django_assert_num_queries, make_comment, size, page):
    url = build(size, make_comment)[page]
    assert client.get(url).status_code == 200  # warm the per-process Site and ContentType caches
    with django_assert_num_queries(EXPECTED[page]):
        response = client.get(url)
    assert response.status_code == 200
