"""Background work for federation (django.tasks, run by `manage.py worker`). Each task takes ids,
loads fresh rows and is idempotent. The workflows that queue themselves keep their task beside
them: delivery passes (delivery.deliver_activity) and avatars (remote.fetch_avatar)."""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.tasks import task
from django.utils import timezone

from comments.linkbacks.fetch import FetchError, fetch
from comments.models import Comment
from federation.delivery import answer_send, answer_withdraw, post_federate
from federation.models import InboxHealth, InboxReceipt
from federation.remote import user_agent
from posts.models import Post

logger = logging.getLogger(__name__)


@task()
def federate_post(post_id: int) -> str:
    """Create, Update or Delete a post's Article (a scheduled post is queued for its date)."""
    post = Post.objects.filter(pk=post_id).prefetch_related("authorships__user__profile", "tags").first()
    if post is None:
        return "missing"
    with transaction.atomic():
        return post_federate(post=post)


@task()
def send_answer(comment_id: int) -> bool:
    comment = Comment.objects.filter(pk=comment_id, is_public=True).select_related("post", "user").first()
    return bool(comment and answer_send(comment=comment))


@task()
def withdraw_answer(comment_id: int) -> bool:
    comment = Comment.objects.filter(pk=comment_id).first()
    return bool(comment and answer_withdraw(comment=comment))


@task()
def revive_dead_inboxes(limit: int = 50) -> int:
    """Ask servers whose inboxes were marked dead whether they are back (their NodeInfo index);
    those that answer get their inboxes revived."""

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
    cutoff = timezone.now() - timedelta(hours=3)
    deleted, _kinds = InboxReceipt.objects.filter(received_at__lt=cutoff).delete()
    return deleted
