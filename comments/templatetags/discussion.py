"""Template tags for a post's discussion. (Not named comments.py: that would clash with
django_comments' library of the same name, check templates.W003.)

`{% render_discussion post %}` renders the thread with our own lean templates, never xtd's tree
tag (XTD-NOTES traps 1 and 6), in a constant number of queries (see comments/thread.py).
"""

from __future__ import annotations

from django import template
from django.conf import settings

from comments.forms import CommentForm
from comments.moderation import MODERATE_PERMISSION, comments_open
from comments.thread import avatar_for, thread_page

register = template.Library()


@register.inclusion_tag("comments/_discussion.html", takes_context=True)
def render_discussion(context, post):
    request = context.get("request")
    page = thread_page(post.pk, request.GET.get("cpage") if request is not None else 1)
    user = getattr(request, "user", None)
    is_open = comments_open(post)
    return {
        "request": request,
        "csp_nonce": context.get("csp_nonce"),
        "post": post,
        "tree": page.tree,
        "mentions": page.mentions,
        "page": page,
        "comment_count": page.total,
        "comments_open": is_open,
        "form": CommentForm(post, user=user) if is_open else None,
        "max_level": settings.COMMENTS_XTD_MAX_THREAD_LEVEL,
        # Moderator status once per request, with the one permission (XTD-NOTES trap 7).
        "can_moderate": bool(user and user.is_authenticated and user.has_perm(MODERATE_PERMISSION)),
    }


@register.simple_tag
def avatar(comment):
    return avatar_for(comment)
