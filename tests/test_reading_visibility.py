"""Drafts and scheduled posts appear on no public surface until they are due.

Surfaces: home, year/month/day archives, category, tag and author pages, search, sitemap,
previous/next links, related posts, translation links and the sidebar widgets.
"""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from bs4 import BeautifulSoup
from django.utils import timezone
from lxml import etree

from posts.models import Post
from tests.factories import CategoryFactory, PostFactory, TagFactory, UserFactory

UTC = dt.UTC
SITEMAP_NS = {"sm": "http://www.sitemaps.org/schemas/sitemap/0.9"}


@pytest.fixture
def world(db):
    author = UserFactory(username="amara", first_name="Amara", last_name="Okafor")
    ghost = UserFactory(username="ghost", first_name="Ghost", last_name="Writer")
    category = CategoryFactory(name="Water", slug="water")
    tag = TagFactory(name="pumps", slug="pumps")
    common = {"categories": [category], "tags": [tag]}
    older = PostFactory(
        title="Older visible", published_at=dt.datetime(2025, 5, 1, tzinfo=UTC), authors=[author], **common
    )
    visible = PostFactory(
        title="Visible post",
        body="Secret-free pumps text.",
        published_at=dt.datetime(2025, 5, 10, tzinfo=UTC),
        authors=[author],
        **common,
    )
    draft = PostFactory(
        title="Hidden draft",
        slug="hidden-draft",
        body="pumps",
        status=Post.Status.DRAFT,
        published_at=dt.datetime(2025, 5, 11, tzinfo=UTC),
        language="es",
        translation_group=visible.translation_group,
        authors=[author, ghost],
        **common,
    )
    scheduled = PostFactory(
        title="Hidden scheduled",
        slug="hidden-scheduled",
        body="pumps",
        published_at=timezone.now() + dt.timedelta(days=2),
        language="fr",
        translation_group=visible.translation_group,
        authors=[author, ghost],
        **common,
    )
    return {"older": older, "visible": visible, "draft": draft, "scheduled": scheduled}


def public_html(client, url):
    response = client.get(url)
    assert response.status_code == 200, url
    return BeautifulSoup(response.content, "html.parser")


def assert_hidden_in_html(page, hidden):
    """No link, title or text of the page leads to or names a hidden post."""
    hrefs = [a.get("href", "") for a in page.select("a[href], link[href]")]
    text = page.get_text(" ")
    for post in hidden:
        url = post.get_absolute_url()
        assert not any(href.endswith(url) for href in hrefs), (post.title, url)
        assert post.title not in text, post.title
        assert post.slug not in str(page), post.slug


def sitemap_locs(client):
    response = client.get("/sitemap.xml")
    assert response.status_code == 200
    return etree.fromstring(response.content).xpath("//sm:loc/text()", namespaces=SITEMAP_NS)


LIST_SURFACES = [
    "/",
    "/2025/",
    "/2025/05/",
    "/category/water/",
    "/tag/pumps/",
    "/author/amara/",
    "/search/?q=hidden",
    "/search/?q=pumps",
    "/?s=pumps",
]


def test_drafts_and_scheduled_posts_are_on_no_public_surface(client, world):
    hidden = [world["draft"], world["scheduled"]]
    for url in LIST_SURFACES:
        page = public_html(client, url)
        assert_hidden_in_html(page, hidden)

    # Their own archive days and the co-author with nothing published have no page at all.
    for url in ("/2025/05/11/", world["scheduled"].get_absolute_url(), world["draft"].get_absolute_url()):
        assert client.get(url).status_code == 404, url
    assert client.get("/author/ghost/").status_code == 404

    # The newest published post: no next link, no related or translation link to hidden posts.
    page = public_html(client, world["visible"].get_absolute_url())
    assert_hidden_in_html(page, hidden)
    assert page.select_one("nav.post-nav a[rel=next]") is None
    assert [a.get_text() for a in page.select(".related a")] == ["Older visible"]
    assert page.select("nav.translations") == []
    assert page.select("head link[hreflang]") == []

    # Sidebar counts only published posts.
    home = public_html(client, "/")
    assert home.select_one(".widget-categories .count").get_text() == "(2)"
    assert [a.get_text() for a in home.select(".widget-recent a")] == ["Visible post", "Older visible"]
    assert [a["href"] for a in home.select(".widget-archives a")] == ["/2025/05/"]

    locs = sitemap_locs(client)
    for post in hidden:
        assert not any(loc.endswith(post.get_absolute_url()) for loc in locs)
    assert not any(loc.endswith("/author/ghost/") for loc in locs)


def test_a_scheduled_post_appears_everywhere_once_its_time_comes(client, world):
    scheduled, visible = world["scheduled"], world["visible"]
    url = scheduled.get_absolute_url()
    with time_machine.travel(scheduled.published_at + dt.timedelta(minutes=1), tick=False):
        assert client.get(url).status_code == 200
        assert public_html(client, "/").select_one("article.post-card h2 a").get_text() == "Hidden scheduled"
        search = public_html(client, "/search/?q=hidden")
        assert [a.get_text() for a in search.select("article.post-card h2 a")] == ["Hidden scheduled"]
        page = public_html(client, visible.get_absolute_url())
        assert page.select_one("nav.post-nav a[rel=next]")["href"] == url
        assert [a["href"] for a in page.select("nav.translations a")] == [url]
        assert public_html(client, "/author/ghost/").h1.get_text(strip=True) == "Ghost Writer"
        assert any(loc.endswith(url) for loc in sitemap_locs(client))
        # The draft stays hidden whatever the clock says.
        assert_hidden_in_html(page, [world["draft"]])
        assert client.get(world["draft"].get_absolute_url()).status_code == 404
