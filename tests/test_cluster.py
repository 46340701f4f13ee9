"""Scale-out, proven on one machine: a PostgreSQL primary with a streaming replica, Redis, two app
servers and a worker, built by bench/cluster.py. Marked `cluster`; .ci/run runs them.

The tests run in file order against one cluster; comment posts wait out the flood window
(COMMENTS_FLOOD_SECONDS=3 in the cluster) because every client here has the same IP address.
"""

from __future__ import annotations

import json
import re
import time

import pytest
from bs4 import BeautifulSoup

from bench.cluster import Cluster, missing_binaries
from tests.live import Browser

pytestmark = pytest.mark.cluster
FLOOD_WAIT = 3.5
ENROL_TOTP = (
    "from django.contrib.auth import get_user_model; "
    "from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret; "
    "secret = generate_totp_secret(); "
    "TOTP.activate(get_user_model().objects.get(username='admin'), secret); "
    "print(secret)"
)


@pytest.fixture(scope="module")
def cluster():
    missing = missing_binaries()
    if missing:
        pytest.skip(f"cluster tests need {', '.join(missing)}")
    c = Cluster()
    try:
        c.start()
        c.admin_password = re.search(r"password (\S+)", c.manage("ensure_demo_admin")).group(1)
        # The cluster runs as production does (DEBUG=0), where staff must have a second factor:
        # the admin gets an authenticator app, and the writer signs in with its codes.
        c.admin_totp = c.manage("shell", "-c", ENROL_TOTP).strip().splitlines()[-1]
        yield c
    finally:
        c.stop()


def open_post_path(cluster) -> str:
    _, html, _ = Browser().get(cluster.urls()[0])
    return re.search(r'href="(/\d{4}/\d\d/\d\d/share-your-field-notes/)"', html).group(1)


def shown_comments(html: str) -> list[str]:
    page = BeautifulSoup(html, "html.parser")
    return [c.get_text(" ", strip=True) for c in page.select("li.comment .comment-body")]


def test_healthz_reports_every_dependency(cluster):
    status, body, _ = Browser().get(cluster.urls()[0] + "healthz")
    data = json.loads(body)
    assert status == 200
    assert data["checks"]["primary"]["status"] == "ok"
    assert data["checks"]["replica0"]["status"] == "ok"
    assert data["checks"]["cache"] == {"status": "ok", "backend": "RedisCache"}
    deadline = time.monotonic() + 30
    while data["checks"]["worker"]["status"] != "ok" and time.monotonic() < deadline:
        time.sleep(1)
        data = json.loads(Browser().get(cluster.urls()[0] + "healthz")[1])
    assert data["checks"]["worker"]["status"] == "ok"


def test_both_app_servers_serve_the_same_site(cluster):
    pages = [Browser().get(url) for url in cluster.urls()]
    assert [status for status, _, _ in pages] == [200, 200]
    assert "Two years of sector learning" in pages[0][1]
    assert "Two years of sector learning" in pages[1][1]


def test_a_comment_posted_through_a_appears_on_b_at_the_next_request(cluster):
    a, b = cluster.urls()
    path = open_post_path(cluster)
    reader = Browser()
    status, html, headers = reader.get(b + path.lstrip("/"))
    assert status == 200
    reader.get(b + path.lstrip("/"))  # now served from the shared page cache
    writer = Browser()
    writer.login(a, "admin", cluster.admin_password, cluster.admin_totp)
    status, _, headers = writer.comment(a, path, "Posted through app server A.")
    assert status == 302, status
    status, html, _ = reader.get(b + path.lstrip("/"))
    assert status == 200
    assert "Posted through app server A." in shown_comments(html)


def test_read_your_writes_while_the_replica_is_behind(cluster):
    a, b = cluster.urls()
    path = open_post_path(cluster)
    time.sleep(FLOOD_WAIT)
    cluster.replica.sql("SELECT pg_wal_replay_pause()")
    try:
        # A change the site never announced (made straight in the primary) shows who reads what:
        # an ordinary visitor reads the paused replica and does not see it.
        cluster.primary.sql(
            "UPDATE posts_post SET search_text = search_text || ' zebrafish' "
            "WHERE slug = 'share-your-field-notes'"
        )
        other = Browser()
        assert 'class="post-card' not in other.get(b + "search/?q=zebrafish")[1]
        # A client that writes through A reads its own write through B at once: the write pins
        # it to the primary, where the unannounced change is visible too.
        writer = Browser()
        writer.login(a, "admin", cluster.admin_password, cluster.admin_totp)
        status, _, _ = writer.comment(a, path, "Written while the replica is paused.")
        assert status == 302
        assert "Written while the replica is paused." in shown_comments(writer.get(b + path.lstrip("/"))[1])
        assert 'class="post-card' in writer.get(b + "search/?q=zebrafish&from=writer")[1]
        # Pages that show the new comment are not built from the lagging replica for anyone.
        assert "Written while the replica is paused." in shown_comments(other.get(b + path.lstrip("/"))[1])
    finally:
        cluster.replica.sql("SELECT pg_wal_replay_resume()")


def test_flood_limit_holds_across_both_app_servers(cluster):
    a, b = cluster.urls()
    path = open_post_path(cluster)
    time.sleep(FLOOD_WAIT)
    first = Browser().comment(a, path, "First of two quick comments.", email="one@example.net")
    second = Browser().comment(b, path, "Second, too soon.", email="two@example.net")
    assert first[0] == 302
    assert second[0] == 429


def test_tasks_queued_while_the_worker_is_stopped_run_exactly_once(cluster):
    a, b = cluster.urls()
    path = open_post_path(cluster)
    mail_dir = cluster.var_dir / "mail"
    cluster.stop_worker()
    addresses = ["queued1@example.net", "queued2@example.net"]
    for n, address in enumerate(addresses):
        time.sleep(FLOOD_WAIT)
        status, _, _ = Browser().comment((a, b)[n], path, f"Queued comment {n}.", email=address)
        assert status == 302

    def mails_to(address):
        return [f for f in mail_dir.glob("*") if address in f.read_text(errors="replace")]

    assert all(mails_to(address) == [] for address in addresses)
    cluster.start_worker()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not all(mails_to(a) for a in addresses):
        time.sleep(0.5)
    time.sleep(2)  # a duplicate run would have written a second message by now
    assert [len(mails_to(address)) for address in addresses] == [1, 1]


def test_a_dead_replica_degrades_health_but_pages_keep_answering(cluster):
    cluster.replica.stop()
    try:
        for url in cluster.urls():
            for path in ("", "category/learning/", "search/?q=learning"):
                status, _, _ = Browser().get(f"{url}{path}{'&' if '?' in path else '?'}t={time.monotonic()}")
                assert status == 200, (url + path, status)
        status, body, _ = Browser().get(cluster.urls()[1] + "healthz")
        data = json.loads(body)
        assert status == 200
        assert data["status"] == "degraded"
        assert data["checks"]["replica0"]["status"] == "down"
    finally:
        cluster.replica.start()
