"""Where federation joins the rest of the site: signals from posts and comments, the thread
header row, the /subscribe/ page's fediverse section, and cache renewal. Connected once from
FederationConfig.ready()."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models.signals import post_delete, post_save, pre_delete
from django.utils import timezone

from comments import signals as comment_signals
from comments.extensions import register_thread_header
from comments.models import Comment
from core.cache.version import discussions_changed
from federation import tasks
from federation.actors import author_by_username, blog_actor, post_actors, published_authors
from federation.delivery import post_deleted
from federation.documents import article_id
from federation.models import FederatedAnswer, FederatedPost, Reaction
from federation.reactions import reactions_row
from posts.follow import FollowSection, follow_section_register
from posts.models import Post


def _enqueue(task, *args, run_after=None) -> None:
    def enqueue() -> None:
        if run_after is None:
            task.enqueue(*args)
        elif task.get_backend().supports_defer:
            task.using(run_after=run_after).enqueue(*args)

    transaction.on_commit(enqueue)


def post_saved(sender, instance, raw: bool = False, **kwargs) -> None:
    """A post going live (now or at its scheduled date), edited, or taken down."""
    if raw or not settings.FEDERATION_ENABLED:
        return

    if instance.status == instance.Status.PUBLISHED and instance.published_at is not None:
        now = timezone.now()
        later = instance.published_at if instance.published_at > now else None
        old = instance.published_at < now - timedelta(days=settings.FEDERATION_ANNOUNCE_MAX_AGE_DAYS)
        if old and not FederatedPost.objects.filter(post=instance).exists():
            return  # an imported or back-dated post is not news: followers are not sent it
        _enqueue(tasks.federate_post, instance.pk, run_after=later)
        if later is None:
            return
    if FederatedPost.objects.filter(post=instance, deleted=False).exists():
        _enqueue(tasks.federate_post, instance.pk)  # unpublished or rescheduled: Delete


def post_deleting(sender, instance, **kwargs) -> None:
    if not settings.FEDERATION_ENABLED:
        return

    owners = [blog_actor().owner] + [a.owner for a in post_actors(instance)]
    post_deleted(object_id=article_id(instance), owners=owners)


def comment_published(sender, comment, **kwargs) -> None:
    """A staff member's answer to a fediverse reply goes back out as a Note."""
    if not settings.FEDERATION_ENABLED or comment.kind != "comment" or not comment.user_id:
        return

    if not comment.parent_id or comment.parent_id == comment.pk:
        return
    parent_is_remote = Comment.objects.filter(pk=comment.parent_id, kind=Comment.Kind.FEDIVERSE).exists()
    if parent_is_remote and getattr(comment.user, "is_staff", False):
        _enqueue(tasks.send_answer, comment.pk)


def comment_withdrawn(sender, comment, **kwargs) -> None:
    if FederatedAnswer.objects.filter(comment_id=comment.pk, deleted=False).exists():
        _enqueue(tasks.withdraw_answer, comment.pk)


def follow_section(request) -> dict | None:
    """The /subscribe/ page's fediverse section (posts/follow.py): the blog's and the authors'
    handles."""
    if not settings.FEDERATION_ENABLED:
        return None

    authors = [
        {"name": a.name, "handle": a.handle, "url": a.id}
        for a in (author_by_username(u.username) for u in published_authors().order_by("username"))
        if a is not None
    ]
    return {"blog_handle": blog_actor().handle, "authors": authors}


def reaction_changed(*, instance: Reaction, using: str, **_signal_kwargs) -> None:
    discussions_changed(instance.post_id, using=using)


def connect() -> None:
    post_save.connect(post_saved, sender=Post, dispatch_uid="federation.post_saved")
    pre_delete.connect(post_deleting, sender=Post, dispatch_uid="federation.post_deleting")
    comment_signals.comment_published.connect(comment_published, dispatch_uid="federation.answer")
    comment_signals.comment_withdrawn.connect(comment_withdrawn, dispatch_uid="federation.withdraw")
    # Likes and boosts show above the post's thread: renew the pages that show its discussion.
    post_save.connect(reaction_changed, sender=Reaction, dispatch_uid="federation.reaction-save")
    post_delete.connect(reaction_changed, sender=Reaction, dispatch_uid="federation.reaction-delete")
    register_thread_header(reactions_row)

    follow_section_register(
        FollowSection(
            key="fediverse", order=20, template="federation/_follow_fediverse.html", context=follow_section
        )
    )
