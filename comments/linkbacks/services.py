"""Linkback workflows shared by Pingback, TrackBack and Webmention: resolve, limit, verify, store.

Keyword-only functions named <noun>_<verb>. The protocol modules only translate their wire format
to and from these.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.contrib.sites.models import Site
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.http.request import validate_host
from django.urls import Resolver404, resolve
from django.utils import timezone
from django.utils.translation import gettext_noop

from comments.linkbacks.excerpt import LinkContext, decode_html, find_link, normalise_url
from comments.linkbacks.fetch import FetchError, fetch
from comments.linkbacks.origins import _origin_spellings, source_origin
from comments.models import Comment
from comments.moderation import LINKBACK_SOURCE_GONE
from comments.services import comment_moderate, comment_stored
from core import ratelimit
from core.origin import absolute_url
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


def linkback_rate_check(*, remote_ip: str | None, source: str) -> bool:
    """True if this request may cost an outbound fetch: limits per client IP and per source host.

    The per-host limit is what stops a flood that names one victim host from many IPs, or many
    victims from one IP, from turning this site into an amplifier.
    """
    host = (urlsplit(source).hostname or "").lower()
    return ratelimit.limit_check(
        limits={
            f"linkback:ip:{remote_ip}": settings.LINKBACK_RATE_PER_IP,
            f"linkback:host:{host}": settings.LINKBACK_RATE_PER_SOURCE_HOST,
        },
        seconds=settings.LINKBACK_RATE_WINDOW,
    )


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
    other external linkbacks are held the first time their source's origin (scheme, host, port)
    appears, unless LINKBACK_HOLD_FIRST_FROM_SOURCE is off. Our own internal pingbacks never vouch
    for anyone: they all come from this site's origin, which peers can also name as a source (a
    comment on one of our posts holding a link). The discussion's own rules (word list, spam
    checks) apply as well, through comment_moderate().
    """
    if is_internal:
        return True
    if kind == Comment.Kind.TRACKBACK:
        return False
    if not settings.LINKBACK_HOLD_FIRST_FROM_SOURCE:
        return True
    origin = source_origin(source)
    if not origin:
        return False
    same_origin = Q()
    for spelling in _origin_spellings(origin):
        same_origin |= Q(source_url__istartswith=spelling + "/") | Q(source_url__iexact=spelling)
    return (
        Comment.objects.filter(
            same_origin, is_public=True, is_removed=False, is_spam=False, is_internal=False
        )
        .exclude(kind=Comment.Kind.COMMENT)
        .exists()
    )


def _author_name(context: LinkContext | None, source: str, blog_name: str = "") -> str:
    name = (context.author_name if context else "") or blog_name or (urlsplit(source).hostname or source)
    return name[:50]


# Why a linkback waits for a moderator (Comment.hold_reason). Stored untranslated, shown through
# gettext where people read them (the held-linkbacks email).
HOLD_FIRST_FROM_SITE = gettext_noop("first linkback from this site")
HOLD_TRACKBACK_UNVERIFIED = gettext_noop("trackbacks are not verified")
HOLD_TRACKBACK_VERIFIED = gettext_noop("trackback: its source links to this post")
HOLD_TRACKBACK_NO_LINK = gettext_noop("trackback: its source does not link to this post")
HOLD_SOURCE_CHANGED = gettext_noop("the source changed the text shown here")
HOLD_SOURCE_BACK = gettext_noop("the source links to this post again")


class LinkbackConflict(Exception):
    """A TrackBack names the source of a pingback or webmention, which it may never overwrite."""


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

    `context` is what verification read on the source; without it (a TrackBack's own form fields)
    the text is the sender's claim. A claim may start a new, held linkback, but never changes one
    that exists: only a verification of that source does (see _update). A TrackBack for a source
    that is already a pingback or webmention raises LinkbackConflict.

    The unique constraint (post, source_url) decides under concurrency: a losing insert rolls back
    to its savepoint and updates the winner's row instead.
    """
    fields = {
        "source_title": clean_text(context.title if context else title, 300),
        "excerpt": clean_text(context.excerpt if context else excerpt, 2000),
        "author_avatar_url": (context.author_photo if context else "")[:2000],
        "user_name": clean_text(_author_name(context, source, blog_name), 50),
        "user_url": ((context.author_url if context else "") or source)[:200],
    }
    fields["comment"] = fields["excerpt"] or fields["source_title"] or source
    verified = context is not None or is_internal
    if context is not None:
        fields["verified_at"] = timezone.now()
    with transaction.atomic():
        existing = _locked(post, source)
        if existing is not None:
            return _update(existing, fields, kind=kind, verified=verified), False
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
            return _update(existing, fields, kind=kind, verified=verified), False


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
            HOLD_TRACKBACK_UNVERIFIED if kind == Comment.Kind.TRACKBACK else HOLD_FIRST_FROM_SITE
        )


def _locked(post: Post, source: str) -> Comment | None:
    return (
        Comment.objects.select_related(None)
        .select_for_update()
        .filter(post=post, source_url=source)
        .exclude(kind=Comment.Kind.COMMENT)
        .first()
    )


_WORDS = re.compile(r"\w+")
# What readers see of a linkback: its words (title, excerpt, name) and where it points (the
# name's link and the avatar). A change to either is material; spacing, case and punctuation are not.
_TEXT_FIELDS = ("source_title", "excerpt", "user_name")
_URL_FIELDS = ("user_url", "author_avatar_url")


def _materially_changed(comment: Comment, fields: dict) -> bool:
    def words(value: str) -> list[str]:
        return _WORDS.findall((value or "").casefold())

    return any(words(getattr(comment, name)) != words(fields[name]) for name in _TEXT_FIELDS) or any(
        (getattr(comment, name) or "").strip() != (fields[name] or "").strip() for name in _URL_FIELDS
    )


def _update(comment: Comment, fields: dict, *, kind: str, verified: bool) -> Comment:
    """A repeated (post, source): refresh what a verification of the source read, nothing else.

    - A TrackBack never overwrites a pingback or webmention (LinkbackConflict).
    - An unverified claim (a repeated TrackBack's form fields) changes nothing; the caller queues
      a verification of the source instead.
    - A verified update of an approved linkback whose text changed materially goes back to the
      moderation queue; an unchanged or merely re-spaced text stays public.
    - A linkback hidden because its source stopped linking comes back when the source links
      again; one a moderator removed stays removed.
    Internal pingbacks (our own posts) are trusted and updated as they are.
    """
    if kind == Comment.Kind.TRACKBACK and comment.kind != Comment.Kind.TRACKBACK:
        raise LinkbackConflict(gettext_noop("A pingback or webmention from this URL is already registered."))
    if not verified:
        return comment
    changed = _materially_changed(comment, fields)
    for name, value in fields.items():
        setattr(comment, name, value)
    if comment.is_removed and comment.hold_reason == LINKBACK_SOURCE_GONE:
        # Back as it was: public if it was public (subject to the change rule below), else held.
        comment.is_removed = False
        comment.hold_reason = "" if comment.is_public else HOLD_SOURCE_BACK
    if comment.kind == Comment.Kind.TRACKBACK and comment.hold_reason in (
        HOLD_TRACKBACK_UNVERIFIED,
        HOLD_TRACKBACK_NO_LINK,
    ):
        comment.hold_reason = HOLD_TRACKBACK_VERIFIED
    held_again = changed and comment.is_public and not comment.is_removed and not comment.is_internal
    if held_again:
        comment.is_public, comment.hold_reason = False, HOLD_SOURCE_CHANGED
    comment.save()
    if held_again:
        comment_stored(comment=comment)  # the authors hear about it like any held linkback
    return comment


def linkback_mark_removed(*, post: Post, source: str) -> int:
    """A source that is gone or no longer links: hide its linkback (kept for the record).

    The hold reason says why, so a later verification that finds the link again can bring it back
    (a moderator's removal leaves no such mark and stays).
    """
    updated = 0
    with transaction.atomic():
        comment = _locked(post, source)
        if comment is not None and not comment.is_removed:
            comment.is_removed, comment.hold_reason = True, LINKBACK_SOURCE_GONE
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
