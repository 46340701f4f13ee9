"""The sidebar/footer widgets every reading page shows: recent posts, categories with counts,
the tag cloud and monthly archives."""

from __future__ import annotations

import datetime as dt

import pytest
from bs4 import BeautifulSoup

from tests.factories import CategoryFactory, PostFactory, TagFactory

UTC = dt.UTC


@pytest.fixture
def footer(client, author):
    water = CategoryFactory(name="Water", slug="water")
    rural = CategoryFactory(name="Rural", slug="rural", parent=water)
    CategoryFactory(name="Unused", slug="unused")
    hygiene = CategoryFactory(name="Hygiene", slug="hygiene")
    common, rare = TagFactory(name="common", slug="common"), TagFactory(name="Rare", slug="rare")
    TagFactory(name="lonely", slug="lonely")
    months = [(2025, 1), (2025, 1), (2025, 1), (2025, 2), (2025, 4), (2025, 4), (2024, 11)]
    for n, (year, month) in enumerate(months):
        PostFactory(
            title=f"Post {n}",
            published_at=dt.datetime(year, month, 10, tzinfo=UTC) + dt.timedelta(hours=n),
            categories=[rural] if n < 2 else [water, hygiene] if n == 2 else [hygiene],
            tags=[common, rare] if n == 0 else [common],
            authors=[author],
        )
    response = client.get("/")
    assert response.status_code == 200
    return BeautifulSoup(response.content, "html.parser").select_one("footer .widgets")


def test_recent_posts_are_the_five_newest(footer):
    assert [a.get_text() for a in footer.select(".widget-recent a")] == [
        "Post 5",
        "Post 4",
        "Post 3",
        "Post 2",
        "Post 1",
    ]


def test_categories_are_nested_with_published_counts(footer):
    tree = footer.select_one(".widget-categories > ul")
    top = [
        (li.a.get_text(), li.select_one(":scope > .count").get_text()) for li in tree.select(":scope > li")
    ]
    # A parent counts the distinct posts of its whole subtree, as its page lists them.
    assert top == [("Hygiene", "(5)"), ("Water", "(3)")]
    nested = tree.select(":scope > li")[1].select("ul > li")
    assert [(li.a.get_text(), li.select_one(".count").get_text()) for li in nested] == [("Rural", "(2)")]
    assert nested[0].a["href"] == "/category/rural/"


def test_tag_cloud_is_alphabetical_and_weighted_by_use(footer):
    links = footer.select(".tag-cloud a[rel=tag]")
    assert [(a.get_text(), a["class"]) for a in links] == [("common", ["weight-5"]), ("Rare", ["weight-1"])]


def test_monthly_archives_list_months_with_counts(footer):
    items = [
        (li.a["href"], li.select_one(".count").get_text()) for li in footer.select(".widget-archives li")
    ]
    assert items == [
        ("/2025/04/", "(2)"),
        ("/2025/02/", "(1)"),
        ("/2025/01/", "(3)"),
        ("/2024/11/", "(1)"),
    ]
    assert footer.select_one(".widget-archives a").get_text() == "April 2025"
