"""A fixed-window rate limit shared by every process and server: the counter is a database row
(one atomic UPDATE per hit), so it holds with several gunicorn workers on SQLite or PostgreSQL.

The interface is one function, `allow(key, limit=, window=)`. When core.ratelimit (the shared
limiter) lands, this module becomes a one-line call to it; nothing else in federation changes.
"""

from __future__ import annotations

import time

from django.db import IntegrityError, transaction
from django.db.models import F

from federation.models import RateBucket


def allow(key: str, *, limit: int, window: int) -> bool:
    """Count one hit for `key`; True while the hits in the current window stay within `limit`."""
    start = int(time.time()) // window * window
    with transaction.atomic():
        updated = RateBucket.objects.filter(key=key, window_start=start).update(count=F("count") + 1)
        if not updated:
            # A new window (or a new key): restart the count, then count this hit.
            reset = (
                RateBucket.objects.filter(key=key)
                .exclude(window_start=start)
                .update(window_start=start, count=1)
            )
            if not reset:
                try:
                    with transaction.atomic():
                        RateBucket.objects.create(key=key, window_start=start, count=1)
                except IntegrityError:
                    RateBucket.objects.filter(key=key).update(count=F("count") + 1)
        count = RateBucket.objects.filter(key=key).values_list("count", flat=True).first() or 0
    return count <= limit
