"""The likes and boosts row shown above a post's thread: "Liked by A, B and 3 others · Shared by
C", each name linked to the person's profile. Likes and boosts are counted, never comments."""

from __future__ import annotations

from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext, ngettext

from core.prepared import prepared
from federation.models import Reaction

NAMES_SHOWN = 5


def _people(reactions: list[Reaction]):
    shown = reactions[:NAMES_SHOWN]
    names = format_html_join(
        ", ",
        '<a href="{}" rel="nofollow ugc" title="{}">{}</a>',
        (
            (r.actor.profile_url or r.actor.uri, r.actor.handle, r.actor.name or r.actor.preferred_username)
            for r in shown
        ),
    )
    more = len(reactions) - len(shown)
    if more > 0:
        others = ngettext("and %(count)d other", "and %(count)d others", more) % {"count": more}
        return format_html("{} {}", names, others)
    return names


@prepared(post_id=int)
def _reactions(post_id):
    return Reaction.objects.filter(post=post_id).select_related("actor").order_by("created_at", "pk")


def reactions_row(post) -> str:
    """The row's HTML, or "" when nobody liked or shared the post."""
    reactions = _reactions(post_id=post.pk)
    if not reactions:
        return ""
    likes = [r for r in reactions if r.kind == Reaction.Kind.LIKE]
    boosts = [r for r in reactions if r.kind == Reaction.Kind.ANNOUNCE]
    parts = []
    if likes:
        parts.append(
            format_html(
                '<p class="reaction-likes"><span class="count">{}</span> {} {}</p>',
                len(likes),
                gettext("Liked by"),
                _people(likes),
            )
        )
    if boosts:
        parts.append(
            format_html(
                '<p class="reaction-boosts"><span class="count">{}</span> {} {}</p>',
                len(boosts),
                gettext("Shared by"),
                _people(boosts),
            )
        )
    return format_html(
        '<section class="reactions" aria-label="{}">{}</section>',
        gettext("Likes and shares on the fediverse"),
        format_html_join("", "{}", ((p,) for p in parts)),
    )
