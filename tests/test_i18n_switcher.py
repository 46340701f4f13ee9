"""Choosing the interface language: the header switcher, Accept-Language and the language cookie.

URLs never change with the language (no prefix); the choice lives in Django's language cookie.
"""

from __future__ import annotations

import pytest
from bs4 import BeautifulSoup
from django.conf import settings

pytestmark = pytest.mark.django_db


def page(response):
    assert response.status_code == 200, response.status_code
    return BeautifulSoup(response.content, "html.parser")


def test_switcher_is_a_plain_form_posting_to_set_language(client, post):
    """Every page has a no-JS form: one labelled submit button per language, named in itself."""
    html = page(client.get(post.get_absolute_url()))
    form = html.select_one("header form.language-switcher")
    assert form is not None
    assert form["method"] == "post"
    assert form["action"] == "/i18n/setlang/"
    assert form.select_one("input[name=csrfmiddlewaretoken]") is not None
    assert form.select_one("input[name=next]")["value"] == post.get_absolute_url()
    assert form.select_one("fieldset legend").get_text(strip=True) == "Interface language"
    buttons = {b["value"]: (b.get_text(strip=True), b["lang"]) for b in form.select("button")}
    assert buttons == {
        "en": ("English", "en"),
        "es": ("español", "es"),
        "fr": ("français", "fr"),
    }
    current = form.select("button[aria-current=true]")
    assert [b["value"] for b in current] == ["en"]


def test_switching_to_spanish_sets_cookie_and_returns_to_same_url(client, post):
    path = post.get_absolute_url() + "?cpage=1"
    # Read the form as a browser would (CSRF cookie + token), then press "español".
    client = client.__class__(enforce_csrf_checks=True)
    html = page(client.get(path))
    token = html.select_one("form.language-switcher input[name=csrfmiddlewaretoken]")["value"]
    response = client.post("/i18n/setlang/", {"csrfmiddlewaretoken": token, "language": "es", "next": path})
    assert response.status_code == 302
    assert response["Location"] == path
    cookie = response.cookies[settings.LANGUAGE_COOKIE_NAME]
    assert cookie.value == "es"
    assert int(cookie["max-age"]) >= 300 * 24 * 3600, "the choice outlives the browser session"
    assert cookie["samesite"] == "Lax"

    html = page(client.get(path))
    assert html.html["lang"] == "es"
    assert html.select_one("a.skip-link").get_text(strip=True) == "Saltar al contenido"
    assert [b["value"] for b in html.select("form.language-switcher button[aria-current=true]")] == ["es"]


def test_accept_language_header_chooses_the_language(client, post):
    html = page(client.get("/", HTTP_ACCEPT_LANGUAGE="fr-FR,fr;q=0.9,en;q=0.5"))
    assert html.html["lang"] == "fr"
    assert html.select_one("header nav a").get_text(strip=True) == "Accueil"
    html = page(client.get("/", HTTP_ACCEPT_LANGUAGE="de-DE,de;q=0.9"))
    assert html.html["lang"] == "en"


def test_cookie_wins_over_accept_language(client, post):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "es"
    html = page(client.get("/", HTTP_ACCEPT_LANGUAGE="fr"))
    assert html.html["lang"] == "es"
    assert html.select_one("header nav a").get_text(strip=True) == "Inicio"


def test_unknown_language_in_switcher_changes_nothing(client, post):
    response = client.post("/i18n/setlang/", {"language": "xx", "next": "/"})
    assert response.status_code == 302
    assert settings.LANGUAGE_COOKIE_NAME not in response.cookies
    assert page(client.get("/")).html["lang"] == "en"


def test_unsafe_next_is_not_followed(client, post):
    response = client.post("/i18n/setlang/", {"language": "fr", "next": "https://evil.example/"})
    assert response.status_code == 302
    assert "evil.example" not in response["Location"]


def test_url_has_no_language_prefix(client, post):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "fr"
    assert client.get(post.get_absolute_url()).status_code == 200
    assert client.get("/fr" + post.get_absolute_url()).status_code in (301, 404)
