"""The post page's article has two renderers that agree: posts/article.py (what the page uses, for
speed) and templates/posts/_article.html with its includes (where the markup can be read) give
the same HTML, apart from indentation and blank lines, in every language: several authors or one,
bios, categories, tags, translations, a table of contents, neighbours and related posts, a
preview, and names and titles that need escaping."""

from __future__ import annotations

import datetime as dt

import pytest
from django.template.loader import render_to_string
from django.test import RequestFactory
from django.utils import translation

from posts import article, views
from posts.models import AuthorProfile, Post
from tests.factories import CategoryFactory, PostFactory, TagFactory, UserFactory

pytestmark = pytest.mark.django_db

UTC = dt.UTC
NASTY = "<b>\"x\" & 'y'</b>"


def normalised(html: str) -> str:
    """Each line without its indentation, blank lines dropped: the template's layout whitespace."""
    return "\n".join(line.strip() for line in str(html).splitlines() if line.strip())


def both(post_id: int, lang: str, *, is_preview: bool = False) -> tuple[str, str]:
    with translation.override(lang):
        post = views._post_queryset().get(pk=post_id)
        translations = views._translations(post)
        neighbours = views.Lazy(views._neighbours, post)
        values = {
            "translations": translations,
            "is_preview": is_preview,
            "previous_post": views.Lazy(lambda: neighbours()[0]),
            "next_post": views.Lazy(lambda: neighbours()[1]),
            "related_posts": views.Lazy(views._related, post),
        }
        python = article.article(post, **values)
        request = RequestFactory().get(post.get_absolute_url())
        templates = render_to_string("posts/_article.html", {"post": post, **values}, request)
    return python, templates


@pytest.fixture
def site():
    writers = [
        UserFactory(username="amara", first_name="Amara", last_name=NASTY),
        UserFactory(username="li.wei", first_name="Li", last_name="Wei"),
        UserFactory(username="zoe_k", first_name="Zoë", last_name="K"),
    ]
    AuthorProfile.objects.filter(user=writers[0]).update(bio=f"Engineer.\nWrites about {NASTY}.")
    AuthorProfile.objects.filter(user=writers[1]).update(display_name="")
    water = CategoryFactory(name=f"Water {NASTY}", slug="water")
    rural = CategoryFactory(name="Rural", slug="rural", parent=water)
    tags = [TagFactory(name=f"tag {n} {NASTY}", slug=f"tag-{n}") for n in range(3)]
    when = dt.datetime(2025, 3, 14, 23, 30, tzinfo=UTC)
    posts = [
        PostFactory(
            title=f"Post {n} {NASTY}",
            published_at=when + dt.timedelta(days=n),
            authors=writers[: 1 + n % 3],
            categories=[water, rural][: n % 3],
            tags=tags[: n % 4],
            body=f"Intro {NASTY}\n\n## One\n\ntext\n\n## Two\n\n### Three & <four>\n\nmore",
        )
        for n in range(5)
    ]
    middle = posts[2]
    for language in ("es", "fr"):
        PostFactory(
            language=language,
            title=f"{language} {NASTY}",
            translation_group=middle.translation_group,
            published_at=when + dt.timedelta(days=10),
            authors=writers[:1],
        )
    return posts


@pytest.mark.parametrize("lang", ["en", "es", "fr"])
def test_article_matches_its_templates(site, lang):
    seen = set()
    for post in site:
        python, templates = both(post.pk, lang)
        assert normalised(python) == normalised(templates), post.title
        seen.update(
            part
            for part in ('rel="prev"', 'rel="next"', 'class="related"', 'class="translations"', 'class="toc"')
            if part in python
        )
        seen.update(part for part in ("p-note bio", "<br", 'class="tags"', "kicker") if part in python)
        assert NASTY not in python
    assert len(seen) == 9  # the comparison saw every optional part


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_preview_and_a_post_without_anything(site, lang):
    lonely = PostFactory(title="Alone", status=Post.Status.DRAFT, published_at=None)
    python, templates = both(lonely.pk, lang, is_preview=True)
    assert normalised(python) == normalised(templates)
    assert 'class="share"' not in python and 'class="byline"' in python


def test_the_post_page_draws_the_article_with_it(client, site, uncached_render):
    html = client.get(site[2].get_absolute_url()).content.decode()
    python, _templates = both(site[2].pk, "en")
    assert normalised(python) in normalised(html)
