"""Moderation of the fediverse side: the shared block list import, removing a follower (who is
told with a Reject), approving held follows, key rotation, and the admin pages."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.utils import timezone

from federation.blocklist import domain_blocks_import
from federation.models import ActorKey, DomainBlock, Follower, RemoteActor
from federation.remote import domain_blocked
from tests import factories
from tests.interop.activitypub_peer import Peer

MASTODON_CSV = """#domain,#severity,#reject_media,#reject_reports,#public_comment,#obfuscate
spam.example,suspend,false,false,Spam factory,false
noisy.example,noop,false,false,,false
*.wild.example,suspend,false,false,,false
Bad.Example.,suspend,true,true,Harassment,false
"""


def test_a_mastodon_block_list_imports_and_blocks_subdomains(db):
    assert domain_blocks_import(text=MASTODON_CSV, source="shared.csv") == (2, 2)
    assert set(DomainBlock.objects.values_list("domain", flat=True)) == {"spam.example", "bad.example"}
    assert DomainBlock.objects.get(domain="spam.example").reason == "Spam factory"
    assert domain_blocked("social.spam.example") and not domain_blocked("fine.example")
    assert domain_blocks_import(text=MASTODON_CSV, source="shared.csv") == (0, 2)  # idempotent


def test_a_plain_list_imports_through_the_command(db, tmp_path):
    path = tmp_path / "list.txt"
    path.write_text("# our list\nspam.example\n\nnot a domain\n")
    out = io.StringIO()
    call_command("federation_import_blocks", str(path), stdout=out)
    assert "1 domains blocked, 1 lines skipped" in out.getvalue()


def test_the_admin_imports_a_block_list(admin_client, db):
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile("blocks.csv", MASTODON_CSV.encode(), content_type="text/csv")
    response = admin_client.post("/admin/federation/domainblock/import/", {"file": upload})
    assert response.status_code == 302
    assert DomainBlock.objects.count() == 2


@pytest.fixture
def peer(settings):
    with Peer() as running:
        settings.FEDERATION_ALLOWED_HOSTS = [running.host]
        running.actor("ana")
        yield running


def _follower(peer, state="accepted"):
    actor = RemoteActor.objects.create(
        uri=peer.actor_id("ana"),
        domain="127.0.0.1",
        preferred_username="ana",
        inbox=peer.url("/users/ana/inbox"),
        key_id=peer.actor_id("ana") + "#main-key",
        public_key_pem="unused",
        fetched_at=timezone.now(),
    )
    return Follower.objects.create(owner="blog", actor=actor, state=state, follow_id=peer.url("/follows/1"))


def test_removing_a_follower_in_the_admin_sends_a_reject(
    admin_client, db, peer, settings, immediate_tasks, django_capture_on_commit_callbacks
):
    settings.SITE_DOMAIN, settings.SITE_SCHEME = "testserver", "http"
    follower = _follower(peer)
    listing = admin_client.get("/admin/federation/follower/").content.decode()
    assert "@ana@127.0.0.1" in listing
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            "/admin/federation/follower/", {"action": "remove", "_selected_action": [follower.pk]}
        )
    assert response.status_code == 302
    assert not Follower.objects.exists()
    reject = peer.received("Reject")[0]
    assert reject["object"]["id"] == peer.url("/follows/1") and reject["actor"] == "http://testserver/"


def test_approving_a_held_follow_sends_the_accept(
    admin_client, db, peer, settings, immediate_tasks, django_capture_on_commit_callbacks
):
    settings.SITE_DOMAIN, settings.SITE_SCHEME = "testserver", "http"
    follower = _follower(peer, state="pending")
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(
            "/admin/federation/follower/", {"action": "approve", "_selected_action": [follower.pk]}
        )
    assert Follower.objects.get().state == "accepted"
    assert peer.received("Accept")[0]["object"]["id"] == peer.url("/follows/1")


def test_key_rotation_makes_a_new_key_and_tells_followers(
    db, peer, settings, immediate_tasks, django_capture_on_commit_callbacks
):
    settings.SITE_DOMAIN, settings.SITE_SCHEME = "testserver", "http"
    _follower(peer)
    from federation.keys import actor_key

    old = actor_key("blog").public_pem
    with django_capture_on_commit_callbacks(execute=True):
        call_command("federation_rotate_key", "blog", stdout=io.StringIO())
    new = ActorKey.objects.get(owner="blog").public_pem
    assert new != old
    update = peer.received("Update")[0]
    assert update["object"]["publicKey"]["publicKeyPem"] == new
    assert peer.verify_delivery(peer.inbox_posts[0], new) == "http://testserver/#main-key"


def test_fediverse_replies_are_listed_for_moderators_with_an_answer_page(admin_client, db, make_comment):
    from federation.models import RemoteNote

    post = factories.PostFactory()
    actor = RemoteActor.objects.create(
        uri="https://m.example/users/ana",
        domain="m.example",
        preferred_username="ana",
        inbox="https://m.example/inbox",
        key_id="https://m.example/users/ana#main-key",
        public_key_pem="unused",
        fetched_at=timezone.now(),
    )
    reply = make_comment(
        post, kind="fediverse", user_name="Ana", author_handle="@ana@m.example", comment="Hi"
    )
    note = RemoteNote.objects.create(
        object_id="https://m.example/users/ana/statuses/1", comment=reply, actor=actor
    )
    assert "@ana@m.example" in admin_client.get("/admin/federation/remotenote/").content.decode()
    answer_page = admin_client.get(f"/admin/federation/remotenote/{note.pk}/answer/")
    assert answer_page.status_code == 200
    admin_client.post(f"/admin/federation/remotenote/{note.pk}/answer/", {"text": "Welcome, Ana"})
    from comments.models import Comment

    answer = Comment.objects.get(comment="Welcome, Ana")
    assert answer.parent_id == reply.pk and answer.is_public
