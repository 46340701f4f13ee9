"""Linkback workflows shared by Pingback, TrackBack and Webmention: resolve, limit, verify, store.

Keyword-only functions named <noun>_<verb>. The protocol modules only translate their wire format
to and from these.
"""

from __future__ import annotations

import ipaddress
import logging
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.contrib.sites.models import Site
from django.db import IntegrityError, transaction
from django.http.request import validate_host
from django.urls import Resolver404, resolve
from django.utils import timezone
from django.utils.translation import gettext_noop

from comments.linkbacks.excerpt import LinkContext, decode_html, find_link, normalise_url
from comments.linkbacks.fetch import FetchError, fetch
from comments.models import Comment
from comments.services import comment_moderate, comment_stored
from core.origin import absolute_url
from core.ratelimit import window_hit
from posts.models import Post

logger = logging.getLogger(__name__)


class TargetError(Exception):
    """The target is not one of our posts (missing) or does not take pings (closed)."""

    def __init__(self, reason: str, *, closed: bool = False):
        super().__init__(reason)
        self.closed = closed


def site_url(path: str = "/") -> str:
    """An absolute URL on this site, as other blogs see it."""
    return absolute_url(path)


def normalise(url: str) -> str:
    """A URL as compared for identity: no fragment, scheme and host in lower case."""
    return normalise_url(url)


def pings_open(post: Post) -> bool:
    """A post takes pingbacks, trackbacks and webmentions while published with pings allowed."""
    return bool(post.allow_pings and post.is_published)


_INVISIBLE = dict.fromkeys(
    [*range(0, 9), 11, 12, *range(14, 32), 127, *range(0x202A, 0x202F), *range(0x2066, 0x206A)]
)


def clean_text(value: str, limit: int) -> str:
    """Text from a peer, safe to store: no NUL or control characters, no bidirectional overrides."""
    return (value or "").translate(_INVISIBLE).strip()[:limit]


def client_ip(request) -> str | None:
    """The client's address: REMOTE_ADDR, or the trusted proxy's X-Forwarded-For entry."""
    count = settings.TRUSTED_PROXY_COUNT
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    address = request.META.get("REMOTE_ADDR") or ""
    if count and forwarded:
        hops = [h.strip() for h in forwarded.split(",") if h.strip()]
        if len(hops) >= count:
            address = hops[-count]
    try:
        return str(ipaddress.ip_address(address))
    except ValueError:
        return None  # stored as unknown rather than failing an inet column


def is_http_url(url: str) -> bool:
    """An absolute http(s) URL of sane length, without whitespace or control characters."""
    if not url or len(url) > 2000 or any(ord(ch) <= 32 or ord(ch) == 127 for ch in url):
        return False
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.hostname) and len(url) <= 2000


def _is_our_host(netloc: str, request_host: str | None) -> bool:
    """SITE_DOMAIN, the host the request came to, or a name in ALLOWED_HOSTS (never via "*")."""
    if netloc in {settings.SITE_DOMAIN.lower(), (request_host or "").lower()}:
        return True
    hostname = netloc.rsplit(":", 1)[0] if not netloc.endswith("]") else netloc
    patterns = [h for h in settings.ALLOWED_HOSTS if h != "*"]
    return bool(hostname) and validate_host(hostname, patterns)


def linkback_target_post(*, target: str, request_host: str | None = None) -> Post:
    """The published post a target URL names, or TargetError (closed=True when pings are off)."""
    try:
        parts = urlsplit(target)
        netloc = parts.netloc.lower()
    except ValueError as exc:
        raise TargetError(gettext_noop("The target is not a valid URL.")) from exc
    if parts.scheme not in ("http", "https") or not _is_our_host(netloc, request_host):
        raise TargetError(gettext_noop("The target is not on this site."))
    try:
        match = resolve(parts.path or "/")
    except Resolver404 as exc:
        raise TargetError(gettext_noop("The target is not a page on this site.")) from exc
    if match.view_name not in ("posts:detail", "linkbacks:trackback"):
        raise TargetError(gettext_noop("The target is not a post."), closed=True)
    kwargs = match.kwargs
    posts = Post.objects.published().filter(
        slug=kwargs["slug"],
        published_at__year=kwargs["year"],
        published_at__month=kwargs["month"],
        published_at__day=kwargs["day"],
    )
    post = posts.first()
    if post is None:
        raise TargetError(gettext_noop("The target post does not exist."))
    if not pings_open(post):
        raise TargetError(gettext_noop("The target post does not accept linkbacks."), closed=True)
    return post


def _hit(key: str, limit: int, window: int) -> bool:
    return window_hit(key, limit=limit, window=window)


def linkback_rate_check(*, remote_ip: str | None, source: str) -> bool:
    """True if this request may cost an outbound fetch: limits per client IP and per source host.

    The per-host limit is what stops a flood that names one victim host from many IPs, or many
    victims from one IP, from turning this site into an amplifier.
    """
    window = settings.LINKBACK_RATE_WINDOW
    host = (urlsplit(source).hostname or "").lower()
    ok_ip = _hit(f"linkback:ip:{remote_ip}", settings.LINKBACK_RATE_PER_IP, window)
    ok_host = _hit(f"linkback:host:{host}", settings.LINKBACK_RATE_PER_SOURCE_HOST, window)
    return ok_ip and ok_host


@dataclass
class Verification:
    """The outcome of fetching a source: ok with context, gone (410), or no link."""

    status: str  # "ok", "gone", "no_link"
    context: LinkContext | None = None


def linkback_verify(*, source: str, target: str, deadline: float | None = None) -> Verification:
    """Fetch the source once and check it links exactly to the target.

    Every failure short of a 410 answers "no_link", so a caller cannot tell a closed port from a
    page without the link (no oracle).
    """
    try:
        response = fetch(
            source,
            deadline=deadline or settings.LINKBACK_FETCH_DEADLINE,
            headers={"Accept": "text/html, application/xhtml+xml;q=0.9, */*;q=0.5"},
        )
    except FetchError:
        return Verification("no_link")
    if response.status == 410:
        return Verification("gone")
    if not 200 <= response.status < 300:
        return Verification("no_link")
    ctype = response.content_type
    if ctype and "html" not in ctype and "xml" not in ctype:
        return Verification("no_link")
    html = decode_html(response.body, response.charset)
    context = find_link(html, source_url=response.url, target_url=target)
    if context is None and response.url != source:
        context = find_link(html, source_url=source, target_url=target)
    return Verification("ok", context) if context else Verification("no_link")


def linkback_moderate(*, source: str, kind: str, is_internal: bool) -> bool:
    """Whether a new linkback is public at once.

    Internal pingbacks are approved; trackbacks are always held (the spec does not verify them);
    other external linkbacks are held the first time their source host appears, unless
    LINKBACK_HOLD_FIRST_FROM_SOURCE is off. The discussion's own rules (word list, spam checks)
    apply as well, through comment_moderate().
    """
    if is_internal:
        return True
    if kind == Comment.Kind.TRACKBACK:
        return False
    if not settings.LINKBACK_HOLD_FIRST_FROM_SOURCE:
        return True
    host = (urlsplit(source).hostname or "").lower()
    approved = Comment.objects.filter(
        is_public=True, is_removed=False, is_spam=False, source_url__icontains=f"//{host}"
    ).exclude(kind=Comment.Kind.COMMENT)
    return any(
        (urlsplit(url).hostname or "").lower() == host
        for url in approved.values_list("source_url", flat=True)[:50]
    )


def _author_name(context: LinkContext | None, source: str, blog_name: str = "") -> str:
    name = (context.author_name if context else "") or blog_name or (urlsplit(source).hostname or source)
    return name[:50]


def linkback_store(
    *,
    post: Post,
    kind: str,
    source: str,
    context: LinkContext | None,
    is_internal: bool = False,
    remote_ip: str | None = None,
    blog_name: str = "",
    title: str = "",
    excerpt: str = "",
) -> tuple[Comment, bool]:
    """Create the linkback for (post, source), or update the one that exists. Returns (comment, created).

    The unique constraint (post, source_url) decides under concurrency: a losing insert rolls back
    to its savepoint and updates the winner's row instead.
    """
    fields = {
        "source_title": clean_text(context.title if context else title, 300),
        "excerpt": clean_text(context.excerpt if context else excerpt, 2000),
        "author_avatar_url": (context.author_photo if context else "")[:2000],
        "user_name": clean_text(_author_name(context, source, blog_name), 50),
        "user_url": ((context.author_url if context else "") or source)[:200],
        "verified_at": timezone.now() if context else None,
        "is_removed": False,
    }
    fields["comment"] = fields["excerpt"] or fields["source_title"] or source
    with transaction.atomic():
        existing = _locked(post, source)
        if existing is not None:
            return _update(existing, fields), False
        try:
            with transaction.atomic():
                comment = Comment(
                    content_type=ContentType.objects.get_for_model(Post),
                    object_pk=str(post.pk),
                    site=Site.objects.get_current(),
                    post=post,
                    kind=kind,
                    parent_id=0,
                    source_url=source,
                    user_email="",
                    ip_address=remote_ip,
                    is_internal=is_internal,
                    **fields,
                )
                _moderate_new(comment, source=source, kind=kind, is_internal=is_internal)
                comment.save()
                comment_stored(comment=comment)
                return comment, True
        except IntegrityError:
            existing = _locked(post, source)
            if existing is None:
                raise
            return _update(existing, fields), False


def _moderate_new(comment: Comment, *, source: str, kind: str, is_internal: bool) -> None:
    """The discussion's moderation (word list, spam checks) plus the linkback rules above."""
    if is_internal:
        comment.is_public = True
        return
    outcome = comment_moderate(comment=comment)
    if outcome == "rejected":
        comment.is_public, comment.is_spam = False, True
    elif outcome == "public" and not linkback_moderate(source=source, kind=kind, is_internal=False):
        comment.is_public = False
        comment.hold_reason = (
            "trackbacks are not verified"
            if kind == Comment.Kind.TRACKBACK
            else "first linkback from this site"
        )


def _locked(post: Post, source: str) -> Comment | None:
    return (
        Comment.objects.select_related(None)
        .select_for_update()
        .filter(post=post, source_url=source)
        .exclude(kind=Comment.Kind.COMMENT)
        .first()
    )


def _update(comment: Comment, fields: dict) -> Comment:
    for name, value in fields.items():
        if name == "verified_at" and value is None:
            continue
        setattr(comment, name, value)
    comment.save()
    return comment


def linkback_mark_removed(*, post: Post, source: str) -> int:
    """A source that is gone or no longer links: hide its linkback (kept for the record)."""
    updated = 0
    with transaction.atomic():
        comment = _locked(post, source)
        if comment is not None and not comment.is_removed:
            comment.is_removed = True
            comment.save()
            updated = 1
    return updated


def linkback_exists(*, post: Post, source: str) -> bool:
    return Comment.objects.filter(post=post, source_url=source).exclude(kind=Comment.Kind.COMMENT).exists()


def linkback_receive(
    *, post: Post, kind: str, source: str, target: str, remote_ip: str | None = None
) -> tuple[str, Comment | None, bool]:
    """Verify a source and store or remove its linkback. Returns (status, comment, created)."""
    result = linkback_verify(source=source, target=target)
    if result.status != "ok":
        removed = linkback_mark_removed(post=post, source=source) if result.status == "gone" else 0
        if result.status == "no_link" and kind == Comment.Kind.WEBMENTION:
            removed = linkback_mark_removed(post=post, source=source)
        return ("removed" if removed else result.status), None, False
    comment, created = linkback_store(
        post=post, kind=kind, source=source, context=result.context, remote_ip=remote_ip
    )
    return "ok", comment, created


def on_commit_enqueue(task, *args, run_after=None) -> None:
    """Queue a django.tasks task once the current transaction commits (never inline)."""

    def enqueue() -> None:
        (task.using(run_after=run_after) if run_after else task).enqueue(*args)

    transaction.on_commit(enqueue)
