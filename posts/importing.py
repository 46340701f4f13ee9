"""Whether posts are being saved by an import (a move from another blog) rather than by an author.

A migrated post was published long ago, on the old blog, which notified the pages it links to
then. Handlers that announce a publication (outbound linkbacks, WebSub pings; they live in
`comments`, which posts never imports) ask `current_import()`: during an import they record what
the post already did instead of doing it again, and count it here for the import's summary.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass


@dataclass
class ImportNotes:
    """What the handlers did instead of notifying, for the import's summary."""

    links_known: int = 0  # outbound links recorded as already notified by the old blog
    posts_with_links: int = 0  # published posts those links are in
    scheduled: int = 0  # scheduled posts, which notify the pages they link to when they go live


_current: ContextVar[ImportNotes | None] = ContextVar("posts_import", default=None)


@contextmanager
def importing() -> Iterator[ImportNotes]:
    """Mark the posts saved inside the block as imported, and collect the handlers' notes."""
    notes = ImportNotes()
    token = _current.set(notes)
    try:
        yield notes
    finally:
        _current.reset(token)


def current_import() -> ImportNotes | None:
    """The running import's notes, or None when no import is running (an author saved)."""
    return _current.get()
