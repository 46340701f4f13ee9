"""Excerpts keep their sense: the first paragraphs up to the word limit, never headings, list items
or table cells run together, on cards and in feeds alike; an author's own excerpt wins. Also the
one display name an author is shown under, on pages and in feeds."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
from bs4 import BeautifulSoup

from posts.models import Post
from tests.factories import PostFactory, UserFactory

pytestmark = pytest.mark.django_db

BODY = """We spent a week with pit-emptying crews in three towns.

## Why the roads matter

| town | households reachable by truck |
|------|------|
| A    | 4,200 |
| B    | 2,900 |

- Manual emptying
- Vacuum trucks

Manual emptying fills the gap, with all the health risks that brings.
"""


def card_summary(client, post) -> str:
    page = BeautifulSoup(client.get("/").content, "html.parser")
    card = next(c for c in page.select("article.post-card") if post.title in c.get_text())
    return card.select_one(".p-summary").get_text()


def feed_description(client, post) -> str:
    channel = ET.fromstring(client.get("/feed/").content).find("channel")
    item = next(i for i in channel.findall("item") if i.findtext("title") == post.title)
    return item.findtext("description")


def test_excerpt_takes_paragraphs_only_on_cards_and_in_feeds(client, settings):
    settings.FEED_FULL_TEXT = False
    post = PostFactory(title="Emptying pits", body=BODY)
    expected = (
        "We spent a week with pit-emptying crews in three towns. "
        "Manual emptying fills the gap, with all the health risks that brings."
    )
    assert post.summary == expected
    assert card_summary(client, post) == expected
    assert feed_description(client, post) == expected
    for run_on in ("Why the roads", "4,200", "Vacuum trucks"):
        assert run_on not in card_summary(client, post)


def test_a_long_first_paragraph_is_cut_at_a_word_and_later_ones_stay_out():
    post = PostFactory(body=("word " * 80) + "\n\nSecond paragraph.")
    assert post.summary == ("word " * 55).strip() + "…"
    short = PostFactory(body=("one " * 30) + "\n\n" + ("two " * 30))
    assert short.summary == ("one " * 30).strip()  # the second would pass the limit: left out whole


def test_the_authors_own_excerpt_wins_everywhere(client, settings):
    settings.FEED_FULL_TEXT = False
    post = PostFactory(title="With an excerpt", body=BODY, excerpt="Roads decide who gets served.")
    assert card_summary(client, post) == "Roads decide who gets served."
    assert feed_description(client, post) == "Roads decide who gets served."


def test_a_body_without_paragraphs_still_has_an_excerpt():
    post = PostFactory(body="- first item\n- second item\n")
    assert post.summary == "first item second item"


def test_an_author_without_a_profile_has_one_name_on_the_site_and_in_the_feed(client):
    writer = UserFactory(username="writer1", first_name="Wanjiru", last_name="Kamau")
    post = PostFactory(title="One name", authors=[writer])
    page = BeautifulSoup(client.get(post.get_absolute_url()).content, "html.parser")
    assert page.select_one(".byline a[rel=author]").get_text() == "Wanjiru Kamau"
    assert page.select_one(".author-box .author-name").get_text(strip=True) == "Wanjiru Kamau"
    atom = ET.fromstring(client.get("/feed/atom/").content)
    ns = {"a": "http://www.w3.org/2005/Atom"}
    names = [e.findtext("a:author/a:name", namespaces=ns) for e in atom.findall("a:entry", ns)]
    assert names == ["Wanjiru Kamau"]
    author_page = BeautifulSoup(client.get("/author/writer1/").content, "html.parser")
    assert author_page.select_one(".author-card h1").get_text() == "Wanjiru Kamau"


def test_the_stored_excerpt_follows_every_save_of_the_body(client, settings):
    """Cards read the excerpt save() stores with body_html: each way a body is saved renews it."""
    settings.FEED_FULL_TEXT = False
    post = PostFactory(title="Stored excerpt", body="The first version.")
    assert card_summary(client, post) == "The first version."
    post.body = "The second version."
    post.save()
    assert card_summary(client, post) == "The second version."
    assert feed_description(client, post) == "The second version."
    post.body = "The third version."
    post.save(update_fields=["body"])
    assert card_summary(client, post) == "The third version."
    post.excerpt = "The author's own."
    post.save(update_fields=["excerpt"])
    assert card_summary(client, post) == "The author's own."


def test_a_post_written_without_save_still_shows_its_excerpt_where_the_body_is_read():
    """A row bulk-created with body_html and no stored excerpt (bench seeding, a raw insert)
    still has a summary wherever its body is loaded."""
    post = PostFactory(body="Some words here.")
    Post.objects.filter(pk=post.pk).update(body_excerpt="")
    assert Post.objects.get(pk=post.pk).summary == "Some words here."
