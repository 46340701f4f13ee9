"""The sidebar/footer widgets every reading page shows: recent posts, categories with counts,
the tag cloud and monthly archives."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from bs4 import BeautifulSoup
from django.utils import timezone

from posts.models import Category, Post
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


def test_widgets_count_only_visible_posts_and_a_scheduled_one_once_it_is_due(client, author):
    water = CategoryFactory(name="Water", slug="water")
    pumps = TagFactory(name="pumps", slug="pumps")
    common = {"categories": [water], "tags": [pumps], "authors": [author]}
    PostFactory(**common)
    PostFactory(status=Post.Status.DRAFT, **common)
    PostFactory(is_page=True, **common)
    PostFactory(published_at=timezone.now() + dt.timedelta(days=2), **common)

    def counts():
        page = BeautifulSoup(client.get("/").content, "html.parser")
        return (
            [li.get_text(" ", strip=True) for li in page.select(".widget-categories li")],
            [span.get_text() for span in page.select(".tag-cloud .visually-hidden")],
            [a.get_text() for a in page.select(".main-nav a")],
        )

    assert counts() == (["Water (1)"], ["(1 post)"], ["Home", "Water", "Subscribe"])
    with time_machine.travel(timezone.now() + dt.timedelta(days=3)):
        assert counts() == (["Water (2)"], ["(2 posts)"], ["Home", "Water", "Subscribe"])


def test_a_cyclic_parent_link_hides_the_cycle_and_nothing_else(client, author):
    water = CategoryFactory(name="Water", slug="water")
    loop_a = CategoryFactory(name="Loop A", slug="loop-a")
    loop_b = CategoryFactory(name="Loop B", slug="loop-b", parent=loop_a)
    Category.objects.filter(pk=loop_a.pk).update(parent=loop_b)
    PostFactory(categories=[water, loop_a, loop_b], authors=[author])
    page = BeautifulSoup(client.get("/").content, "html.parser")
    assert [li.get_text(" ", strip=True) for li in page.select(".widget-categories li")] == ["Water (1)"]


def test_tag_cloud_shows_the_forty_most_used_tags_ties_by_name(client, author):
    busy = TagFactory(name="zz-busy", slug="zz-busy")
    once = [TagFactory(name=f"t{n:02d}", slug=f"t{n:02d}") for n in range(40)]
    PostFactory(tags=[busy, *once], authors=[author])
    PostFactory(tags=[busy], authors=[author])
    page = BeautifulSoup(client.get("/").content, "html.parser")
    shown = [a.get_text() for a in page.select(".tag-cloud a[rel=tag]")]
    # 41 tags in use: the most used one, then the first 39 of the 40 used once (by name).
    assert shown == [f"t{n:02d}" for n in range(39)] + ["zz-busy"]
