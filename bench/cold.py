"""Cold renders one request at a time: `python bench/cold.py [--requests 100]`.

Every cache skipped (`X-Bench-Nocache: cold`: no page cache, no fragments, no fast path), one
request in flight at a time, against gunicorn started as `make bench` starts it, on the bench
database. For the 155-comment post, home and the site feed it prints the median, p90 and best
wall time of `--requests` sequential requests, measured by the client from sending the request
to reading the last byte (a new connection each time, as gunicorn's sync workers close it).

`make bench` (bench/run.py) measures the same rows before its wrk rows and prints them in its
table; this script runs them alone, which is quicker while working on render speed. The targets
for issue 24 on the 2-core machine: post <= 10 ms, home <= 6 ms, /feed/ <= 6 ms.
"""

from __future__ import annotations

import argparse
import http.client
import os
import signal
import socket
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
COLD = {"X-Bench-Nocache": "cold"}


def pages(post_path: str) -> list[dict]:
    """The pages measured cold, one request at a time."""
    return [
        {"name": "post 155 comments, cold", "key": "post-cold-single", "path": post_path},
        {"name": "home, cold", "key": "home-cold-single", "path": "/"},
        {"name": "/feed/, cold", "key": "feed-cold-single", "path": "/feed/"},
    ]


def one_request(host: str, port: int, path: str, headers: dict) -> tuple[int, float]:
    """(status, milliseconds from sending the request to reading the whole response)."""
    conn = http.client.HTTPConnection(host, port, timeout=30)
    try:
        started = time.perf_counter()
        conn.request("GET", path, headers=headers)
        response = conn.getresponse()
        response.read()
        return response.status, (time.perf_counter() - started) * 1000
    finally:
        conn.close()


def single_requests(
    base: str,
    path: str,
    count: int,
    headers: dict | None = None,
    warm: int = 6,
    server_pid: int | None = None,
) -> dict:
    """`count` sequential requests for `path` (after `warm` unmeasured ones, which reach every
    worker): median, p90, best and worst in ms, and with `server_pid` (gunicorn's master) the
    server's CPU time per request, which other work on the machine barely changes."""
    from bench.run import server_cpu_seconds

    host, port = base.removeprefix("http://").split(":")
    headers = {**COLD, **(headers or {})}
    for _ in range(warm):
        one_request(host, int(port), path, headers)
    times, statuses = [], set()
    cpu_before = server_cpu_seconds(server_pid) if server_pid else 0.0
    for _ in range(count):
        status, ms = one_request(host, int(port), path, headers)
        statuses.add(status)
        times.append(ms)
    cpu = (server_cpu_seconds(server_pid) - cpu_before) * 1000 / count if server_pid else None
    times.sort()
    return {
        "server_cpu_ms": round(cpu, 2) if cpu is not None else None,
        "requests": count,
        "median_ms": round(statistics.median(times), 2),
        "p90_ms": round(times[min(len(times) - 1, int(len(times) * 0.9))], 2),
        "best_ms": round(times[0], 2),
        "worst_ms": round(times[-1], 2),
        "statuses": sorted(statuses),
        "load_average": os.getloadavg(),
    }


def table(rows: list[dict]) -> list[str]:
    header = (
        f"{'cold, one request at a time':<30} {'n':>4} {'median':>8} {'p90':>8} {'best':>8} {'cpu ms':>7}"
        f" {'load':>5}"
    )
    lines = [header, "-" * len(header)]
    for row in rows:
        m = row["single"]
        lines.append(
            f"{row['name']:<30} {m['requests']:>4} {m['median_ms']:>8.2f} {m['p90_ms']:>8.2f}"
            f" {m['best_ms']:>8.2f} {m['server_cpu_ms'] or 0:>7.2f} {m['load_average'][0]:>5.1f}"
            + ("" if m["statuses"] == [200] else f"  statuses {m['statuses']}")
        )
    lines.append(
        "(wall milliseconds measured by the client; cpu ms = gunicorn's CPU time per request;"
        " every cache off: X-Bench-Nocache: cold)"
    )
    return lines


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def main() -> None:
    from bench import run

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=100)
    parser.add_argument("--port", type=int, default=0, help="default: a free port")
    parser.add_argument("--skip-setup", action="store_true", help="don't migrate or seed (already done)")
    parser.add_argument(
        "--only", default="", help="comma-separated keys: post-cold-single,home-cold-single,…"
    )
    args = parser.parse_args()
    env, post_path = run.prepare(skip_setup=args.skip_setup)
    port = args.port or free_port()
    run.OUT_DIR.mkdir(parents=True, exist_ok=True)
    access_log = run.OUT_DIR / "cold-access.log"
    server = run.start_gunicorn(env, port, access_log)
    base = f"http://127.0.0.1:{port}"
    only = {key.strip() for key in args.only.split(",") if key.strip()}
    rows = []
    try:
        for page in pages(post_path):
            if only and page["key"] not in only:
                continue
            page["single"] = single_requests(base, page["path"], args.requests, server_pid=server.pid)
            rows.append(page)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
    print("\n".join(table(rows)))


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    main()
