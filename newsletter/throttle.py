"""Rate limits for sign-up requests and for the outgoing mail server.

Both count in the store every process shares (core/ratelimit.py: Redis when REDIS_URL is set,
else the database), so a limit holds whichever gunicorn worker or task worker is counting.
"""

from __future__ import annotations

import hashlib
import time

from core import ratelimit


def rate_allow(*, bucket: str, key: str, limit: int, window: int) -> bool:
    """Count one hit of `key` in `bucket`; False once more than `limit` fell in this window."""
    if limit <= 0:
        return True
    digest = hashlib.sha256(key.strip().lower().encode()).hexdigest()[:32]
    return ratelimit.limit_check(limits={f"newsletter:{bucket}:{digest}": limit}, seconds=window)


def rate_wait(*, bucket: str, per_second: float) -> None:
    """Block until one more send fits under `per_second` (0 = no limit), over all processes."""
    if per_second <= 0:
        return
    limit, seconds = (int(per_second), 1.0) if per_second >= 1 else (1, 1 / per_second)
    while not ratelimit.limit_check(limits={f"newsletter:{bucket}:send": limit}, seconds=seconds):
        time.sleep(0.05)
