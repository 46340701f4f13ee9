"""Read replicas: reads in a request go to a healthy replica, writes and pinned reads to the primary.

Only requests opt in to replicas (the ReplicaRoutingMiddleware marks them); management commands,
migrations and the task worker always use the primary. A client that has just written is pinned
to the primary for a short window (read-your-writes), and a replica that fails is taken out of
rotation for a while and the request is retried on the primary.
"""

from __future__ import annotations

import contextvars
import random
import threading
import time

from django.conf import settings
from django.core.cache import cache
from django.db import connections

PRIMARY = "default"

# Per request: where reads go (one replica chosen for the whole request, or the primary).
# None outside requests (commands, the task worker, migrations): the primary.
read_target: contextvars.ContextVar[ReadChoice | None] = contextvars.ContextVar("read_target", default=None)

# The primary's WAL position after the last content write; a replica that has not replayed up to
# it would serve (and the page cache would keep) stale pages, so such a request reads the primary.
PRIMARY_POSITION_KEY = "sectorblog:primary-wal-lsn"


class ReadChoice:
    """The read alias for one request, checked against the last write on its first read."""

    def __init__(self, alias: str):
        self.alias = alias
        self.checked = alias == PRIMARY

    def resolve(self) -> str:
        if not self.checked:
            self.checked = True
            if not replica_caught_up(self.alias):
                self.alias = PRIMARY
        return self.alias


def replica_caught_up(alias: str) -> bool:
    position = cache.get(PRIMARY_POSITION_KEY)
    if not position or connections[alias].vendor != "postgresql":
        return True
    with connections[alias].cursor() as cursor:
        cursor.execute("SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", [position])
        row = cursor.fetchone()
    return row[0] is not False


def remember_primary_position() -> None:
    """Record the primary's WAL position after a write (no-op without replicas).

    The insert position, not the write position: with asynchronous commit the commit record may
    still sit in WAL buffers, and a replica that replayed up to the write position would miss it.
    """

    if not replica_aliases() or connections[PRIMARY].vendor != "postgresql":
        return
    with connections[PRIMARY].cursor() as cursor:
        cursor.execute("SELECT pg_current_wal_insert_lsn()::text")
        cache.set(PRIMARY_POSITION_KEY, cursor.fetchone()[0], None)


_down_until: dict[str, float] = {}
_lock = threading.Lock()


def replica_aliases() -> list[str]:
    return [alias for alias in settings.DATABASES if alias.startswith("replica")]


def mark_down(alias: str, seconds: float | None = None) -> None:
    with _lock:
        _down_until[alias] = time.monotonic() + (seconds or settings.DATABASE_REPLICA_RETRY_SECONDS)


def healthy_replicas() -> list[str]:
    now = time.monotonic()
    return [alias for alias in replica_aliases() if _down_until.get(alias, 0) <= now]


def choose_replica() -> str:
    """A healthy replica for one request, or the primary when none is healthy."""
    candidates = healthy_replicas()
    return random.choice(candidates) if candidates else PRIMARY  # noqa: S311 (load spreading)


class PrimaryReplicaRouter:
    def db_for_read(self, model, **hints):
        choice = read_target.get()
        return choice.resolve() if choice is not None else PRIMARY

    def db_for_write(self, model, **hints):
        return PRIMARY

    def allow_relation(self, obj1, obj2, **hints):
        return True

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        return db == PRIMARY
