"""gunicorn settings for sectorblog. gunicorn reads ./gunicorn.conf.py from the directory it starts
in: the project root, which is the Docker image's WORKDIR. Options given on the command line win.

Workers are processes that each answer one request at a time, one more than the CPUs this
process may use, with gunicorn's sync worker:
- A request here is CPU work in Python (rendering, the ORM), and PostgreSQL often runs on the same
  host. Threads in one process take turns on the GIL: on a 2-core host `make bench` measured
  cached pages at 64 connections with a p99 of 59-162 ms for 2 workers x 4 threads, against
  24-44 ms for 2, 3 or 5 sync workers, at the same or higher throughput (bench/README.md).
- A sync worker accepts a connection only when it is free to answer it, so connections go to
  idle workers. gthread workers accept whenever they wake and keep the connection for its
  keep-alive life: the benchmark caught 49 of 64 connections on one of two workers.
- The extra process keeps a CPU busy while another worker waits on the database or the network.
- The sync worker closes the connection after each response and reads requests at the client's
  pace, so slow clients and keep-alive belong to the TLS proxy in front (README, "Production"),
  which buffers requests and responses.

Environment:
- WEB_CONCURRENCY: number of worker processes (default: usable CPUs + 1).
- GUNICORN_THREADS: request threads per worker (default 1, the sync worker). With more than one,
  the gthread worker, and the interpreter's switch interval drops from 5 ms to 1 ms so a thread
  back from I/O waits less for the GIL (cached p99 45-56 ms at 2 x 2 and 2 x 4 in the benchmark).
  Worth it where requests wait long on the network, e.g. a remote database.
- GUNICORN_MAX_REQUESTS: requests after which a worker is replaced (default 200,000, with up to
  10 % jitter; 0 = never). A new worker starts with empty local caches: replacing one every
  20,000 requests, as before, meant a cold worker every few seconds under load, in most benchmark
  rows. Worker RSS stays flat at about 90 MB over a whole `make bench` run; the limit only bounds
  a leak.
"""

import os
import sys


def _int_env(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    if not value:
        return default
    try:
        number = int(value)
    except ValueError:
        sys.exit(f"gunicorn.conf.py: {name} must be a whole number, not {value!r}")
    if number < 0:
        sys.exit(f"gunicorn.conf.py: {name} must not be negative, not {value!r}")
    return number


def usable_cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


workers = _int_env("WEB_CONCURRENCY", usable_cpus() + 1) or 1
threads = _int_env("GUNICORN_THREADS", 1) or 1
# One thread: the sync worker, which accepts a connection only when it is free to answer it, so
# connections spread over the workers by who is idle. With more threads, gthread (gunicorn picks it
# for threads > 1 whatever is named here, e.g. for `--threads 4` on the command line).
worker_class = "sync" if threads == 1 else "gthread"
# Above the database's statement_timeout (DB_STATEMENT_TIMEOUT_MS, 10 s): a slow query becomes a
# 503 from Django, not a worker killed mid-request.
timeout = 30
graceful_timeout = 20
max_requests = _int_env("GUNICORN_MAX_REQUESTS", 200_000)
max_requests_jitter = max_requests // 10


def post_fork(server, worker):
    if worker.cfg.threads > 1:
        sys.setswitchinterval(0.001)
