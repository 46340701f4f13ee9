"""The /subscribe/ page: every way to follow the blog, one section each.

posts serves the page and its feeds section; apps above it add theirs without posts importing
them: the newsletter its email form, federation its fediverse handles. Each registers a
`FollowSection` from its AppConfig.ready(); the page shows them in `order`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext

from posts.models import Category, published_filter


@dataclass(frozen=True)
class FollowSection:
    key: str  # unique; also the section's id on the page (/subscribe/#email)
    order: int
    template: str
    context: Callable[[HttpRequest], dict | None]  # the template's context; None hides the section


_sections: dict[str, FollowSection] = {}


def follow_section_register(section: FollowSection) -> None:
    _sections[section.key] = section


def _feeds_context(request: HttpRequest) -> dict:
    """The feeds a reader may add: the whole site, each language, each top-level category."""
    languages = [
        {"code": code, "name": name, "url": f"{reverse('feeds:site')}?lang={code}"}
        for code, name in settings.LANGUAGES
    ]
    categories = (
        Category.objects.filter(parent__isnull=True)
        .filter(published_filter("posts__"))
        .distinct()
        .order_by("name")
        .only("name", "slug")
    )
    return {
        "languages": languages if len(languages) > 1 else [],
        "categories": [{"name": c.name, "url": reverse("feeds:category", args=[c.slug])} for c in categories],
    }


FEEDS = FollowSection(key="feeds", order=30, template="posts/_follow_feeds.html", context=_feeds_context)
follow_section_register(FEEDS)


def follow_page(
    request: HttpRequest, *, replace: dict[str, dict] | None = None, status: int = 200
) -> HttpResponse:
    """The page, with `replace[key]` as a section's context instead of its own (a form sent back
    with its errors, say)."""
    sections = []
    for section in sorted(_sections.values(), key=lambda s: (s.order, s.key)):
        context = (replace or {}).get(section.key)
        if context is None:
            context = section.context(request)
        if context is not None:
            sections.append((section.template, context))
    return render(
        request,
        "posts/subscribe.html",
        {
            "sections": sections,
            "seo_title": f"{gettext('Subscribe')} · {settings.SITE_NAME}",
            "canonical_path": reverse("posts:subscribe"),
        },
        status=status,
    )
