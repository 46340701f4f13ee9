"""Dependency tags: which parts of the discussion a cached page or fragment shows, so that a new
comment renews only what shows it.

The content version (core.cache.version) renews every page at once. That is the rule for posts,
taxonomy, authors and settings, which show on every page through the sidebar and the navigation.
The discussion is different: a comment on post A changes A's page, its comment feed, the
all-comments feed and the lists that show A's comment count, and nothing else. So writes to the
discussion's tables, when their app can say which posts they touch, renew *tags* instead:

- `discussion:<post id>`: that post's thread, counts and mentions;
- `discussions` (ANY): any post's. Whatever never said what it shows of the discussion depends
  on it, so a page nobody taught about tags stays exactly as fresh as before.

Writing. An app wraps its writes in `changing(*post_ids)` (comments.models does it for every
save, delete and queryset update of a comment); the write watcher (core.cache.watcher) renews the
tags of the open block for a write that names only the tables the app registered as scoped
(`watcher.register_content(..., scoped_models=...)`), and the content version for any other
content write, inside a block or not. A tag is renewed after the transaction commits, like the
version, with the time of renewal (nanoseconds) as its value.

Reading. Each request (and each `remember`, `{% fragment %}` outside one) has a Recorder, opened
at its start: its `as_of` is the time it opened, before any query. Views and templates say what
they show (`discussion(*post_ids)`, or `declare()` for "nothing beyond what my parts say"); a
fragment's tags join the page's, whether the fragment was rendered or read. What is stored
carries its tags and `as_of`, and is served only while every tag's value is at most `as_of`:
a change that committed after the render began (its tag renewed later still) makes the copy
stale, so a page rendered while a change commits is never kept as current.

Where tags live: with a shared cache (Redis), in it (`tag:<name>`, no expiry); with the
per-process local-memory cache, in one small file `cache-tags` (written under a lock) beside the
version's file (core.cache.version: PAGE_CACHE_VERSION_FILE, by default under VAR_DIR). A tag
with no value (never renewed, or lost with the cache) reads as unknown: a copy that needs it is
not served, and storing a new copy first sets it to that copy's `as_of` (only if still absent),
so the worst a lost tag costs is one render. Writers and readers must share a clock (one
machine, or NTP), as the version's lifetime already assumes.
"""

from __future__ import annotations

import contextvars
import fcntl
import os
import secrets
import threading
import time
from collections.abc import Iterable
from contextlib import contextmanager
from pathlib import Path

from django.conf import settings
from django.core.cache import cache, caches
from django.core.cache.backends.locmem import LocMemCache

ANY = "discussions"
PREFIX = "discussion:"


def discussion_tag(post_id) -> str:
    return f"{PREFIX}{post_id}"


# --- what a page or fragment shows ------------------------------------------------------------


class Recorder:
    """The tags one page or fragment depends on, collected while it renders."""

    __slots__ = ("as_of", "declared", "parent", "tags")

    def __init__(self, parent: Recorder | None = None):
        self.parent = parent
        # A fragment's copy is as old as the request it is part of: the objects it shows may
        # have been read by the view before the fragment began.
        self.as_of = parent.as_of if parent is not None else now()
        self.tags: set[str] = set()
        self.declared = False

    def final_tags(self) -> frozenset[str]:
        """The tags, with ANY when nothing said what this shows of the discussion."""
        return frozenset(self.tags if self.declared else self.tags | {ANY})


_current: contextvars.ContextVar[Recorder | None] = contextvars.ContextVar("cache_deps", default=None)


def current() -> Recorder | None:
    return _current.get()


@contextmanager
def recording(*, nested: bool = True):
    """Collect dependencies for the block: a new recorder (under the current one when `nested`,
    whose tags then also get this one's). Yields the recorder."""
    parent = _current.get() if nested else None
    if parent is None:
        renew_owed()  # this thread's own earlier writes are older than what it renders now
    recorder = Recorder(parent)
    token = _current.set(recorder)
    try:
        yield recorder
    finally:
        _current.reset(token)
        if parent is not None:
            parent.tags |= recorder.final_tags()


def discussion(*post_ids) -> None:
    """What is being rendered shows these posts' discussions (threads, counts, mentions)."""
    recorder = _current.get()
    if recorder is not None:
        recorder.tags.update(discussion_tag(pk) for pk in post_ids if pk is not None)
        recorder.declared = True


def declare() -> None:
    """What is being rendered shows no discussion beyond what its parts (fragments, cards) say."""
    recorder = _current.get()
    if recorder is not None:
        recorder.declared = True


def depend(tags: Iterable[str]) -> None:
    """Tags of a part read from the cache (a fragment) join what is being rendered."""
    recorder = _current.get()
    if recorder is not None:
        recorder.tags.update(tags)


# --- the tags' values ---------------------------------------------------------------------------
def now() -> int:
    """Nanoseconds since the epoch: tag values and `as_of` (one clock for writers and readers)."""
    return time.time_ns()


def _uses_files() -> bool:
    return isinstance(caches["default"], LocMemCache)


def _tags_file() -> Path:
    """Beside the content version's file (PAGE_CACHE_VERSION_FILE, default under VAR_DIR)."""
    configured = settings.PAGE_CACHE_VERSION_FILE
    return (Path(configured).parent if configured else Path(settings.VAR_DIR)) / "cache-tags"


_paths: dict[tuple[str, str], str] = {}


def _tags_path() -> str:
    """_tags_file() as a string, remembered per setting (read on every page-cache hit)."""
    where = (settings.PAGE_CACHE_VERSION_FILE, str(settings.VAR_DIR))
    if where not in _paths:
        _paths[where] = str(_tags_file())
    return _paths[where]


# The file: a first line with a generation (new on every write), then one line per
# tag ("name value"). Readers read the first line, and the rest only when the generation is not
# the one they parsed last: a check costs one small read, however many tags a page has.
_HEAD_BYTES = 32
_memo: dict[str, tuple[bytes, dict[str, int]]] = {}
_memo_lock = threading.Lock()


def _parse(data: bytes) -> tuple[bytes, dict[str, int]]:
    generation, _sep, rest = data.partition(b"\n")
    found = {}
    for line in rest.decode().splitlines():
        name, _sep, value = line.partition(" ")
        if value.isdigit():
            found[name] = int(value)
    return generation, found


def _file_values() -> dict[str, int]:
    path = _tags_path()
    # Unreadable (not written yet, or not a file) reads as no tags: every copy that needs one is
    # then not served, never served stale.
    try:
        fd = os.open(path, os.O_RDONLY)  # unbuffered: the usual read is the first line alone
    except OSError:
        return {}
    try:
        head = os.read(fd, _HEAD_BYTES)
        generation = head.partition(b"\n")[0]
        memo = _memo.get(path)
        if memo is not None and memo[0] == generation:
            return memo[1]
        chunks = [head]
        while chunk := os.read(fd, 1 << 16):
            chunks.append(chunk)
        data = b"".join(chunks)
    except OSError:
        return {}
    finally:
        os.close(fd)
    parsed = _parse(data)
    with _memo_lock:
        _memo[path] = parsed
    return parsed[1]


def _file_update(changes: dict[str, int], *, only_if_absent: bool = False) -> None:
    """Write `changes` into the file under an exclusive lock (processes on one machine), as a
    new generation; with `only_if_absent`, tags that have a value keep it."""
    path = _tags_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_name(".cache-tags.lock"), "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        current = dict(_file_values())  # parsed again only when another process wrote
        if only_if_absent:
            changes = {tag: value for tag, value in changes.items() if tag not in current}
            if not changes:
                return
        current.update(changes)
        # Unique, not a count: a file deleted and written again never repeats a generation.
        generation = f"{time.time_ns():x}{secrets.token_hex(4)}"
        lines = [generation, *(f"{tag} {value}" for tag, value in current.items())]
        tmp = path.with_name(f".cache-tags.{os.getpid()}.{threading.get_ident()}")
        tmp.write_text("\n".join(lines) + "\n")
        os.replace(tmp, path)  # atomic: readers see the old generation or the new one
        with _memo_lock:
            _memo[_tags_path()] = (generation.encode(), current)


class _Owed(threading.local):
    def __init__(self):
        self.tags: set[str] = set()


_owed = _Owed()


def owe(tags: Iterable[str]) -> None:
    """Tags this thread's open transaction changed: renewed before this thread next reads any
    (a view reading its own writes, a test), and again after the commit (core.cache.version)."""
    _owed.tags.update(tags)


def renew_owed() -> None:
    if _owed.tags:
        owed, _owed.tags = _owed.tags, set()
        renew(owed)


class _Known(threading.local):
    def __init__(self):
        self.asked: frozenset[str] = frozenset()
        self.found: dict[str, int] = {}


_known = _Known()


def tag_keys(tags: Iterable[str]) -> list[str]:
    """The shared cache's keys of `tags` (for a caller that fetches them with other keys)."""
    return [f"tag:{tag}" for tag in tags]


def from_cache(tags: Iterable[str], stored: dict) -> dict[str, int]:
    """The values of `tags` among `stored`, a get_many answer that asked for tag_keys(tags)."""
    return {tag: stored[f"tag:{tag}"] for tag in tags if f"tag:{tag}" in stored}


@contextmanager
def known(asked: Iterable[str], found: dict[str, int]):
    """Within the block, `values()` answers the tags in `asked` from `found` (read from the shared
    cache a moment ago, in the same round trip as the content version: core.cache.fastpath) and
    fetches only the others."""
    previous = (_known.asked, _known.found)
    _known.asked, _known.found = frozenset(asked), found
    try:
        yield
    finally:
        _known.asked, _known.found = previous


def values(tags: Iterable[str]) -> dict[str, int]:
    """The tags' current values; a tag without one is left out."""
    renew_owed()
    tags = list(tags)
    if not tags:
        return {}
    if _uses_files():
        every = _file_values()
        return {tag: every[tag] for tag in tags if tag in every}
    answer = {tag: _known.found[tag] for tag in tags if tag in _known.found}
    missing = [tag for tag in tags if tag not in _known.asked]
    if missing:
        answer.update(from_cache(missing, cache.get_many(tag_keys(missing))))
    return answer


def renew(tags: Iterable[str]) -> None:
    """Give each tag a new value (now): what depends on it is stale from here on."""
    value = now()
    if _uses_files():
        _file_update(dict.fromkeys(tags, value))
    else:
        cache.set_many({f"tag:{tag}": value for tag in tags}, timeout=None)


def fresh(tags: Iterable[str], as_of: int) -> bool:
    """Whether a copy made as of `as_of` that depends on `tags` is still current."""
    tags = list(tags)
    if not tags:
        return True
    found = values(tags)
    return len(found) == len(tags) and all(value <= as_of for value in found.values())


def storable(tags: Iterable[str], as_of: int) -> int | None:
    """Whether a copy made as of `as_of` may be stored: the newest of its tags' values (ns, 0 for
    none) when every tag is at most `as_of`, else None (a change committed during the render).
    Tags without a value get `as_of`, unless another process set one meanwhile."""
    tags = list(tags)
    found = values(tags)
    absent = [tag for tag in tags if tag not in found]
    if absent and _uses_files():
        _file_update(dict.fromkeys(absent, as_of), only_if_absent=True)
    elif absent:
        for tag in absent:
            cache.add(f"tag:{tag}", as_of, timeout=None)
    if len(found) < len(tags):
        found = values(tags)
        if len(found) < len(tags):
            return None
    newest = max(found.values(), default=0)
    return newest if newest <= as_of else None


def newest(tags: Iterable[str]) -> int | None:
    """The newest change among `tags`, in whole seconds since the epoch, or None."""
    found = values(tags)
    return max(found.values()) // 1_000_000_000 if found else None


# --- writing --------------------------------------------------------------------------------------
class _Scope(threading.local):
    def __init__(self):
        self.stack: list[frozenset[str]] = []


_scope = _Scope()


def changed_tags(post_ids) -> frozenset[str]:
    """The tags a change to these posts' discussions renews: theirs, and ANY."""
    return frozenset({ANY, *(discussion_tag(pk) for pk in post_ids if pk is not None)})


@contextmanager
def changing(*post_ids):
    """Writes to the scoped tables inside the block change these posts' discussions (and ANY)."""
    _scope.stack.append(changed_tags(post_ids))
    try:
        yield
    finally:
        _scope.stack.pop()


def changing_tags() -> frozenset[str] | None:
    """The tags the open `changing` blocks name, or None outside any."""
    if not _scope.stack:
        return None
    return frozenset().union(*_scope.stack)
