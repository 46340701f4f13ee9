"""Feeds over HTTP: conditional GET (304), cache and content-type headers, WordPress feed URL
redirects, hostile content staying well-formed, and autodiscovery links on HTML pages."""

from __future__ import annotations

import datetime as dt

import feedparser
import pytest
import time_machine
from bs4 import BeautifulSoup
from django.template import engines
from django.utils import timezone
from lxml import etree

from comments.models import Comment
from tests import factories
from tests.test_feeds_validation import ATOM, NS, build_blog, check_feed


@pytest.fixture
def blog(db, make_comment):
    return build_blog(make_comment)


FEEDS = ["/feed/", "/feed/atom/", "/comments/feed/", "/comments/feed/atom/"]


@pytest.mark.parametrize("url", FEEDS)
def test_headers_suit_a_cdn_and_name_the_feed_type(client, blog, url):
    response = client.get(url)
    assert response["Cache-Control"] == "public, max-age=300"
    expected = "application/atom+xml" if url.endswith("atom/") else "application/rss+xml"
    assert response["Content-Type"] == f"{expected}; charset=utf-8"
    assert response["ETag"].startswith('"') and response["Last-Modified"].endswith("GMT")
    assert response.content.startswith(b'<?xml version="1.0" encoding="utf-8"?>')
    # The body never depends on the reader's Accept-Language, so a CDN keeps a single copy.
    assert "accept-language" not in response.get("Vary", "").lower()


@pytest.mark.parametrize("url", FEEDS)
def test_conditional_get_answers_304_without_a_body(client, blog, url):
    first = client.get(url)
    again = client.get(url, headers={"if-none-match": first["ETag"]})
    assert again.status_code == 304 and again.content == b""
    assert again["ETag"] == first["ETag"]
    assert again["Cache-Control"] == "public, max-age=300"
    since = client.get(url, headers={"if-modified-since": first["Last-Modified"]})
    assert since.status_code == 304 and since.content == b""
    stale = client.get(url, headers={"if-none-match": '"something-else"'})
    assert stale.status_code == 200 and stale.content == first.content


def test_304_for_a_gzipped_feed(client, blog):
    zipped = client.get("/feed/", headers={"accept-encoding": "gzip"})
    assert zipped["Content-Encoding"] == "gzip"
    again = client.get("/feed/", headers={"accept-encoding": "gzip", "if-none-match": zipped["ETag"]})
    assert again.status_code == 304


def test_304_costs_only_the_state_query(client, blog, django_assert_num_queries, uncached_render):
    # Measures the feed view's own 304 (the page cache answers a cached feed's 304 with none).
    etag = client.get("/category/water/feed/")["ETag"]
    # Category, sub-categories, state aggregate (no SAVEPOINT/RELEASE: feeds only read): no items.
    with django_assert_num_queries(3):
        assert client.get("/category/water/feed/", headers={"if-none-match": etag}).status_code == 304


def test_a_new_post_changes_etag_and_last_modified(client, blog):
    before = client.get("/feed/")
    comments_before = client.get("/comments/feed/")
    with time_machine.travel(timezone.now() + dt.timedelta(minutes=5), tick=False):
        factories.PostFactory(title="Fresh news", slug="fresh-news", published_at=timezone.now())
        after = client.get("/feed/", headers={"if-none-match": before["ETag"]})
        assert after.status_code == 200
        assert after["ETag"] != before["ETag"]
        assert after["Last-Modified"] != before["Last-Modified"]
        assert feedparser.parse(after.content).entries[0].title == "Fresh news"
        since = client.get("/feed/", headers={"if-modified-since": before["Last-Modified"]})
        assert since.status_code == 200
        # The comment feeds did not change.
        unchanged = client.get("/comments/feed/", headers={"if-none-match": comments_before["ETag"]})
        assert unchanged.status_code == 304


def test_a_scheduled_post_going_live_changes_the_feed(client, blog):
    before = client.get("/feed/")
    with time_machine.travel(timezone.now() + dt.timedelta(days=3), tick=False):
        after = client.get("/feed/", headers={"if-modified-since": before["Last-Modified"]})
        assert after.status_code == 200
        assert after["ETag"] != before["ETag"]
        assert feedparser.parse(after.content).entries[0].title == "Scheduled surprise"


def test_approving_an_old_comment_changes_etag_and_last_modified(client, blog):
    before = client.get("/comments/feed/")
    with time_machine.travel(timezone.now() + dt.timedelta(minutes=5), tick=False):
        held = Comment.objects.get(user_name="Held Back")
        held.is_public = True
        held.save()
        # A client revalidating by date alone still sees the newly visible comment.
        after = client.get("/comments/feed/", headers={"if-modified-since": before["Last-Modified"]})
        assert after.status_code == 200
        assert after["ETag"] != before["ETag"]
        assert "Held Back" in [e.author for e in feedparser.parse(after.content).entries]
        again = client.get("/comments/feed/", headers={"if-modified-since": after["Last-Modified"]})
        assert again.status_code == 304


def test_a_new_comment_changes_etag_and_last_modified(client, blog, make_comment):
    url = blog["lead"].get_absolute_url() + "feed/atom/"
    before = client.get(url)
    site_before = client.get("/comments/feed/")
    with time_machine.travel(timezone.now() + dt.timedelta(minutes=5), tick=False):
        make_comment(blog["lead"], user_name="Newcomer", comment="First time here", when=timezone.now())
        for feed_url, old in ((url, before), ("/comments/feed/", site_before)):
            after = client.get(feed_url, headers={"if-none-match": old["ETag"]})
            assert after.status_code == 200
            assert after["ETag"] != old["ETag"]
            assert after["Last-Modified"] != old["Last-Modified"]
            assert feedparser.parse(after.content).entries[0].author == "Newcomer"


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("/feed/rss/", "/feed/"),
        ("/feed/rss2/", "/feed/"),
        ("/feed/rdf/", "/feed/"),
        ("/comments/feed/rss2/", "/comments/feed/"),
        ("/?feed=rss2", "/feed/"),
        ("/?feed=rss", "/feed/"),
        ("/?feed=atom", "/feed/atom/"),
        ("/?feed=comments-rss2", "/comments/feed/"),
        ("/?feed=comments-atom", "/comments/feed/atom/"),
        ("/feed/rss2/?lang=es", "/feed/?lang=es"),
        ("/?feed=atom&lang=es", "/feed/atom/?lang=es"),
    ],
)
def test_wordpress_feed_urls_redirect_permanently(client, blog, old, new):
    response = client.get(old)
    assert response.status_code == 301
    assert response["Location"] == new
    check_feed(client.get(new))


def test_unknown_wordpress_feed_value_shows_the_home_page(client, blog):
    response = client.get("/?feed=bogus")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")


def test_content_language_names_the_feed_language(client, blog):
    assert client.get("/feed/?lang=es", headers={"accept-language": "fr"})["Content-Language"] == "es"
    assert client.get("/feed/atom/", headers={"accept-language": "fr"})["Content-Language"] == "en"
    post_feed = client.get(blog["spanish"].get_absolute_url() + "feed/")
    assert post_feed["Content-Language"] == "es"


def test_feeds_refuse_other_methods(client, blog):
    assert client.post("/feed/").status_code == 405
    assert client.head("/feed/atom/").status_code == 200


HOSTILE = "Ends ]]> & <b>bold</b> \x01\x08\x0b\x0c\x1b\x1f mid \ufffe\uffff end — مرحبا بالعالم \u202eRTL"
FORBIDDEN = ["\x01", "\x08", "\x0b", "\x0c", "\x1b", "\x1f", "\ufffe", "\uffff"]


def test_hostile_content_stays_well_formed(client, db, make_comment):
    author = factories.UserFactory(username="hostile", first_name="Evil\x07", last_name="]]>&")
    category = factories.CategoryFactory(name="Cat\x02 ]]>", slug="hostile-cat")
    post = factories.PostFactory(
        title=HOSTILE,
        slug="hostile",
        excerpt=HOSTILE,
        body=f"{HOSTILE}\n\n<p>{HOSTILE}</p>\n\n```\n{HOSTILE}\n```\n",
        authors=[author],
        categories=[category],
    )
    make_comment(post, user_name="Name \x01\x0b ]]> & مرحبا", comment=HOSTILE)
    urls = [
        "/feed/", "/feed/atom/", "/comments/feed/", "/comments/feed/atom/",
        "/category/hostile-cat/feed/", "/author/hostile/feed/atom/",
        post.get_absolute_url() + "feed/", post.get_absolute_url() + "feed/atom/",
    ]  # fmt: skip
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, url
        text = response.content.decode("utf-8")
        for char in FORBIDDEN:
            assert char not in text, f"{char!r} in {url}"
        root = etree.fromstring(response.content)  # strict: raises on malformed XML
        parsed = check_feed(response)
        title = parsed.entries[0].title
        assert "Ends ]]> &" in title, url
        assert "مرحبا بالعالم \u202eRTL" in title, url
        assert "\u202e" in text
        if url == "/feed/":
            item = root.find("channel/item")
            # The plain-text summary arrives as text, never as markup.
            description = BeautifulSoup(item.findtext("description"), "html.parser")
            assert description.find("b") is None and "<b>bold</b>" in description.get_text()
            assert item.findtext("dc:creator", namespaces=NS) == "Evil ]]>&"
            assert item.findtext("category") == "Cat ]]>"
        if url == "/feed/atom/":
            assert root.find(f"{ATOM}entry/{ATOM}content").text.count("]]&gt;") >= 2


def test_every_html_page_links_the_site_feeds(client, blog):
    for url in ("/", blog["lead"].get_absolute_url(), "/category/water/"):
        soup = BeautifulSoup(client.get(url).content, "html.parser")
        alternates = [
            (link["type"], link["href"])
            for link in soup.find_all("link", rel="alternate")
            if link.get("type")
        ]
        assert ("application/rss+xml", "/feed/") in alternates, url
        assert ("application/atom+xml", "/feed/atom/") in alternates, url


def test_taxonomy_and_post_pages_also_link_their_own_feeds(client, blog):
    post_url = blog["lead"].get_absolute_url()
    for url, feed in (("/category/water/", "/category/water/feed/"), (post_url, post_url + "feed/")):
        soup = BeautifulSoup(client.get(url).content, "html.parser")
        hrefs = [link["href"] for link in soup.find_all("link", rel="alternate")]
        assert feed in hrefs, url
        assert feed + "atom/" in hrefs, url
        assert client.get(feed).status_code == 200


def test_feedparser_over_real_http_follows_redirects_and_revalidates(live_server, make_comment, monkeypatch):
    """feedparser as a subscriber runs it: fetch over loopback HTTP, follow the WordPress
    redirect, then revalidate with the ETag and Last-Modified it was given."""
    monkeypatch.setenv("no_proxy", "*")
    build_blog(make_comment)
    moved = feedparser.parse(f"{live_server.url}/?feed=rss2")
    assert moved.status == 301
    assert moved.href == f"{live_server.url}/feed/"
    assert moved.bozo == 0 and [e.title for e in moved.entries][:1] == ["Pumps that last"]
    first = feedparser.parse(f"{live_server.url}/feed/atom/")
    assert first.status == 200 and first.bozo == 0 and first.etag and first.modified
    assert first.entries[0].content[0].value.startswith("<p>See <a href=")
    by_etag = feedparser.parse(f"{live_server.url}/feed/atom/", etag=first.etag)
    assert by_etag.status == 304 and by_etag.entries == []
    by_date = feedparser.parse(f"{live_server.url}/feed/atom/", modified=first.modified)
    assert by_date.status == 304


def test_renaming_a_category_changes_its_feed_etag(client, blog):
    before = client.get("/category/water/feed/")
    blog["water"].name = "Drinking water"
    blog["water"].save()
    after = client.get("/category/water/feed/", headers={"if-none-match": before["ETag"]})
    assert after.status_code == 200
    assert "Drinking water" in feedparser.parse(after.content).feed.title


def test_pages_can_add_their_own_feed_link_in_the_feeds_block(rf, db):
    """Taxonomy and post templates fill `{% block feeds %}` with their own alternate link."""
    template = engines["django"].from_string(
        '{% extends "base.html" %}{% block feeds %}'
        '<link rel="alternate" type="application/rss+xml" title="Water" '
        'href="{% url "feeds:category" "water" %}">{% endblock %}'
    )
    soup = BeautifulSoup(template.render({}, request=rf.get("/category/water/")), "html.parser")
    hrefs = [link["href"] for link in soup.find_all("link", rel="alternate")]
    assert hrefs == ["/feed/", "/feed/atom/", "/category/water/feed/"]
