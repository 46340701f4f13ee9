"""The inbox as it runs: gunicorn with several worker processes. A flood of follows from one
domain is limited across processes (the counter is a database row, not a process's memory)."""

from __future__ import annotations

import json

import pytest

from tests.interop.activitypub_peer import Peer
from tests.live import LiveSite, needs_gunicorn, which_database


def test_a_follow_flood_is_limited_across_gunicorn_workers(tmp_path):
    if reason := needs_gunicorn():
        pytest.skip(reason)
    print(f"follow flood against 3 gunicorn workers on {which_database()}")
    with Peer() as peer:
        names = [f"bot{i}" for i in range(12)]
        for name in names:
            peer.actor(name)
        site = LiveSite(
            tmp_path,
            workers=3,
            seed=False,
            env={"FEDERATION_ALLOWED_HOSTS": peer.host, "FEDERATION_FOLLOWS_PER_DOMAIN": "5"},
        )
        site.env["SITE_DOMAIN"] = site.host
        with site:
            statuses = []
            for name in names:
                follow = {
                    "id": peer.new_id(name),
                    "type": "Follow",
                    "actor": peer.actor_id(name),
                    "object": f"{site.origin}/",
                }
                body, headers = peer.signed(name, follow, host=site.host)
                response = site.post("/inbox", body, headers=headers)  # Content-Type is among them
                statuses.append(response.status)
            followers = json.loads(site.get("/ap/blog/followers").body)["totalItems"]
    assert statuses.count(202) == 5, statuses
    assert statuses.count(429) == 7, statuses
    assert followers == 5
