"""Soak test with a hostile mix (issue 11, case 22): readers, commenters and a pingback flood
against a local gunicorn, all at once, for a fixed time.

    make soak                       # 60 s against DATABASE_URL (PostgreSQL) or a fresh SQLite
    .venv/bin/python bench/soak.py --duration 20 --readers 4

It builds a throwaway site (its own VAR_DIR, migrated and seeded), serves it with gunicorn as
production would (DEBUG off, connection pool, the workers of gunicorn.conf.py), and afterwards checks:
- no 5xx other than planned 503s (database busy) and 429s (rate limits);
- nothing lost: every comment the site accepted (302) is stored, or waiting in a confirmation
  email (anonymous comments are confirmed by email before they are stored).
Exit status 1 when either check fails. Endpoints that do not exist yet are reported as 404s.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import random
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
PINGBACK = """<?xml version="1.0"?><methodCall><methodName>pingback.ping</methodName><params>
<param><value><string>http://127.0.0.1:9/{n}</string></value></param>
<param><value><string>{target}</string></value></param></params></methodCall>"""


# Run in the site's own process: which accepted comments are stored, and which wait in an email.
FIND_MARKERS = """
import json, sys, pathlib
from comments.models import Comment
markers = json.loads(sys.stdin.read())
stored = {{m for m in markers if Comment.objects.filter(comment__contains=m).exists()}}
mail_dir = pathlib.Path({mail_dir!r})
mail = " ".join(p.read_text(errors="replace") for p in mail_dir.glob("*")) if mail_dir.exists() else ""
mailed = [m for m in markers if m not in stored and m in mail]
print(json.dumps({{"stored": len(stored), "mailed": len(mailed)}}))
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def site_env(var_dir: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        DEBUG="0",
        TESTING="1",  # plain static files (no collectstatic) and http cookies; the rest is production
        SECRET_KEY="soak-" + uuid.uuid4().hex * 2,
        ALLOWED_HOSTS="127.0.0.1,localhost",
        SECURE_SSL_REDIRECT="0",
        DB_POOL="1",
        VAR_DIR=str(var_dir),
        LOG_LEVEL="ERROR",
        COMMENTS_CLOSE_AFTER_DAYS="0",
    )
    return env


def manage(env, *args, input_text=None) -> str:
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        input=input_text,
        check=True,
    )
    return result.stdout.strip().splitlines()[-1] if result.stdout.strip() else ""


class Recorder:
    def __init__(self):
        self.lock = threading.Lock()
        self.statuses: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
        self.latencies: dict[str, list[float]] = collections.defaultdict(list)
        self.accepted_comments: list[str] = []
        self.errors: collections.Counter = collections.Counter()

    def record(self, kind: str, status: int | str, seconds: float):
        with self.lock:
            self.statuses[kind][status] += 1
            self.latencies[kind].append(seconds)


def timed(recorder, kind, call):
    started = time.monotonic()
    try:
        response = call()
    except requests.RequestException as exc:
        recorder.record(kind, type(exc).__name__, time.monotonic() - started)
        return None
    recorder.record(kind, response.status_code, time.monotonic() - started)
    return response


def reader(base, paths, stop, recorder):
    session = requests.Session()
    while not stop.is_set():
        timed(recorder, "read", lambda: session.get(base + random.choice(paths), timeout=30))


def commenter(base, post_paths, stop, recorder):
    session = requests.Session()
    while not stop.is_set():
        path = random.choice(post_paths)
        page = timed(recorder, "comment-page", lambda p=path: session.get(base + p, timeout=30))
        if page is None or page.status_code != 200:
            continue
        form = re.search(r'<form class="comment-form"[^>]*action="([^"]+)"(.*?)</form>', page.text, re.S)
        if not form:
            recorder.errors["no comment form on " + path] += 1
            time.sleep(0.5)
            continue
        data = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', form.group(2)))
        marker = f"soak-{uuid.uuid4().hex[:12]}"
        data.update(name="Soak Reader", email="soak@example.org", url="", comment=f"Comment {marker}.")
        data.pop("honeypot", None)
        action = base + form.group(1)
        response = timed(
            recorder,
            "comment-post",
            lambda url=action, data=data, referer=base + path: session.post(
                url, data=data, headers={"Referer": referer}, allow_redirects=False, timeout=30
            ),
        )
        if response is not None and response.status_code == 302:
            with recorder.lock:
                recorder.accepted_comments.append(marker)


def pinger(base, target, stop, recorder):
    session = requests.Session()
    n = 0
    while not stop.is_set():
        n += 1
        body = PINGBACK.format(n=n, target=target)
        timed(
            recorder,
            "pingback",
            lambda b=body: session.post(
                base + "/xmlrpc.php", data=b, headers={"Content-Type": "text/xml"}, timeout=30
            ),
        )


def percentile(values, fraction):
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def main() -> int:
    try:
        return run()
    finally:
        for name in CREATED_DATABASES:
            dropped = subprocess.run(
                ["psql", name[0], "-qc", f"DROP DATABASE IF EXISTS {name[1]} WITH (FORCE)"],
                capture_output=True,
                text=True,
            )
            if dropped.returncode:
                print(f"soak: could not drop {name[1]}: {dropped.stderr.strip()}", file=sys.stderr)


CREATED_DATABASES: list[tuple[str, str]] = []


def run() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--duration", type=float, default=60.0)
    parser.add_argument("--readers", type=int, default=6)
    parser.add_argument("--commenters", type=int, default=2)
    parser.add_argument("--pingers", type=int, default=2)
    args = parser.parse_args()

    var_dir = Path(tempfile.mkdtemp(prefix="sectorblog-soak-"))
    env = site_env(var_dir)
    database = "PostgreSQL" if env.get("DATABASE_URL", "").startswith("postgres") else "SQLite"
    if database == "PostgreSQL":
        # A fresh database per run on the server DATABASE_URL names (which database it names
        # doesn't matter: it is created through the server's "postgres" maintenance database).
        base_url, _, _name = env["DATABASE_URL"].rpartition("/")
        admin_url = f"{base_url}/postgres"
        name = f"sectorblog_soak_{os.getpid()}"
        created = subprocess.run(
            ["psql", admin_url, "-qc", f"CREATE DATABASE {name}"], capture_output=True, text=True
        )
        if created.returncode:
            sys.exit(f"soak: cannot create a database on {base_url}: {created.stderr.strip()}")
        CREATED_DATABASES.append((admin_url, name))
        env["DATABASE_URL"] = f"{base_url}/{name}"
    print(f"soak: preparing a {database} site in {var_dir}", flush=True)
    manage(env, "migrate", "--noinput", "-v0")
    manage(env, "seed_demo", "--posts", "20", "--comments", "30")
    listing = json.loads(
        manage(
            env,
            "shell",
            "-c",
            "import json; from posts.models import Post; "
            "posts = Post.objects.published().filter(is_page=False); "
            "print(json.dumps([p.get_absolute_url() for p in posts]))",
        ).strip()
    )

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server_log = open(var_dir / "gunicorn.log", "w")  # noqa: SIM115 (closed after the run)
    gunicorn = subprocess.Popen(
        [str(Path(sys.executable).parent / "gunicorn"), "sectorblog.wsgi", "--bind", f"127.0.0.1:{port}",
         "--log-level", "warning"],  # workers, threads and timeout from gunicorn.conf.py, as deployed
        cwd=ROOT, env=env, stdout=server_log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    worker = subprocess.Popen(
        [sys.executable, "manage.py", "db_worker", "--no-reload", "--interval", "1"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(100):
            try:
                if requests.get(base + "/healthz", timeout=2).status_code == 200:
                    break
            except requests.RequestException:
                time.sleep(0.2)
        reading = ["/", "/search/?q=water", "/page/2/", *listing[:10]]
        stop, recorder = threading.Event(), Recorder()
        threads = (
            [
                threading.Thread(target=reader, args=(base, reading, stop, recorder))
                for _ in range(args.readers)
            ]
            + [
                threading.Thread(target=commenter, args=(base, listing[:5], stop, recorder))
                for _ in range(args.commenters)
            ]
            + [
                threading.Thread(target=pinger, args=(base, base + listing[0], stop, recorder))
                for _ in range(args.pingers)
            ]
        )
        print(
            f"soak: {args.duration:.0f} s, {args.readers} readers, {args.commenters} commenters, "
            f"{args.pingers} pingback flooders against {base}",
            flush=True,
        )
        started = time.monotonic()
        for t in threads:
            t.start()
        time.sleep(args.duration)
        stop.set()
        for t in threads:
            t.join(timeout=60)
        elapsed = time.monotonic() - started
    finally:
        gunicorn.terminate()
        worker.terminate()
        gunicorn.wait(timeout=30)
        worker.wait(timeout=30)
        server_log.close()

    markers = recorder.accepted_comments
    found = json.loads(
        manage(
            env,
            "shell",
            "-c",
            FIND_MARKERS.format(mail_dir=str(var_dir / "mail")),
            input_text=json.dumps(markers),
        ).strip()
    )

    total = sum(sum(c.values()) for c in recorder.statuses.values())
    print(f"\nsoak: {total} requests in {elapsed:.1f} s ({total / elapsed:.0f}/s) on {database}")
    unplanned = 0
    for kind, counter in sorted(recorder.statuses.items()):
        lat = recorder.latencies[kind]
        shown = ", ".join(f"{k}×{v}" for k, v in sorted(counter.items(), key=lambda kv: str(kv[0])))
        print(
            f"  {kind:13s} n={sum(counter.values()):6d}  p50={statistics.median(lat) * 1000:6.0f} ms  "
            f"p95={percentile(lat, 0.95) * 1000:6.0f} ms  max={max(lat) * 1000:6.0f} ms  [{shown}]"
        )
        unplanned += sum(v for k, v in counter.items() if isinstance(k, int) and k >= 500 and k != 503)
        unplanned += sum(v for k, v in counter.items() if isinstance(k, str))
    lost = len(markers) - found["stored"] - found["mailed"]
    print(
        f"  comments accepted={len(markers)} stored={found['stored']} awaiting-confirmation-email="
        f"{found['mailed']} lost={lost}"
    )
    for message, count in recorder.errors.items():
        print(f"  note: {message} ×{count}")
    print(f"soak: unplanned 5xx/connection errors={unplanned}, lost comments={lost}")
    print(f"soak: server log in {var_dir / 'gunicorn.log'}")
    return 1 if unplanned or lost else 0


if __name__ == "__main__":
    sys.exit(main())
