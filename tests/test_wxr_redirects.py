"""Old WordPress URLs answer 301 to the imported posts; nothing else is touched."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.core.management import call_command

from posts.models import Post, Redirect

DATA = Path(__file__).parent / "data" / "wxr"


@pytest.fixture
def blog(db):
    call_command("import_wxr", str(DATA / "blog.xml"), "--no-media", stdout=io.StringIO())
    return Post.objects.get(slug="lessons-from-the-borehole")


def test_old_permalink_redirects_permanently_to_the_new_url(client, blog):
    response = client.get("/blog/2024/03/04/lessons-from-the-borehole/")
    assert response.status_code == 301
    assert response["Location"] == blog.get_absolute_url() == "/2024/03/04/lessons-from-the-borehole/"
    assert client.get(response["Location"]).status_code == 200


@pytest.mark.parametrize("old", ["/blog/?p=101", "/?p=101", "/blog/?p=101&utm_source=x"])
def test_query_permalinks_redirect(client, blog, old):
    response = client.get(old)
    assert response.status_code == 301
    assert response["Location"] == blog.get_absolute_url()


def test_page_id_and_percent_encoded_page_links_redirect(client, blog):
    page = Post.objects.get(is_page=True)
    for old in (
        "/blog/?page_id=201",
        "/?page_id=201",
        "/blog/about/%d0%be%d0%b1-%d0%b0%d0%b2%d1%82%d0%be%d1%80%d0%b0%d1%85/",
    ):
        response = client.get(old)
        assert response.status_code == 301, old
        assert response["Location"] == page.get_absolute_url()


def test_attachment_page_redirects_to_its_post(client, blog):
    response = client.get("/blog/2024/03/04/lessons-from-the-borehole/drill/")
    assert response.status_code == 301
    assert response["Location"] == blog.get_absolute_url()


def test_head_requests_and_missing_trailing_slash_redirect_too(client, blog):
    assert client.head("/blog/?p=101").status_code == 301
    response = client.get("/blog/2024/03/04/lessons-from-the-borehole")
    assert response.status_code == 301
    assert response["Location"] == blog.get_absolute_url()


def test_links_to_drafts_and_scheduled_posts_do_not_reveal_them(client, blog):
    assert Redirect.objects.filter(old_path="/blog/?p=102").exists()
    assert Redirect.objects.filter(old_path="/blog/2099/01/01/coming-soon/").exists()
    for old in ("/blog/?p=102", "/blog/2099/01/01/coming-soon/", "/blog/2024/04/03/only-for-us/"):
        response = client.get(old)
        assert response.status_code in (200, 404), old
        assert "Location" not in response
    # The home page still answers ?p= for an unknown or unpublished id.
    assert client.get("/?p=102").status_code == 200


def test_unknown_paths_stay_404(client, blog):
    assert client.get("/blog/no-such-thing/").status_code == 404
    assert client.get("/?p=99999").status_code == 200


def test_a_redirect_hit_costs_one_query(client, blog, django_assert_num_queries):
    with django_assert_num_queries(1):
        response = client.get("/blog/?p=101")
    assert response.status_code == 301


def test_pages_that_exist_are_not_looked_up(
    client, blog, django_assert_num_queries, settings, uncached_render
):
    # Compares two uncached renders, with and without the middleware (a cached page costs none).
    settings.MIDDLEWARE = [
        m for m in settings.MIDDLEWARE if m != "posts.redirects.WordPressRedirectMiddleware"
    ]
    url = blog.get_absolute_url()
    client.get(url)  # warm caches of the view itself
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as without:
        client.get(url)
    settings.MIDDLEWARE = [*settings.MIDDLEWARE, "posts.redirects.WordPressRedirectMiddleware"]
    with CaptureQueriesContext(connection) as with_middleware:
        response = client.get(url)
    assert response.status_code == 200
    assert len(with_middleware) == len(without)
    assert not any("posts_redirect" in q["sql"] for q in with_middleware.captured_queries)


def test_a_later_slug_change_is_followed(client, blog):
    blog.slug = "borehole-lessons"
    blog.save()
    response = client.get("/blog/?p=101")
    assert response["Location"] == "/2024/03/04/borehole-lessons/"


# --- the other old URLs a WordPress blog leaves in the wild (issue item 17) ----------------------

POST_URL = "/2024/03/04/lessons-from-the-borehole/"
OLD_URLS = [
    # nested category paths, at the old folder and at the root, with feeds and pages
    ("/category/water-supply/handpumps/", "/category/handpumps/"),
    ("/blog/category/water-supply/handpumps/", "/category/handpumps/"),
    ("/blog/category/water-supply/handpumps/feed/", "/category/handpumps/feed/"),
    ("/blog/category/water-supply/handpumps/page/2/", "/category/handpumps/page/2/"),
    ("/blog/category/water-supply/", "/category/water-supply/"),
    # index.php in front of the query and the path
    ("/index.php?p=101", POST_URL),
    ("/blog/index.php?p=101", POST_URL),
    ("/blog/index.php/2024/03/04/lessons-from-the-borehole/", POST_URL),
    # WordPress's query-string archives: ?cat=<term id>, ?tag=<slug>, ?author=<user id>
    ("/?cat=11", "/category/handpumps/"),
    ("/blog/?cat=10", "/category/water-supply/"),
    ("/?tag=wash", "/tag/wash/"),
    ("/blog/?tag=%d0%b2%d0%be%d0%b4%d0%b0", "/tag/%D0%B2%D0%BE%D0%B4%D0%B0/"),
    ("/?author=2", "/author/nadia/"),
    ("/blog/author/nadia/", "/author/nadia/"),
    # the date permalink of a post whose slug changed in WordPress (_wp_old_slug)
    ("/blog/2024/03/04/borehole-notes/", POST_URL),
    ("/blog/2024/03/04/drilling-in-march/", POST_URL),
]


@pytest.mark.parametrize(("old", "new"), OLD_URLS)
def test_old_wordpress_urls_answer_301_to_the_new_url(client, blog, old, new):
    response = client.get(old)
    assert (response.status_code, response.get("Location")) == (301, new)


@pytest.mark.parametrize("caches", [False, True], ids=["plain", "page-and-fragment-cache"])
def test_old_wordpress_urls_redirect_anonymous_readers_with_the_caches_on(client, blog, settings, caches):
    settings.PAGE_CACHE = settings.FRAGMENT_CACHE = caches
    # The home page answers these queries until the import; a copy it cached must not win after.
    for old, new in OLD_URLS * 2:
        response = client.get(old)
        assert (response.status_code, response.get("Location")) == (301, new), old
    assert client.get("/category/handpumps/").status_code == 200
    assert client.get(POST_URL).status_code == 200


def test_the_old_date_permalink_of_a_post_whose_slug_or_date_changed_here_answers_301(client, blog):
    import datetime as dt

    old = blog.get_absolute_url()
    blog.slug = "borehole-lessons"
    blog.save()
    response = client.get(old)
    assert (response.status_code, response["Location"]) == (301, "/2024/03/04/borehole-lessons/")
    blog.published_at = blog.published_at - dt.timedelta(days=1)
    blog.save()
    for earlier in (old, "/2024/03/04/borehole-lessons/"):
        response = client.get(earlier)
        assert (response.status_code, response["Location"]) == (301, "/2024/03/03/borehole-lessons/")


def test_a_slug_change_on_a_post_written_here_keeps_its_old_url(client, db):
    from tests import factories

    post = factories.PostFactory(slug="first-try")
    old = post.get_absolute_url()
    post.slug = "second-try"
    post.save()
    response = client.get(old)
    assert (response.status_code, response["Location"]) == (301, post.get_absolute_url())


def test_a_draft_that_changes_slug_leaves_no_redirect(db):
    from tests import factories

    draft = factories.PostFactory(status="draft", published_at=None, slug="working-title")
    draft.slug = "final-title"
    draft.save()
    assert not Redirect.objects.filter(post=draft).exists()


def test_author_query_does_not_reveal_an_author_without_published_posts(client, blog):
    # omar (WordPress user 3) has one published post; once it is a draft, his name stays private.
    assert client.get("/?author=3")["Location"] == "/author/omar/"
    Post.objects.filter(authorships__user__username="omar").update(status="draft")
    response = client.get("/?author=3")
    assert response.status_code == 200 and "Location" not in response
    assert client.get("/blog/author/omar/").status_code == 404
