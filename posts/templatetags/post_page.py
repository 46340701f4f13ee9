"""Template tags of the post page that draw its markup in Python (posts/article.py)."""

from __future__ import annotations

from django import template

from posts import article

register = template.Library()


@register.simple_tag(takes_context=True)
def post_article(context):
    """The article, its neighbours and related posts: the same HTML as
    {% include "posts/_article.html" %}, the readable copy."""
    return article.article(
        context["post"],
        translations=context.get("translations") or (),
        is_preview=bool(context.get("is_preview")),
        previous_post=context.get("previous_post"),
        next_post=context.get("next_post"),
        related_posts=context.get("related_posts"),
    )
