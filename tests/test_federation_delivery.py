"""Publishing out: Create, Update and Delete reach every follower's server once, signed; failures
are retried with backoff for up to 48 h, a dead inbox is skipped and revived; authors' answers to
fediverse replies go back out as Notes."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.utils import timezone

from comments.models import Comment
from federation.delivery import deliver_due, follower_inboxes
from federation.keys import actor_key
from federation.models import Activity, Delivery, Follower, InboxHealth, RemoteActor, RemoteNote
from posts.models import Post
from tests import factories
from tests.interop.activitypub_peer import Peer


@pytest.fixture
def peer(settings):
    with Peer() as running:
        settings.FEDERATION_ALLOWED_HOSTS = [running.host]
        yield running


@pytest.fixture
def blog(db, settings, immediate_tasks):
    settings.SITE_DOMAIN = "testserver"
    settings.SITE_SCHEME = "http"
    amara = factories.UserFactory(username="amara", first_name="Amara", last_name="Okafor")
    return {"amara": amara}


def follower(peer, name: str, owner: str = "blog", *, shared: bool = True) -> RemoteActor:
    actor = RemoteActor.objects.create(
        uri=peer.actor_id(name),
        domain="127.0.0.1",
        preferred_username=name,
        inbox=peer.url(f"/users/{name}/inbox"),
        shared_inbox=peer.url("/inbox") if shared else "",
        key_id=peer.actor_id(name) + "#main-key",
        public_key_pem="unused",
        fetched_at=timezone.now(),
    )
    Follower.objects.create(owner=owner, actor=actor)
    peer.routes[f"/users/{name}/inbox"] = peer._inbox
    return actor


def publish(blog, django_capture_on_commit_callbacks, **fields) -> Post:
    with django_capture_on_commit_callbacks(execute=True):
        return factories.PostFactory(authors=[blog["amara"]], **fields)


def test_publishing_sends_create_once_per_shared_inbox_signed(blog, peer, django_capture_on_commit_callbacks):
    for index in range(5):
        follower(peer, f"reader{index}")  # five followers on one server
    follower(peer, "fan", owner=f"user:{blog['amara'].pk}", shared=False)  # an author's follower
    post = publish(blog, django_capture_on_commit_callbacks, title="Water points")
    creates = peer.received("Create")
    # One to the shared inbox, one to the follower without one: 2 deliveries for 6 followers.
    assert len(creates) == 2
    assert sorted(r.path for r in peer.inbox_posts) == ["/inbox", "/users/fan/inbox"]
    article = creates[0]["object"]
    assert article["type"] == "Article" and article["name"] == "Water points"
    assert article["id"] == f"http://testserver{post.get_absolute_url()}"
    assert creates[0]["actor"] == "http://testserver/"
    for recorded in peer.inbox_posts:
        assert peer.verify_delivery(recorded, actor_key("blog").public_pem) == "http://testserver/#main-key"
        assert recorded.headers["Digest"].startswith("SHA-256=")


def test_material_edits_send_update_and_others_send_nothing(blog, peer, django_capture_on_commit_callbacks):
    follower(peer, "reader")
    post = publish(blog, django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        post.allow_pings = False  # not something the Article shows
        post.save()
    assert [a["type"] for a in peer.received()] == ["Create"]
    with django_capture_on_commit_callbacks(execute=True):
        post.body = "A corrected paragraph."
        post.save()
    assert [a["type"] for a in peer.received()] == ["Create", "Update"]
    assert "corrected" in peer.received("Update")[0]["object"]["content"]


def test_unpublishing_and_deleting_send_delete_with_a_tombstone(
    blog, peer, django_capture_on_commit_callbacks, client
):
    follower(peer, "reader")
    post = publish(blog, django_capture_on_commit_callbacks)
    url = f"http://testserver{post.get_absolute_url()}"
    with django_capture_on_commit_callbacks(execute=True):
        post.status = Post.Status.DRAFT
        post.save()
    delete = peer.received("Delete")[0]
    assert delete["object"]["type"] == "Tombstone" and delete["object"]["id"] == url
    response = client.get(post.get_absolute_url(), HTTP_ACCEPT="application/activity+json")
    assert response.status_code == 410 and response.json()["type"] == "Tombstone"
    other = publish(blog, django_capture_on_commit_callbacks, title="Short-lived")
    with django_capture_on_commit_callbacks(execute=True):
        other.delete()
    assert peer.received("Delete")[-1]["object"]["id"] == f"http://testserver{other.get_absolute_url()}"


def test_a_scheduled_post_is_sent_when_it_goes_live(blog, peer, settings, django_capture_on_commit_callbacks):
    from django_tasks_db.models import DBTaskResult

    from federation.tasks import federate_post

    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    follower(peer, "reader")
    later = timezone.now() + dt.timedelta(hours=2)
    post = publish(blog, django_capture_on_commit_callbacks, published_at=later)
    queued = DBTaskResult.objects.get(task_path="federation.tasks.federate_post")
    assert queued.run_after is not None and abs(queued.run_after - later) < dt.timedelta(seconds=1)
    assert peer.received() == []  # nothing before its date
    with time_machine.travel(later + dt.timedelta(minutes=1)):
        with django_capture_on_commit_callbacks(execute=True):
            assert federate_post.call(post.pk) == "create"  # what the worker runs at that time
        deliver_due(activity_id=Activity.objects.get(type="Create").pk)
    assert [a["type"] for a in peer.received()] == ["Create"]


def test_failures_are_retried_with_backoff_then_given_up_after_48_hours(
    blog, peer, settings, django_capture_on_commit_callbacks
):
    settings.FEDERATION_RETRY_BASE_SECONDS = 60
    follower(peer, "reader")
    peer.inbox_status = 503
    publish(blog, django_capture_on_commit_callbacks)
    delivery = Delivery.objects.get()
    assert delivery.state == "pending" and delivery.attempts == 1 and delivery.last_status == 503
    first_retry = delivery.next_attempt_at
    assert dt.timedelta(seconds=55) < first_retry - delivery.updated_at <= dt.timedelta(seconds=61)
    with time_machine.travel(first_retry + dt.timedelta(seconds=1)):
        deliver_due(activity_id=delivery.activity_id)
    delivery.refresh_from_db()
    assert delivery.attempts == 2
    assert dt.timedelta(seconds=115) < delivery.next_attempt_at - first_retry <= dt.timedelta(seconds=122)
    # Past 48 h of failures the delivery is given up and the inbox marked dead.
    with time_machine.travel(timezone.now() + dt.timedelta(hours=49)):
        Delivery.objects.update(next_attempt_at=timezone.now())
        deliver_due(activity_id=delivery.activity_id)
    delivery.refresh_from_db()
    assert delivery.state == "failed"
    assert InboxHealth.objects.get(inbox=delivery.inbox).dead


def test_a_permanent_refusal_is_not_retried(blog, peer, django_capture_on_commit_callbacks):
    follower(peer, "reader")
    peer.inbox_status = 410
    publish(blog, django_capture_on_commit_callbacks)
    assert Delivery.objects.get().state == "failed"


def test_dead_inboxes_are_skipped_and_revived_when_their_server_answers(
    blog, peer, django_capture_on_commit_callbacks
):
    from federation.tasks import revive_dead_inboxes

    follower(peer, "reader")
    InboxHealth.objects.create(inbox=peer.url("/inbox"), host="127.0.0.1", dead=True, failures=40)
    publish(blog, django_capture_on_commit_callbacks)
    assert Delivery.objects.get().state == "skipped"
    assert peer.received() == []
    peer.routes["/.well-known/nodeinfo"] = peer.routes["/inbox"]  # the server is back
    assert revive_dead_inboxes.call() == 1
    assert not InboxHealth.objects.get().dead
    with django_capture_on_commit_callbacks(execute=True):
        factories.PostFactory(authors=[blog["amara"]], title="Second")
    assert len(peer.received("Create")) == 1


def test_blocked_domains_get_nothing(blog, peer, django_capture_on_commit_callbacks):
    from federation.models import DomainBlock

    follower(peer, "reader")
    DomainBlock.objects.create(domain="127.0.0.1")
    assert follower_inboxes(["blog"]) == []
    publish(blog, django_capture_on_commit_callbacks)
    assert peer.received() == [] and not Delivery.objects.exists()


def test_an_authors_answer_to_a_fediverse_reply_goes_back_out(
    client, blog, peer, make_comment, django_capture_on_commit_callbacks
):
    post = factories.PostFactory(authors=[blog["amara"]])
    ana = follower(peer, "ana", shared=False)
    Follower.objects.all().delete()  # Ana replied without following
    reply = make_comment(
        post, kind="fediverse", user_name="Ana", author_handle="@ana@127.0.0.1", source_url=ana.uri + "/1"
    )
    RemoteNote.objects.create(object_id=ana.uri + "/statuses/1", comment=reply, actor=ana)
    client.force_login(blog["amara"])
    from comments.services import answer_post

    with django_capture_on_commit_callbacks(execute=True):
        submission = answer_post(parent=reply, user=blog["amara"], text="Thanks, Ana!")
    assert submission.outcome == "public"
    create = peer.received("Create")[0]
    note = create["object"]
    assert note["type"] == "Note"
    assert note["inReplyTo"] == ana.uri + "/statuses/1"
    assert note["attributedTo"] == "http://testserver/author/amara/"
    assert {"type": "Mention", "href": ana.uri, "name": "@ana@127.0.0.1"} in note["tag"]
    assert ana.uri in create["to"]
    assert peer.inbox_posts[0].path == "/users/ana/inbox"
    signer = actor_key(f"user:{blog['amara'].pk}").public_pem
    assert peer.verify_delivery(peer.inbox_posts[0], signer) == "http://testserver/author/amara/#main-key"
    # The answer is a Note at its permalink too, and sits under the reply in the thread.
    answer = Comment.objects.get(pk=submission.comment.pk)
    assert answer.parent_id == reply.pk
    fetched = client.get(answer.get_absolute_url(), HTTP_ACCEPT="application/activity+json").json()
    assert fetched["id"] == note["id"]
    # Removing it sends Delete.
    from comments.services import comment_remove

    with django_capture_on_commit_callbacks(execute=True):
        comment_remove(comment=answer)
    assert peer.received("Delete")[0]["object"]["id"] == note["id"]


def test_readers_comments_are_in_the_replies_collection(client, blog, make_comment):
    post = factories.PostFactory(authors=[blog["amara"]])
    first = make_comment(post, user_name="Reader One", comment="Good point")
    child = make_comment(post, parent=first, user_name="Reader Two", comment="Agreed")
    make_comment(post, user_name="Hidden", is_public=False, comment="Held back")
    article = client.get(post.get_absolute_url(), HTTP_ACCEPT="application/activity+json").json()
    page = client.get(article["replies"]["first"]).json()
    assert page["orderedItems"] == [f"http://testserver{first.get_absolute_url()}"]
    note = client.get(first.get_absolute_url(), HTTP_ACCEPT="application/activity+json").json()
    assert note["attributedTo"] == "http://testserver/"
    assert "Reader One" in note["content"] and "Good point" in note["content"]
    assert note["inReplyTo"] == article["id"]
    children = client.get(note["replies"]["first"]).json()["orderedItems"]
    assert children == [f"http://testserver{child.get_absolute_url()}"]


def test_activities_are_served_at_their_ids(client, blog, peer, django_capture_on_commit_callbacks):
    follower(peer, "reader")
    publish(blog, django_capture_on_commit_callbacks)
    activity = Activity.objects.get(type="Create")
    path = activity.payload["id"].replace("http://testserver", "")
    assert client.get(path).json()["type"] == "Create"


def test_imported_or_backdated_posts_are_not_sent_as_new(blog, peer, django_capture_on_commit_callbacks):
    follower(peer, "reader")
    publish(blog, django_capture_on_commit_callbacks, published_at=timezone.now() - dt.timedelta(days=400))
    assert peer.received() == [] and not Activity.objects.exists()
