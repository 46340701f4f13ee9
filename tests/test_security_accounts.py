"""Admin login brute force (issue 11, case 14): django-axes pauses a client address, and a
username, after AXES_FAILURE_LIMIT failures (spraying: tests/test_accounts_lockout.py), and a
forged X-Forwarded-For header does not reset the count unless the site is configured to sit
behind a trusted proxy (TRUSTED_PROXY_COUNT)."""

from __future__ import annotations

import pytest
from django.conf import settings as django_settings
from django.contrib.auth import get_user_model
from django.test import Client

PASSWORD = "correct-horse-battery-9"


@pytest.fixture
def editor(db, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    return get_user_model().objects.create_user("editor", "editor@example.org", PASSWORD, is_staff=True)


def login(client: Client, password: str, **headers):
    return client.post(
        "/admin/login/?next=/admin/",
        {"username": "editor", "password": password, "next": "/admin/"},
        **headers,
    )


def is_logged_in(client: Client) -> bool:
    return client.get("/admin/").status_code == 200


def test_failure_limit_is_configured():
    assert django_settings.AXES_FAILURE_LIMIT == 5
    assert "axes.middleware.AxesMiddleware" in django_settings.MIDDLEWARE
    assert django_settings.AUTHENTICATION_BACKENDS[0] == "axes.backends.AxesStandaloneBackend"


def test_repeated_failures_lock_out_even_the_right_password(editor):
    client = Client(REMOTE_ADDR="203.0.113.7")
    for _ in range(django_settings.AXES_FAILURE_LIMIT - 1):
        response = login(client, "wrong")
        assert response.status_code == 200  # the form again, with an error
    assert login(client, "wrong").status_code in (403, 429)  # the limit-th failure locks
    locked = login(client, PASSWORD)
    assert locked.status_code in (403, 429)
    assert not is_logged_in(client)


def test_fewer_failures_than_the_limit_still_allow_the_right_password(editor):
    client = Client(REMOTE_ADDR="203.0.113.8")
    for _ in range(django_settings.AXES_FAILURE_LIMIT - 1):
        login(client, "wrong")
    assert login(client, PASSWORD).status_code == 302
    assert is_logged_in(client)


def test_a_spoofed_forwarded_for_header_does_not_bypass_the_lockout(editor):
    """With no trusted proxy, X-Forwarded-For is ignored: a new fake address per attempt still
    counts against the one real client address."""
    client = Client(REMOTE_ADDR="203.0.113.9")
    for n in range(django_settings.AXES_FAILURE_LIMIT):
        login(client, "wrong", HTTP_X_FORWARDED_FOR=f"198.51.100.{n}")
    locked = login(client, PASSWORD, HTTP_X_FORWARDED_FOR="198.51.100.200")
    assert locked.status_code in (403, 429)
    assert not is_logged_in(client)


def test_another_account_from_another_real_address_is_not_locked_out(editor):
    """The failures pause the attacker's address and the username they tried, nothing else."""
    get_user_model().objects.create_user("owner", "owner@example.org", PASSWORD, is_staff=True)
    attacker = Client(REMOTE_ADDR="203.0.113.10")
    for _ in range(django_settings.AXES_FAILURE_LIMIT):
        login(attacker, "wrong")
    owner = Client(REMOTE_ADDR="192.0.2.44")
    response = owner.post("/admin/login/?next=/admin/", {"username": "owner", "password": PASSWORD})
    assert response.status_code == 302


def test_behind_a_trusted_proxy_the_forwarded_address_is_the_client(editor, settings):
    """Found a bug: django-ipware is not installed, so axes ignored AXES_IPWARE_PROXY_COUNT and
    counted every attempt against the proxy's address; one attacker locked out the editor for
    all visitors. TRUSTED_PROXY_COUNT now feeds AXES_CLIENT_IP_CALLABLE (core.guards)."""
    settings.TRUSTED_PROXY_COUNT = 1
    get_user_model().objects.create_user("owner", "owner@example.org", PASSWORD, is_staff=True)
    proxy = "10.0.0.2"
    attacker = Client(REMOTE_ADDR=proxy, HTTP_X_FORWARDED_FOR="198.51.100.66")
    for _ in range(django_settings.AXES_FAILURE_LIMIT):
        attacker.post("/admin/login/?next=/admin/", {"username": "someone", "password": "wrong"})
    assert attacker.post(
        "/admin/login/?next=/admin/", {"username": "owner", "password": PASSWORD}
    ).status_code in (403, 429)
    owner = Client(REMOTE_ADDR=proxy, HTTP_X_FORWARDED_FOR="192.0.2.45")
    response = owner.post("/admin/login/?next=/admin/", {"username": "owner", "password": PASSWORD})
    assert response.status_code == 302


def test_behind_a_trusted_proxy_client_written_entries_are_ignored(editor, settings):
    """The client may prepend anything to X-Forwarded-For; only the proxy's own entry counts."""
    settings.TRUSTED_PROXY_COUNT = 1
    attacker = Client(REMOTE_ADDR="10.0.0.2")
    for n in range(django_settings.AXES_FAILURE_LIMIT):
        login(attacker, "wrong", HTTP_X_FORWARDED_FOR=f"1.2.3.{n}, 198.51.100.67")
    locked = login(attacker, PASSWORD, HTTP_X_FORWARDED_FOR="9.9.9.9, 198.51.100.67")
    assert locked.status_code in (403, 429)


def test_axes_asks_the_site_for_the_client_address():
    assert django_settings.AXES_CLIENT_IP_CALLABLE == "core.guards.client_ip"
    assert django_settings.TRUSTED_PROXY_COUNT == 0
