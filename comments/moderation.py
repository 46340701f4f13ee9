"""Who may comment where, and which comments wait for a moderator.

One moderator class, registered for Post in CommentsConfig.ready().
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.utils import timezone
from django_comments_xtd.moderation import XtdCommentModerator, moderator

from posts.models import Post


def comments_open(post: Post) -> bool:
    """Comments are open while the post allows them and is younger than the closing age."""
    if not post.allow_comments or not post.is_published:
        return False
    days = settings.COMMENTS_CLOSE_AFTER_DAYS
    return not (days and post.published_at < timezone.now() - timedelta(days=days))


class PostModerator(XtdCommentModerator):
    email_notification = False
    enable_field = "allow_comments"
    auto_close_field = None

    def allow(self, comment, content_object, request):
        return comments_open(content_object)

    def moderate(self, comment, content_object, request):
        return False


moderator.register(Post, PostModerator)
