"""Webmention receiving: synchronous validation, queued verification, status URL, ronkyuu interop."""

from __future__ import annotations

import datetime as dt

import pytest
import requests
import ronkyuu
from bs4 import BeautifulSoup
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from comments.linkbacks.tasks import reverify_webmentions, verify_webmention
from comments.models import Comment, IncomingWebmention
from tests import factories
from tests.interop.loopback import LoopbackHTTP, Reply
from tests.interop.worker import run_worker


@pytest.fixture
def source_server(settings):
    with LoopbackHTTP() as server:
        settings.LINKBACK_ALLOWED_HOSTS = [server.host]
        yield server


@pytest.fixture
def on_site(settings):
    settings.SITE_DOMAIN = "testserver"
    settings.LINKBACK_HOLD_FIRST_FROM_SOURCE = False


def _page(target: str, title: str = "Un artículo") -> bytes:
    return (
        f"<html><head><title>{title}</title></head><body><div class='h-entry'>"
        "<p class='p-author h-card'><a class='u-url p-name' href='https://blog.example/'>Lucía Pérez</a>"
        "<img class='u-photo' src='https://blog.example/me.jpg' alt=''></p>"
        f"<div class='e-content'><p>Leímos <a href='{target}'>esta entrada</a> con interés.</p></div>"
        "</div></body></html>"
    ).encode()


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        ({"target": "http://testserver/x/"}, "required"),
        ({"source": "ftp://a.example/", "target": "http://testserver/x/"}, "source must be an http"),
        ({"source": "http://a.example/", "target": "javascript:alert(1)"}, "target must be an http"),
        ({"source": "http://testserver/a/#x", "target": "http://testserver/a/"}, "different"),
        ({"source": "http://a.example/", "target": "http://other.example/2020/01/01/x/"}, "not on this site"),
        ({"source": "http://a.example/", "target": "http://testserver/2020/01/01/none/"}, "does not exist"),
    ],
)
def test_invalid_requests_get_400_with_a_reason(client, db, on_site, data, reason):
    response = client.post("/webmention/", data)
    assert response.status_code == 400
    assert reason in response.content.decode()
    assert not IncomingWebmention.objects.exists()


def test_closed_post_and_draft_are_refused(client, db, on_site):
    closed = factories.PostFactory(allow_pings=False)
    draft = factories.PostFactory(status="draft", published_at=None)
    for post in (closed, draft):
        response = client.post(
            "/webmention/",
            {"source": "http://a.example/", "target": "http://testserver" + post.get_absolute_url()},
        )
        assert response.status_code == 400


def test_valid_request_is_queued_with_201_and_a_status_url(
    client, db, on_site, source_server, django_capture_on_commit_callbacks
):
    post = factories.PostFactory()
    target = "http://testserver" + post.get_absolute_url()
    source_server.routes["/es"] = Reply(
        body=_page(target).decode().encode("latin-1", "replace"), content_type="text/html; charset=ISO-8859-1"
    )
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/webmention/", {"source": source_server.url("/es"), "target": target})
    assert response.status_code == 201
    assert source_server.requests == []  # never fetched in the request thread
    status_url = response["Location"]
    assert status_url.startswith("http://testserver/webmention/")
    status = BeautifulSoup(client.get(status_url).content, "html.parser")
    assert status.find(attrs={"data-status": True})["data-status"] == "pending"

    task = DBTaskResult.objects.get(task_path__endswith="verify_webmention")
    verify_webmention.call(*task.args_kwargs["args"])

    status = BeautifulSoup(client.get(status_url).content, "html.parser")
    assert status.find(attrs={"data-status": True})["data-status"] == "accepted"
    mention = Comment.objects.get(post=post, kind="webmention")
    assert mention.source_title == "Un artículo"
    assert mention.excerpt == "Leímos esta entrada con interés."
    assert mention.user_name == "Lucía Pérez"
    assert mention.author_avatar_url == "https://blog.example/me.jpg"
    assert len(source_server.requests) == 1


def test_removed_link_and_410_remove_the_mention(client, db, on_site, source_server):
    post = factories.PostFactory()
    target = "http://testserver" + post.get_absolute_url()
    source_server.routes["/a"] = Reply(body=_page(target))
    incoming = IncomingWebmention.objects.create(source=source_server.url("/a"), target=target)
    verify_webmention.call(incoming.pk)
    assert Comment.objects.get(post=post).is_removed is False

    source_server.routes["/a"] = Reply(body=b"<p>the link is gone</p>")
    again = IncomingWebmention.objects.create(source=source_server.url("/a"), target=target)
    verify_webmention.call(again.pk)
    again.refresh_from_db()
    assert again.status == "rejected" and "removed" in again.reason
    assert Comment.objects.get(post=post).is_removed is True

    source_server.routes["/a"] = Reply(body=_page(target))
    verify_webmention.call(
        IncomingWebmention.objects.create(source=source_server.url("/a"), target=target).pk
    )
    assert Comment.objects.filter(post=post).count() == 1 and not Comment.objects.get(post=post).is_removed

    source_server.routes["/a"] = Reply(410, b"gone")
    Comment.objects.filter(post=post).update(verified_at=timezone.now() - dt.timedelta(days=60))
    assert reverify_webmentions.call() == 1
    assert Comment.objects.get(post=post).is_removed is True


def test_first_mention_from_a_host_is_held_then_later_ones_follow_approval(
    client, db, source_server, settings
):
    settings.SITE_DOMAIN = "testserver"
    first, second = factories.PostFactory(), factories.PostFactory()
    for post in (first, second):
        source_server.routes[f"/{post.pk}"] = Reply(body=_page("http://testserver" + post.get_absolute_url()))
    incoming = IncomingWebmention.objects.create(
        source=source_server.url(f"/{first.pk}"), target="http://testserver" + first.get_absolute_url()
    )
    verify_webmention.call(incoming.pk)
    held = Comment.objects.get(post=first)
    assert held.is_public is False
    held.is_public = True
    held.save()
    incoming = IncomingWebmention.objects.create(
        source=source_server.url(f"/{second.pk}"), target="http://testserver" + second.get_absolute_url()
    )
    verify_webmention.call(incoming.pk)
    assert Comment.objects.get(post=second).is_public is True


@pytest.mark.django_db(transaction=True)
def test_ronkyuu_sends_a_webmention_that_ends_accepted_on_the_post_page(live_server, settings, source_server):
    """Interop: ronkyuu (a third-party sender) discovers our endpoint and posts to it; a real
    db_worker pass verifies it; the mention shows on the post page."""
    settings.SITE_DOMAIN = live_server.url.split("://", 1)[1]
    settings.LINKBACK_HOLD_FIRST_FROM_SOURCE = False
    post = factories.PostFactory()
    target = live_server.url + post.get_absolute_url()
    source_server.routes["/post"] = Reply(body=_page(target, title="Ronkyuu source"))

    result = ronkyuu.sendWebmention(source_server.url("/post"), target, test_urls=False, timeout=5)

    assert result is not None and result.status_code == 201
    mode = run_worker()
    print("worker ran", mode)
    incoming = IncomingWebmention.objects.get()
    assert incoming.status == "accepted"

    page = BeautifulSoup(requests.get(target, timeout=5).content, "html.parser")
    assert "esta entrada" in page.get_text()
    source_link = page.find("a", href=source_server.url("/post"))
    assert source_link is not None and source_link.get_text() == "Ronkyuu source"


def test_accepting_a_webmention_starts_the_daily_reverification_chain(db, on_site, source_server):
    post = factories.PostFactory()
    target = "http://testserver" + post.get_absolute_url()
    source_server.routes["/a"] = Reply(body=_page(target))
    for _ in range(2):
        verify_webmention.call(
            IncomingWebmention.objects.create(source=source_server.url("/a"), target=target).pk
        )
    queued = DBTaskResult.objects.filter(task_path__endswith="reverify_webmentions")
    assert queued.count() == 1
    assert queued.get().run_after > timezone.now() + dt.timedelta(hours=23)
    reverify_webmentions.call()  # the run queues the next one
    assert queued.count() == 2


@pytest.mark.parametrize(
    "source",
    ["http://a.example/\x00x", "http://a.example/\r\nSet-Cookie: x=1", "http://a.example/" + "a" * 10_000],
)
def test_nul_crlf_and_huge_urls_are_400_not_500(client, db, on_site, source):
    post = factories.PostFactory()
    response = client.post(
        "/webmention/", {"source": source, "target": "http://testserver" + post.get_absolute_url()}
    )
    assert response.status_code == 400
    assert not IncomingWebmention.objects.exists()


def test_control_and_bidi_characters_are_stripped_from_stored_text(db, on_site, source_server):
    post = factories.PostFactory()
    target = "http://testserver" + post.get_absolute_url()
    body = _page(target, title="Tí\u202etle\x01").replace("Lucía Pérez".encode(), "Lu\u202ecía\x07".encode())
    source_server.routes["/b"] = Reply(body=body)
    verify_webmention.call(
        IncomingWebmention.objects.create(source=source_server.url("/b"), target=target).pk
    )
    mention = Comment.objects.get(post=post)
    assert mention.source_title == "Títle" and mention.user_name == "Lucía"


def test_endpoint_query_counts_are_fixed(client, db, on_site, django_assert_num_queries):
    post = factories.PostFactory()
    target = "http://testserver" + post.get_absolute_url()
    # ATOMIC_REQUESTS wraps each request in a savepoint here (SAVEPOINT + RELEASE: 2 queries).
    with django_assert_num_queries(2):  # no such URL: no lookup at all
        assert (
            client.post("/webmention/", {"source": "http://a.example/", "target": target + "x/"}).status_code
            == 400
        )
    with django_assert_num_queries(3):  # the target post lookup
        bad = client.post(
            "/webmention/", {"source": "http://a.example/", "target": target.replace("/20", "/19", 1)}
        )
        assert bad.status_code == 400
    # The target post lookup; the rate-limit counters (one upsert, and the purge of expired
    # counters that follows a new window: core/ratelimit.py); then the queued row.
    with django_assert_num_queries(6):
        assert (
            client.post("/webmention/", {"source": "http://a.example/", "target": target}).status_code == 201
        )
