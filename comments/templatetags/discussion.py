"""Template tags for a post's discussion. (Not named comments.py: that would clash with
django_comments' library of the same name, check templates.W003.)

`{% render_discussion post %}` renders the thread with our own lean templates, never xtd's tree
tag (XTD-NOTES traps 1 and 6), in a constant number of queries (see comments/thread.py).
"""

from __future__ import annotations

import hashlib
import time

from django import template
from django.conf import settings
from django.contrib import messages
from django.contrib.messages.storage.cookie import CookieStorage
from django.utils.html import escape, format_html
from django.utils.safestring import mark_safe
from django.utils.translation import get_language, gettext, ngettext

from comments import formhtml, render
from comments.commenter import JUST_POSTED_TAG
from comments.extensions import thread_header_html
from comments.models import Comment
from comments.moderation import MODERATE_PERMISSION, comments_open
from comments.thread import thread_page
from core.cache import deps, fragments
from core.cache.policy import fragments_bypassed

register = template.Library()


def thread_fingerprint(page, *, comments_open: bool) -> str:
    """A digest of everything the rendered thread shows: same digest, same HTML.

    Rendering a long thread is most of a post page's cost; its HTML is kept in the cache under this
    key, so it is rebuilt only when a comment, the page, the language or the settings change.
    """
    digest = hashlib.sha256(
        "|".join(
            str(part)
            for part in (
                # Templates, renderer and catalogues: a deploy never serves the old HTML.
                fragments.deploy_digest(),
                get_language(),
                settings.TIME_ZONE,
                page.number,
                page.num_pages,
                page.total,
                comments_open,
                settings.COMMENTS_MAX_THREAD_LEVEL,
                settings.COMMENTS_LINKBACKS_IN_THREAD,
                settings.COMMENTS_USE_GRAVATAR,
            )
        ).encode()
    )

    def add(comment) -> None:
        fields = (
            comment.pk,
            comment.level,
            comment.kind,
            comment.user_name,
            comment.user_url,
            comment.user_email,
            comment.submit_date.isoformat(),
            comment.source_url,
            comment.source_title,
            comment.author_avatar_url,
            comment.source_icon,
            comment.author_handle,
            getattr(comment, "page_number", 1),
        )
        digest.update("\x1e".join(str(f) for f in fields).encode())
        digest.update(b"\x1f" + comment.body_html.encode())

    def walk(nodes) -> None:
        for node in nodes:
            add(node.comment)
            walk(node.children)

    walk(page.tree)
    for comment in page.mentions:
        add(comment)
    return digest.hexdigest()


class ThreadCacheNode(template.Node):
    def __init__(self, nodelist, key):
        self.nodelist = nodelist
        self.key = key

    def render(self, context) -> str:
        key = self.key.resolve(context)
        if not key or fragments_bypassed(context.get("request")):
            return self.nodelist.render(context)
        cache_key = f"sectorblog:thread:{key}"
        html = fragments.get(cache_key)  # a cache outage costs a render, never the page
        if html is None:
            html = self.nodelist.render(context)
            fragments.put(cache_key, html, tags=())  # the key is a digest of what it shows
        version_key = context.get("thread_version_key")
        if version_key:
            fragments.put(version_key, {"html": str(html), "counts": context.get("counts")})
        return html


@register.tag("thread_cache")
def do_thread_cache(parser, token):
    """`{% thread_cache key %}…{% endthread_cache %}`: cache the block's HTML under key; render
    it every time when key is empty (moderators, whose thread carries per-request forms)."""
    bits = token.split_contents()
    if len(bits) != 2:
        raise template.TemplateSyntaxError("thread_cache takes one argument: the key")
    nodelist = parser.parse(("endthread_cache",))
    parser.delete_first_token()
    return ThreadCacheNode(nodelist, parser.compile_filter(bits[1]))


@register.inclusion_tag("comments/_discussion.html", takes_context=True)
def render_discussion(context, post):
    request = context.get("request")
    cpage = request.GET.get("cpage") if request is not None else None
    user = getattr(request, "user", None)
    is_open = comments_open(post)
    # Moderator status once per request, with the one permission (XTD-NOTES trap 7).
    can_moderate = bool(user and user.is_authenticated and user.has_perm(MODERATE_PERMISSION))
    common = {
        "request": request,
        "csp_nonce": context.get("csp_nonce"),
        "post": post,
        "comments_open": is_open,
        # Drawn from the form laid out once (comments/formhtml.py): no CommentForm to build.
        "form": formhtml.BlankForm(post, user=user) if is_open else None,
        "can_moderate": can_moderate,
        # A blank form for an anonymous reader is the same for everyone for a while: its
        # security timestamp is good for two hours, so its HTML (without the CSRF field) is
        # reused for ten minutes.
        "form_fragment": (post.pk, int(time.time() // 600))
        if is_open and not (user and user.is_authenticated)
        else None,
    }
    # Rows that other apps show above the thread (e.g. the fediverse's likes and boosts).
    deps.discussion(post.pk)

    def header() -> str:
        deps.discussion(post.pk)  # the fediverse's likes and boosts of this post
        return str(thread_header_html(post))

    common["thread_header"] = fragments.remember("thread-header", (post.pk,), header, request)
    # Until the content version changes, the thread's HTML and count come from one cache read,
    # without a query: the digest key below still saves the render after unrelated changes.
    version_key = None
    plain_page = cpage is None or (cpage.isdigit() and len(cpage) < 6)
    if fragments.enabled(request) and not can_moderate and plain_page:
        version_key = fragments.fragment_key("thread", (post.pk, cpage, is_open))
        cached = fragments.get(version_key)
        if cached is not None and "counts" in cached:
            just_posted = _just_posted(request, post)
            return {
                **common,
                "thread_html": cached["html"],
                "counts": cached["counts"],
                "just_posted": just_posted,
            }
    common["just_posted"] = _just_posted(request, post)
    page = thread_page(post.pk, cpage or 1)
    if cpage is not None and cpage != str(page.number):
        # ?cpage=0099 or a page past the end shows a real page: keep its HTML under that page's
        # own key only, so made-up page numbers can't fill the cache with copies.
        version_key = None
    return {
        **common,
        "thread_version_key": version_key,
        "tree": page.tree,
        "mentions": page.mentions,
        "page": page,
        "counts": page.counts,
        # Moderators get a fresh render: their thread carries per-request forms. Without the
        # fragment cache there is nowhere to keep it, so no digest either.
        "thread_key": ""
        if can_moderate or not fragments.enabled(request)
        else thread_fingerprint(page, comments_open=is_open),
    }


def _just_posted(request, post) -> dict | None:
    """The reader's own new comment on this post, from the one-time note the comment views leave
    (comments/views.py `_just_posted`): {"comment", "state": "published" or "held"}, or None.
    Only a request carrying the messages cookie is looked at: reading the message store
    otherwise would touch the session of every reader."""
    if request is None or CookieStorage.cookie_name not in request.COOKIES:
        return None
    found = None
    for message in messages.get_messages(request):
        tags = message.extra_tags.split()
        if len(tags) == 2 and tags[0] == JUST_POSTED_TAG and tags[1].isdigit():
            found = int(tags[1])
    if found is None:
        return None
    comment = Comment.objects.filter(pk=found, post_id=post.pk, is_removed=False).first()
    if comment is None:
        return None
    return {"comment": comment, "state": "published" if comment.is_public else "held"}


def _writer(context) -> render.ThreadWriter:
    """One writer for the thread and the mentions list of one render: making it translates its
    labels and reads the date format, which costs as much as drawing a dozen comments."""
    writer = context.render_context.get(_writer)
    if writer is None:
        writer = context.render_context[_writer] = render.ThreadWriter(
            comments_open=context["comments_open"],
            can_moderate=context["can_moderate"],
            request=context.get("request"),
        )
    return writer


@register.simple_tag(takes_context=True)
def thread_html(context):
    """The thread's HTML (comments/render.py): one pass in Python, no template per comment."""
    return _writer(context).thread(context["tree"])


@register.simple_tag
def discussion_heading(counts, is_open=True) -> str:
    """ "12 comments · 4 mentions", "3 comments", or an invitation when nothing is there yet."""
    if not counts["comments"] and not counts["mentions"]:
        return gettext("Start the discussion") if is_open else gettext("No comments")
    parts = []
    if counts["comments"]:
        parts.append(
            ngettext("%(count)s comment", "%(count)s comments", counts["comments"])
            % {"count": counts["comments"]}
        )
    if counts["mentions"]:
        parts.append(
            ngettext("%(count)s mention", "%(count)s mentions", counts["mentions"])
            % {"count": counts["mentions"]}
        )
    return " · ".join(parts)


@register.simple_tag
def in_reply_to(answered) -> str:
    """ "In reply to <a href="#c12">Ana</a>": the name linked to the comment it answers."""
    link = format_html('<a href="#c{}">{}</a>', answered.pk, answered.user_name)
    # The sentence is escaped, the link is built by format_html: the result is safe.
    return mark_safe(escape(gettext("In reply to %(name)s")) % {"name": link})  # noqa: S308


@register.simple_tag
def comment_form_opening():
    """The comment form's <form> tag (comments/formhtml.py): no reverse() or translation per page."""
    return formhtml.form_opening_html()


@register.simple_tag(takes_context=True)
def comment_form_fields(context):
    """The comment form's fields (comments/formhtml.py): the same HTML as
    {% include "comments/_form_fields.html" %}, the readable copy, without a template per widget;
    a blank form without a form at all."""
    return formhtml.comment_form_html(context["form"], context.get("reply_to"))


@register.simple_tag(takes_context=True)
def mentions_html(context):
    return _writer(context).mentions(context["mentions"])
