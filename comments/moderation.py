"""Who may comment where, and which comments wait for a moderator.

All the hold and reject rules live in one moderator class, `PostModerator`, registered for Post
with xtd's moderator in `CommentsConfig.ready()`. `comments.services.comment_moderate()` is the
one caller; it works for reader comments and for linkbacks alike.

One permission decides who moderates, everywhere: `MODERATE_PERMISSION` (XTD-NOTES trap 7; xtd's
tree template and django_comments' views disagree, so neither of theirs is used).
"""

from __future__ import annotations

import re
from datetime import timedelta

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop
from django_comments_xtd.models import BlackListedDomain
from django_comments_xtd.moderation import XtdCommentModerator, moderator

from comments.models import Comment
from posts.models import Post

MODERATE_PERMISSION = "comments.can_moderate"

# The hold reason of a linkback hidden because its source is gone or no longer links: the mark
# that lets a later verification bring it back, which a moderator's removal must never allow.
LINKBACK_SOURCE_GONE = gettext_noop("the source no longer links to this post")

_LINK_RE = re.compile(r"https?://|www\.", re.IGNORECASE)


def comments_open(post: Post) -> bool:
    """Comments are open while the post allows them and is younger than the closing age."""
    if not post.allow_comments or not post.is_published:
        return False
    days = settings.COMMENTS_CLOSE_AFTER_DAYS
    return not (days and post.published_at < timezone.now() - timedelta(days=days))


def is_blocked(email: str) -> bool:
    """True when the address, or its domain (or a parent domain), is on the block list.

    The block list is xtd's BlackListedDomain table, editable in the admin; an entry holding an
    "@" blocks one address, any other entry blocks a domain and its subdomains.
    """
    email = (email or "").strip().lower()
    if "@" not in email:
        return False
    domain = email.rsplit("@", 1)[1]
    parts = domain.split(".")
    candidates = [email] + [".".join(parts[i:]) for i in range(len(parts) - 1)]
    return BlackListedDomain.objects.filter(domain__in=candidates).exists()


def count_links(text: str) -> int:
    return len(_LINK_RE.findall(text or ""))


class PostModerator(XtdCommentModerator):
    """The hold rules for comments and linkbacks on posts.

    `allow()` False means reject outright (closed thread, or block list). `moderate()` True means
    hold for a moderator; the reason is left on `comment.hold_reason`.
    """

    email_notification = False
    enable_field = "allow_comments"
    auto_close_field = None

    def allow(self, comment, content_object, request) -> bool:
        if comment.kind in ("comment", "fediverse") and not comments_open(content_object):
            return False
        # A fediverse sender is blocked by handle (user@server) or server, on the same list.
        return not is_blocked(comment.user_email or comment.author_handle.lstrip("@"))

    def hold_reason(self, comment) -> str:
        """Why this comment should wait for a moderator, or "" when it need not."""
        text = comment.moderation_text
        if comment.kind in ("comment", "fediverse") and count_links(text) >= settings.COMMENTS_HOLD_LINKS:
            return str(_("%(n)d or more links") % {"n": settings.COMMENTS_HOLD_LINKS})
        lowered = f"{comment.user_name}\n{comment.user_url}\n{text}".lower()
        for word in settings.COMMENTS_MODERATION_WORDS:
            if word.strip() and word.strip().lower() in lowered:
                return str(_("a word on the moderation list"))
        if (
            comment.kind == "comment"
            and settings.COMMENTS_HOLD_FIRST_COMMENT
            and not _has_approved_comment(comment)
        ):
            return str(_("the author's first comment"))
        if (
            comment.kind == "fediverse"
            and settings.COMMENTS_HOLD_FIRST_FEDIVERSE_REPLY
            and not _has_approved_comment(comment)
        ):
            return str(_("the sender's first fediverse reply"))
        return ""

    def moderate(self, comment, content_object, request) -> bool:
        reason = self.hold_reason(comment)
        comment.hold_reason = reason
        return bool(reason)


def _has_approved_comment(comment) -> bool:
    previous = Comment.objects.filter(is_public=True, is_removed=False, is_spam=False, kind=comment.kind)
    if comment.kind == "fediverse":
        # An approved reply that its sender edits counts for itself: it was approved before.
        if comment.pk and not comment.is_public:
            previous = previous.exclude(pk=comment.pk)
        return previous.filter(author_handle__iexact=comment.author_handle).exists()
    if comment.pk:
        previous = previous.exclude(pk=comment.pk)
    if comment.user_id:
        return previous.filter(user_id=comment.user_id).exists()
    return previous.filter(user_email__iexact=comment.user_email).exists()


def register() -> None:
    """Called once from CommentsConfig.ready()."""
    if Post not in moderator._registry:
        moderator.register(Post, PostModerator)


def post_moderator() -> PostModerator:
    return moderator._registry[Post]
