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

PRIMARY = "default"

# Per request: the alias reads go to (one replica chosen for the whole request, or the primary).
# None outside requests (commands, the task worker, migrations): the primary.
read_target: contextvars.ContextVar[str | None] = contextvars.ContextVar("read_target", default=None)

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
        return read_target.get() or PRIMARY

    def db_for_write(self, model, **hints):
        return PRIMARY

    def allow_relation(self, obj1, obj2, **hints):
        return True

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        return db == PRIMARY
