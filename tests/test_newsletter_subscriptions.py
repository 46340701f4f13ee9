"""Subscriptions to new posts, end to end through a real SMTP server (aiosmtpd on loopback):
sign up without JavaScript, confirm, publish, exactly one email, one-click unsubscribe (RFC 8058),
and no more email after it."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from bs4 import BeautifulSoup
from django.utils import timezone

from newsletter.models import Delivery, Subscriber
from posts.models import Post
from tests import factories

pytestmark = pytest.mark.django_db


def soup(response):
    return BeautifulSoup(response.content, "html.parser")


def form_fields(page, selector: str) -> dict:
    form = page.select_one(selector)
    data = {}
    for field in form.select("input, select, textarea"):
        name = field.get("name")
        if not name:
            continue
        kind = field.get("type", "text")
        if kind in ("checkbox", "radio"):
            if field.has_attr("checked"):
                data.setdefault(name, []).append(field.get("value", "on"))
        else:
            data[name] = field.get("value", "")
    return data


def text_part(received) -> str:
    return received.message.get_body(preferencelist=("plain",)).get_content()


def html_part(received) -> str:
    return received.message.get_body(preferencelist=("html",)).get_content()


def link(text: str, path_part: str) -> str:
    match = re.search(rf"https?://[^\s<>\"]+{re.escape(path_part)}[^\s<>\"]+/", text)
    assert match, text
    return urlsplit(match.group(0)).path


def subscribe(client, smtp, email: str, run, **choices) -> str:
    """Sign up through the /subscribe/ page's form and return the confirmation link's path."""
    page = soup(client.get("/subscribe/"))
    data = form_fields(page, "form.subscribe-form")
    data.update(email=email, **choices)
    with run():
        response = client.post("/subscribe/", data)
    assert response.status_code == 302, response.content[:600]
    [message] = smtp.to(email)
    smtp.messages.remove(message)
    return link(text_part(message), "/subscribe/confirm/")


def publish(post_factory_kwargs: dict, run) -> Post:
    with run():
        return factories.PostFactory(
            published_at=timezone.now() - timezone.timedelta(minutes=1), **post_factory_kwargs
        )


@pytest.fixture
def run(django_capture_on_commit_callbacks, immediate_tasks):
    """Run what a request or save queued after commit, with tasks inline."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


def test_subscribe_confirm_publish_one_email_then_one_click_unsubscribe(client, smtp_server, run):
    confirm = subscribe(client, smtp_server, "ama@example.net", run)
    assert not Subscriber.objects.exists()  # nothing stored before confirmation

    page = client.get(confirm)  # a mail scanner opening the link subscribes nobody
    assert page.status_code == 200 and not Subscriber.objects.exists()
    done = client.post(confirm)
    assert done.status_code == 200
    assert "subscribed" in soup(done).select_one("[data-state]")["data-state"]
    subscriber = Subscriber.objects.get()
    assert (subscriber.email, subscriber.languages, subscriber.frequency) == (
        "ama@example.net",
        ["en"],
        "immediate",
    )

    post = publish(
        {"title": "Pumps that last", "body": "Text with [a link](/about/) and ![a pump](/media/p.png)."}, run
    )
    [received] = smtp_server.to("ama@example.net")
    message = received.message
    assert message["Subject"] == "Pumps that last"
    assert message["List-Id"].endswith("<posts.127.0.0.1>")
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    unsubscribe = urlsplit(message["List-Unsubscribe"].strip("<>")).path
    html = html_part(received)
    assert 'href="http://127.0.0.1:8000/about/"' in html and 'src="http://127.0.0.1:8000/media/p.png"' in html
    assert f"http://127.0.0.1:8000{post.get_absolute_url()}" in text_part(received)
    assert Delivery.objects.get().state == Delivery.State.SENT

    # Publishing again (update, unpublish and publish) sends nothing more.
    with run():
        post.status = Post.Status.DRAFT
        post.save()
        post.status = Post.Status.PUBLISHED
        post.published_at = timezone.now()
        post.save()
    assert len(smtp_server.to("ama@example.net")) == 1

    # RFC 8058: a mail client POSTs List-Unsubscribe=One-Click, without cookies or CSRF token.
    from django.test import Client

    one_click = Client(enforce_csrf_checks=True).post(unsubscribe, {"List-Unsubscribe": "One-Click"})
    assert one_click.status_code == 200
    assert not Subscriber.objects.exists() and not Delivery.objects.exists()

    publish({"title": "After unsubscribing"}, run)
    assert len(smtp_server.to("ama@example.net")) == 1
