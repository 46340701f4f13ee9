"""Background work for the discussion: every email, and the delayed spam recheck.

Queued with `transaction.on_commit(lambda: task.enqueue(...))`, only here: comments/services.py
calls the queueing helpers at the end of this module. Run by `manage.py worker`. Each email is
written in the language of the page the recipient posted from (stored on their comment), and
carries links on the public origin.
"""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Max
from django.tasks import task
from django.urls import reverse
from django.utils import timezone, translation
from django_comments_xtd.models import XtdComment

from comments.linkbacks.origins import source_origin
from comments.links import confirmation_key, mute_key, privacy_key, reply_url, site_url
from comments.models import AuthorNotice, Comment
from comments.signals import comment_published
from comments.spam import Verdict, run_spam_checks
from comments.states import (
    COMMENT_STATE_LABELS,
    comment_mark_spam,
    comment_state,
    followers_of,
    held_linkbacks,
    should_be_public,
)
from core import ratelimit
from core.mail import templated_email
from core.queue import enqueue_later
from posts.models import Post
from posts.tasks import email_language

MAX_SPAM_RECHECKS = 6


def _send(*, to: str, subject_template: str, body_template: str, context: dict, headers=None) -> None:
    """In the active language (callers wrap it in translation.override)."""
    templated_email(
        to=to,
        language=translation.get_language() or settings.LANGUAGE_CODE,
        subject_template=subject_template,
        body_template=body_template,
        context=context,
        headers=headers,
    ).send()


@task
def send_confirmation_request(comment_id: int) -> str:
    """Ask an anonymous commenter to confirm their comment by following a signed link."""
    comment = Comment.objects.select_related("post").filter(pk=comment_id).first()
    if comment is None or not comment.awaiting_confirmation:
        return "skipped"
    key = confirmation_key(comment=comment)
    with translation.override(comment.language or settings.LANGUAGE_CODE):
        _send(
            to=comment.user_email,
            subject_template="comments/email/confirm_subject.txt",
            body_template="comments/email/confirm_body.txt",
            context={
                "comment": comment,
                "post": comment.post,
                "confirm_url": site_url(reverse("comments:confirm", args=[key])),
                "days": max(1, settings.COMMENTS_CONFIRM_MAX_AGE // 86400),
            },
        )
    return "sent"


@task
def notify_followers(comment_id: int) -> int:
    """Tell everyone following the post about a new public comment; each email can mute."""
    comment = Comment.objects.select_related("post").filter(pk=comment_id, is_public=True).first()
    if comment is None or comment.post is None:
        return 0
    permalink = site_url(comment.get_absolute_url())
    sent = 0
    for email, name, language in followers_of(comment=comment):
        mute_url = site_url(reverse("comments:mute", args=[mute_key(email=email, post_id=comment.post_id)]))
        with translation.override(language or settings.LANGUAGE_CODE):
            _send(
                to=email,
                subject_template="comments/email/followup_subject.txt",
                body_template="comments/email/followup_body.txt",
                context={
                    "name": name,
                    "comment": comment,
                    "post": comment.post,
                    "permalink": permalink,
                    "mute_url": mute_url,
                },
                # RFC 8058 one-click unsubscribe for mail clients that offer it.
                headers={
                    "List-Unsubscribe": f"<{mute_url}>",
                    "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
                },
            )
        sent += 1
    return sent


@task
def send_author_notices(user_id: int, post_id: int) -> int:
    """One email to a post's author listing the comments that arrived since the last one, at most
    one per COMMENTS_NOTIFY_AUTHOR_WINDOW for that author and post: a burst waits and goes out
    together when the window ends."""

    window = timedelta(seconds=settings.COMMENTS_NOTIFY_AUTHOR_WINDOW)
    now = timezone.now()
    notices = AuthorNotice.objects.filter(user_id=user_id, post_id=post_id)
    with transaction.atomic():
        # One task per author at a time: the lock orders concurrent tasks for the same author.
        author = get_user_model().objects.select_for_update().filter(pk=user_id).first()
        if author is None or not author.email:
            return 0
        last = notices.filter(sent_at__isnull=False).aggregate(at=Max("sent_at"))["at"]
        pending = list(notices.filter(sent_at__isnull=True).values_list("pk", flat=True))
        if not pending:
            return 0
        if last is not None and now < last + window:
            when = last + window
            transaction.on_commit(lambda: enqueue_later(send_author_notices, when, user_id, post_id))
            return 0
        notices.filter(pk__in=pending).update(sent_at=now)
    try:
        _send_author_email(author, post_id, pending)
    except Exception:
        notices.filter(pk__in=pending).update(sent_at=None)  # the next task tries again
        raise
    return len(pending)


def _send_author_email(author, post_id: int, notice_ids: list[int]) -> None:
    comments = [
        n.comment
        for n in AuthorNotice.objects.filter(pk__in=notice_ids)
        .select_related("comment", "comment__post")
        .order_by("comment__submit_date")
    ]
    post = comments[0].post
    items = []
    for comment in comments:
        state = comment_state(comment)
        items.append(
            {
                "comment": comment,
                "state": state,
                "state_label": COMMENT_STATE_LABELS[state],
                "text": comment.excerpt if comment.is_linkback else comment.comment,
                "permalink": site_url(comment.get_absolute_url()) if state == "public" else "",
                "reply_url": site_url(reply_url(comment=comment))
                if state == "public" and not comment.is_linkback
                else "",
                "moderate_url": site_url(reverse("comments:moderate", args=[comment.pk])),
                "queue_url": site_url(reverse("admin:comments_comment_change", args=[comment.pk]))
                if state == "held"
                else "",
            }
        )
    with translation.override(email_language(author)):
        _send(
            to=author.email,
            subject_template="comments/email/author_subject.txt",
            body_template="comments/email/author_body.txt",
            context={
                "post": post,
                "items": items,
                "count": len(items),
                "all_held": all(item["state"] == "held" for item in items),
                "profile_url": site_url(reverse("admin:posts_authorprofile_me")),
            },
        )


@task
def notify_authors_of_held_linkbacks(post_id: int) -> int:
    """One email per author about the post's linkbacks waiting for a moderator (the digest).

    It says how many wait, of which kinds, from how many sites, and links to the queue. Nothing a
    sender chose (names, titles, excerpts, URLs) goes into it: a flood of trackbacks cannot make
    the site mail its words to the authors.
    """

    post = Post.objects.filter(pk=post_id).first()
    held = list(held_linkbacks(post_id=post_id).values_list("kind", "source_url")) if post else []
    if not held:
        return 0
    kinds = Counter(kind for kind, _url in held)
    sites = len({source_origin(url) for _kind, url in held})
    queue_url = site_url(
        reverse("admin:comments_comment_changelist") + f"?state=held&post__id__exact={post_id}"
    )
    authors = get_user_model().objects.filter(authorships__post=post).exclude(email="")
    sent = 0
    for author in authors:
        with translation.override(post.language or settings.LANGUAGE_CODE):
            _send(
                to=author.email,
                subject_template="comments/email/held_linkbacks_subject.txt",
                body_template="comments/email/held_linkbacks_body.txt",
                context={
                    "post": post,
                    "total": len(held),
                    "kinds": [(Comment.Kind(kind).label, n) for kind, n in sorted(kinds.items())],
                    "sites": sites,
                    "queue_url": queue_url,
                },
            )
        sent += 1
    return sent


@task
def send_privacy_link(email: str, language: str) -> str:
    """Send the signed link that shows, and can delete, every comment made with an address."""
    key = privacy_key(email=email)
    with translation.override(language or settings.LANGUAGE_CODE):
        _send(
            to=email,
            subject_template="comments/email/privacy_subject.txt",
            body_template="comments/email/privacy_body.txt",
            context={
                "manage_url": site_url(reverse("comments:privacy-manage", args=[key])),
                "hours": max(1, settings.COMMENTS_PRIVACY_MAX_AGE // 3600),
            },
        )
    return "sent"


@task
def recheck_spam(comment_id: int, attempt: int) -> str:
    """Ask the spam service again about a comment held because it failed; retry with backoff."""
    comment = Comment.objects.filter(pk=comment_id, needs_spam_check=True).first()
    if comment is None:
        return "nothing to do"
    verdict = comment_recheck_spam(comment=comment)
    if verdict is Verdict.UNKNOWN and attempt < MAX_SPAM_RECHECKS:
        delay = settings.COMMENTS_SPAM_RECHECK_SECONDS * (2**attempt)
        enqueue_later(recheck_spam, timezone.now() + timedelta(seconds=delay), comment_id, attempt + 1)
    return str(verdict)


@task
def discard_unconfirmed(comment_id: int) -> int:
    """Delete a comment whose confirmation link expired unused (queued to run after expiry)."""
    still_waiting = Comment.objects.filter(pk=comment_id, awaiting_confirmation=True).exists()
    if not still_waiting:
        return 0
    XtdComment.objects.filter(pk=comment_id).delete()
    return 1


# --- Queueing: the one place that queues the tasks above -----------------------------------------
# comments/services.py calls these (and re-exports comment_stored); the tasks above call them too
# (a recheck that clears a comment queues its notices), which is why they live here.


def comment_stored(*, comment: Comment) -> None:
    """Queue what follows a newly stored comment, after commit: follower and author emails.

    A reader comment tells the post's authors as each of them chose (author_notices_queue). Held
    linkbacks are told in one digest per post (held_linkbacks_digest_schedule): anyone can send
    trackbacks from many addresses, and one email per trackback to every author was theirs to
    trigger.
    """
    pk = comment.pk
    if comment.is_public:
        transaction.on_commit(lambda: notify_followers.enqueue(pk))
        comment_published.send(sender=Comment, comment=comment)
    if comment.kind == Comment.Kind.COMMENT:
        author_notices_queue(comment=comment)
    elif comment_state(comment) == "held" and settings.COMMENTS_NOTIFY_AUTHORS_OF_HELD:
        held_linkbacks_digest_schedule(post_id=comment.post_id)
    if comment.needs_spam_check:
        when = timezone.now() + timedelta(seconds=settings.COMMENTS_SPAM_RECHECK_SECONDS)
        transaction.on_commit(lambda: enqueue_later(recheck_spam, when, pk, 1, run_now_if_unsupported=True))


def held_linkbacks_digest_schedule(*, post_id: int) -> bool:
    """Queue the post's held-linkbacks digest LINKBACK_HELD_DIGEST_SECONDS from now, unless one is
    queued already (a marker in the shared rate-limit store that lives as long, so every process
    sees it). Returns whether this call queued it.

    So a post's authors get at most one such email per window, however many linkbacks arrive and
    from however many addresses; the digest counts every linkback still waiting when it goes out.
    """
    window = settings.LINKBACK_HELD_DIGEST_SECONDS
    marker = f"comments:held-linkbacks-digest:{post_id}"
    if not ratelimit.limit_check(limits={marker: 1}, seconds=max(1, window)):
        return False
    when = timezone.now() + timedelta(seconds=window)
    digest = notify_authors_of_held_linkbacks
    transaction.on_commit(lambda: enqueue_later(digest, when, post_id, run_now_if_unsupported=True))
    return True


def author_notices_queue(*, comment: Comment) -> int:
    """Note the comment for each author of the post who wants to hear of it (their profile:
    every comment, only held ones, or none), and queue the email after commit. A comment is
    noted once per author, so approving a held comment does not announce it again."""
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
        transaction.on_commit(lambda pk=pk: send_author_notices.enqueue(pk, post_id))
    return len(chosen)


def comment_recheck_spam(*, comment: Comment, context: dict[str, Any] | None = None) -> Verdict:
    """Ask the spam checks again about a comment held because the service failed."""
    verdict = run_spam_checks(comment, context)
    if verdict is Verdict.SPAM:
        comment.needs_spam_check = False
        Comment.objects.filter(pk=comment.pk).update(needs_spam_check=False)
        comment_mark_spam(comment=comment)
    elif verdict is Verdict.HAM:
        comment.needs_spam_check = False
        comment.is_public = should_be_public(comment)
        Comment.objects.filter(pk=comment.pk).update(needs_spam_check=False, is_public=comment.is_public)
        if comment.is_public:  # authors already heard about it when it was held
            comment_stored(comment=comment)
    return verdict
