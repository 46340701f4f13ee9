"""The cards' and the byline's two renderers agree: posts/cards.py (what the lists and the post
page use, for speed) and includes/_post_card.html and _byline.html (where the markup can be read)
give the same HTML, apart from whitespace beside block elements, in every language: names and
titles that need escaping, featured images with and without the worker's copies, several
authors, one or none, no category, search snippets, and comment and mention counts of 0, 1 and
more."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.template import engines
from django.test import RequestFactory
from django.utils import timezone, translation

from core.cache import deps
from posts.models import AuthorProfile, Post, PostAuthor
from posts.search import attach_snippets
from posts.views import _post_queryset, listing_queryset
from tests.factories import CategoryFactory, PostFactory, UserFactory, make_comment

pytestmark = pytest.mark.django_db

UTC = dt.UTC
BLOCK = r"(?:article|div|p|h2)"
CARDS_TEMPLATE = (
    "{% for post in posts %}"
    '{% include "includes/_post_card.html" with eager_image=forloop.first %}'
    "{% endfor %}"
)
CARDS_PYTHON = "{% load cards %}{% post_cards posts eager_first=True %}"
SEARCH_TEMPLATE = '{% for post in posts %}{% include "includes/_post_card.html" %}{% endfor %}'
SEARCH_PYTHON = "{% load cards %}{% post_cards posts %}"
BYLINE_TEMPLATE = '{% include "includes/_byline.html" %}'
BYLINE_PYTHON = "{% load cards %}{% post_byline post %}"


def normalised(html: str) -> str:
    """Whitespace runs as one space, and none beside a block element's tags (where a browser
    shows none); the spaces between inline elements ("</a> and <a", "</span> <time") must agree."""
    html = re.sub(r"\s+", " ", str(html))
    return re.sub(rf"\s*(</?{BLOCK}\b[^>]*>)\s*", r"\1", html).strip()


def render(source: str, lang: str, zone: str = "UTC", **context) -> str:
    request = RequestFactory().get("/")
    with translation.override(lang), timezone.override(zone):
        return engines["django"].from_string(source).render(context, request)


@pytest.fixture
def site(author):
    water = CategoryFactory(name="Water & <sanitation>", slug="water")
    agua = CategoryFactory(name="Agua y saneamiento", slug="agua-y-saneamiento-ñ")
    odd = UserFactory(username="o.brien+field@x", first_name="Seán", last_name="O'Brien <&>")
    plain = UserFactory(username="plainname")
    AuthorProfile.objects.filter(user=plain).update(display_name="")  # full name empty: the username
    third = UserFactory(username="third", first_name="Zoë", last_name="Ba")
    authors_by_post = [[author], [author, odd], [odd, plain, third], [plain], [], [third, author, odd, plain]]
    posts = []
    for n, authors in enumerate(authors_by_post):
        post = PostFactory(
            title=f"Post <{n}> & \"quotes\" 'too'",
            slug=f"post-{n}" if n != 2 else "ñandú-post",
            excerpt="An excerpt with <b>markup</b> & an ampersand." if n % 2 else "",
            body=f'Body of post {n}: pumps & "kiosks" &lt;here&gt;.\n\nSecond paragraph.',
            published_at=dt.datetime(2025, 3, 31, 23, 30, tzinfo=UTC) - dt.timedelta(days=n * 40),
            categories=[] if n in (2, 4) else [water] if n % 2 else [agua, water],
            language=["en", "es", "fr"][n % 3],
            featured=n == 5,
        )
        PostAuthor.objects.filter(post=post).delete()
        for position, user in enumerate(authors):
            PostAuthor.objects.create(post=post, user=user, position=position)
        posts.append(post)
    # Featured images: the worker's copies for one post, the original alone for another.
    Post.objects.filter(pk=posts[0].pk).update(
        featured_image="featured/pump & co.jpg",
        featured_image_variants={
            "name": "featured/pump & co.jpg",
            "width": 1600,
            "height": 900,
            "widths": [480, 960, 1600],
            "ext": "jpg",
        },
    )
    Post.objects.filter(pk=posts[3].pk).update(
        featured_image="featured/kiosk.png", featured_image_alt="A <kiosk>"
    )
    # Counts: none; one comment; many comments and one mention; one comment, many mentions.
    for post, comments, mentions in ((posts[1], 1, 0), (posts[2], 3, 1), (posts[3], 1, 2), (posts[5], 12, 0)):
        for i in range(comments):
            make_comment(post, comment=f"Reply {i}.")
        for i in range(mentions):
            link = f"https://elsewhere.example/{i}"
            make_comment(post, kind="webmention", source_url=link, comment=f"Link {i}.")
    make_comment(posts[4], is_public=False)  # not counted
    return posts


def listed():
    return list(listing_queryset())


@pytest.mark.parametrize("lang", ["en", "es", "fr"])
@pytest.mark.parametrize("zone", ["UTC", "Pacific/Kiritimati"])
def test_cards_match_their_template(site, lang, zone):
    python = render(CARDS_PYTHON, lang, zone, posts=listed())
    templates = render(CARDS_TEMPLATE, lang, zone, posts=listed())
    assert normalised(python) == normalised(templates)
    text = normalised(python)
    assert text.count('<article class="post-card h-entry"') == 6
    for needle in (
        "Post &lt;3&gt; &amp; &quot;quotes&quot; &#x27;too&#x27;",
        "Water &amp; &lt;sanitation&gt;",
        "/category/agua-y-saneamiento-%C3%B1/",
        "/%C3%B1and%C3%BA-post/",
        "/author/o.brien+field@x/",
        "Seán O&#x27;Brien &lt;&amp;&gt;",
        ">plainname</a>",
        "An excerpt with &lt;b&gt;markup&lt;/b&gt; &amp; an ampersand.",
        "Body of post 0: pumps &amp; “kiosks” &lt;here&gt;. Second paragraph.",
        '<picture><source type="image/webp"',
        'fetchpriority="high"',
        'loading="lazy"',
        'lang="es"',
        f'<p class="byline" lang="{lang}"><span aria-hidden="true">·</span>',  # no author
    ):
        assert needle in text, needle
    assert text.count('class="kicker"') == 4
    assert text.count("#mentions") == 2


@pytest.mark.parametrize("lang", ["en", "es", "fr"])
def test_counts_and_conjunctions_are_translated(site, lang):
    text = normalised(render(CARDS_PYTHON, lang, posts=listed()))
    words = {
        "en": ("0 comments<", "1 comment<", "12 comments<", "1 mention<", "2 mentions<", " and <a"),
        "es": ("0 comentarios<", "1 comentario<", "12 comentarios<", "1 mención<", "2 menciones<", " y <a"),
        "fr": (
            "0 commentaire<",
            "1 commentaire<",
            "12 commentaires<",
            "1 citation<",
            "2 citations<",
            " et <a",
        ),
    }[lang]
    for word in words:
        assert word in text, word
    assert text.count(', <a class="p-author') == 1 + 2  # three authors: one comma; four: two


@pytest.mark.parametrize("lang", ["en", "es", "fr"])
def test_search_cards_show_the_snippet_and_no_eager_image(site, lang):
    posts = listed()
    attach_snippets(posts, "pumps")
    python = render(SEARCH_PYTHON, lang, posts=posts)
    templates = render(SEARCH_TEMPLATE, lang, posts=posts)
    assert normalised(python) == normalised(templates)
    assert "<mark>pumps</mark>" in python
    assert "fetchpriority" not in python


@pytest.mark.parametrize("lang", ["en", "es", "fr"])
def test_the_post_pages_byline_matches_its_template(site, lang):
    """The post page's byline ({% post_byline %} in post_detail.html) from the post page's own
    queryset (whole authors and profiles), for every author count."""
    for post in _post_queryset().filter(pk__in=[p.pk for p in site]):
        python = render(BYLINE_PYTHON, lang, post=post)
        templates = render(BYLINE_TEMPLATE, lang, post=post)
        assert normalised(python) == normalised(templates)
        assert "dt-published" in python


def test_no_cards_render_nothing(db):
    assert render(CARDS_PYTHON, "en", posts=[]) == render(CARDS_TEMPLATE, "en", posts=[]) == ""


def test_cards_say_whose_discussions_they_show(site):
    posts = listed()
    with deps.recording() as python:
        render(CARDS_PYTHON, "en", posts=posts)
    with deps.recording() as templates:
        render(CARDS_TEMPLATE, "en", posts=posts)
    assert python.tags == templates.tags == {deps.discussion_tag(p.pk) for p in site}
    assert python.declared and templates.declared
