"""Rate limits and concurrency caps that hold across every process of the site.

gunicorn runs several worker processes, and a deployment may run several app servers, so a limit
kept in one process's memory lets a second request through whenever another process answers it.
Every limit therefore counts in a store all processes share:

- **Redis**, when `REDIS_URL` is set: one Lua script increments each counter and sets its expiry
  in the same step, so a counter never outlives its window (Django's `cache.incr` checks and then
  increments in two calls, and a key that expires between them comes back without a timeout).
- **The database** otherwise (the embedded default, and any deployment without Redis): the
  `core_ratecounter` table, written with one `INSERT … ON CONFLICT (key) DO UPDATE … RETURNING`
  statement, which SQLite (3.35+) and PostgreSQL both run atomically: PostgreSQL locks the row,
  SQLite has a single writer. Django's DatabaseCache was not used: its `incr` is a read then a
  write, and its `add` overwrites an expired row without a lock, so two processes can both win.
  A window that has ended restarts inside the same statement. When a statement starts a new
  window, expired rows are deleted (at most `PURGE_BATCH`; on PostgreSQL skipping rows that another
  transaction holds), so the table holds about one row per key seen within its window and does not
  grow without bound.

Windows are fixed: they start at a key's first hit and last `seconds`; later hits don't extend them.

Counting in the database joins the caller's transaction. Under ATOMIC_REQUESTS on PostgreSQL a
second request for the same key waits until the first request commits, then sees its count: this
is what makes a limit hold under truly concurrent requests. Keys are sorted so two statements lock
shared rows in the same order.

A store that fails: a Redis error is logged and the request is let through (a limit must not take
the site down with it); a database error propagates, as any other query's would.

Public functions:
- `limit_check(limits={key: max_hits, …}, seconds=N)`: count one hit on each key; True while every
  count stays within its maximum. A maximum of 1 makes it a claim: "the first in N seconds".
(Machine-wide semaphores are core/semaphore.py's.)
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Mapping

from django.conf import settings
from django.db import connections, router

from core.models import RateCounter

logger = logging.getLogger(__name__)

PURGE_BATCH = 500
_MAX_KEY = 200  # core_ratecounter.key


def _now_ms() -> int:
    return int(time.time() * 1000)


def _stored_key(key: str) -> str:
    """Keys as stored: long ones (a host name can be 253 characters) are hashed to fit."""
    if len(key) <= _MAX_KEY:
        return key
    return key[:100] + ":" + hashlib.sha256(key.encode()).hexdigest()


# --- the database store ----------------------------------------------------------------------------


def _db_connection():
    return connections[router.db_for_write(RateCounter)], RateCounter._meta.db_table


def _db_hits(keys: list[str], seconds: float) -> dict[str, tuple[int, int]]:
    """Count one hit on each key; {key: (count in its window, window end in ms)}."""
    connection, table = _db_connection()
    qn = connection.ops.quote_name
    t, k, c, e = qn(table), qn("key"), qn("count"), qn("expires")
    now = _now_ms()
    expires = now + max(1, int(seconds * 1000))
    rows = ", ".join(["(%s, 1, %s)"] * len(keys))
    sql = (
        f"INSERT INTO {t} ({k}, {c}, {e}) VALUES {rows} "
        f"ON CONFLICT ({k}) DO UPDATE SET "
        f"{c} = CASE WHEN {t}.{e} <= %s THEN 1 ELSE {t}.{c} + 1 END, "
        f"{e} = CASE WHEN {t}.{e} <= %s THEN excluded.{e} ELSE {t}.{e} END "
        f"RETURNING {k}, {c}, {e}"
    )
    params: list[object] = []
    for key in keys:
        params += [key, expires]
    params += [now, now]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        found = {key: (int(count), int(end)) for key, count, end in cursor.fetchall()}
        if any(count == 1 for count, _end in found.values()):
            skip = connection.features.has_select_for_update_skip_locked
            skip_locked = " FOR UPDATE SKIP LOCKED" if skip else ""
            cursor.execute(
                f"DELETE FROM {t} WHERE {k} IN "
                f"(SELECT {k} FROM {t} WHERE {e} <= %s LIMIT {PURGE_BATCH}{skip_locked})",
                [now],
            )
    return found


# --- the Redis store -------------------------------------------------------------------------------

# Per key: increment, and give it the window's expiry when the window starts (or when the key has
# somehow lost its expiry). Returns {count, milliseconds left} per key.
_REDIS_HITS = """
local out = {}
for i, key in ipairs(KEYS) do
  local n = redis.call('INCR', key)
  local left = redis.call('PTTL', key)
  if n == 1 or left < 0 then
    redis.call('PEXPIRE', key, ARGV[1])
    left = tonumber(ARGV[1])
  end
  out[i] = {n, left}
end
return out
"""

_redis_state: dict[str, object] = {}


def _redis():
    """One client per process and URL; redis-py's pool reconnects in a forked worker."""
    url = settings.REDIS_URL
    if _redis_state.get("url") != url:
        # redis is needed only with REDIS_URL set: loaded on first use
        import redis

        client = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
        _redis_state.update(
            url=url,
            client=client,
            hits=client.register_script(_REDIS_HITS),
        )
    return _redis_state


def _redis_key(key: str) -> str:
    prefix = settings.CACHES["default"].get("KEY_PREFIX", "")
    return f"{prefix}:ratelimit:{key}"


def _redis_hits(keys: list[str], seconds: float) -> dict[str, tuple[int, int]]:
    state = _redis()
    window = max(1, int(seconds * 1000))
    result = state["hits"](keys=[_redis_key(k) for k in keys], args=[window])
    now = _now_ms()
    return {key: (int(count), now + int(left)) for key, (count, left) in zip(keys, result, strict=True)}


# --- public --------------------------------------------------------------------------------------


def _uses_redis() -> bool:
    return bool(settings.REDIS_URL)


def limit_check(*, limits: Mapping[str, int], seconds: float) -> bool:
    """Count one hit on every key in `limits`; True when each count is within its maximum.

    Every key is counted, even when another is already over its limit, so an attempt that is
    refused still counts against all of them.
    """
    if not limits or seconds <= 0:
        return True
    maxima = {_stored_key(key): limit for key, limit in limits.items()}
    keys = sorted(maxima)
    if _uses_redis():
        # redis is needed only with REDIS_URL set: loaded on first use
        import redis

        try:
            counts = _redis_hits(keys, seconds)
        except redis.RedisError:
            logger.exception("rate limit store (Redis) failed; letting the request through")
            return True
    else:
        counts = _db_hits(keys, seconds)
    return all(counts[key][0] <= maxima[key] for key in keys)
