"""Template tags for a post's discussion. (Not named comments.py: that would clash with
django_comments' library of the same name, check templates.W003.)"""

from __future__ import annotations

from django import template
from django.conf import settings

from comments.moderation import comments_open
from comments.thread import build_tree, initials_avatar, public_comments, split_linkbacks

register = template.Library()


@register.inclusion_tag("comments/_discussion.html", takes_context=True)
def render_discussion(context, post):
    comments = list(public_comments(post.pk))
    for comment in comments:
        comment.avatar = initials_avatar(comment.user_name, comment.user_email)
    thread_comments, mentions = split_linkbacks(comments)
    return {
        "request": context.get("request"),
        "csp_nonce": context.get("csp_nonce"),
        "post": post,
        "tree": build_tree(thread_comments),
        "mentions": mentions,
        "comment_count": len(comments),
        "comments_open": comments_open(post),
        "max_level": settings.COMMENTS_XTD_MAX_THREAD_LEVEL,
    }


@register.simple_tag
def avatar_for(comment):
    return initials_avatar(comment.user_name, comment.user_email)
