"""`{% post_cards posts %}` and `{% post_byline post %}`: the cards of a list and a post's byline,
written in Python (posts/cards.py). The same HTML as `{% include "includes/_post_card.html" %}`
for each post and `{% include "includes/_byline.html" %}`, whose templates are the readable copy
of the markup (tests/test_cards_render.py)."""

from __future__ import annotations

from django import template
from django.utils.safestring import mark_safe

from posts import cards

register = template.Library()


@register.simple_tag
def post_cards(posts, eager_first: bool = False) -> str:
    """Each post's card, the first one's image eager if `eager_first` (above the fold); says that
    what is being rendered shows these posts' discussions, as each card's
    `{% shows_discussion post.pk %}` does."""
    return mark_safe(cards.post_cards(posts or (), eager_first=eager_first))  # noqa: S308 (escaped in posts/cards.py)


@register.simple_tag
def post_byline(post) -> str:
    return mark_safe(cards.CardWriter().byline(post))  # noqa: S308 (escaped in posts/cards.py)
