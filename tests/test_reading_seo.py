"""What search engines and link previews read: titles, descriptions, canonical links, OpenGraph
and Twitter cards, sitemap.xml (validated against the sitemaps.org XSD) and robots.txt."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from lxml import etree

from posts.models import AuthorProfile, Post
from tests.factories import CategoryFactory, PostFactory, TagFactory, UserFactory

UTC = dt.UTC
ORIGIN = "http://127.0.0.1:8000"
XSD = Path(__file__).parent / "data" / "sitemap.xsd"
NS = {"sm": "http://www.sitemaps.org/schemas/sitemap/0.9"}


@pytest.fixture
def site(db):
    amara = UserFactory(username="amara", first_name="Amara", last_name="Okafor")
    AuthorProfile.objects.filter(user=amara).update(bio="Writes about water.")
    water = CategoryFactory(name="Water", slug="water", description="Pumps and pipes.")
    rural = CategoryFactory(name="Rural", slug="rural", parent=water)
    CategoryFactory(name="Empty", slug="empty")
    pumps = TagFactory(name="pumps", slug="pumps")
    TagFactory(name="unused", slug="unused")
    old = PostFactory(
        title="Old water post",
        published_at=dt.datetime(2024, 6, 1, tzinfo=UTC),
        categories=[water],
        tags=[pumps],
        authors=[amara],
    )
    new = PostFactory(
        title="New rural post",
        excerpt="A short summary of the new post.",
        published_at=dt.datetime(2025, 6, 1, tzinfo=UTC),
        categories=[rural],
        authors=[amara],
    )
    return {"old": old, "new": new}


def head(client, url):
    response = client.get(url)
    assert response.status_code == 200, url
    return BeautifulSoup(response.content, "html.parser").head


def meta(doc, attr, name):
    tag = doc.select_one(f'meta[{attr}="{name}"]')
    return tag["content"] if tag else None


@pytest.mark.parametrize(
    ("url", "title", "description"),
    [
        ("/", "Sector Learning", None),
        ("/category/water/", "Water · Sector Learning", "Pumps and pipes."),
        ("/tag/pumps/", "pumps · Sector Learning", "Posts tagged pumps."),
        ("/author/amara/", "Amara Okafor · Sector Learning", "Writes about water."),
        ("/2025/", "2025 · Sector Learning", "Posts published in 2025."),
        ("/2025/06/", "June 2025 · Sector Learning", "Posts published in June 2025."),
        ("/search/?q=water", "Search results for “water” · Sector Learning", None),
    ],
)
def test_every_list_page_has_its_title_description_canonical_and_cards(client, site, url, title, description):
    doc = head(client, url)
    assert doc.title.get_text() == title
    if description:
        assert meta(doc, "name", "description") == description
        assert meta(doc, "property", "og:description") == description
        assert meta(doc, "name", "twitter:description") == description
    else:
        assert meta(doc, "name", "description")
    canonical = doc.select_one("link[rel=canonical]")["href"]
    assert canonical == ORIGIN + url.split("?")[0]
    assert meta(doc, "property", "og:url") == canonical
    assert meta(doc, "property", "og:title") == title
    assert meta(doc, "property", "og:type") == "website"
    assert meta(doc, "name", "twitter:card") == "summary"


def test_post_page_has_article_metadata(client, site):
    post = site["new"]
    doc = head(client, post.get_absolute_url())
    assert doc.title.get_text() == "New rural post · Sector Learning"
    assert meta(doc, "name", "description") == "A short summary of the new post."
    assert doc.select_one("link[rel=canonical]")["href"] == ORIGIN + post.get_absolute_url()
    assert meta(doc, "property", "og:type") == "article"
    assert meta(doc, "property", "og:title") == "New rural post"
    assert meta(doc, "property", "article:published_time") == "2025-06-01T00:00:00+00:00"
    assert meta(doc, "name", "twitter:title") == "New rural post"


def test_paginated_lists_have_rel_prev_and_next_in_the_head(client, site, author):
    for n in range(25):
        PostFactory(published_at=dt.datetime(2023, 1, 1, tzinfo=UTC) + dt.timedelta(days=n), authors=[author])
    doc = head(client, "/page/2/")
    assert doc.select_one("link[rel=prev]")["href"] == f"{ORIGIN}/"
    assert doc.select_one("link[rel=next]")["href"] == f"{ORIGIN}/page/3/"
    assert doc.title.get_text() == "Page 2 · Sector Learning"


def sitemap(client):
    response = client.get("/sitemap.xml")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/xml")
    return etree.fromstring(response.content)


def test_sitemap_validates_against_the_sitemaps_org_schema(client, site):
    schema = etree.XMLSchema(etree.parse(str(XSD)))
    document = sitemap(client)
    schema.assertValid(document)


def test_an_empty_site_still_has_a_valid_sitemap(client, db):
    schema = etree.XMLSchema(etree.parse(str(XSD)))
    document = sitemap(client)
    schema.assertValid(document)
    assert document.xpath("//sm:loc/text()", namespaces=NS) == [f"{ORIGIN}/"]


def test_the_schema_test_would_catch_an_invalid_sitemap():
    schema = etree.XMLSchema(etree.parse(str(XSD)))
    bad = etree.fromstring(
        b'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        b"<url><loc>http://example.org/</loc><lastmod>yesterday</lastmod></url></urlset>"
    )
    assert not schema.validate(bad)


def test_sitemap_lists_posts_categories_tags_and_authors_with_lastmod(client, site):
    old, new = site["old"], site["new"]
    Post.objects.filter(pk=old.pk).update(updated_at=dt.datetime(2024, 6, 2, 9, tzinfo=UTC))
    Post.objects.filter(pk=new.pk).update(updated_at=dt.datetime(2025, 6, 3, 9, tzinfo=UTC))
    entries = {
        url.findtext("sm:loc", namespaces=NS): url.findtext("sm:lastmod", namespaces=NS)
        for url in sitemap(client).findall("sm:url", NS)
    }
    # The empty category and the unused tag are left out; a parent category is as fresh as the
    # newest post in it or its sub-categories.
    assert entries == {
        f"{ORIGIN}/": "2025-06-03",
        ORIGIN + old.get_absolute_url(): "2024-06-02",
        ORIGIN + new.get_absolute_url(): "2025-06-03",
        f"{ORIGIN}/category/water/": "2025-06-03",
        f"{ORIGIN}/category/rural/": "2025-06-03",
        f"{ORIGIN}/tag/pumps/": "2024-06-02",
        f"{ORIGIN}/author/amara/": "2025-06-03",
    }


def test_robots_txt_points_at_the_sitemap(client, db):
    response = client.get("/robots.txt")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    lines = response.content.decode().splitlines()
    assert "User-agent: *" in lines
    assert f"Sitemap: {ORIGIN}/sitemap.xml" in lines
    assert "Disallow: /admin/" in lines
