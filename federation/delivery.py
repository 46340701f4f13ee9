"""Publishing out: activities, fanned out to inboxes, delivered by the task worker.

One activity goes once to each inbox: followers on one server share its `sharedInbox`, so 10,000
followers on 500 servers cost 500 deliveries (bench/federation_fanout.py measures it). Each
delivery is a POST signed with the sending actor's key (federation/signatures.py) through the
one outbound client (fetch.py: no private addresses, a deadline, a byte cap, no redirects).

Outcomes, as Mastodon's delivery worker treats them: 2xx delivered; 4xx other than 408 and 429
will never succeed, so it is given up; anything else (5xx, 408, 429, a timeout, a refused
connection) is tried again after 1, 2, 4, … minutes (FEDERATION_RETRY_BASE_SECONDS, doubling) for
up to FEDERATION_RETRY_HOURS (48 h). An inbox that has failed for that long is marked dead and
skipped; it is revived when its server sends us anything, or answers the periodic check
(tasks.revive_dead_inboxes).
"""

from __future__ import annotations

import json
import logging
import secrets
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.db import transaction
from django.db.models import F, Min, Q
from django.tasks import task
from django.urls import reverse
from django.utils import timezone

from comments.linkbacks.fetch import FetchError, fetch
from core.origin import absolute_url
from core.queue import enqueue_later
from federation import documents
from federation.actors import LocalActor, actor_by_owner, blog_actor, post_actors
from federation.models import (
    Activity,
    Delivery,
    FederatedAnswer,
    FederatedPost,
    Follower,
    InboxHealth,
    RemoteActor,
)
from federation.remote import domain_blocked, signer_for, user_agent
from posts.models import Post

logger = logging.getLogger(__name__)
BATCH = 500


# --- activities --------------------------------------------------------------------------------


def activity_create(*, actor: LocalActor, type: str, obj, to=None, cc=None, public: bool = True) -> Activity:
    """Store an activity of ours (its ID is its URL under /ap/activities/)."""
    activity = Activity(owner=actor.owner, type=type, object_id=documents.first_object_id(obj), public=public)
    payload = {
        "@context": documents.CONTEXT,
        "id": absolute_url(reverse("federation:activity", args=[activity.uuid])),
        "type": type,
        "actor": actor.id,
        "published": documents.iso(timezone.now()),
        "to": to if to is not None else [documents.PUBLIC],
        "cc": cc if cc is not None else [actor.followers],
        "object": obj,
    }
    activity.payload = payload
    activity.save()
    return activity


def follower_inboxes(owners: list[str]) -> list[str]:
    """One inbox per server (its shared inbox when it has one) among the accepted followers of
    these actors, blocked domains left out."""
    rows = (
        Follower.objects.filter(owner__in=owners, state=Follower.State.ACCEPTED)
        .values_list("actor__shared_inbox", "actor__inbox", "actor__domain")
        .distinct()
    )
    inboxes: dict[str, None] = {}
    blocked: dict[str, bool] = {}
    for shared, personal, domain in rows:
        if domain not in blocked:
            blocked[domain] = domain_blocked(domain)
        if not blocked[domain]:
            inboxes[shared or personal] = None
    return list(inboxes)


def activity_send(*, activity: Activity, inboxes: list[str]) -> int:
    """Queue one delivery per distinct inbox; the worker sends them after commit. Dead inboxes
    are recorded as skipped. Returns the number of deliveries queued."""
    unique = list(dict.fromkeys(i for i in inboxes if i))
    dead = set(InboxHealth.objects.filter(inbox__in=unique, dead=True).values_list("inbox", flat=True))
    rows = [
        Delivery(
            activity=activity,
            inbox=inbox,
            state=Delivery.State.SKIPPED if inbox in dead else Delivery.State.PENDING,
        )
        for inbox in unique
    ]
    Delivery.objects.bulk_create(rows, batch_size=1000, ignore_conflicts=True)
    queued = len(unique) - len(dead)
    if queued:
        pk = activity.pk
        transaction.on_commit(lambda: deliver_activity.enqueue(pk))
    return queued


# --- what we publish -------------------------------------------------------------------------------


def _post_owners(post: Post) -> list[str]:
    return [blog_actor().owner] + [a.owner for a in post_actors(post)]


def _post_cc(post: Post) -> list[str]:
    return [blog_actor().followers] + [a.followers for a in post_actors(post)]


def post_federate(*, post: Post) -> str:
    """Tell the fediverse what changed about a post: Create when it first goes live, Update after
    a material edit, Delete (with a Tombstone) when it is unpublished. Idempotent: returns what
    was sent ("create", "update", "delete") or "nothing"."""
    object_id = documents.article_id(post)
    record = FederatedPost.objects.select_for_update().filter(post=post).first()
    owners = _post_owners(post)
    if not post.is_published:
        if record is None or record.deleted:
            return "nothing"
        return _send_delete(record, owners)
    translations = list(
        Post.objects.published().filter(translation_group=post.translation_group).exclude(pk=post.pk)
    )
    article = documents.article_document(post, translations=translations, with_context=False)
    digest = documents.article_hash(post)
    if record is not None and record.object_id != object_id and not record.deleted:
        # The permalink changed (a new slug or date): the old object is gone, the new one is new.
        _send_delete(record, owners)
        record = None
    if record is None:
        record = FederatedPost.objects.filter(object_id=object_id).first() or FederatedPost(
            object_id=object_id
        )
    if record.pk and not record.deleted and record.content_hash == digest:
        return "nothing"
    kind = "Update" if record.pk and not record.deleted else "Create"
    inboxes = follower_inboxes(owners)
    if inboxes:  # with no followers yet there is no one to tell; the record still says it is out
        activity = activity_create(actor=blog_actor(), type=kind, obj=article, cc=_post_cc(post))
        activity_send(activity=activity, inboxes=inboxes)
    record.post, record.content_hash, record.deleted = post, digest, False
    record.save()
    return kind.lower()


def _send_delete(record: FederatedPost, owners: list[str]) -> str:
    inboxes = follower_inboxes(owners)
    if inboxes:
        activity = activity_create(
            actor=blog_actor(), type="Delete", obj=documents.tombstone(record.object_id)
        )
        activity_send(activity=activity, inboxes=inboxes)
    record.deleted, record.content_hash = True, ""
    record.save(update_fields=["deleted", "content_hash", "updated_at"])
    return "delete"


def post_deleted(*, object_id: str, owners: list[str]) -> None:
    """A post was deleted from the database: send Delete if the fediverse knew it."""
    record = FederatedPost.objects.filter(object_id=object_id, deleted=False).first()
    if record is not None:
        _send_delete(record, owners)


def follow_answer(*, follower: Follower, accept: bool) -> None:
    """Accept (or Reject) a Follow, sent to the follower's own inbox."""
    local = actor_by_owner(follower.owner)
    if local is None:
        return
    remote = follower.actor
    follow = {
        "id": follower.follow_id or f"{remote.uri}#follows/{follower.pk}",
        "type": "Follow",
        "actor": remote.uri,
        "object": local.id,
    }
    activity = activity_create(
        actor=local, type="Accept" if accept else "Reject", obj=follow, to=[remote.uri], cc=[], public=False
    )
    activity_send(activity=activity, inboxes=[remote.inbox])


def follower_remove(*, follower: Follower) -> None:
    """Remove a follower from the admin: they are told with a Reject of their Follow."""
    follow_answer(follower=follower, accept=False)
    follower.delete()


def follower_approve(*, follower: Follower) -> None:
    Follower.objects.filter(pk=follower.pk).update(state=Follower.State.ACCEPTED)
    follower.state = Follower.State.ACCEPTED
    follow_answer(follower=follower, accept=True)


def answer_send(*, comment) -> bool:
    """An author's answer to a fediverse reply, sent as a Note in reply to it, mentioning its
    sender, to the sender's server and the answering actor's followers."""

    note = documents.note_document(comment, with_context=False)
    actor = documents.speaking_actor(comment)
    mentioned = [tag["href"] for tag in note.get("tag", []) if tag.get("type") == "Mention"]
    if not mentioned or FederatedAnswer.objects.filter(comment=comment).exists():
        return False

    remotes = list(RemoteActor.objects.filter(uri__in=mentioned))
    activity = activity_create(
        actor=actor, type="Create", obj=note, to=[documents.PUBLIC] + mentioned, cc=[actor.followers]
    )
    inboxes = [r.delivery_inbox for r in remotes] + follower_inboxes([actor.owner])
    activity_send(activity=activity, inboxes=inboxes)
    FederatedAnswer.objects.create(
        comment=comment,
        owner=actor.owner,
        object_id=note["id"],
        recipients=[r.delivery_inbox for r in remotes],
    )
    return True


def answer_withdraw(*, comment) -> bool:
    """A federated answer was removed here: send Delete for its Note."""
    answer = FederatedAnswer.objects.filter(comment=comment, deleted=False).first()
    actor = actor_by_owner(answer.owner) if answer is not None else None
    if answer is None or actor is None:
        return False
    activity = activity_create(actor=actor, type="Delete", obj=documents.tombstone(answer.object_id, "Note"))
    activity_send(activity=activity, inboxes=answer.recipients + follower_inboxes([actor.owner]))
    FederatedAnswer.objects.filter(pk=answer.pk).update(deleted=True)
    return True


def actor_update_send(*, actor: LocalActor) -> int:
    """Tell followers' servers an actor changed (a new key after rotation, a new name)."""
    document = documents.actor_document(actor)
    document.pop("@context", None)
    activity = activity_create(actor=actor, type="Update", obj=document)
    return activity_send(activity=activity, inboxes=follower_inboxes([actor.owner]))


# --- delivering ----------------------------------------------------------------------------------


def _post_one(inbox: str, body: bytes, sign) -> tuple[int | None, str]:
    try:
        response = fetch(
            inbox,
            method="POST",
            data=body,
            headers={
                "Content-Type": documents.LD_JSON,
                "Accept": "application/activity+json, application/json",
                "User-Agent": user_agent(),
            },
            max_bytes=64 * 1024,
            deadline=settings.FEDERATION_DELIVERY_DEADLINE,
            allowed_hosts=settings.FEDERATION_ALLOWED_HOSTS,
            sign=sign,
            follow_redirects=False,
        )
    except FetchError as exc:
        return None, exc.reason[:300]
    return response.status, ""


def _permanent(status: int | None) -> bool:
    return status is not None and 400 <= status < 500 and status not in (408, 429)


def deliver_due(*, activity_id: int) -> dict[str, int]:
    """Send every due delivery of an activity, several at once; record each outcome and when to
    try again. Returns counts by outcome. Safe to run twice: only pending, due rows are sent."""
    activity = Activity.objects.filter(pk=activity_id).first()
    counts = {"delivered": 0, "retry": 0, "failed": 0, "skipped": 0}
    if activity is None:
        return counts
    body = json.dumps(activity.payload, ensure_ascii=False).encode()
    sign = signer_for(activity.owner)
    give_up_at = activity.created_at + timedelta(hours=settings.FEDERATION_RETRY_HOURS)
    while True:
        now = timezone.now()
        ids = list(
            Delivery.objects.filter(activity=activity, state=Delivery.State.PENDING)
            .filter(models_due(now))
            .order_by("pk")
            .values_list("pk", flat=True)[:BATCH]
        )
        if not ids:
            break
        # Claim the rows with a lease no other worker can hold (a unique time), so two passes
        # over one activity never send the same delivery twice.
        lease = now + timedelta(
            seconds=settings.FEDERATION_DELIVERY_DEADLINE * 3 + 60, microseconds=secrets.randbelow(10**6)
        )
        Delivery.objects.filter(pk__in=ids, state=Delivery.State.PENDING).filter(models_due(now)).update(
            next_attempt_at=lease
        )
        due = list(Delivery.objects.filter(pk__in=ids, next_attempt_at=lease).order_by("pk"))
        dead = set(
            InboxHealth.objects.filter(inbox__in=[d.inbox for d in due], dead=True).values_list(
                "inbox", flat=True
            )
        )
        sending = [
            d for d in due if d.inbox not in dead and not domain_blocked(urlsplit(d.inbox).hostname or "")
        ]
        skipped = [d for d in due if d not in sending]
        Delivery.objects.filter(pk__in=[d.pk for d in skipped]).update(state=Delivery.State.SKIPPED)
        counts["skipped"] += len(skipped)
        workers = max(1, min(settings.FEDERATION_DELIVERY_CONCURRENCY, len(sending)))
        with ThreadPoolExecutor(max_workers=workers) as pool:
            results = list(pool.map(lambda d: _post_one(d.inbox, body, sign), sending))
        now = timezone.now()
        for delivery, (status, error) in zip(sending, results, strict=True):
            outcome = _record(delivery, status, error, now=now, give_up_at=give_up_at)
            counts[outcome] += 1
    _schedule_retry(activity)
    return counts


def models_due(now):
    return Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now)


def _record(delivery: Delivery, status: int | None, error: str, *, now, give_up_at) -> str:
    attempts = delivery.attempts + 1
    fields = {"attempts": attempts, "last_status": status, "last_error": error, "updated_at": now}
    health, _created = InboxHealth.objects.get_or_create(
        inbox=delivery.inbox, defaults={"host": (urlsplit(delivery.inbox).hostname or "").lower()}
    )
    if status is not None and 200 <= status < 300:
        Delivery.objects.filter(pk=delivery.pk).update(
            state=Delivery.State.DELIVERED, next_attempt_at=None, **fields
        )
        InboxHealth.objects.filter(pk=health.pk).update(
            failures=0, failing_since=None, dead=False, last_success_at=now
        )
        return "delivered"
    InboxHealth.objects.filter(pk=health.pk).update(
        failures=F("failures") + 1, failing_since=health.failing_since or now
    )
    failing_for = now - (health.failing_since or now)
    if failing_for >= timedelta(hours=settings.FEDERATION_RETRY_HOURS):
        InboxHealth.objects.filter(pk=health.pk).update(dead=True)
    if _permanent(status):
        Delivery.objects.filter(pk=delivery.pk).update(
            state=Delivery.State.FAILED, next_attempt_at=None, **fields
        )
        return "failed"
    delay = timedelta(seconds=settings.FEDERATION_RETRY_BASE_SECONDS * 2 ** (attempts - 1))
    if now + delay > give_up_at:
        Delivery.objects.filter(pk=delivery.pk).update(
            state=Delivery.State.FAILED, next_attempt_at=None, **fields
        )
        return "failed"
    Delivery.objects.filter(pk=delivery.pk).update(next_attempt_at=now + delay, **fields)
    return "retry"


def _schedule_retry(activity: Activity) -> None:
    """Queue the next pass for this activity at its earliest pending retry, if any."""
    nxt = Delivery.objects.filter(activity=activity, state=Delivery.State.PENDING).aggregate(
        when=Min("next_attempt_at")
    )["when"]
    if nxt is not None:
        enqueue_later(deliver_activity, nxt, activity.pk)


# --- The delivery pass as a task: deliver_due queues the next pass itself --------------------------


@task()
def deliver_activity(activity_id: int) -> dict:
    return deliver_due(activity_id=activity_id)
