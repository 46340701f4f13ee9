"""The shared store behind every limit (core/ratelimit.py): windows end, old counters go, slots
are held once and freed. tests/test_limits_shared.py proves it across gunicorn workers."""

from __future__ import annotations

import contextlib
import datetime as dt
import time
import uuid

import pytest
import time_machine

from core import ratelimit
from core.models import RateCounter
from tests.test_limits_shared import REDIS_DB_URL, redis_unavailable


@pytest.fixture(params=["database", "redis"])
def store(request, settings, db):
    if request.param == "redis":
        reason = redis_unavailable()
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


def test_a_slot_is_held_once_and_freed_on_release(store):
    name = f"verify-{uuid.uuid4().hex}"
    with ratelimit.slot_hold(name=name, limit=2, seconds=30) as first:
        with (
            ratelimit.slot_hold(name=name, limit=2, seconds=30) as second,
            ratelimit.slot_hold(name=name, limit=2, seconds=30) as third,
        ):
            assert (first, second, third) == (True, True, False)
        with ratelimit.slot_hold(name=name, limit=2, seconds=30) as again:
            assert again  # the second and third were released


def test_a_dead_holders_slot_comes_back_after_its_lease(store):
    name = f"verify-{uuid.uuid4().hex}"
    dead = ratelimit.slot_hold(name=name, limit=1, seconds=1)
    assert dead.__enter__()  # a process that took the slot and died without releasing it
    with ratelimit.slot_hold(name=name, limit=1, seconds=30) as blocked:
        assert not blocked
    with later(store, 1.2):
        taken = ratelimit.slot_hold(name=name, limit=1, seconds=30)
        assert taken.__enter__()
        dead.__exit__(None, None, None)  # the late release must not free the new holder's slot
        with ratelimit.slot_hold(name=name, limit=1, seconds=30) as third:
            assert not third
        taken.__exit__(None, None, None)
