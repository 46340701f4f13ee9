"""Views that only read.

`ATOMIC_REQUESTS` (settings) runs every view in a transaction, so that a view that writes either
writes everything or nothing. A view that only reads gains nothing from it and pays for it: a
BEGIN and a COMMIT, two more round trips to the database on every page; and on SQLite, whose
transactions begin IMMEDIATE here, the database's one write lock held for the whole render, so
readers wait on each other and on writers. `reads` marks a view as one that answers GET and HEAD
only (Django's `require_safe`) and runs outside the request transaction, each query in autocommit.
On PostgreSQL (READ COMMITTED) each statement saw its own snapshot inside the transaction too, so
what a page can show is unchanged.

A view marked `reads` may still write a row on its own (a rate-limit counter, core.ratelimit):
that statement commits by itself. Anything that must write several rows together opens its own
`transaction.atomic()`.
"""

from __future__ import annotations

from django.db import transaction
from django.views.decorators.http import require_safe


def reads(view):
    """`require_safe`, outside the request transaction (see the module's docstring)."""
    return transaction.non_atomic_requests(require_safe(view))
