"""Cached fragments (core/cache/fragments.py): the parts of a page every reader shares.

They serve the requests the page cache can't (signed-in readers, a page-cache miss), so these
tests read pages as a signed-in reader or with the benchmark's bypass header, and check that every
change shows on the next request, exactly as with the page cache.
"""

from __future__ import annotations

import datetime as dt

import pytest
from bs4 import BeautifulSoup
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from bench import settings as bench_settings
from comments.models import Comment
from core.cache import deps, fragments
from tests import factories

BYPASS = {"HTTP_X_BENCH_NOCACHE": "1"}
COLD = {"HTTP_X_BENCH_NOCACHE": "cold"}


@pytest.fixture(autouse=True)
def fragments_on(settings, tmp_path):
    settings.PAGE_CACHE = True
    settings.FRAGMENT_CACHE = True
    settings.MIDDLEWARE = bench_settings.MIDDLEWARE  # honours X-Bench-Nocache, as under `make bench`
    settings.PAGE_CACHE_VERSION_FILE = str(tmp_path / "content-version")


@pytest.fixture
def site(db, author, make_comment):
    cat = factories.CategoryFactory(slug="sanitation", name="Sanitation")
    tag = factories.TagFactory(slug="rural", name="rural")
    older = factories.PostFactory(
        title="Handwashing stations at schools",
        authors=[author],
        categories=[cat],
        tags=[tag],
        published_at=timezone.now() - dt.timedelta(days=3),
    )
    post = factories.PostFactory(
        title="Pumps that keep working",
        body="Spare parts within a day's walk keep a handpump working.",
        authors=[author],
        categories=[cat],
        tags=[tag],
        published_at=timezone.now() - dt.timedelta(days=2),
    )
    make_comment(post, user_name="Wanjiru", comment="Which pump models did you compare?")
    return {"post": post, "older": older, "category": cat, "tag": tag, "author": author}


@pytest.fixture
def reader(db):
    user = factories.UserFactory(username="reader", is_staff=False)
    client = Client()
    client.force_login(user)
    return client


def text_of(response) -> str:
    return BeautifulSoup(response.content, "html.parser").get_text(" ", strip=True)


def select(response, css: str) -> list[str]:
    page = BeautifulSoup(response.content, "html.parser")
    return [node.get_text(" ", strip=True) for node in page.select(css)]


def queries_for(client, url, **headers) -> tuple[int, object]:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url, **headers)
    assert response.status_code == 200, url
    return len(captured), response


def test_signed_in_reader_gets_the_same_page_with_fewer_queries(reader, site):
    url = site["post"].get_absolute_url()
    cold, first = queries_for(reader, url)
    warm, second = queries_for(reader, url)
    assert warm < cold, (warm, cold)
    for css in (".widgets", "article.post", "ol.thread", "nav.post-nav", "form#comment-form"):
        assert select(first, css) == select(second, css), css
    assert "Which pump models did you compare?" in text_of(second)


def test_new_comment_shows_at_once_for_signed_in_and_page_cache_misses(reader, site, make_comment):
    post = site["post"]
    url = post.get_absolute_url()
    reader.get(url)
    Client().get(url, **BYPASS)  # both kinds of reader warm the fragments
    make_comment(post, user_name="Tomás", comment="We keep a parts kit at the health post.")
    for response in (reader.get(url), Client().get(url, **BYPASS)):
        assert "We keep a parts kit at the health post." in text_of(response)
        assert select(response, "#comments-heading") == ["2 comments"]


def test_a_hidden_comment_disappears_at_once(reader, site):
    url = site["post"].get_absolute_url()
    reader.get(url)
    Comment.objects.filter(user_name="Wanjiru").get().delete()
    response = reader.get(url)
    assert "Which pump models" not in text_of(response)
    assert select(response, "#comments-heading") == ["Start the discussion"]


def test_new_post_refreshes_sidebar_neighbours_and_lists(reader, site):
    urls = [site["post"].get_absolute_url(), "/", "/category/sanitation/", "/tag/rural/"]
    for url in urls:
        reader.get(url)
    factories.PostFactory(
        title="Latrines after the rains",
        authors=[site["author"]],
        categories=[site["category"]],
        tags=[site["tag"]],
        published_at=timezone.now() - dt.timedelta(hours=1),
    )
    for url in urls:
        response = reader.get(url)
        assert "Latrines after the rains" in " ".join(select(response, ".widget-recent")), url
    post_page = reader.get(urls[0])
    assert any("Latrines after the rains" in link for link in select(post_page, "nav.post-nav a[rel=next]"))
    assert "Latrines after the rains" in " ".join(select(reader.get("/"), "article.post-card h2"))


def test_edited_post_and_renamed_category_show_at_once(reader, site):
    post = site["post"]
    reader.get(post.get_absolute_url())
    reader.get("/")
    post.body = "Spare parts within a day's walk, and a trained caretaker, keep a handpump working."
    post.save()
    site["category"].name = "Sanitation and pumps"
    site["category"].save()
    page = reader.get(post.get_absolute_url())
    assert "a trained caretaker" in " ".join(select(page, "article.post .e-content"))
    assert "Sanitation and pumps" in " ".join(select(page, "article.post .categories"))
    assert "Sanitation and pumps" in " ".join(select(reader.get("/"), "article.post-card .kicker"))


def test_language_is_part_of_every_fragment_key(site):
    url = site["post"].get_absolute_url()
    english = Client().get(url, HTTP_ACCEPT_LANGUAGE="en", **BYPASS)
    spanish = Client().get(url, HTTP_ACCEPT_LANGUAGE="es", **BYPASS)
    assert select(english, "#widget-recent-title") == ["Recent posts"]
    assert select(spanish, "#widget-recent-title") == ["Entradas recientes"]
    again = Client().get(url, HTTP_ACCEPT_LANGUAGE="en", **BYPASS)
    assert select(again, "#widget-recent-title") == ["Recent posts"]


def test_comment_form_from_the_fragment_works_for_two_visitors(site):
    url = site["post"].get_absolute_url()
    tokens = []
    for number, name in enumerate(("Ama", "Kofi")):
        # Two readers on two addresses (one address would meet the flood limit).
        visitor = Client(enforce_csrf_checks=True, REMOTE_ADDR=f"192.0.2.{number + 10}")
        page = visitor.get(url, **BYPASS)
        assert page.get("X-Page-Cache") is None  # rendered by the view, form fields from the fragment
        form = BeautifulSoup(page.content, "html.parser").select_one("form#comment-form")
        data = {i["name"]: i.get("value", "") for i in form.select("input[type=hidden]")}
        tokens.append(data["csrfmiddlewaretoken"])
        data.update(name=name, email=f"{name.lower()}@example.net", url="", comment=f"{name} was here.")
        response = visitor.post(form["action"], data)
        assert response.status_code in (200, 302), response.content[:300]
    assert tokens[0] != tokens[1]
    assert set(Comment.objects.filter(user_name__in=["Ama", "Kofi"]).values_list("user_name", flat=True)) == {
        "Ama",
        "Kofi",
    }


def test_signed_in_commenter_gets_their_own_form(reader, site):
    url = site["post"].get_absolute_url()
    Client().get(url, **BYPASS)  # an anonymous reader stores the blank form
    page = reader.get(url)
    assert "Commenting as" in text_of(page)


def test_staff_preview_stores_no_article_fragment(staff_client, site, author):
    draft = factories.PostFactory(title="Not yet", status="draft", published_at=None, authors=[author])
    assert staff_client.get(draft.get_absolute_url()).status_code == 200
    assert not [key for key in cache._cache if ":frag:" in key and ":article:" in key]  # locmem


def test_html_with_a_nonce_or_csrf_field_is_never_stored(rf, db):
    request = rf.get("/")
    request._csp_nonce = "n0nce-abc"
    key = fragments.fragment_key("probe", ("x",))
    script = "<script nonce='n0nce-abc'></script>"
    with deps.recording():  # as a page renders: what it shows is recorded
        deps.declare()
        fragments.put(key, script, request, html=script)
        assert fragments.get(key) is None
        html = '<input type="hidden" name="csrfmiddlewaretoken" value="abc">'
        fragments.put(key, html, request, html=html)
        assert fragments.get(key) is None
        fragments.put(key, "<p>shared</p>", request, html="<p>shared</p>")
        assert fragments.get(key) == "<p>shared</p>"


def test_feed_items_come_from_the_cache_and_follow_edits(client, site):
    cold, first = queries_for(client, "/feed/", **BYPASS)
    warm, second = queries_for(client, "/feed/", **BYPASS)
    assert warm < cold, (warm, cold)
    assert first.content == second.content
    post = site["post"]
    post.title = "Pumps that keep working, a year on"
    post.save()
    edited = client.get("/feed/", **BYPASS)
    assert b"Pumps that keep working, a year on" in edited.content
    assert edited["ETag"] != second["ETag"]
    factories.PostFactory(title="Latrines after the rains", authors=[site["author"]])
    newer = client.get("/feed/", **BYPASS)
    titles = [item.get_text() for item in BeautifulSoup(newer.content, "xml").select("item > title")]
    assert titles[0] == "Latrines after the rains"
    assert newer["ETag"] != edited["ETag"]


def test_comment_feeds_follow_new_comments(client, site, make_comment):
    for url in ("/comments/feed/", site["post"].get_absolute_url() + "feed/"):
        client.get(url, **BYPASS)
        client.get(url, **BYPASS)
    make_comment(site["post"], user_name="Tomás", comment="We keep a parts kit at the health post.")
    for url in ("/comments/feed/", site["post"].get_absolute_url() + "feed/"):
        assert b"We keep a parts kit at the health post." in client.get(url, **BYPASS).content, url


def test_author_name_change_shows_at_once_but_a_login_changes_nothing(reader, site, author):
    from core.cache.version import content_version

    author.profile.display_name = ""  # the byline falls back to the user's own name
    author.profile.save()
    url = site["post"].get_absolute_url()
    assert "Amara Okafor" in " ".join(select(reader.get(url), "article.post .byline"))
    before = content_version()
    Client().force_login(author)  # saves last_login only
    assert content_version() == before
    author.first_name, author.last_name = "Amara", "Okafor-Mensah"
    author.save()
    assert "Amara Okafor-Mensah" in " ".join(select(reader.get(url), "article.post .byline"))


def test_unpublished_post_answers_404_at_once_for_every_reader(reader, site):
    post = site["post"]
    url = post.get_absolute_url()
    reader.get(url)
    Client().get(url, **BYPASS)
    post.status = "draft"
    post.save()
    assert reader.get(url).status_code == 404
    assert Client().get(url, **BYPASS).status_code == 404


@pytest.mark.parametrize(
    ("url", "warm_queries", "cold_queries"),
    [
        # Warm: no query at all (the pages only read: no request transaction, core.reads): the
        # post with its authors, taxonomy and translations, the sidebar, the article's neighbours
        # and related posts and the thread all come from the cache. (Cold: 10, one of them the
        # fediverse likes and boosts row, which warm comes from the cache.)
        ("post", 0, 10),
        ("/", 1, 6),  # the page count only: the list and its prefetches are in the fragment
        ("/category/sanitation/", 2, 7),
        ("/feed/", 0, 4),  # the feed's state, its item ids and entries all come from the cache
    ],
)
def test_query_pins_with_warm_fragments(client, site, make_comment, url, warm_queries, cold_queries):
    post = site["post"]
    for n in range(5):  # more comments cost no more queries, warm or cold
        make_comment(post, user_name=f"Reader {n}", user_email=f"r{n}@example.net")
    url = post.get_absolute_url() if url == "post" else url
    factories.commit_term_counts()
    queries_for(client, url, **BYPASS)  # fills the fragments
    warm, _ = queries_for(client, url, **BYPASS)
    cold, _ = queries_for(client, url, **COLD)
    assert (warm, cold) == (warm_queries, cold_queries)


def test_keys_change_with_the_deployed_code(settings, tmp_path, rf, db):
    """A shared cache keeps fragments and pages across a deploy: keys name the code's digest."""
    from core.cache.pagecache import PageCacheMiddleware

    (tmp_path / "templates").mkdir()
    (tmp_path / "posts").mkdir()
    template = tmp_path / "templates" / "page.html"
    module = tmp_path / "posts" / "views.py"
    template.write_text("<p>{{ post.title }}</p>")
    module.write_text("TITLE = 1\n")
    settings.BASE_DIR = tmp_path
    keys = []
    try:
        for change in (
            None,
            lambda: template.write_text("<p>{{ post.title|upper }}</p>"),
            lambda: module.write_text("TITLE = 2\n"),
        ):
            if change:
                change()
            fragments._digest.clear()
            keys.append(
                (
                    fragments.fragment_key("sidebar", ()),
                    PageCacheMiddleware.key_for(rf.get("/"), "en", "v1", ""),
                )
            )
    finally:
        fragments._digest.clear()
    assert len({k[0] for k in keys}) == 3 and len({k[1] for k in keys}) == 3
