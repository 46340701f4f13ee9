"""core/cache/fastpath.py: page-cache hits answered before Django's middleware, as gunicorn calls
the application (`sectorblog.wsgi`), checked against what Django itself answers."""

from __future__ import annotations

import datetime as dt
import gzip
import io
from http.cookies import SimpleCookie

import pytest
import time_machine
from bs4 import BeautifulSoup
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.middleware.csrf import _unmask_cipher_token
from django.test import Client
from django.utils import timezone
from django.utils.http import http_date

from comments.models import Comment
from core.cache.fastpath import PER_VISITOR, FastPath
from tests import factories


@pytest.fixture(autouse=True)
def page_cache_on(settings, tmp_path):
    settings.PAGE_CACHE = True
    settings.FAST_PATH = True
    settings.PAGE_CACHE_VERSION_FILE = str(tmp_path / "content-version")


@pytest.fixture
def post(db, author):
    return factories.PostFactory(
        title="Pumps that keep working",
        authors=[author],
        published_at=timezone.now() - dt.timedelta(days=2),
    )


class Answer:
    def __init__(self, status, headers, body, via_django):
        self.status, self.headers, self.body, self.via_django = status, headers, body, via_django
        self.names = {name.lower(): value for name, value in headers if name.lower() != "set-cookie"}
        self.cookies = SimpleCookie()
        for name, value in headers:
            if name.lower() == "set-cookie":
                self.cookies.load(value)

    def __getitem__(self, name):
        return self.names[name.lower()]

    @property
    def html(self) -> bytes:
        return gzip.decompress(self.body) if self.names.get("content-encoding") == "gzip" else self.body


@pytest.fixture
def app():
    application = FastPath(WSGIHandler())
    started = []

    def count(**kwargs):
        started.append(1)

    request_started.connect(count)
    # As Django's test client does: keep the test's database connection (and transaction) open.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)

    def call(path, method="GET", **extra) -> Answer:
        before = len(started)
        environ = {
            "REQUEST_METHOD": method,
            "PATH_INFO": path,
            "QUERY_STRING": "",
            "SERVER_NAME": "testserver",
            "SERVER_PORT": "80",
            "HTTP_HOST": "testserver",
            "wsgi.url_scheme": "http",
            "wsgi.input": io.BytesIO(b""),
            "SERVER_PROTOCOL": "HTTP/1.1",
            "REMOTE_ADDR": "192.0.2.7",
            **extra,
        }
        out = []
        body = application(environ, lambda status, headers, exc_info=None: out.append((status, headers)))
        data = b"".join(body)
        if hasattr(body, "close"):
            body.close()
        return Answer(out[0][0], out[0][1], data, via_django=len(started) > before)

    yield call
    request_started.disconnect(count)
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


def warm(app, path, **extra) -> Answer:
    """A miss (Django stores the page), then a hit through Django (the fast path records it)."""
    assert app(path, **extra).via_django
    hit = app(path, **extra)
    assert hit.via_django and hit["X-Page-Cache"] == "hit"
    return hit


def nonce_of(answer: Answer) -> str:
    return answer["Content-Security-Policy"].split("'nonce-")[1].split("'")[0]


@pytest.mark.parametrize("encoding", ["", "gzip, deflate, br"])
def test_the_third_request_skips_django_with_the_same_headers(app, post, encoding):
    url = post.get_absolute_url()
    django_hit = warm(app, url, HTTP_ACCEPT_ENCODING=encoding)
    fast = app(url, HTTP_ACCEPT_ENCODING=encoding)
    assert not fast.via_django and fast.status == "200 OK"
    assert set(fast.names) == set(django_hit.names)
    for name, value in django_hit.names.items():
        if name in PER_VISITOR:
            continue
        if name == "content-security-policy":
            value = value.replace(nonce_of(django_hit), nonce_of(fast))
        assert fast.names[name] == value, name
    assert int(fast["Content-Length"]) == len(fast.body)
    assert ("content-encoding" in fast.names) == bool(encoding)
    page = BeautifulSoup(fast.html, "html.parser")
    assert page.select_one("h1").get_text() == "Pumps that keep working"
    assert {s["nonce"] for s in page.select("script[nonce]")} == {nonce_of(fast)}
    assert nonce_of(fast) != nonce_of(django_hit)


def test_each_visitor_gets_a_working_token_for_their_own_cookie(app, post):
    url = post.get_absolute_url()
    warm(app, url)
    first_visits = [app(url) for _ in range(2)]
    assert not any(a.via_django for a in first_visits)
    secrets_given = [a.cookies["csrftoken"].value for a in first_visits]
    assert secrets_given[0] != secrets_given[1]
    returning = app(url, HTTP_COOKIE=f"csrftoken={secrets_given[0]}")
    assert not returning.via_django
    assert returning.cookies["csrftoken"].value == secrets_given[0]  # renewed, not replaced
    form = BeautifulSoup(returning.html, "html.parser").select_one("form.comment-form")
    data = {i["name"]: i.get("value", "") for i in form.select("input[type=hidden]")}
    assert _unmask_cipher_token(data["csrfmiddlewaretoken"]) == secrets_given[0]
    # The token posts a comment through Django with CSRF checks on.
    visitor = Client(enforce_csrf_checks=True)
    visitor.cookies["csrftoken"] = secrets_given[0]
    data.update(name="Wanjiru", email="wanjiru@example.net", url="", comment="Which pump models?")
    response = visitor.post(form["action"], data)
    assert response.status_code in (200, 302), response.content[:300]
    assert Comment.objects.filter(user_name="Wanjiru").exists()


def test_a_bad_csrf_cookie_is_replaced_as_django_would(app, post):
    url = post.get_absolute_url()
    warm(app, url)
    answer = app(url, HTTP_COOKIE="csrftoken=not-a-valid-token!")
    assert not answer.via_django
    assert len(answer.cookies["csrftoken"].value) == 32


@pytest.mark.parametrize(
    ("label", "extra"),
    [
        ("signed in", {"HTTP_COOKIE": "sessionid=abc"}),
        ("flash messages", {"HTTP_COOKIE": "messages=abc"}),
        ("revalidation", {"HTTP_IF_NONE_MATCH": 'W/"x"'}),
        ("bad host", {"HTTP_HOST": "evil.example"}),
        ("HEAD", {"method": "HEAD"}),
    ],
)
def test_django_answers_what_the_fast_path_is_unsure_of(app, post, label, extra):
    url = post.get_absolute_url()
    warm(app, url)
    assert app(url, **extra).via_django, label


def test_bad_host_still_gets_django_400(app, post):
    warm(app, post.get_absolute_url())
    assert app(post.get_absolute_url(), HTTP_HOST="evil.example").status.startswith("400")


def test_a_change_is_seen_at_once(app, post, make_comment):
    url = post.get_absolute_url()
    warm(app, url)
    assert not app(url).via_django
    make_comment(post, user_name="Tomás", comment="We keep a parts kit at the health post.")
    fresh = app(url)
    assert fresh.via_django and fresh["X-Page-Cache"] == "miss"
    assert b"We keep a parts kit at the health post." in fresh.html


def test_after_a_comment_the_fast_path_serves_the_new_copy_and_its_last_modified(app, post, make_comment):
    """The page's copy is replaced under the same key (its discussion tag changed, not the site's
    content version): the headers the fast path learned from the old copy must not name its date."""
    url = post.get_absolute_url()
    warm(app, url)
    later = timezone.now() + dt.timedelta(minutes=7)
    with time_machine.travel(later, tick=False):
        make_comment(post, user_name="Tomás", comment="A spare-parts kit at the health post.")
        miss = app(url)  # renewed: Django renders and stores the new copy
        fast = app(url)  # the fast path already knows this key: it serves the new copy
    assert miss.via_django and miss["X-Page-Cache"] == "miss"
    assert not fast.via_django
    assert b"A spare-parts kit at the health post." in fast.html
    assert fast["Last-Modified"] == miss["Last-Modified"] == http_date(int(later.timestamp()))


def test_each_language_is_recorded_on_its_own(app, post):
    url = post.get_absolute_url()
    warm(app, url, HTTP_ACCEPT_LANGUAGE="es")
    spanish = app(url, HTTP_ACCEPT_LANGUAGE="es")
    assert not spanish.via_django and spanish["Content-Language"] == "es"
    english = app(url, HTTP_ACCEPT_LANGUAGE="en")
    assert english.via_django  # not recorded yet: Django answers and the fast path learns


def test_feeds_stay_public_without_cookies(app, post):
    warm(app, "/feed/")
    feed = app("/feed/")
    assert not feed.via_django
    assert "public" in feed["Cache-Control"] and not feed.cookies
    assert b"Pumps that keep working" in feed.html


def test_off_switch(app, post, settings):
    url = post.get_absolute_url()
    warm(app, url)
    settings.FAST_PATH = False
    assert app(url).via_django


@pytest.mark.parametrize(
    "slug", ["вода", "año", "νερό", "مياه"], ids=["russian", "spanish", "greek", "arabic"]
)
def test_unicode_tag_and_category_pages_answer_anonymous_readers_first_time_and_cached(app, post, slug):
    """PATH_INFO carries the URL's bytes as latin-1 (PEP 3333). The fast path once built its
    request on the server's own environ, which Django then read as an already decoded path:
    a 500 for Cyrillic, Greek or Arabic, a 404 for Spanish."""
    post.tags.add(factories.TagFactory(name=slug.capitalize(), slug=slug))
    post.categories.add(factories.CategoryFactory(name=slug.capitalize(), slug=f"{slug}-2"))
    for path in (f"/tag/{slug}/", f"/category/{slug}-2/"):
        wsgi_path = path.encode().decode("latin-1")
        answers = [app(wsgi_path) for _ in range(3)]
        assert [a.status for a in answers] == ["200 OK"] * 3, path
        assert [a.via_django for a in answers] == [True, True, False], path  # miss, hit, fast path
        for answer in answers:
            assert post.title in answer.html.decode(), path
        signed_cookie = app(wsgi_path, HTTP_COOKIE="sessionid=not-a-real-session")
        assert signed_cookie.status == "200 OK" and signed_cookie.via_django, path
