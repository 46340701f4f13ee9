"""Search as a reader uses it: results, ranking, highlighted snippets, odd input, /?s=."""

from __future__ import annotations

import datetime as dt
from urllib.parse import quote

import pytest
from bs4 import BeautifulSoup
from django.db import connection

from tests.factories import PostFactory

UTC = dt.UTC


def get_page(client, url, status=200):
    response = client.get(url)
    assert response.status_code == status, (url[:80], response.status_code)
    return BeautifulSoup(response.content, "html.parser")


def result_titles(page):
    return [a.get_text(strip=True) for a in page.select("article.post-card h2 a")]


def needs_postgresql():
    if connection.vendor != "postgresql":
        pytest.skip("full-text stemming and ranking run on PostgreSQL only; SQLite uses the word fallback")


@pytest.fixture
def library(db, author):
    return {
        "es": PostFactory(
            title="Dos años de aprendizaje sectorial",
            language="es",
            body="La red publicó un balance de su aprendizaje en agua y saneamiento.",
            authors=[author],
        ),
        "fr": PostFactory(
            title="Apprendre en réseau",
            language="fr",
            body="Le réseau a publié un bilan sur l'eau et l'assainissement.",
            authors=[author],
        ),
        "en": PostFactory(
            title="What we learned about pumps",
            language="en",
            body="We learned that repairs need a budget before the pump breaks.",
            authors=[author],
        ),
    }


def test_aprendizaje_finds_the_spanish_post(client, library):
    page = get_page(client, "/search/?q=aprendizaje")
    assert result_titles(page) == ["Dos años de aprendizaje sectorial"]
    assert page.select_one("article.post-card")["lang"] == "es"


def test_learning_finds_learned_on_postgresql(client, library):
    needs_postgresql()
    page = get_page(client, "/search/?q=learning")
    assert result_titles(page) == ["What we learned about pumps"]
    marks = [m.get_text() for m in page.select(".snippet mark")]
    assert marks and {m.lower() for m in marks} == {"learned"}


def test_each_language_uses_its_own_stemmer_on_postgresql(client, library):
    needs_postgresql()
    # French stemming: "publiés" and "publié" share a stem; the English stemmer would not match.
    assert result_titles(get_page(client, "/search/?q=publiés")) == ["Apprendre en réseau"]


def test_the_match_can_use_the_gin_index_on_postgresql(library):
    needs_postgresql()
    from posts.models import Post

    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")  # a tiny table would be scanned anyway
    # The word match alone (the publication filter has its own b-tree index).
    plan = Post.objects.search("learning").explain()
    assert "Bitmap Index Scan on post_search_vector_gin" in plan


def test_results_are_ranked_by_relevance_on_postgresql(client, author):
    needs_postgresql()
    PostFactory(title="Newer, one mention", body="Sanitation once.", authors=[author])
    PostFactory(
        title="Older, all about it",
        body="Sanitation, sanitation and more sanitation: sanitation everywhere.",
        published_at=dt.datetime(2020, 1, 1, tzinfo=UTC),
        authors=[author],
    )
    assert result_titles(get_page(client, "/search/?q=sanitation")) == [
        "Older, all about it",
        "Newer, one mention",
    ]


def test_snippets_highlight_matches_and_escape_post_text(client, author):
    PostFactory(
        title="Notes on safety",
        body="Never paste `<script>alert(1)</script>` into a page. Water safety comes first.",
        authors=[author],
    )
    page = get_page(client, "/search/?q=water")
    snippet = page.select_one("article.post-card .snippet")
    assert [m.get_text().lower() for m in snippet.select("mark")] == ["water"]
    # The post's text shows as text (PostgreSQL's headline drops tag-like words): never as markup.
    assert snippet.select("script") == []
    assert "alert(1)" in snippet.get_text()


def test_every_word_must_match(client, library):
    assert result_titles(get_page(client, "/search/?q=pumps+budget")) == ["What we learned about pumps"]
    assert result_titles(get_page(client, "/search/?q=pumps+saneamiento")) == []


@pytest.mark.parametrize("raw", ["", "   ", "%00%01%02", "%1b%7f%08%0a"])
def test_an_empty_query_gives_a_friendly_page(client, library, raw):
    page = get_page(client, f"/search/?q={raw}")
    assert page.h1.get_text(strip=True) == "Search"
    assert page.select_one(".search-help").get_text() == "Type a few words to search the posts."
    assert page.select("article.post-card") == []


def test_a_ten_kilobyte_query_is_shortened_with_a_notice(client, library):
    page = get_page(client, "/search/?q=" + "pumps " * 1700)
    assert "first 200 characters" in page.select_one(".notice").get_text()
    assert result_titles(page) == ["What we learned about pumps"]
    assert len(page.h1.get_text()) < 260


def test_control_characters_are_dropped_from_the_query(client, library):
    page = get_page(client, "/search/?q=%00pumps%07%1f")
    assert result_titles(page) == ["What we learned about pumps"]
    assert page.h1.get_text() == "Search results for “pumps”"


@pytest.mark.parametrize("raw", ['"unclosed', "a & | ! ( ) : *", "-", "the", "🙂", "<b>x</b>", "%", "_"])
def test_odd_queries_never_fail(client, library, raw):
    page = get_page(client, "/search/?q=" + quote(raw))
    assert page.h1 is not None
    assert page.select("main b") == []


def test_wordpress_style_query_on_the_home_page_searches(client, library):
    page = get_page(client, "/?s=aprendizaje")
    assert result_titles(page) == ["Dos años de aprendizaje sectorial"]
    assert page.select_one("meta[name=robots]")["content"] == "noindex, follow"


def test_search_results_paginate_by_path_keeping_the_query(client, author):
    for n in range(12):
        PostFactory(
            title=f"Water note {n}",
            body="water",
            published_at=dt.datetime(2025, 1, 1, tzinfo=UTC) + dt.timedelta(days=n),
            authors=[author],
        )
    first = get_page(client, "/search/?q=water")
    assert len(result_titles(first)) == 10
    assert first.select_one("nav.pagination a[rel=next]")["href"] == "/search/page/2/?q=water"
    second = get_page(client, "/search/page/2/?q=water")
    assert len(result_titles(second)) == 2
    assert second.select_one("nav.pagination a[rel=prev]")["href"] == "/search/?q=water"
