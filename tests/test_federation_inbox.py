"""The inbox: signed requests from a real peer on loopback (its actor documents are fetched over
HTTP through fetch.py), follows, fediverse replies in the thread, likes and boosts, and every kind
of bad input answered with the right status and nothing stored."""

from __future__ import annotations

import json
import time

import pytest
from bs4 import BeautifulSoup
from django.utils.http import http_date

from comments.models import Comment
from federation.models import (
    ActorBlock,
    DomainBlock,
    Follower,
    InboxReceipt,
    Reaction,
    RemoteActor,
    RemoteNote,
    Report,
)
from tests import factories
from tests.interop.activitypub_peer import PUBLIC, Peer, client_headers

BLOG = "http://testserver/"


@pytest.fixture
def peer(settings):
    with Peer() as running:
        settings.FEDERATION_ALLOWED_HOSTS = [running.host]
        running.actor("ana")
        yield running


@pytest.fixture
def blog(db, settings, immediate_tasks):
    settings.SITE_DOMAIN = "testserver"
    settings.SITE_SCHEME = "http"
    settings.COMMENTS_HOLD_FIRST_FEDIVERSE_REPLY = False
    amara = factories.UserFactory(username="amara", first_name="Amara", last_name="Okafor")
    post = factories.PostFactory(authors=[amara], title="Pumps that last")
    return {"post": post, "amara": amara, "url": f"http://testserver{post.get_absolute_url()}"}


def deliver(client, peer, name, activity, *, path="/inbox", **kwargs):
    body, headers = peer.signed(name, activity, path=path, **kwargs)
    return client.post(path, body, content_type="application/activity+json", **client_headers(headers))


def note(peer, name, in_reply_to, content="<p>Great post!</p>", **extra):
    note_id = peer.url(f"/users/{name}/statuses/{time.time_ns()}")
    return {
        "id": note_id,
        "type": "Note",
        "attributedTo": peer.actor_id(name),
        "inReplyTo": in_reply_to,
        "content": content,
        "url": note_id.replace("/users/", "/@"),
        "published": "2026-12-01T10:00:00Z",
        "to": [PUBLIC],
        "cc": [peer.url(f"/users/{name}/followers")],
        **extra,
    }


def create(peer, name, obj):
    return {"id": peer.new_id(name), "type": "Create", "actor": peer.actor_id(name), "object": obj}


def stored_nothing():
    return (
        not Comment.objects.filter(kind="fediverse").exists()
        and not Follower.objects.exists()
        and not Reaction.objects.exists()
        and not InboxReceipt.objects.exists()
    )


# --- follows ---------------------------------------------------------------------------------------


def test_follow_is_accepted_and_the_accept_is_delivered_signed(
    client, blog, peer, django_capture_on_commit_callbacks
):
    follow = {"id": peer.new_id("ana"), "type": "Follow", "actor": peer.actor_id("ana"), "object": BLOG}
    with django_capture_on_commit_callbacks(execute=True):
        response = deliver(client, peer, "ana", follow)
    assert response.status_code == 202
    follower = Follower.objects.get()
    assert follower.owner == "blog" and follower.state == "accepted"
    assert follower.actor.handle == f"@ana@{peer.host.split(':')[0]}"
    accept = peer.received("Accept")[0]
    assert accept["object"]["id"] == follow["id"] and accept["actor"] == BLOG
    recorded = peer.inbox_posts[0]
    assert recorded.path == "/users/ana/inbox"
    from federation.keys import actor_key

    assert peer.verify_delivery(recorded, actor_key("blog").public_pem) == "http://testserver/#main-key"
    # Undo{Follow} removes it.
    undo = {"id": peer.new_id("ana"), "type": "Undo", "actor": peer.actor_id("ana"), "object": follow}
    assert deliver(client, peer, "ana", undo).status_code == 202
    assert not Follower.objects.exists()


def test_follows_wait_for_approval_when_the_blog_says_so(
    client, blog, peer, settings, django_capture_on_commit_callbacks
):
    settings.FEDERATION_MANUAL_APPROVAL = True
    follow = {"id": peer.new_id("ana"), "type": "Follow", "actor": peer.actor_id("ana"), "object": BLOG}
    with django_capture_on_commit_callbacks(execute=True):
        assert deliver(client, peer, "ana", follow).status_code == 202
    assert Follower.objects.get().state == "pending"
    assert peer.received("Accept") == []
    assert (
        client.get("/", HTTP_ACCEPT="application/activity+json").json()["manuallyApprovesFollowers"] is True
    )


def test_a_follow_flood_from_one_domain_is_rate_limited(client, blog, peer, settings):
    settings.FEDERATION_FOLLOWS_PER_DOMAIN = 3
    statuses = []
    for index in range(5):
        name = f"bot{index}"
        peer.actor(name)
        follow = {"id": peer.new_id(name), "type": "Follow", "actor": peer.actor_id(name), "object": BLOG}
        statuses.append(deliver(client, peer, name, follow).status_code)
    assert statuses == [202, 202, 202, 429, 429]
    assert Follower.objects.count() == 3


# --- replies -----------------------------------------------------------------------------------------


def test_a_reply_to_the_post_joins_its_thread(client, blog, peer, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = deliver(client, peer, "ana", create(peer, "ana", note(peer, "ana", blog["url"])))
    assert response.status_code == 202, response.content
    reply = Comment.objects.get(kind="fediverse")
    assert reply.is_public and reply.post == blog["post"]
    assert reply.author_handle == f"@ana@{peer.host.split(':')[0]}"
    assert reply.user_name == "Ana Peer"
    page = BeautifulSoup(client.get(blog["post"].get_absolute_url()).content, "html.parser")
    item = page.select_one(f"li#c{reply.pk}")
    assert "kind-fediverse" in item["class"]
    assert item.select_one(".comment-body").get_text(strip=True) == "Great post!"
    assert item.select_one(".comment-handle").get_text() == reply.author_handle
    assert item.select_one(".comment-origin")["href"] == reply.source_url


def test_replies_nest_under_the_exact_item(client, blog, peer, make_comment):
    local = make_comment(blog["post"], user_name="Reader One")
    comment_url = f"http://testserver{local.get_absolute_url()}"
    first = note(peer, "ana", comment_url, "<p>Answering the reader</p>")
    assert deliver(client, peer, "ana", create(peer, "ana", first)).status_code == 202
    reply = Comment.objects.get(kind="fediverse")
    assert reply.parent_id == local.pk and reply.level == 1
    second = note(peer, "ana", first["id"], "<p>And a follow-up</p>")
    assert deliver(client, peer, "ana", create(peer, "ana", second)).status_code == 202
    nested = Comment.objects.filter(kind="fediverse").exclude(pk=reply.pk).get()
    assert nested.parent_id == reply.pk and nested.level == 2
    page = BeautifulSoup(client.get(blog["post"].get_absolute_url()).content, "html.parser")
    assert page.select_one(f"li#c{local.pk} > ol.children > li#c{reply.pk} > ol.children > li#c{nested.pk}")


def test_edits_and_deletes(client, blog, peer):
    original = note(peer, "ana", blog["url"], "<p>First words</p>")
    deliver(client, peer, "ana", create(peer, "ana", original))
    edited = {**original, "content": "<p>Better words</p>"}
    update = {"id": peer.new_id("ana"), "type": "Update", "actor": peer.actor_id("ana"), "object": edited}
    assert deliver(client, peer, "ana", update).status_code == 202
    reply = Comment.objects.get(kind="fediverse")
    assert "Better words" in reply.body_html and reply.is_public
    delete = {
        "id": peer.new_id("ana"),
        "type": "Delete",
        "actor": peer.actor_id("ana"),
        "object": {"id": original["id"], "type": "Tombstone"},
    }
    assert deliver(client, peer, "ana", delete).status_code == 202
    assert not Comment.objects.filter(kind="fediverse").exists()
    assert not RemoteNote.objects.exists()


def test_the_first_reply_of_a_sender_is_held_and_an_edit_goes_back_through_moderation(
    client, blog, peer, settings
):
    settings.COMMENTS_HOLD_FIRST_FEDIVERSE_REPLY = True
    settings.COMMENTS_MODERATION_WORDS = ["casino"]
    original = note(peer, "ana", blog["url"], "<p>Visit my casino</p>")
    deliver(client, peer, "ana", create(peer, "ana", original))
    reply = Comment.objects.get(kind="fediverse")
    assert not reply.is_public and reply.hold_reason
    assert "casino" not in client.get(blog["post"].get_absolute_url()).content.decode()
    settings.COMMENTS_HOLD_FIRST_FEDIVERSE_REPLY = False
    edited = {**original, "content": "<p>Sorry, I meant: nice pumps</p>"}
    update = {"id": peer.new_id("ana"), "type": "Update", "actor": peer.actor_id("ana"), "object": edited}
    deliver(client, peer, "ana", update)
    reply.refresh_from_db()
    assert reply.is_public and "nice pumps" in reply.body_html


def test_hostile_html_is_sanitized_and_mentions_become_plain_links(client, blog, peer):
    hostile = (
        '<p><span class="h-card"><a href="http://testserver/" class="u-url mention">'
        "@<span>blog</span></a></span> "
        '<script>alert(1)</script><img src=x onerror=alert(2)><a href="javascript:alert(3)">x</a>'
        '<a href="https://m.example/tags/water" class="mention hashtag" rel="tag">#<span>water</span></a>'
        '<iframe src="https://evil.example"></iframe><b style="color:red" onclick="x()">bold</b></p>'
    )
    assert (
        deliver(client, peer, "ana", create(peer, "ana", note(peer, "ana", blog["url"], hostile))).status_code
        == 202
    )
    reply = Comment.objects.get(kind="fediverse")
    for stored in (reply.comment, reply.body_html):
        for bad in ("<script", "onerror", "javascript:", "<iframe", "onclick", "style=", "<img", "class="):
            assert bad not in stored
    body = BeautifulSoup(reply.body_html, "html.parser")
    links = {a.get_text(): a.get("href") for a in body.select("a")}
    assert links["@blog"] == "http://testserver/"
    assert links["#water"] == "https://m.example/tags/water"
    assert all("nofollow" in a["rel"] for a in body.select("a[href]"))


def test_direct_messages_are_dropped(client, blog, peer):
    private = note(peer, "ana", blog["url"], "<p>Just for you</p>", to=[BLOG], cc=[])
    response = deliver(client, peer, "ana", create(peer, "ana", private))
    assert response.status_code == 202
    assert not Comment.objects.exists()
    assert "Just for you" not in client.get(blog["post"].get_absolute_url()).content.decode()


# --- likes and boosts ------------------------------------------------------------------------------


def test_likes_and_boosts_are_counted_shown_and_withdrawn(client, blog, peer):
    peer.actor("bo")
    like = {"id": peer.new_id("ana"), "type": "Like", "actor": peer.actor_id("ana"), "object": blog["url"]}
    boost = {"id": peer.new_id("bo"), "type": "Announce", "actor": peer.actor_id("bo"), "object": blog["url"]}
    assert deliver(client, peer, "ana", like).status_code == 202
    assert deliver(client, peer, "bo", boost).status_code == 202
    assert not Comment.objects.exists()  # never comments
    page = BeautifulSoup(client.get(blog["post"].get_absolute_url()).content, "html.parser")
    row = page.select_one("#comments .reactions")
    assert row.select_one(".reaction-likes a").get_text() == "Ana Peer"
    assert row.select_one(".reaction-likes a")["href"] == peer.url("/@ana")
    assert row.select_one(".reaction-boosts a").get_text() == "Bo Peer"
    undo = {"id": peer.new_id("ana"), "type": "Undo", "actor": peer.actor_id("ana"), "object": like}
    assert deliver(client, peer, "ana", undo).status_code == 202
    assert list(Reaction.objects.values_list("kind", flat=True)) == ["announce"]
    page = BeautifulSoup(client.get(blog["post"].get_absolute_url()).content, "html.parser")
    assert page.select_one(".reaction-likes") is None


def test_reports_are_stored_for_the_admin(client, blog, peer, admin_client):
    flag = {
        "id": peer.new_id("ana"),
        "type": "Flag",
        "actor": peer.actor_id("ana"),
        "object": [blog["url"]],
        "content": "This post is spam",
    }
    assert deliver(client, peer, "ana", flag).status_code == 202
    report = Report.objects.get()
    assert report.reported == [blog["url"]] and report.content == "This post is spam"
    assert "This post is spam" in admin_client.get("/admin/federation/report/").content.decode()


# --- bad input -------------------------------------------------------------------------------------


def test_unsigned_requests_are_refused(client, blog, peer):
    activity = create(peer, "ana", note(peer, "ana", blog["url"]))
    response = client.post("/inbox", json.dumps(activity), content_type="application/activity+json")
    assert response.status_code == 401
    assert stored_nothing()


def test_forged_signatures_are_refused(client, blog, peer):
    peer.actor("mallory")
    activity = create(peer, "ana", note(peer, "ana", blog["url"]))
    body, headers = peer.signed("ana", activity, key_name="mallory")
    # Mallory's key, but the keyId claims Ana's: the signature does not verify.
    headers["Signature"] = headers["Signature"].replace("/users/mallory#", "/users/ana#")
    response = client.post(
        "/inbox", body, content_type="application/activity+json", **client_headers(headers)
    )
    assert response.status_code == 401
    assert stored_nothing()


def test_a_signature_by_a_key_that_is_not_the_actors_is_refused(client, blog, peer):
    peer.actor("mallory")
    activity = create(peer, "ana", note(peer, "ana", blog["url"]))
    body, headers = peer.signed("ana", activity, key_name="mallory")  # a valid signature by Mallory
    response = client.post(
        "/inbox", body, content_type="application/activity+json", **client_headers(headers)
    )
    assert response.status_code == 401
    assert "not the actor" in response.json()["error"]
    assert not Comment.objects.exists()


def test_a_replayed_request_is_refused(client, blog, peer):
    activity = create(peer, "ana", note(peer, "ana", blog["url"]))
    body, headers = peer.signed("ana", activity)
    first = client.post("/inbox", body, content_type="application/activity+json", **client_headers(headers))
    again = client.post("/inbox", body, content_type="application/activity+json", **client_headers(headers))
    assert (first.status_code, again.status_code) == (202, 401)
    assert Comment.objects.count() == 1


def test_a_stale_date_is_refused(client, blog, peer):
    activity = create(peer, "ana", note(peer, "ana", blog["url"]))
    body = json.dumps(activity).encode()
    from apsig.draft.sign import Signer

    from federation.keys import load_private_key

    headers = Signer(
        headers={"Host": "testserver", "Date": http_date(time.time() - 7200)},
        private_key=load_private_key(peer.keys["ana"][0]),
        method="POST",
        url="http://testserver/inbox",
        key_id=f"{peer.actor_id('ana')}#main-key",
        body=body,
    ).sign()
    response = client.post(
        "/inbox", body, content_type="application/activity+json", **client_headers(headers)
    )
    assert response.status_code == 401
    assert stored_nothing()


def test_a_ten_megabyte_body_is_refused_unread(client, blog, peer):
    huge = b'{"type":"Create","pad":"' + b"x" * (10 * 1024 * 1024) + b'"}'
    body, headers = peer.signed("ana", {}, body=huge)
    response = client.post(
        "/inbox", body, content_type="application/activity+json", **client_headers(headers)
    )
    assert response.status_code == 413
    assert stored_nothing()


@pytest.mark.parametrize("payload", [b"[1, 2, 3]", b'"a string"', b"not json", b"null"])
def test_json_that_is_not_an_object_is_refused(client, blog, peer, payload):
    body, headers = peer.signed("ana", {}, body=payload)
    response = client.post(
        "/inbox", body, content_type="application/activity+json", **client_headers(headers)
    )
    assert response.status_code == 400
    assert stored_nothing()


def test_in_reply_to_another_site_or_a_draft_is_refused(
    client, blog, peer, django_capture_on_commit_callbacks
):
    draft = factories.PostFactory(authors=[blog["amara"]], status="draft", title="Unfinished")
    for target in (
        "https://elsewhere.example/2026/01/01/post/",
        f"http://testserver{draft.get_absolute_url()}",
    ):
        response = deliver(client, peer, "ana", create(peer, "ana", note(peer, "ana", target)))
        assert response.status_code == 422
    assert not Comment.objects.exists()


def test_blocked_domains_and_actors_are_refused(client, blog, peer):
    DomainBlock.objects.create(domain="127.0.0.1")
    response = deliver(client, peer, "ana", create(peer, "ana", note(peer, "ana", blog["url"])))
    assert response.status_code == 403
    assert stored_nothing()
    assert not RemoteActor.objects.exists()  # not even fetched
    DomainBlock.objects.all().delete()
    ActorBlock.objects.create(actor_uri=peer.actor_id("ana"))
    response = deliver(client, peer, "ana", create(peer, "ana", note(peer, "ana", blog["url"])))
    assert response.status_code == 403
    assert not Comment.objects.exists()


def test_an_actor_pointing_its_key_or_inbox_at_a_private_address_is_refused(client, blog, peer):
    for name, field in (("eve", "inbox"), ("zed", "key")):
        document = {"inbox": "http://10.0.0.5/inbox"} if field == "inbox" else {}
        uri = peer.actor(name, document=document)
        if field == "key":
            peer.actor(
                name,
                document={
                    "publicKey": {
                        "id": "http://192.168.1.9/key#main-key",
                        "owner": uri,
                        "publicKeyPem": peer.keys[name][1],
                    }
                },
            )
        response = deliver(client, peer, name, create(peer, name, note(peer, name, blog["url"])))
        assert response.status_code == 401, field
    assert not RemoteActor.objects.filter(preferred_username__in=["eve", "zed"]).exists()
    assert not Comment.objects.exists()


def test_wrong_content_type_is_refused(client, blog, peer):
    body, headers = peer.signed("ana", {"type": "Like"})
    response = client.post("/inbox", body, content_type="text/plain", **client_headers(headers))
    assert response.status_code == 415


# --- the page cache ----------------------------------------------------------------------------------


def test_the_page_cache_follows_replies_arriving_and_leaving(client, blog, peer, settings):
    settings.PAGE_CACHE = settings.FRAGMENT_CACHE = True
    url = blog["post"].get_absolute_url()
    assert "Fresh from the fediverse" not in client.get(url).content.decode()
    assert client.get(url)["X-Page-Cache"] == "hit"
    reply = note(peer, "ana", blog["url"], "<p>Fresh from the fediverse</p>")
    deliver(client, peer, "ana", create(peer, "ana", reply))
    assert "Fresh from the fediverse" in client.get(url).content.decode()
    like = {"id": peer.new_id("ana"), "type": "Like", "actor": peer.actor_id("ana"), "object": blog["url"]}
    deliver(client, peer, "ana", like)
    assert "Liked by" in client.get(url).content.decode()
    delete = {
        "id": peer.new_id("ana"),
        "type": "Delete",
        "actor": peer.actor_id("ana"),
        "object": reply["id"],
    }
    deliver(client, peer, "ana", delete)
    assert client.get(url)["X-Page-Cache"] == "miss"
    assert "Fresh from the fediverse" not in client.get(url).content.decode()


def test_remote_json_ld_contexts_are_never_fetched(client, blog, peer):
    activity = create(peer, "ana", note(peer, "ana", blog["url"]))
    activity["@context"] = [peer.url("/contexts/custom.jsonld"), "https://www.w3.org/ns/activitystreams"]
    activity["object"]["@context"] = peer.url("/contexts/other.jsonld")
    assert deliver(client, peer, "ana", activity).status_code == 202
    assert Comment.objects.filter(kind="fediverse").count() == 1
    assert not [r for r in peer.requests if r.path.startswith("/contexts/")]


def test_a_body_changed_after_signing_is_refused(client, blog, peer):
    activity = create(peer, "ana", note(peer, "ana", blog["url"]))
    body, headers = peer.signed("ana", activity)
    tampered = body.replace(b"Great post!", b"Buy my pills")
    response = client.post(
        "/inbox", tampered, content_type="application/activity+json", **client_headers(headers)
    )
    assert response.status_code == 400
    assert "Digest" in response.json()["error"]
    assert stored_nothing()
