"""Password reset by email: the link works once and expires, the request is rate-limited, and no
answer (page, status, timing path, email count) reveals whether an account exists. Also: the
sessions list, where a staff user ends their other sessions, and a new password ends them all."""

from __future__ import annotations

import datetime as dt
import re

import pytest
import time_machine
from allauth.usersessions.models import UserSession
from bs4 import BeautifulSoup
from django.contrib.auth import get_user_model
from django.core import mail
from django.test import Client

pytestmark = pytest.mark.django_db

PASSWORD = "a-long-staff-pass-phrase-71"
NEW_PASSWORD = "another-long-pass-phrase-88"
RESET_LINK = re.compile(r"https?://[^/\s]+(/accounts/password/reset/key/\S+)")


@pytest.fixture(autouse=True)
def fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def oncommit(django_capture_on_commit_callbacks):
    return django_capture_on_commit_callbacks


@pytest.fixture
def ines(db):
    return get_user_model().objects.create_user("ines", "ines@example.org", PASSWORD, is_staff=True)


def request_reset(client: Client, email: str, capture):
    """Ask for a reset link; `capture` is oncommit (emails are queued
    after commit)."""
    with capture(execute=True):
        return client.post("/accounts/password/reset/", {"email": email})


def at(ip: str) -> Client:
    return Client(REMOTE_ADDR=ip)


def reset_with_link(client: Client, body: str, new_password: str):
    """Follow the emailed link as a browser would and set a new password; the final response."""
    path = RESET_LINK.search(body).group(1)
    page = client.get(path, follow=True)
    assert page.status_code == 200
    form_url = page.redirect_chain[-1][0] if page.redirect_chain else path
    return client.post(form_url, {"password1": new_password, "password2": new_password})


def sign_in(ip: str, username: str, password: str) -> Client:
    client = Client(REMOTE_ADDR=ip, HTTP_USER_AGENT=f"Browser at {ip}")
    client.post("/admin/login/?next=/admin/", {"username": username, "password": password})
    return client


def main_text(response) -> str:
    return BeautifulSoup(response.content, "html.parser").select_one("main").get_text(" ", strip=True)


def test_a_reset_link_by_email_sets_a_new_password(ines, immediate_tasks, oncommit):
    client = at("192.0.2.1")
    response = request_reset(client, "ines@example.org", oncommit)
    assert response.status_code == 302
    (message,) = mail.outbox
    assert message.to == ["ines@example.org"]
    assert "ines" in message.body
    done = reset_with_link(client, message.body, NEW_PASSWORD)
    assert done.status_code == 302
    assert sign_in("192.0.2.2", "ines", NEW_PASSWORD).get("/admin/").status_code == 200
    assert sign_in("192.0.2.3", "ines", PASSWORD).get("/admin/").status_code == 302


def test_the_link_uses_the_public_origin(ines, immediate_tasks, oncommit, settings):
    settings.SITE_SCHEME, settings.SITE_DOMAIN = "https", "blog.example.org"
    request_reset(at("192.0.2.1"), "ines@example.org", oncommit)
    assert "https://blog.example.org/accounts/password/reset/key/" in mail.outbox[0].body


def test_a_reset_link_works_once(ines, immediate_tasks, oncommit):
    client = at("192.0.2.1")
    request_reset(client, "ines@example.org", oncommit)
    body = mail.outbox[0].body
    reset_with_link(client, body, NEW_PASSWORD)
    path = RESET_LINK.search(body).group(1)
    replay = at("192.0.2.9")
    again = replay.get(path, follow=True)
    assert again.context["token_fail"] is True
    replay.post(path, {"password1": "third-pass-phrase-12", "password2": "third-pass-phrase-12"})
    ines.refresh_from_db()
    assert ines.check_password(NEW_PASSWORD)


def test_a_reset_link_expires(ines, immediate_tasks, oncommit, settings):
    assert settings.PASSWORD_RESET_TIMEOUT == 3600
    client = at("192.0.2.1")
    request_reset(client, "ines@example.org", oncommit)
    path = RESET_LINK.search(mail.outbox[0].body).group(1)
    with time_machine.travel(dt.datetime.now(dt.UTC) + dt.timedelta(hours=2)):
        page = at("192.0.2.1").get(path, follow=True)
    assert page.context["token_fail"] is True
    ines.refresh_from_db()
    assert ines.check_password(PASSWORD)


def test_reset_never_reveals_whether_an_account_exists(ines, immediate_tasks, oncommit):
    known = request_reset(at("192.0.2.1"), "ines@example.org", oncommit)
    unknown = request_reset(at("192.0.2.2"), "nobody@example.org", oncommit)
    assert known.status_code == unknown.status_code == 302
    assert known["Location"] == unknown["Location"]
    done_known = Client().get(known["Location"])
    assert main_text(done_known) == main_text(Client().get(unknown["Location"]))
    # Both addresses get one email (the unknown one says there is no account), so the work done
    # per request is the same; neither email reaches the other address.
    assert sorted(m.to[0] for m in mail.outbox) == ["ines@example.org", "nobody@example.org"]
    unknown_mail = next(m for m in mail.outbox if m.to == ["nobody@example.org"])
    assert not RESET_LINK.search(unknown_mail.body)


def test_reset_requests_are_rate_limited_per_address_and_per_email(ines, immediate_tasks, oncommit, settings):
    assert settings.PASSWORD_RESET_RATE_PER_EMAIL == 3
    statuses = [
        request_reset(at(f"192.0.2.{n}"), "ines@example.org", oncommit).status_code for n in range(1, 6)
    ]
    assert statuses == [302, 302, 302, 200, 200]
    assert len(mail.outbox) == 3
    limited = request_reset(at("192.0.2.50"), "ines@example.org", oncommit)
    assert "Too many password reset requests" in main_text(limited)
    # The same words for an address that has no account: the limit reveals nothing either.
    for n in range(1, 5):
        request_reset(at(f"192.0.2.{60 + n}"), "ghost@example.org", oncommit)
    ghost = request_reset(at("192.0.2.70"), "ghost@example.org", oncommit)
    assert main_text(ghost) == main_text(limited)

    settings.PASSWORD_RESET_RATE_PER_IP = 2
    one_address = at("198.51.100.1")
    answers = [request_reset(one_address, f"person{n}@example.org", oncommit).status_code for n in range(3)]
    assert answers == [302, 302, 200]


def test_reset_emails_go_out_from_the_worker_after_commit(ines, oncommit, settings):
    from django_tasks_db.models import DBTaskResult

    with oncommit(execute=True):
        at("192.0.2.1").post("/accounts/password/reset/", {"email": "ines@example.org"})
    assert mail.outbox == []  # not sent inside the request
    queued = DBTaskResult.objects.filter(task_path="accounts.tasks.send_account_email")
    assert queued.count() == 1


# --- Sessions --------------------------------------------------------------------------------


def test_a_staff_user_sees_their_sessions_and_ends_the_others(ines):
    laptop = sign_in("192.0.2.10", "ines", PASSWORD)
    phone = sign_in("198.51.100.20", "ines", PASSWORD)
    assert phone.get("/admin/").status_code == 200
    page = BeautifulSoup(laptop.get("/accounts/sessions/").content, "html.parser")
    listed = page.select_one("main").get_text(" ", strip=True)
    assert "192.0.2.10" in listed and "198.51.100.20" in listed
    assert UserSession.objects.filter(user=ines).count() == 2
    form = page.select_one("main form")
    token = form.select_one("input[name=csrfmiddlewaretoken]")["value"]
    response = laptop.post("/accounts/sessions/", {"csrfmiddlewaretoken": token})
    assert response.status_code == 302
    assert phone.get("/admin/").status_code == 302  # signed out
    assert laptop.get("/admin/").status_code == 200  # still in
    assert list(UserSession.objects.filter(user=ines).values_list("ip", flat=True)) == ["192.0.2.10"]


def test_changing_the_password_ends_the_other_sessions(ines):
    laptop = sign_in("192.0.2.10", "ines", PASSWORD)
    phone = sign_in("198.51.100.20", "ines", PASSWORD)
    response = laptop.post(
        "/accounts/password/change/",
        {"oldpassword": PASSWORD, "password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
    )
    assert response.status_code == 302
    assert phone.get("/admin/").status_code == 302
    assert laptop.get("/admin/").status_code == 200
    assert UserSession.objects.filter(user=ines).count() == 1


def test_resetting_the_password_ends_every_session(ines, immediate_tasks, oncommit):
    laptop = sign_in("192.0.2.10", "ines", PASSWORD)
    phone = sign_in("198.51.100.20", "ines", PASSWORD)
    anyone = at("203.0.113.5")
    request_reset(anyone, "ines@example.org", oncommit)
    reset_with_link(anyone, mail.outbox[-1].body, NEW_PASSWORD)
    assert laptop.get("/admin/").status_code == 302
    assert phone.get("/admin/").status_code == 302
    assert not UserSession.objects.filter(user=ines).exists()


def test_the_admin_password_page_is_the_one_that_ends_sessions(ines):
    laptop = sign_in("192.0.2.10", "ines", PASSWORD)
    response = laptop.get("/admin/password_change/")
    assert response.status_code == 302 and response["Location"] == "/accounts/password/change/"
