"""Later pages of a list select their posts by id first (posts.views.PreparedList): every list
shows the same page as a plain Paginator's OFFSET, counts and categories included; the counts
take only what a reader may see."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from bs4 import BeautifulSoup
from django.db import connection
from django.test.utils import CaptureQueriesContext

from posts import views
from tests.factories import CategoryFactory, PostFactory, TagFactory, make_comment

pytestmark = pytest.mark.django_db

START = dt.datetime(2025, 3, 1, tzinfo=dt.UTC)


@pytest.fixture
def lists(author):
    water = CategoryFactory(name="Water", slug="water")
    drains = CategoryFactory(name="Drains", slug="drains", parent=water)
    rural = TagFactory(slug="rural")
    posts = []
    for n in range(23):
        when = START + dt.timedelta(hours=n)
        post = PostFactory(title=f"Note {n:02d}", published_at=when, authors=[author], featured=n == 3)
        post.categories.set([water, drains] if n % 2 else [drains])
        post.tags.set([rural])
        posts.append(post)
    # Every kind of response, on posts of the first pages and the last.
    for post in posts[::4]:
        make_comment(post, comment="shown")
        make_comment(post, comment="held", is_public=False)
        make_comment(post, comment="removed", is_removed=True)
        make_comment(post, comment="spam", is_spam=True)
        make_comment(post, kind="pingback", source_url=f"https://elsewhere.example/{post.pk}/")
    return posts


LATER_PAGES = (
    "/page/2/",
    "/page/3/",
    "/category/water/page/2/",
    "/tag/rural/page/3/",
    "/author/{username}/page/2/",
    "/2025/03/page/2/",
)


def without_nonces(html: str) -> str:
    return re.sub(r'(nonce|value)="[^"]*"', r'\1=""', html)


def plain_offset(kind):
    """A list's page as one plain OFFSET query, built by the ORM."""
    return lambda now, start, stop, **values: list(kind.where(now, **values)[start:stop])


def test_later_pages_show_what_the_offset_query_shows(client, lists, author, monkeypatch):
    urls = [url.format(username=author.username) for url in LATER_PAGES]
    by_ids = {}
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, url
        by_ids[url] = without_nonces(response.content.decode())
    for kind in (views.HOME_LIST, views.CATEGORY_LIST, views.TAG_LIST, views.AUTHOR_LIST, views.PERIOD_LIST):
        monkeypatch.setattr(kind, "page", plain_offset(kind))
    for url in urls:
        assert without_nonces(client.get(url).content.decode()) == by_ids[url], url


def test_later_pages_count_only_visible_responses(client, lists):
    page = BeautifulSoup(client.get("/page/2/").content, "html.parser")
    titles = [a.get_text(strip=True) for a in page.select("article h2 a")]
    assert titles == [f"Note {n:02d}" for n in range(13, 3, -1)]  # Note 03, featured, leads page 1
    answered = [post for n, post in enumerate(lists) if post.title in titles and n % 4 == 0]
    assert [post.title for post in answered] == ["Note 04", "Note 08", "Note 12"]
    for post in answered:
        url = post.get_absolute_url()
        assert page.select_one(f"a[href='{url}#comments']").get_text(strip=True) == "1 comment"
        assert page.select_one(f"a[href='{url}#mentions']").get_text(strip=True) == "1 mention"
    counts = [a.get_text(strip=True) for a in page.select("a[href$='#comments']")]
    assert counts.count("0 comments") == len(titles) - len(answered)
    assert len(page.select("a[href$='#mentions']")) == len(answered)


def test_later_pages_compute_the_annotations_for_their_own_posts_only(client, lists):
    with CaptureQueriesContext(connection) as queries:
        client.get("/page/3/")
    listing = next(q["sql"] for q in queries if "comment_count" in q["sql"])
    # The ids come from a subquery with the OFFSET; the outer query has none.
    assert re.search(r"IN \(SELECT .* OFFSET 20\)", listing)
    assert not listing.rstrip().endswith("OFFSET 20")
