"""Every feed validates as RSS 2.0 or Atom 1.0 and parses cleanly in feedparser.

No maintained RSS/Atom validator installs from PyPI here, so `check_rss` and `check_atom` test
the rules that matter with lxml: the required channel/feed and item/entry elements (RSS 2.0
spec; RFC 4287 §4.1), RFC 822 and RFC 3339 dates, absolute links (also inside HTML content) and
unique guid/id values. Other feed test files import these helpers and `build_blog`.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import re
from urllib.parse import urlsplit

import feedparser
import pytest
from bs4 import BeautifulSoup
from django.utils import timezone
from lxml import etree

from comments.models import Comment
from posts.models import Post
from tests import factories

ATOM = "{http://www.w3.org/2005/Atom}"
NS = {
    "atom": "http://www.w3.org/2005/Atom",
    "content": "http://purl.org/rss/1.0/modules/content/",
    "dc": "http://purl.org/dc/elements/1.1/",
    "media": "http://search.yahoo.com/mrss/",
}
RFC822 = re.compile(
    r"^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) "
    r"\d{4} \d{2}:\d{2}:\d{2} ([+-]\d{4}|GMT|UT)$"
)
RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")


def assert_absolute(url: str | None) -> None:
    assert url, "missing URL"
    parts = urlsplit(url)
    assert parts.scheme in {"http", "https"} and parts.netloc, f"not absolute: {url!r}"


def assert_html_links_absolute(fragment: str) -> None:
    soup = BeautifulSoup(fragment or "", "html.parser")
    for tag in soup.find_all(href=True):
        if not tag["href"].startswith("mailto:"):
            assert_absolute(tag["href"])
    for tag in soup.find_all(src=True):
        assert_absolute(tag["src"])


def assert_rfc822(value: str | None) -> None:
    assert value and RFC822.match(value), f"not an RFC 822 date: {value!r}"
    assert email.utils.parsedate_to_datetime(value) is not None


def assert_rfc3339(value: str | None) -> None:
    assert value and RFC3339.match(value), f"not an RFC 3339 date: {value!r}"
    dt.datetime.fromisoformat(value.replace("Z", "+00:00"))


def check_rss(body: bytes) -> etree._Element:
    """RSS 2.0 rules; returns the channel element."""
    root = etree.fromstring(body)
    assert root.tag == "rss" and root.get("version") == "2.0"
    channels = root.findall("channel")
    assert len(channels) == 1
    channel = channels[0]
    for required in ("title", "link", "description"):
        assert channel.find(required) is not None, f"channel lacks <{required}>"
    assert channel.findtext("title").strip()
    assert_absolute(channel.findtext("link"))
    assert channel.findtext("language")
    assert_rfc822(channel.findtext("lastBuildDate"))
    assert channel.findtext("generator")
    self_links = channel.findall("atom:link[@rel='self']", NS)
    assert len(self_links) == 1
    assert_absolute(self_links[0].get("href"))
    image = channel.find("image")
    assert image is not None
    for required in ("url", "title", "link"):
        assert image.findtext(required), f"image lacks <{required}>"
    assert_absolute(image.findtext("url"))
    assert int(image.findtext("width")) <= 144
    assert channel.findtext("ttl") == "5"
    guids = []
    for item in channel.findall("item"):
        assert item.findtext("title") or item.findtext("description")
        assert_absolute(item.findtext("link"))
        guid = item.find("guid")
        assert guid is not None and guid.get("isPermaLink") == "true"
        assert_absolute(guid.text)
        guids.append(guid.text)
        assert_rfc822(item.findtext("pubDate"))
        assert item.findall("dc:creator", NS), "item has no dc:creator"
        assert_html_links_absolute(item.findtext("description"))
        assert_html_links_absolute(item.findtext("content:encoded", namespaces=NS))
        for media in item.findall("media:content", NS):
            assert_absolute(media.get("url"))
            assert media.get("type", "").startswith("image/")
        for enclosure in item.findall("enclosure"):
            assert_absolute(enclosure.get("url"))
            assert enclosure.get("length", "").isdigit() and enclosure.get("type")
    assert len(guids) == len(set(guids)), "duplicate guid"
    return channel


def check_atom(body: bytes) -> etree._Element:
    """Atom 1.0 rules (RFC 4287 §4.1.1, §4.1.2); returns the feed element."""
    feed = etree.fromstring(body)
    assert feed.tag == f"{ATOM}feed"
    for required in ("id", "title", "updated"):
        assert feed.find(f"{ATOM}{required}") is not None, f"feed lacks <{required}>"
    assert_absolute(feed.findtext(f"{ATOM}id"))
    assert_rfc3339(feed.findtext(f"{ATOM}updated"))
    assert feed.get("{http://www.w3.org/XML/1998/namespace}lang")
    self_links = feed.findall(f"{ATOM}link[@rel='self']")
    assert len(self_links) == 1
    assert_absolute(self_links[0].get("href"))
    assert_absolute(feed.find(f"{ATOM}link[@rel='alternate']").get("href"))
    assert_absolute(feed.findtext(f"{ATOM}icon"))
    assert feed.findtext(f"{ATOM}generator")
    feed_has_author = feed.find(f"{ATOM}author/{ATOM}name") is not None
    ids = []
    for entry in feed.findall(f"{ATOM}entry"):
        for required in ("id", "title", "updated"):
            assert entry.find(f"{ATOM}{required}") is not None, f"entry lacks <{required}>"
        assert_absolute(entry.findtext(f"{ATOM}id"))
        ids.append(entry.findtext(f"{ATOM}id"))
        assert_rfc3339(entry.findtext(f"{ATOM}updated"))
        assert_rfc3339(entry.findtext(f"{ATOM}published"))
        alternate = entry.findall(f"{ATOM}link[@rel='alternate']")
        assert len(alternate) == 1
        assert_absolute(alternate[0].get("href"))
        assert feed_has_author or entry.findall(f"{ATOM}author/{ATOM}name")
        for author in entry.findall(f"{ATOM}author"):
            assert author.findtext(f"{ATOM}name")
            if author.find(f"{ATOM}uri") is not None:
                assert_absolute(author.findtext(f"{ATOM}uri"))
        for text_construct in ("summary", "content"):
            element = entry.find(f"{ATOM}{text_construct}")
            if element is not None:
                assert element.get("type") == "html"
                assert_html_links_absolute(element.text)
        for enclosure in entry.findall(f"{ATOM}link[@rel='enclosure']"):
            assert_absolute(enclosure.get("href"))
    assert len(ids) == len(set(ids)), "duplicate id"
    return feed


def check_feed(response) -> feedparser.FeedParserDict:
    """Validate by content type, then parse with feedparser; bozo must be 0."""
    assert response.status_code == 200
    body = response.content
    if response["Content-Type"] == "application/atom+xml; charset=utf-8":
        check_atom(body)
        expected_version = "atom10"
    else:
        assert response["Content-Type"] == "application/rss+xml; charset=utf-8"
        check_rss(body)
        expected_version = "rss20"
    parsed = feedparser.parse(body)
    assert parsed.bozo == 0, parsed.get("bozo_exception")
    assert parsed.version == expected_version
    return parsed


def build_blog(make_comment) -> dict:
    """A small site: two authors, nested categories, a tag, posts in two languages, a draft, a
    scheduled post and comments in every moderation state."""
    amara = factories.UserFactory(username="amara", first_name="Amara", last_name="Okafor")
    luis = factories.UserFactory(username="luis", first_name="Luis", last_name="Pérez")
    water = factories.CategoryFactory(name="Water", slug="water")
    wells = factories.CategoryFactory(name="Wells", slug="wells", parent=water)
    sanitation = factories.CategoryFactory(name="Sanitation", slug="sanitation")
    tag = factories.TagFactory(name="field notes", slug="field-notes")
    now = timezone.now()
    lead = factories.PostFactory(
        title="Pumps that last",
        slug="pumps-that-last",
        authors=[amara, luis],
        categories=[wells],
        tags=[tag],
        published_at=now - dt.timedelta(hours=1),
        body="See [the earlier note](/2020/01/02/older/) and ![a pump](/media/pump.png).\n\n"
        "Jump to [the end](#end).",
    )
    spanish = factories.PostFactory(
        title="Bombas que duran",
        slug="bombas-que-durán",
        authors=[luis],
        categories=[sanitation],
        language="es",
        published_at=now - dt.timedelta(hours=2),
    )
    water_post = factories.PostFactory(
        title="Water committees", slug="water-committees", authors=[amara], categories=[water]
    )
    draft = factories.PostFactory(
        title="Secret draft", slug="secret-draft", status=Post.Status.DRAFT, authors=[amara],
        categories=[water], tags=[tag],
    )  # fmt: skip
    scheduled = factories.PostFactory(
        title="Scheduled surprise", slug="scheduled-surprise", authors=[amara], categories=[water],
        tags=[tag], published_at=now + dt.timedelta(days=2),
    )  # fmt: skip
    comment = make_comment(lead, user_name="Chidi", comment="Good point about [spares](/spares/).")
    reply = make_comment(lead, parent=comment, user_name="Amara", comment="Thanks!")
    pingback = make_comment(
        lead,
        kind=Comment.Kind.PINGBACK,
        user_name="Blog de agua",
        source_url="https://agua.example.es/2026/bombas/",
        source_title="Blog de agua",
        excerpt="las bombas manuales",
    )
    held = make_comment(lead, user_name="Held Back", comment="Awaiting moderation", is_public=False)
    removed = make_comment(lead, user_name="Removed One", comment="Gone", is_removed=True)
    spam = make_comment(lead, user_name="Spammer", comment="Buy now", is_spam=True)
    on_draft = make_comment(draft, user_name="Early Bird", comment="On a draft")
    spanish_comment = make_comment(spanish, user_name="Ana", comment="¡Muy útil!")
    return {
        "amara": amara,
        "luis": luis,
        "water": water,
        "wells": wells,
        "tag": tag,
        "lead": lead,
        "spanish": spanish,
        "water_post": water_post,
        "draft": draft,
        "scheduled": scheduled,
        "comment": comment,
        "reply": reply,
        "pingback": pingback,
        "hidden": [held, removed, spam, on_draft],
        "spanish_comment": spanish_comment,
    }


@pytest.fixture
def blog(db, make_comment):
    return build_blog(make_comment)


def every_feed_url(blog) -> list[str]:
    post_url = blog["lead"].get_absolute_url()
    rss = [
        "/feed/",
        "/feed/?lang=es",
        "/category/water/feed/",
        "/tag/field-notes/feed/",
        "/author/amara/feed/",
        "/comments/feed/",
        f"{post_url}feed/",
    ]
    atom = [url.replace("/feed/", "/feed/atom/") for url in rss]
    return rss + atom


HIDDEN_TITLES = ("Secret draft", "Scheduled surprise")
HIDDEN_NAMES = ("Held Back", "Removed One", "Spammer", "Early Bird")


def test_every_feed_validates_and_parses(client, blog):
    urls = every_feed_url(blog)
    assert len(urls) == 14
    for url in urls:
        response = client.get(url)
        parsed = check_feed(response)
        assert parsed.entries, f"{url} is empty"
        for entry in parsed.entries:
            for hidden in HIDDEN_TITLES + HIDDEN_NAMES:
                assert hidden not in entry.title, f"{hidden} leaked into {url}"
        assert parsed.feed.get("language") in {"en", "es"}, url


def test_no_draft_scheduled_or_unapproved_item_in_any_feed(client, blog):
    body = b"".join(client.get(url).content for url in every_feed_url(blog))
    for hidden in HIDDEN_TITLES + HIDDEN_NAMES + ("Awaiting moderation", "Buy now", "On a draft"):
        assert hidden.encode() not in body
    for url in ("/feed/", "/comments/feed/"):
        links = [e.link for e in feedparser.parse(client.get(url).content).entries]
        assert not any("secret-draft" in link or "scheduled-surprise" in link for link in links)


def test_draft_and_scheduled_posts_have_no_comment_feed(client, blog):
    for post in (blog["draft"], blog["scheduled"]):
        for suffix in ("feed/", "feed/atom/"):
            assert client.get(post.get_absolute_url() + suffix).status_code == 404
