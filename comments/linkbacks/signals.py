"""Queue outbound linkbacks when a post is saved as published, and keep stored internal links
pointing at the site when its URLs move (posts never imports comments)."""

from __future__ import annotations

from django.db.models.signals import post_save
from django.dispatch import receiver
from django.utils import timezone

from core.origin import urls_moved
from posts.models import Post


@receiver(post_save, sender=Post, dispatch_uid="comments.linkbacks.queue_send")
def queue_linkbacks_on_publish(sender, instance: Post, raw: bool = False, **kwargs) -> None:
    """After commit, a task sends to added/removed links; a scheduled post waits for its date."""
    if raw or instance.status != Post.Status.PUBLISHED or instance.published_at is None:
        return
    from comments.linkbacks.services import on_commit_enqueue
    from comments.linkbacks.tasks import send_linkbacks

    run_after = instance.published_at if instance.published_at > timezone.now() else None
    on_commit_enqueue(send_linkbacks, instance.pk, run_after=run_after)


@receiver(urls_moved, dispatch_uid="comments.linkbacks.internal_links_move")
def move_internal_links(sender, moves, using: str = "default", **kwargs) -> None:
    from comments.linkbacks.send import internal_links_move

    internal_links_move(moves=moves, using=using)
