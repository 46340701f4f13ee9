"""Query strings can't make the page cache grow without bound (core/cache/pagecache.py).

Tracking parameters (utm_*, fbclid, gclid, …) share the page without them and never reach it;
a parameter no view reads is answered but never stored; each client adds a bounded number of
pages with a query string (searches, comment pages); made-up comment page numbers keep no copies
of the thread. A page that was stored shows as a hit on the next request for it.
tests/test_cache_live.py floods a real gunicorn on Redis and counts the keys there.
"""

from __future__ import annotations

import pytest
from bs4 import BeautifulSoup
from django.test import Client

from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def site(author):
    post = factories.PostFactory(title="Pumps that keep working", authors=[author])
    return {"post": post}


def test_tracking_parameters_share_the_page_without_them_and_never_reach_it(client, site):
    first = client.get("/?utm_source=newsletter&utm_medium=email")
    assert first["X-Page-Cache"] == "miss"
    for query in ("utm_source=mastodon", "fbclid=IwAR0abc", "gclid=x1&utm_campaign=spring", "ref=hn", ""):
        response = Client().get(f"/?{query}" if query else "/")
        assert response["X-Page-Cache"] == "hit", query
        # What the page says about its own address names no tracking tag (the language form's
        # "next", links to page 2): the shared copy is the page without them.
        page = BeautifulSoup(response.content, "html.parser")
        assert page.select_one("input[name=next]")["value"] == "/"
        assert "utm_" not in response.content.decode() and "fbclid" not in response.content.decode()


def test_parameters_the_site_reads_still_make_their_own_pages(client, site, make_comment):
    assert "Pumps" in client.get("/search/?q=pumps&utm_source=x").content.decode()
    assert client.get("/search/?utm_source=y&q=pumps")["X-Page-Cache"] == "hit"
    other = client.get("/search/?q=boreholes")
    assert other["X-Page-Cache"] == "miss"
    heading = BeautifulSoup(other.content, "html.parser").select_one("h1").get_text()
    assert "boreholes" in heading and "pumps" not in heading


def test_unknown_parameters_are_answered_but_never_stored(client, site):
    for _ in range(3):
        response = client.get("/?session=abc&x=1")
        assert response.status_code == 200
        assert "X-Page-Cache" not in response  # rendered each time, kept nowhere
        assert "Pumps that keep working" in response.content.decode()


def test_one_client_adds_a_bounded_number_of_query_variants(settings, site):
    settings.PAGE_CACHE_VARIANTS_PER_CLIENT = 5
    flooder = Client(REMOTE_ADDR="198.51.100.9")
    for n in range(12):
        assert flooder.get(f"/search/?q=pump{n}").status_code == 200
    stored = [n for n in range(12) if flooder.get(f"/search/?q=pump{n}").get("X-Page-Cache") == "hit"]
    assert len(stored) == 5
    # Pages without a query string don't count, and other readers still get theirs stored.
    assert flooder.get("/")["X-Page-Cache"] == "miss" and flooder.get("/")["X-Page-Cache"] == "hit"
    reader = Client(REMOTE_ADDR="203.0.113.4")
    reader.get("/search/?q=kiosk")
    assert reader.get("/search/?q=kiosk")["X-Page-Cache"] == "hit"


def test_made_up_comment_page_numbers_keep_no_copies_of_the_thread(redis_cache, site, make_comment):
    redis, prefix = redis_cache
    post = site["post"]
    make_comment(post, comment="The only thread.")
    reader = Client()
    reader.force_login(factories.UserFactory(username="rafa", is_staff=False))  # fragments, no page cache
    url = post.get_absolute_url()
    reader.get(url)

    def thread_keys() -> int:
        return sum(1 for _ in redis.scan_iter(f"{prefix}:*:frag:*:thread:*"))

    before = thread_keys()
    for n in list(range(2, 40)) + ["01", "001", "0"]:
        response = reader.get(f"{url}?cpage={n}")
        assert response.status_code == 200 and "The only thread." in response.content.decode()
    assert thread_keys() - before <= 1  # ?cpage=1 is a real page; the others are not
