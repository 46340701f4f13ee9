"""Bad input on the newsletter's forms and links: a clear answer, no email, nothing stored."""

from __future__ import annotations

import pytest
from bs4 import BeautifulSoup
from django.core import mail, signing
from django.utils import timezone

from newsletter import services
from newsletter.models import Subscriber

pytestmark = pytest.mark.django_db


def soup(response):
    return BeautifulSoup(response.content, "html.parser")


@pytest.fixture
def post_now(client, django_capture_on_commit_callbacks, immediate_tasks):
    def post(data, **extra):
        with django_capture_on_commit_callbacks(execute=True):
            return client.post("/subscribe/email/", data, **extra)

    return post


@pytest.mark.parametrize(
    "email",
    [
        "not-an-address",
        "a@b",
        "x" * 250 + "@example.net",
        "ama@example.net\r\nBcc: victim@example.org",
        "ama@example.net\nSubject: hi",
        "",
    ],
    ids=["malformed", "no-tld", "huge", "crlf-header", "lf-header", "empty"],
)
def test_bad_addresses_are_refused_with_a_clear_message(post_now, email):
    response = post_now({"email": email})
    assert response.status_code == 400
    page = soup(response)
    assert page.select_one(".field-email .error").get_text(strip=True)
    assert page.select_one("#id_email")["aria-invalid"] == "true"
    assert mail.outbox == [] and not Subscriber.objects.exists()


def test_crlf_in_any_field_is_refused(post_now):
    for field, value in (
        ("frequency", "weekly\r\nBcc: x@example.org"),
        ("post_languages", "en\r\n"),
        ("content", "full\nX: y"),
        ("scope", "some\r\n"),
    ):
        response = post_now({"email": "ama@example.net", field: value})
        assert response.status_code == 400, field
    assert mail.outbox == [] and not Subscriber.objects.exists()


def test_honeypot_sends_nothing(post_now):
    response = post_now({"email": "ama@example.net", "website": "http://spam.example/"})
    assert response.status_code == 302
    assert mail.outbox == []


def test_flood_from_one_ip_and_to_one_address_is_rate_limited(post_now, settings):
    settings.NEWSLETTER_SUBSCRIBE_RATE_PER_IP = 3
    settings.NEWSLETTER_SUBSCRIBE_RATE_PER_ADDRESS = 2
    assert post_now({"email": "victim@example.net"}).status_code == 302
    assert post_now({"email": "victim@example.net"}).status_code == 302
    third = post_now({"email": "victim@example.net"}, REMOTE_ADDR="198.51.100.7")  # another IP
    assert third.status_code == 429 and third["Retry-After"]
    assert "Too many requests" in soup(third).select_one("[role=status]").get_text()
    assert [m.to for m in mail.outbox] == [["victim@example.net"]] * 2

    assert post_now({"email": "one@example.net"}).status_code == 302  # the IP's third request
    assert post_now({"email": "two@example.net"}).status_code == 429  # its fourth
    assert len(mail.outbox) == 3 and not Subscriber.objects.exists()


def _subscriber(email="ama@example.net"):
    return Subscriber.objects.create(email=email, confirmed_at=timezone.now())


@pytest.mark.parametrize("kind", ["manage", "unsubscribe"])
def test_forged_expired_and_stale_links_get_a_clear_page(client, kind, time_machine):
    subscriber = _subscriber()
    key = services.subscriber_key(subscriber=subscriber)
    base = f"/subscribe/{kind}/"

    forged = client.get(f"{base}{key[:-3]}abc/")
    assert forged.status_code == 400
    assert "not valid" in soup(forged).select_one("[role=status]").get_text()
    assert soup(forged).select_one("a[href='/subscribe/manage/']")

    other = signing.dumps({"s": subscriber.pk, "t": "0" * 16}, salt=services.LINK_SALT)
    assert client.get(f"{base}{other}/").status_code == 404  # signed, but not this subscription

    assert client.post(f"{base}{key[:-3]}abc/", {"List-Unsubscribe": "One-Click"}).status_code == 400
    assert Subscriber.objects.filter(pk=subscriber.pk).exists()

    time_machine.move_to(timezone.now() + timezone.timedelta(days=366))
    expired = client.get(f"{base}{key}/")
    assert expired.status_code == 410
    assert "expired" in soup(expired).select_one("[role=status]").get_text()
    assert Subscriber.objects.filter(pk=subscriber.pk).exists()


def test_forged_and_expired_confirmation_links_store_nothing(client, time_machine):
    key = services.confirmation_key(choices=services.Choices(email="ama@example.net", post_languages=["en"]))
    assert client.post(f"/subscribe/confirm/{key}x/").status_code == 400
    tampered = signing.dumps(
        {"email": "ama@example.net", "post_languages": ["en"], "frequency": "hourly"},
        salt=services.CONFIRM_SALT,
    )
    assert client.post(f"/subscribe/confirm/{tampered}/").status_code == 400
    time_machine.move_to(timezone.now() + timezone.timedelta(days=4))
    assert client.post(f"/subscribe/confirm/{key}/").status_code == 410
    assert client.get(f"/subscribe/confirm/{key}/").status_code == 410
    assert not Subscriber.objects.exists()


def test_manage_link_request_never_says_whether_an_address_is_subscribed(
    client, django_capture_on_commit_callbacks, immediate_tasks
):
    _subscriber("ama@example.net")
    with django_capture_on_commit_callbacks(execute=True):
        yes = client.post("/subscribe/manage/", {"email": "ama@example.net"})
        no = client.post("/subscribe/manage/", {"email": "nobody@example.net"})
    assert yes.status_code == no.status_code == 302 and yes["Location"] == no["Location"]
    assert [m.to for m in mail.outbox] == [["ama@example.net"]]
    assert "/subscribe/manage/" in mail.outbox[0].body
    assert client.post("/subscribe/manage/", {"email": "bad\r\naddress"}).status_code == 400


def test_the_email_form_lives_on_the_subscribe_page_with_the_other_ways_to_follow(client):
    page = soup(client.get("/subscribe/"))
    assert page.select_one("section#email form.subscribe-form")["action"] == "/subscribe/email/"
    assert page.select_one("section#feeds a[href='/feed/']")
    assert client.get("/subscribe/email/")["Location"] == "/subscribe/#email"
