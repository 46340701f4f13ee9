"""The review workflow's side effects: who hears what when a post moves between states.

- A contributor submits a post for review: every editor is told.
- Someone else publishes, schedules or sends back a post: its other authors are told. Sending
  back keeps the editor's note (`ReviewNote`), which the author sees on the post's admin page.

Emails go in each recipient's language (their profile), through the worker, after commit. This
module is the one place that queues the workflow's tasks (posts/tasks.py); the tasks never import it.
"""

from __future__ import annotations

from typing import Literal

from django.db import transaction

from posts import tasks
from posts.models import Post, ReviewNote

Decision = Literal["published", "scheduled", "sent_back"]


def post_submitted(*, post: Post, by) -> None:
    """Tell the editors that `by` submitted the post for review."""
    post_id, by_id = post.pk, getattr(by, "pk", None)
    transaction.on_commit(lambda: tasks.notify_editors_of_review.enqueue(post_id, by_id))


def post_decided(*, post: Post, by, decision: Decision, note: ReviewNote | None = None) -> None:
    """Tell the post's other authors that `by` published, scheduled or sent it back."""
    post_id, by_id, note_id = post.pk, getattr(by, "pk", None), getattr(note, "pk", None)
    transaction.on_commit(lambda: tasks.notify_authors_of_decision.enqueue(post_id, by_id, decision, note_id))


def post_send_back(*, post: Post, by, note: str) -> ReviewNote:
    """Return a post to draft with a note for its author(s), and tell them."""
    post.status = Post.Status.DRAFT
    post.save(update_fields=["status", "updated_at"])
    review_note = ReviewNote.objects.create(post=post, author=by, note=note.strip())
    post_decided(post=post, by=by, decision="sent_back", note=review_note)
    return review_note
