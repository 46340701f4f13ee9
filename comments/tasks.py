"""Background work for the discussion: every email, and the delayed spam recheck.

Queued with `transaction.on_commit(lambda: task.enqueue(...))` from comments/services.py and run
by `manage.py db_worker`. Each email is written in the language of the page the recipient posted
from (stored on their comment), and carries links on the public origin.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.tasks import task
from django.urls import reverse
from django.utils import timezone, translation

from comments import services
from comments.models import Comment
from comments.spam import Verdict
from core.mail import templated_email

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
    key = services.confirmation_key(comment=comment)
    with translation.override(comment.language or settings.LANGUAGE_CODE):
        _send(
            to=comment.user_email,
            subject_template="comments/email/confirm_subject.txt",
            body_template="comments/email/confirm_body.txt",
            context={
                "comment": comment,
                "post": comment.post,
                "confirm_url": services.site_url(reverse("comments:confirm", args=[key])),
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
    permalink = services.site_url(comment.get_absolute_url())
    sent = 0
    for email, name, language in services.followers_of(comment=comment):
        mute_url = services.site_url(
            reverse("comments:mute", args=[services.mute_key(email=email, post_id=comment.post_id)])
        )
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
    from django.db import transaction
    from django.db.models import Max

    from comments.models import AuthorNotice

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
            transaction.on_commit(lambda: services.enqueue_later(send_author_notices, when, user_id, post_id))
            return 0
        notices.filter(pk__in=pending).update(sent_at=now)
    try:
        _send_author_email(author, post_id, pending)
    except Exception:
        notices.filter(pk__in=pending).update(sent_at=None)  # the next task tries again
        raise
    return len(pending)


def _send_author_email(author, post_id: int, notice_ids: list[int]) -> None:
    from comments.models import AuthorNotice
    from posts.tasks import email_language

    comments = [
        n.comment
        for n in AuthorNotice.objects.filter(pk__in=notice_ids)
        .select_related("comment", "comment__post")
        .order_by("comment__submit_date")
    ]
    post = comments[0].post
    items = []
    for comment in comments:
        state = services.comment_state(comment)
        items.append(
            {
                "comment": comment,
                "state": state,
                "state_label": services.COMMENT_STATE_LABELS[state],
                "text": comment.excerpt if comment.is_linkback else comment.comment,
                "permalink": services.site_url(comment.get_absolute_url()) if state == "public" else "",
                "reply_url": services.site_url(services.reply_url(comment=comment))
                if state == "public" and not comment.is_linkback
                else "",
                "moderate_url": services.site_url(reverse("comments:moderate", args=[comment.pk])),
                "queue_url": services.site_url(reverse("admin:comments_comment_change", args=[comment.pk]))
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
                "profile_url": services.site_url(reverse("admin:posts_authorprofile_me")),
            },
        )


@task
def notify_authors_of_held_linkbacks(post_id: int) -> int:
    """One email per author about the post's linkbacks waiting for a moderator (the digest).

    It says how many wait, of which kinds, from how many sites, and links to the queue. Nothing a
    sender chose (names, titles, excerpts, URLs) goes into it: a flood of trackbacks cannot make
    the site mail its words to the authors.
    """
    from collections import Counter

    from comments.linkbacks.services import source_origin
    from posts.models import Post

    post = Post.objects.filter(pk=post_id).first()
    held = list(services.held_linkbacks(post_id=post_id).values_list("kind", "source_url")) if post else []
    if not held:
        return 0
    kinds = Counter(kind for kind, _url in held)
    sites = len({source_origin(url) for _kind, url in held})
    queue_url = services.site_url(
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
    key = services.privacy_key(email=email)
    with translation.override(language or settings.LANGUAGE_CODE):
        _send(
            to=email,
            subject_template="comments/email/privacy_subject.txt",
            body_template="comments/email/privacy_body.txt",
            context={
                "manage_url": services.site_url(reverse("comments:privacy-manage", args=[key])),
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
    verdict = services.comment_recheck_spam(comment=comment)
    if verdict is Verdict.UNKNOWN and attempt < MAX_SPAM_RECHECKS:
        delay = settings.COMMENTS_SPAM_RECHECK_SECONDS * (2**attempt)
        services.enqueue_later(
            recheck_spam, timezone.now() + timedelta(seconds=delay), comment_id, attempt + 1
        )
    return str(verdict)


@task
def discard_unconfirmed(comment_id: int) -> int:
    """Delete a comment whose confirmation link expired unused (queued to run after expiry)."""
    from django_comments_xtd.models import XtdComment

    still_waiting = Comment.objects.filter(pk=comment_id, awaiting_confirmation=True).exists()
    if not still_waiting:
        return 0
    XtdComment.objects.filter(pk=comment_id).delete()
    return 1
