"""Issue 11 case 21 (linkback half): 20 concurrent pingbacks for one (source, target) pair."""

from __future__ import annotations

import threading
import xmlrpc.client

import pytest
from django.db import connection

from comments.models import Comment
from tests import factories
from tests.interop.loopback import LoopbackHTTP, Reply


@pytest.mark.django_db(transaction=True)
def test_twenty_concurrent_pingbacks_leave_one_row(live_server, settings):
    if connection.vendor != "postgresql":
        pytest.skip(
            "needs PostgreSQL: the SQLite test database is one in-memory connection shared by threads"
        )
    settings.SITE_DOMAIN = live_server.url.split("://", 1)[1]
    settings.LINKBACK_RATE_PER_IP = settings.LINKBACK_RATE_PER_SOURCE_HOST = 100
    settings.LINKBACK_HOLD_FIRST_FROM_SOURCE = False
    settings.LINKBACK_VERIFY_CONCURRENCY = 20  # all twenty verify at once: uniqueness is under test
    post = factories.PostFactory()
    target = live_server.url + post.get_absolute_url()
    with LoopbackHTTP() as source:
        settings.LINKBACK_ALLOWED_HOSTS = [source.host]
        source.routes["/s"] = Reply(body=f"<title>S</title><p><a href='{target}'>link</a></p>".encode())
        barrier = threading.Barrier(20)
        results: list[object] = []

        def ping():
            proxy = xmlrpc.client.ServerProxy(live_server.url + "/xmlrpc.php")
            barrier.wait()
            try:
                results.append(proxy.pingback.ping(source.url("/s"), target))
            except xmlrpc.client.Fault as fault:
                results.append(fault.faultCode)
            except Exception as exc:  # noqa: BLE001 - recorded so the assertion shows it
                results.append(repr(exc))

        threads = [threading.Thread(target=ping) for _ in range(20)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
    successes = [r for r in results if isinstance(r, str) and "registered" in r]
    assert len(results) == 20
    assert len(successes) == 1, results
    assert sorted(r for r in results if r not in successes) == [48] * 19
    assert Comment.objects.filter(post=post, kind="pingback").count() == 1
