"""Post revisions: record a copy on every save that changes the text, diff, restore, autosave."""

from __future__ import annotations

import difflib
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from posts.models import Post, PostRevision


def _text_of(title: str, body: str) -> list[str]:
    return [f"# {title}", "", *body.splitlines()]


def revision_record(*, post: Post, user, note: str = "") -> PostRevision | None:
    """Store the post's current title and body unless they equal the latest saved revision."""
    latest = post.revisions.filter(is_autosave=False).order_by("-created_at", "-id").first()
    if latest is not None and latest.title == post.title and latest.body == post.body:
        return None
    return PostRevision.objects.create(post=post, title=post.title, body=post.body, author=user, note=note)


def revision_baseline(*, post: Post) -> None:
    """Keep a post's text from before its first tracked edit (posts created before revisions)."""
    if post.pk and not post.revisions.filter(is_autosave=False).exists():
        stored = Post.objects.filter(pk=post.pk).values("title", "body", "updated_at").first()
        if stored:
            PostRevision.objects.create(
                post=post,
                title=stored["title"],
                body=stored["body"],
                author=None,
                created_at=stored["updated_at"],
                note="baseline",
            )


@transaction.atomic
def revision_restore(*, post: Post, revision: PostRevision, user) -> Post:
    """Put a revision's title and body back on the post exactly, and record that as a revision."""
    if revision.post_id != post.pk:
        raise ValueError("revision belongs to another post")
    revision_baseline(post=post)
    post.title = revision.title
    post.body = revision.body
    post.save(update_fields=["title", "body", "updated_at"])
    revision_record(post=post, user=user, note=f"restored from #{revision.pk}")
    if revision.is_autosave:
        revision.delete()  # recovered: the slot has done its job
    return post


def autosave_store(*, post: Post, user, title: str, body: str) -> PostRevision:
    """Keep one autosave slot per post and user, overwritten on each autosave."""
    slot, _created = PostRevision.objects.update_or_create(
        post=post,
        author=user,
        is_autosave=True,
        defaults={"title": title, "body": body, "created_at": timezone.now()},
    )
    return slot


@dataclass
class DiffLine:
    kind: str  # "add", "del", "hunk", "same"
    text: str


def revision_diff(older: PostRevision | None, newer: PostRevision) -> list[DiffLine]:
    """A unified diff of title and body from the older revision (or nothing) to the newer one."""
    before = _text_of(older.title, older.body) if older else []
    after = _text_of(newer.title, newer.body)
    lines: list[DiffLine] = []
    for line in difflib.unified_diff(before, after, lineterm="", n=2):
        if line.startswith(("---", "+++")):
            continue
        if line.startswith("@@"):
            lines.append(DiffLine("hunk", line))
        elif line.startswith("+"):
            lines.append(DiffLine("add", line))
        elif line.startswith("-"):
            lines.append(DiffLine("del", line))
        else:
            lines.append(DiffLine("same", line))
    return lines


def revision_history(post: Post) -> list[tuple[PostRevision, list[DiffLine]]]:
    """Saved revisions, newest first, each with its diff against the one before it (one query)."""
    revisions = list(
        post.revisions.filter(is_autosave=False).select_related("author").order_by("-created_at", "-id")
    )
    return [
        (rev, revision_diff(revisions[i + 1] if i + 1 < len(revisions) else None, rev))
        for i, rev in enumerate(revisions)
    ]
