"""The content version: one value that changes whenever anything a public page shows changes.

Every page-cache key (core.cache.pagecache) starts with the current content version, so bumping
it makes every cached page, feed and sidebar stale at once; nothing has to know which pages a
change touches. Stale entries are never read again and age out of the cache by themselves.

Where the version lives:
- With a shared cache (Redis), in the cache under one key, so every app server sees a bump.
- With the per-process local-memory cache, in a small file under VAR_DIR (PAGE_CACHE_VERSION_FILE):
  gunicorn workers and the task worker are separate processes on one machine, and each would
  otherwise keep its own version. Each process reads the file (30 bytes) on every use.

Scheduled posts appear without any save, so the version also carries a "valid until" time: the
next scheduled publication, which the app that schedules content tells (`register_schedule`).
Once it has passed, the next reader renews the version.

What renews it: `content_changed()`, and nothing else. No caller has to remember it: every
database connection carries a watcher (core.cache.watcher) that sees each SQL statement, and a
write to a table an app registered as content calls it.

The version also says when content last changed (`changed_at`): pages without a more precise
Last-Modified of their own give that, the same from every process.
"""

from __future__ import annotations

import os
import secrets
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path

from django.conf import settings
from django.core.cache import cache, caches
from django.core.cache.backends.locmem import LocMemCache
from django.db import DEFAULT_DB_ALIAS, connections, transaction

from core.cache import deps
from core.routers import remember_primary_position, replica_aliases

CACHE_KEY = "content-version"
NEVER = float("inf")

_lock = threading.Lock()


def _fresh_version() -> str:
    return f"{time.time_ns():x}{secrets.token_hex(2)}"


_schedules: list[Callable[[str], float | None]] = []


def changed_at(version: str) -> int | None:
    """When `version` was made, in whole seconds since the epoch: the time content last changed
    (or the version last expired), the same in every process. None for a version not made here."""
    try:
        return int(version[:-4], 16) // 1_000_000_000
    except ValueError:
        return None


def register_schedule(next_time: Callable[[str], float | None]) -> None:
    """Register `next_time(using)`: when the next scheduled content goes live (a timestamp), or
    None. The version lasts until the earliest of them (posts registers its publication times)."""
    if next_time not in _schedules:
        _schedules.append(next_time)


def _next_scheduled_publication(using: str = DEFAULT_DB_ALIAS) -> float:
    """When the next scheduled content goes live (a timestamp), or NEVER.

    Read from `using` (the primary unless a writer names its own connection), never a replica:
    a replica behind on a newly scheduled post would give the version too long a life.
    """
    times = [when for next_time in _schedules if (when := next_time(using)) is not None]
    return min(times, default=NEVER)


def _renew() -> str:
    """Store a fresh version, valid until the next scheduled publication; return it."""
    version = _fresh_version()
    until = _next_scheduled_publication()
    _store((version, until))
    # A transaction that scheduled a post and committed between the query above and the store
    # has had its own renewal overwritten by this one: look once more, so its time is not lost.
    again = _next_scheduled_publication()
    if again != until:
        _store((version, again))
    return version


def _uses_file() -> bool:
    # `cache` is a proxy; the backend object behind it is caches["default"].
    return isinstance(caches["default"], LocMemCache)


def _version_file() -> Path:
    configured = settings.PAGE_CACHE_VERSION_FILE
    return Path(configured) if configured else Path(settings.VAR_DIR) / "content-version"


_paths: dict[tuple[str, str], str] = {}


def _version_path() -> str:
    """_version_file() as a string, remembered per setting (read on every request)."""
    where = (settings.PAGE_CACHE_VERSION_FILE, str(settings.VAR_DIR))
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


def _read() -> tuple[str, float] | None:
    return _read_file() if _uses_file() else cache.get(CACHE_KEY)


def content_version() -> str:
    """The current content version (creating one on first use, renewing it when it has expired,
    or when this thread's open transaction changed content since it last asked)."""
    _renew_owed()
    value = _read()
    if value is None or value[1] <= time.time():
        with _lock:
            return _renew()
    return value[0]


def content_version_if_current() -> str | None:
    """The content version when one exists and has not expired, else None; never creates one
    (creating may query the database). For core.cache.fastpath, which then leaves the request
    to Django. A renewal this thread owes (see content_changed) needs no query and is made."""
    _renew_owed()
    value = _read()
    if value is None or value[1] <= time.time():
        return None
    return value[0]


def content_version_and_tags(tags: Iterable[str]) -> tuple[str | None, dict[str, int] | None]:
    """content_version_if_current(), and with a shared cache the current values of `tags` read in
    the same round trip (None with the file-backed version: the tags' file is read on demand, no
    round trip). A tag without a value is left out, as core.cache.deps.values() leaves it."""
    tags = list(tags)
    if _uses_file() or not tags:
        return content_version_if_current(), None
    _renew_owed()
    deps.renew_owed()  # this thread's own writes first, as deps.values() does
    stored = cache.get_many([CACHE_KEY, *deps.tag_keys(tags)])
    value = stored.get(CACHE_KEY)
    if value is None or value[1] <= time.time():
        return None, None
    return value[0], deps.from_cache(tags, stored)


def content_changed(
    *, using: str = DEFAULT_DB_ALIAS, schedule_changed: bool = True, tags: frozenset[str] | None = None
) -> None:
    """Make every cached page and fragment stale: the one function every content write reaches
    (through core.cache.watcher).

    Outside a transaction the version is renewed at once. Inside one, nobody else can see the
    new rows before the commit, so the version is renewed after it (which also closes the window
    where a concurrent reader could cache the old rows under a new version), and before this
    thread's own next read of the version (a test, a view reading its own writes): one renewal
    per transaction, however many statements it runs. `schedule_changed` (a write to the posts
    table) looks up the next scheduled publication at once, inside the transaction, so a post
    scheduled by it sets the renewed version's lifetime.

    With `tags` (a write core.cache.deps can attribute: one post's discussion), those dependency
    tags are renewed instead of the version, at the same moments.
    """
    connection = connections[using]
    if replica_aliases() and not _queued(connection, remember_primary_position):
        # Readers must not render this change's pages from a replica that has not replayed it
        # (one WAL-position query per transaction, however many rows it saved).
        transaction.on_commit(remember_primary_position, using=using)
    if not settings.PAGE_CACHE:
        return  # nothing reads the version
    if tags is not None:
        if not connection.in_atomic_block:
            deps.renew(tags)
            return
        deps.owe(tags)
        _owed.commit_tags = _owed.commit_tags | tags
        if not _queued(connection, _renew_after_commit):
            transaction.on_commit(_renew_after_commit, using=using)
        return
    if not connection.in_atomic_block:
        _renew()
        return
    _owed.renew = _owed.commit_renew = True
    if schedule_changed:
        _owed.until = _next_scheduled_publication(using)  # this transaction's own rows included
    if not _queued(connection, _renew_after_commit):
        transaction.on_commit(_renew_after_commit, using=using)


class _Owed(threading.local):
    renew = False  # this thread's open transaction changed content since the version was read
    until: float | None = None  # the next scheduled publication it saw, when it wrote posts
    # What the commit renews, whatever was renewed early for this thread's own reads.
    commit_renew = False
    commit_tags: frozenset[str] = frozenset()


_owed = _Owed()


def _renew_owed() -> None:
    if not _owed.renew:
        return
    until = _owed.until
    _owed.renew, _owed.until = False, None
    if until is None:
        current = _read()
        until = current[1] if current else 0.0
    _store((_fresh_version(), until))


def expire() -> None:
    """Store a version that has already expired: the next reader renews it (and asks the
    schedules, which may not be readable now, e.g. after migrating backwards)."""
    _store((_fresh_version(), 0.0))


def discussions_changed(*post_ids, using: str = DEFAULT_DB_ALIAS) -> None:
    """These posts' discussions changed through a table the write watcher does not watch (an app
    above comments, with its own signals): renew their dependency tags (core.cache.deps), as a
    comment's own write does."""
    content_changed(using=using, tags=deps.changed_tags(post_ids))


def content_version_bump(**_signal_kwargs) -> None:
    """content_changed() under its older name (also usable as a signal receiver). Writes reach
    content_changed() by themselves now; there is no need to call either."""
    content_changed()


def _queued(connection, callback) -> bool:
    """Whether the open transaction already runs `callback` on commit."""
    return connection.in_atomic_block and any(
        entry[1] is callback for entry in getattr(connection, "run_on_commit", [])
    )


def _renew_after_commit() -> None:
    tags, renew = _owed.commit_tags, _owed.commit_renew
    _owed.commit_tags = frozenset()
    _owed.commit_renew = False
    if tags:
        deps.renew(tags)
    if renew:
        _owed.renew, _owed.until = False, None
        _renew()
