"""Concurrent POSTs against a live server: an identical duplicate sent 20 times at once is stored
once (the unique duplicate_key, no check-then-insert), and 20 simultaneous replies to one comment
get 20 distinct places in the thread (XTD-NOTES trap 5)."""

from __future__ import annotations

import threading

import pytest
import requests
from bs4 import BeautifulSoup
from django.db import connection

from comments.models import Comment

pytestmark = pytest.mark.django_db(transaction=True)

CONCURRENT = 20


@pytest.fixture
def concurrent_db():
    if connection.vendor != "postgresql":
        pytest.skip("concurrent writers need a server database: run with DATABASE_URL=postgres://…")


def read_form(live_server, post):
    session = requests.Session()
    page = BeautifulSoup(
        session.get(live_server.url + post.get_absolute_url(), timeout=10).content, "html.parser"
    )
    data = {i["name"]: i.get("value", "") for i in page.select("form#comment-form input[type=hidden]")}
    return session.cookies.get_dict(), data


def fire(live_server, cookies, payloads):
    barrier = threading.Barrier(len(payloads))
    statuses: list[int] = []
    lock = threading.Lock()

    def send(payload):
        barrier.wait()
        response = requests.post(
            live_server.url + "/comments/post/",
            data=payload,
            cookies=cookies,
            allow_redirects=False,
            timeout=30,
        )
        with lock:
            statuses.append(response.status_code)

    threads = [threading.Thread(target=send, args=(p,)) for p in payloads]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sorted(statuses)


def test_twenty_concurrent_identical_posts_store_exactly_one_row(concurrent_db, live_server, post, settings):
    settings.COMMENTS_FLOOD_SECONDS = 0  # so that only the duplicate key stands in the way
    cookies, data = read_form(live_server, post)
    data.update(name="Ama", email="ama@example.net", url="", comment="Same words, sent twenty times.")
    statuses = fire(live_server, cookies, [data] * CONCURRENT)

    assert Comment.objects.filter(comment="Same words, sent twenty times.").count() == 1
    assert statuses.count(302) == 1 and statuses.count(409) == CONCURRENT - 1, statuses


def test_twenty_concurrent_replies_get_distinct_orders(
    concurrent_db, live_server, post, make_comment, settings
):
    settings.COMMENTS_FLOOD_SECONDS = 0
    parent = make_comment(post, comment="Ask me anything")
    cookies, data = read_form(live_server, post)
    payloads = [
        {
            **data,
            "reply_to": str(parent.pk),
            "name": f"R{i}",
            "email": f"r{i}@example.net",
            "comment": f"reply {i}",
        }
        for i in range(CONCURRENT)
    ]
    statuses = fire(live_server, cookies, payloads)

    assert statuses == [302] * CONCURRENT
    orders = sorted(Comment.objects.filter(thread_id=parent.pk).values_list("order", flat=True))
    assert orders == list(range(1, CONCURRENT + 2))
    parent.refresh_from_db()
    assert parent.nested_count == CONCURRENT


def test_flood_control_holds_under_concurrency(concurrent_db, live_server, post):
    """The cache's atomic add lets exactly one of simultaneous posts from one IP through."""
    cookies, data = read_form(live_server, post)
    payloads = [
        {**data, "name": f"R{i}", "email": f"f{i}@example.net", "comment": f"flood {i}"} for i in range(10)
    ]
    statuses = fire(live_server, cookies, payloads)
    assert statuses.count(302) == 1 and statuses.count(429) == 9, statuses
    assert Comment.objects.count() == 1
