"""Exactly once, the way production runs: two real `manage.py worker` processes sending one
post's mailing (and a scheduled post's, found by the scheduler) to a real SMTP server, with the
start task retried and the post unpublished and published again."""

from __future__ import annotations

import json
import re
import time

import pytest

from tests.interop.smtp import SMTPServer
from tests.live import LiveSite, needs_gunicorn, which_database

SUBSCRIBERS = 300

SETUP = f"""
import json
from datetime import timedelta
from django.utils import timezone
from newsletter import tasks
from newsletter.models import Subscriber
from posts.models import Post
now = timezone.now()
day_ago = now - timedelta(days=1)
Subscriber.objects.bulk_create(
    [Subscriber(email=f"reader{{i}}@example.net", confirmed_at=day_ago) for i in range({SUBSCRIBERS})]
)
live = Post.objects.create(
    title="Live now", slug="live-now", body="Hello", status="published", published_at=now
)
soon = Post.objects.create(
    title="Later", slug="later", body="Soon", status="published", published_at=now + timedelta(seconds=8)
)
tasks.start_mailing.enqueue(live.pk)  # a retried start task
tasks.start_mailing.enqueue(live.pk)
print(json.dumps([live.pk, soon.pk]))
"""

REPUBLISH = """
from django.utils import timezone
from newsletter import tasks
from posts.models import Post
post = Post.objects.get(slug="live-now")
post.status = "draft"; post.save()
post.status = "published"; post.published_at = timezone.now(); post.save()
tasks.start_mailing.enqueue(post.pk)
"""

REPORT = """
import json
from django_tasks_db.models import DBTaskResult
from newsletter.models import Delivery
workers = set()
for result in DBTaskResult.objects.filter(task_path="newsletter.tasks.deliver_post"):
    workers.update(result.worker_ids)
print(json.dumps({
    "states": sorted(set(Delivery.objects.values_list("state", flat=True))),
    "rows": Delivery.objects.count(),
    "workers": len(workers),
}))
"""


def wait_for(predicate, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.25)
    return predicate()


@pytest.mark.skipif(needs_gunicorn() is not None, reason=str(needs_gunicorn()))
def test_two_workers_send_each_post_to_each_subscriber_exactly_once(tmp_path):
    print(f"LiveSite on {which_database()}, two task workers, aiosmtpd on loopback")
    with SMTPServer(keep=False) as smtp:
        env = {
            **smtp.environment(),
            "NEWSLETTER_TICK_SECONDS": "2",
            "NEWSLETTER_BATCH_SIZE": "20",
            "NEWSLETTER_PARALLEL": "4",
        }
        with LiveSite(tmp_path, workers=1, task_worker=2, seed=False, env=env) as site:
            live_pk, soon_pk = json.loads(site.manage("shell", "-c", SETUP).stdout.strip().splitlines()[-1])
            expected = 2 * SUBSCRIBERS
            assert wait_for(lambda: smtp.accepted >= expected, timeout=180), (smtp.accepted, site.log_tail())
            site.manage("shell", "-c", REPUBLISH)
            time.sleep(6)  # three scheduler ticks, the start task and any batch left over
            report = json.loads(site.manage("shell", "-c", REPORT).stdout.strip().splitlines()[-1])
    assert smtp.accepted == expected
    assert len(smtp.accepted_by_rcpt) == SUBSCRIBERS
    assert set(smtp.accepted_by_rcpt.values()) == {2}  # each reader: each post, once
    assert smtp.connections <= expected // 10  # one SMTP connection per batch of 20, not per email
    assert report == {"states": ["sent"], "rows": expected, "workers": 2}, report


@pytest.mark.skipif(needs_gunicorn() is not None, reason=str(needs_gunicorn()))
@pytest.mark.parametrize("store", ["database", "redis"])
def test_subscribe_flood_is_limited_across_gunicorn_workers(tmp_path, store):
    """Three gunicorn workers count one address's sign-ups together (core/ratelimit.py's shared
    store: the database without REDIS_URL, Redis with it)."""
    import uuid

    import redis
    from bs4 import BeautifulSoup

    env = {"NEWSLETTER_SUBSCRIBE_RATE_PER_ADDRESS": "2", "NEWSLETTER_SUBSCRIBE_RATE_PER_IP": "100"}
    if store == "redis":
        redis_url = "redis://127.0.0.1:6379/13"
        try:
            redis.Redis.from_url(redis_url).ping()
        except redis.exceptions.ConnectionError:
            pytest.fail("Redis is needed on 127.0.0.1:6379 for this test (.ci/run starts it)")
        env.update(REDIS_URL=redis_url, CACHE_KEY_PREFIX=f"flood-{uuid.uuid4().hex[:8]}")
    with LiveSite(tmp_path, workers=3, seed=False, env=env) as site:
        page = site.get("/subscribe/")
        cookie = page.cookies()["csrftoken"]
        token = BeautifulSoup(page.text, "html.parser").select_one(
            "form.subscribe-form [name=csrfmiddlewaretoken]"
        )
        statuses = []
        for _ in range(6):
            answer = site.post(
                "/subscribe/email/",
                {"csrfmiddlewaretoken": token["value"], "email": "victim@example.net"},
                headers={"Cookie": f"csrftoken={cookie}"},
            )
            statuses.append(answer.status)
        queued = (
            site.manage(
                "shell",
                "-c",
                "from django_tasks_db.models import DBTaskResult;"
                "print(DBTaskResult.objects.filter(task_path='newsletter.tasks.send_confirmation').count())",
            )
            .stdout.strip()
            .splitlines()[-1]
        )
        log = (site.var / "gunicorn.log").read_text()
        pids = set(re.findall(r"Booting worker with pid: (\d+)", log))
    assert statuses == [302, 302, 429, 429, 429, 429], statuses
    assert queued == "2"
    assert len(pids) == 3
