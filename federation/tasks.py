"""Background work for federation (django.tasks, run by `manage.py worker`). Each task takes ids,
loads fresh rows and is idempotent."""

from __future__ import annotations

import io
import logging
from datetime import timedelta

from django.conf import settings
from django.tasks import task
from django.utils import timezone

logger = logging.getLogger(__name__)
AVATAR_SIZE = 96
AVATAR_MAX_BYTES = 2_000_000


@task()
def federate_post(post_id: int) -> str:
    """Create, Update or Delete a post's Article (a scheduled post is queued for its date)."""
    from django.db import transaction

    from federation.delivery import post_federate
    from posts.models import Post

    post = Post.objects.filter(pk=post_id).prefetch_related("authorships__user__profile", "tags").first()
    if post is None:
        return "missing"
    with transaction.atomic():
        return post_federate(post=post)


@task()
def deliver_activity(activity_id: int) -> dict:
    from federation.delivery import deliver_due

    return deliver_due(activity_id=activity_id)


@task()
def send_answer(comment_id: int) -> bool:
    from comments.models import Comment
    from federation.delivery import answer_send

    comment = Comment.objects.filter(pk=comment_id, is_public=True).select_related("post", "user").first()
    return bool(comment and answer_send(comment=comment))


@task()
def withdraw_answer(comment_id: int) -> bool:
    from comments.models import Comment
    from federation.delivery import answer_withdraw

    comment = Comment.objects.filter(pk=comment_id).first()
    return bool(comment and answer_withdraw(comment=comment))


@task()
def fetch_avatar(actor_id: int) -> str:
    """Copy a remote actor's avatar into our storage (re-encoded as a small PNG, so nothing of the
    original file is served), and point their replies at it. Avatars are never hot-linked."""
    from django.core.files.base import ContentFile
    from PIL import Image, UnidentifiedImageError

    from comments.linkbacks.fetch import FetchError, fetch
    from comments.models import Comment
    from core.cache.version import content_version_bump
    from federation.models import RemoteActor, RemoteNote
    from federation.remote import user_agent

    actor = RemoteActor.objects.filter(pk=actor_id).first()
    if actor is None or not actor.icon_url:
        return "none"
    try:
        response = fetch(
            actor.icon_url,
            headers={"Accept": "image/*", "User-Agent": user_agent()},
            max_bytes=AVATAR_MAX_BYTES,
            deadline=settings.FEDERATION_DELIVERY_DEADLINE,
            allowed_hosts=settings.FEDERATION_ALLOWED_HOSTS,
        )
    except FetchError:
        return "unreachable"
    if response.status != 200 or not response.content_type.startswith("image/"):
        return "not an image"
    try:
        Image.MAX_IMAGE_PIXELS = 40_000_000
        with Image.open(io.BytesIO(response.body)) as image:
            image.thumbnail((AVATAR_SIZE, AVATAR_SIZE))
            out = io.BytesIO()
            image.convert("RGBA").save(out, format="PNG", optimize=True)
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
        return "not an image"
    if actor.avatar:
        actor.avatar.delete(save=False)
    actor.avatar.save(f"{actor.pk}.png", ContentFile(out.getvalue()), save=False)
    RemoteActor.objects.filter(pk=actor.pk).update(avatar=actor.avatar.name)
    ids = RemoteNote.objects.filter(actor=actor).values_list("comment_id", flat=True)
    if Comment.objects.filter(pk__in=ids).update(author_avatar_url=actor.avatar.url):
        content_version_bump()  # the thread shows the new face (update() sends no signal)
    return "stored"


@task()
def revive_dead_inboxes(limit: int = 50) -> int:
    """Ask servers whose inboxes were marked dead whether they are back (their NodeInfo index);
    those that answer get their inboxes revived."""
    from comments.linkbacks.fetch import FetchError, fetch
    from federation.models import InboxHealth
    from federation.remote import user_agent

    revived = 0
    hosts = list(InboxHealth.objects.filter(dead=True).values_list("inbox", "host").distinct()[:limit])
    seen: set[str] = set()
    for inbox, host in hosts:
        if host in seen:
            continue
        seen.add(host)
        origin = inbox.split("/", 3)[:3]
        try:
            response = fetch(
                "/".join(origin) + "/.well-known/nodeinfo",
                headers={"Accept": "application/json", "User-Agent": user_agent()},
                max_bytes=64 * 1024,
                deadline=settings.FEDERATION_DELIVERY_DEADLINE,
                allowed_hosts=settings.FEDERATION_ALLOWED_HOSTS,
            )
        except FetchError:
            continue
        if 200 <= response.status < 300:
            revived += InboxHealth.objects.filter(host=host, dead=True).update(
                dead=False, failures=0, failing_since=None
            )
    return revived


@task()
def forget_old_receipts() -> int:
    """Receipts only need to outlive the ±1 h Date window that replays could use."""
    from federation.models import InboxReceipt

    cutoff = timezone.now() - timedelta(hours=3)
    deleted, _kinds = InboxReceipt.objects.filter(received_at__lt=cutoff).delete()
    return deleted
