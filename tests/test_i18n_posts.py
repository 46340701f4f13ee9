"""Each post renders in its own language inside an interface in the reader's language.

The article carries the post's `lang`; the interface text inside it (byline date, reading time,
tags label, share box, table of contents heading) carries the interface's `lang`, so a screen
reader switches voice at the right places (WCAG 3.1.2). Dates follow the interface language, and
translations are linked with `hreflang`, in the head and in the page.
"""

from __future__ import annotations

import datetime as dt

import pytest
from bs4 import BeautifulSoup
from django.utils import timezone

from tests import factories

pytestmark = pytest.mark.django_db

ORIGIN = "https://example.org"


@pytest.fixture
def pair(db, settings):
    settings.SITE_SCHEME, settings.SITE_DOMAIN = "https", "example.org"
    writer = factories.UserFactory(username="ana")
    when = timezone.make_aware(dt.datetime(2026, 3, 14, 10, 0))
    english = factories.PostFactory(
        title="Hand pumps that last",
        slug="hand-pumps",
        body="Intro.\n\n## First\n\nText.\n\n## Second\n\nMore text.\n\n## Third\n\nEnd.",
        published_at=when,
        authors=[writer],
        tags=[factories.TagFactory(name="pumps", slug="pumps")],
    )
    spanish = factories.PostFactory(
        title="Bombas manuales que duran",
        slug="bombas-manuales",
        body="Introducción.",
        language="es",
        translation_group=english.translation_group,
        published_at=when + dt.timedelta(hours=1),
        authors=[writer],
    )
    return english, spanish


def page(client, path, lang):
    response = client.get(path, HTTP_ACCEPT_LANGUAGE=lang)
    assert response.status_code == 200
    assert response["Content-Language"] == lang
    return BeautifulSoup(response.content, "html.parser")


@pytest.mark.parametrize(
    ("lang", "date_text", "minutes", "tags_label", "also_in"),
    [
        ("en", "March 14, 2026", "1 minute read", "Tags:", "Also in:"),
        ("es", "14 de marzo de 2026", "1 minuto de lectura", "Etiquetas:", "También en:"),
        ("fr", "14 mars 2026", "1 minute de lecture", "Étiquettes :", "Aussi en :"),
    ],
)
def test_english_post_in_each_interface_language(client, pair, lang, date_text, minutes, tags_label, also_in):
    english, spanish = pair
    html = page(client, english.get_absolute_url(), lang)
    assert html.html["lang"] == lang
    article = html.select_one("article.h-entry")
    assert article["lang"] == "en"
    assert article.select_one("h1.p-name").get_text() == "Hand pumps that last"
    # Interface text inside the English article is marked with the interface language.
    byline = article.select_one(".byline")
    assert byline["lang"] == lang
    assert byline.select_one("time.dt-published").get_text() == date_text
    meta = article.select_one("p.meta")
    assert meta["lang"] == lang and meta.select_one(".reading-time").get_text() == minutes
    tags = article.select_one("p.tags")
    assert tags["lang"] == lang and tags.get_text().startswith(tags_label)
    assert article.select_one("section.share")["lang"] == lang
    assert article.select_one("nav.toc h2")["lang"] == lang
    # Its Spanish translation: linked in the page (named in Spanish) and in the head.
    nav = article.select_one("nav.translations")
    assert nav["lang"] == lang and nav.span.get_text() == also_in
    link = nav.select_one("a[hreflang]")
    assert (link["hreflang"], link["lang"], link.get_text(), link["href"]) == (
        "es",
        "es",
        "español",
        spanish.get_absolute_url(),
    )
    alternates = {a["hreflang"]: a["href"] for a in html.select("head link[rel=alternate][hreflang]")}
    assert alternates == {
        "en": ORIGIN + english.get_absolute_url(),
        "es": ORIGIN + spanish.get_absolute_url(),
    }


def test_spanish_post_in_french_interface(client, pair):
    english, spanish = pair
    html = page(client, spanish.get_absolute_url(), "fr")
    assert html.html["lang"] == "fr"
    article = html.select_one("article.h-entry")
    assert article["lang"] == "es"
    assert article.select_one("time.dt-published").get_text() == "14 mars 2026"
    link = article.select_one("nav.translations a[hreflang=en]")
    assert (link.get_text(), link["href"]) == ("English", english.get_absolute_url())


@pytest.mark.parametrize(("lang", "month"), [("es", "marzo de 2026"), ("fr", "mars 2026")])
def test_lists_keep_post_language_and_interface_language_apart(client, pair, lang, month):
    html = page(client, "/", lang)
    cards = {card.h2.get_text(strip=True): card for card in html.select("article.post-card")}
    assert cards["Hand pumps that last"]["lang"] == "en"
    assert cards["Bombas manuales que duran"]["lang"] == "es"
    for card in cards.values():
        assert card.select_one(".byline")["lang"] == lang
        assert card.select_one("p.meta")["lang"] == lang
    archive_links = [a.get_text() for a in html.select(".widget-archives a")]
    assert archive_links == [month]


def test_each_translation_shows_its_own_categories_and_tags_in_name_order(client, pair):
    """The post and its translations' categories and tags are read in one query for the whole
    group (posts/views.py _group_terms): each page still shows only its own, by name, whatever
    order they were created in, and a category's link leads to its page."""
    english, spanish = pair
    zebra = factories.CategoryFactory(name="Zebra crossings")
    alpha = factories.CategoryFactory(name="Alpha sites")
    english.categories.set([zebra, alpha])
    spanish.categories.set([factories.CategoryFactory(name="Saneamiento")])
    english.tags.set([factories.TagFactory(name="wells"), factories.TagFactory(name="boreholes")])
    spanish.tags.set([factories.TagFactory(name="bombas")])

    en = page(client, english.get_absolute_url(), "en")
    assert [a.get_text() for a in en.select(".categories a")] == ["Alpha sites", "Zebra crossings"]
    assert en.select_one(".categories a")["href"] == alpha.get_absolute_url()
    assert [a.get_text() for a in en.select(".tags a")] == ["boreholes", "wells"]

    es = page(client, spanish.get_absolute_url(), "es")
    assert [a.get_text() for a in es.select(".categories a")] == ["Saneamiento"]
    assert [a.get_text() for a in es.select(".tags a")] == ["bombas"]
