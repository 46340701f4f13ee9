"""The comment thread's HTML, written directly in Python.

The same markup lives, readable, in templates/comments/thread/ (thread.html, node.html,
comment.html, linkback.html, source.html, mentions.html); tests/test_discussion_render.py checks
that both give the same HTML, apart from whitespace between tags. Pages use this module because
the templates are many times slower on a long thread: `bench/thread_render.py`, one page of
the benchmark's 155-comment post (155 comments and 5 mentions), median of 30 runs on the 2-core
machine, other work running beside it (load average near 10; 2026-12-07, after issue 24's cold
work: each day's words formatted once, rows instead of model instances; before it, 24.5 ms):

    python (comments/render.py)       8 ms   (best 2.5 ms)
    templates (comments/thread/)    156 ms   (best 117 ms)

Later that day each comment became a few joins: per render, each commenter's face, name and reply
link's end (`ThreadWriter.commenter`), the labels, URL pieces and moderator's form; per day and per
minute, a date's words, escaped (`HumanDatetimes.time_html`); per process, a commenter's initials
and colour. `bench/thread_render.py --profile`, same post, the two versions run in turn:
12,043 → 4,868 function calls per render (12.2 → 6.5 ms profiled on the loaded machine), and
thread_page() 7,297 → 1,767 (avatars are now worked out when drawn, and only once a commenter).

Everything a comment shows is still escaped: names, addresses and titles with `escape()` (a
commenter's once per render), and the body is the sanitised HTML stored when the comment was
saved. Change the templates and this module together; tests/test_discussion_render_reference.py
holds the HTML, byte for byte, to what this module wrote before the per-comment work.

`{% thread_html %}` (comments/templatetags/discussion.py) calls `ThreadWriter.thread` for the
thread and `{% mentions_html %}` calls `ThreadWriter.mentions` for "Mentioned elsewhere".
"""

from __future__ import annotations

import html

from django.middleware.csrf import get_token
from django.urls import reverse
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext

from comments.models import Comment
from comments.thread import Node, ThreadComment, avatar_urls, initials_html
from posts.templatetags.blog import HumanDatetimes

_PK = 2147483646  # a placeholder pk: URLs are reversed once per render, not once per comment
# ThreadComment.is_linkback and .is_remote_reply, read without a property call per comment.
LINKBACK_KINDS = frozenset(kind.value for kind in Comment.LINKBACK_KINDS)
FEDIVERSE = Comment.Kind.FEDIVERSE.value


def escape(text) -> str:
    """django.utils.html.escape's text, without its wrapper for lazy strings: every value here is
    a plain string, and this runs several times per comment."""
    return html.escape(str(text))


def _url_maker(name: str):
    prefix, _sep, suffix = reverse(name, args=[_PK]).partition(str(_PK))
    return lambda pk: f"{prefix}{pk}{suffix}"


class ThreadWriter:
    """One render's thread: everything that is the same for every comment of it (translated
    labels, URL makers, the moderator's form, each commenter's face and name, each day's words)
    is worked out once, so a comment costs little more than joining its own values."""

    def __init__(self, *, comments_open: bool, can_moderate: bool, request=None):
        self.comments_open = comments_open
        self.can_moderate = can_moderate
        self.in_reply_to = escape(gettext("In reply to %(name)s"))
        self.kind_labels = {value: escape(label) for value, label in Comment.Kind.choices}
        # Kinds are slugs, escaped once here for the <li> classes (escape(kind) for any other).
        self.kind_classes = {value: escape(value) for value in Comment.Kind.values}
        self.origin_label = gettext("Original on %(server)s")
        # human_datetime's text, each day's words formatted once per thread.
        self.human_datetime = HumanDatetimes()
        self.time = self.human_datetime.time_html
        # Per commenter (name, addresses, avatar): the header's face and name, and the reply link's
        # end; a long thread's commenters write many of its comments.
        self.commenters: dict[tuple, tuple[str, str, str]] = {}
        self.avatar_url = avatar_urls()
        self.reply_label = escape(gettext("Reply"))
        self.reply_to = gettext("to %(name)s")
        self.reply_url = _url_maker("comments:reply")
        reply_prefix, _sep, reply_suffix = self.reply_url(_PK).partition(str(_PK))
        # '    <a class="reply-link" href="…/reply/' + pk + '/" data-reply-to="' + pk + '" ' + the
        # commenter's end: the comment's actions are its pk set between fixed pieces.
        self.reply_pieces = (
            f'    <a class="reply-link" href="{reply_prefix}',
            f'{reply_suffix}" data-reply-to="',
        )
        self.remove_pieces = ("", "")
        if can_moderate:
            self.remove_url = _url_maker("comments:remove")
            self.remove_label = escape(gettext("Remove"))
            self.csrf = escape(get_token(request)) if request is not None else ""
            self.next = escape(request.get_full_path()) if request is not None else ""
            remove_prefix, _sep, remove_suffix = self.remove_url(_PK).partition(str(_PK))
            self.remove_pieces = (
                f'    <form class="inline" method="post" action="{remove_prefix}',
                f'{remove_suffix}"><input type="hidden" name="csrfmiddlewaretoken" value="{self.csrf}">'
                f'<input type="hidden" name="next" value="{self.next}">'
                f'<button type="submit" class="link">{self.remove_label}</button></form>\n',
            )

    # --- one comment -------------------------------------------------------------------------
    @staticmethod
    def icon(c: ThreadComment) -> str:
        if not c.source_icon:
            return ""
        src = escape(c.source_icon)
        return f'<img class="favicon" src="{src}" alt="" width="16" height="16" loading="lazy">'

    def linkback_body(self, c: ThreadComment) -> str:
        pk = c.pk
        parts = [
            '<header class="comment-head linkback">\n'
            f'  <span class="kind">{self.kind_labels.get(c.kind, escape(c.kind))}</span>\n'
            f'  <span class="site" id="c{pk}-by">{self.icon(c)}{escape(c.source_site)}</span>\n'
        ]
        if c.safe_source_url:
            url = escape(c.safe_source_url)
            title = escape(c.source_title) or url
            parts.append(f'  <a class="source" href="{url}" rel="nofollow ugc">{title}</a>\n')
        elif c.source_title:
            parts.append(f'  <span class="source">{escape(c.source_title)}</span>\n')
        parts.append(
            f'  <a class="permalink" href="#c{pk}">{self.time(c.submit_date)}</a>\n'
            "</header>\n"
            f'<div class="comment-body">{c.body_html}</div>'
        )
        return "".join(parts)

    def commenter(self, c: ThreadComment, key: tuple) -> tuple[str, str, str]:
        """(the header up to the comment's pk, from the pk to the author's name's end, the reply
        link's end) for the comment's commenter, made once per render: the avatar is what
        avatar_for gives, the name links to a safe website."""
        name = html.escape(c.user_name)
        url = self.avatar_url(c)
        if url:
            face = f'<img class="avatar" src="{escape(url)}" alt="" width="48" height="48" loading="lazy">'
        else:
            face = initials_html(c.user_name, c.user_email or c.author_handle)
        author = (
            f'<a href="{escape(c.safe_user_url)}" rel="nofollow ugc">{name}</a>' if c.safe_user_url else name
        )
        made = self.commenters[key] = (
            f'<header class="comment-head">\n    {face}\n    <span class="comment-author" id="c',
            f'-by">{author}</span>',
            f'" data-reply-name="{name}">{self.reply_label}<span class="visually-hidden"> '
            f"{self.reply_to % {'name': name}}</span></a>\n",
        )
        return made

    def comment_body(self, c: ThreadComment, in_reply_to: ThreadComment | None = None) -> str:
        pk = c.pk
        commenters = self.commenters
        key = (c.user_name, c.user_url, c.user_email, c.author_handle, c.kind, c.author_avatar_url)
        head, author, reply_end = commenters[key] if key in commenters else self.commenter(c, key)
        page = c.page_number
        permalink = f"?cpage={page}#c{pk}" if page > 1 else f"#c{pk}"
        remote = ""
        if c.kind == FEDIVERSE:
            # A fediverse reply: the sender's handle, and where it was first published.
            remote = f'\n    <span class="comment-handle">{escape(c.author_handle)}</span>'
            if c.safe_source_url:
                server = c.source_host
                remote += (
                    f'\n    <a class="comment-origin" href="{escape(c.safe_source_url)}" rel="nofollow ugc">'
                    f"{escape(self.origin_label % {'server': server})}</a>"
                )
        answered = ""
        if in_reply_to is not None:
            # Drawn away from the reply it answers (the thread is deeper than it is drawn).
            link = f'<a href="#c{in_reply_to.pk}">{escape(in_reply_to.user_name)}</a>'
            answered = f'  <p class="in-reply-to">{self.in_reply_to % {"name": link}}</p>\n'
        actions = ""
        if self.comments_open or self.can_moderate:
            reply = (
                f"{self.reply_pieces[0]}{pk}{self.reply_pieces[1]}{pk}{reply_end}"
                if self.comments_open
                else ""
            )
            remove = f"{self.remove_pieces[0]}{pk}{self.remove_pieces[1]}" if self.can_moderate else ""
            actions = f'  <p class="comment-actions">\n{reply}{remove}  </p>\n'
        return (
            f"{head}{pk}{author}{remote}\n"
            f'    <a class="permalink" href="{permalink}">{self.time(c.submit_date)}</a>\n  </header>\n'
            f'{answered}  <div class="comment-body">{c.body_html}</div>\n{actions}'
        )

    # --- the thread --------------------------------------------------------------------------
    def node(self, node: Node, out: list[str]) -> None:
        c = node.comment
        kind = c.kind
        kind_class = self.kind_classes[kind] if kind in self.kind_classes else escape(kind)
        body = self.linkback_body(c) if kind in LINKBACK_KINDS else self.comment_body(c, node.in_reply_to)
        out.append(
            f'<li id="c{c.pk}" class="comment kind-{kind_class} level-{node.depth}" '
            f'aria-level="{node.depth + 1}">\n  <article aria-labelledby="c{c.pk}-by">\n  {body}\n'
            "  </article>\n"
        )
        if node.children:
            out.append('  <ol class="children">')
            for child in node.children:
                self.node(child, out)
            out.append("</ol>\n")
        out.append("</li>")

    def thread(self, tree: list[Node]) -> SafeString:
        out: list[str] = ['<ol class="thread">']
        for node in tree:
            self.node(node, out)
        out.append("</ol>")
        return mark_safe("".join(out))  # noqa: S308 (every value above is escaped or sanitised)

    def mentions(self, comments: list[ThreadComment]) -> SafeString:
        items = [
            f'<li id="c{c.pk}" class="comment mention kind-{escape(c.kind)}">\n'
            f'  <article aria-labelledby="c{c.pk}-by">\n{self.linkback_body(c)}\n  </article>\n</li>'
            for c in comments
        ]
        return mark_safe('<ol class="mentions">' + "".join(items) + "</ol>")  # noqa: S308
