"""The anonymous page cache: what it serves, when it goes stale, and what it never keeps.

The cache is on by default, tests included (the `site` fixture says so again), and each test
reads the X-Page-Cache header the middleware adds ("hit" or "miss"; absent when it stayed out).
"""

from __future__ import annotations

import datetime as dt
import gzip

import pytest
from bs4 import BeautifulSoup
from django.contrib import messages
from django.http import HttpResponse
from django.test import Client, override_settings
from django.urls import include, path
from django.utils import timezone

from core.cache.version import content_version
from posts.models import Post
from tests import factories

# --- a few views that misbehave on purpose, mounted beside the real site ---------------------


def sets_cookie(request):
    response = HttpResponse("<p>cookie</p>")
    response.set_cookie("tracking", "1")
    return response


def touches_session(request):
    request.session["seen"] = True
    return HttpResponse("<p>session</p>")


def adds_message(request):
    messages.info(request, "Thanks!")
    return HttpResponse("<p>message</p>")


def private_page(request):
    response = HttpResponse("<p>private</p>")
    response["Cache-Control"] = "private"
    return response


def reads_user(request):
    signed_in = request.user.is_authenticated  # what a "log in / log out" link in base.html does
    return HttpResponse(f"<p>signed in: {signed_in}</p>")


urlpatterns = [
    path("t/reads-user/", reads_user),
    path("t/cookie/", sets_cookie),
    path("t/session/", touches_session),
    path("t/message/", adds_message),
    path("t/private/", private_page),
    path("", include("sectorblog.urls")),
]


@pytest.fixture(autouse=True)
def page_cache_on(settings, tmp_path):
    settings.PAGE_CACHE = True
    settings.PAGE_CACHE_VERSION_FILE = str(tmp_path / "content-version")


@pytest.fixture
def site(db, author):
    """A small blog: one post in a category and a tag, by Amara, with one comment."""
    cat = factories.CategoryFactory(slug="sanitation", name="Sanitation")
    tag = factories.TagFactory(slug="rural", name="rural")
    post = factories.PostFactory(
        title="Pumps that keep working",
        authors=[author],
        categories=[cat],
        tags=[tag],
        published_at=timezone.now() - dt.timedelta(days=2),
    )
    return {"post": post, "category": cat, "tag": tag, "author": author}


def page_urls(post):
    year = f"{timezone.localtime(post.published_at).year:04d}"
    return [
        "/",
        post.get_absolute_url(),
        "/category/sanitation/",
        "/tag/rural/",
        "/author/amara/",
        f"/{year}/",
        "/search/?q=pumps",
    ]


def warm(client, urls):
    """Request each URL twice and check the second answer came from the cache."""
    for url in urls:
        first = client.get(url)
        assert first.status_code == 200, url
        second = client.get(url)
        assert second["X-Page-Cache"] == "hit", url


def text_of(response):
    return BeautifulSoup(response.content, "html.parser").get_text(" ", strip=True)


# --- serving ----------------------------------------------------------------------------------


def test_second_anonymous_request_is_a_hit_without_queries(client, site, django_assert_num_queries):
    url = site["post"].get_absolute_url()
    first = client.get(url)
    assert first["X-Page-Cache"] == "miss"
    with django_assert_num_queries(0):
        second = client.get(url)
    assert second["X-Page-Cache"] == "hit"
    assert text_of(second) == text_of(first)


def test_head_is_served_from_the_cache(client, site):
    client.get("/")
    response = client.head("/")
    assert response.status_code == 200
    assert response["X-Page-Cache"] == "hit"


def test_language_is_part_of_the_key(site):
    english, french, spanish = Client(), Client(HTTP_ACCEPT_LANGUAGE="fr"), Client()
    spanish.cookies["django_language"] = "es"
    for visitor, lang in ((english, "en"), (french, "fr"), (spanish, "es"), (english, "en")):
        response = visitor.get("/")
        html = BeautifulSoup(response.content, "html.parser").html
        assert html["lang"] == lang
    # Each language was stored once: the second English request was the only hit.
    assert french.get("/")["X-Page-Cache"] == "hit"
    assert spanish.get("/")["X-Page-Cache"] == "hit"


def test_query_string_is_part_of_the_key(client, site):
    found = client.get("/search/?q=pumps")
    assert BeautifulSoup(found.content, "html.parser").select("main article.post-card")
    response = client.get("/search/?q=nothing-like-this")
    assert response["X-Page-Cache"] == "miss"
    results = BeautifulSoup(response.content, "html.parser").select("main article.post-card")
    assert results == []


# --- CSRF and CSP on cached pages ------------------------------------------------------------


def comment_form_data(response, **fields):
    form = BeautifulSoup(response.content, "html.parser").select_one("form.comment-form")
    data = {i["name"]: i.get("value", "") for i in form.select("input[type=hidden]")}
    data.update(fields)
    return form["action"], data


def test_cached_page_carries_each_visitors_own_working_csrf_token(site):
    url = site["post"].get_absolute_url()
    Client().get(url)  # someone else fills the cache
    visitor = Client(enforce_csrf_checks=True)
    response = visitor.get(url)
    assert response["X-Page-Cache"] == "hit"
    assert b"@@csrf-" not in response.content
    assert "csrftoken" in response.cookies  # get_token() on the serve set this visitor's cookie
    action, data = comment_form_data(
        response, name="Wanjiru", email="wanjiru@example.net", comment="Which pump models?"
    )
    posted = visitor.post(action, data)
    assert posted.status_code != 403, posted.content[:300]
    assert posted.status_code in (200, 302)

    # The same form with the token removed is refused: CSRF is really enforced here.
    stranger = Client(enforce_csrf_checks=True)
    data.pop("csrfmiddlewaretoken")
    assert stranger.post(action, data).status_code == 403


def test_two_visitors_get_different_tokens_from_one_cached_page(site):
    url = site["post"].get_absolute_url()
    a, b = Client(), Client()
    token_a = comment_form_data(a.get(url))[1]["csrfmiddlewaretoken"]
    response_b = b.get(url)
    assert response_b["X-Page-Cache"] == "hit"
    token_b = comment_form_data(response_b)[1]["csrfmiddlewaretoken"]
    assert token_a != token_b
    assert a.cookies["csrftoken"].value != b.cookies["csrftoken"].value


def test_cached_page_gets_a_fresh_csp_nonce_matching_its_header(client, site):
    nonces = []
    for _ in range(2):
        response = client.get("/")
        script = BeautifulSoup(response.content, "html.parser").select_one("script[nonce]")
        nonce = script["nonce"]
        assert f"'nonce-{nonce}'" in response["Content-Security-Policy"]
        nonces.append(nonce)
    assert response["X-Page-Cache"] == "hit"
    assert nonces[0] != nonces[1]


# --- conditional GET and compression ----------------------------------------------------------


def test_etag_and_last_modified_answer_304_without_a_new_csp_header(client, site):
    first = client.get("/")
    etag, last_modified = first["ETag"], first["Last-Modified"]
    assert etag.startswith('W/"')
    revalidated = client.get("/", HTTP_IF_NONE_MATCH=etag)
    assert revalidated.status_code == 304
    assert revalidated.content == b""
    assert revalidated["ETag"] == etag
    assert "Content-Security-Policy" not in revalidated
    by_date = client.get("/", HTTP_IF_MODIFIED_SINCE=last_modified)
    assert by_date.status_code == 304


def test_etag_changes_when_content_changes(client, site):
    etag = client.get("/")["ETag"]
    factories.PostFactory(title="A brand new post", authors=[site["author"]])
    response = client.get("/", HTTP_IF_NONE_MATCH=etag)
    assert response.status_code == 200
    assert "A brand new post" in text_of(response)


def test_visitor_with_another_csrf_cookie_gets_a_full_page(site):
    url = site["post"].get_absolute_url()
    a = Client()
    etag = a.get(url)["ETag"]
    b = Client()
    b.cookies["csrftoken"] = "x" * 32
    assert b.get(url, HTTP_IF_NONE_MATCH=etag).status_code == 200


def test_cached_html_is_gzipped_per_request_with_vary(client, site):
    client.get("/")
    response = client.get("/", HTTP_ACCEPT_ENCODING="gzip")
    assert response["X-Page-Cache"] == "hit"
    assert response["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in response["Vary"]
    html = gzip.decompress(response.content)
    assert b"@@nonce-" not in html and b"Pumps that keep working" in html
    plain = client.get("/")
    assert "Content-Encoding" not in plain


def test_compressed_once_pages_decompress_with_this_visitors_token_and_nonce(site):
    """Stored pages are compressed when stored and joined around each visitor's values on
    serve: the result must be one valid gzip member (CRC-32 and length checked by the decoder)
    carrying this visitor's working CSRF token and the nonce its CSP header names."""
    import zlib

    url = site["post"].get_absolute_url()
    Client().get(url)  # someone else stores the page
    lengths, forms = set(), []
    for n in range(6):
        visitor = Client(enforce_csrf_checks=True, REMOTE_ADDR=f"192.0.2.{n + 20}")
        response = visitor.get(url, HTTP_ACCEPT_ENCODING="gzip, deflate, br")
        assert response["X-Page-Cache"] == "hit"
        assert response["Content-Encoding"] == "gzip" and "Accept-Encoding" in response["Vary"]
        lengths.add(len(response.content))
        html = gzip.decompress(response.content)  # checks the trailer's CRC-32 and length
        assert zlib.decompress(response.content, wbits=31) == html
        assert b"@@csrf-" not in html and b"@@nonce-" not in html
        page = BeautifulSoup(html, "html.parser")
        nonce = response["Content-Security-Policy"].split("'nonce-")[1].split("'")[0]
        assert {script["nonce"] for script in page.select("script[nonce]")} == {nonce}
        plain = visitor.get(url)  # the same visitor without gzip: the same page
        assert "Content-Encoding" not in plain and "Accept-Encoding" in plain["Vary"]
        assert (
            page.select_one("article.post").get_text()
            == BeautifulSoup(plain.content, "html.parser").select_one("article.post").get_text()
        )
        form = page.select_one("form.comment-form")
        data = {i["name"]: i.get("value", "") for i in form.select("input[type=hidden]")}
        data.update(name=f"Reader {n}", email=f"r{n}@example.net", comment=f"Question {n} about pumps.")
        forms.append((visitor, form["action"], data))
    assert len(lengths) > 1  # the random-length header field (BREACH mitigation) varies
    for visitor, action, data in forms:  # each token works (a comment renews the page, so last)
        posted = visitor.post(action, data)
        assert posted.status_code in (200, 302), posted.content[:300]


def test_feeds_from_the_cache_stay_public_and_pages_stay_private(client, site):
    for _ in range(2):
        feed = client.get("/feed/")
    assert feed["X-Page-Cache"] == "hit"
    assert "public" in feed["Cache-Control"] and "max-age=300" in feed["Cache-Control"]
    assert "private" not in feed["Cache-Control"]
    for _ in range(2):
        page = client.get("/")
    assert page["X-Page-Cache"] == "hit"
    assert "private" in page["Cache-Control"] and "no-cache" in page["Cache-Control"]


# --- invalidation: every affected page is fresh on its next request --------------------------


def assert_all_fresh(client, urls, must_contain, *, skip=()):
    for url in urls:
        response = client.get(url)
        assert response["X-Page-Cache"] == "miss", url
        if url not in skip:
            assert must_contain in text_of(response), url


def test_new_post_refreshes_home_archive_taxonomy_and_search(client, site):
    urls = page_urls(site["post"])
    warm(client, urls)
    factories.PostFactory(
        title="Pumps in the dry season",
        authors=[site["author"]],
        categories=[site["category"]],
        tags=[site["tag"]],
        published_at=site["post"].published_at + dt.timedelta(hours=1),
    )
    # The older post's page shows the newer one as its "next" neighbour.
    assert_all_fresh(client, urls, "Pumps in the dry season")


def test_edited_post_refreshes_every_page_showing_it(client, site):
    urls = page_urls(site["post"])
    warm(client, urls)
    post = site["post"]
    post.title = "Pumps that keep working, revisited"
    post.save()
    assert_all_fresh(client, urls, "revisited")


def test_unpublished_post_disappears_at_once(client, site):
    warm(client, ["/"])
    post = site["post"]
    post.status = Post.Status.DRAFT
    post.save()
    response = client.get("/")
    assert "Pumps that keep working" not in text_of(response)
    assert client.get(post.get_absolute_url()).status_code == 404


def test_taxonomy_change_refreshes_pages(client, site):
    warm(client, ["/category/sanitation/", site["post"].get_absolute_url()])
    new_tag = factories.TagFactory(slug="handpumps", name="handpumps")
    site["post"].tags.add(new_tag)
    assert "handpumps" in text_of(client.get(site["post"].get_absolute_url()))
    category = site["category"]
    category.name = "Sanitation and pumps"
    category.save()
    assert "Sanitation and pumps" in text_of(client.get("/category/sanitation/"))


def test_approved_comment_refreshes_the_post_and_lists(client, site, make_comment):
    post = site["post"]
    held = make_comment(post, comment="Held back until a moderator looks.", is_public=False)
    urls = [post.get_absolute_url(), "/", "/category/sanitation/"]
    warm(client, urls)
    assert "Held back" not in text_of(client.get(post.get_absolute_url()))
    held.is_public = True
    held.save()
    page = client.get(post.get_absolute_url())
    assert page["X-Page-Cache"] == "miss"
    assert "Held back until a moderator looks." in text_of(page)
    for url in urls[1:]:
        assert client.get(url)["X-Page-Cache"] == "miss", url


def test_new_linkback_refreshes_the_post(client, site, make_comment):
    post = site["post"]
    warm(client, [post.get_absolute_url()])
    make_comment(
        post,
        kind="pingback",
        user_name="Blog del agua",
        source_url="https://agua.example.es/bombas/",
        source_title="Bombas que funcionan",
        excerpt="como explica este artículo",
    )
    page = client.get(post.get_absolute_url())
    assert page["X-Page-Cache"] == "miss"
    assert "Bombas que funcionan" in text_of(page)


def test_deleted_comment_disappears(client, site, make_comment):
    post = site["post"]
    comment = make_comment(post, comment="Something regrettable.")
    warm(client, [post.get_absolute_url()])
    comment.delete()
    assert "Something regrettable." not in text_of(client.get(post.get_absolute_url()))


def test_scheduled_post_appears_when_its_time_comes_without_a_save(client, site, time_machine):
    time_machine.move_to(timezone.now(), tick=False)
    soon = timezone.now() + dt.timedelta(minutes=30)
    factories.PostFactory(title="Scheduled for later", authors=[site["author"]], published_at=soon)
    assert "Scheduled for later" not in text_of(client.get("/"))
    assert client.get("/")["X-Page-Cache"] == "hit"
    time_machine.move_to(soon + dt.timedelta(seconds=1), tick=False)
    response = client.get("/")
    assert response["X-Page-Cache"] == "miss"
    assert "Scheduled for later" in text_of(response)


def test_version_is_shared_through_the_file_between_processes(settings, site, tmp_path):
    before = content_version()
    path = tmp_path / "content-version"
    # Another process (a gunicorn worker, the task worker) bumps by replacing the file.
    path.write_text("ffff-from-elsewhere inf")
    assert content_version() == "ffff-from-elsewhere" != before


# --- never cached -----------------------------------------------------------------------------


def test_signed_in_users_are_never_served_or_stored(staff_client, site, django_user_model):
    anonymous = Client()
    anonymous.get("/")  # cached for anonymous readers
    for _ in range(2):
        response = staff_client.get("/")
        assert response.status_code == 200
        assert "X-Page-Cache" not in response
    assert anonymous.get("/")["X-Page-Cache"] == "hit"


def test_staff_preview_never_reaches_anonymous_readers(staff_client, site, author):
    draft = factories.PostFactory(
        title="Not yet", status=Post.Status.DRAFT, published_at=None, authors=[author]
    )
    url = draft.get_absolute_url()
    preview = staff_client.get(url)
    assert preview.status_code == 200 and "Not yet" in text_of(preview)
    assert "no-store" in preview["Cache-Control"]
    assert Client().get(url).status_code == 404


def test_admin_is_never_cached(client, db):
    for _ in range(2):
        response = client.get("/admin/login/")
        assert response.status_code == 200
        assert "X-Page-Cache" not in response


def test_post_responses_are_never_cached(client, site):
    url = site["post"].get_absolute_url()
    client.get(url)
    response = client.post("/search/?q=pumps")
    assert response.status_code == 405
    assert "X-Page-Cache" not in response


def test_error_pages_are_never_stored(client, db):
    for _ in range(2):
        response = client.get("/category/no-such-thing/")
        assert response.status_code == 404
        assert "X-Page-Cache" not in response


@pytest.mark.urls("tests.test_perf_pagecache")
@pytest.mark.parametrize("url", ["/t/cookie/", "/t/session/", "/t/message/", "/t/private/"])
def test_responses_with_cookies_sessions_messages_or_private_are_never_stored(client, db, url):
    for _ in range(2):
        response = Client().get(url)
        assert response.status_code == 200
        assert "X-Page-Cache" not in response


def test_visitor_with_pending_messages_is_not_served_from_the_cache(client, site):
    client.get("/")
    client.cookies["messages"] = "anything"
    assert "X-Page-Cache" not in client.get("/")


def test_bench_bypass_header_only_works_in_bench_mode(client, site, settings):
    client.get("/")
    assert client.get("/", HTTP_X_BENCH_NOCACHE="1")["X-Page-Cache"] == "hit"
    from bench import settings as bench_settings

    settings.MIDDLEWARE = bench_settings.MIDDLEWARE  # `make bench` runs bench/settings.py
    assert "X-Page-Cache" not in Client().get("/", HTTP_X_BENCH_NOCACHE="1")


@pytest.mark.urls("tests.test_perf_pagecache")
def test_pages_that_only_read_the_anonymous_user_are_still_cached(db):
    Client().get("/t/reads-user/")
    response = Client().get("/t/reads-user/")
    assert response["X-Page-Cache"] == "hit"
    assert b"signed in: False" in response.content


def test_an_unreachable_cache_falls_back_to_rendering(client, site):
    # Nothing listens on the discard port; restore the cache before teardown clears it.
    unreachable = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:9/0",
        }
    }
    with override_settings(CACHES=unreachable):
        response = client.get("/")
    assert response.status_code == 200
    assert "Pumps that keep working" in text_of(response)
    assert "X-Page-Cache" not in response


def test_bench_floor_exists_only_in_bench_mode_and_needs_no_database(
    client, db, settings, django_assert_num_queries
):
    assert client.get("/bench/floor").status_code == 404
    settings.ROOT_URLCONF = "bench.urls"  # `make bench` runs bench/settings.py
    with django_assert_num_queries(0):
        response = client.get("/bench/floor")
    assert response.status_code == 200
    assert response.content == b"sectorblog floor\n"


def test_with_redis_two_workers_share_the_version_and_never_serve_stale(redis_cache, site):
    worker_a, worker_b = Client(), Client()  # two handlers: two middleware instances
    url = site["post"].get_absolute_url()
    assert worker_a.get(url)["X-Page-Cache"] == "miss"
    assert worker_b.get(url)["X-Page-Cache"] == "hit"  # stored by a, read from Redis by b
    assert worker_b.get(url)["X-Page-Cache"] == "hit"  # now from b's near copy
    post = site["post"]
    post.title = "Pumps that keep working, corrected"
    post.save()
    for worker in (worker_a, worker_b):
        assert "corrected" in text_of(worker.get(url))


def test_tokens_made_for_cached_pages_are_what_get_token_would_make(rf):
    from django.middleware.csrf import CSRF_ALLOWED_CHARS, _does_token_match, _unmask_cipher_token

    from core.cache.pagecache import masked_csrf_token

    request = rf.get("/")
    tokens = {masked_csrf_token(request) for _ in range(200)}
    secret = request.META["CSRF_COOKIE"]
    assert request.META["CSRF_COOKIE_NEEDS_UPDATE"] is True
    assert len(secret) == 32 and set(secret) <= set(CSRF_ALLOWED_CHARS)
    assert len(tokens) == 200  # a fresh mask every time
    for token in tokens:
        assert len(token) == 64 and set(token) <= set(CSRF_ALLOWED_CHARS)
        assert _unmask_cipher_token(token) == secret
        assert _does_token_match(token, secret)
    # Every character of the alphabet turns up in the masks: no character is left out.
    assert set("".join(t[:32] for t in tokens)) == set(CSRF_ALLOWED_CHARS)
