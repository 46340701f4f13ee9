"""The chrome's two renderers agree: posts/chrome.py (what pages use, for speed) and the widget
templates under templates/includes/ (where the markup can be read) give the same HTML, apart
from whitespace beside block elements, in every language, with names that need escaping."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.template import engines
from django.test import RequestFactory
from django.utils import formats, timezone, translation

from posts.templatetags.blog import MonthNames
from tests.factories import CategoryFactory, PostFactory, TagFactory

pytestmark = pytest.mark.django_db

UTC = dt.UTC
TEMPLATES = "{% load blog %}{% recent_posts %}{% category_list %}{% tag_cloud %}{% monthly_archives %}"
PYTHON = "{% load blog %}{% sidebar_widgets %}"
BLOCK = r"(?:section|h2|ul|li)"


def normalised(html: str) -> str:
    """Whitespace runs as one space, and none beside a block element's tags (where a browser
    shows none); the spaces between inline elements ("</a> <span") must agree."""
    html = re.sub(r"\s+", " ", str(html))
    return re.sub(rf"\s*(</?{BLOCK}\b[^>]*>)\s*", r"\1", html).strip()


def render(source: str, lang: str) -> str:
    request = RequestFactory().get("/")
    with translation.override(lang):
        return engines["django"].from_string(source).render({}, request)


@pytest.fixture
def site(author):
    water = CategoryFactory(name="Water & <sanitation>", slug="water")
    rural = CategoryFactory(name='Rural "WASH"', slug="rural", parent=water)
    CategoryFactory(name="Deeper", slug="deeper", parent=rural)
    CategoryFactory(name="Unused", slug="unused")
    agua = CategoryFactory(name="Agua y saneamiento", slug="agua-y-saneamiento-ñ")
    tags = [TagFactory(name=f"tag <{n}> & co", slug=f"tag-{n}") for n in range(4)]
    TagFactory(name="lonely", slug="lonely")
    for n in range(9):
        PostFactory(
            title=f"Post <{n}> & \"quotes\" 'too'",
            published_at=dt.datetime(2025, 1 + n % 4, 10, tzinfo=UTC) + dt.timedelta(hours=n),
            categories=[rural] if n < 3 else [water, rural] if n == 3 else [agua],
            tags=tags[: 1 + n % 4],
            authors=[author],
        )


@pytest.mark.parametrize("lang", ["en", "es", "fr"])
def test_sidebar_widgets_match_their_templates(site, lang):
    python, templates = render(PYTHON, lang), render(TEMPLATES, lang)
    assert normalised(python) == normalised(templates)
    # Every widget is there, nested categories and escaped names included.
    for needle in (
        "widget-recent",
        "widget-categories",
        "widget-tags",
        "widget-archives",
        "Water &amp; &lt;sanitation&gt;",
        "<ul><li><a",
        "/category/agua-y-saneamiento-%C3%B1/",
        "Post &lt;7&gt; &amp; &quot;quotes&quot; &#x27;too&#x27;",
    ):
        assert needle in normalised(python), needle


@pytest.mark.parametrize("lang", ["en", "es", "fr"])
def test_main_nav_matches_its_template(site, lang):
    python = render("{% load blog %}{% main_nav_categories %}", lang)
    templates = render("{% load blog %}{% main_categories %}", lang)
    assert normalised(python) == normalised(templates)
    assert normalised(python).count("<li>") == 2


def test_an_empty_site_draws_no_widgets(db):
    assert normalised(render(PYTHON, "en")) == normalised(render(TEMPLATES, "en")) == ""
    assert render("{% load blog %}{% main_nav_categories %}", "en") == ""


@pytest.mark.parametrize("lang", ["en", "es", "fr", "de"])
@pytest.mark.parametrize("zone", ["UTC", "America/Lima", "Pacific/Kiritimati"])
def test_month_names_are_the_year_month_format_of_each_month(lang, zone):
    """The archives' names ("April 2025", "abril de 2025"), each month's words made once."""
    months = [
        dt.datetime(year, month, day, hour, tzinfo=UTC)
        for year in (1999, 2025)
        for month in range(1, 13)
        for day, hour in ((1, 0), (28, 23))
    ]
    with translation.override(lang), timezone.override(zone):
        names = MonthNames()
        for when in months:
            assert names(when) == formats.date_format(timezone.localtime(when), "YEAR_MONTH_FORMAT")
