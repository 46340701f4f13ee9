"""Counting password-reset requests per key in a time window, shared by every process
(core/ratelimit.py: Redis when REDIS_URL is set, the database otherwise)."""

from __future__ import annotations

import hashlib

from core import ratelimit


def rate_hit(*, bucket: str, key: str, limit: int, window: int) -> bool:
    """Count one request for `key`; True while at most `limit` were made in this window."""
    digest = hashlib.sha256(key.encode()).hexdigest()[:32]
    return ratelimit.limit_check(limits={f"accounts-rate:{bucket}:{digest}": limit}, seconds=window)
