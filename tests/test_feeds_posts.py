"""Post feeds as a feed reader sees them: site, category (with sub-categories), tag, author,
per language; items, authors, full content, images, and a fixed number of queries."""

from __future__ import annotations

import datetime as dt

import feedparser
import pytest
from bs4 import BeautifulSoup
from django.utils import timezone
from lxml import etree

from posts.models import Post
from tests import factories
from tests.test_feeds_validation import ATOM, NS, build_blog, check_feed


@pytest.fixture
def blog(db, make_comment):
    return build_blog(make_comment)


ORIGIN = "http://127.0.0.1:8000"


def titles(client, url) -> list[str]:
    return [entry.title for entry in check_feed(client.get(url)).entries]


@pytest.mark.parametrize("suffix", ["feed/", "feed/atom/"])
def test_site_feed_holds_the_20_newest_posts_newest_first(client, db, suffix):
    author = factories.UserFactory(username="writer", first_name="Wanjiru", last_name="Kamau")
    now = timezone.now()
    for n in range(25):
        factories.PostFactory(
            title=f"Post number {n}",
            slug=f"post-{n}",
            authors=[author],
            published_at=now - dt.timedelta(hours=n),
        )
    parsed = check_feed(client.get("/" + suffix))
    assert [e.title for e in parsed.entries] == [f"Post number {n}" for n in range(20)]
    first = parsed.entries[0]
    post = Post.objects.get(slug="post-0")
    assert first.link == ORIGIN + post.get_absolute_url()
    assert first.id == ORIGIN + post.get_absolute_url()
    assert first.author == "Wanjiru Kamau"
    assert parsed.feed.title == "Sector Learning"
    assert parsed.feed.link == ORIGIN + "/"


def test_rss_item_carries_every_author_categories_tags_dates_and_full_content(client, blog):
    channel = etree.fromstring(client.get("/feed/").content).find("channel")
    item = next(i for i in channel.findall("item") if i.findtext("title") == "Pumps that last")
    assert [c.text for c in item.findall("dc:creator", NS)] == ["Amara Okafor", "Luis Pérez"]
    assert sorted(c.text for c in item.findall("category")) == ["Wells", "field notes"]
    lead = blog["lead"]
    assert item.findtext("guid") == ORIGIN + lead.get_absolute_url()
    assert item.findtext("description") == lead.summary
    content = item.findtext("content:encoded", namespaces=NS)
    # Relative links and images in the body become absolute; fragments point at the post.
    assert f'href="{ORIGIN}/2020/01/02/older/"' in content
    assert f'src="{ORIGIN}/media/pump.png"' in content
    assert f'href="{ORIGIN}{lead.get_absolute_url()}#end"' in content
    parsed = feedparser.parse(client.get("/feed/").content)
    entry = next(e for e in parsed.entries if e.title == "Pumps that last")
    # feedparser re-serializes the HTML; the text and the links must survive unchanged.
    assert (
        BeautifulSoup(entry.content[0].value, "html.parser").get_text()
        == BeautifulSoup(content, "html.parser").get_text()
    )
    assert f"{ORIGIN}/media/pump.png" in entry.content[0].value
    assert entry.published_parsed is not None


def test_atom_entry_carries_every_author_categories_dates_and_html_content(client, blog):
    parsed = check_feed(client.get("/feed/atom/"))
    entry = next(e for e in parsed.entries if e.title == "Pumps that last")
    assert [a["name"] for a in entry.authors] == ["Amara Okafor", "Luis Pérez"]
    assert entry.authors[0]["href"] == f"{ORIGIN}/author/amara/"
    assert sorted(t.term for t in entry.tags) == ["Wells", "field notes"]
    assert entry.published_parsed and entry.updated_parsed
    assert entry.content[0].type == "text/html"
    assert "<a href" in entry.content[0].value and f"{ORIGIN}/media/pump.png" in entry.content[0].value
    assert entry.summary == blog["lead"].summary


def test_featured_image_becomes_media_content_and_atom_enclosure(client, blog):
    lead = blog["lead"]
    Post.objects.filter(pk=lead.pk).update(featured_image="featured/pump.jpg", featured_image_alt="A pump")
    item = next(
        i
        for i in etree.fromstring(client.get("/feed/").content).iter("item")
        if i.findtext("title") == "Pumps that last"
    )
    media = item.find("media:content", NS)
    assert media.get("url") == f"{ORIGIN}/media/featured/pump.jpg"
    assert media.get("type") == "image/jpeg" and media.get("medium") == "image"
    assert media.findtext("media:description", namespaces=NS) == "A pump"
    entry = next(
        e
        for e in etree.fromstring(client.get("/feed/atom/").content).iter(f"{ATOM}entry")
        if e.findtext(f"{ATOM}title") == "Pumps that last"
    )
    enclosure = entry.find(f"{ATOM}link[@rel='enclosure']")
    assert enclosure.get("href") == f"{ORIGIN}/media/featured/pump.jpg"
    assert check_feed(client.get("/feed/")).entries


def test_category_feed_includes_sub_categories(client, blog):
    assert titles(client, "/category/water/feed/") == ["Pumps that last", "Water committees"]
    assert titles(client, "/category/wells/feed/atom/") == ["Pumps that last"]
    parsed = check_feed(client.get("/category/water/feed/"))
    assert parsed.feed.link == f"{ORIGIN}/category/water/"
    assert "Water" in parsed.feed.title


def test_tag_and_author_feeds(client, blog):
    assert titles(client, "/tag/field-notes/feed/") == ["Pumps that last"]
    assert titles(client, "/author/luis/feed/") == ["Pumps that last", "Bombas que duran"]
    assert titles(client, "/author/amara/feed/atom/") == ["Pumps that last", "Water committees"]
    parsed = check_feed(client.get("/author/luis/feed/atom/"))
    assert "Luis Pérez" in parsed.feed.title


def test_language_feed(client, blog):
    parsed = check_feed(client.get("/feed/?lang=es"))
    assert [e.title for e in parsed.entries] == ["Bombas que duran"]
    assert parsed.feed.language == "es"
    assert "(español)" in parsed.feed.title
    root = etree.fromstring(client.get("/feed/atom/?lang=es").content)
    assert root.get("{http://www.w3.org/XML/1998/namespace}lang") == "es"
    assert root.find(f"{ATOM}link[@rel='self']").get("href") == f"{ORIGIN}/feed/atom/?lang=es"
    assert titles(client, "/category/sanitation/feed/?lang=en") == []


@pytest.mark.parametrize(
    "url", ["/feed/?lang=xx", "/category/nope/feed/", "/tag/nope/feed/atom/", "/author/nobody/feed/"]
)
def test_unknown_feed_is_404(client, blog, url):
    assert client.get(url).status_code == 404


def test_excerpt_only_when_full_text_is_off(client, blog, settings):
    settings.FEED_FULL_TEXT = False
    channel = etree.fromstring(client.get("/feed/").content).find("channel")
    assert channel.find("item/content:encoded", NS) is None
    assert channel.findtext("item/description") == blog["lead"].summary
    atom = etree.fromstring(client.get("/feed/atom/").content)
    assert atom.find(f"{ATOM}entry/{ATOM}content") is None
    assert atom.find(f"{ATOM}entry/{ATOM}summary") is not None


def test_websub_hub_is_advertised_when_configured(client, blog, settings):
    assert b'rel="hub"' not in client.get("/feed/").content
    settings.WEBSUB_HUB_URL = "https://hub.example.net/"
    rss = etree.fromstring(client.get("/feed/").content)
    assert rss.find("channel/atom:link[@rel='hub']", NS).get("href") == "https://hub.example.net/"
    atom = etree.fromstring(client.get("/tag/field-notes/feed/atom/").content)
    assert atom.find(f"{ATOM}link[@rel='hub']").get("href") == "https://hub.example.net/"
    assert atom.find(f"{ATOM}link[@rel='self']").get("href") == f"{ORIGIN}/tag/field-notes/feed/atom/"


def _add_posts(prefix: str, n: int) -> None:
    """n published posts, each with three authors, categories and tags (c0, t1 and co2 among them)."""
    now = timezone.now()
    users = [factories.UserFactory(username=f"co{i}") for i in range(3)]
    for i in range(n):
        factories.PostFactory(
            slug=f"{prefix}-{i}",
            published_at=now - dt.timedelta(minutes=i + 1),
            authors=users,
            categories=[
                factories.CategoryFactory(slug="c0"),
                factories.CategoryFactory(slug=f"{prefix}c{i}"),
            ],
            tags=[factories.TagFactory(slug="t1"), factories.TagFactory(slug=f"{prefix}t{i}")],
        )


# Feeds only read: no request transaction (core.reads), so no SAVEPOINT/RELEASE pair in the counts.
@pytest.mark.parametrize(
    ("url", "queries"),
    [
        ("/feed/", 4),
        ("/feed/atom/?lang=en", 4),
        ("/category/c0/feed/", 6),
        ("/tag/t1/feed/atom/", 5),
        ("/author/co2/feed/", 5),
    ],
)
def test_post_feed_query_count_is_constant(
    client, db, django_assert_num_queries, url, queries, uncached_render
):
    # Measures the uncached render (the fragment cache adds a lookup of item ids on a cold start).
    _add_posts("few", 2)
    with django_assert_num_queries(queries):
        assert len(check_feed(client.get(url)).entries) == 2
    _add_posts("many", 30)
    with django_assert_num_queries(queries):
        assert len(check_feed(client.get(url)).entries) == 20


def test_an_items_categories_come_before_its_tags_each_by_name_and_authors_in_byline_order(client, db):
    """Each item's terms and authors are gathered for the whole feed at once (feeds.posts):
    every item still lists its own, in the order the post page shows them."""
    ana = factories.UserFactory(username="ana", first_name="Ana", last_name="Zubiri")
    bo = factories.UserFactory(username="bo", first_name="Bo", last_name="Andersen")
    first = factories.PostFactory(
        title="First",
        authors=[ana, bo],
        categories=[factories.CategoryFactory(name="Wells"), factories.CategoryFactory(name="Audits")],
        tags=[factories.TagFactory(name="zinc"), factories.TagFactory(name="boreholes")],
    )
    earlier = first.published_at - dt.timedelta(days=1)
    factories.PostFactory(title="Second", authors=[bo], published_at=earlier)
    channel = etree.fromstring(client.get("/feed/").content).find("channel")
    items = {item.findtext("title"): item for item in channel.findall("item")}
    assert [c.text for c in items["First"].findall("category")] == ["Audits", "Wells", "boreholes", "zinc"]
    assert [c.text for c in items["First"].findall("dc:creator", NS)] == ["Ana Zubiri", "Bo Andersen"]
    assert [c.text for c in items["Second"].findall("category")] == []
    assert [c.text for c in items["Second"].findall("dc:creator", NS)] == ["Bo Andersen"]
