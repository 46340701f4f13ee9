"""The content version: one value that changes whenever anything a public page shows changes.

Every page-cache key (sectorblog.pagecache) starts with the current content version, so bumping
it makes every cached page, feed and sidebar stale at once; nothing has to know which pages a
change touches. Stale entries are never read again and age out of the cache by themselves.

Where the version lives:
- With a shared cache (Redis), in the cache under one key, so every app server sees a bump.
- With the per-process local-memory cache, in a small file under VAR_DIR (PAGE_CACHE_VERSION_FILE):
  gunicorn workers and the task worker are separate processes on one machine, and each would
  otherwise keep its own version. Each process reads the file (30 bytes) on every use.

Scheduled posts appear without any save, so the version also carries a "valid until" time: the
next scheduled publication. Once it has passed, the next reader bumps the version.
"""

from __future__ import annotations

import os
import secrets
import threading
import time
from pathlib import Path

from django.conf import settings
from django.core.cache import cache, caches
from django.core.cache.backends.locmem import LocMemCache
from django.db import transaction

CACHE_KEY = "content-version"
NEVER = float("inf")

_lock = threading.Lock()


def _new_value() -> tuple[str, float]:
    """A fresh version and the time it stays valid until (the next scheduled publication)."""
    version = f"{time.time_ns():x}{secrets.token_hex(2)}"
    return version, _next_scheduled_publication()


def _next_scheduled_publication() -> float:
    from django.apps import apps
    from django.utils import timezone

    Post = apps.get_model("posts", "Post")
    when = (
        Post.objects.filter(status=Post.Status.PUBLISHED, published_at__gt=timezone.now())
        .order_by("published_at")
        .values_list("published_at", flat=True)
        .first()
    )
    return when.timestamp() if when else NEVER


def _uses_file() -> bool:
    # `cache` is a proxy; the backend object behind it is caches["default"].
    return isinstance(caches["default"], LocMemCache)


def _version_file() -> Path:
    configured = getattr(settings, "PAGE_CACHE_VERSION_FILE", "")
    return Path(configured) if configured else Path(settings.VAR_DIR) / "content-version"


_paths: dict[tuple[str, str], str] = {}


def _version_path() -> str:
    """_version_file() as a string, remembered per setting (read on every request)."""
    where = (getattr(settings, "PAGE_CACHE_VERSION_FILE", ""), str(settings.VAR_DIR))
    if where not in _paths:
        _paths[where] = str(_version_file())
    return _paths[where]


def _read_file() -> tuple[str, float] | None:
    # Read every time: a memo keyed by the file's stat could miss a bump, because an inode freed
    # by one replace can be reused two writes later within one coarse mtime tick, with the same
    # size. Reading 30 bytes costs microseconds.
    try:
        with open(_version_path(), "rb") as f:
            version, _sep, until = f.read(200).decode().partition(" ")
        return version, float(until or "inf")
    except (OSError, ValueError):  # not written yet (FileNotFoundError), or unreadable
        return None


def _write_file(value: tuple[str, float]) -> None:
    path = _version_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}")
    tmp.write_text(f"{value[0]} {value[1]}")
    os.replace(tmp, path)  # atomic: readers see the old or the new version, never half of one


def _store(value: tuple[str, float]) -> None:
    if _uses_file():
        _write_file(value)
    else:
        cache.set(CACHE_KEY, value, timeout=None)


def content_version() -> str:
    """The current content version (creating one on first use, renewing it when it has expired)."""
    value = _read_file() if _uses_file() else cache.get(CACHE_KEY)
    if value is None or value[1] <= time.time():
        with _lock:
            value = _new_value()
            _store(value)
    return value[0]


def content_version_if_current() -> str | None:
    """The content version when one exists and has not expired, else None; never creates one
    (creating may query the database). For sectorblog.fastpath, which then leaves the request
    to Django."""
    value = _read_file() if _uses_file() else cache.get(CACHE_KEY)
    if value is None or value[1] <= time.time():
        return None
    return value[0]


def content_version_bump(**_signal_kwargs) -> None:
    """Make every cached page stale: now, and again when the current transaction commits.

    The immediate bump covers callers outside a transaction; the one after commit closes the
    window where a concurrent reader could cache the old rows under the new version. Usable
    directly as a signal receiver. Inside a transaction the immediate bump skips the query for
    the next scheduled publication, and only one after-commit bump is queued per transaction.
    """
    from sectorblog.routers import remember_primary_position, replica_aliases

    connection = transaction.get_connection()
    if replica_aliases() and not _queued(connection, remember_primary_position):
        # Readers must not render this change's pages from a replica that has not replayed it
        # (one WAL-position query per transaction, however many rows it saved).
        transaction.on_commit(remember_primary_position)
    if not getattr(settings, "PAGE_CACHE", True):
        return  # nothing reads the version
    if not connection.in_atomic_block:
        _store(_new_value())
        return
    current = _read_file() if _uses_file() else cache.get(CACHE_KEY)
    until = current[1] if current else 0.0
    _store((f"{time.time_ns():x}{secrets.token_hex(2)}", until))
    if not _queued(connection, _bump_after_commit):
        transaction.on_commit(_bump_after_commit)


def _queued(connection, callback) -> bool:
    """Whether the open transaction already runs `callback` on commit."""
    return connection.in_atomic_block and any(
        entry[1] is callback for entry in getattr(connection, "run_on_commit", [])
    )


def _bump_after_commit() -> None:
    _store(_new_value())
