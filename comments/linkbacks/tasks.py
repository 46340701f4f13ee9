"""Background tasks (django.tasks) for received linkbacks: verification and re-verification.

The receiving endpoints (trackback.py, webmention.py) queue them; the sending side's tasks live
with the sending workflow, which queues its own retries (send.py).

Each task takes ids, loads fresh rows, and is idempotent, so a worker restart or a repeated run
changes nothing twice.
"""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.tasks import task
from django.utils import timezone
from django.utils.translation import gettext_noop

from comments.linkbacks import services
from comments.models import Comment, IncomingWebmention


@task()
def verify_webmention(incoming_id: int) -> str:
    """Webmention section 3.2.2: verify one received webmention."""
    incoming = webmention_verify(incoming_id=incoming_id)
    if incoming is not None and incoming.status == "accepted":
        schedule_reverification()
    return incoming.status if incoming else "missing"


@task()
def verify_trackback(comment_id: int) -> str:
    """Fetch a trackback's source (the spec does not ask for it) and fill in what it says.

    The name shown stays the sender's ``blog_name`` when it gave one (what TrackBack senders such
    as WordPress mean as the name), else the source's h-card author, else its host. The hold
    reason then says what verification found.
    """
    comment = Comment.objects.select_related("post").filter(pk=comment_id).first()
    if comment is None or comment.post is None or comment.kind != Comment.Kind.TRACKBACK:
        return "missing"
    target = services.site_url(comment.post.get_absolute_url())
    result = services.linkback_verify(source=comment.source_url, target=target)
    if result.status != "ok":
        if not comment.is_public and comment.hold_reason == services.HOLD_TRACKBACK_UNVERIFIED:
            Comment.objects.filter(pk=comment.pk).update(hold_reason=services.HOLD_TRACKBACK_NO_LINK)
        return result.status
    # At receipt the name is the sender's blog_name, or the source's host when it sent none.
    host_fallback = (urlsplit(comment.source_url).hostname or comment.source_url)[:50]
    if comment.user_name and comment.user_name != host_fallback:
        result.context.author_name = comment.user_name
    services.linkback_store(
        post=comment.post, kind=Comment.Kind.TRACKBACK, source=comment.source_url, context=result.context
    )
    return "ok"


@task()
def reverify_webmentions(limit: int = 100) -> int:
    """Re-fetch the sources of webmentions verified more than LINKBACK_REVERIFY_DAYS ago.

    A source that is gone or no longer links has its mention removed; others are refreshed.
    It keeps itself going: each run queues the next one a day later (see schedule_reverification).
    """
    cutoff = timezone.now() - timedelta(days=settings.LINKBACK_REVERIFY_DAYS)
    stale = (
        Comment.objects.select_related("post")
        .filter(kind=Comment.Kind.WEBMENTION, is_removed=False, verified_at__lt=cutoff, post__isnull=False)
        .order_by("verified_at")[:limit]
    )
    count = 0
    for comment in stale:
        target = services.site_url(comment.post.get_absolute_url())
        services.linkback_receive(
            post=comment.post, kind=Comment.Kind.WEBMENTION, source=comment.source_url, target=target
        )
        count += 1
    schedule_reverification(force=True)
    return count


def schedule_reverification(*, force: bool = False) -> bool:
    """Queue the next daily re-verification unless one is already queued (a cache marker says so).

    Called after each run and whenever a webmention is accepted, so the chain starts by itself.
    A duplicate run (another process's cache) is harmless: the task is idempotent.
    """
    interval = timedelta(days=1)
    key = "linkbacks:reverify-queued"
    if force:
        cache.delete(key)
    if not cache.add(key, 1, int(interval.total_seconds())):
        return False
    reverify_webmentions.using(run_after=timezone.now() + interval).enqueue()
    return True


def webmention_verify(*, incoming_id: int) -> IncomingWebmention | None:
    """Section 3.2.2: fetch the source once, then accept, update, remove or reject."""
    incoming = IncomingWebmention.objects.filter(pk=incoming_id).first()
    if incoming is None or incoming.status != IncomingWebmention.Status.PENDING:
        return incoming
    try:
        post = services.linkback_target_post(target=incoming.target)
    except services.TargetError as exc:
        incoming.status, incoming.reason = IncomingWebmention.Status.REJECTED, str(exc)[:300]
        incoming.save(update_fields=["status", "reason", "updated_at"])
        return incoming
    status, comment, _created = services.linkback_receive(
        post=post,
        kind=Comment.Kind.WEBMENTION,
        source=incoming.source,
        target=incoming.target,
        remote_ip=incoming.remote_ip,
    )
    with transaction.atomic():
        if status == "ok":
            incoming.status, incoming.comment, incoming.reason = (
                IncomingWebmention.Status.ACCEPTED,
                comment,
                "",
            )
        elif status in ("gone", "removed"):
            incoming.status = IncomingWebmention.Status.REJECTED
            incoming.reason = gettext_noop(
                "The source is gone or no longer links to the target; the mention was removed."
            )
        else:
            incoming.status = IncomingWebmention.Status.REJECTED
            incoming.reason = gettext_noop("The source could not be fetched or does not link to the target.")
        incoming.save(update_fields=["status", "reason", "comment", "updated_at"])
    return incoming
