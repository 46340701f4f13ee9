"""Loading whole threads of historical comments at once (a WordPress import), without a save()
per comment.

`Comment.save()` costs about a dozen statements per comment: django-contrib-comments' row, then
django-comments-xtd's, whose `save()` reads the parent, renumbers the thread (`order`), counts
replies up the ancestors (`nested_count`) and, through its `pre_save` receiver, walks the
comment's replies to publish or hide them. For a comment written years ago, in a thread loaded
from first to last, every one of those answers is known before anything is written: the threads
are new, so `order` is the position in the thread's pre-order walk and `nested_count` is the
number of descendants. `threads_insert()` computes them and writes each table with one
multi-row INSERT per batch: three statements per batch of comments instead of a dozen per
comment.

It sends no signals and queues nothing: a bulk load is a move of old comments, and those
announced themselves long ago (no emails, spam checks, moderation or linkback icons happen here;
the caller decides what follows, e.g. `comments.linkbacks.icons.source_icons_queue`).
"""

from __future__ import annotations

from collections.abc import Sequence

from django.conf import settings
from django.db import connections, router
from django.utils import timezone
from django_comments.models import Comment as BaseComment
from django_comments_xtd.models import XtdComment

from comments.models import Comment
from posts.models import Post

BATCH_SIZE = 500


def _thread_fields(parents: Sequence[int | None]) -> tuple[list[int], list[int], list[int], list[int]]:
    """For comments listed in thread order, each reply's parent given by its index (None for a
    thread's first comment): each one's thread root (an index), level, order and nested_count,
    as XtdComment.save() would have left them had they been saved one by one in that order.

    Raises ValueError when the list is not in pre-order (a reply listed before its parent, or
    after a later branch of the thread had started), or when a reply is deeper than
    COMMENTS_XTD_MAX_THREAD_LEVEL allows.
    """
    count = len(parents)
    roots, levels, orders, nested = list(range(count)), [0] * count, [1] * count, [0] * count
    next_order: dict[int, int] = {}
    open_path: dict[int, list[int]] = {}  # thread root -> the branch the last comment is on
    max_level = settings.COMMENTS_XTD_MAX_THREAD_LEVEL
    for index, parent in enumerate(parents):
        if parent is None:
            next_order[index] = 2
            open_path[index] = [index]
            continue
        if not 0 <= parent < index:
            raise ValueError(f"comment {index} is listed before its parent {parent}")
        root = roots[parent]
        path = open_path[root]
        while path and path[-1] != parent:
            path.pop()
        if not path:
            raise ValueError(f"comment {index} replies to {parent} after that branch was closed")
        level = levels[parent] + 1
        if level > max_level:
            raise ValueError(f"comment {index} is at level {level}; the most is {max_level}")
        roots[index], levels[index], orders[index] = root, level, next_order[root]
        next_order[root] += 1
        for ancestor in path:  # every comment on the branch above it gains a descendant
            nested[ancestor] += 1
        path.append(index)
    return roots, levels, orders, nested


def _batches(items: list, size: int):
    for start in range(0, len(items), size):
        yield items[start : start + size]


def threads_insert(comments: list[Comment], parents: Sequence[int | None]) -> None:
    """Insert `comments` (unsaved, in thread pre-order) as new threads; `parents[i]` is the index
    in `comments` of the comment that comment i replies to, or None for a thread's first comment.

    Fills what Comment.save() would (post, body_html, the duplicate key, the submit date when
    missing, xtd's thread fields) and each comment's primary key. No signal is sent.
    """
    if len(comments) != len(parents):
        raise ValueError("one parent (or None) per comment")
    if not comments:
        return
    roots, levels, orders, nested = _thread_fields(parents)
    now = timezone.now()
    for comment in comments:
        if comment.pk is not None:
            raise ValueError("threads_insert() adds new comments only")
        if comment.post_id is None and comment.object_pk and comment.content_type.model_class() is Post:
            comment.post_id = int(comment.object_pk)
        comment.submit_date = comment.submit_date or now
        comment.body_html = comment.render_body()
        if comment.kind == Comment.Kind.COMMENT and not comment.duplicate_key:
            comment.duplicate_key = Comment.make_duplicate_key(
                content_type_id=comment.content_type_id,
                object_pk=str(comment.object_pk),
                email=comment.user_email or "",
                text=comment.comment,
            )
    using = router.db_for_write(Comment)
    connection = connections[using]
    base_pk = BaseComment._meta.pk
    base_fields = [f for f in BaseComment._meta.local_concrete_fields if not f.primary_key]
    size = max(1, min(BATCH_SIZE, connection.ops.bulk_batch_size(base_fields, comments)))
    for batch in _batches(comments, size):
        if connection.features.can_return_rows_from_bulk_insert:
            rows = BaseComment._base_manager._insert(
                batch, fields=base_fields, returning_fields=[base_pk], using=using
            )
        else:  # one row per statement, still without the thread bookkeeping
            rows = [
                BaseComment._base_manager._insert(
                    [comment], fields=base_fields, returning_fields=[base_pk], using=using
                )[0]
                for comment in batch
            ]
        for comment, (pk,) in zip(batch, rows, strict=True):
            comment.id = comment.comment_ptr_id = comment.xtdcomment_ptr_id = pk
    for index, comment in enumerate(comments):
        parent = parents[index]
        comment.thread_id = comments[roots[index]].pk
        comment.parent_id = comment.pk if parent is None else comments[parent].pk
        comment.level, comment.order, comment.nested_count = levels[index], orders[index], nested[index]
        comment._state.adding, comment._state.db = False, using
    for model in (XtdComment, Comment):
        fields = list(model._meta.local_concrete_fields)
        size = max(1, min(BATCH_SIZE, connection.ops.bulk_batch_size(fields, comments)))
        for batch in _batches(comments, size):
            model._base_manager._insert(batch, fields=fields, using=using)
