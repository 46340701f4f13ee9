"""The sign-in, two-factor, lockout, password and sessions screens, the admin index by task and
the account emails, in Spanish and French: no English left (the method of test_i18n_walk.py)."""

from __future__ import annotations

import pytest
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from bs4 import BeautifulSoup
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core import mail
from django.test import Client

from tests.test_i18n_walk import LANGS, chunks_of_html, chunks_of_text, untranslated

pytestmark = pytest.mark.django_db

PASSWORD = "zq-a-long-pass-phrase-71"
# Words that are not ours to translate: the admin's "Groups"/"Users" come from Django, and an
# IP address or a browser name is data.
NOT_OURS = frozenset({"sessions"})


@pytest.fixture(autouse=True)
def fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def zqines(db):
    user = get_user_model().objects.create_user("zqines", "zqines@example.org", PASSWORD, is_staff=True)
    user.groups.add(Group.objects.get(name="Editor"))
    return user


def browser(lang: str, ip: str = "192.0.2.10") -> Client:
    return Client(HTTP_ACCEPT_LANGUAGE=lang, REMOTE_ADDR=ip, HTTP_USER_AGENT="zqbrowser")


def main_chunks(response) -> list[str]:
    page = BeautifulSoup(response.content, "html.parser")
    for selector in ("main", "#content"):
        node = page.select_one(selector)
        if node is not None:
            header = page.select_one("#header")
            return chunks_of_html(str(node).encode() + (str(header).encode() if header else b""))
    raise AssertionError("no main content")


def screens(lang: str, user) -> dict[str, list[str]]:
    rendered = {}
    anonymous = browser(lang)
    rendered["sign in"] = main_chunks(anonymous.get("/admin/login/"))
    rendered["sign in with an error"] = main_chunks(
        anonymous.post("/admin/login/", {"username": "zqines", "password": "zqwrong"})
    )
    rendered["password reset"] = main_chunks(anonymous.get("/accounts/password/reset/"))
    rendered["password reset sent"] = main_chunks(anonymous.get("/accounts/password/reset/done/"))

    for n in range(5):
        browser(lang, f"198.51.100.{n + 1}").post("/admin/login/", {"username": "zqghost", "password": "zq"})
    rendered["paused"] = main_chunks(
        browser(lang, "198.51.100.9").post("/admin/login/", {"username": "zqghost", "password": "zq"})
    )

    secret = generate_totp_secret()
    TOTP.activate(user, secret)
    staff = browser(lang, "192.0.2.20")
    staff.post("/admin/login/", {"username": "zqines", "password": PASSWORD})
    rendered["two-factor code"] = main_chunks(staff.get("/accounts/2fa/authenticate/"))
    rendered["two-factor code with an error"] = main_chunks(
        staff.post("/accounts/2fa/authenticate/", {"code": "000000"})
    )
    signed_in = browser(lang, "192.0.2.30")
    signed_in.force_login(user)
    for label, path in [
        ("two-factor overview", "/accounts/2fa/"),
        ("sessions", "/accounts/sessions/"),
        ("change password", "/accounts/password/change/"),
        ("admin index", "/admin/"),
    ]:
        rendered[label] = main_chunks(signed_in.get(path))
    return rendered


@pytest.mark.parametrize("lang", LANGS)
def test_account_screens_are_translated(zqines, lang, settings):
    settings.STAFF_REQUIRE_2FA = True
    english = screens("en", zqines)
    get_user_model().objects.filter(pk=zqines.pk).update()
    from allauth.mfa.models import Authenticator
    from axes.models import AccessAttempt

    Authenticator.objects.all().delete()
    AccessAttempt.objects.all().delete()
    other = screens(lang, zqines)
    problems = {}
    for label, chunks in other.items():
        left = untranslated(english[label], chunks, lang, also_allowed=NOT_OURS)
        if left:
            problems[label] = left
    assert problems == {}


@pytest.mark.parametrize("lang", LANGS)
def test_the_reset_email_is_translated(zqines, lang, immediate_tasks, django_capture_on_commit_callbacks):
    bodies = {}
    for code in ("en", lang):
        mail.outbox.clear()
        with django_capture_on_commit_callbacks(execute=True):
            browser(code, f"192.0.2.{len(bodies) + 40}").post(
                "/accounts/password/reset/", {"email": "zqines@example.org"}
            )
        (message,) = mail.outbox
        assert message.extra_headers["Content-Language"] == code
        bodies[code] = chunks_of_text(message.subject + "\n" + message.body)
    assert untranslated(bodies["en"], bodies[lang], lang) == []
