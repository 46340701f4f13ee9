"""Sending linkbacks for a published post: extract links, discover, notify, record.

- Webmention, W3C Recommendation section 3.1 (Sending Webmentions), including section 3.1.3's
  note that a sender re-sends when a link is removed, so the receiver can delete the mention.
- Pingback 1.0, section "Client Operation": ``pingback.ping(source, target)`` over XML-RPC to
  the server that autodiscovery found.
- TrackBack 1.2, only to the URLs an author lists in the post's "Send trackbacks to" field.

Each target has one ``LinkbackAttempt`` row per post. A target notified successfully is not
notified again while the link stays; an update sends only to added and removed links. An
imported post's links are recorded as known (``post_links_mark_known``): never notified, and a
link that was never notified is not withdrawn when an edit removes it. Transient
failures retry with exponential backoff, at most ``LINKBACK_SEND_MAX_TRIES`` times. A link to
another of our own posts becomes an internal pingback directly, with no HTTP.

Real receivers: WordPress answers a second pingback from one IP address within 15 s with fault
429 ("You are posting comments too quickly", its comment-flood check, wp_die with 429 inside
XML-RPC), and every other failure with fault 0 and an empty string (its default
``xmlrpc_pingback_error`` filter keeps only fault 48). So notifications to one site (the
endpoint's origin) are spaced ``LINKBACK_SEND_SPACING_SECONDS`` apart, fault 429 or HTTP 429 means
"later" (retried with backoff), and fault 0 is a failure, not retried; the admin shows an empty
message as "(no reason given by the receiver)" and lets authors resend a failed attempt.
"""

from __future__ import annotations

import hashlib
import logging
import time
import xmlrpc.client
from datetime import timedelta
from urllib.parse import urldefrag, urljoin, urlsplit

from bs4 import BeautifulSoup
from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import Q
from django.tasks import task
from django.utils import timezone

from comments.linkbacks import services
from comments.linkbacks.discovery import discover
from comments.linkbacks.excerpt import find_link
from comments.linkbacks.fetch import FetchError, fetch
from comments.linkbacks.trackback import trackback_send
from comments.linkbacks.webmention import webmention_send
from comments.models import Comment, LinkbackAttempt
from core.cache.version import content_version_bump
from core.queue import on_commit_enqueue
from posts.models import Post

logger = logging.getLogger(__name__)
Attempt = LinkbackAttempt
# 0x32: the receiver could not reach an upstream server (Pingback 1.0 "Error Codes"); this site
# answers it too when all its verification slots are busy. 429: WordPress's comment-flood refusal.
# Fault 0 (generic) is not here: WordPress gives it for every refusal, permanent ones included.
TRANSIENT_FAULTS = {0x32, 429}
DONE_FAULTS = {0x30}  # already registered: the receiver has it
TRANSIENT_STATUSES = {408, 429}


def extract_links(post: Post) -> list[str]:
    """The post's outbound http(s) links, absolute, without fragments, in document order."""
    base = services.site_url(post.get_absolute_url())
    soup = BeautifulSoup(post.body_html or "", "lxml")
    links: dict[str, None] = {}
    for anchor in soup.find_all("a", href=True):
        url = urldefrag(urljoin(base, anchor["href"].strip()))[0]
        if services.is_http_url(url) and services.normalise(url) != services.normalise(base):
            links[url] = None
    return list(links)


def _internal_post(url: str) -> Post | None:
    if (urlsplit(url).netloc or "").lower() != settings.SITE_DOMAIN.lower():
        return None
    try:
        return services.linkback_target_post(target=url)
    except services.TargetError:
        return None


def _is_ours(url: str) -> bool:
    return (urlsplit(url).netloc or "").lower() == settings.SITE_DOMAIN.lower()


def post_linkbacks_send(*, post_id: int) -> list[LinkbackAttempt]:
    """Notify the targets that were added or removed since the last run; returns attempts made.

    One run per post at a time (a cache lock): two quick saves queue two tasks, and the second
    waits a minute rather than racing the first over the same attempt rows.
    """
    lock = f"linkbacks:sending:{post_id}"
    if not cache.add(lock, 1, 600):
        send_linkbacks.using(run_after=timezone.now() + timedelta(minutes=1)).enqueue(post_id)
        return []
    try:
        return _send_for_post(post_id)
    finally:
        cache.delete(lock)


def _send_for_post(post_id: int) -> list[LinkbackAttempt]:
    post = Post.objects.filter(pk=post_id).first()
    if post is None or not post.is_published:
        return []
    current = extract_links(post)
    attempts = {a.target_url: a for a in Attempt.objects.filter(post=post)}
    trackback_urls = [u.strip() for u in (post.trackback_urls or "").splitlines() if u.strip()]
    done: list[LinkbackAttempt] = []
    for url in current:
        attempt = attempts.get(url)
        if attempt is None:
            attempt, created = Attempt.objects.get_or_create(post=post, target_url=url)
            if not created:
                continue  # another run got here first
        elif attempt.removed:
            attempt.removed, attempt.tries, attempt.outcome = False, 0, Attempt.Outcome.PENDING
        elif attempt.outcome != Attempt.Outcome.PENDING:
            continue  # unchanged link: already notified, failed for good, or a retry is queued
        done.append(attempt_notify(attempt=attempt, post=post))
    for url, attempt in attempts.items():
        if url in current or attempt.removed or attempt.protocol == Attempt.Protocol.TRACKBACK:
            continue
        if url in trackback_urls:
            continue
        if attempt.outcome == Attempt.Outcome.KNOWN:
            attempt.removed = True  # never notified by us: nothing to withdraw
            attempt.save(update_fields=["removed"])
            continue
        attempt.removed, attempt.tries, attempt.outcome = True, 0, Attempt.Outcome.PENDING
        done.append(attempt_notify(attempt=attempt, post=post))
    for url in trackback_urls:
        if not services.is_http_url(url):
            continue
        attempt, _ = Attempt.objects.get_or_create(
            post=post, target_url=url, defaults={"protocol": Attempt.Protocol.TRACKBACK}
        )
        if attempt.outcome == Attempt.Outcome.PENDING:
            done.append(attempt_notify(attempt=attempt, post=post))
    return done


def post_links_mark_known(*, post: Post) -> int:
    """Record the post's links as already notified, sending nothing; returns how many were new.

    For an imported post: the old blog notified these pages when it first published the post.
    """
    recorded = set(Attempt.objects.filter(post=post).values_list("target_url", flat=True))
    new = [
        Attempt(
            post=post,
            target_url=url,
            outcome=Attempt.Outcome.KNOWN,
            message="Linked before the import; not notified again.",
        )
        for url in extract_links(post)
        if url not in recorded and len(url) <= Attempt._meta.get_field("target_url").max_length
    ]
    Attempt.objects.bulk_create(new)
    return len(new)


def attempt_notify(*, attempt: LinkbackAttempt, post: Post) -> LinkbackAttempt:
    """Make one notification for an attempt row and record what came back.

    A notification to a site pinged less than LINKBACK_SEND_SPACING_SECONDS ago is not sent now:
    the attempt waits for its turn (a retry task queued for then), without counting as a try.
    """
    source = services.site_url(post.get_absolute_url())
    attempt.attempted_at = timezone.now()
    attempt.tries += 1
    attempt.http_status = attempt.fault_code = None
    attempt.content_hash = hashlib.sha256(post.body_html.encode()).hexdigest()
    if attempt.protocol == Attempt.Protocol.TRACKBACK:
        wait = _send_slot(attempt, attempt.target_url)
        if wait:
            return _wait_turn(attempt, wait)
        ok, status, message = trackback_send(
            ping_url=attempt.target_url,
            post_url=source,
            title=post.title,
            excerpt=post.summary,
            blog_name=settings.SITE_NAME,
        )
        attempt.endpoint, attempt.http_status, attempt.message = attempt.target_url, status, message[:500]
        return _finish(attempt, ok=ok, transient=_transient_status(status))
    if _is_ours(attempt.target_url):
        return _notify_internal(attempt, post, source)
    try:
        endpoint, response = discover(attempt.target_url)
    except FetchError as exc:
        attempt.message = str(exc)
        return _finish(attempt, ok=False, transient=True)
    if endpoint is None and _transient_status(response.status):
        attempt.http_status, attempt.message = response.status, "The target is unavailable."
        return _finish(attempt, ok=False, transient=True)
    if endpoint is None:
        attempt.protocol, attempt.endpoint = Attempt.Protocol.NONE, ""
        attempt.http_status = response.status
        attempt.message = "No Webmention or Pingback endpoint found."
        attempt.outcome, attempt.next_retry_at = Attempt.Outcome.NO_ENDPOINT, None
        attempt.save()
        return attempt
    attempt.endpoint = endpoint.url[:2000]
    attempt.protocol = (
        Attempt.Protocol.WEBMENTION if endpoint.protocol == "webmention" else Attempt.Protocol.PINGBACK
    )
    if attempt.protocol == Attempt.Protocol.PINGBACK and attempt.removed:
        attempt.message = "Pingback has no way to withdraw a ping."
        return _finish(attempt, ok=True, transient=False)
    wait = _send_slot(attempt, endpoint.url)
    if wait:
        return _wait_turn(attempt, wait)
    if attempt.protocol == Attempt.Protocol.WEBMENTION:
        ok, status, message = webmention_send(endpoint=endpoint.url, source=source, target=attempt.target_url)
        attempt.http_status, attempt.message = status, message[:500]
        return _finish(attempt, ok=ok, transient=_transient_status(status))
    ok, transient = _pingback_send(attempt, endpoint.url, source)
    return _finish(attempt, ok=ok, transient=transient)


def _transient_status(status: int | None) -> bool:
    """No answer, a server error, a timeout or "too many requests": worth trying again later."""
    return status is None or status >= 500 or status in TRANSIENT_STATUSES


def _send_slot(attempt: LinkbackAttempt, endpoint: str) -> float:
    """Seconds this notification must wait for its turn at the endpoint's site; 0 means send now.

    Turns are reserved in the shared cache, one per LINKBACK_SEND_SPACING_SECONDS per origin, under
    a short lock, so two workers sending to one site take turns too. An attempt that was given a
    turn earlier (and waited for it) uses that turn rather than queueing again.
    """
    spacing = settings.LINKBACK_SEND_SPACING_SECONDS
    origin = services.source_origin(endpoint)
    if spacing <= 0 or not origin:
        return 0.0
    now = time.time()
    turn_key = f"linkbacks:turn:{attempt.pk}"
    turn = cache.get(turn_key)
    if turn is not None:
        if turn > now + 1:
            return turn - now  # woken early: keep the turn already reserved
        cache.delete(turn_key)
        return 0.0
    next_key, lock_key = f"linkbacks:next-send:{origin}", f"linkbacks:next-send-lock:{origin}"
    for _ in range(50):  # the critical section is two cache calls; 1 s is plenty
        if cache.add(lock_key, 1, 5):
            break
        time.sleep(0.02)
    else:
        return spacing  # cannot take the lock: don't risk crowding the site, try after one spacing
    try:
        at = max(now, float(cache.get(next_key) or 0))
        cache.set(next_key, at + spacing, int(at + spacing - now) + 60)
    finally:
        cache.delete(lock_key)
    if at <= now:
        return 0.0
    cache.set(turn_key, at, int(at - now) + 3600)
    return at - now


def _wait_turn(attempt: LinkbackAttempt, wait: float) -> LinkbackAttempt:
    """Not sent: another notification went to the same site moments ago. Queue this one's turn."""
    attempt.tries -= 1  # waiting is not a failed try
    attempt.outcome = Attempt.Outcome.RETRY
    attempt.next_retry_at = timezone.now() + timedelta(seconds=wait)
    attempt.message = (
        f"Waiting its turn: notifications to one site are sent "
        f"{settings.LINKBACK_SEND_SPACING_SECONDS} s apart."
    )
    attempt.save()
    on_commit_enqueue(retry_linkback_attempt, attempt.pk, run_after=attempt.next_retry_at)
    return attempt


def _pingback_send(attempt: LinkbackAttempt, server: str, source: str) -> tuple[bool, bool]:
    """Pingback 1.0 "Client Operation": call pingback.ping; returns (ok, transient)."""
    body = xmlrpc.client.dumps((source, attempt.target_url), "pingback.ping").encode()
    try:
        response = fetch(
            server, method="POST", data=body, headers={"Content-Type": "text/xml"}, max_bytes=64_000
        )
    except FetchError as exc:
        attempt.message = str(exc)
        return False, True
    attempt.http_status = response.status
    if response.status != 200:
        attempt.message = f"HTTP {response.status}"
        return False, _transient_status(response.status)
    try:
        (result,), _method = xmlrpc.client.loads(response.body)
    except xmlrpc.client.Fault as fault:
        code = fault.faultCode if isinstance(fault.faultCode, int) else 0
        attempt.fault_code, attempt.message = code, str(fault.faultString)[:500]
        return code in DONE_FAULTS, code in TRANSIENT_FAULTS
    except Exception:  # noqa: BLE001 - any malformed answer from a peer is a failed attempt
        attempt.message = "The Pingback server's answer was not XML-RPC."
        return False, False
    attempt.message = str(result)[:500]
    return True, False


def _notify_internal(attempt: LinkbackAttempt, post: Post, source: str) -> LinkbackAttempt:
    """A link to another of our posts: store the internal pingback on it directly, no HTTP."""
    attempt.protocol, attempt.endpoint = Attempt.Protocol.INTERNAL, ""
    target_post = _internal_post(attempt.target_url)
    if target_post is None or target_post.pk == post.pk:
        attempt.message = "Not a post that takes pings."
        attempt.outcome = Attempt.Outcome.NO_ENDPOINT
        attempt.save()
        return attempt
    if attempt.removed:
        services.linkback_mark_removed(post=target_post, source=source)
        attempt.message = "Internal pingback removed."
    else:
        context = find_link(post.body_html, source_url=source, target_url=attempt.target_url)
        if context is not None:
            context.title = post.title
            context.author_name = settings.SITE_NAME
        services.linkback_store(
            post=target_post,
            kind=Comment.Kind.PINGBACK,
            source=source,
            context=context,
            is_internal=True,
            title=post.title,
            blog_name=settings.SITE_NAME,
        )
        attempt.message = "Internal pingback stored."
    return _finish(attempt, ok=True, transient=False)


def internal_links_move(*, moves: list[tuple[str, str]], using: str = "default") -> int:
    """Point internal pingbacks and internal send records at this site's new URLs.

    They hold absolute URLs of our own posts. When the public origin or a permalink changes, each
    URL starting with an old prefix gets the new one instead, so the thread links to pages that
    exist and the next send recognises links it already notified. A row that would duplicate one
    already stored under the new URL is deleted instead. Returns the number of rows changed.
    """

    changed = 0
    with transaction.atomic(using=using):
        for old, new in moves:
            if not old or old == new:
                continue
            pingbacks = Comment.objects.using(using).filter(is_internal=True, source_url__startswith=old)
            for comment in pingbacks.select_related(None).select_for_update():
                url = new + comment.source_url[len(old) :]
                duplicate = Comment.objects.using(using).filter(
                    ~Q(kind=Comment.Kind.COMMENT), ~Q(pk=comment.pk), post_id=comment.post_id, source_url=url
                )
                if duplicate.exists():
                    comment.delete()
                else:
                    user_url = comment.user_url
                    if user_url.startswith(old):
                        user_url = (new + user_url[len(old) :])[:200]
                    moved = Comment.objects.using(using).filter(pk=comment.pk)
                    moved.update(source_url=url, user_url=user_url)
                changed += 1
            attempts = Attempt.objects.using(using).filter(
                protocol=Attempt.Protocol.INTERNAL, target_url__startswith=old
            )
            for attempt in attempts.select_for_update():
                url = new + attempt.target_url[len(old) :]
                if Attempt.objects.using(using).filter(post_id=attempt.post_id, target_url=url).exists():
                    attempt.delete()
                else:
                    Attempt.objects.using(using).filter(pk=attempt.pk).update(target_url=url)
                changed += 1
    if changed:
        content_version_bump()  # the threads that show these links (update() sends no signal)
    return changed


def _finish(attempt: LinkbackAttempt, *, ok: bool, transient: bool) -> LinkbackAttempt:
    if ok:
        attempt.outcome, attempt.next_retry_at = Attempt.Outcome.SUCCESS, None
    elif transient and attempt.tries < settings.LINKBACK_SEND_MAX_TRIES:
        attempt.outcome = Attempt.Outcome.RETRY
        attempt.next_retry_at = timezone.now() + timedelta(
            seconds=settings.LINKBACK_RETRY_BASE_SECONDS * 2 ** (attempt.tries - 1)
        )
    else:
        attempt.outcome, attempt.next_retry_at = Attempt.Outcome.FAILED, None
    attempt.save()
    if attempt.outcome == Attempt.Outcome.RETRY:
        on_commit_enqueue(retry_linkback_attempt, attempt.pk, run_after=attempt.next_retry_at)
    return attempt


def attempt_retry(*, attempt_id: int) -> LinkbackAttempt | None:
    """Run a queued retry if it is still due (idempotent: a finished attempt is left alone)."""
    attempt = Attempt.objects.select_related("post").filter(pk=attempt_id).first()
    if attempt is None or attempt.outcome != Attempt.Outcome.RETRY:
        return attempt
    return attempt_notify(attempt=attempt, post=attempt.post)


RESENDABLE = (Attempt.Outcome.FAILED, Attempt.Outcome.NO_ENDPOINT)


def attempt_resend(*, attempt: LinkbackAttempt) -> bool:
    """An author's "Resend": a failed attempt starts again with a full set of tries, in the worker.

    Returns False (and changes nothing) for an attempt that has not failed.
    """
    if attempt.outcome not in RESENDABLE:
        return False
    attempt.outcome, attempt.tries = Attempt.Outcome.RETRY, 0
    attempt.next_retry_at = timezone.now()
    attempt.save(update_fields=["outcome", "tries", "next_retry_at"])
    on_commit_enqueue(retry_linkback_attempt, attempt.pk)
    return True


# --- Tasks: the sending workflow queues these itself (a busy post, a retry, a resend) ------------


@task()
def send_linkbacks(post_id: int) -> int:
    """Notify the pages a published post links to (only added or removed links)."""
    return len(post_linkbacks_send(post_id=post_id))


@task()
def retry_linkback_attempt(attempt_id: int) -> str:
    """A transient failure's next try, queued with backoff."""
    attempt = attempt_retry(attempt_id=attempt_id)
    return attempt.outcome if attempt else "missing"
