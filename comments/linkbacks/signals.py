"""Queue outbound linkbacks when a post is saved as published, and keep stored internal links
pointing at the site when its URLs move (posts never imports comments)."""

from __future__ import annotations

from django.db.models.signals import post_save
from django.dispatch import receiver
from django.utils import timezone

from comments.linkbacks.send import internal_links_move, post_links_mark_known, send_linkbacks
from core.origin import urls_moved
from core.queue import on_commit_enqueue
from posts.importing import current_import
from posts.models import Post


@receiver(post_save, sender=Post, dispatch_uid="comments.linkbacks.queue_send")
def queue_linkbacks_on_publish(sender, instance: Post, raw: bool = False, **kwargs) -> None:
    """After commit, a task sends to added/removed links; a scheduled post waits for its date.

    An imported post that was already published on the old blog notifies nobody: its links are
    recorded as already notified, so a later edit notifies only the links that edit adds.
    """
    if raw or instance.status != Post.Status.PUBLISHED or instance.published_at is None:
        return
    scheduled = instance.published_at > timezone.now()
    notes = current_import()
    if notes is not None and not scheduled:
        recorded = post_links_mark_known(post=instance)
        notes.links_known += recorded
        notes.posts_with_links += bool(recorded)
        return
    if notes is not None:
        notes.scheduled += 1
    on_commit_enqueue(send_linkbacks, instance.pk, run_after=instance.published_at if scheduled else None)


@receiver(post_save, sender=Post, dispatch_uid="comments.linkbacks.embed_meta")
def queue_embed_meta(sender, instance: Post, raw: bool = False, **kwargs) -> None:
    """A post showing an allow-listed video or fediverse post gets its title and thumbnail
    fetched by the worker (comments/linkbacks/embeds.py)."""
    if not raw and '<figure class="embed' in instance.body_html:
        from comments.linkbacks.embeds import embed_meta_queue

        embed_meta_queue(instance)


@receiver(urls_moved, dispatch_uid="comments.linkbacks.internal_links_move")
def move_internal_links(sender, moves, using: str = "default", **kwargs) -> None:
    internal_links_move(moves=moves, using=using)
