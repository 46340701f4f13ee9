"""Hostile text (issue 11, case 15): control characters never reach PostgreSQL, bidi overrides
are taken out of names, and oversized or CRLF-bearing URLs are refused. The guard is
core.guards.HostileInputMiddleware, so it holds for every form, present and future."""

from __future__ import annotations

import pytest
from bs4 import BeautifulSoup
from django.contrib.auth import get_user_model
from django.test import Client

from comments.models import Comment
from core.guards import neutralise_bidi, strip_control
from tests.test_security_http import comment_form_data

RLO, PDF, RLI, PDI = "\u202e", "\u202c", "\u2067", "\u2069"


@pytest.fixture
def member(db, settings):
    """A signed-in reader: their comments are stored at once (no email confirmation step)."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    user = get_user_model().objects.create_user("reader", "reader@example.org", "pw-reader-123")
    browser = Client()
    browser.force_login(user)
    return browser


def test_nul_in_a_path_is_a_400_not_a_database_error(post):
    """Found a bug: /author/a%00b/ was a 500 on PostgreSQL ("string literal cannot contain NUL")."""
    client = Client(raise_request_exception=False)
    for url in ("/author/a%00b/", "/tag/a%00/", "/category/%00x/", post.get_absolute_url() + "%00"):
        response = client.get(url)
        assert response.status_code == 400, url


def test_control_characters_in_query_values_are_dropped(post):
    client = Client(raise_request_exception=False)
    for query in ("q=a%00b", "q=a%07b", "s=%00", "q=a%0d%0aSet-Cookie:%20x=1"):
        response = client.get("/search/?" + query)
        assert response.status_code == 200, query
        assert "\x00" not in response.content.decode() and "\x07" not in response.content.decode()
        assert "x" not in response.cookies


def test_a_huge_url_is_refused(db):
    """gunicorn refuses request lines over 4094 bytes itself; the guard backs that up in-process."""
    response = Client().get("/search/?q=" + "a" * 20_000)
    assert response.status_code == 414


def test_crlf_in_a_url_is_refused(db):
    response = Client().get("/search/%0d%0aLocation:%20https://evil.example/")
    assert response.status_code == 400
    assert "Location" not in response


def test_crlf_in_a_next_parameter_is_refused(db):
    response = Client().get("/comments/reply/1/?next=/%0d%0aSet-Cookie:%20x=1")
    assert response.status_code == 400
    assert "x" not in response.cookies


def test_comment_with_nul_is_a_400_and_nothing_is_stored(post, member):
    """NUL reaching PostgreSQL is a 500; the guard answers 400 first, as Django's fields would."""
    action, data = comment_form_data(member, post, comment="Clean\x00 water")
    assert member.post(action, data).status_code == 400
    assert not Comment.objects.exists()


def test_comment_with_other_control_characters_is_stored_clean(post):
    browser = Client()  # anonymous: a signed-in reader's name comes from their account
    action, data = comment_form_data(
        browser,
        post,
        name="Ann\x07 Reader",
        comment="Clean water\x07 for\x1b all\x7f\x85.\nSecond line\tkept.",
    )
    response = browser.post(action, data)
    assert response.status_code == 302
    stored = Comment.objects.get()  # stored at once, public after email confirmation
    assert stored.user_name == "Ann Reader"
    assert stored.comment == "Clean water for all.\nSecond line\tkept."


def test_bidi_overrides_are_taken_out_of_names(post):
    browser = Client()  # anonymous: a signed-in reader's name comes from their account
    action, data = comment_form_data(browser, post, name=f"{RLO}nimdA{PDF} {RLI}x{PDI}", comment="Hi")
    assert browser.post(action, data).status_code == 302
    stored = Comment.objects.get()
    assert stored.user_name == "nimdA x"
    # Right-to-left names themselves are fine: only the invisible controls go.
    assert neutralise_bidi("سارة\u200f") == "سارة\u200f"


def test_bidi_text_in_a_comment_body_is_kept(post, member):
    browser = member
    action, data = comment_form_data(browser, post, comment=f"Arabic quote: {RLI}مرحبا{PDI}")
    assert browser.post(action, data).status_code == 302
    assert RLI in Comment.objects.get().comment


@pytest.mark.parametrize(
    "url",
    [
        "https://example.org/" + "a" * 10_000,
        "https://example.org/\r\nSet-Cookie: x=1",
        "https://example.org/\nx",
    ],
    ids=["10kB", "crlf", "lf"],
)
def test_comment_website_that_is_too_long_or_has_crlf_is_refused(post, url):
    browser = Client()
    action, data = comment_form_data(browser, post, url=url)
    response = browser.post(action, data)
    assert response.status_code == 400
    assert Comment.objects.count() == 0


@pytest.mark.parametrize("field", ["name", "email", "url", "comment", "honeypot", "timestamp"])
def test_nul_in_any_comment_field_never_gives_a_500(post, field):
    browser = Client(raise_request_exception=False)
    action, data = comment_form_data(browser, post)
    data[field] = data.get(field, "") + "\x00"
    response = browser.post(action, data)
    assert response.status_code in (200, 302, 400), response.status_code


def test_the_page_shows_no_control_or_override_characters(post):
    browser = Client()  # anonymous: a signed-in reader's name comes from their account
    action, data = comment_form_data(browser, post, name=f"{RLO}Eve\x1b", comment="ok\x07")
    browser.post(action, data)
    comment = Comment.objects.get()
    comment.is_public = True
    comment.save()
    html = browser.get(post.get_absolute_url()).content.decode()
    author = BeautifulSoup(html, "html.parser").select_one(".comment-author")
    assert author is not None and author.get_text(strip=True) == "Eve"
    assert "\x1b" not in html and "\x07" not in html and RLO not in html


def test_helpers_for_text_that_does_not_come_from_a_form():
    assert strip_control("a\x00b\x1bc\td\ne\r") == "abc\td\ne\r"
    assert neutralise_bidi(f"{RLO}gnp.exe{PDF}") == "gnp.exe"


@pytest.mark.parametrize(
    "url",
    ["javascript:alert(document.domain)//http://e.org/", "data:text/html,<script>x</script>", "vbscript:x"],
)
def test_a_commenters_website_must_be_http_or_https(post, member, url):
    """The author link is rendered as <a href>; only web addresses may get there."""
    action, data = comment_form_data(member, post, url=url)
    response = member.post(action, data)
    assert response.status_code in (200, 400)  # the form again with an error, or refused outright
    assert not Comment.objects.exists()
