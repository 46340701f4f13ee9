"""Where a comment stands, who hears of it, and the one state change that queues nothing.

Below comments/services.py and comments/tasks.py, which both read these.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy

from comments.models import Comment
from comments.signals import comment_withdrawn

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


def should_be_public(comment: Comment) -> bool:
    return not (
        comment.is_removed
        or comment.is_spam
        or comment.awaiting_confirmation
        or comment.needs_spam_check
        or comment.hold_reason
    )


def held_linkbacks(*, post_id: int):
    """The post's linkbacks waiting for a moderator, newest first."""
    return (
        Comment.objects.filter(
            post_id=post_id, is_public=False, is_removed=False, is_spam=False, awaiting_confirmation=False
        )
        .exclude(kind=Comment.Kind.COMMENT)
        .order_by("-submit_date")
    )


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


def comment_mark_spam(*, comment: Comment) -> None:
    was_public = comment.is_public
    comment.is_spam, comment.is_public = True, False
    Comment.objects.filter(pk=comment.pk).update(is_spam=True, is_public=False)
    if was_public:
        comment_withdrawn.send(sender=Comment, comment=comment)
