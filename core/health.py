"""/healthz: what the site depends on, as JSON.

503 only when the site cannot serve (the primary database is down). A replica, Redis or the task
worker being unhealthy shows as "degraded" in the JSON, with 200.
"""

from __future__ import annotations

import contextlib
import time

from django.conf import settings
from django.core.cache import cache
from django.db import connections
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from core import routers

WORKER_HEARTBEAT_KEY = "sectorblog:worker-heartbeat"
WORKER_STALE_SECONDS = 60


def _check_database(alias: str) -> dict:
    started = time.perf_counter()
    try:
        with connections[alias].cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
            lag = None
            if alias != routers.PRIMARY and connections[alias].vendor == "postgresql":
                cursor.execute(
                    "SELECT CASE WHEN NOT pg_is_in_recovery() THEN NULL "
                    "WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0 "
                    "ELSE EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp()) END"
                )
                value = cursor.fetchone()[0]
                lag = round(float(value), 3) if value is not None else None
        result = {"status": "ok", "ms": round((time.perf_counter() - started) * 1000, 1)}
        if lag is not None:
            result["replay_lag_seconds"] = lag
        return result
    except Exception:
        # The connection may be half-open after a failure; close it so the next request retries.
        with contextlib.suppress(Exception):
            connections[alias].close()
        return {"status": "down"}


def _check_cache() -> dict:
    backend = settings.CACHES["default"]["BACKEND"].rsplit(".", 1)[-1]
    try:
        cache.set("sectorblog:healthz", "1", 10)
        ok = cache.get("sectorblog:healthz") == "1"
        return {"status": "ok" if ok else "down", "backend": backend}
    except Exception:
        return {"status": "down", "backend": backend}


def _check_worker() -> dict:
    try:
        beat = cache.get(WORKER_HEARTBEAT_KEY)
    except Exception:
        beat = None
    if beat is None:
        return {"status": "unknown"}
    age = time.time() - float(beat)
    return {"status": "ok" if age < WORKER_STALE_SECONDS else "stale", "last_heartbeat_age": round(age, 1)}


@never_cache
@require_GET
def healthz(request):
    checks = {"primary": _check_database(routers.PRIMARY)}
    for alias in routers.replica_aliases():
        checks[alias] = _check_database(alias)
        if checks[alias]["status"] != "ok":
            routers.mark_down(alias)
    checks["cache"] = _check_cache()
    checks["worker"] = _check_worker()
    healthy = checks["primary"]["status"] == "ok"
    degraded = any(
        check["status"] not in {"ok", "unknown"} for name, check in checks.items() if name != "primary"
    )
    status = "unavailable" if not healthy else ("degraded" if degraded else "ok")
    return JsonResponse({"status": status, "checks": checks}, status=200 if healthy else 503)
