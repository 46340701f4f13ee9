"""Discussion workflows: post, confirm, moderate, notify, mute, forget.

Every function here is keyword-only and typed. Email never goes out inline: it is queued as a
django.tasks task after the transaction commits (comments/tasks.py).

For the linkbacks code: build a `Comment` (kind, source_url, …), call
`comment_moderate(comment=c)`; if it returns "rejected" drop it, otherwise save it and call
`comment_stored(comment=c)` so followers and authors are notified after commit.

For replies from other networks (the federation app's fediverse replies): `remote_reply_store`,
`remote_reply_edit` and `remote_reply_delete` below put them in the thread through the same
moderation. Apps above comments learn about visible changes from the `comment_published` and
`comment_withdrawn` signals (comments/signals.py).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Literal

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core import signing
from django.db import IntegrityError, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy
from django_comments_xtd.models import XtdComment

from comments import tasks
from comments.links import CONFIRM_SALT, MUTE_SALT, email_digest
from comments.links import (  # re-exported: services is the discussion's API for views and apps
    comment_page_url as comment_page_url,
)
from comments.links import (
    confirmation_key as confirmation_key,
)
from comments.links import mute_key as mute_key
from comments.links import privacy_email_from_key as privacy_email_from_key
from comments.links import privacy_key as privacy_key
from comments.links import reply_url as reply_url
from comments.links import site_url as site_url
from comments.models import Comment, remote_html
from comments.moderation import LINKBACK_SOURCE_GONE, post_moderator
from comments.signals import comment_withdrawn
from comments.spam import Verdict, run_spam_checks
from comments.states import COMMENT_STATE_LABELS as COMMENT_STATE_LABELS
from comments.states import comment_mark_spam as comment_mark_spam
from comments.states import comment_state as comment_state
from comments.states import followers_of as followers_of
from comments.states import held_linkbacks as held_linkbacks
from comments.states import should_be_public
from comments.tasks import author_notices_queue as author_notices_queue
from comments.tasks import comment_recheck_spam as comment_recheck_spam
from comments.tasks import comment_stored
from core import ratelimit
from core.queue import enqueue_later as enqueue_later
from posts.models import Post, display_name

Outcome = Literal["public", "held", "spam", "rejected"]


# --- States ------------------------------------------------------------------------------------


# What people read for each comment_state() word (privacy page, moderation admin).


# --- Moderation (also the entry point for linkbacks) ---------------------------------------------


def comment_moderate(*, comment: Comment, context: dict[str, Any] | None = None) -> Outcome:
    """Apply the block list, spam checks and hold rules to a comment; set its flags; don't save.

    Returns "rejected" (do not store it), "spam", "held" or "public". A spam service that fails
    holds the comment and marks it for a later recheck (`needs_spam_check`).
    """
    post = comment.post or Post.objects.get(pk=comment.object_pk)
    moderator = post_moderator()
    if not moderator.allow(comment, post, None):
        return "rejected"
    verdict = run_spam_checks(comment, context)
    if verdict is Verdict.SPAM:
        comment.is_spam = True
        comment.is_public = False
        return "spam"
    moderator.moderate(comment, post, None)
    comment.needs_spam_check = verdict is Verdict.UNKNOWN
    comment.is_public = should_be_public(comment)
    return "public" if comment.is_public else "held"


# --- Posting -------------------------------------------------------------------------------------


@dataclass
class Submission:
    outcome: Literal["public", "held", "awaiting", "spam", "rejected", "flood", "duplicate"]
    comment: Comment | None = None


def comment_flood_claim(*, ip: str | None, email: str, scope: str = "post") -> bool:
    """Claim the flood-control slot for this IP and email; False if either was used recently.

    The claim is counted in the store every process shares (core/ratelimit.py), so it holds
    whichever gunicorn worker or app server answers the next request.
    """
    keys = []
    if email.strip():
        digest = hashlib.sha256(email.strip().lower().encode()).hexdigest()
        keys.append(f"comments:flood:{scope}:email:{digest}")
    if ip:
        keys.append(f"comments:flood:{scope}:ip:{ip}")
    return ratelimit.limit_check(limits=dict.fromkeys(keys, 1), seconds=settings.COMMENTS_FLOOD_SECONDS)


def comment_submit(*, comment: Comment, context: dict[str, Any], trusted: bool = False) -> Submission:
    """Moderate and store a reader's comment in one transaction, then queue its emails.

    Signed-in users' comments go straight to moderation; anonymous ones wait for the email
    confirmation, unless `trusted` (this browser confirmed this address before:
    comments/commenter.py) and the address has no comment marked as spam. An identical
    duplicate is refused by the unique `duplicate_key`, which holds under concurrent requests
    (no check-then-insert).
    """
    if not comment_flood_claim(ip=comment.ip_address, email=comment.user_email):
        return Submission("flood")
    outcome = comment_moderate(comment=comment, context=context)
    if outcome == "rejected":
        return Submission("rejected")
    anonymous = comment.user_id is None
    if trusted and Comment.objects.filter(user_email__iexact=comment.user_email, is_spam=True).exists():
        trusted = False
    if anonymous and outcome != "spam" and not trusted:
        comment.awaiting_confirmation = True
        comment.is_public = False
    try:
        with transaction.atomic():
            comment.save()
    except IntegrityError:
        return Submission("duplicate")
    if comment.awaiting_confirmation:
        pk = comment.pk
        expiry = timezone.now() + timedelta(seconds=settings.COMMENTS_CONFIRM_MAX_AGE + 3600)
        transaction.on_commit(lambda: tasks.send_confirmation_request.enqueue(pk))
        # Once the link has expired, an unconfirmed comment is deleted rather than kept forever.
        transaction.on_commit(lambda: enqueue_later(tasks.discard_unconfirmed, expiry, pk))
    else:
        comment_stored(comment=comment)
    if comment.awaiting_confirmation:
        return Submission("awaiting", comment)
    return Submission(outcome, comment)


# --- Replies from other networks (fediverse) --------------------------------------------------------


def _thread_parent(parent: Comment | None) -> int:
    """The parent a new reply may hang under: `parent` itself, or its nearest ancestor shallow
    enough that the reply stays within COMMENTS_XTD_MAX_THREAD_LEVEL (xtd refuses deeper ones,
    XTD-NOTES trap 2). 0 starts a new thread."""
    max_level = settings.COMMENTS_XTD_MAX_THREAD_LEVEL
    while parent is not None and parent.level >= max_level:
        if parent.parent_id in (0, parent.pk):
            break
        parent = Comment.objects.filter(pk=parent.parent_id).first()
    return parent.pk if parent is not None else 0


def remote_reply_store(
    *,
    post: Post,
    parent: Comment | None,
    html: str,
    author_name: str,
    author_handle: str,
    author_url: str,
    avatar_url: str,
    source_url: str,
    submitted_at,
    language: str = "",
) -> Submission:
    """Put a reply from another network into the post's thread, under `parent` (None: at the top).

    It passes the same moderation as a reader's comment (closed threads, the block list by handle
    and server, the hold rules including a sender's first reply, the spam checks) and then the
    same notifications. Its HTML is kept only as the comment profile sanitizes it. A second
    delivery of the same reply (same post and source URL) is refused as a duplicate.
    """
    comment = Comment(
        content_type=ContentType.objects.get_for_model(Post),
        object_pk=str(post.pk),
        post=post,
        site_id=settings.SITE_ID,
        kind=Comment.Kind.FEDIVERSE,
        user_name=author_name.strip()[:50] or author_handle[:50],
        user_email="",
        user_url=author_url if len(author_url) <= 200 else "",
        author_handle=author_handle[:300],
        author_avatar_url=avatar_url[:2000],
        source_url=source_url[:2000],
        comment=remote_html(html),
        submit_date=submitted_at or timezone.now(),
        parent_id=_thread_parent(parent),
        language=language[:10],
        is_public=False,
        followup=False,
    )
    outcome = comment_moderate(comment=comment, context={"language": language})
    if outcome == "rejected":
        return Submission("rejected")
    try:
        with transaction.atomic():
            comment.save()
    except IntegrityError:
        return Submission("duplicate")
    comment_stored(comment=comment)
    return Submission(outcome, comment)


def answer_post(*, parent: Comment, user, text: str) -> Submission:
    """A signed-in user's answer under a thread item, written outside the site's form (the admin's
    "answer" page for fediverse replies). It is moderated and stored as the form's comments are."""
    comment = Comment(
        content_type=ContentType.objects.get_for_model(Post),
        object_pk=str(parent.post_id),
        post_id=parent.post_id,
        site_id=settings.SITE_ID,
        user=user,
        user_name=display_name(user)[:50],
        user_email=user.email,
        comment=text,
        submit_date=timezone.now(),
        parent_id=_thread_parent(parent),
        language=translation.get_language() or settings.LANGUAGE_CODE,
        kind=Comment.Kind.COMMENT,
        is_public=False,
        followup=False,
    )
    return comment_submit(comment=comment, context={})


def remote_reply_edit(*, comment: Comment, html: str) -> Outcome:
    """The sender edited their reply: keep the new text and moderate it again. A public reply
    stays public unless the new text trips a rule; a held one is looked at afresh."""
    was_public = comment.is_public
    comment.comment = remote_html(html)
    comment.is_spam, comment.hold_reason = False, ""
    outcome = comment_moderate(comment=comment, context={"language": comment.language})
    if outcome == "rejected":
        # The thread closed or the sender was blocked since: keep the edit out of sight.
        comment.is_public = False
        comment.hold_reason = str(gettext_lazy("edited after its thread closed or its sender was blocked"))
        outcome = "held"
    comment.save()
    if comment.is_public and not was_public:
        comment_stored(comment=comment)
    elif was_public and not comment.is_public:
        comment_withdrawn.send(sender=Comment, comment=comment)
    return outcome


def remote_reply_delete(*, comment: Comment) -> None:
    """The sender deleted their reply: it is deleted here too (its text is not kept). Replies to
    it stay in the thread, moved up to where it was."""

    if comment.is_public:
        comment_withdrawn.send(sender=Comment, comment=comment)
    # Through the base model, so all three table rows go (as privacy_delete does).
    XtdComment.objects.filter(pk=comment.pk).delete()


# --- Confirmation by email -------------------------------------------------------------------------


class ConfirmationError(Exception):
    def __init__(self, reason: Literal["invalid", "expired", "gone"]):
        super().__init__(reason)
        self.reason = reason


def comment_confirm(*, key: str) -> Comment:
    """Confirm the comment a key names. Clicking twice is harmless: the second click finds the
    comment no longer waiting and changes nothing. Raises ConfirmationError."""
    try:
        data = signing.loads(key, salt=CONFIRM_SALT, max_age=settings.COMMENTS_CONFIRM_MAX_AGE)
    except signing.SignatureExpired as exc:
        raise ConfirmationError("expired") from exc
    except signing.BadSignature as exc:
        raise ConfirmationError("invalid") from exc
    if not isinstance(data, dict) or not isinstance(data.get("c"), int):
        raise ConfirmationError("invalid")
    # Lock the row so two simultaneous clicks confirm (and notify) once.
    comment = Comment.norel_objects.select_for_update().filter(pk=data["c"]).first()
    if comment is None or email_digest(comment.user_email) != data.get("e"):
        raise ConfirmationError("gone")
    if not comment.awaiting_confirmation:
        return comment
    comment.awaiting_confirmation = False
    comment.is_public = should_be_public(comment)
    Comment.objects.filter(pk=comment.pk).update(awaiting_confirmation=False, is_public=comment.is_public)
    comment_stored(comment=comment)
    return comment


# --- Moderator actions -------------------------------------------------------------------------------


def comment_approve(*, comment: Comment) -> None:
    was_public = comment.is_public
    comment.is_public, comment.is_spam, comment.is_removed = True, False, False
    comment.hold_reason, comment.needs_spam_check, comment.awaiting_confirmation = "", False, False
    Comment.objects.filter(pk=comment.pk).update(
        is_public=True,
        is_spam=False,
        is_removed=False,
        hold_reason="",
        needs_spam_check=False,
        awaiting_confirmation=False,
    )
    if not was_public:
        comment_stored(comment=comment)


def comment_remove(*, comment: Comment) -> None:
    """A moderator's removal. It clears the "source gone" mark, so no later ping brings it back."""
    was_public = comment.is_public
    comment.is_removed, comment.is_public = True, False
    if comment.hold_reason == LINKBACK_SOURCE_GONE:
        comment.hold_reason = ""
    Comment.objects.filter(pk=comment.pk).update(
        is_removed=True, is_public=False, hold_reason=comment.hold_reason
    )
    if was_public:
        comment_withdrawn.send(sender=Comment, comment=comment)


# --- Telling the post's authors -------------------------------------------------------------------


# --- Follow-ups and mute -------------------------------------------------------------------------------


def followup_mute(*, key: str) -> Post:
    """Stop follow-up emails for one address on one post. Idempotent. Raises BadSignature."""
    data = signing.loads(key, salt=MUTE_SALT)
    if not isinstance(data, dict) or not isinstance(data.get("p"), int):
        raise signing.BadSignature("malformed")
    Comment.objects.filter(post_id=data["p"], user_email__iexact=data.get("e", "")).update(followup=False)
    return Post.objects.get(pk=data["p"])


# --- Privacy: see and delete everything made with one address ---------------------------------------


def privacy_request(*, email: str) -> None:
    """Email a signed link to the address (always; whether it has comments is not revealed)."""
    language = translation.get_language() or settings.LANGUAGE_CODE
    address = email.strip()
    transaction.on_commit(lambda: tasks.send_privacy_link.enqueue(address, language))


def comments_by_email(*, email: str):
    return (
        Comment.objects.filter(user_email__iexact=email, kind=Comment.Kind.COMMENT)
        .select_related("post")
        .order_by("-submit_date")
    )


def privacy_delete(*, email: str) -> int:
    """Delete every comment made with this address. Replies by others stay, shown at top level."""
    ids = list(comments_by_email(email=email).values_list("pk", flat=True))

    # Deleting through the base model removes all three table rows of each comment.
    XtdComment.objects.filter(pk__in=ids).delete()
    return len(ids)


# --- Links ---------------------------------------------------------------------------------------------
