"""The feeds' items written directly (feeds.xmlwrite) are byte for byte what Django's SAX
generator writes for them (`add_item_elements`, the readable copy): every feed, RSS and Atom, in
English, Spanish and French, with and without full text, hostile text and featured images."""

from __future__ import annotations

import datetime as dt
import html
import mimetypes
import zoneinfo
from io import StringIO

import pytest
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.feedgenerator import Enclosure, rfc2822_date
from django.utils.functional import Promise
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy
from django.utils.xmlutils import SimplerXMLGenerator

from comments.models import Comment
from core.origin import absolute_url
from feeds import xmlwrite
from feeds.framework import (
    AtomFeedGenerator,
    RssFeedGenerator,
    absolutize_html,
    needs_xml_text,
    xml_text,
)
from feeds.posts import PostFeed, post_url_maker
from posts.models import AuthorProfile, Post, display_name
from tests import factories
from tests.test_feeds_validation import build_blog

HOSTILE = "Ends ]]> & <b>\"bold\"</b> 'q' \x01\x0b tab\there\nnew\r mid \ufffe end — مرحبا \u202eRTL"


@pytest.fixture
def site(db, make_comment, uncached_render):
    """build_blog's site, plus French posts, hostile text, featured images (with and without alt
    text) and a linkback with a title, so that every branch of an item is written."""
    blog = build_blog(make_comment)
    claire = factories.UserFactory(username="claire", first_name="Claire", last_name="")
    AuthorProfile.objects.update_or_create(
        user=claire, defaults={"display_name": 'Claire "la" Dubois & <co>'}
    )
    now = timezone.now()
    tricky = factories.CategoryFactory(name="Eau & <assainissement> \"'", slug="eau")
    french = factories.PostFactory(
        title='Pompes <durables> & "fiables"',
        slug="pompes-durables-été",
        language="fr",
        authors=[claire, blog["amara"]],
        categories=[tricky, blog["wells"]],
        tags=[blog["tag"]],
        excerpt='Un résumé avec <balises> & "guillemets"',
        published_at=now - dt.timedelta(minutes=30),
    )
    Post.objects.filter(pk=french.pk).update(
        featured_image="featured/pompe été.png", featured_image_alt='Une pompe "neuve" & <propre>'
    )
    factories.PostFactory(
        title="",
        slug="sans-titre",
        language="fr",
        authors=[claire],
        body="",
        published_at=now - dt.timedelta(minutes=40),
    )
    hostile = factories.PostFactory(
        title=HOSTILE,
        slug="hostile",
        body=f'{HOSTILE}\n\n<p>{HOSTILE}</p>\n\n[a link](/x/?a=1&b=2 "t")\n',
        authors=[blog["luis"]],
        categories=[tricky],
        published_at=now - dt.timedelta(minutes=20),
    )
    Post.objects.filter(pk=hostile.pk).update(featured_image="featured/plain.jpg")
    make_comment(french, user_name='Zoé "Z" <z>', user_url="https://zoe.example/?a=1&b='2'", comment=HOSTILE)
    make_comment(
        french,
        kind=Comment.Kind.TRACKBACK,
        user_name="",
        source_url='https://blog.example/p?x=1&y="2"',
        source_title="",
        excerpt="un rétrolien",
    )
    blog["french"] = french
    blog["hostile"] = hostile
    return blog


def feed_urls(site) -> list[str]:
    rss = [
        "/feed/",
        "/feed/?lang=en",
        "/feed/?lang=es",
        "/feed/?lang=fr",
        "/category/water/feed/",
        "/category/eau/feed/",
        "/tag/field-notes/feed/",
        "/author/claire/feed/",
        "/comments/feed/",
        "/comments/feed/?lang=fr",
        f"{site['lead'].get_absolute_url()}feed/",
        f"{site['french'].get_absolute_url()}feed/",
    ]
    return rss + [url.replace("/feed/", "/feed/atom/") for url in rss]


def _reference(monkeypatch, client, url) -> bytes:
    with monkeypatch.context() as patch:
        patch.setattr(RssFeedGenerator, "write_directly", False)
        patch.setattr(AtomFeedGenerator, "write_directly", False)
        return client.get(url).content


@pytest.mark.parametrize("full_text", [True, False])
def test_every_feed_is_written_as_the_sax_generator_writes_it(client, site, settings, monkeypatch, full_text):
    settings.FEED_FULL_TEXT = full_text
    settings.WEBSUB_HUB_URL = "https://hub.example.net/?a=1&b=2"
    for url in feed_urls(site):
        direct = client.get(url)
        assert direct.status_code == 200, url
        assert direct.content.count(b"<item>") + direct.content.count(b"<entry>") >= 1, url
        assert direct.content == _reference(monkeypatch, client, url), url


def test_the_comparison_sees_every_branch(client, site):
    """The site above writes what the comparison must cover: escaped text and attributes in both
    quotings, an empty title, media with and without a description, authors with and without a URI."""
    rss = client.get("/feed/?lang=fr").content.decode()
    assert "<title/>" in rss
    assert "<media:description>Une pompe" in rss and 'url="http://127.0.0.1:8000/media/featured/' in rss
    atom = client.get("/feed/atom/").content.decode()
    assert 'term="Eau &amp; &lt;assainissement&gt; &quot;\'"' in atom  # both quotes: &quot;
    assert 'rel="enclosure" type="image/jpeg"/>' in atom
    assert "<name>Claire &quot;la&quot; Dubois &amp; &lt;co&gt;</name>" not in atom  # text: no &quot;
    assert '<name>Claire "la" Dubois &amp; &lt;co&gt;</name>' in atom
    comments = client.get("/comments/feed/atom/").content.decode()
    assert "<uri>https://zoe.example/?a=1&amp;b='2'</uri>" in comments
    assert '<author><name>https://blog.example/p?x=1&amp;y="2"</name><uri>' in comments


# --- the functions, against SimplerXMLGenerator -----------------------------------------------


def _sax(name, content=None, attrs=None) -> str:
    out = StringIO()
    handler = SimplerXMLGenerator(out, "utf-8", short_empty_elements=True)
    handler.addQuickElement(name, content, attrs)
    return out.getvalue()


@pytest.mark.parametrize(
    "value",
    ["", "plain", "a & b", "<x>", 'say "hi"', "it's", "both \"and\" 'it'", "a\nb\rc\td", "]]>", "é—\u202e"],
)
def test_element_and_attribute_quoting_match_the_sax_writer(value):
    assert xmlwrite.element("t", value) == _sax("t", value)
    assert xmlwrite.element("t", None) == _sax("t", None)
    assert f"<t a={xmlwrite.attr(value)}/>" == _sax("t", "", {"a": value})
    assert xmlwrite.element("t", value, f" a={xmlwrite.attr(value)}") == _sax("t", value, {"a": value})


@pytest.mark.parametrize(
    "date",
    [
        dt.datetime(2026, 12, 7, 16, 5, 9, 123456, tzinfo=dt.UTC),
        dt.datetime(2024, 2, 29, 0, 0, 0, tzinfo=zoneinfo.ZoneInfo("UTC")),
        dt.datetime(2026, 7, 1, 23, 59, 59, tzinfo=zoneinfo.ZoneInfo("Europe/Paris")),
        dt.datetime(2026, 1, 4, 8, 30, tzinfo=dt.timezone(dt.timedelta(hours=-3, minutes=-30))),
        dt.datetime(2026, 1, 4, 8, 30),
        dt.date(2026, 1, 4),
    ],
)
def test_rfc2822_dates_match_django(date):
    assert xmlwrite.rfc2822(date) == rfc2822_date(date)


def _written(generator_class, items, *, directly: bool) -> str:
    feed = generator_class(
        title="T",
        link="https://example.org/",
        description="D",
        language="fr",
        feed_url="https://example.org/feed/",
        author_name="Site",
        generator="sectorblog",
        icon="https://example.org/icon.png",
        home="https://example.org/",
        hub=None,
    )
    for item in items:
        feed.add_item(**item)
    feed.latest_post_date = lambda: dt.datetime(2026, 12, 7, 12, 0, tzinfo=dt.UTC)  # no items: now()
    feed.write_directly = directly
    return feed.writeString("utf-8")


ITEMS = [
    {
        "title": "One & <two>",
        "link": "https://example.org/2026/12/07/été/",
        "description": "<p>html</p>",
        "unique_id": "https://example.org/2026/12/07/été/",
        "unique_id_is_permalink": True,
        "pubdate": dt.datetime(2026, 12, 7, 9, 0, tzinfo=dt.UTC),
        "updateddate": dt.datetime(2026, 12, 7, 10, 0, tzinfo=dt.UTC),
        "categories": ["a & b", "c \"d\" 'e'"],
        "authors": [{"name": "Ana", "uri": "https://example.org/author/ana/"}, {"name": "Bo", "uri": ""}],
        "content": "<p>full</p>",
        "image": {"url": "https://example.org/m/x.png", "type": "image/png", "alt": ""},
    },
    {
        "title": "",
        "link": "https://example.org/b/",
        "description": None,
        "unique_id": None,
        "pubdate": dt.datetime(2026, 12, 6, 9, 0, tzinfo=zoneinfo.ZoneInfo("America/Lima")),
        "updateddate": None,
        "categories": [],
    },
    # Only the SAX form writes these: they go through it, in their place among the others.
    {
        "title": "Mailed",
        "link": "https://example.org/c/",
        "description": "x",
        "author_email": "a@example.org",
        "author_name": "A",
        "comments": "https://example.org/c/#comments",
        "enclosures": [Enclosure("https://example.org/a.mp3", "12", "audio/mpeg")],
        "item_copyright": "CC",
        "ttl": "5",
    },
    {
        "title": "Last",
        "link": "https://example.org/d/",
        "description": "y",
        "unique_id": "urn:d",
        "unique_id_is_permalink": False,
        "image": {"url": "https://example.org/m/y.jpg", "type": "image/jpeg", "alt": 'A "y"'},
    },
]


@pytest.mark.parametrize("generator_class", [RssFeedGenerator, AtomFeedGenerator])
def test_items_of_every_shape_are_written_as_the_sax_generator_writes_them(generator_class):
    direct = _written(generator_class, ITEMS, directly=True)
    assert direct == _written(generator_class, ITEMS, directly=False)
    assert direct.count("<item>" if generator_class is RssFeedGenerator else "<entry>") == len(ITEMS)
    assert _written(generator_class, [], directly=True) == _written(generator_class, [], directly=False)


# --- the items' entries, against the posts' own methods ----------------------------------------


def reference_entry(post: Post, *, full_text: bool) -> dict:
    """An item as the post's own methods give it: the readable form of PostFeed.post_entries."""
    link = absolute_url(post.get_absolute_url())
    authors = [
        {
            "name": display_name(authorship.user),
            "uri": absolute_url(reverse("posts:author", kwargs={"username": authorship.user.get_username()})),
        }
        for authorship in post.authorships.select_related("user")
    ]
    image = None
    if post.featured_image:
        image = {
            "url": absolute_url(post.featured_image.url),
            "type": mimetypes.guess_type(post.featured_image.name)[0] or "image/jpeg",
            "alt": post.featured_image_alt,
        }
    entry = {
        "title": post.title,
        "link": link,
        "description": html.escape(post.summary, quote=False),
        "unique_id": link,
        "unique_id_is_permalink": True,
        "pubdate": post.published_at,
        "updateddate": max(post.updated_at, post.published_at),
        "categories": [c.name for c in post.categories.order_by("name")]
        + [t.name for t in post.tags.order_by("name")],
        "authors": authors,
        "image": image,
    }
    if full_text:
        entry["content"] = absolutize_html(post.body_html, link)
    return entry


@pytest.mark.parametrize("full_text", [True, False])
@pytest.mark.parametrize("zone", ["UTC", "Pacific/Auckland", "America/Lima"])
def test_entries_are_what_the_posts_own_methods_give(site, settings, full_text, zone):
    settings.FEED_FULL_TEXT = full_text
    settings.TIME_ZONE = zone
    # Near midnight: the permalink's date is the local one.
    Post.objects.filter(pk=site["lead"].pk).update(
        published_at=dt.datetime(2026, 12, 6, 23, 30, tzinfo=dt.UTC)
    )
    feed = PostFeed()
    feed.lang = ""
    rows = list(feed.items(None))
    assert len(rows) >= 6
    # A feed without full text never read the body: neither does the reference.
    unread = () if full_text else ("body_html",)
    expected = [
        reference_entry(Post.objects.defer(*unread).get(pk=row["pk"]), full_text=full_text) for row in rows
    ]
    assert feed.post_entries(rows) == expected


def test_a_slug_reverse_would_refuse_still_goes_through_reverse(db):
    url = post_url_maker()
    when = dt.datetime(2026, 3, 4, 5, 6, tzinfo=dt.UTC)
    assert url(when, "été-ok_1") == "http://127.0.0.1:8000/2026/03/04/%C3%A9t%C3%A9-ok_1/"
    with pytest.raises(NoReverseMatch):
        url(when, "no/slash")


@pytest.mark.parametrize(
    "entry",
    [
        {"title": "clean", "categories": ["a", "b"], "authors": [{"name": "n", "uri": ""}], "when": None},
        {"title": "clean", "categories": ("a", "b\x0b")},
        {"title": "clean", "authors": [{"name": "n\ufffe", "uri": ""}]},
        {"title": "clean", "image": {"url": "u", "type": "t", "alt": "\x1f"}},
        {"title": gettext_lazy("Comment")},
        {"title": mark_safe("safe\x01")},
        {"title": "\U0001f600 é \u202e", "pubdate": dt.datetime(2026, 1, 1, tzinfo=dt.UTC)},
    ],
)
def test_the_one_search_for_forbidden_characters_agrees_with_xml_text(entry):
    assert needs_xml_text(entry) == (
        xml_text(entry) != entry
        or any(type(v) is not str and isinstance(v, str | Promise) for v in entry.values())
    )
