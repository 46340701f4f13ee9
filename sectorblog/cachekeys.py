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
next scheduled publication. Once it has passed, the next reader renews the version.

What renews it: `content_changed()`, and nothing else. No caller has to remember it: every
database connection carries a watcher (`ContentWriteWatcher`, a Django execute wrapper) that sees
each SQL statement, and a write (INSERT, UPDATE, DELETE, ...) to a table whose rows readers see
calls it: a model's save() or delete(), a QuerySet.update() or bulk_create(), a third-party app's
own update (django-comments-xtd's), a raw cursor. Which tables count is decided once, below
(CONTENT_APPS, QUIET_MODELS, QUIET_COLUMNS).
"""

from __future__ import annotations

import os
import re
import secrets
import threading
import time
from pathlib import Path

from django.conf import settings
from django.core.cache import cache, caches
from django.core.cache.backends.locmem import LocMemCache
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections, transaction

CACHE_KEY = "content-version"
NEVER = float("inf")

_lock = threading.Lock()


def _fresh_version() -> str:
    return f"{time.time_ns():x}{secrets.token_hex(2)}"


def _next_scheduled_publication(using: str = DEFAULT_DB_ALIAS) -> float:
    """When the next published post with a future date goes live (a timestamp), or NEVER.

    Read from `using` (the primary unless a writer names its own connection), never a replica:
    a replica behind on a newly scheduled post would give the version too long a life.
    """
    from django.apps import apps
    from django.utils import timezone

    Post = apps.get_model("posts", "Post")
    when = (
        Post.objects.using(using)
        .filter(status=Post.Status.PUBLISHED, published_at__gt=timezone.now())
        .order_by("published_at")
        .values_list("published_at", flat=True)
        .first()
    )
    return when.timestamp() if when else NEVER


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
    (creating may query the database). For sectorblog.fastpath, which then leaves the request
    to Django. A renewal this thread owes (see content_changed) needs no query and is made."""
    _renew_owed()
    value = _read()
    if value is None or value[1] <= time.time():
        return None
    return value[0]


def content_changed(*, using: str = DEFAULT_DB_ALIAS, schedule_changed: bool = True) -> None:
    """Make every cached page and fragment stale: the one function every content write reaches
    (through ContentWriteWatcher).

    Outside a transaction the version is renewed at once. Inside one, nobody else can see the
    new rows before the commit, so the version is renewed after it (which also closes the window
    where a concurrent reader could cache the old rows under a new version), and before this
    thread's own next read of the version (a test, a view reading its own writes): one renewal
    per transaction, however many statements it runs. `schedule_changed` (a write to the posts
    table) looks up the next scheduled publication at once, inside the transaction, so a post
    scheduled by it sets the renewed version's lifetime.
    """
    from core.routers import remember_primary_position, replica_aliases

    connection = connections[using]
    if replica_aliases() and not _queued(connection, remember_primary_position):
        # Readers must not render this change's pages from a replica that has not replayed it
        # (one WAL-position query per transaction, however many rows it saved).
        transaction.on_commit(remember_primary_position, using=using)
    if not getattr(settings, "PAGE_CACHE", True):
        return  # nothing reads the version
    if not connection.in_atomic_block:
        _renew()
        return
    _owed.renew = True
    if schedule_changed:
        _owed.until = _next_scheduled_publication(using)  # this transaction's own rows included
    if not _queued(connection, _renew_after_commit):
        transaction.on_commit(_renew_after_commit, using=using)


class _Owed(threading.local):
    renew = False  # this thread's open transaction changed content since the version was read
    until: float | None = None  # the next scheduled publication it saw, when it wrote posts


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


def content_version_bump(**_signal_kwargs) -> None:
    """content_changed() under its older name (also usable as a signal receiver). Writes reach
    content_changed() by themselves now; there is no need to call either."""
    content_changed()


# --- Which writes change what readers see -------------------------------------------------------
# Every table of these apps feeds pages, feeds or sidebars, and so does the user table (bylines
# fall back to the user's name). A table added to these apps later is watched without a word.
CONTENT_APPS = ("posts", "comments", "django_comments", "django_comments_xtd")
# Tables of those apps that readers never see and that strangers or the task worker write often:
# a webmention waiting for its check, the record of one outbound notification.
QUIET_MODELS = ("comments.IncomingWebmention", "comments.LinkbackAttempt")
# Columns that readers never see: an UPDATE setting only these is not a change (every login
# stamps last_login).
QUIET_COLUMNS = {"last_login"}
POSTS_TABLE = "posts_post"  # the one table with publication times
# The statement's first word, after any leading comments (query-tagging tools add them).
_FIRST_WORD = re.compile(r"(?:\s|/\*.*?\*/|--[^\n]*\n)*(\w+)", re.DOTALL)
_WRITE_VERBS = {"INSERT", "UPDATE", "DELETE", "REPLACE", "TRUNCATE", "MERGE"}
_WRITE_INSIDE = re.compile(r"\b(INSERT|UPDATE|DELETE|MERGE)\b", re.IGNORECASE)  # WITH … UPDATE …
_UPDATE_SET = re.compile(r"\s*UPDATE\s+\S+\s+SET\s+(.*?)\s+WHERE\s", re.IGNORECASE | re.DOTALL)
# Any name followed by "=" in the SET list counts as assigned (an expression's own comparisons
# too): when in doubt, the UPDATE is a change.
_ASSIGNED = re.compile(r'"?(\w+)"?\s*=')


def content_tables() -> frozenset[str]:
    """The database tables whose rows readers see (see CONTENT_APPS and QUIET_MODELS)."""
    from django.apps import apps

    quiet = {apps.get_model(label)._meta.db_table for label in QUIET_MODELS}
    tables = {
        model._meta.db_table
        for label in CONTENT_APPS
        for model in apps.get_app_config(label).get_models(include_auto_created=True)
    }
    tables.add(apps.get_model(settings.AUTH_USER_MODEL)._meta.db_table)
    return frozenset(tables - quiet)


class ContentWriteWatcher:
    """Calls content_changed() after each SQL write that names a content table.

    A Django execute wrapper, installed on every database connection as it opens
    (sectorblog.apps), so it sees what the ORM, third-party apps and raw cursors send alike.
    It errs on the side of a change: a write that merely mentions a content table (in a
    subquery, say) renews the version too, which costs a cache miss, never a stale page.
    Migrations pause it (they renew once, when they are done).
    """

    paused = False

    def __init__(self) -> None:
        self._names: re.Pattern | None = None

    def _tables(self) -> re.Pattern:
        if self._names is None:
            names = sorted(content_tables(), key=len, reverse=True)
            self._names = re.compile(r"(?<![\w$])(" + "|".join(map(re.escape, names)) + r")(?![\w$])")
        return self._names

    def __call__(self, execute, sql, params, many, context):
        result = execute(sql, params, many, context)
        if not self.paused and isinstance(sql, str) and _is_write(sql):
            named = set(self._tables().findall(sql))
            if named and not _only_quiet_columns(sql):
                content_changed(using=context["connection"].alias, schedule_changed=POSTS_TABLE in named)
        return result


def _is_write(sql: str) -> bool:
    first = _FIRST_WORD.match(sql)
    verb = first.group(1).upper() if first else ""
    return verb in _WRITE_VERBS or (verb == "WITH" and _WRITE_INSIDE.search(sql) is not None)


def _only_quiet_columns(sql: str) -> bool:
    """Whether `sql` is an UPDATE that sets nothing but QUIET_COLUMNS."""
    match = _UPDATE_SET.match(sql)
    if match is None:
        return False
    assigned = set(_ASSIGNED.findall(match.group(1)))
    return bool(assigned) and assigned <= QUIET_COLUMNS


watcher = ContentWriteWatcher()


def watch_connection(*, connection, **_signal_kwargs) -> None:
    """connection_created receiver: put the watcher on the connection, once (first, so that a
    `with connection.execute_wrapper(...)` block popping its own wrapper leaves it in place)."""
    if watcher not in connection.execute_wrappers:
        connection.execute_wrappers.insert(0, watcher)


def pause_for_migrations(**_signal_kwargs) -> None:
    # Data migrations write with historical models, possibly before the tables the version's
    # lookup reads exist; the version is renewed once when migrating is done.
    watcher.paused = True


def resume_after_migrations(**_signal_kwargs) -> None:
    if watcher.paused:  # the first app's post_migrate: every migration has run
        watcher.paused = False
        try:
            content_changed()
        except DatabaseError:  # no posts table (migrated backwards): the first reader renews it
            _store((_fresh_version(), 0.0))


def _queued(connection, callback) -> bool:
    """Whether the open transaction already runs `callback` on commit."""
    return connection.in_atomic_block and any(
        entry[1] is callback for entry in getattr(connection, "run_on_commit", [])
    )


def _renew_after_commit() -> None:
    _owed.renew, _owed.until = False, None
    _renew()
