"""A counting semaphore shared by every process of this machine: at most N holders at once.

What it is for: work that holds a web worker while it waits on someone else (a Pingback
verification fetches the source while the caller waits). gunicorn's sync workers answer one request
each, so a few slow peers could otherwise hold every worker and starve readers. A caller takes a
slot without waiting; when none is free it answers "try later" at once.

How: N lock files, `<SEMAPHORE_DIR>/<name>/slot-<i>.lock`, each taken with a non-blocking
exclusive `flock`. The kernel lets one open file description hold it at a time, so the slots are
shared by all the workers and all their threads, and released when the holder closes the file or
dies (a killed or timed-out worker never leaks a slot). Nothing to clean up, no server needed.

Scope: one machine, on purpose: what it protects, the web workers, belongs to one machine. Several
app servers each get their own N. SEMAPHORE_DIR (default VAR_DIR/semaphores) must be on a local
disk; flock over NFS is not reliable. Where `fcntl` does not exist (Windows), a process-local
threading semaphore stands in.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from django.conf import settings

try:
    import fcntl
except ImportError:  # pragma: no cover - not on Linux or macOS
    fcntl = None

_local: dict[tuple[str, int], threading.BoundedSemaphore] = {}
_local_guard = threading.Lock()


def _directory(name: str) -> Path:
    path = Path(settings.SEMAPHORE_DIR) / name
    path.mkdir(parents=True, exist_ok=True)
    return path


@contextmanager
def semaphore_slot(*, name: str, slots: int) -> Iterator[bool]:
    """Take one of `slots` slots of the machine-wide semaphore `name`, without waiting.

    Yields True while holding a slot, False when all were busy (the caller should refuse the work
    for now). The slot is released when the block ends, however it ends.

        with semaphore_slot(name="pingback-verify", slots=2) as held:
            if not held:
                return busy()
            ...
    """
    if slots <= 0:
        yield True  # no cap configured
        return
    if fcntl is None:
        with _local_guard:
            local = _local.setdefault((name, slots), threading.BoundedSemaphore(slots))
        held = local.acquire(blocking=False)
        try:
            yield held
        finally:
            if held:
                local.release()
        return
    directory = _directory(name)
    start = os.getpid() % slots  # spread first tries over the slots
    for i in range(slots):
        path = directory / f"slot-{(start + i) % slots}.lock"
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            continue
        except OSError:
            os.close(fd)
            raise
        try:
            yield True
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)
        return
    yield False
