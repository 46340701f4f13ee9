"""`make bench-busy`: a busy discussion (issue 24 §3). Readers' throughput, latency and page-cache
hit rate while comments and pingbacks keep arriving, against the same readers with no writes.

    make bench-busy                                   # 2 x 60 s, PostgreSQL + Redis, as below
    make bench-busy BENCH_ARGS="--seconds 20"         # shorter runs
    .venv/bin/python bench/busy.py --only busy        # the busy run alone

`make bench` runs it too, after its own table (bench/run.py).

The site: its own PostgreSQL database (DATABASE_URL's name + "_busy", by default
postgres://postgres@127.0.0.1:5432/sectorblog_bench_busy; `--fresh` recreates it), seeded with
`seed_demo --posts 200 --comments 155 --pingbacks 5`, then `seed_threads` here gives the 200
newest posts discussions of their own: the post of popularity rank r has at least
max(3, 40 / r) comments, a third of them replies. It is served as `make bench` serves it (bench/run.py):
gunicorn with gunicorn.conf.py's workers and production settings (DEBUG=0, bench/settings.py's
overlay), plus REDIS_URL=redis://127.0.0.1:6379/11 (`--redis-url`; that database is flushed at
the start) so the workers share the page cache and the content version, and the real task worker
(`manage.py worker`) beside it, as in production. Two settings differ from the defaults:
COMMENTS_CLOSE_AFTER_DAYS=0 (the seeded posts are years old; their discussions stay open) and
LINKBACK_ALLOWED_HOSTS naming the loopback blogs below (outbound fetches to loopback are
otherwise refused).

Readers: `--readers` (64) connections from wrk, each sending its next request as soon as the
last is answered (a closed loop, as `make bench`'s rows), for `--seconds` (60). They ask, as
browsers do (Accept: text/html…, Accept-Encoding: gzip, a CSRF cookie from an earlier visit):
- 75 % post pages, over the 200 newest posts with Zipf popularity (`--zipf`, s = 1.0: the newest
  post is asked for twice as often as the second, ten times as often as the tenth; the first
  ten get half of the post views);
- 10 % the home page;
- 10 % archives: home pages 2-4, each category, tag and author page, the three newest months;
- 5 % feeds: /feed/ (3 %), /comments/feed/ (1 %), category feeds (1 %).
wrk's Lua script picks each request's URL and counts the `X-Page-Cache: hit|miss` header that the
page cache sets (and core/cache/fastpath.py replays on the hits it answers): the hit rate is hits
over all reader responses.

Writes (the busy run only), through the public endpoints, on posts picked uniformly among the 200
(`--writes-follow-readers`: with the readers' popularity instead):
- a comment every `--comment-every` (2) seconds: a returning commenter's browser loads the post
  page (getting the CSRF cookie and the form's token), posts the form with Referer and Origin,
  and follows the redirect to its published comment. Thirty commenters take turns, each from
  its own loopback address (127.0.0.20-49) and email, so flood control (15 s per address and per
  email) lets each through; each confirmed its address once during set-up (the confirmation
  link, followed in the same browser, sets the trusted-address cookie), so its comments are
  published at once, not held for email confirmation;
- a pingback every `--pingback-every` (10) seconds: a blog on loopback (127.0.0.101…, a small
  HTTP server in this process) publishes a page linking to the post, discovers the endpoint
  from the post's X-Pingback header and calls pingback.ping over XML-RPC; the site fetches the
  page while the caller waits and publishes the pingback. Each blog sent one ping during set-up
  that a moderator approved (a site's first linkback is held), and blogs take turns so that none
  passes the site's per-host and per-address linkback limits (10 and 20 per 10 minutes).
A write succeeds when it is published: the comment's redirect leads to its page (not to "check
your email" or "held"); the ping is answered without a fault (stored, and public since its blog
was approved). Anything else is a failure, recorded with its reason.

Order: set-up, then the background tasks it queued (confirmation emails, site icons; a write
of theirs to a content table would renew the content version during the read-only run), every
reader URL once, `--warmup` (5) s of reading (not recorded), the read-only run, then the busy
run. Each run adds about 70 comments and pingbacks: `--fresh` for before/after comparisons.
It prints, for each run, readers' requests/s, p50/p99 latency, the hit rate, reader errors
(requests wrk gave up on after `--timeout`, 30 s, are errors and left out of its latencies), 5xx
(gunicorn's access log, writes included), writes published/failed, gunicorn's CPU per reader
request, and the CPU cores used during the run by gunicorn, by wrk (the loader must not be the
bottleneck) and by everything else on the machine; then the busy/read-only throughput ratio
against the issue's target (>= 70 %, busy p99 < 50 ms), and the processes outside the benchmark
that used the CPU meanwhile. Everything goes to
var/bench/busy-<UTC time>.json.
"""

from __future__ import annotations

import argparse
import datetime as dt
import html
import http.client
import http.cookies
import itertools
import json
import math
import os
import random
import resource
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import xmlrpc.client
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlencode, urlsplit

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.run import (  # noqa: E402
    DEFAULT_DB,
    OUT_DIR,
    FormReader,
    analyze,
    ensure_database,
    ensure_wrk,
    gunicorn_settings,
    manage,
    rss_mb,
    server_cpu_seconds,
    start_gunicorn,
    status_counts,
    worker_pids,
)

DEFAULT_REDIS = "redis://127.0.0.1:6379/11"
# Readers' shares by kind of page (the docstring explains them).
SHARES = {"post": 0.75, "home": 0.10, "archive": 0.10, "feed": 0.05}
ACCEPT_HTML = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
USER_AGENT = "Mozilla/5.0 (X11; Linux x86_64) sectorblog-bench-busy"
COMMENTERS = 30  # each posts every COMMENTERS x 2 s, well outside the 15 s flood window
COMMENTER_IPS = [f"127.0.0.{20 + i}" for i in range(COMMENTERS)]
BLOG_IP_BASE = 101
LINKBACK_HOST_LIMIT = 10  # settings.LINKBACK_RATE_PER_SOURCE_HOST's default, per 10 minutes


def log(message: str) -> None:
    print(f"[busy] {message}", flush=True)


# --- the readers' mix -------------------------------------------------------------------------
def zipf_weights(n: int, s: float) -> list[float]:
    """Popularity of ranks 1..n, proportional to 1 / rank**s, summing to 1."""
    raw = [1.0 / rank**s for rank in range(1, n + 1)]
    total = sum(raw)
    return [w / total for w in raw]


def reader_mix(facts: dict, s: float) -> list[tuple[str, float, str]]:
    """(path, probability, kind) for every URL readers ask for; probabilities sum to 1."""
    weights = zipf_weights(len(facts["posts"]), s)
    mix = [(p, SHARES["post"] * w, "post") for p, w in zip(facts["posts"], weights, strict=True)]
    mix.append(("/", SHARES["home"], "home"))
    archives = facts["archives"]
    mix += [(p, SHARES["archive"] / len(archives), "archive") for p in archives]
    feeds = [("/feed/", 0.03), ("/comments/feed/", 0.01)]
    category_feeds = facts["category_feeds"]
    feeds += [(p, 0.01 / len(category_feeds)) for p in category_feeds]
    mix += [(p, share, "feed") for p, share in feeds]
    return mix


LUA = r"""
-- Written by bench/busy.py: a reader mix for wrk. Each request's URL is drawn from the
-- cumulative distribution below; responses are counted by their X-Page-Cache header.
local paths = {%(paths)s}
local cum = {%(cum)s}
local n = #cum
wrk.headers["Accept"] = "%(accept)s"
wrk.headers["Accept-Encoding"] = "gzip, deflate, br"
wrk.headers["User-Agent"] = "%(agent)s"
wrk.headers["Cookie"] = "%(cookie)s"
hits, misses, unmarked, s2, s3, s4, s5 = 0, 0, 0, 0, 0, 0, 0
local threads = {}
local count = 0

function setup(thread)
  count = count + 1
  thread:set("id", count)
  table.insert(threads, thread)
end

function init(args)
  math.randomseed(%(seed)d + id * 7919)
end

function request()
  local r = math.random()
  local lo, hi = 1, n
  while lo < hi do
    local mid = math.floor((lo + hi) / 2)
    if cum[mid] < r then lo = mid + 1 else hi = mid end
  end
  return wrk.format("GET", paths[lo])
end

function response(status, headers, body)
  local mark = headers["X-Page-Cache"] or headers["x-page-cache"]
  if mark == "hit" then hits = hits + 1
  elseif mark == "miss" then misses = misses + 1
  else unmarked = unmarked + 1 end
  if status >= 500 then s5 = s5 + 1 elseif status >= 400 then s4 = s4 + 1
  elseif status >= 300 then s3 = s3 + 1 else s2 = s2 + 1 end
end

function done(summary, latency, requests)
  local t = {hits = 0, misses = 0, unmarked = 0, s2 = 0, s3 = 0, s4 = 0, s5 = 0}
  for _, thread in ipairs(threads) do
    for k, _ in pairs(t) do t[k] = t[k] + thread:get(k) end
  end
  local e = summary.errors
  io.write(string.format(
    'BUSYJSON {"requests": %%d, "duration_us": %%d, "p50_us": %%d, "p90_us": %%d, "p99_us": %%d, ' ..
    '"max_us": %%d, "hits": %%d, "misses": %%d, "unmarked": %%d, "2xx": %%d, "3xx": %%d, "4xx": %%d, ' ..
    '"5xx": %%d, "errors": {"connect": %%d, "read": %%d, "write": %%d, "status": %%d, "timeout": %%d}}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency.max, t.hits, t.misses, t.unmarked, t.s2, t.s3, t.s4, t.s5,
    e.connect, e.read, e.write, e.status, e.timeout))
end
"""


def lua_script(mix: list[tuple[str, float, str]], cookie: str, seed: int) -> str:
    total, cum = 0.0, []
    for _path, weight, _kind in mix:
        total += weight
        cum.append(total)
    cum[-1] = 1.0
    return LUA % {
        "paths": ", ".join(json.dumps(path) for path, _w, _k in mix),
        "cum": ", ".join(f"{c:.9f}" for c in cum),
        "accept": ACCEPT_HTML,
        "agent": USER_AGENT,
        "cookie": cookie,
        "seed": seed,
    }


# --- seeding (runs inside the site: `manage.py shell`, see django_call) ------------------------
def site_facts(payload: dict) -> dict:
    """The readers' URLs: the newest posts (most popular first), archives and feeds."""
    from django.contrib.auth import get_user_model

    from posts.models import Category, Post, Tag

    posts = list(Post.objects.published().filter(is_page=False).order_by("-published_at")[: payload["posts"]])
    months = []
    for post in posts:
        month = f"/{post.published_at:%Y/%m}/"
        if month not in months:
            months.append(month)
    authors = get_user_model().objects.filter(authorships__isnull=False).distinct()
    categories = list(Category.objects.order_by("slug"))
    archives = ["/page/2/", "/page/3/", "/page/4/", *months[:3]]
    archives += [c.get_absolute_url() for c in categories]
    archives += [t.get_absolute_url() for t in Tag.objects.order_by("slug")]
    archives += [f"/author/{u.username}/" for u in authors.order_by("username")]
    return {
        "posts": [p.get_absolute_url() for p in posts],
        "archives": archives,
        "category_feeds": [c.get_absolute_url() + "feed/" for c in categories],
    }


def seed_threads(payload: dict) -> dict:
    """Comments on the newest posts until the post of rank r has max(3, 40 / r); idempotent."""
    from django.contrib.contenttypes.models import ContentType
    from django.contrib.sites.models import Site

    from comments.models import Comment
    from posts.models import Post

    posts = list(Post.objects.published().filter(is_page=False).order_by("-published_at")[: payload["posts"]])
    ct, site = ContentType.objects.get_for_model(Post), Site.objects.get_current()
    rng = random.Random(24)
    added = 0
    for rank, post in enumerate(posts, start=1):
        want = max(3, round(40 / rank))
        existing = list(Comment.objects.filter(post=post, kind="comment").values_list("pk", "level"))
        for i in range(len(existing), want):
            parents = [pk for pk, level in existing if level < 2]
            comment = Comment(
                content_type=ct,
                object_pk=str(post.pk),
                site=site,
                post=post,
                user_name=f"Reader {rank}-{i + 1}",
                user_email=f"reader{rank}-{i + 1}@example.net",
                comment=f"Reply {i + 1} on this note. *Markdown* works, and [links](https://example.net/{rank}/{i}).",
                submit_date=post.published_at + dt.timedelta(hours=i + 1),
                is_public=True,
                parent_id=rng.choice(parents) if parents and i % 3 == 2 else 0,
            )
            comment.save()
            existing.append((comment.pk, comment.level))
            added += 1
    return {"added": added, "comments": Comment.objects.filter(post__in=posts).count()}


def site_setup(payload: dict) -> dict:
    """Set-up a moderator and the commenters' mailboxes would do: the confirmation link for each
    commenter's waiting comment (the one the email carries), and approval of each loopback blog's
    first pingback."""
    from comments.linkbacks.services import HOLD_FIRST_FROM_SITE
    from comments.links import confirmation_key
    from comments.models import Comment
    from comments.services import comment_approve

    keys = {}
    for email in payload["emails"]:
        comment = Comment.objects.filter(user_email=email, awaiting_confirmation=True).order_by("-pk").first()
        if comment is not None:
            keys[email] = confirmation_key(comment=comment)
    approved = 0
    for origin in payload["origins"]:
        held = Comment.objects.filter(
            source_url__startswith=origin + "/", is_public=False, hold_reason=HOLD_FIRST_FROM_SITE
        )
        for comment in held:
            comment_approve(comment=comment)
            approved += 1
    return {"keys": keys, "approved": approved}


def tasks_due(payload: dict) -> dict:
    """Background tasks due now or running: set-up's (confirmation emails, site icons) must be done
    before the read-only run, or their writes would renew the content version during it."""
    from django_tasks_db.models import DBTaskResult

    return {"due": DBTaskResult.objects.ready().count() + DBTaskResult.objects.running().count()}


CALL = (
    "import json, sys; from bench import busy; "
    "print('BUSYJSON ' + json.dumps(busy.{name}(json.loads(sys.stdin.read()))))"
)


def django_call(env: dict, name: str, payload: dict) -> dict:
    """One of the functions above, run in the site's own settings (a manage.py shell)."""
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-v0", "-c", CALL.format(name=name)],
        cwd=ROOT,
        env=env,
        input=json.dumps(payload),
        capture_output=True,
        text=True,
        check=False,
    )
    for line in reversed(result.stdout.splitlines()):
        if line.startswith("BUSYJSON "):
            return json.loads(line.removeprefix("BUSYJSON "))
    sys.exit(f"busy: {name} failed:\n{result.stdout}\n{result.stderr}")


# --- HTTP clients -------------------------------------------------------------------------------
class Browser:
    """One visitor's browser, as far as the benchmark needs: its own source address, a cookie jar,
    one connection per request (gunicorn's sync workers close it after each answer)."""

    def __init__(self, base: str, source_ip: str):
        parts = urlsplit(base)
        self.base, self.host, self.port = base, parts.hostname, parts.port
        self.source_ip = source_ip
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, body: bytes | None = None, headers: dict | None = None):
        conn = http.client.HTTPConnection(
            self.host, self.port, timeout=30, source_address=(self.source_ip, 0)
        )
        sent = {"User-Agent": USER_AGENT, "Accept": ACCEPT_HTML}
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        sent.update(headers or {})
        try:
            conn.request(method, path, body=body, headers=sent)
            response = conn.getresponse()
            data = response.read()
        finally:
            conn.close()
        for header in response.headers.get_all("Set-Cookie") or []:
            jar = http.cookies.SimpleCookie()
            jar.load(header)
            for name, morsel in jar.items():
                if morsel["max-age"] == "0" or not morsel.value:
                    self.cookies.pop(name, None)
                else:
                    self.cookies[name] = morsel.value
        return response.status, response.headers, data

    def follow(self, location: str):
        parts = urlsplit(location)
        return self.request("GET", parts.path + (f"?{parts.query}" if parts.query else ""))


class Commenter:
    def __init__(self, base: str, number: int):
        self.browser = Browser(base, COMMENTER_IPS[number])
        self.name = f"Busy Reader {number + 1}"
        self.email = f"busy-reader-{number + 1}@example.net"

    def comment(self, post_path: str, text: str) -> str:
        """Load the post, post the form, follow the redirect. Returns "published" or a reason."""
        status, _headers, body = self.browser.request("GET", post_path)
        if status != 200:
            return f"post page {status}"
        form = FormReader()
        form.feed(body.decode("utf-8", "replace"))
        if not form.action:
            return "no comment form"
        fields = dict(form.fields)
        fields.pop("honeypot", None)
        fields.update(name=self.name, email=self.email, url="", comment=text)
        status, headers, _body = self.browser.request(
            "POST",
            form.action,
            urlencode(fields).encode(),
            {
                "Content-Type": "application/x-www-form-urlencoded",
                "Referer": self.browser.base + post_path,
                "Origin": self.browser.base,
            },
        )
        if status != 302:
            return f"POST {status}"
        location = headers.get("Location", "")
        self.browser.follow(location)  # as the browser does: the page with the new comment
        if "/comments/posted/" in location:
            return "not published: " + urlsplit(location).path.rstrip("/").rsplit("/", 1)[-1]
        return "published"


class Blogs:
    """Blogs on loopback addresses (127.0.0.101, …), one port: each serves the pages that link
    to our posts, as a blog that pings would. Unknown paths are 404s (the site asks for icons)."""

    def __init__(self, count: int):
        self.ips = [f"127.0.0.{BLOG_IP_BASE + i}" for i in range(count)]
        self.pages: dict[tuple[str, str], tuple[str, str]] = {}  # (ip, path) -> (title, target)
        self.lock = threading.Lock()
        self.served = 0
        self.servers = self._bind()
        self.port = self.servers[0].server_address[1]
        for server in self.servers:
            threading.Thread(target=server.serve_forever, daemon=True, name="blog").start()

    def _bind(self) -> list[ThreadingHTTPServer]:
        handler = self._handler()
        for _attempt in range(20):
            first = ThreadingHTTPServer((self.ips[0], 0), handler)
            servers = [first]
            try:
                for ip in self.ips[1:]:
                    servers.append(ThreadingHTTPServer((ip, first.server_address[1]), handler))
            except OSError:
                for server in servers:
                    server.server_close()
                continue
            return servers
        raise RuntimeError("no port free on every blog address")

    def _handler(self):
        blogs = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 (http.server's name)
                ip = self.connection.getsockname()[0]
                with blogs.lock:
                    page = blogs.pages.get((ip, self.path))
                    blogs.served += page is not None
                if page is None:
                    self.send_error(404)
                    return
                title, target = page
                body = (
                    '<!doctype html><html lang="en"><head><meta charset="utf-8">'
                    f"<title>{html.escape(title)}</title></head><body>"
                    f'<article class="h-entry"><h1 class="p-name">{html.escape(title)}</h1>'
                    f'<div class="e-content"><p>We read <a href="{html.escape(target)}">this post</a> '
                    "and tried its advice in our district. Here is what happened.</p></div>"
                    "</article></body></html>"
                ).encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        return Handler

    def origin(self, ip: str) -> str:
        return f"http://{ip}:{self.port}"

    def allowed_hosts(self) -> str:
        return ",".join(f"{ip}:{self.port}" for ip in self.ips)

    def publish(self, ip: str, target: str) -> str:
        """A new page on blog `ip` linking to `target`; returns its URL."""
        n = secrets.token_hex(4)
        path = f"/2026/12/reply-{n}/"
        with self.lock:
            self.pages[(ip, path)] = (f"A reply from blog {ip.rsplit('.', 1)[1]} ({n})", target)
        return self.origin(ip) + path

    def close(self) -> None:
        for server in self.servers:
            server.shutdown()
            server.server_close()


def pingback(base: str, blogs: Blogs, ip: str, post_path: str) -> str:
    """Blog `ip` links to the post and pings it. Returns "published" or a reason."""
    browser = Browser(base, ip)
    status, headers, _body = browser.request("GET", post_path)  # discovery, as a sender does
    if status != 200:
        return f"post page {status}"
    endpoint = urlsplit(headers.get("X-Pingback", "")).path or "/xmlrpc.php"
    target = base + post_path
    source = blogs.publish(ip, target)
    call = xmlrpc.client.dumps((source, target), "pingback.ping").encode()
    status, _headers, body = browser.request("POST", endpoint, call, {"Content-Type": "text/xml"})
    if status != 200:
        return f"XML-RPC HTTP {status}"
    try:
        xmlrpc.client.loads(body)
    except xmlrpc.client.Fault as fault:
        return f"fault {fault.faultCode}"
    return "published"


# --- writes during the busy run ----------------------------------------------------------------
class Writes:
    """A comment every `comment_every` s and a pingback every `pingback_every` s, each in a thread
    of its own started on schedule, so a slow answer delays neither the next write nor the rate
    (an overloaded site gets them all, as it would from real visitors), until stopped."""

    def __init__(self, base, commenters, blogs, posts, weights, comment_every, pingback_every):
        self.base, self.commenters, self.blogs, self.posts = base, commenters, blogs, posts
        self.weights = weights
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.results: dict[str, list[tuple[str, float]]] = {"comment": [], "pingback": []}
        self.rng = random.Random(2026)
        self.writers: list[threading.Thread] = []
        self.threads = [
            threading.Thread(target=self._clock, args=("comment", comment_every, 0.0), name="comments"),
            threading.Thread(target=self._clock, args=("pingback", pingback_every, 1.0), name="pingbacks"),
        ]

    def _clock(self, kind: str, every: float, offset: float) -> None:
        started = time.monotonic() + offset
        for n in itertools.count():
            if self.stop.wait(max(0.0, started + n * every - time.monotonic())):
                return
            with self.lock:
                path = self.rng.choices(self.posts, weights=self.weights)[0]
            if kind == "comment":
                who = self.commenters[n % len(self.commenters)]
                text = f"Busy comment {secrets.token_hex(6)}: what we saw this week."
                args = (kind, who.comment, path, text)
            else:
                args = (kind, pingback, self.base, self.blogs, self.blogs.ips[n % len(self.blogs.ips)], path)
            writer = threading.Thread(target=self._write, args=args, name=kind)
            self.writers.append(writer)
            writer.start()

    def _write(self, kind: str, call, *args) -> None:
        began = time.perf_counter()
        try:
            outcome = call(*args)
        except (OSError, http.client.HTTPException) as exc:
            outcome = f"{type(exc).__name__}: {exc}"
        with self.lock:
            self.results[kind].append((outcome, time.perf_counter() - began))

    def start(self) -> None:
        for thread in self.threads:
            thread.start()

    def finish(self) -> dict:
        self.stop.set()
        for thread in self.threads + self.writers:
            thread.join(timeout=60)
        out = {}
        for kind, results in self.results.items():
            failures: dict[str, int] = {}
            for outcome, _seconds in results:
                if outcome != "published":
                    failures[outcome] = failures.get(outcome, 0) + 1
            seconds = [s for _o, s in results]
            out[kind] = {
                "attempted": len(results),
                "published": len(results) - sum(failures.values()),
                "failed": sum(failures.values()),
                "failures": failures,
                "p50_ms": round(statistics.median(seconds) * 1000, 1) if seconds else None,
                "max_ms": round(max(seconds) * 1000, 1) if seconds else None,
            }
        return out


# --- measuring ----------------------------------------------------------------------------------
def proc_cpu() -> dict[int, tuple[float, str]]:
    """CPU seconds so far of every process on the machine, with its command line."""
    tick = os.sysconf("SC_CLK_TCK")
    out = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            cmd = (stat.parent / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
        except (OSError, IndexError):
            continue
        out[int(stat.parent.name)] = ((int(fields[11]) + int(fields[12])) / tick, cmd)
    return out


def machine_cpu() -> tuple[float, float]:
    """(busy, total) jiffies of all CPUs since boot (/proc/stat)."""
    values = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]
    return sum(values) - idle, sum(values)


def others(before: dict, after: dict, ours: set[int], seconds: float) -> list[dict]:
    """Processes outside the benchmark that used the CPU during a run, busiest first."""
    rows = []
    for pid, (cpu, cmd) in after.items():
        if pid in ours or not cmd:
            continue
        used = cpu - before.get(pid, (0.0, ""))[0]
        if used >= 0.05 * seconds:
            rows.append(
                {
                    "pid": pid,
                    "cpu_percent": round(100 * used / seconds, 1),
                    "cmd": " ".join(cmd.split())[:110],
                }
            )
    return sorted(rows, key=lambda r: -r["cpu_percent"])[:8]


def ancestors_ours(root_pids: set[int]) -> set[int]:
    """Our processes: the given ones and all their descendants (gunicorn workers, postgres backends
    are not included: PostgreSQL's backends belong to the postmaster)."""
    parent = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            parent[int(stat.parent.name)] = int(stat.read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError):
            continue
    ours = set(root_pids)
    changed = True
    while changed:
        changed = False
        for pid, ppid in parent.items():
            if ppid in ours and pid not in ours:
                ours.add(pid)
                changed = True
    return ours


def run_readers(base, script: Path, readers: int, seconds: int, threads: int, timeout: int) -> dict:
    cmd = ["wrk", "-t", str(threads), "-c", str(readers), "-d", f"{seconds}s", "--timeout", f"{timeout}s",
           "-s", str(script), base + "/"]  # fmt: skip
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    out = proc.stdout.read()
    _pid, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    line = next((x for x in out.splitlines() if x.startswith("BUSYJSON ")), None)
    if line is None:
        sys.exit(f"busy: wrk gave no result:\n{out}")
    result = json.loads(line.removeprefix("BUSYJSON "))
    result["wrk_cpu_seconds"] = round(usage.ru_utime + usage.ru_stime, 2)
    return result


def measure(
    name, base, script, args, server, task_worker, access_log, offset, writes=None
) -> tuple[dict, int]:
    """One run of the readers (with the writes, if given): its figures, and the access log's offset."""
    log(f"{name}: {args.readers} readers for {args.seconds} s" + (", with writes" if writes else ""))

    def worker_cpu() -> float:
        cpu = proc_cpu()
        return sum(cpu.get(pid, (0.0, ""))[0] for pid in ancestors_ours({task_worker.pid}))

    def self_cpu() -> float:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        return usage.ru_utime + usage.ru_stime

    ours = ancestors_ours({os.getpid(), server.pid, task_worker.pid})
    procs_before, machine_before = proc_cpu(), machine_cpu()
    before = {"gunicorn": server_cpu_seconds(server.pid), "task_worker": worker_cpu(), "writers": self_cpu()}
    started = time.monotonic()
    if writes:
        writes.start()
    readers = run_readers(base, script, args.readers, args.seconds, args.wrk_threads, args.timeout)
    elapsed = time.monotonic() - started
    after = {"gunicorn": server_cpu_seconds(server.pid), "task_worker": worker_cpu(), "writers": self_cpu()}
    procs_after, machine_after = proc_cpu(), machine_cpu()
    ours |= ancestors_ours({os.getpid(), server.pid, task_worker.pid})
    written = writes.finish() if writes else None  # the writes still in flight complete
    time.sleep(0.5)  # the access log catches up
    counts, offset = status_counts(access_log, offset)
    # CPU used during the run, in cores (CPU seconds per second); "rest" is everything else on the
    # machine: PostgreSQL and Redis (for us and for others) and other people's work.
    cores = {key: round((after[key] - before[key]) / elapsed, 2) for key in after}
    cores["wrk"] = round(readers["wrk_cpu_seconds"] / elapsed, 2)
    cores["machine"] = round((machine_after[0] - machine_before[0]) / os.sysconf("SC_CLK_TCK") / elapsed, 2)
    cores["rest"] = round(cores["machine"] - sum(v for k, v in cores.items() if k != "machine"), 2)
    duration = readers["duration_us"] / 1e6
    requests = readers["requests"]
    result = {
        "name": name,
        "seconds": round(duration, 1),
        "rps": round(requests / duration, 1),
        "p50_ms": round(readers["p50_us"] / 1000, 2),
        "p90_ms": round(readers["p90_us"] / 1000, 2),
        "p99_ms": round(readers["p99_us"] / 1000, 2),
        "max_ms": round(readers["max_us"] / 1000, 2),
        "hit_rate": round(readers["hits"] / requests, 4) if requests else None,
        "readers": readers,
        "writes": written,
        "server_status_counts": counts,
        "5xx": sum(n for code, n in counts.items() if code.startswith("5")),
        "server_cpu_ms_per_reader_request": (
            round((after["gunicorn"] - before["gunicorn"]) * 1000 / requests, 2) if requests else None
        ),
        "cores": cores,
        "load_average": os.getloadavg(),
        "others": others(procs_before, procs_after, ours, elapsed),
    }
    return result, offset


# --- set-up -------------------------------------------------------------------------------------
def busy_database_url(url: str) -> str:
    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    return url if name.endswith("busy") else parts._replace(path=f"/{name}_busy").geturl()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def flush_redis(url: str) -> None:
    import redis

    try:
        redis.Redis.from_url(url, socket_connect_timeout=3).flushdb()
    except redis.RedisError as exc:
        sys.exit(f"busy: cannot reach Redis at {url} ({exc}); start one or pass --redis-url")


def set_up_writers(base: str, env: dict, blogs: Blogs, posts: list[str]) -> list[Commenter]:
    """Each commenter posts once and follows the link of the confirmation email (from then on
    this browser is trusted with this address, so its comments are published at once); each
    blog pings once, and a moderator approves it."""
    commenters = [Commenter(base, i) for i in range(COMMENTERS)]
    for c in commenters:
        outcome = c.comment(posts[0], f"Hello from {c.name}, first time here ({secrets.token_hex(4)}).")
        if outcome != "not published: awaiting":
            log(f"set-up: {c.name}'s first comment: {outcome} (expected: awaiting confirmation)")
    for i, ip in enumerate(blogs.ips):
        outcome = pingback(base, blogs, ip, posts[1 + i])
        if outcome != "published":
            log(f"set-up: blog {ip}'s first ping: {outcome}")
    done = django_call(
        env,
        "site_setup",
        {"emails": [c.email for c in commenters], "origins": [blogs.origin(ip) for ip in blogs.ips]},
    )
    for c in commenters:
        key = done["keys"].get(c.email)
        if key is None:
            sys.exit(f"busy: no comment of {c.email} waits for confirmation")
        status, headers, _body = c.browser.request("GET", f"/comments/confirm/{key}/")
        if status != 302 or "sb_trusted" not in c.browser.cookies:
            sys.exit(f"busy: confirming {c.email} answered {status}, no trusted-address cookie")
        c.browser.follow(headers.get("Location", "/"))
    log(f"set-up: {len(commenters)} commenters confirmed, {done['approved']} blogs' first pings approved")
    return commenters


def warm_up(base: str, paths: list[str], cookie: str) -> None:
    """Every reader URL once, three at a time, as the readers ask: the page cache holds them all
    and each gunicorn worker has rendered pages before the first measurement."""
    started = time.monotonic()
    headers = {"Accept-Encoding": "gzip, deflate, br", "Cookie": cookie}

    def get(path: str) -> int:
        return Browser(base, "127.0.0.1").request("GET", path, headers=headers)[0]

    with ThreadPoolExecutor(3) as pool:
        statuses = list(pool.map(get, paths))
    bad = {p: s for p, s in zip(paths, statuses, strict=True) if s != 200}
    log(
        f"warm-up: {len(paths)} reader URLs in {time.monotonic() - started:.1f} s"
        + (f"; not 200: {bad}" if bad else "")
    )


def reader_cookie(base: str) -> str:
    browser = Browser(base, "127.0.0.1")
    browser.request("GET", "/")
    token = browser.cookies.get("csrftoken")
    return f"csrftoken={token}" if token else ""


# --- main ---------------------------------------------------------------------------------------
def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=int, default=60, help="length of each measured run")
    parser.add_argument("--readers", type=int, default=64, help="concurrent reader connections")
    parser.add_argument("--posts", type=int, default=200, help="posts the readers spread over")
    parser.add_argument("--zipf", type=float, default=1.0, help="popularity exponent s")
    parser.add_argument("--comment-every", type=float, default=2.0, help="seconds between comments")
    parser.add_argument("--pingback-every", type=float, default=10.0, help="seconds between pingbacks")
    parser.add_argument("--writes-follow-readers", action="store_true", help="write on popular posts more")
    parser.add_argument("--warmup", type=int, default=5, help="seconds of reading before measuring")
    parser.add_argument("--only", choices=["both", "read-only", "busy"], default="both")
    parser.add_argument("--port", type=int, default=0, help="gunicorn's port (default: a free one)")
    parser.add_argument("--wrk-threads", type=int, default=2)
    parser.add_argument(
        "--timeout",
        type=int,
        default=30,
        help="seconds before wrk gives up on a request (gunicorn's own timeout); wrk leaves those "
        "out of its latencies and counts them as errors",
    )
    parser.add_argument("--redis-url", default=os.environ.get("BUSY_REDIS_URL") or DEFAULT_REDIS)
    parser.add_argument("--fresh", action="store_true", help="drop and recreate the database")
    args = parser.parse_args(argv)
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    ensure_wrk("wrk")

    db_url = busy_database_url(os.environ.get("DATABASE_URL") or DEFAULT_DB)
    if not db_url.startswith(("postgres://", "postgresql://")):
        sys.exit("busy: DATABASE_URL must point at PostgreSQL (postgres://user:pass@host:5432/db)")
    ensure_database(db_url, args.fresh)
    flush_redis(args.redis_url)
    pings = math.ceil(args.seconds / args.pingback_every) if args.only != "read-only" else 0
    blogs = Blogs(max(2, math.ceil(pings / (LINKBACK_HOST_LIMIT - 2))))
    run_var = OUT_DIR / "busy-var"
    env = {
        **os.environ,
        "DATABASE_URL": db_url,
        "REDIS_URL": args.redis_url,
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "0",
        "DJANGO_SETTINGS_MODULE": "bench.settings",
        "VAR_DIR": str(run_var),
        "EMAIL_URL": f"file://{run_var / 'mail'}",
        "LOG_LEVEL": "ERROR",
        "COMMENTS_CLOSE_AFTER_DAYS": "0",
        "LINKBACK_ALLOWED_HOSTS": blogs.allowed_hosts(),
    }
    env.pop("TESTING", None)
    log(f"database {urlsplit(db_url).path.lstrip('/')}: migrating and seeding")
    manage(env, "migrate", "--noinput", "-v0")
    manage(env, "collectstatic", "--noinput", "-v0")
    manage(env, "seed_demo", "--posts", str(args.posts), "--comments", "155", "--pingbacks", "5")
    seeded = django_call(env, "seed_threads", {"posts": args.posts})
    analyze(db_url)  # statistics, as autovacuum keeps them in production (see bench/run.py)
    facts = django_call(env, "site_facts", {"posts": args.posts})
    log(f"{len(facts['posts'])} posts, {seeded['comments']} comments on them ({seeded['added']} added now)")

    access_log = OUT_DIR / "busy-access.log"
    access_log.write_bytes(b"")
    port = args.port or free_port()
    server = start_gunicorn(env, port, access_log)
    time.sleep(1)
    if server.poll() is not None:  # /healthz was answered by another server on that port
        sys.exit(f"busy: gunicorn could not listen on port {port}")
    task_worker = subprocess.Popen(
        [sys.executable, "manage.py", "worker", "--no-reload", "--interval", "1"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    results = []
    try:
        commenters = set_up_writers(base, env, blogs, facts["posts"]) if args.only != "read-only" else []
        for _attempt in range(30):
            due = django_call(env, "tasks_due", {})["due"]
            if not due:
                break
            log(f"set-up: waiting for the task worker ({due} tasks due)")
            time.sleep(2)
        mix = reader_mix(facts, args.zipf)
        script = OUT_DIR / "busy.lua"
        cookie = reader_cookie(base)
        script.write_text(lua_script(mix, cookie, seed=24))
        warm_up(base, [path for path, _w, _k in mix], cookie)
        if args.warmup:
            log(f"warm-up: {args.warmup} s of reading")
            run_readers(base, script, args.readers, args.warmup, args.wrk_threads, args.timeout)
        offset = access_log.stat().st_size
        if args.only in ("both", "read-only"):
            result, offset = measure("read-only", base, script, args, server, task_worker, access_log, offset)
            results.append(result)
        if args.only in ("both", "busy"):
            posts = facts["posts"]
            weights = (
                zipf_weights(len(posts), args.zipf) if args.writes_follow_readers else [1.0] * len(posts)
            )
            writes = Writes(base, commenters, blogs, posts, weights, args.comment_every, args.pingback_every)
            result, offset = measure(
                "busy", base, script, args, server, task_worker, access_log, offset, writes
            )
            results.append(result)
        workers = {pid: rss_mb(pid) for pid in worker_pids(server.pid)}
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        os.killpg(task_worker.pid, signal.SIGTERM)
        server.wait(timeout=30)
        task_worker.wait(timeout=30)
        blogs.close()
    report(results, workers, args, facts, mix, blogs)


def report(results: list[dict], workers: dict, args, facts: dict, mix, blogs: Blogs) -> None:
    lines = []
    header = (
        f"{'run':<10} {'req/s':>8} {'p50 ms':>7} {'p99 ms':>7} {'hits':>6} {'errors':>6} {'5xx':>4}"
        f" {'comments ok/fail':>16} {'pings ok/fail':>13} {'cpu ms':>6} {'gunicorn':>8} {'wrk':>5}"
        f" {'rest':>5} {'load':>5}"
    )
    lines += [header, "-" * len(header)]
    for r in results:
        w = r["writes"] or {}
        c, p = w.get("comment"), w.get("pingback")
        errors = sum(r["readers"]["errors"].values()) + r["readers"]["4xx"] + r["readers"]["5xx"]
        cores = r["cores"]
        lines.append(
            f"{r['name']:<10} {r['rps']:>8.1f} {r['p50_ms']:>7.2f} {r['p99_ms']:>7.2f} {r['hit_rate']:>6.1%}"
            f" {errors:>6} {r['5xx']:>4} {(f'{c["published"]}/{c["failed"]}' if c else '-'):>16}"
            f" {(f'{p["published"]}/{p["failed"]}' if p else '-'):>13}"
            f" {r['server_cpu_ms_per_reader_request']:>6.2f} {cores['gunicorn']:>8.2f} {cores['wrk']:>5.2f}"
            f" {cores['rest']:>5.2f} {r['load_average'][0]:>5.1f}"
        )
    by_name = {r["name"]: r for r in results}
    summary = {}
    if "busy" in by_name and "read-only" in by_name:
        busy, quiet = by_name["busy"], by_name["read-only"]
        ratio = busy["rps"] / quiet["rps"] if quiet["rps"] else 0.0
        summary = {"throughput_ratio": round(ratio, 3), "busy_p99_ms": busy["p99_ms"]}
        summary["target_met"] = ratio >= 0.70 and busy["p99_ms"] < 50
        lines.append("")
        lines.append(
            f"busy / read-only throughput: {ratio:.1%} (target >= 70 %), busy p99 {busy['p99_ms']:.1f} ms "
            f"(target < 50 ms): {'met' if summary['target_met'] else 'NOT met'}"
        )
    lines.append("")
    for r in results:
        for kind, w in (r["writes"] or {}).items():
            if w["failures"]:
                lines.append(f"{r['name']}: {kind} failures: {w['failures']}")
            lines.append(f"{r['name']}: {kind} p50 {w['p50_ms']} ms, max {w['max_ms']} ms")
    lines.append(
        "hits = X-Page-Cache: hit over all reader responses; errors = readers' socket errors, 4xx and 5xx; "
        "5xx = gunicorn's access log (writes included)"
    )
    lines.append(
        "errors include requests wrk gave up on after --timeout s (left out of its latencies); "
        "cpu ms = gunicorn CPU per reader request (writes' cost included)"
    )
    lines.append(
        "gunicorn, wrk, rest = CPU cores busy during the run: the site's workers, the load generator, "
        "everything else (PostgreSQL, Redis, other work; the task worker's and writers' are in the JSON)"
    )
    conf = gunicorn_settings()
    lines.append(
        f"gunicorn: {conf['workers']} workers x {conf['threads']} threads ({conf['worker_class']}); "
        f"{args.readers} readers over {len(facts['posts'])} posts (Zipf s={args.zipf}); a comment every "
        f"{args.comment_every:g} s, a pingback every {args.pingback_every:g} s; {os.cpu_count()} CPUs"
    )
    lines.append("gunicorn worker RSS after the runs: " + ", ".join(f"{mb} MB" for mb in workers.values()))
    for r in results:
        if r["others"]:
            lines.append(f"other processes using the CPU during {r['name']}:")
            lines += [f"  {o['cpu_percent']:>5.1f}%  {o['cmd']}" for o in r["others"]]
    print("\n".join(lines))
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    out = OUT_DIR / f"busy-{stamp}.json"
    out.write_text(
        json.dumps(
            {
                "when": stamp,
                "args": vars(args),
                "gunicorn": conf,
                "cpu_count": os.cpu_count(),
                "mix_shares": SHARES,
                "mix": [{"path": p, "share": round(w, 6), "kind": k} for p, w, k in mix],
                "blogs": blogs.ips,
                "results": results,
                "summary": summary,
                "worker_rss_mb": workers,
                "table": lines,
            },
            indent=2,
        )
    )
    log(f"wrote {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
