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


@dataclass(frozen=True)
class FollowSection:
    key: str  # unique; also the section's id on the page (/subscribe/#email)
    order: int
    template: str
    context: Callable[[HttpRequest], dict | None]  # the template's context; None hides the section


_sections: dict[str, FollowSection] = {}


def follow_section_register(section: FollowSection) -> None:
    _sections[section.key] = section


FEEDS = FollowSection(key="feeds", order=30, template="posts/_follow_feeds.html", context=lambda request: {})
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
