"""`make bench`: load-test sectorblog on one machine against PostgreSQL, with gunicorn in production mode.

What it does, in order:
1. creates the PostgreSQL database named by DATABASE_URL (default
   postgres://postgres@127.0.0.1:5432/sectorblog_bench) if it does not exist; `--fresh` drops it
   first. No PostgreSQL here? Point DATABASE_URL at one: `DATABASE_URL=postgres://u:p@host/db make bench`;
2. migrates, collects static files and seeds volume data: `seed_demo --posts 1000 --comments 155
   --pingbacks 5` (idempotent, so a second run reuses the data), then VACUUM ANALYZEs it
   (autovacuum, which keeps the planner's statistics and the visibility map in production, may be
   off: it is on the CI machines);
3. starts gunicorn with production settings (DEBUG=0, a generated SECRET_KEY,
   ALLOWED_HOSTS=127.0.0.1, SECURE_SSL_REDIRECT=0) and the production worker settings from
   gunicorn.conf.py (as the Docker image runs it), plus
   bench/settings.py on top (DJANGO_SETTINGS_MODULE=bench.settings, served by bench.wsgi), which
   mounts /bench/floor and honours the X-Bench-Nocache header: "1" bypasses the
   page cache (what a page-cache miss costs, fragment caches warm), "cold" every cache (a render
   from scratch, as after a deploy);
4. measures the cold pages one request at a time (bench/cold.py): `--single` (100) sequential
   requests each for the 155-comment post, home and /feed/ with every cache off
   (X-Bench-Nocache: cold), reporting the median, p90 and best wall time seen by the client and
   gunicorn's CPU time per request (`--single 0` skips them);
5. runs a load generator for `--seconds` (10) at 16 and 64 connections against each target:
   two baselines (a minimal Django view; WhiteNoise serving a static file), home and the
   155-comment post cached (the post also with gzip, as browsers ask for it), uncached and cold,
   /feed/ cached, uncached and cold (skipped while it answers 404), a search and a comment POST.
   Load comes from `wrk` (Debian package `wrk`; installed with apt-get when missing and running
   as root) or, without it, from the asyncio generator in bench/loadgen.py (`--loadgen python`
   forces it);
6. prints the single-request table, then a table with requests/s, p50/p99 latency, 5xx count
   (from gunicorn's access log) and each target's ratio to both baselines, records the workers'
   RSS, and writes everything (the single-request rows under "single_cold") to
   var/bench/bench-<time>.json.
7. then runs the busy-discussion scenario, bench/busy.py (its own database, server and table;
   options from the BUSY_ARGS environment variable), unless `--only` leaves out the key "busy".

REDIS_URL, if set, is passed on, so the page cache is shared by the workers.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import secrets
import shlex
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlencode, urlsplit

ROOT = Path(__file__).resolve().parent.parent
OUT_DIR = ROOT / "var" / "bench"
DEFAULT_DB = "postgres://postgres@127.0.0.1:5432/sectorblog_bench"
# Worker settings come from gunicorn.conf.py, as in production; --workers/--threads/--max-requests
# add command-line overrides here.
GUNICORN_WORKER_ARGS: list[str] = []
BYPASS = {"X-Bench-Nocache": "1"}  # page cache skipped; fragment caches warm
COLD = {"X-Bench-Nocache": "cold"}  # every cache skipped: a render from scratch
GZIP = {"Accept-Encoding": "gzip, deflate, br"}  # as a browser asks


def log(message: str) -> None:
    print(f"[bench] {message}", flush=True)


# --- database -------------------------------------------------------------------------------
def ensure_database(url: str, fresh: bool) -> None:
    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    admin_url = parts._replace(path="/postgres").geturl()
    try:
        conn = psycopg.connect(admin_url, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as exc:
        sys.exit(
            f"bench: cannot reach PostgreSQL at {parts.hostname}:{parts.port or 5432} ({exc}).\n"
            "Point the benchmark at a server you can create databases on, e.g.\n"
            "  DATABASE_URL=postgres://user:password@host:5432/sectorblog_bench make bench\n"
            "or start one: docker run -d -p 5432:5432 -e POSTGRES_HOST_AUTH_METHOD=trust postgres:17"
        )
    with conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if exists and fresh:
            log(f"dropping database {name}")
            conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
            exists = None
        if not exists:
            log(f"creating database {name}")
            conn.execute(f'CREATE DATABASE "{name}"')


def analyze(url: str) -> None:
    """VACUUM ANALYZE the seeded database, as autovacuum does on a production server soon after a
    load. Where autovacuum is off (as on the CI machines), a never-analysed database has no
    statistics, so the planner builds every plan on default estimates, and a never-vacuumed one
    has no visibility map, so an index-only scan still reads every row from the table: plans and
    costs no production site has."""
    import psycopg

    with psycopg.connect(url, autocommit=True, connect_timeout=5) as conn:
        conn.execute("VACUUM ANALYZE")


def manage(env: dict, *args: str, capture: bool = False) -> str:
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        check=True,
        text=True,
        stdout=subprocess.PIPE if capture else None,
    )
    return result.stdout or ""


# --- server ---------------------------------------------------------------------------------
def start_gunicorn(env: dict, port: int, access_log: Path) -> subprocess.Popen:
    gunicorn = Path(sys.executable).parent / "gunicorn"
    cmd = [
        str(gunicorn), "bench.wsgi", "--bind", f"127.0.0.1:{port}", *GUNICORN_WORKER_ARGS,
        "--access-logfile", str(access_log), "--access-logformat", '%(s)s "%(r)s"',
    ]  # fmt: skip
    log("starting: " + " ".join(cmd[1:]))
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, start_new_session=True)
    deadline = time.time() + 30
    while time.time() < deadline:
        if proc.poll() is not None:  # it could not bind: another server's answers are not ours
            sys.exit(f"bench: gunicorn exited (status {proc.returncode}); is port {port} taken?")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as r:
                if r.status == 200:
                    return proc
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.3)
    proc.terminate()
    sys.exit("bench: gunicorn did not answer /healthz within 30 s")


def gunicorn_settings() -> dict:
    """The worker settings gunicorn ran with: gunicorn.conf.py's, then the command-line overrides."""
    import runpy

    conf = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    names = ("worker_class", "workers", "threads", "timeout", "max_requests", "max_requests_jitter")
    found = {name: conf[name] for name in names}
    for option, value in zip(GUNICORN_WORKER_ARGS[::2], GUNICORN_WORKER_ARGS[1::2], strict=True):
        found[option.removeprefix("--").replace("-", "_")] = int(value)
    if found["threads"] > 1:
        found["worker_class"] = "gthread"  # what gunicorn runs for threads > 1
    return found


def worker_pids(master: int) -> list[int]:
    pids = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == master:
            pids.append(int(stat.parent.name))
    return sorted(pids)


def server_cpu_seconds(master: int) -> float:
    """CPU time of the live workers plus that of workers already reaped (the master's cutime)."""
    tick = os.sysconf("SC_CLK_TCK")

    def times(pid: int) -> list[int]:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return [int(x) for x in fields[11:15]]  # utime, stime, cutime, cstime

    total = sum(times(master)[2:4])
    for pid in worker_pids(master):
        try:
            total += sum(times(pid)[0:2])
        except (OSError, IndexError):
            continue
    return total / tick


def rss_mb(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        return None
    return None


# --- targets --------------------------------------------------------------------------------
class FormReader(HTMLParser):
    """The comment form's action and hidden inputs."""

    def __init__(self):
        super().__init__()
        self.action, self.fields, self._in_form = None, {}, False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form" and "comment-form" in (a.get("class") or ""):
            self._in_form, self.action = True, a.get("action")
        elif tag == "input" and self._in_form and a.get("type") == "hidden" and a.get("name"):
            self.fields[a["name"]] = a.get("value") or ""

    def handle_endtag(self, tag):
        if tag == "form":
            self._in_form = False


def fetch(base: str, path: str, headers: dict | None = None) -> tuple[int, bytes, dict]:
    request = urllib.request.Request(base + path, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=30) as r:
            return r.status, r.read(), dict(r.headers)
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read(), dict(exc.headers)


def comment_post_target(base: str, post_path: str) -> dict | None:
    status, body, headers = fetch(base, post_path)
    reader = FormReader()
    reader.feed(body.decode("utf-8", "replace"))
    cookie = re.search(r"csrftoken=([^;]+)", headers.get("Set-Cookie", ""))
    if status != 200 or not reader.action or not cookie:
        return None
    fields = dict(reader.fields)
    fields.update(name="Bench Reader", email="bench@example.net", url="", comment="")
    return {
        "path": reader.action,
        "body_prefix": urlencode(fields),
        "cookie": f"csrftoken={cookie.group(1)}",
        "referer": base + post_path,
    }


# --- load generators ------------------------------------------------------------------------
UNIT = {"us": 1e-3, "ms": 1.0, "s": 1000.0, "m": 60000.0}


def _ms(text: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()
    return round(float(number) * UNIT[unit], 3)


POST_LUA = """
local counter = 0
request = function()
  counter = counter + 1
  local text = "Bench comment " .. counter .. " " .. math.random(1, 1000000000) .. " from wrk"
  return wrk.format("POST", nil, nil, PREFIX .. text:gsub(" ", "+"))
end
"""


def run_wrk(base: str, target: dict, connections: int, seconds: int) -> dict:
    cmd = ["wrk", "-t", "2", "-c", str(connections), "-d", f"{seconds}s", "--latency", "--timeout", "10s"]
    for name, value in target.get("headers", {}).items():
        cmd += ["-H", f"{name}: {value}"]
    script = None
    if target.get("post"):
        script = OUT_DIR / "post.lua"
        prefix = json.dumps(target["post"]["body_prefix"])
        script.write_text(
            f'wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/x-www-form-urlencoded"\n'
            f"PREFIX = {prefix}\n" + POST_LUA
        )
        cmd += ["-s", str(script)]
    cmd.append(base + target["path"])
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 60).stdout
    (OUT_DIR / "wrk-last.txt").write_text(out)
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    pct = dict(re.findall(r"^\s+(\d+(?:\.\d+)?)%\s+(\S+)\s*$", out, re.M))
    total = int(re.search(r"(\d+) requests in", out).group(1))
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    socket_errors = re.search(r"Socket errors: (.*)", out)
    return {
        "rps": rps,
        "p50_ms": _ms(pct["50"]) if "50" in pct else None,
        "p99_ms": _ms(pct["99"]) if "99" in pct else None,
        "requests": total,
        "non_2xx_3xx": int(non2xx.group(1)) if non2xx else 0,
        "socket_errors": socket_errors.group(1) if socket_errors else "",
    }


def run_python(base: str, target: dict, connections: int, seconds: int) -> dict:
    from bench.loadgen import run

    return run(base, target, connections=connections, seconds=seconds)


def ensure_wrk(choice: str) -> str:
    if choice == "python":
        return "python"
    if shutil.which("wrk"):
        return "wrk"
    if os.geteuid() == 0 and shutil.which("apt-get"):
        log("wrk is missing; installing the Debian package")
        subprocess.run(["apt-get", "install", "-y", "-q", "wrk"], check=False, capture_output=True)
        if shutil.which("wrk"):
            return "wrk"
    if choice == "wrk":
        sys.exit("bench: wrk is not installed (apt-get install wrk), and --loadgen wrk was asked for")
    log("wrk not available: using the Python load generator (bench/loadgen.py)")
    return "python"


def status_counts(access_log: Path, offset: int) -> tuple[dict[str, int], int]:
    counts: dict[str, int] = {}
    with access_log.open("rb") as f:
        f.seek(offset)
        data = f.read()
        end = f.tell()
    for line in data.splitlines():
        code = line[:3].decode(errors="replace")
        counts[code] = counts.get(code, 0) + 1
    return counts, end


def prepare(*, fresh: bool = False, skip_setup: bool = False) -> tuple[dict, str]:
    """The bench database ready (created, migrated, static files collected, seeded, unless
    `skip_setup`), the environment gunicorn runs with, and the 155-comment post's path."""
    db_url = os.environ.get("DATABASE_URL") or DEFAULT_DB
    if not db_url.startswith(("postgres://", "postgresql://")):
        sys.exit("bench: DATABASE_URL must point at PostgreSQL (postgres://user:pass@host:5432/db)")
    run_var = OUT_DIR / "var"
    env = {
        **os.environ,
        "DATABASE_URL": db_url,
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "0",
        "DJANGO_SETTINGS_MODULE": "bench.settings",
        "VAR_DIR": str(run_var),
        "EMAIL_URL": f"file://{run_var / 'mail'}",
        "LOG_LEVEL": "ERROR",
    }
    env.pop("TESTING", None)
    if not skip_setup:
        ensure_database(db_url, fresh)
        log("migrating and seeding (1,000 posts, 155 comments + 5 pingbacks on one post)")
        manage(env, "migrate", "--noinput", "-v0")
        manage(env, "collectstatic", "--noinput", "-v0")
        started = time.time()
        manage(env, "seed_demo", "--posts", "1000", "--comments", "155", "--pingbacks", "5")
        log(f"seeded in {time.time() - started:.1f} s")
        analyze(db_url)
    post_path = manage(
        env,
        "shell",
        "-v0",
        "-c",
        "from posts.models import Post; print(Post.objects.get(slug='a-long-discussion').get_absolute_url())",
        capture=True,
    ).split()[-1]
    return env, post_path


# --- main -----------------------------------------------------------------------------------
def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", default="16,64")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--fresh", action="store_true", help="drop and recreate the database")
    parser.add_argument("--loadgen", choices=["auto", "wrk", "python"], default="auto")
    parser.add_argument("--only", default="", help="comma-separated target keys, e.g. floor,home-cached")
    parser.add_argument("--workers", type=int, default=None, help="override gunicorn.conf.py's workers")
    parser.add_argument("--threads", type=int, default=None, help="override gunicorn.conf.py's threads")
    parser.add_argument(
        "--max-requests",
        type=int,
        default=None,
        help="override gunicorn.conf.py's max_requests (0 = never replace a worker)",
    )
    parser.add_argument(
        "--single",
        type=int,
        default=100,
        help="sequential cold requests per page for the single-request medians (0 = skip them)",
    )
    args = parser.parse_args()
    OUT_DIR.mkdir(parents=True, exist_ok=True)

    env, post_path = prepare(fresh=args.fresh)

    loadgen = ensure_wrk(args.loadgen)
    access_log = OUT_DIR / "access.log"
    access_log.write_bytes(b"")
    for option, value in (
        ("--max-requests", args.max_requests),
        ("--workers", args.workers),
        ("--threads", args.threads),
    ):
        if value is not None:
            GUNICORN_WORKER_ARGS.extend([option, str(value)])
    server = start_gunicorn(env, args.port, access_log)
    base = f"http://127.0.0.1:{args.port}"
    try:
        singles = single_cold(base, post_path, args, server.pid)
        results = bench(base, post_path, args, loadgen, access_log, server.pid)
        workers = {pid: rss_mb(pid) for pid in worker_pids(server.pid)}
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
    report(results, singles, workers, loadgen, args, post_path)
    if not args.only or "busy" in args.only.split(","):
        # The busy-discussion scenario (issue 24), on its own database and server: bench/busy.py.
        busy_args = shlex.split(os.environ.get("BUSY_ARGS", ""))
        subprocess.run([sys.executable, str(ROOT / "bench" / "busy.py"), *busy_args], cwd=ROOT, check=False)


def targets(base: str, post_path: str) -> list[dict]:
    out = [
        {"name": "floor (minimal Django view)", "key": "floor", "path": "/bench/floor"},
        {"name": "static file (WhiteNoise)", "key": "static", "path": "/static/css/site.css"},
        {"name": "home, cached", "key": "home-cached", "path": "/"},
        {"name": "home, uncached", "key": "home-uncached", "path": "/", "headers": BYPASS},
        {"name": "home, cold", "key": "home-cold", "path": "/", "headers": COLD},
        {"name": "post 155 comments, cached", "key": "post-cached", "path": post_path},
        {"name": "post 155, cached, gzip", "key": "post-cached-gzip", "path": post_path, "headers": GZIP},
        {"name": "post 155 comments, uncached", "key": "post-uncached", "path": post_path, "headers": BYPASS},
        {"name": "post 155 comments, cold", "key": "post-cold", "path": post_path, "headers": COLD},
        {"name": "/feed/, cached", "key": "feed-cached", "path": "/feed/"},
        {"name": "/feed/, uncached", "key": "feed-uncached", "path": "/feed/", "headers": BYPASS},
        {"name": "/feed/, cold", "key": "feed-cold", "path": "/feed/", "headers": COLD},
        {"name": "search, uncached", "key": "search-uncached", "path": "/search/?q=water", "headers": BYPASS},
    ]
    post = comment_post_target(base, post_path)
    out.append(
        {
            "name": "comment POST",
            "key": "comment-post",
            "path": post["path"] if post else "",
            "post": post,
            "headers": {"Cookie": post["cookie"]} if post else {},
        }
    )
    return out


def single_cold(base: str, post_path: str, args, server_pid: int) -> list[dict]:
    """The cold pages one request at a time (bench/cold.py): median and p90 of `--single` requests,
    before any load, so nothing queued behind another request counts."""
    from bench.cold import pages, single_requests

    only = {name.strip() for name in args.only.split(",") if name.strip()}
    rows = []
    for page in pages(post_path) if args.single else []:
        if only and page["key"] not in only:
            continue
        log(f"{page['name']}: {args.single} requests one at a time")
        page["single"] = single_requests(base, page["path"], args.single, server_pid=server_pid)
        rows.append(page)
    return rows


def bench(base: str, post_path: str, args, loadgen: str, access_log: Path, server_pid: int) -> list[dict]:
    run = run_wrk if loadgen == "wrk" else run_python
    levels = [int(c) for c in args.connections.split(",")]
    only = {name.strip() for name in args.only.split(",") if name.strip()}
    offset = 0
    results = []
    for target in targets(base, post_path):
        if only and target["key"] not in only:
            continue
        row = {"name": target["name"], "key": target["key"], "path": target["path"], "runs": {}}
        if target["key"] == "comment-post" and not target["post"]:
            row["skipped"] = "no comment form on the post page"
        else:
            status, _body, headers = (200, b"", {}) if target.get("post") else fetch(base, target["path"])
            if status != 200:
                row["skipped"] = f"answers {status}"
            for _ in range(4 if not row.get("skipped") and not target.get("post") else 0):
                fetch(base, target["path"], target.get("headers"))  # warm both workers
        if row.get("skipped"):
            log(f"{target['name']}: skipped ({row['skipped']})")
            results.append(row)
            continue
        _counts, offset = status_counts(access_log, offset)
        for connections in levels:
            log(f"{target['name']}: {connections} connections, {args.seconds} s")
            cpu_before = server_cpu_seconds(server_pid)
            measured = run(base, target, connections, args.seconds)
            time.sleep(0.5)  # let the access log catch up
            counts, offset = status_counts(access_log, offset)
            served = sum(counts.values())
            # Server CPU per request: unlike req/s, barely affected by other load on the machine.
            measured["server_cpu_ms_per_request"] = (
                round((server_cpu_seconds(server_pid) - cpu_before) * 1000 / served, 2) if served else None
            )
            measured["load_average"] = os.getloadavg()
            measured["status_counts"] = counts
            measured["5xx"] = sum(n for code, n in counts.items() if code.startswith("5"))
            row["runs"][str(connections)] = measured
        row["worker_rss_mb"] = {pid: rss_mb(pid) for pid in worker_pids(server_pid)}
        results.append(row)
    return results


def report(
    results: list[dict], singles: list[dict], workers: dict, loadgen: str, args, post_path: str
) -> None:
    from bench.cold import table

    by_key = {r["key"]: r for r in results}
    lines = [*table(singles), ""] if singles else []
    header = (
        f"{'target':<30} {'conn':>4} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'5xx':>5}"
        f" {'÷floor':>7} {'÷static':>8} {'cpu ms':>7} {'load':>5}"
    )
    lines += [header, "-" * len(header)]
    for row in results:
        if row.get("skipped"):
            lines.append(f"{row['name']:<30} skipped: {row['skipped']}")
            continue
        for conn, m in row["runs"].items():
            floor = by_key.get("floor", {}).get("runs", {}).get(conn, {}).get("rps")
            static = by_key.get("static", {}).get("runs", {}).get(conn, {}).get("rps")
            m["ratio_floor"] = round(m["rps"] / floor, 3) if floor else None
            m["ratio_static"] = round(m["rps"] / static, 3) if static else None
            lines.append(
                f"{row['name']:<30} {conn:>4} {m['rps']:>9.1f} {m['p50_ms']:>8.2f} {m['p99_ms']:>8.2f}"
                f" {m['5xx']:>5} {m['ratio_floor'] or 0:>7.1%} {m['ratio_static'] or 0:>8.1%}"
                f" {m['server_cpu_ms_per_request'] or 0:>7.2f} {m['load_average'][0]:>5.1f}"
            )
    lines.append("")
    lines.append(
        "cpu ms = gunicorn CPU time per request served (workers + reaped workers); "
        "load = 1-minute load average after the run"
    )
    conf = gunicorn_settings()
    lines.append(
        f"gunicorn: {conf['workers']} workers x {conf['threads']} threads ({conf['worker_class']}), "
        f"a worker replaced after {conf['max_requests']:,} requests (0 = never)"
    )
    lines.append(
        "gunicorn worker RSS after the run: "
        + ", ".join(f"pid {pid}: {mb} MB" for pid, mb in workers.items())
    )
    print("\n".join(lines))
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    out = OUT_DIR / f"bench-{stamp}.json"
    out.write_text(
        json.dumps(
            {
                "when": stamp,
                "loadgen": loadgen,
                "seconds": args.seconds,
                "gunicorn": conf,
                "post_path": post_path,
                "cpu_count": os.cpu_count(),
                "results": results,
                "single_cold": singles,
                "worker_rss_mb": workers,
                "table": lines,
            },
            indent=2,
        )
    )
    log(f"wrote {out.relative_to(ROOT)}")


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    main()
