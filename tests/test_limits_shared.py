"""Flood control and every rate limit hold across processes, the way the site really runs.

Each test runs real gunicorn with three sync workers (tests/live.py), once in the default setup
(no REDIS_URL: the limits count in the database) and once with Redis, and sends requests as a
browser or a peer would, several at once, so that several workers answer them. gunicorn's access
log names the worker that answered each request: the tests check that more than one did.

With the old per-process cache (local memory without REDIS_URL), a second comment from the same
person within the flood window was accepted by another worker: [302, 302, 429, ...].
"""

from __future__ import annotations

import os
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlencode

import pytest
from bs4 import BeautifulSoup

from tests.live import LiveSite, needs_gunicorn, redis_unavailable, which_database

REDIS_DB_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/13")
BURST = 9  # requests sent at once: three per worker


OPEN_POST = """
from datetime import timedelta
from django.contrib.auth import get_user_model
from django.utils import timezone
from posts.models import Post, PostAuthor
post = Post.objects.create(
    title="Open for discussion", slug="open-for-discussion", body="Tell us what you saw.",
    status=Post.Status.PUBLISHED, published_at=timezone.now() - timedelta(hours=1),
    allow_comments=True,
)
PostAuthor.objects.create(post=post, user=get_user_model().objects.order_by("pk").first(), position=0)
get_user_model().objects.create_superuser("limits", "limits@example.org", "limits-pw-123")
print(post.get_absolute_url())
"""


@pytest.fixture(scope="module", params=["database", "redis"])
def site(request, tmp_path_factory):
    reason = needs_gunicorn()
    if reason:
        pytest.skip(reason)
    env = {
        "COMMENTS_FLOOD_SECONDS": "120",  # room for a slow machine: the window must not end mid-test
        "LINKBACK_RATE_PER_IP": "3",
        "LINKBACK_RATE_WINDOW": "600",
        "PREVIEW_RATE_PER_MINUTE": "3",
        "TRUSTED_PROXY_COUNT": "1",  # so a test can speak for a reader at an address of its own
    }
    if request.param == "redis":
        reason = redis_unavailable(REDIS_DB_URL)
        if reason:
            pytest.skip(reason)
        env.update(REDIS_URL=REDIS_DB_URL, CACHE_KEY_PREFIX=f"limits-{uuid.uuid4().hex[:8]}")
    print(f"[limits] store={request.param} database={which_database()} workers=3")
    live = LiveSite(tmp_path_factory.mktemp(request.param), workers=3, env=env, access_log=True)
    with live:
        live.post_path = live.manage("shell", "-c", OPEN_POST).stdout.strip().splitlines()[-1]
        yield live


class Visitor:
    """One browser: its cookies, and the forms it read."""

    def __init__(self, site: LiveSite):
        self.site = site
        self.cookies: dict[str, str] = {}

    def headers(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())} if self.cookies else {}
        headers.update(extra or {})
        return headers

    def get(self, path: str):
        response = self.site.get(path, headers=self.headers())
        self.cookies.update(response.cookies())
        return response

    def post(self, path: str, data: dict, headers: dict[str, str] | None = None):
        response = self.site.post(
            path,
            urlencode(data),
            headers=self.headers({"Content-Type": "application/x-www-form-urlencoded", **(headers or {})}),
        )
        self.cookies.update(response.cookies())
        return response

    def form(self, path: str, selector: str) -> tuple[str, dict[str, str]]:
        response = self.get(path)
        assert response.status == 200, (path, response.status)
        form = BeautifulSoup(response.text, "html.parser").select_one(selector)
        assert form is not None, f"no {selector} on {path}"
        fields = {i["name"]: i.get("value", "") for i in form.select("input[type=hidden]")}
        return form.get("action") or path, fields

    def login(self, username: str, password: str) -> None:
        """Sign in through the admin's login page, whichever sign-in form it shows."""
        response = self.get("/admin/login/")
        page = BeautifulSoup(response.text, "html.parser")
        form = next(f for f in page.select("form[method=post]") if f.select_one("input[type=password]"))
        fields = {i["name"]: i.get("value", "") for i in form.select("input[type=hidden]")}
        name = next(i["name"] for i in form.select("input[name]") if i["name"] in ("username", "login"))
        response = self.post(
            form.get("action") or "/admin/login/", {**fields, name: username, "password": password}
        )
        assert response.status == 302, (response.status, response.text[:500])


def at_once(send, count: int) -> list[int]:
    """`count` requests released together from as many threads; their statuses."""
    barrier = threading.Barrier(count)

    def one(n: int) -> int:
        barrier.wait()
        return send(n).status

    with ThreadPoolExecutor(count) as pool:
        return list(pool.map(one, range(count)))


def workers_for(site: LiveSite, method: str, path: str) -> dict[int, set[int]]:
    """{status: pids of the workers that answered it} for requests to one path."""
    found: dict[int, set[int]] = {}
    for entry in site.requests_served():
        if entry.method == method and entry.path == path:
            found.setdefault(entry.status, set()).add(entry.pid)
    return found


def test_a_second_comment_within_the_flood_window_is_refused_by_every_worker(site):
    """Nine first comments from one person at once: one is taken, whichever worker answers; then
    every later one in the window is refused, by more workers than the one that took it."""
    reader = Visitor(site)
    action, fields = reader.form(site.post_path, "form#comment-form")
    person = {"name": "Ama Reader", "email": "ama@example.net", "url": ""}
    at_ip = {"X-Forwarded-For": "203.0.113.7"}  # one reader's own address, through the proxy

    def comment(n: int):
        return reader.post(action, {**fields, **person, "comment": f"My thought, number {n}."}, at_ip)

    first = at_once(comment, BURST)
    assert sorted(first) == [302] + [429] * (BURST - 1), first
    later = []
    for _round in range(4):
        later += at_once(comment, BURST)
        answered = workers_for(site, "POST", action)
        if answered[429] - answered[302]:
            break
    print(f"[limits] comments: first burst {sorted(first)}, then {later}; workers {answered}")
    assert later == [429] * len(later)
    # Refused by several workers, including one that did not take the first comment.
    assert len(answered[429]) >= 2, answered
    assert answered[429] - answered[302], answered


def test_privacy_link_requests_share_one_window_across_workers(site):
    visitor = Visitor(site)
    action, fields = visitor.form("/comments/privacy/", "main form[method=post]")
    statuses = at_once(lambda n: visitor.post(action, {**fields, "email": "ama@example.net"}), BURST)
    answered = workers_for(site, "POST", action)
    print(f"[limits] privacy statuses: {sorted(statuses)}; workers {answered}")
    assert sorted(statuses) == [200] + [429] * (BURST - 1)
    assert len(set().union(*answered.values())) >= 2, answered


def test_the_linkback_limit_counts_requests_from_every_worker(site):
    target = site.url(site.post_path)
    statuses = at_once(
        lambda n: site.post("/webmention/", {"source": f"http://peer{n}.example/notes/", "target": target}),
        BURST,
    )
    answered = workers_for(site, "POST", "/webmention/")
    print(f"[limits] webmention statuses: {sorted(statuses)}; workers {answered}")
    accepted = [s for s in statuses if s in (201, 202)]
    assert len(accepted) == 3 and statuses.count(429) == BURST - 3, statuses
    assert len(set().union(*answered.values())) >= 2, answered


def test_the_preview_limit_counts_requests_from_every_worker(site):
    editor = Visitor(site)
    editor.login("limits", "limits-pw-123")
    token = editor.cookies["csrftoken"]
    path = "/admin/posts/post/preview/"
    statuses = at_once(
        lambda n: editor.post(
            path,
            {"body": f"Draft *{n}*", "title": "A draft"},
            headers={"X-CSRFToken": token, "Accept": "application/json", "Referer": site.url(path)},
        ),
        BURST,
    )
    answered = workers_for(site, "POST", path)
    print(f"[limits] preview statuses: {sorted(statuses)}; workers {answered}")
    assert sorted(statuses) == [200] * 3 + [429] * (BURST - 3), statuses
    assert len(set().union(*answered.values())) >= 2, answered
