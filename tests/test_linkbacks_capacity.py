"""Slow pingback sources never starve readers: the product as it runs (real gunicorn, three sync
workers), a loopback source that holds its answers open, and several pingbacks at once.

Issue "What real peers and real people hit", item 14. Pingback receipt fetches the source while
the caller waits; without a cap, two slow sources held both workers and the home page took 4.8 s.
"""

from __future__ import annotations

import threading
import time
import xmlrpc.client

import pytest

from tests.interop.loopback import LoopbackHTTP, Reply
from tests.live import LiveSite, needs_gunicorn, which_database

FETCH_DEADLINE = 8  # how long each slow verification holds its worker (the fetch's own deadline)
PINGS = 4


class SlowSource:
    """Routes /slow/<n> answer headers at once, then hold the body until released."""

    def __init__(self, server: LoopbackHTTP):
        self.release = threading.Event()
        self.lock = threading.Lock()
        self.fetched: list[str] = []
        self.open = 0
        self.first_fetch = threading.Event()
        for n in range(PINGS):
            server.routes[f"/slow/{n}"] = self.route

    def route(self, rec) -> Reply:
        with self.lock:
            self.fetched.append(rec.path)
            self.open += 1
        self.first_fetch.set()

        def body():
            try:
                yield b"<html><head><title>Slow</title></head><body><p>"
                self.release.wait(60)
                yield b"</p></body></html>"
            finally:
                with self.lock:
                    self.open -= 1

        return Reply(stream=body)


def _ping(site: LiveSite, source: str, target: str, results: dict, key: int) -> None:
    body = xmlrpc.client.dumps((source, target), "pingback.ping").encode()
    started = time.monotonic()
    response = site.post("/xmlrpc.php", body, headers={"Content-Type": "text/xml"}, timeout=60)
    try:
        outcome = xmlrpc.client.loads(response.body)[0][0]
    except xmlrpc.client.Fault as fault:
        outcome = (fault.faultCode, fault.faultString)
    results[key] = (started, time.monotonic(), response.status, outcome)


@pytest.mark.skipif(needs_gunicorn() is not None, reason=needs_gunicorn() or "")
def test_slow_pingback_sources_never_starve_readers(tmp_path):
    with LoopbackHTTP() as server:
        source = SlowSource(server)
        env = {
            "LINKBACK_ALLOWED_HOSTS": server.host,
            "LINKBACK_FETCH_DEADLINE": str(FETCH_DEADLINE),
            "LINKBACK_VERIFY_CONCURRENCY": "1",
            "LINKBACK_HOLD_FIRST_FROM_SOURCE": "0",
        }
        with LiveSite(tmp_path, workers=3, env=env) as site:
            print(f"live site on {which_database()}, 3 sync workers, 1 verification slot")
            target = (
                site.origin
                + site.manage(
                    "shell",
                    "-c",
                    "from posts.models import Post; "
                    "print(Post.objects.published().filter(allow_pings=True).first().get_absolute_url())",
                )
                .stdout.strip()
                .splitlines()[-1]
            )
            assert site.get("/").status == 200  # warm: the home page is built once

            results: dict[int, tuple] = {}
            threads = [
                threading.Thread(target=_ping, args=(site, server.url(f"/slow/{n}"), target, results, n))
                for n in range(PINGS)
            ]
            for thread in threads:
                thread.start()
            assert source.first_fetch.wait(15), site.log_tail()
            time.sleep(1)  # let every ping reach a worker and be answered or start verifying

            started = time.monotonic()
            home = site.get("/", timeout=60)
            answered = time.monotonic()
            print(f"GET / answered in {answered - started:.3f} s; slow sources open: {source.open}")

            source.release.set()
            for thread in threads:
                thread.join(60)

    assert home.status == 200
    assert len(results) == PINGS and all(r[2] == 200 for r in results.values()), results
    busy = [r for r in results.values() if isinstance(r[3], tuple) and r[3][0] == 0x32]
    verified = [r for r in results.values() if r not in busy]
    first_verified_done = min(r[1] for r in verified)
    # A reader was answered while the slow source still held the verification that reached it.
    assert answered < first_verified_done, f"GET / waited {answered - started:.1f} s for a worker"
    # One verification at a time on this machine; the others were told at once to come back later.
    assert len(source.fetched) == 1 and len(verified) == 1, (source.fetched, results)
    assert len(busy) == PINGS - 1 and all("try again" in r[3][1] for r in busy)
    assert all(r[1] < first_verified_done for r in busy)


def test_a_killed_worker_never_keeps_a_verification_slot(tmp_path, settings):
    """A worker killed mid-verification (gunicorn's timeout, OOM) frees its slot with its process."""
    import os
    import signal
    import subprocess
    import sys

    from core.semaphore import semaphore_slot

    settings.SEMAPHORE_DIR = tmp_path
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import django, sys, time; django.setup()\n"
            "from core.semaphore import semaphore_slot\n"
            "with semaphore_slot(name='pingback-verify', slots=1) as held:\n"
            "    print(held, flush=True); time.sleep(60)\n",
        ],
        env={
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "sectorblog.settings",
            "DEBUG": "1",
            "SEMAPHORE_DIR": str(tmp_path),
        },
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "True"
        with semaphore_slot(name="pingback-verify", slots=1) as held:
            assert held is False  # another process holds the only slot
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait(10)
    with semaphore_slot(name="pingback-verify", slots=1) as held:
        assert held is True
