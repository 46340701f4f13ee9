"""Rate limits for sign-up requests and for the outgoing mail server.

One small interface, `rate_allow(bucket=, key=, limit=, window=)`: True while `key` has been seen
at most `limit` times in the current `window` seconds. The counters live in the default cache, so
they are shared by every gunicorn worker and task worker when the cache is (REDIS_URL, as in
production); with the per-process local-memory cache each process counts alone.

The project's shared limiter (core/ratelimit.py, being written on another branch) offers the same
call; when it lands, this module becomes a one-line re-export of it.
"""

from __future__ import annotations

import hashlib
import time

from django.core.cache import cache


def rate_allow(*, bucket: str, key: str, limit: int, window: int) -> bool:
    """Count one hit of `key` in `bucket`; False once more than `limit` fell in this window."""
    if limit <= 0:
        return True
    slot = int(time.time() // window)
    digest = hashlib.sha256(key.strip().lower().encode()).hexdigest()[:32]
    name = f"ratelimit:{bucket}:{digest}:{slot}"
    cache.add(name, 0, timeout=window + 5)
    try:
        count = cache.incr(name)
    except ValueError:  # expired between add and incr
        cache.add(name, 1, timeout=window + 5)
        count = 1
    return count <= limit


def rate_wait(*, bucket: str, per_second: float) -> None:
    """Block until one more send fits under `per_second` (0 = no limit), shared like rate_allow."""
    if per_second <= 0:
        return
    while True:
        slot = int(time.time())
        name = f"ratelimit:{bucket}:send:{slot}"
        cache.add(name, 0, timeout=5)
        try:
            count = cache.incr(name)
        except ValueError:
            continue
        if count <= per_second:
            return
        time.sleep(max(0.0, slot + 1 - time.time()))
