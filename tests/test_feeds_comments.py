"""Comment feeds as a feed reader sees them: all comments, one post's comments, linkbacks
marked as such, only what a reader may see, in a fixed number of queries."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from lxml import etree

from comments.models import Comment
from tests import factories
from tests.test_feeds_validation import NS, build_blog, check_feed


@pytest.fixture
def blog(db, make_comment):
    return build_blog(make_comment)


ORIGIN = "http://127.0.0.1:8000"


@pytest.mark.parametrize("suffix", ["", "atom/"])
def test_site_comment_feed_lists_visible_comments_and_linkbacks(client, blog, suffix):
    parsed = check_feed(client.get(f"/comments/feed/{suffix}"))
    lead = blog["lead"]
    assert sorted(e.title for e in parsed.entries) == sorted(
        [
            "Comment on Pumps that last by Chidi",
            "Comment on Pumps that last by Amara",
            "Pingback on Pumps that last by Blog de agua",
            "Comment on Bombas que duran by Ana",
        ]
    )
    by_title = {e.title: e for e in parsed.entries}
    chidi = by_title["Comment on Pumps that last by Chidi"]
    assert chidi.link == f"{ORIGIN}{lead.get_absolute_url()}#c{blog['comment'].pk}"
    assert chidi.id == chidi.link
    assert chidi.author == "Chidi"
    # The rendered comment text, with its relative link made absolute.
    assert f'href="{ORIGIN}/spares/"' in chidi.summary
    assert "Good point about" in chidi.content[0].value
    pingback = by_title["Pingback on Pumps that last by Blog de agua"]
    assert [t.term for t in pingback.tags] == ["Pingback"]
    assert "las bombas manuales" in pingback.summary
    assert "https://agua.example.es/2026/bombas/" in pingback.summary
    assert parsed.feed.link == ORIGIN + "/"


def test_newest_comment_comes_first_and_20_at_most(client, post, make_comment):
    now = timezone.now()
    for n in range(25):
        make_comment(post, user_name=f"Reader {n}", comment=f"Reply {n}", when=now - dt.timedelta(minutes=n))
    parsed = check_feed(client.get("/comments/feed/"))
    assert [e.author for e in parsed.entries] == [f"Reader {n}" for n in range(20)]


def test_post_comment_feed_holds_only_that_posts_comments(client, blog):
    lead = blog["lead"]
    for suffix in ("feed/", "feed/atom/"):
        parsed = check_feed(client.get(lead.get_absolute_url() + suffix))
        assert len(parsed.entries) == 3
        assert all(e.link.startswith(ORIGIN + lead.get_absolute_url() + "#c") for e in parsed.entries)
        assert "Pumps that last" in parsed.feed.title
    spanish = blog["spanish"]
    channel = etree.fromstring(client.get(spanish.get_absolute_url() + "feed/").content).find("channel")
    assert channel.findtext("language") == "es"
    assert [i.findtext("dc:creator", namespaces=NS) for i in channel.findall("item")] == ["Ana"]
    self_link = channel.find("atom:link[@rel='self']", NS).get("href")
    assert self_link == ORIGIN + spanish.get_absolute_url() + "feed/"


def test_comment_feed_language_filter(client, blog):
    parsed = check_feed(client.get("/comments/feed/atom/?lang=es"))
    # A Spanish feed speaks Spanish: item titles come from the es catalogue.
    assert [e.title for e in parsed.entries] == ["Comentario en Bombas que duran de Ana"]


def test_held_removed_spam_and_draft_comments_never_appear(client, blog):
    urls = ["/comments/feed/", "/comments/feed/atom/", blog["lead"].get_absolute_url() + "feed/"]
    for url in urls:
        body = client.get(url).content
        for text in (b"Held Back", b"Removed One", b"Spammer", b"Early Bird", b"Buy now"):
            assert text not in body
    # Approving the held comment brings it in.
    held = Comment.objects.get(user_name="Held Back")
    held.is_public = True
    held.save()
    assert b"Held Back" in client.get(urls[0]).content


def test_linkback_kinds_are_marked(client, post, make_comment):
    make_comment(
        post, kind=Comment.Kind.TRACKBACK, user_name="Other blog", source_url="https://other.example/t/",
        source_title="Other blog", excerpt="tracked",
    )  # fmt: skip
    make_comment(
        post, kind=Comment.Kind.WEBMENTION, user_name="Indie", source_url="https://indie.example/n/",
        source_title="", excerpt="mentioned",
    )  # fmt: skip
    entries = check_feed(client.get("/comments/feed/atom/")).entries
    by_tag = {e.tags[0].term: e for e in entries}
    assert by_tag["Trackback"].title == f"Trackback on {post.title} by Other blog"
    assert by_tag["Webmention"].title == f"Webmention on {post.title} by Indie"
    assert by_tag["Webmention"].authors[0]["href"] == "https://indie.example/n/"


def _comments_on_many_posts(make_comment, n_posts: int, per_post: int) -> list:
    posts = [factories.PostFactory(slug=f"talk-{n}-{n_posts}") for n in range(n_posts)]
    for post in posts:
        for n in range(per_post):
            make_comment(post, user_name=f"R{n}", comment=f"Point {n}")
    return posts


@pytest.mark.parametrize("url", ["/comments/feed/", "/comments/feed/atom/"])
def test_site_comment_feed_query_count_is_constant(client, db, make_comment, django_assert_num_queries, url):
    _comments_on_many_posts(make_comment, 1, 2)
    # The state aggregate and the items (post joined); feeds only read: no SAVEPOINT/RELEASE pair.
    with django_assert_num_queries(2):
        assert len(check_feed(client.get(url)).entries) == 2
    _comments_on_many_posts(make_comment, 8, 4)
    with django_assert_num_queries(2):
        assert len(check_feed(client.get(url)).entries) == 20


def test_post_comment_feed_query_count_is_constant(client, post, make_comment, django_assert_num_queries):
    url = post.get_absolute_url() + "feed/"
    make_comment(post)
    # The post, the state aggregate and the items; feeds only read: no SAVEPOINT/RELEASE pair.
    with django_assert_num_queries(3):
        assert len(check_feed(client.get(url)).entries) == 1
    for n in range(30):
        make_comment(post, user_name=f"Reader {n}", comment=f"Reply {n}")
    with django_assert_num_queries(3):
        assert len(check_feed(client.get(url + "atom/")).entries) == 20
