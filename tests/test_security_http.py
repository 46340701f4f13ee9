"""HTTP-level security (issue 11): CSP on every page (7), CSRF (11), open redirects (12) and the
production settings passing `check --deploy` (16)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from bs4 import BeautifulSoup
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse

from comments.models import Comment
from tests import factories

ROOT = Path(__file__).resolve().parent.parent


def parse_csp(header: str) -> dict[str, list[str]]:
    policy = {}
    for directive in header.split(";"):
        parts = directive.split()
        if parts:
            policy[parts[0]] = parts[1:]
    return policy


def assert_csp_protects(response, *, own_markup: bool = True) -> None:
    """The page carries a nonce-based CSP, and nothing in it needs the policy relaxed."""
    header = response.headers.get("Content-Security-Policy")
    assert header, f"no CSP on {response.request['PATH_INFO']}"
    policy = parse_csp(header)
    assert "'unsafe-inline'" not in policy.get("script-src", []) + policy.get("default-src", [])
    assert "'unsafe-eval'" not in policy.get("script-src", [])
    assert policy["object-src"] == ["'none'"]
    assert policy["base-uri"] == ["'none'"]
    assert policy["frame-ancestors"] == ["'none'"]
    nonces = {v[len("'nonce-") : -1] for v in policy.get("script-src", []) if v.startswith("'nonce-")}
    if "text/html" not in response.get("Content-Type", ""):
        return
    page = BeautifulSoup(response.content, "html.parser")
    for script in page.find_all("script"):
        src = script.get("src")
        if src and not urlsplit(src).netloc:
            continue  # same origin: allowed by 'self'
        assert script.get("nonce") in nonces, f"script without the page's nonce: {script}"
    if not own_markup:
        return
    for element in page.find_all(True):
        assert "style" not in element.attrs, f"style attribute (blocked by CSP): {element}"
        handlers = [a for a in element.attrs if a.lower().startswith("on")]
        assert not handlers, f"inline event handler (blocked by CSP): {element}"
    assert not page.find_all("style"), "inline <style> without a nonce"


@pytest.fixture
def site_pages(db, post, make_comment):
    """One URL for every kind of page the site serves, with content behind it."""
    category = factories.CategoryFactory(name="Water", slug="water")
    tag = factories.TagFactory(name="pumps", slug="pumps")
    post.categories.set([category])
    post.tags.set([tag])
    comment = make_comment(post, comment="A *reader* replies.")
    when = post.published_at
    author = post.authors.first()
    return {
        "home": "/",
        "post": post.get_absolute_url(),
        "search": "/search/?q=field",
        "wordpress-search": "/?s=field",
        "category": category.get_absolute_url(),
        "tag": tag.get_absolute_url(),
        "author": reverse("posts:author", kwargs={"username": author.username}),
        "year": f"/{when:%Y}/",
        "month": f"/{when:%Y/%m}/",
        "day": f"/{when:%Y/%m/%d}/",
        "comment-reply": reverse("comments:reply", args=[comment.pk]),
        "comment-posted": reverse("comments:posted", args=["awaiting"]),
        "admin-login": "/admin/login/",
        "not-found": "/no/such/page/",
        "healthz": "/healthz",
    }


def test_every_page_type_sends_a_nonce_csp(client, site_pages):
    nonces = set()
    for name, url in site_pages.items():
        response = client.get(url)
        assert response.status_code in (200, 400, 404), (name, response.status_code)
        # Every page is the site's own markup now: xtd's stock pages are no longer routed.
        assert_csp_protects(response)
        nonces.update(re.findall(r"'nonce-([^']+)'", response["Content-Security-Policy"]))
    # A fresh nonce per response: a nonce that repeats can be copied into an injected script.
    assert len(nonces) >= len([u for u in site_pages.values() if u != "/healthz"]) - 2


def test_the_nonce_in_the_header_is_the_one_on_the_pages_script(client, site_pages):
    response = client.get(site_pages["post"])
    (nonce,) = re.findall(r"'nonce-([^']+)'", response["Content-Security-Policy"])
    scripts = BeautifulSoup(response.content, "html.parser").find_all("script")
    assert scripts and all(s["nonce"] == nonce for s in scripts)


def test_admin_pages_for_staff_keep_the_csp(staff_client, site_pages):
    for url in ("/admin/", "/accounts/password/change/", "/accounts/2fa/", "/accounts/sessions/"):
        response = staff_client.get(url)
        assert response.status_code == 200, url
        assert response.headers.get("Content-Security-Policy"), url


def test_security_headers_on_a_page(client, site_pages):
    response = client.get(site_pages["post"])
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "strict-origin-when-cross-origin"


# --- CSRF (case 11) ----------------------------------------------------------------------------


def comment_form_data(client, post, **fields):
    """The comment form's fields as a browser would submit them, read from the post page."""
    page = BeautifulSoup(client.get(post.get_absolute_url()).content, "html.parser")
    form = page.select_one("form.comment-form")
    data = {i["name"]: i.get("value", "") for i in form.select("input[name]") if i.get("type") != "checkbox"}
    data.update(name="Ann Reader", email="ann@example.org", url="", comment="Thank you for this.")
    data.update(fields)
    return form["action"], data


def test_comment_post_without_csrf_token_is_refused(post):
    browser = Client(enforce_csrf_checks=True)
    action, data = comment_form_data(browser, post)
    data.pop("csrfmiddlewaretoken")
    response = browser.post(action, data)
    assert response.status_code == 403
    assert Comment.objects.count() == 0


def test_comment_post_with_another_sessions_token_is_refused(post):
    victim, attacker = Client(enforce_csrf_checks=True), Client(enforce_csrf_checks=True)
    action, attacker_data = comment_form_data(attacker, post)
    comment_form_data(victim, post)  # the victim has their own CSRF cookie
    response = victim.post(action, attacker_data)
    assert response.status_code == 403
    assert Comment.objects.count() == 0


def test_comment_post_with_its_own_token_is_accepted(post):
    """The control for the two tests above: the same form, untampered, goes through."""
    browser = Client(enforce_csrf_checks=True)
    action, data = comment_form_data(browser, post)
    response = browser.post(action, data)
    assert response.status_code == 302


def _csrf_exempt_paths() -> list[str]:
    from django.urls import URLPattern, URLResolver, get_resolver

    found = []

    def walk(resolver, prefix):
        for pattern in resolver.url_patterns:
            text = prefix + str(pattern.pattern)
            if isinstance(pattern, URLResolver):
                walk(pattern, text)
            elif isinstance(pattern, URLPattern) and getattr(pattern.callback, "csrf_exempt", False):
                found.append(text)

    walk(get_resolver(), "/")
    return found


@pytest.mark.django_db
def test_csrf_exempt_endpoints_do_nothing_with_a_logged_in_cookie(post, fast_passwords):
    """Every CSRF-exempt URL (the linkback endpoints; xtd's JSON API is no longer routed) is POSTed
    by a logged-in staff browser without a token: nothing may be created in that user's name."""
    user = get_user_model().objects.create_user("mod", "mod@example.org", "pw-mod-123", is_staff=True)
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(user)
    _, data = comment_form_data(Client(), post, comment="Written by a forged request")
    exempt = _csrf_exempt_paths()
    concrete = [p for p in exempt if "(" not in p and "<" not in p and "^" not in p]
    concrete += ["/xmlrpc.php", "/xmlrpc/", "/webmention/", post.get_absolute_url() + "trackback/"]
    before = Comment.objects.count()
    for path in concrete:
        response = browser.post(path, {**data, "source": "https://e.org/", "target": "https://e.org/"})
        assert response.status_code < 500, path
        assert not Comment.objects.filter(user=user).exists(), f"{path} acted as the logged-in user"
    api = browser.post("/comments/api/comment/", data)
    assert api.status_code == 404
    assert Comment.objects.count() == before


# --- Open redirects (case 12) ------------------------------------------------------------------

HOSTILE_NEXT = [
    "https://evil.example/",
    "//evil.example/",
    "/\\evil.example/",
    "\\\\evil.example/",
    "javascript:alert(document.domain)",
    "https:evil.example",
    "/%09/evil.example",
    "/\t/evil.example",
    " //evil.example/",
]


def assert_stays_on_site(response, next_url, fallback_prefix="/"):
    assert response.status_code in (302, 303), response.status_code
    location = response["Location"]
    parts = urlsplit(location)
    assert parts.scheme in ("", "http", "https")
    assert parts.netloc in ("", "testserver"), location
    assert location.startswith(fallback_prefix) or parts.netloc == "testserver", location
    assert not location.startswith(("//", "/\\")), location


@pytest.mark.parametrize("next_url", HOSTILE_NEXT)
def test_comment_post_next_falls_back_to_the_site(post, next_url):
    browser = Client()
    action, data = comment_form_data(browser, post, next=next_url)
    response = browser.post(action, data)
    assert_stays_on_site(response, next_url)


@pytest.fixture
def fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.mark.parametrize("next_url", HOSTILE_NEXT)
def test_admin_login_next_falls_back_to_the_admin(db, fast_passwords, next_url):
    get_user_model().objects.create_user("ed", "ed@example.org", "pw-ed-123456", is_staff=True)
    response = Client().post(
        "/admin/login/",
        {"username": "ed", "password": "pw-ed-123456", "next": next_url},
    )
    assert_stays_on_site(response, next_url)


@pytest.mark.parametrize("next_url", HOSTILE_NEXT)
def test_language_switch_next_falls_back_to_the_site(db, next_url):
    response = Client().post("/i18n/setlang/", {"language": "fr", "next": next_url})
    assert_stays_on_site(response, next_url)


def test_language_switch_to_a_local_page_is_kept(db):
    response = Client().post("/i18n/setlang/", {"language": "fr", "next": "/search/?q=x"})
    assert response["Location"] == "/search/?q=x"


# --- check --deploy (case 16) ------------------------------------------------------------------


def test_check_deploy_passes_with_production_settings(tmp_path):
    """`manage.py check --deploy --fail-level WARNING` in a fresh process with DEBUG off."""
    # Only the process environment a deployment would have: no test-harness switches (the e2e
    # conftest sets DJANGO_ALLOW_ASYNC_UNSAFE for Playwright, which check --deploy rightly refuses).
    test_only = {"DEBUG", "TESTING", "PYTEST_CURRENT_TEST", "DJANGO_ALLOW_ASYNC_UNSAFE", "TASKS_IMMEDIATE"}
    env = {k: v for k, v in os.environ.items() if k not in test_only}
    env.update(
        DEBUG="0",
        SECRET_KEY="k7#Qz!" + "pR2vXw9LmT4sYb8NcJ6hFd3GaE5uKo1Zi0Wq7Vn-x_Ys" * 2,
        ALLOWED_HOSTS="blog.example.org",
        CSRF_TRUSTED_ORIGINS="https://blog.example.org",
        SITE_DOMAIN="blog.example.org",
        EMAIL_URL="smtp://mailer:s3cret-Pass@smtp.example.org:587",
        VAR_DIR=str(tmp_path),
    )
    env.pop("DATABASE_URL", None)
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


# --- A database error outside any view (case 17) ----------------------------------------------


class FailingSessionStore:
    """Stands in for a middleware whose query finds the database gone (e.g. loading a session)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        from django.db import OperationalError

        raise OperationalError("connection to server at 127.0.0.1, port 5432 failed: Connection refused")


def test_a_database_error_in_a_middleware_is_a_503_not_a_500(settings, db):
    """Found a bug: Django turns a middleware's exception into a 500 before the outer
    DatabaseUnavailableMiddleware sees it, so such outages showed the 500 page. The handler500
    (core.middleware.server_error) now recognises the database error and answers 503."""
    settings.DEBUG = False
    settings.MIDDLEWARE = [*settings.MIDDLEWARE, "tests.test_security_http.FailingSessionStore"]
    response = Client(raise_request_exception=False).get("/")
    assert response.status_code == 503
    assert response["Retry-After"] == "30"
    assert b"Traceback" not in response.content


def test_other_errors_still_get_the_plain_500_page(settings, db):
    settings.DEBUG = False
    settings.MIDDLEWARE = [*settings.MIDDLEWARE, "tests.test_security_http.BrokenMiddleware"]
    response = Client(raise_request_exception=False).get("/")
    assert response.status_code == 500
    assert "Retry-After" not in response


class BrokenMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        raise ValueError("a bug, not an outage")


def test_the_outage_page_gives_comment_text_back_but_never_echoes_secrets(settings, db):
    settings.DEBUG = False
    settings.MIDDLEWARE = [*settings.MIDDLEWARE, "tests.test_security_http.FailingSessionStore"]
    browser = Client(raise_request_exception=False)
    comment = browser.post("/comments/post/", {"comment": "Keep <this> text", "name": "Ann"})
    assert comment.status_code == 503
    form = BeautifulSoup(comment.content, "html.parser").select_one("form")
    assert form.select_one("textarea[name=comment]").get_text() == "Keep <this> text"
    other = browser.post("/admin/login/", {"comment": "x", "username": "ed", "password": "hunter2-secret"})
    assert other.status_code == 503
    assert b"hunter2-secret" not in other.content and b"<form" not in other.content
