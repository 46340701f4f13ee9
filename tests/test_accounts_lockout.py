"""Password spraying is slowed: failures count per client address across usernames and per
username across addresses, in the database (django-axes), so every process and server shares
them. Whichever limit fires, the answer is the same page and sentence. Wrong second-factor codes
count too, and a reset password lifts its username's pause."""

from __future__ import annotations

from http.cookies import SimpleCookie

import pyotp
import pytest
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from bs4 import BeautifulSoup
from django.contrib.auth import get_user_model
from django.core import mail
from django.test import Client

from tests.live import LiveSite, needs_gunicorn, which_database
from tests.test_accounts_reset import request_reset, reset_with_link

pytestmark = pytest.mark.django_db

PASSWORD = "a-long-staff-pass-phrase-71"
LIMIT = 5  # AXES_FAILURE_LIMIT


@pytest.fixture(autouse=True)
def fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    assert settings.AXES_FAILURE_LIMIT == LIMIT


def make_staff(username: str):
    return get_user_model().objects.create_user(username, f"{username}@example.org", PASSWORD, is_staff=True)


def attempt(ip: str, username: str, password: str):
    client = Client(REMOTE_ADDR=ip)
    response = client.post("/admin/login/?next=/admin/", {"username": username, "password": password})
    return client, response


def refusal_text(response) -> str:
    return BeautifulSoup(response.content, "html.parser").select_one("main").get_text(" ", strip=True)


def test_five_usernames_from_one_address_pause_that_address():
    for n in range(LIMIT):
        make_staff(f"user{n}")
        _, response = attempt("203.0.113.50", f"user{n}", "wrong-guess")
        assert response.status_code in (200, 429)
    make_staff("victim")
    client, response = attempt("203.0.113.50", "victim", PASSWORD)
    assert response.status_code == 429
    assert client.get("/admin/").status_code == 302  # not signed in
    # The same account from elsewhere is not paused by that address's failures.
    other, response = attempt("198.51.100.20", "victim", PASSWORD)
    assert response.status_code == 302 and other.get("/admin/").status_code == 200


def test_one_username_from_five_addresses_pauses_that_username():
    make_staff("ines")
    for n in range(LIMIT):
        attempt(f"198.51.100.{n + 1}", "ines", "wrong-guess")
    client, response = attempt("192.0.2.77", "ines", PASSWORD)
    assert response.status_code == 429
    assert client.get("/admin/").status_code == 302
    # Another account from that new address is not paused by the username's failures.
    make_staff("amara")
    other, response = attempt("192.0.2.77", "amara", PASSWORD)
    assert response.status_code == 302 and other.get("/admin/").status_code == 200


def test_the_refusal_is_the_same_whichever_limit_fired():
    for n in range(LIMIT):
        make_staff(f"user{n}")
        attempt("203.0.113.60", f"user{n}", "wrong-guess")
    _, by_address = attempt("203.0.113.60", "nobody-at-all", "x")
    make_staff("ines")
    for n in range(LIMIT):
        attempt(f"198.51.100.{n + 1}", "ines", "wrong-guess")
    _, by_username = attempt("192.0.2.78", "ines", "x")
    assert by_address.status_code == by_username.status_code == 429
    assert refusal_text(by_address) == refusal_text(by_username)
    assert "Too many failed sign-in attempts" in refusal_text(by_address)
    assert by_address["Retry-After"] == by_username["Retry-After"] == "3600"
    # Nothing names the account or the limit.
    assert "ines" not in refusal_text(by_username) and "address" not in refusal_text(by_address).lower()


def test_an_unknown_username_is_counted_like_a_known_one():
    make_staff("ines")
    for n in range(LIMIT):
        attempt(f"198.51.100.{n + 1}", "no-such-user", "wrong-guess")
    _, unknown = attempt("192.0.2.90", "no-such-user", "x")
    for n in range(LIMIT):
        attempt(f"198.51.101.{n + 1}", "ines", "wrong-guess")
    _, known = attempt("192.0.2.91", "ines", "x")
    assert unknown.status_code == known.status_code == 429
    assert refusal_text(unknown) == refusal_text(known)


def test_wrong_second_factor_codes_count_and_a_paused_account_refuses_even_the_right_code():
    user = make_staff("ines")
    secret = generate_totp_secret()
    TOTP.activate(user, secret)
    client = Client(REMOTE_ADDR="192.0.2.30")
    client.post("/admin/login/?next=/admin/", {"username": "ines", "password": PASSWORD})
    right = pyotp.TOTP(secret).now()
    wrong = f"{(int(right) + 1) % 1_000_000:06d}"
    statuses = [client.post("/accounts/2fa/authenticate/", {"code": wrong}).status_code for _ in range(LIMIT)]
    assert statuses[-1] == 429, statuses
    response = client.post("/accounts/2fa/authenticate/", {"code": right})
    assert response.status_code == 429
    assert "Too many failed sign-in attempts" in refusal_text(response)
    assert client.get("/admin/").status_code == 302
    # The username is paused everywhere, not just in this browser.
    _, elsewhere = attempt("192.0.2.31", "ines", PASSWORD)
    assert elsewhere.status_code == 429


def test_resetting_the_password_lifts_the_pause_on_that_username(
    immediate_tasks, django_capture_on_commit_callbacks
):
    make_staff("ines")
    for n in range(LIMIT):
        attempt(f"198.51.100.{n + 1}", "ines", "wrong-guess")
    assert attempt("192.0.2.40", "ines", PASSWORD)[1].status_code == 429
    client = Client(REMOTE_ADDR="192.0.2.40")
    request_reset(client, "ines@example.org", django_capture_on_commit_callbacks)
    reset_with_link(client, mail.outbox[-1].body, "another-long-pass-phrase-88")
    other, response = attempt("192.0.2.41", "ines", "another-long-pass-phrase-88")
    assert response.status_code == 302 and other.get("/admin/").status_code == 200


# --- Across processes: the real server with several workers ----------------------------------


def live_login(site: LiveSite, username: str, password: str, forwarded_for: str) -> int:
    """Sign in as a browser behind the trusted proxy would: read the form, send it back."""
    page = site.get("/admin/login/?next=/admin/", headers={"X-Forwarded-For": forwarded_for})
    cookies = SimpleCookie()
    for value in page.headers.get_all("Set-Cookie") or []:
        cookies.load(value)
    token = BeautifulSoup(page.body, "html.parser").select_one("input[name=csrfmiddlewaretoken]")["value"]
    response = site.post(
        "/accounts/login/",
        {"csrfmiddlewaretoken": token, "username": username, "password": password, "next": "/admin/"},
        headers={
            "X-Forwarded-For": forwarded_for,
            "Cookie": "; ".join(f"{k}={v.value}" for k, v in cookies.items()),
            "Referer": site.url("/admin/login/"),
        },
    )
    return response.status


@pytest.mark.skipif(needs_gunicorn() is not None, reason=str(needs_gunicorn()))
def test_the_pause_holds_across_gunicorn_workers(tmp_path):
    """Three workers, each request on a new connection: a count kept per process would let the
    right password through on a worker that saw fewer than five failures."""
    print(f"\n[lockout] live site on {which_database()}, 3 gunicorn workers")
    with LiveSite(tmp_path, workers=3, seed=False, env={"TRUSTED_PROXY_COUNT": "1"}) as site:
        site.manage(
            "shell",
            "-c",
            "from django.contrib.auth import get_user_model as g; U = g(); "
            f"[U.objects.create_user(n, n + '@example.org', '{PASSWORD}', is_staff=True) "
            "for n in ('ines', 'amara', 'victim')]",
        )
        failures = [live_login(site, "ines", "wrong-guess", f"198.51.100.{n + 1}") for n in range(LIMIT)]
        assert failures == [200] * (LIMIT - 1) + [429], failures  # the limit-th failure pauses
        by_username = [live_login(site, "ines", PASSWORD, f"192.0.2.{n + 1}") for n in range(8)]
        assert by_username == [429] * 8, by_username
        for name in ("amara", "victim", "nobody", "ghost", "x"):
            live_login(site, name, "wrong-guess", "203.0.113.99")
        by_address = [live_login(site, "victim", PASSWORD, "203.0.113.99") for _ in range(8)]
        assert by_address == [429] * 8, by_address
        assert live_login(site, "amara", PASSWORD, "192.0.2.200") == 302
