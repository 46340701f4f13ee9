"""A post's whole discussion in one query, assembled into a tree in Python.

xtd's own tree tag checks permissions per comment (2 queries each for registered users); this
module never queries per comment.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from django.conf import settings
from django.db.models import QuerySet

from comments.models import Comment

AVATAR_COLOURS = 8  # .avatar.c0 … .avatar.c7 in site.css; no inline styles under our CSP


@dataclass
class Node:
    comment: Comment
    children: list[Node] = field(default_factory=list)


def public_comments(post_id: int) -> QuerySet[Comment]:
    return (
        Comment.objects.filter(post_id=post_id, is_public=True, is_removed=False, is_spam=False)
        .select_related("user")
        .order_by("thread_id", "order")
    )


def build_tree(comments: list[Comment]) -> list[Node]:
    """Nest comments under their parents. Orphans (parent hidden) are shown at the top level."""
    nodes = {c.pk: Node(c) for c in comments}
    roots: list[Node] = []
    for comment in comments:
        node = nodes[comment.pk]
        parent = nodes.get(comment.parent_id) if comment.parent_id != comment.pk else None
        if parent is None:
            roots.append(node)
        else:
            parent.children.append(node)
    roots.sort(key=lambda n: (n.comment.submit_date, n.comment.pk))
    return roots


def split_linkbacks(comments: list[Comment]) -> tuple[list[Comment], list[Comment]]:
    if settings.COMMENTS_LINKBACKS_IN_THREAD:
        return comments, []
    return [c for c in comments if not c.is_linkback], [c for c in comments if c.is_linkback]


def initials_avatar(name: str, email: str) -> dict[str, str | int]:
    """A deterministic local avatar: initials on a colour derived from a hash of the email."""
    words = [w for w in (name or "?").split() if w[:1].isalnum()]
    initials = "".join(w[0] for w in words[:2]).upper() or "?"
    digest = hashlib.sha256((email or name or "").strip().lower().encode()).digest()
    return {"initials": initials, "colour": digest[0] % AVATAR_COLOURS}
