"""A post's discussion in a constant number of queries, assembled into a tree in Python.

xtd's own tree tag checks permissions per comment (2 queries each for registered users, XTD-NOTES
trap 1); nothing here queries per comment. Long discussions paginate by thread (a top-level
comment with its replies), COMMENTS_THREADS_PER_PAGE threads per page.

A discussion of up to WHOLE_DISCUSSION_ROWS visible items is read whole, in one query; its thread
sizes, page count and totals are counted from the rows in Python. A longer one (the first query
says so) is read in two more:

1. one query lists the visible threads of the post with their sizes (page count, total count);
2. one query fetches every visible comment of the threads on the requested page and, with
   linkbacks shown as a separate "Mentioned elsewhere" list (the default), every linkback.
"""

from __future__ import annotations

import functools
import hashlib
import html
import math
from dataclasses import dataclass, field
from functools import reduce
from operator import or_

from django.conf import settings
from django.db.models import Count, Q, QuerySet, Value

from comments.models import Comment
from core.prepared import Shape, prepared

AVATAR_COLOURS = 8  # .avatar.c0 … .avatar.c7 in site.css; no inline styles under our CSP


@dataclass
class Node:
    comment: ThreadComment
    children: list[Node] = field(default_factory=list)
    depth: int = 0  # the level it is drawn at (its stored level may be deeper)
    in_reply_to: ThreadComment | None = None  # set when drawn flat, away from the reply it answers


@dataclass
class ThreadPage:
    tree: list[Node]
    mentions: list[ThreadComment]
    total: int
    number: int
    num_pages: int
    comments: int = 0  # reader comments (and linkbacks drawn in the thread)
    mentioned: int = 0  # linkbacks in the separate list

    @property
    def counts(self) -> dict[str, int]:
        return {"comments": self.comments, "mentions": self.mentioned}

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def has_next(self) -> bool:
        return self.number < self.num_pages

    @property
    def previous_page_number(self) -> int:
        return self.number - 1

    @property
    def next_page_number(self) -> int:
        return self.number + 1


VISIBLE = Q(is_public=True, is_removed=False, is_spam=False)


def public_comments(post_id: int) -> QuerySet[Comment]:
    return Comment.objects.filter(VISIBLE, post_id=post_id).order_by("thread_id", "order")


class ThreadComment:
    """One item of a thread as the page shows it: the columns in FIELDS, read with
    values_list() rather than as a model instance (a long thread's 150 instances of a three-table
    model cost more than drawing them). The display rules are the model's own properties."""

    FIELDS = (
        "pk",
        "kind",
        "thread_id",
        "parent_id",
        "level",
        "submit_date",
        "user_name",
        "user_email",
        "user_url",
        "body_html",
        "source_url",
        "source_title",
        "source_icon",
        "author_handle",
        "author_avatar_url",
    )
    __slots__ = (*FIELDS, "_avatar", "page_number")
    Kind = Comment.Kind
    LINKBACK_KINDS = Comment.LINKBACK_KINDS
    _KIND_LABELS = dict(Comment.Kind.choices)

    def __init__(self, row: tuple):
        # One unpacking, not a setattr() per field: a long thread makes 150 of these per page.
        (
            self.pk,
            self.kind,
            self.thread_id,
            self.parent_id,
            self.level,
            self.submit_date,
            self.user_name,
            self.user_email,
            self.user_url,
            self.body_html,
            self.source_url,
            self.source_title,
            self.source_icon,
            self.author_handle,
            self.author_avatar_url,
        ) = row
        self._avatar = None
        self.page_number = 1

    @property
    def avatar(self) -> dict[str, str | int]:
        """avatar_for(this comment), worked out when first read: the Python renderer reads it
        once per commenter, not per comment."""
        if self._avatar is None:
            self._avatar = avatar_for(self)
        return self._avatar

    safe_user_url = Comment.safe_user_url
    safe_source_url = Comment.safe_source_url
    source_host = Comment.source_host
    source_site = Comment.source_site
    is_linkback = Comment.is_linkback
    is_remote_reply = Comment.is_remote_reply

    def get_kind_display(self) -> str:
        return str(self._KIND_LABELS.get(self.kind, self.kind))

    def __repr__(self) -> str:
        return f"<ThreadComment {self.pk} {self.kind}>"


def _threaded_kinds() -> Q:
    if settings.COMMENTS_LINKBACKS_IN_THREAD:
        return Q()
    return ~Q(kind__in=Comment.LINKBACK_KINDS)


def _thread_sizes(post_id: int) -> list[tuple[int, int]]:
    return [(tid, size) for tid, size, _links in _thread_counts(post_id) if size]


def _thread_counts(post_id: int) -> list[tuple[int, int, int]]:
    """(thread id, comments drawn in it, linkbacks listed apart) for every visible thread."""
    rows = Comment.objects.filter(VISIBLE, post_id=post_id).values_list("thread_id").order_by("thread_id")
    if settings.COMMENTS_LINKBACKS_IN_THREAD:
        return list(rows.annotate(size=Count("pk"), links=Value(0)))
    apart = Q(kind__in=Comment.LINKBACK_KINDS)
    return list(rows.annotate(size=Count("pk", filter=~apart), links=Count("pk", filter=apart)))


def page_of_thread(*, post_id: int, thread_id: int) -> int:
    """Which page of the discussion shows this thread (1 when unknown)."""
    ids = [tid for tid, _size in _thread_sizes(post_id)]
    try:
        return ids.index(thread_id) // settings.COMMENTS_THREADS_PER_PAGE + 1
    except ValueError:
        return 1


# Read whole, a discussion costs one query instead of two (a count, then the page's threads). The
# count costs what about 700 more rows would (2026-12-07, the bench's 160-item discussion, best of
# 400: 1.6 ms for the count, 2.3 us a row fetched), and a discussion past this limit pays for the
# limit's rows read in vain before the count.
WHOLE_DISCUSSION_ROWS = 500
_THREAD = ThreadComment.FIELDS.index("thread_id")
_KIND = ThreadComment.FIELDS.index("kind")


def thread_page(post_id: int, page: int | str | None = 1) -> ThreadPage:
    """The threads on one page of a post's discussion, as a tree, plus the mentions list."""
    per_page = settings.COMMENTS_THREADS_PER_PAGE
    whole = _whole_discussion(post_id=post_id, limit=WHOLE_DISCUSSION_ROWS + 1)
    if len(whole) > WHOLE_DISCUSSION_ROWS:
        whole, counts = None, _thread_counts(post_id)
    else:
        counts = _counted(whole)
    sizes = [(tid, size) for tid, size, _links in counts if size]
    linked = sum(links for _tid, _size, links in counts)
    num_pages = max(1, math.ceil(len(sizes) / per_page))
    try:
        number = min(max(1, int(page or 1)), num_pages)
    except (TypeError, ValueError):
        number = 1
    chosen = [tid for tid, _size in sizes[(number - 1) * per_page : number * per_page]]
    threaded = sum(size for _tid, size in sizes)
    if whole is not None:
        rows = _on_page(whole, set(chosen))
    else:
        rows = _page_rows(post_id, chosen, linked=bool(linked))
    comments, mentions = split_linkbacks([ThreadComment(row) for row in rows])
    mentions.sort(key=lambda c: (c.submit_date, c.pk))
    if number > 1:  # 1 unless told
        for comment in comments + mentions:
            comment.page_number = number
    tree = build_tree(comments, max_depth=settings.COMMENTS_MAX_THREAD_LEVEL)
    return ThreadPage(tree, mentions, threaded + len(mentions), number, num_pages, threaded, len(mentions))


@prepared(post_id=int, limit=Shape)
def _whole_discussion(post_id, limit):
    """Every visible item of the discussion in thread order, up to `limit` (one past the most a
    discussion read whole holds): compiled once per process (core.prepared)."""
    return public_comments(post_id).values_list(*ThreadComment.FIELDS)[:limit]


def _counted(rows: list[tuple]) -> list[tuple[int, int, int]]:
    """_thread_counts' answer, counted from the whole discussion's rows (in thread order)."""
    apart = not settings.COMMENTS_LINKBACKS_IN_THREAD
    tallies: dict[int, list[int]] = {}
    for row in rows:
        listed_apart = apart and row[_KIND] in Comment.LINKBACK_KINDS
        tallies.setdefault(row[_THREAD], [0, 0])[1 if listed_apart else 0] += 1
    return [(tid, size, links) for tid, (size, links) in tallies.items()]


def _on_page(rows: list[tuple], chosen: set[int]) -> list[tuple]:
    """The rows _page_rows would fetch, picked from the whole discussion's."""
    if settings.COMMENTS_LINKBACKS_IN_THREAD:
        return [row for row in rows if row[_THREAD] in chosen]
    return [row for row in rows if row[_THREAD] in chosen or row[_KIND] in Comment.LINKBACK_KINDS]


def _page_rows(post_id: int, chosen: list[int], *, linked: bool) -> list[tuple]:
    """The chosen threads' rows and, when any is listed apart, every linkback: one query."""
    wanted = [Q(_threaded_kinds(), thread_id__in=chosen)] if chosen else []
    if linked:
        wanted.append(Q(kind__in=Comment.LINKBACK_KINDS))
    if not wanted:
        return []
    return list(public_comments(post_id).filter(reduce(or_, wanted)).values_list(*ThreadComment.FIELDS))


def build_tree(comments: list[ThreadComment], *, max_depth: int | None = None) -> list[Node]:
    """Nest comments under their parents. Orphans (parent hidden or deleted) go to the top level.

    With `max_depth`, replies deeper than that are drawn at that depth, each right after the
    reply it answers (depth first, in thread order) and marked `in_reply_to`, as WordPress's
    comment walker draws them. Only the drawing is flattened: every comment keeps its parent.
    """
    nodes = {c.pk: Node(c) for c in comments}
    roots: list[Node] = []
    for comment in comments:
        node = nodes[comment.pk]
        parent = nodes.get(comment.parent_id) if comment.parent_id != comment.pk else None
        if parent is None:
            roots.append(node)
        else:
            parent.children.append(node)
    roots.sort(key=lambda n: (n.comment.thread_id, n.comment.submit_date, n.comment.pk))
    return roots if max_depth is None else _drawn(roots, 0, max(0, max_depth))


def _drawn(siblings: list[Node], depth: int, max_depth: int) -> list[Node]:
    """The nodes drawn at `depth` in one list: the siblings, and below max_depth their replies."""
    drawn: list[Node] = []
    for node in siblings:
        node.depth = depth
        drawn.append(node)
        if depth < max_depth:
            node.children = _drawn(node.children, depth + 1, max_depth)
            continue
        stack = [(child, node.comment) for child in reversed(node.children)]
        node.children = []
        while stack:  # no recursion: a stored thread may be far deeper than it is drawn
            reply, answered = stack.pop()
            reply.depth, reply.in_reply_to = depth, answered
            drawn.append(reply)
            stack.extend((child, reply.comment) for child in reversed(reply.children))
            reply.children = []
    return drawn


def split_linkbacks(comments: list[ThreadComment]) -> tuple[list[ThreadComment], list[ThreadComment]]:
    if settings.COMMENTS_LINKBACKS_IN_THREAD:
        return comments, []
    kinds = _LINKBACK_VALUES
    return [c for c in comments if c.kind not in kinds], [c for c in comments if c.kind in kinds]


_LINKBACK_VALUES = frozenset(kind.value for kind in Comment.LINKBACK_KINDS)  # is_linkback's


def initials_avatar(name: str, email: str) -> dict[str, str | int]:
    """A deterministic local avatar: initials on a colour derived from a hash of the email."""
    initials, colour = _initials_and_colour(name, email)
    return {"initials": initials, "colour": colour}


@functools.lru_cache(maxsize=4096)
def _initials_and_colour(name: str, email: str) -> tuple[str, int]:
    """A commenter's initials and colour, remembered per process: the same people write much of
    a site's discussion, and the split and the hash cost more than the rest of an avatar."""
    words = [w for w in (name or "?").split() if w[:1].isalnum()]
    initials = "".join(w[0] for w in words[:2]).upper() or "?"
    digest = hashlib.sha256((email or name or "").strip().lower().encode()).digest()
    return initials, digest[0] % AVATAR_COLOURS


def avatar_url(comment: ThreadComment | Comment) -> str:
    """The picture shown instead of the initials, or "": a fediverse sender's avatar copied to our
    own storage (never hot-linked), else a Gravatar when COMMENTS_USE_GRAVATAR is on."""
    return avatar_urls()(comment)


def avatar_urls():
    """avatar_url with the settings read once, for a render of many comments."""
    media_url, gravatar = settings.MEDIA_URL, settings.COMMENTS_USE_GRAVATAR
    fediverse = Comment.Kind.FEDIVERSE.value

    def avatar_url(comment: ThreadComment | Comment) -> str:
        if comment.kind == fediverse and comment.author_avatar_url.startswith(media_url):
            return comment.author_avatar_url
        if gravatar and comment.user_email:
            digest = hashlib.sha256(comment.user_email.strip().lower().encode()).hexdigest()
            return f"https://www.gravatar.com/avatar/{digest}?s=48&d=identicon"
        return ""

    return avatar_url


@functools.lru_cache(maxsize=4096)
def initials_html(name: str, email: str) -> str:
    """The initials avatar as the thread draws it, per commenter (see _initials_and_colour)."""
    initials, colour = _initials_and_colour(name, email)
    return f'<span class="avatar c{colour}" aria-hidden="true">{html.escape(initials)}</span>'


def avatar_for(comment: ThreadComment | Comment) -> dict[str, str | int]:
    """The local initials avatar, and its picture's "url" when there is one (avatar_url)."""
    avatar = initials_avatar(comment.user_name, comment.user_email or comment.author_handle)
    url = avatar_url(comment)
    if url:
        avatar["url"] = url
    return avatar
