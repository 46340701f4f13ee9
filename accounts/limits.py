"""Counting requests per key in a time window, for password-reset requests.

One small interface so the counter can move to the shared limiter (core/ratelimit.py) without
touching its callers. Until then it counts in the default cache: shared by every process when
REDIS_URL is set, per process otherwise.
"""

from __future__ import annotations

import hashlib
import time

from django.core.cache import cache


def rate_hit(*, bucket: str, key: str, limit: int, window: int) -> bool:
    """Count one request for `key`; True while at most `limit` were made in this window."""
    digest = hashlib.sha256(key.encode()).hexdigest()[:32]
    slot = int(time.time() // window)
    cache_key = f"accounts-rate:{bucket}:{digest}:{slot}"
    cache.add(cache_key, 0, timeout=window + 60)
    try:
        count = cache.incr(cache_key)
    except ValueError:  # evicted between add and incr
        cache.set(cache_key, 1, timeout=window + 60)
        count = 1
    return count <= limit
