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
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy

from comments.models import Comment, remote_html
from comments.moderation import LINKBACK_SOURCE_GONE, post_moderator
from comments.signals import comment_published, comment_withdrawn
from comments.spam import Verdict, run_spam_checks
from core import ratelimit
from core.origin import absolute_url
from posts.models import Post, display_name

Outcome = Literal["public", "held", "spam", "rejected"]

CONFIRM_SALT = "sectorblog.comments.confirm"
MUTE_SALT = "sectorblog.comments.mute"
PRIVACY_SALT = "sectorblog.comments.privacy"


# --- States ------------------------------------------------------------------------------------


# What people read for each comment_state() word (privacy page, moderation admin).
COMMENT_STATE_LABELS = {
    "public": gettext_lazy("Public"),
    "awaiting": gettext_lazy("Awaiting confirmation"),
    "held": gettext_lazy("Held for moderation"),
    "spam": gettext_lazy("Spam"),
    "removed": gettext_lazy("Removed"),
}


def comment_state(comment: Comment) -> str:
    """One word for where a comment stands: public, awaiting, held, spam or removed."""
    if comment.is_removed:
        return "removed"
    if comment.is_spam:
        return "spam"
    if comment.awaiting_confirmation:
        return "awaiting"
    if comment.is_public:
        return "public"
    return "held"


def _should_be_public(comment: Comment) -> bool:
    return not (
        comment.is_removed
        or comment.is_spam
        or comment.awaiting_confirmation
        or comment.needs_spam_check
        or comment.hold_reason
    )


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
    comment.is_public = _should_be_public(comment)
    return "public" if comment.is_public else "held"


def comment_stored(*, comment: Comment) -> None:
    """Queue what follows a newly stored comment, after commit: follower and author emails.

    A reader comment tells the post's authors as each of them chose (author_notices_queue). Held
    linkbacks are told in one digest per post (held_linkbacks_digest_schedule): anyone can send
    trackbacks from many addresses, and one email per trackback to every author was theirs to
    trigger.
    """
    from comments import tasks

    pk = comment.pk
    if comment.is_public:
        transaction.on_commit(lambda: tasks.notify_followers.enqueue(pk))
        comment_published.send(sender=Comment, comment=comment)
    if comment.kind == Comment.Kind.COMMENT:
        author_notices_queue(comment=comment)
    elif comment_state(comment) == "held" and settings.COMMENTS_NOTIFY_AUTHORS_OF_HELD:
        held_linkbacks_digest_schedule(post_id=comment.post_id)
    if comment.needs_spam_check:
        when = timezone.now() + timedelta(seconds=settings.COMMENTS_SPAM_RECHECK_SECONDS)
        transaction.on_commit(
            lambda: enqueue_later(tasks.recheck_spam, when, pk, 1, run_now_if_unsupported=True)
        )


def held_linkbacks_digest_schedule(*, post_id: int) -> bool:
    """Queue the post's held-linkbacks digest LINKBACK_HELD_DIGEST_SECONDS from now, unless one is
    queued already (a marker in the shared rate-limit store that lives as long, so every process
    sees it). Returns whether this call queued it.

    So a post's authors get at most one such email per window, however many linkbacks arrive and
    from however many addresses; the digest counts every linkback still waiting when it goes out.
    """
    from comments import tasks

    window = settings.LINKBACK_HELD_DIGEST_SECONDS
    marker = f"comments:held-linkbacks-digest:{post_id}"
    if not ratelimit.limit_check(limits={marker: 1}, seconds=max(1, window)):
        return False
    when = timezone.now() + timedelta(seconds=window)
    digest = tasks.notify_authors_of_held_linkbacks
    transaction.on_commit(lambda: enqueue_later(digest, when, post_id, run_now_if_unsupported=True))
    return True


def held_linkbacks(*, post_id: int):
    """The post's linkbacks waiting for a moderator, newest first."""
    return (
        Comment.objects.filter(
            post_id=post_id, is_public=False, is_removed=False, is_spam=False, awaiting_confirmation=False
        )
        .exclude(kind=Comment.Kind.COMMENT)
        .order_by("-submit_date")
    )


def enqueue_later(task, when, *args, run_now_if_unsupported: bool = False) -> None:
    """Queue a task to run after `when`; backends that cannot defer (the immediate one, in
    tests and debugging) run it now or skip it."""
    if task.get_backend().supports_defer:
        task.using(run_after=when).enqueue(*args)
    elif run_now_if_unsupported:
        task.enqueue(*args)


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
        from comments import tasks

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
    from django_comments_xtd.models import XtdComment

    if comment.is_public:
        comment_withdrawn.send(sender=Comment, comment=comment)
    # Through the base model, so all three table rows go (as privacy_delete does).
    XtdComment.objects.filter(pk=comment.pk).delete()


# --- Confirmation by email -------------------------------------------------------------------------


def _email_digest(email: str) -> str:
    return hashlib.sha256(email.strip().lower().encode()).hexdigest()[:32]


def confirmation_key(*, comment: Comment) -> str:
    """A signed, timestamped key naming one waiting comment. JSON inside: nothing is unpickled."""
    return signing.dumps({"c": comment.pk, "e": _email_digest(comment.user_email)}, salt=CONFIRM_SALT)


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
    if comment is None or _email_digest(comment.user_email) != data.get("e"):
        raise ConfirmationError("gone")
    if not comment.awaiting_confirmation:
        return comment
    comment.awaiting_confirmation = False
    comment.is_public = _should_be_public(comment)
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


def comment_mark_spam(*, comment: Comment) -> None:
    was_public = comment.is_public
    comment.is_spam, comment.is_public = True, False
    Comment.objects.filter(pk=comment.pk).update(is_spam=True, is_public=False)
    if was_public:
        comment_withdrawn.send(sender=Comment, comment=comment)


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


def comment_recheck_spam(*, comment: Comment, context: dict[str, Any] | None = None) -> Verdict:
    """Ask the spam checks again about a comment held because the service failed."""
    verdict = run_spam_checks(comment, context)
    if verdict is Verdict.SPAM:
        comment.needs_spam_check = False
        Comment.objects.filter(pk=comment.pk).update(needs_spam_check=False)
        comment_mark_spam(comment=comment)
    elif verdict is Verdict.HAM:
        comment.needs_spam_check = False
        comment.is_public = _should_be_public(comment)
        Comment.objects.filter(pk=comment.pk).update(needs_spam_check=False, is_public=comment.is_public)
        if comment.is_public:  # authors already heard about it when it was held
            comment_stored(comment=comment)
    return verdict


# --- Telling the post's authors -------------------------------------------------------------------


def author_notices_queue(*, comment: Comment) -> int:
    """Note the comment for each author of the post who wants to hear of it (their profile:
    every comment, only held ones, or none), and queue the email after commit. A comment is
    noted once per author, so approving a held comment does not announce it again."""
    from django.contrib.auth import get_user_model

    from comments import tasks
    from comments.models import AuthorNotice

    state = comment_state(comment)
    if comment.post_id is None or state not in ("public", "held"):
        return 0
    if state == "held" and not settings.COMMENTS_NOTIFY_AUTHORS_OF_HELD:
        return 0
    wanted = {"all"} if state == "public" else {"all", "held"}
    authors = (
        get_user_model()
        .objects.filter(authorships__post_id=comment.post_id, is_active=True)
        .exclude(email="")
        .values_list("pk", "email", "profile__comment_notifications")
    )
    own_email = (comment.user_email or "").strip().lower()
    chosen = [
        pk
        for pk, email, choice in authors
        if (choice or "all") in wanted and pk != comment.user_id and email.strip().lower() != own_email
    ]
    if not chosen:
        return 0
    AuthorNotice.objects.bulk_create(
        [AuthorNotice(user_id=pk, post_id=comment.post_id, comment_id=comment.pk) for pk in chosen],
        ignore_conflicts=True,
    )
    post_id = comment.post_id
    for pk in chosen:
        transaction.on_commit(lambda pk=pk: tasks.send_author_notices.enqueue(pk, post_id))
    return len(chosen)


# --- Follow-ups and mute -------------------------------------------------------------------------------


def mute_key(*, email: str, post_id: int) -> str:
    return signing.dumps({"e": email.strip().lower(), "p": post_id}, salt=MUTE_SALT)


def followup_mute(*, key: str) -> Post:
    """Stop follow-up emails for one address on one post. Idempotent. Raises BadSignature."""
    data = signing.loads(key, salt=MUTE_SALT)
    if not isinstance(data, dict) or not isinstance(data.get("p"), int):
        raise signing.BadSignature("malformed")
    Comment.objects.filter(post_id=data["p"], user_email__iexact=data.get("e", "")).update(followup=False)
    return Post.objects.get(pk=data["p"])


def followers_of(*, comment: Comment) -> list[tuple[str, str, str]]:
    """(email, name, language) of everyone to tell about this new public comment, except its own
    author: those following the whole discussion, and those following replies to a comment of
    theirs that this one answers (directly or further down its branch)."""
    rows = (
        Comment.objects.filter(
            post_id=comment.post_id, is_public=True, is_removed=False, is_spam=False, followup=True
        )
        .exclude(user_email__iexact=comment.user_email)
        .exclude(user_email="")
        .order_by("submit_date")
        .values_list("pk", "user_email", "user_name", "language", "followup_scope")
    )
    branch = _ancestor_ids(comment)
    found: dict[str, tuple[str, str, str]] = {}
    for pk, email, name, language, scope in rows:
        if scope == Comment.Followup.REPLIES and pk not in branch:
            continue
        found[email.lower()] = (email, name, language)  # the latest comment's name and language
    return list(found.values())


def _ancestor_ids(comment: Comment) -> set[int]:
    """The comments this one answers, up to the top of its thread (one query for the thread)."""
    if not comment.parent_id or comment.parent_id == comment.pk:
        return set()
    parents = dict(Comment.norel_objects.filter(thread_id=comment.thread_id).values_list("pk", "parent_id"))
    found: set[int] = set()
    current = comment.parent_id
    while current and current not in found:
        found.add(current)
        parent = parents.get(current)
        current = parent if parent != current else None
    return found


# --- Privacy: see and delete everything made with one address ---------------------------------------


def privacy_key(*, email: str) -> str:
    return signing.dumps({"e": email.strip().lower()}, salt=PRIVACY_SALT)


def privacy_email_from_key(*, key: str) -> str:
    """The address a privacy link was sent to. Raises BadSignature or SignatureExpired."""
    data = signing.loads(key, salt=PRIVACY_SALT, max_age=settings.COMMENTS_PRIVACY_MAX_AGE)
    if not isinstance(data, dict) or not isinstance(data.get("e"), str):
        raise signing.BadSignature("malformed")
    return data["e"]


def privacy_request(*, email: str) -> None:
    """Email a signed link to the address (always; whether it has comments is not revealed)."""
    from comments import tasks

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
    from django_comments_xtd.models import XtdComment

    # Deleting through the base model removes all three table rows of each comment.
    XtdComment.objects.filter(pk__in=ids).delete()
    return len(ids)


# --- Links ---------------------------------------------------------------------------------------------


def site_url(path: str) -> str:
    """An absolute URL on the public origin (settings, not the Site row: XTD-NOTES trap 11)."""
    return absolute_url(path)


def comment_page_url(*, comment: Comment) -> str:
    """The post URL, on the page of the thread holding this comment, with the #c<id> anchor."""
    from comments.thread import page_of_thread

    page = page_of_thread(post_id=comment.post_id, thread_id=comment.thread_id)
    url = comment.post.get_absolute_url()
    if page > 1:
        url += f"?cpage={page}"
    return f"{url}#c{comment.pk}"


def reply_url(*, comment: Comment) -> str:
    return reverse("comments:reply", args=[comment.pk])
