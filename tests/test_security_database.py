"""Database faults (issue 11, cases 17–19), against a private PostgreSQL cluster this module starts
with the machine's own binaries on a spare port, and stops, restarts and slows down at will.

- 17: database down → every page a terse 503 with Retry-After; a comment POST gets its text back
  in a form, nothing is stored, and resending that form after recovery stores it exactly once.
- 18: a restart between requests fails no request, with the pool's checks and with
  CONN_HEALTH_CHECKS.
- 19: a query stuck behind a lock hits statement_timeout (shorter than gunicorn's timeout) and
  becomes a 503; the gunicorn worker survives and serves the next request.

The site runs in child processes (a small request driver, and gunicorn) with production settings
pointed at the private cluster, exactly as it would in deployment.
"""

from __future__ import annotations

import glob
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from bs4 import BeautifulSoup

ROOT = Path(__file__).resolve().parent.parent
SLUG = "sector-learning-two-years-on"
PG_BIN = sorted(glob.glob("/usr/lib/postgresql/*/bin"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PrivatePostgres:
    """A throwaway PostgreSQL cluster in a temporary directory (trust auth, loopback only)."""

    def __init__(self):
        self.bin = Path(PG_BIN[-1])
        self.dir = Path(tempfile.mkdtemp(prefix="sb-pg-"))
        self.data = self.dir / "data"
        self.port = free_port()
        self.as_postgres = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        if self.as_postgres:
            shutil.chown(self.dir, "postgres")
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync")

    def _run(self, tool, *args, check=True):
        return subprocess.run(
            [*self.as_postgres, str(self.bin / tool), *args],
            capture_output=True,
            text=True,
            timeout=120,
            check=check,
            cwd=self.dir,
        )

    @property
    def url(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/sectorblog"

    def start(self):
        options = f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.dir} -c fsync=off"
        self._run("pg_ctl", "-D", str(self.data), "-o", options, "-l", str(self.dir / "log"), "-w", "start")

    def stop(self):
        self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")

    def restart(self):
        self.stop()
        self.start()

    def psql(self, sql: str, db: str = "postgres") -> str:
        return self._run(
            "psql", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "-d", db, "-Atc", sql
        ).stdout

    def destroy(self):
        self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "stop", check=False)
        shutil.rmtree(self.dir, ignore_errors=True)


def site_env(pg: PrivatePostgres, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in {"PYTEST_CURRENT_TEST", "DEBUG"}}
    env.update(
        DEBUG="0",
        TESTING="1",  # plain static storage (no collectstatic) and http cookies; all else production
        SECRET_KEY="private-cluster-test-" + "k" * 40,
        ALLOWED_HOSTS="testserver,127.0.0.1",
        DATABASE_URL=pg.url,
        SECURE_SSL_REDIRECT="0",
        VAR_DIR=str(pg.dir / "var"),
        LOG_LEVEL="CRITICAL",
    )
    env.update(extra)
    return env


@pytest.fixture(scope="module")
def pg():
    if not PG_BIN or not (Path(PG_BIN[-1]) / "initdb").exists():
        pytest.skip("no PostgreSQL server binaries under /usr/lib/postgresql/*/bin (initdb, pg_ctl)")
    if os.geteuid() == 0 and not shutil.which("runuser"):
        pytest.skip("running as root without runuser: initdb refuses to run as root")
    cluster = PrivatePostgres()
    try:
        cluster.start()
        cluster.psql("CREATE DATABASE sectorblog")
        env = site_env(cluster, DB_POOL="0")
        for command in (["migrate", "--noinput", "-v0"], ["seed_demo"]):
            subprocess.run(
                [sys.executable, "manage.py", *command],
                cwd=ROOT,
                env=env,
                check=True,
                capture_output=True,
                timeout=300,
            )
        # Seeded posts are months old and closed for comments; move one to yesterday.
        cluster.psql(
            f"UPDATE posts_post SET published_at = now() - interval '1 day' WHERE slug = '{SLUG}'",
            db="sectorblog",
        )
        yield cluster
    finally:
        cluster.destroy()


# A long-lived site process driven line by line: one JSON request in, one JSON answer out. It keeps
# its connections (or pool) between requests, which is what a restart test needs.
DRIVER = r"""
import json, os, sys
import django
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sectorblog.settings")
django.setup()
from django.db import close_old_connections
from django.test import Client
client = Client(raise_request_exception=False)
def request(method, path, body):
    # The test client skips the request_started/finished connection handling that a WSGI server
    # triggers; do it here, or connections (and pool checkouts) would outlive each request.
    close_old_connections()
    try:
        return client.generic(method, path, body, content_type="application/x-www-form-urlencoded")
    finally:
        close_old_connections()
for line in sys.stdin:
    cmd = json.loads(line)
    if cmd["op"] == "login":
        from django.contrib.auth import get_user_model
        user, _ = get_user_model().objects.get_or_create(username=cmd["username"])
        client.force_login(user)
        out = {"ok": True}
    elif cmd["op"] == "count":
        from comments.models import Comment
        out = {"count": Comment.objects.filter(comment=cmd["text"]).count()}
    else:
        r = request(cmd["op"], cmd["path"], cmd.get("body", ""))
        body = r.content.decode("utf-8", "replace")
        out = {"status": r.status_code, "headers": dict(r.headers), "body": body}
    print(json.dumps(out), flush=True)
"""


class Site:
    def __init__(self, env):
        self.proc = subprocess.Popen(
            [sys.executable, "-c", DRIVER],
            cwd=ROOT,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def send(self, **cmd) -> dict:
        self.proc.stdin.write(json.dumps(cmd) + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        assert line, self.proc.stderr.read()
        return json.loads(line)

    def get(self, path):
        return self.send(op="GET", path=path)

    def post(self, path, data: dict):
        from urllib.parse import urlencode

        return self.send(op="POST", path=path, body=urlencode(data, doseq=True))

    def close(self):
        self.proc.stdin.close()
        self.proc.wait(timeout=30)


@pytest.fixture
def site(pg):
    opened = []

    def open_site(**extra):
        s = Site(site_env(pg, **extra))
        opened.append(s)
        return s

    yield open_site
    for s in opened:
        s.close()


PAGES = [
    "/",
    "/2026/",
    "/search/?q=water",
    "/category/sector-learning/",
    "/tag/wash/",
    "/author/amara/",
    "/healthz",
    "/comments/posted/held/?post=1",
]


def post_url(pg) -> str:
    row = pg.psql(
        "SELECT to_char(published_at AT TIME ZONE 'UTC', 'YYYY/MM/DD') || '/' || slug FROM posts_post "
        f"WHERE slug = '{SLUG}'",
        db="sectorblog",
    ).strip()
    return f"/{row}/"


def test_every_page_is_a_terse_503_while_the_database_is_down(pg, site):
    # Without the pool a refused connection fails at once; the pool path is covered below.
    s = site(DB_POOL="0")
    pages = [*PAGES, post_url(pg)]
    assert s.get(pages[-1])["status"] == 200
    pg.stop()
    try:
        # A page read before the outage stays up for anonymous readers: the page cache needs no
        # database (with the caches on, as in production).
        cached = s.get(pages[-1])
        assert cached["status"] == 200 and cached["headers"]["X-Page-Cache"] == "hit"
        for path in pages[:-1]:
            r = s.get(path)
            assert r["status"] == 503, (path, r["status"], r["body"][:300])
            assert r["headers"]["Retry-After"] == "30", path
            assert r["headers"]["Cache-Control"] == "no-store", path
            assert "default-src 'none'" in r["headers"]["Content-Security-Policy"], path
            assert "Traceback" not in r["body"] and "psycopg" not in r["body"], path
            assert len(r["body"]) < 4000, path  # terse: no debug page
    finally:
        pg.start()
    assert s.get(pages[-1])["status"] == 200


def test_the_pool_serves_again_as_soon_as_the_database_is_back(pg, site):
    """Found a bug: psycopg_pool retries a lost connection with exponential backoff (1, 2, 4, 8 s
    ...), so after a 45 s outage the site kept answering 503 for 15 s with the database up.
    reconnect_timeout=2 ends that chain early; the next request reconnects at once."""
    # The page cache off: this measures the database connection coming back, which a page served
    # from the cache would not need.
    s = site(DB_POOL="1", PAGE_CACHE="0")
    url = post_url(pg)
    assert s.get(url)["status"] == 200
    pg.stop()
    outage_started = time.monotonic()
    try:
        assert s.get(url)["status"] == 503  # waits out the pool's 5 s timeout
        # Past the chain's 4th attempt (t≈7 s); its 5th would come at t≈15 s.
        time.sleep(max(0.0, 8.5 - (time.monotonic() - outage_started)))
    finally:
        pg.start()
    started = time.monotonic()
    assert s.get(url)["status"] == 200
    assert time.monotonic() - started < 3


def test_a_comment_posted_during_the_outage_comes_back_in_a_form_and_is_stored_once(pg, site):
    s = site(DB_POOL="1")
    s.send(op="login", username="outage-reader")
    page = BeautifulSoup(s.get(post_url(pg))["body"], "html.parser")
    form = page.select_one("form.comment-form")
    data = {i["name"]: i.get("value", "") for i in form.select("input[name]") if i.get("type") != "checkbox"}
    text = "Posted while the database was away: <keep> & every word of it."
    data.update(name="Outage Reader", email="reader@example.org", comment=text)
    pg.stop()
    try:
        r = s.post(form["action"], data)
    finally:
        pg.start()
    assert r["status"] == 503
    assert r["headers"]["Retry-After"] == "30"
    retry = BeautifulSoup(r["body"], "html.parser").select_one("form")
    assert retry is not None and retry["action"] == form["action"]
    assert retry.select_one("textarea[name=comment]").get_text() == text
    assert retry.select_one("input[name=name]")["value"] == "Outage Reader"
    assert s.send(op="count", text=text)["count"] == 0  # nothing partial was written

    resent = {i["name"]: i.get("value", "") for i in retry.select("input[name]")}
    resent["comment"] = retry.select_one("textarea[name=comment]").get_text()
    r = s.post(retry["action"], resent)
    assert r["status"] == 302, r["body"][:500]
    assert s.send(op="count", text=text)["count"] == 1


@pytest.mark.parametrize(
    "config",
    [{"DB_POOL": "1"}, {"DB_POOL": "0"}],
    ids=["pool-with-checks", "conn-health-checks"],
)
def test_a_restart_between_requests_fails_no_request(pg, site, config):
    s = site(**config)
    url = post_url(pg)
    assert [s.get(url)["status"] for _ in range(3)] == [200] * 3
    pg.restart()
    statuses = [s.get(url)["status"] for _ in range(5)]
    assert statuses == [200] * 5


def gunicorn_conf() -> dict:
    """gunicorn.conf.py's settings, as gunicorn started from the project root reads them."""
    import runpy

    return runpy.run_path(str(ROOT / "gunicorn.conf.py"))


def gunicorn_timeouts(text: str) -> list[int]:
    """The worker timeout of every gunicorn command in a file: its --timeout, else gunicorn.conf.py's."""
    text = re.sub(r"\\\n", " ", text)  # join continued lines
    found = []
    for line in text.splitlines():
        if "gunicorn" in line and "sectorblog.wsgi" in line:
            match = re.search(r"--timeout[\"',=\s]+(\d+)", line)
            found.append(int(match.group(1)) if match else gunicorn_conf()["timeout"])
    return found


def test_statement_timeout_is_shorter_than_gunicorns_worker_timeout():
    from django.conf import settings

    assert gunicorn_conf()["timeout"] > settings.DB_STATEMENT_TIMEOUT_MS / 1000
    for name in ("Dockerfile", "compose.yaml", "Makefile"):
        limits = gunicorn_timeouts((ROOT / name).read_text())
        assert limits, f"no gunicorn command found in {name}"
        for limit in limits:
            assert limit > settings.DB_STATEMENT_TIMEOUT_MS / 1000, name


def test_a_slow_query_becomes_a_503_and_the_worker_lives_on(pg):
    """A lock held elsewhere stalls the home page's query; statement_timeout (1 s) cancels it long
    before gunicorn's timeout (5 s here) would kill the worker."""
    import psycopg

    port = free_port()
    # The page cache off: the home page must reach the locked table on every request (a cached
    # copy would be served without it).
    env = site_env(pg, DB_POOL="1", DB_STATEMENT_TIMEOUT_MS="1000", PAGE_CACHE="0")
    log = open(pg.dir / "gunicorn.log", "w")  # noqa: SIM115 (closed below)
    server = subprocess.Popen(
        [str(Path(sys.executable).parent / "gunicorn"), "sectorblog.wsgi", "--bind", f"127.0.0.1:{port}",
         "--workers", "1", "--timeout", "5", "--graceful-timeout", "1"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"

    def fetch(path="/"):
        started = time.monotonic()
        try:
            with urllib.request.urlopen(base + path, timeout=20) as r:
                status, headers = r.status, dict(r.headers)
        except urllib.error.HTTPError as e:
            status, headers = e.code, dict(e.headers)
        return status, headers, time.monotonic() - started

    def workers():
        return (Path(f"/proc/{server.pid}/task/{server.pid}/children").read_text()).split()

    try:
        for _ in range(100):
            try:
                if fetch("/healthz")[0] == 200:
                    break
            except OSError:
                time.sleep(0.1)
        before = workers()
        assert fetch()[0] == 200
        with psycopg.connect(pg.url.replace("postgres://", "postgresql://")) as blocker:
            blocker.execute("LOCK TABLE posts_post IN ACCESS EXCLUSIVE MODE")
            status, headers, elapsed = fetch()
            blocker.rollback()
        assert status == 503
        assert headers["Retry-After"] == "30"
        assert elapsed < 5, f"{elapsed:.1f} s: the worker would have been killed"
        status, _, _ = fetch()
        assert status == 200
        assert workers() == before  # the same worker process served all three
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()
    assert "WORKER TIMEOUT" not in (pg.dir / "gunicorn.log").read_text()
