"""Profile one page uncached, in-process, on the benchmark database: `bench/profile_page.py /path/`.

`--cold` skips every cache (X-Bench-Nocache: cold), as the cold rows of `make bench` do; without
it only the page cache steps aside and the fragments are reused.

Uses the settings `make bench` gives gunicorn (DEBUG=0, PostgreSQL from DATABASE_URL or the
bench default) and the standard library's cProfile. Prints the SQL each request ran with its
time, then the functions with the most cumulative time over `--repeat` requests.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import secrets
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def setup_django() -> None:
    """Django with the settings `make bench` gives gunicorn, on the bench database."""
    os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/sectorblog_bench")
    os.environ.update(
        DEBUG="0",
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="127.0.0.1,testserver",
        SECURE_SSL_REDIRECT="0",
        VAR_DIR=str(ROOT / "var" / "bench" / "var"),
        DJANGO_SETTINGS_MODULE="bench.settings",  # honours X-Bench-Nocache
    )
    import django

    django.setup()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("path")
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--top", type=int, default=30)
    parser.add_argument("--cold", action="store_true", help="skip the fragment caches too")
    args = parser.parse_args()
    setup_django()
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from sectorblog import gcsettle

    client = Client(HTTP_X_BENCH_NOCACHE="cold" if args.cold else "1")
    assert client.get(args.path).status_code == 200
    # As a gunicorn worker does (sectorblog/wsgi.py): what lives as long as the process is frozen
    # out of the collector's passes, which would otherwise land on whatever function is running.
    gcsettle.warm_up()
    gcsettle.settle("profile")
    timings = []
    for _ in range(args.repeat):
        started = time.perf_counter()
        client.get(args.path)
        timings.append((time.perf_counter() - started) * 1000)
    timings.sort()
    print(
        f"{args.repeat} requests unprofiled: median {statistics.median(timings):.1f} ms,"
        f" best {timings[0]:.1f} ms"
    )
    with CaptureQueriesContext(connection) as queries:
        started = time.perf_counter()
        client.get(args.path)
        elapsed = time.perf_counter() - started
    print(f"one request: {elapsed * 1000:.1f} ms, {len(queries)} queries")
    for q in queries:
        print(f"  {float(q['time']) * 1000:7.1f} ms  {q['sql'][:160]}")
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(args.repeat):
        client.get(args.path)
    profiler.disable()
    pstats.Stats(profiler).sort_stats(os.environ.get("PROFILE_SORT", "cumulative")).print_stats(args.top)


if __name__ == "__main__":
    main()
