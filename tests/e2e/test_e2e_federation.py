"""The fediverse in the browser: a reply that arrived through the real inbox (signed by a loopback
peer) nested under a reader's comment, the author's answer under it, the likes and boosts row,
and the handles on the subscribe and author pages; axe and vnu find nothing on them."""

from __future__ import annotations

import json
import urllib.request
from urllib.parse import urlsplit

import pytest

from comments.models import Comment
from tests.e2e.conftest import audit, run_worker, seed_comment
from tests.interop.activitypub_peer import PUBLIC, Peer


@pytest.fixture
def peer(settings):
    with Peer() as running:
        settings.FEDERATION_ALLOWED_HOSTS = [running.host]
        running.actor("ana", with_icon=True)
        running.actor("bo")
        yield running


def send(live_server, peer: Peer, name: str, activity: dict) -> int:
    host = urlsplit(live_server.url).netloc
    body, headers = peer.signed(name, activity, host=host, path="/inbox")
    request = urllib.request.Request(live_server.url + "/inbox", data=body, method="POST", headers=headers)
    with urllib.request.urlopen(request, timeout=30) as response:
        return response.status


def test_a_fediverse_reply_nests_under_a_comment_with_the_answer_and_likes(
    open_page, live_server, site, peer, settings
):
    from django.contrib.auth import get_user_model

    from comments.services import answer_post

    settings.SITE_DOMAIN = urlsplit(live_server.url).netloc
    settings.SITE_SCHEME = "http"
    settings.COMMENTS_HOLD_FIRST_FEDIVERSE_REPLY = False
    post = site
    local = seed_comment(post)
    comment_url = f"{live_server.url}{local.get_absolute_url()}"
    post_url = f"{live_server.url}{post.get_absolute_url()}"
    note_id = peer.url("/users/ana/statuses/1")
    reply = {
        "id": peer.new_id("ana"),
        "type": "Create",
        "actor": peer.actor_id("ana"),
        "object": {
            "id": note_id,
            "type": "Note",
            "attributedTo": peer.actor_id("ana"),
            "inReplyTo": comment_url,
            "content": "<p>We tried monthly write-ups too; <strong>they stuck</strong>.</p>",
            "url": peer.url("/@ana/1"),
            "to": [PUBLIC],
        },
    }
    assert send(live_server, peer, "ana", reply) == 202
    for name, kind in (("ana", "Like"), ("bo", "Like"), ("bo", "Announce")):
        activity = {"id": peer.new_id(name), "type": kind, "actor": peer.actor_id(name), "object": post_url}
        assert send(live_server, peer, name, activity) == 202
    run_worker()  # the worker copies Ana's avatar into our storage
    remote = Comment.objects.get(kind="fediverse")
    author = get_user_model().objects.get(username=post.authorships.first().user.username)
    answer = answer_post(parent=remote, user=author, text="Glad to hear it, Ana!").comment
    run_worker()  # ... and sends the answer to her server
    sent = [json.loads(r.body) for r in peer.inbox_posts]
    assert any(a["type"] == "Create" and a["object"]["inReplyTo"] == note_id for a in sent)

    page = open_page(bypass_csp=True)
    response = page.goto(live_server.url + post.get_absolute_url())
    assert response.status == 200
    nested = page.locator(f"li#c{local.pk} > ol.children > li#c{remote.pk}")
    assert (
        nested.locator("> article .comment-body").inner_text().strip()
        == "We tried monthly write-ups too; they stuck."
    )
    assert nested.locator(".comment-handle").first.inner_text() == remote.author_handle
    assert nested.locator(".comment-origin").first.get_attribute("href") == peer.url("/@ana/1")
    avatar = nested.locator("img.avatar").first.get_attribute("src")
    assert avatar.startswith("/media/fediverse/avatars/")  # stored here, never hot-linked
    reply_answer = page.locator(f"li#c{remote.pk} > ol.children > li#c{answer.pk}")
    assert "Glad to hear it, Ana!" in reply_answer.locator(".comment-body").inner_text()
    row = page.locator("#comments .reactions")
    assert row.locator(".reaction-likes .count").inner_text() == "2"
    assert row.locator(".reaction-likes a").all_inner_texts() == ["Ana Peer", "Bo Peer"]
    assert row.locator(".reaction-boosts a").all_inner_texts() == ["Bo Peer"]
    page.screenshot(path="var/e2e/fediverse-thread.png", full_page=True)
    problems = {}
    for label, path in (
        ("post with a fediverse reply, an answer and likes", post.get_absolute_url()),
        ("subscribe page with handles", "/subscribe/"),
        ("author page with a handle", "/author/amara/"),
    ):
        response = page.goto(live_server.url + path)
        violations, errors = audit(page, label, response.text())
        if violations or errors:
            problems[label] = ([v["id"] for v in violations], [e["message"] for e in errors])
    assert problems == {}


def test_the_copy_button_copies_the_handle(open_page, live_server, site, settings):
    settings.SITE_DOMAIN = urlsplit(live_server.url).netloc
    page = open_page(permissions=["clipboard-read", "clipboard-write"])
    page.goto(live_server.url + "/subscribe/")
    button = page.locator(".fediverse-handle button.copy-link").first
    button.click()
    handle = f"@blog@{settings.SITE_DOMAIN}"
    from playwright.sync_api import expect

    expect(page.locator(".fediverse-handle .copy-status").first).to_have_text("Handle copied")
    assert page.evaluate("navigator.clipboard.readText()") == handle
