"""WebSub: publishing a post pings the hub for every feed it appears in, from the task worker."""

from __future__ import annotations

from urllib.parse import parse_qs

import pytest

from tests import factories
from tests.interop.loopback import LoopbackHTTP, Reply
from tests.interop.worker import run_worker


@pytest.fixture
def hub(settings):
    with LoopbackHTTP() as server:
        server.routes["/hub"] = Reply(202, b"")
        settings.WEBSUB_HUB_URL = server.url("/hub")
        settings.LINKBACK_ALLOWED_HOSTS = [server.host]
        settings.LINKBACK_ALLOWED_PORTS = [80, 443, 8080, server.port]
        yield server


@pytest.mark.django_db(transaction=True)
def test_publishing_pings_the_hub_for_each_feed_of_the_post(hub, settings):
    category = factories.CategoryFactory(slug="water")
    tag = factories.TagFactory(slug="pumps")
    author = factories.UserFactory(username="amara")
    factories.PostFactory(authors=[author], categories=[category], tags=[tag], body="No links here.")
    run_worker()
    pings = [parse_qs(r.body.decode()) for r in hub.requests if r.path == "/hub"]
    assert all(p["hub.mode"] == ["publish"] for p in pings)
    topics = {p["hub.url"][0] for p in pings}
    origin = f"{settings.SITE_SCHEME}://{settings.SITE_DOMAIN}"
    assert {
        origin + "/feed/",
        origin + "/feed/atom/",
        origin + "/category/water/feed/",
        origin + "/tag/pumps/feed/",
        origin + "/author/amara/feed/",
    } <= topics
    assert len(pings) == len(topics)


@pytest.mark.django_db(transaction=True)
def test_drafts_do_not_ping_the_hub(hub):
    factories.PostFactory(status="draft", published_at=None)
    run_worker()
    assert [r for r in hub.requests if r.path == "/hub"] == []
