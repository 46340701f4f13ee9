"""Scale-out, proven on one machine: a PostgreSQL primary with a streaming replica, Redis, two app
servers and a worker, built by bench/cluster.py. Marked `cluster`; .ci/run runs them."""

from __future__ import annotations

import http.cookiejar
import json
import time
import urllib.error
import urllib.request

import pytest

from bench.cluster import Cluster, missing_binaries

pytestmark = pytest.mark.cluster


@pytest.fixture(scope="module")
def cluster():
    missing = missing_binaries()
    if missing:
        pytest.skip(f"cluster tests need {', '.join(missing)}")
    c = Cluster()
    try:
        c.start()
        yield c
    finally:
        c.stop()


class Browser:
    """A client with its own cookie jar, like one visitor's browser."""

    def __init__(self):
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar), _NoRedirect())

    def get(self, url: str) -> tuple[int, str, dict]:
        try:
            with self.opener.open(url, timeout=20) as response:
                return response.status, response.read().decode(), dict(response.headers)
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode(), dict(error.headers)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


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


def test_a_dead_replica_degrades_health_but_pages_keep_answering(cluster):
    cluster.replica.stop()
    try:
        for url in cluster.urls():
            for path in ("", "category/learning/", "search/?q=learning"):
                status, _, _ = Browser().get(url + path)
                assert status == 200, (url + path, status)
        status, body, _ = Browser().get(cluster.urls()[1] + "healthz")
        data = json.loads(body)
        assert status == 200
        assert data["status"] == "degraded"
        assert data["checks"]["replica0"]["status"] == "down"
    finally:
        cluster.replica.start()
