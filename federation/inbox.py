"""The inboxes (ActivityPub section 7, server to server): verify, then act on what arrived.

A request is accepted only when, in this order (cheap checks first, nothing stored before the
end):
1. its body is at most FEDERATION_INBOX_MAX_BYTES (413) and JSON (415 for another type);
2. it carries an HTTP Signature (401) whose signed headers, `Date` (±1 h) and `Digest` hold
   (401, or 400 for a Digest that does not match the body): federation/signatures.py;
3. the body is a JSON object with an `id`, a `type` and an `actor` (400);
4. neither the actor, its server nor the key's server is blocked (403);
5. the key's owner, fetched through fetch.py and cached, verifies the signature; a failure
   fetches the key once more, for keys that were rotated (401);
6. the key's owner is the activity's `actor` (401);
7. the same signature was not accepted before (a replay, 401) — the receipt is a unique row,
   so this holds across processes.
Then the activity is handled in one transaction. An activity ID seen before changes nothing.

Direct messages (a Note addressed to no public audience) are dropped without being stored: the
thread is public, and a private message must never appear in it.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings
from django.db import IntegrityError, transaction
from django.http import HttpResponse, JsonResponse
from django.urls import Resolver404, resolve
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from comments import services as comment_services
from comments.models import Comment
from comments.thread import VISIBLE
from core import ratelimit
from core.origin import absolute_url
from federation import delivery, signatures
from federation.actors import LocalActor, actor_by_id
from federation.models import (
    Follower,
    InboxHealth,
    InboxReceipt,
    Reaction,
    RemoteActor,
    RemoteNote,
    Report,
)
from federation.remote import RemoteError, actor_blocked, actor_get, domain_blocked, key_owner
from federation.vocab import content_of, first_id, ids_of, is_public, language_of, text_of, types_of
from posts.models import Post

logger = logging.getLogger(__name__)
JSON_TYPES = ("application/activity+json", "application/ld+json", "application/json")


@dataclass
class Refusal(Exception):
    status: int
    reason: str

    def response(self) -> HttpResponse:
        response = JsonResponse({"error": self.reason}, status=self.status)
        if self.status == 429:
            response["Retry-After"] = str(settings.FEDERATION_FOLLOW_WINDOW)
        return response


def _read_body(request) -> bytes:
    limit = settings.FEDERATION_INBOX_MAX_BYTES
    length = request.META.get("CONTENT_LENGTH") or ""
    if length.isdigit() and int(length) > limit:
        raise Refusal(413, f"the body is larger than {limit} bytes")
    body = request.read(limit + 1)
    if len(body) > limit:
        raise Refusal(413, f"the body is larger than {limit} bytes")
    return body


def _verified_actor(request, body: bytes, activity: dict) -> tuple[RemoteActor, signatures.ParsedSignature]:
    headers = signatures.request_headers(request.META)
    headers.setdefault("host", request.get_host())
    try:
        parsed = signatures.signature_of(headers)
        signatures.check_request(parsed, method=request.method, headers=headers, body=body)
    except signatures.SignatureError as exc:
        raise Refusal(exc.status, exc.reason) from exc
    actor_uri = first_id(activity.get("actor"))
    if not actor_uri.startswith(("http://", "https://")):
        raise Refusal(400, "the activity has no actor")
    key_host = urlsplit(parsed.key_id).hostname or ""
    if actor_blocked(actor_uri) or domain_blocked(key_host):
        raise Refusal(403, "this server or actor is blocked here")
    path, _sep, query = request.get_full_path().partition("?")
    owner = None
    for refresh in (False, True):
        try:
            owner = key_owner(parsed.key_id, refresh=refresh)
        except RemoteError as exc:
            logger.info("inbox: key %s unusable: %s", parsed.key_id[:200], exc)
            raise Refusal(401, "the signing key could not be fetched or is not acceptable") from exc
        if signatures.verify_with_key(
            parsed,
            public_pem=owner.public_key_pem,
            method=request.method,
            path=path,
            query=query,
            headers=headers,
        ):
            break
        owner = None
    if owner is None:
        raise Refusal(401, "the signature does not verify")
    if owner.uri != actor_uri:
        raise Refusal(401, "the request is signed by a key that is not the actor's")
    return owner, parsed


def inbox_receive(*, request, target: LocalActor | None) -> HttpResponse:
    """Verify and handle one inbox POST; the response says what happened."""
    try:
        body = _read_body(request)
        content_type = (request.META.get("CONTENT_TYPE") or "").split(";")[0].strip().lower()
        if content_type not in JSON_TYPES:
            raise Refusal(415, "send application/activity+json")
        try:
            activity = json.loads(body)
        except (ValueError, UnicodeDecodeError):
            activity = None
        if not signatures.request_headers(request.META).get("signature") and not request.META.get(
            "HTTP_AUTHORIZATION", ""
        ).lower().startswith("signature "):
            raise Refusal(401, "the request is not signed")
        if not isinstance(activity, dict):
            raise Refusal(400, "the body must be a JSON object")
        activity_id = first_id(activity.get("id"))
        if not activity_id or not types_of(activity):
            raise Refusal(400, "the activity needs an id and a type")
        actor, parsed = _verified_actor(request, body, activity)
        with transaction.atomic():
            digest = hashlib.sha256(parsed.raw.encode()).hexdigest()
            try:
                with transaction.atomic():
                    InboxReceipt.objects.create(signature_digest=digest, activity_id=activity_id[:2000])
            except IntegrityError:
                raise Refusal(401, "this signed request was already received (replay)") from None
            _server_answers(actor)
            if (
                InboxReceipt.objects.filter(activity_id=activity_id[:2000])
                .exclude(signature_digest=digest)
                .exists()
            ):
                return JsonResponse({"status": "already received"}, status=202)
            return handle(activity, actor=actor, target=target)
    except Refusal as refusal:
        logger.info("inbox refused (%s): %s", refusal.status, refusal.reason)
        return refusal.response()


def _server_answers(actor: RemoteActor) -> None:
    """A server that talks to us is up: revive its inboxes if they were marked dead."""
    InboxHealth.objects.filter(host=actor.domain, dead=True).update(
        dead=False, failures=0, failing_since=None
    )


# --- handlers ----------------------------------------------------------------------------------


def handle(activity: dict, *, actor: RemoteActor, target: LocalActor | None) -> HttpResponse:
    kinds = types_of(activity)
    for kind, handler in HANDLERS.items():
        if kind in kinds:
            return handler(activity, actor, target)
    return JsonResponse({"status": "ignored", "reason": "activity type not handled"}, status=202)


def _accepted(note: str = "accepted") -> HttpResponse:
    return JsonResponse({"status": note}, status=202)


def _object(activity: dict):
    value = activity.get("object")
    return value[0] if isinstance(value, list) and value else value


def follow(activity: dict, actor: RemoteActor, target: LocalActor | None) -> HttpResponse:
    local = actor_by_id(first_id(_object(activity)))
    if local is None or (target is not None and local.owner != target.owner):
        raise Refusal(404, "no such actor to follow here")
    if not ratelimit.limit_check(
        limits={f"federation:follow:{actor.domain}": settings.FEDERATION_FOLLOWS_PER_DOMAIN},
        seconds=settings.FEDERATION_FOLLOW_WINDOW,
    ):
        raise Refusal(429, "too many follows from this server; try again later")
    state = Follower.State.PENDING if settings.FEDERATION_MANUAL_APPROVAL else Follower.State.ACCEPTED
    follower, created = Follower.objects.get_or_create(
        owner=local.owner, actor=actor, defaults={"state": state, "follow_id": first_id(activity.get("id"))}
    )
    if not created:
        Follower.objects.filter(pk=follower.pk).update(follow_id=first_id(activity.get("id")))
        follower.follow_id = first_id(activity.get("id"))
    if follower.state == Follower.State.ACCEPTED:
        delivery.follow_answer(follower=follower, accept=True)
        return _accepted("following")
    return _accepted("waiting for approval")


def undo(activity: dict, actor: RemoteActor, target: LocalActor | None) -> HttpResponse:
    inner = _object(activity)
    inner_id = first_id(inner)
    kinds = types_of(inner)
    if "Follow" in kinds or Follower.objects.filter(actor=actor, follow_id=inner_id).exists():
        local = actor_by_id(first_id(inner.get("object"))) if isinstance(inner, dict) else None
        followers = Follower.objects.filter(actor=actor)
        followers = followers.filter(owner=local.owner) if local else followers.filter(follow_id=inner_id)
        followers.delete()
        return _accepted("unfollowed")
    removed, _kinds = Reaction.objects.filter(actor=actor, activity_id=inner_id).delete()
    return _accepted("withdrawn" if removed else "nothing to undo")


# --- replies -------------------------------------------------------------------------------------


def _local_target(url: str) -> tuple[Post | None, Comment | None]:
    """The published post, and the thread item, that an inReplyTo (or Like) URL names here."""
    remote = RemoteNote.objects.filter(object_id=url).select_related("comment__post").first()
    if remote is not None:
        comment = remote.comment
        return (comment.post, comment) if comment.post and comment.post.is_published else (None, None)
    parts = urlsplit(url)

    if absolute_url(parts.path) != url.split("#", 1)[0].split("?", 1)[0]:
        return None, None
    try:
        match = resolve(parts.path)
    except Resolver404:
        return None, None
    if match.view_name == "posts:detail":
        kwargs = match.kwargs
        post = (
            Post.objects.published()
            .filter(
                slug=kwargs["slug"],
                published_at__year=kwargs["year"],
                published_at__month=kwargs["month"],
                published_at__day=kwargs["day"],
            )
            .first()
        )
        return post, None
    if match.view_name == "comments:permalink":
        comment = Comment.objects.filter(VISIBLE, pk=match.kwargs["pk"]).select_related("post").first()
        if comment is not None and comment.post and comment.post.is_published:
            return comment.post, comment
    return None, None


NOTE_TYPES = {"Note", "Article", "Page"}
MAX_NOTE_HTML = 50_000


def _note(activity: dict, actor: RemoteActor) -> dict:
    note = _object(activity)
    if not isinstance(note, dict) or not types_of(note) & NOTE_TYPES:
        raise Refusal(422, "only embedded Note objects are handled")
    note_id = first_id(note.get("id"))
    author = first_id(note.get("attributedTo")) or actor.uri
    if (
        not note_id.startswith(("http://", "https://"))
        or urlsplit(note_id).netloc != urlsplit(actor.uri).netloc
    ):
        raise Refusal(400, "the note's id must be on the actor's server")
    if author != actor.uri:
        raise Refusal(400, "the note is attributed to someone else")
    return note


def _source_url(note: dict, actor: RemoteActor) -> str:
    url = first_id(note.get("url"))
    note_id = first_id(note.get("id"))
    if url.startswith(("http://", "https://")) and urlsplit(url).netloc == urlsplit(note_id).netloc:
        return url
    return note_id


def create(activity: dict, actor: RemoteActor, target: LocalActor | None) -> HttpResponse:
    note = _note(activity, actor)
    if not is_public(note):
        # A direct (or followers-only) message: never shown in a public thread, and not kept.
        return _accepted("private messages are not kept")
    in_reply_to = first_id(note.get("inReplyTo"))
    if not in_reply_to:
        return _accepted("not a reply to anything here")
    post, parent = _local_target(in_reply_to)
    if post is None:
        raise Refusal(422, "inReplyTo is not a published post or thread item of this site")
    note_id = first_id(note.get("id"))
    if RemoteNote.objects.filter(object_id=note_id).exists():
        return _accepted("already received")
    html = content_of(note)
    if len(html) > MAX_NOTE_HTML:
        raise Refusal(413, "the note is too long")
    published = parse_datetime(note["published"]) if isinstance(note.get("published"), str) else None
    if published is None or published > timezone.now():
        published = timezone.now()
    submission = comment_services.remote_reply_store(
        post=post,
        parent=parent,
        html=html,
        author_name=actor.name or actor.preferred_username,
        author_handle=actor.handle,
        author_url=actor.profile_url,
        avatar_url=actor.avatar.url if actor.avatar else "",
        source_url=_source_url(note, actor),
        submitted_at=published,
        language=language_of(note),
    )
    if submission.comment is None:
        return _accepted(f"not stored: {submission.outcome}")
    RemoteNote.objects.create(object_id=note_id, comment=submission.comment, actor=actor)
    return _accepted(submission.outcome)


def update(activity: dict, actor: RemoteActor, target: LocalActor | None) -> HttpResponse:
    obj = _object(activity)
    if types_of(obj) & {"Person", "Service", "Application", "Group", "Organization"}:
        if first_id(obj) != actor.uri:
            raise Refusal(400, "an actor may only update itself")
        try:
            actor_get(actor.uri, refresh=True)
        except RemoteError as exc:
            raise Refusal(422, "the updated actor could not be fetched") from exc
        return _accepted("actor refreshed")
    note = _note(activity, actor)
    remote = (
        RemoteNote.objects.filter(object_id=first_id(note.get("id")), actor=actor)
        .select_related("comment")
        .first()
    )
    if remote is None:
        return _accepted("unknown note")
    if not is_public(note):
        comment_services.remote_reply_delete(comment=remote.comment)
        return _accepted("no longer public: removed")
    html = content_of(note)
    if len(html) > MAX_NOTE_HTML:
        raise Refusal(413, "the note is too long")
    outcome = comment_services.remote_reply_edit(comment=remote.comment, html=html)
    return _accepted(outcome)


def delete(activity: dict, actor: RemoteActor, target: LocalActor | None) -> HttpResponse:
    object_id = first_id(_object(activity))
    if object_id == actor.uri:
        # The account is gone: so are its follows, reactions and replies.
        for remote in RemoteNote.objects.filter(actor=actor).select_related("comment"):
            comment_services.remote_reply_delete(comment=remote.comment)
        Reaction.objects.filter(actor=actor).delete()
        Follower.objects.filter(actor=actor).delete()
        return _accepted("actor removed")
    remote = RemoteNote.objects.filter(object_id=object_id, actor=actor).select_related("comment").first()
    if remote is None:
        return _accepted("unknown object")
    comment_services.remote_reply_delete(comment=remote.comment)
    return _accepted("deleted")


# --- likes, boosts, reports ----------------------------------------------------------------------


def _react(kind: str):
    def react(activity: dict, actor: RemoteActor, target: LocalActor | None) -> HttpResponse:
        post, item = _local_target(first_id(_object(activity)))
        if post is None or item is not None:
            return _accepted("only posts are counted")
        _reaction, created = Reaction.objects.get_or_create(
            post=post, kind=kind, actor=actor, defaults={"activity_id": first_id(activity.get("id"))[:2000]}
        )
        return _accepted("counted" if created else "already counted")

    return react


def flag(activity: dict, actor: RemoteActor, target: LocalActor | None) -> HttpResponse:
    objects = [url[:2000] for url in ids_of(activity.get("object"))][:50]
    Report.objects.get_or_create(
        activity_id=first_id(activity.get("id"))[:2000],
        defaults={
            "reporter": actor,
            "domain": actor.domain,
            "reported": objects,
            "content": text_of(activity.get("content"), 5000),
        },
    )
    return _accepted("reported")


HANDLERS = {
    "Follow": follow,
    "Undo": undo,
    "Create": create,
    "Update": update,
    "Delete": delete,
    "Like": _react(Reaction.Kind.LIKE),
    "Announce": _react(Reaction.Kind.ANNOUNCE),
    "Flag": flag,
}
