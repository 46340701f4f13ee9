"""The shared store behind every limit (core/ratelimit.py): windows end, old counters go.
tests/test_limits_shared.py proves it across gunicorn workers."""

from __future__ import annotations

import contextlib
import datetime as dt
import time
import uuid

import pytest
import time_machine

from core import ratelimit
from core.models import RateCounter
from tests.live import redis_unavailable
from tests.test_limits_shared import REDIS_DB_URL


@pytest.fixture(params=["database", "redis"])
def store(request, settings, db):
    if request.param == "redis":
        reason = redis_unavailable(REDIS_DB_URL)
        if reason:
            pytest.skip(reason)
        settings.REDIS_URL = REDIS_DB_URL
    else:
        settings.REDIS_URL = ""
    return request.param


@contextlib.contextmanager
def later(store: str, seconds: float):
    """`seconds` from now: the database store reads this process's clock; Redis keeps its own."""
    if store == "redis":
        time.sleep(seconds)
        yield
        return
    with time_machine.travel(dt.datetime.now(dt.UTC) + dt.timedelta(seconds=seconds), tick=True):
        yield


def test_a_limit_allows_again_once_its_window_has_passed(store):
    key = f"test:{uuid.uuid4().hex}"
    assert [ratelimit.limit_check(limits={key: 2}, seconds=1) for _ in range(4)] == [True, True, False, False]
    with later(store, 1.2):
        assert ratelimit.limit_check(limits={key: 2}, seconds=1)


def test_every_key_counts_even_when_another_refuses(store):
    ip, email = f"ip:{uuid.uuid4().hex}", f"email:{uuid.uuid4().hex}"
    assert ratelimit.limit_check(limits={ip: 1}, seconds=30)
    assert not ratelimit.limit_check(limits={ip: 1, email: 1}, seconds=30)
    # The refused attempt still used the email's one slot in this window.
    assert not ratelimit.limit_check(limits={email: 1}, seconds=30)


def test_long_keys_are_counted_like_short_ones(store):
    host = "a" * 240 + f".{uuid.uuid4().hex}.example"
    assert ratelimit.limit_check(limits={f"linkback:host:{host}": 1}, seconds=30)
    assert not ratelimit.limit_check(limits={f"linkback:host:{host}": 1}, seconds=30)
    assert ratelimit.limit_check(limits={f"linkback:host:b{host}": 1}, seconds=30)


def test_expired_counters_are_deleted_so_the_table_stays_small(settings, db):
    settings.REDIS_URL = ""
    start = dt.datetime(2030, 1, 1, tzinfo=dt.UTC)
    with time_machine.travel(start, tick=False):
        for batch in range(12):
            ratelimit.limit_check(limits={f"flood:{batch}:{n}": 1 for n in range(100)}, seconds=10)
    assert RateCounter.objects.count() == 1200
    with time_machine.travel(start + dt.timedelta(seconds=11), tick=False):
        for n in range(3):  # each new window clears up to PURGE_BATCH expired counters
            ratelimit.limit_check(limits={f"new:{n}": 1}, seconds=10)
    assert sorted(RateCounter.objects.values_list("key", flat=True)) == ["new:0", "new:1", "new:2"]
