"""Queueing django.tasks tasks: after the transaction commits, and later when the backend can.

Each app's tasks module is the one place that queues its tasks; these are the two helpers they
share.
"""

from __future__ import annotations

from django.db import transaction


def on_commit_enqueue(task, *args, run_after=None) -> None:
    """Queue a django.tasks task once the current transaction commits (never inline)."""

    def enqueue() -> None:
        (task.using(run_after=run_after) if run_after else task).enqueue(*args)

    transaction.on_commit(enqueue)


def enqueue_later(task, when, *args, run_now_if_unsupported: bool = False) -> None:
    """Queue a task to run after `when`; backends that cannot defer (the immediate one, in
    tests and debugging) run it now or skip it."""
    if task.get_backend().supports_defer:
        task.using(run_after=when).enqueue(*args)
    elif run_now_if_unsupported:
        task.enqueue(*args)
