"""Fixed-window counters in the shared cache (Redis in production, so every process counts once)."""

from __future__ import annotations

from django.core.cache import cache


def window_hit(key: str, *, limit: int, window: int) -> bool:
    """Count one hit under `key` for `window` seconds; True while the count stays within `limit`.

    `add` then `incr` is atomic on Redis; the window starts at the first hit.
    """
    cache.add(key, 0, window)
    try:
        count = cache.incr(key)
    except ValueError:  # expired or evicted between add and incr
        cache.set(key, 1, window)
        count = 1
    return count <= limit
