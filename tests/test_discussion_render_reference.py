"""The thread's HTML, byte for byte, as the renderer wrote it before issue 24's per-comment work.

`ReferenceWriter` below is comments/render.py's ThreadWriter as it stood before that work, kept
here unchanged apart from two things it now works out for itself, the slow, obvious way: each date
through the `human_datetime` and `machine_datetime` filters, and each avatar from the commenter's
name and address (the sha256 colour, the Gravatar or the fediverse sender's copied picture). The
page's renderer may cache, precompute and store whatever it likes; its HTML must stay this.

The discussion covers what readers meet: nesting past the drawn depth (replies drawn flat, "in reply
to"), pingbacks, trackbacks, webmentions and fediverse replies, commenters with and without a
website, a signed-in author, removed, held and spam comments (and a reply whose parent was
removed), dates today, yesterday and last year, in several time zones and UI languages, as a
reader and as a moderator, open and closed, on the first and a later page.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import html
import re
import zoneinfo

import pytest
from django.conf import settings as django_settings
from django.contrib.auth import get_user_model
from django.middleware.csrf import get_token
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext

from comments import render
from comments.models import Comment
from comments.thread import thread_page
from posts.templatetags.blog import human_datetime, machine_datetime

pytestmark = pytest.mark.django_db


def escape(text) -> str:
    return html.escape(str(text))


def reference_avatar(c) -> dict:
    name, email = c.user_name, c.user_email or c.author_handle
    words = [w for w in (name or "?").split() if w[:1].isalnum()]
    initials = "".join(w[0] for w in words[:2]).upper() or "?"
    digest = hashlib.sha256((email or name or "").strip().lower().encode()).digest()
    avatar = {"initials": initials, "colour": digest[0] % 8}
    if c.kind == "fediverse" and c.author_avatar_url.startswith(django_settings.MEDIA_URL):
        avatar["url"] = c.author_avatar_url
    elif django_settings.COMMENTS_USE_GRAVATAR and c.user_email:
        digest = hashlib.sha256(c.user_email.strip().lower().encode()).hexdigest()
        avatar["url"] = f"https://www.gravatar.com/avatar/{digest}?s=48&d=identicon"
    return avatar


def _url_maker(name: str):
    prefix, _sep, suffix = reverse(name, args=[2147483646]).partition("2147483646")
    return lambda pk: f"{prefix}{pk}{suffix}"


class ReferenceWriter:
    def __init__(self, *, comments_open: bool, can_moderate: bool, request=None):
        self.comments_open = comments_open
        self.can_moderate = can_moderate
        self.reply_label = escape(gettext("Reply"))
        self.reply_to = gettext("to %(name)s")
        self.in_reply_to = escape(gettext("In reply to %(name)s"))
        self.reply_url = _url_maker("comments:reply")
        if can_moderate:
            self.remove_url = _url_maker("comments:remove")
            self.remove_label = escape(gettext("Remove"))
            self.csrf = escape(get_token(request)) if request is not None else ""
            self.next = escape(request.get_full_path()) if request is not None else ""
        self.kind_labels = {value: escape(label) for value, label in Comment.Kind.choices}
        self.origin_label = gettext("Original on %(server)s")

    def time(self, when) -> str:
        return f'<time datetime="{machine_datetime(when)}">{escape(human_datetime(when))}</time>'

    @staticmethod
    def icon(c) -> str:
        if not c.source_icon:
            return ""
        src = escape(c.source_icon)
        return f'<img class="favicon" src="{src}" alt="" width="16" height="16" loading="lazy">'

    def linkback_body(self, c) -> str:
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

    def comment_body(self, c, in_reply_to=None, page: int = 1) -> str:
        pk = c.pk
        name = escape(c.user_name)
        avatar = reference_avatar(c)
        if avatar.get("url"):
            face = (
                f'<img class="avatar" src="{escape(avatar["url"])}" alt="" width="48" height="48" '
                f'loading="lazy">'
            )
        else:
            face = (
                f'<span class="avatar c{int(avatar.get("colour", 0))}" aria-hidden="true">'
                f"{escape(avatar.get('initials', ''))}</span>"
            )
        author = (
            f'<a href="{escape(c.safe_user_url)}" rel="nofollow ugc">{name}</a>' if c.safe_user_url else name
        )
        permalink = f"?cpage={page}#c{pk}" if page > 1 else f"#c{pk}"
        remote = ""
        if c.is_remote_reply:
            remote = f'\n    <span class="comment-handle">{escape(c.author_handle)}</span>'
            if c.safe_source_url:
                server = c.source_host
                remote += (
                    f'\n    <a class="comment-origin" href="{escape(c.safe_source_url)}" rel="nofollow ugc">'
                    f"{escape(self.origin_label % {'server': server})}</a>"
                )
        parts = [
            f'<header class="comment-head">\n    {face}\n'
            f'    <span class="comment-author" id="c{pk}-by">{author}</span>{remote}\n'
            f'    <a class="permalink" href="{permalink}">{self.time(c.submit_date)}</a>\n  </header>\n'
        ]
        if in_reply_to is not None:
            answered = f'<a href="#c{in_reply_to.pk}">{escape(in_reply_to.user_name)}</a>'
            parts.append(f'  <p class="in-reply-to">{self.in_reply_to % {"name": answered}}</p>\n')
        parts.append(f'  <div class="comment-body">{c.body_html}</div>\n')
        if self.comments_open or self.can_moderate:
            parts.append('  <p class="comment-actions">\n')
            if self.comments_open:
                parts.append(
                    f'    <a class="reply-link" href="{self.reply_url(pk)}" data-reply-to="{pk}" '
                    f'data-reply-name="{name}">{self.reply_label}<span class="visually-hidden"> '
                    f"{self.reply_to % {'name': name}}</span></a>\n"
                )
            if self.can_moderate:
                parts.append(
                    f'    <form class="inline" method="post" action="{self.remove_url(pk)}">'
                    f'<input type="hidden" name="csrfmiddlewaretoken" value="{self.csrf}">'
                    f'<input type="hidden" name="next" value="{self.next}">'
                    f'<button type="submit" class="link">{self.remove_label}</button></form>\n'
                )
            parts.append("  </p>\n")
        return "".join(parts)

    def node(self, node, out: list[str], page: int) -> None:
        c = node.comment
        out.append(
            f'<li id="c{c.pk}" class="comment kind-{escape(c.kind)} level-{node.depth}" '
            f'aria-level="{node.depth + 1}">\n  <article aria-labelledby="c{c.pk}-by">\n  '
        )
        out.append(self.linkback_body(c) if c.is_linkback else self.comment_body(c, node.in_reply_to, page))
        out.append("\n  </article>\n")
        if node.children:
            out.append('  <ol class="children">')
            for child in node.children:
                self.node(child, out, page)
            out.append("</ol>\n")
        out.append("</li>")

    def thread(self, tree, page: int) -> str:
        out: list[str] = ['<ol class="thread">']
        for node in tree:
            self.node(node, out, page)
        out.append("</ol>")
        return "".join(out)

    def mentions(self, comments) -> str:
        items = [
            f'<li id="c{c.pk}" class="comment mention kind-{escape(c.kind)}">\n'
            f'  <article aria-labelledby="c{c.pk}-by">\n{self.linkback_body(c)}\n  </article>\n</li>'
            for c in comments
        ]
        return '<ol class="mentions">' + "".join(items) + "</ol>"


@pytest.fixture
def discussion(post, author, make_comment, settings):
    """Three threads a page apart, deeper than drawn, with every kind of item and moderation state."""
    settings.COMMENTS_MAX_THREAD_LEVEL = 2
    now = timezone.now().replace(microsecond=0)
    today, yesterday = now - dt.timedelta(minutes=3), now - dt.timedelta(days=1, hours=2)
    last_year = dt.datetime(now.year - 1, 11, 1, 5, 30, 7, tzinfo=dt.UTC)  # 1:30 twice in New York

    root = make_comment(
        post,
        when=last_year,
        user_name='Ana <b>"quoted"</b> & co',
        user_url="https://ana.example/?a=1&b=2",
        user_email="Ana@Example.org ",
        comment="The first word",
    )
    reply = make_comment(post, parent=root, when=yesterday, user_name="bea", comment="A *reply* with `code`")
    make_comment(  # Ana again: a commenter's face and name are made once per render
        post,
        parent=reply,
        when=today,
        user_name='Ana <b>"quoted"</b> & co',
        user_url="https://ana.example/?a=1&b=2",
        user_email="Ana@Example.org ",
        comment="Ana answers",
    )
    deeper = make_comment(
        post, parent=reply, when=yesterday, user_name="Cai Ōta", user_url="HTTP://cai.example", comment="Cai"
    )
    flat = make_comment(
        post, parent=deeper, when=today, user_name="Dee", comment="Drawn flat, in reply to Cai"
    )
    make_comment(post, parent=flat, when=today, user_name="  ", user_email="", comment="Flat too, no name")
    make_comment(
        post, parent=deeper, when=today, user_name="éa 'single' ü", user_email="ea@example.org", comment="É"
    )
    make_comment(post, parent=root, when=today, user_name="Removed", is_removed=True, comment="By Removed")
    make_comment(post, parent=root, when=today, user_name="Held", is_public=False, comment="By Held")
    make_comment(post, parent=root, when=today, user_name="Spam", is_spam=True, comment="By Spam")
    make_comment(
        post,
        parent=reply,
        when=dt.datetime(now.year - 1, 3, 8, 7, 30, tzinfo=dt.UTC),  # New York's skipped hour
        user=author,
        user_name="The Author",
        user_email=author.email,
        comment="The post's author, signed in",
    )

    # The second thread: a fediverse conversation, a linkback drawn in it, and a removed parent.
    fedi = make_comment(
        post,
        kind="fediverse",
        when=yesterday,
        user_name="Eve",
        user_email="",
        author_handle="@eve@social.example",
        author_avatar_url="/media/avatars/eve.png",
        source_url="https://social.example/@eve/1",
        comment="<p>From the fediverse</p>",
    )
    make_comment(
        post,
        kind="fediverse",
        parent=fedi,
        when=today,
        user_name="Fay",
        user_email="",
        author_handle="@fay@other.example",
        author_avatar_url="https://other.example/hotlinked.png",
        source_url="javascript:alert(1)",
        comment="<p>No safe origin</p>",
    )
    make_comment(
        post,
        parent=fedi,
        when=today,
        user_name="No site",
        user_url="javascript:alert(1)",
        comment="By No site",
    )
    make_comment(post, parent=fedi, when=today, user_name="Eve", user_email="", comment="Eve, not from afar")
    gone = make_comment(post, when=yesterday, user_name="Gone", is_removed=True, comment="By Gone")
    make_comment(post, parent=gone, when=today, user_name="Orphan", comment="My parent was removed")

    # Linkbacks: listed apart (Mentioned elsewhere) or drawn in their threads.
    for n, kind in enumerate(("pingback", "trackback", "webmention")):
        make_comment(
            post,
            kind=kind,
            when=(last_year, yesterday, today)[n],
            user_name="" if n else "Blog del Agua <3",
            user_email="",
            comment="",
            source_url=f"https://site{n}.example/entry?a=1&b=2" if n != 1 else "ftp://site1.example/",
            source_title="" if n == 2 else f"Title {n} & more",
            source_icon="" if n else "/media/icons/site0.example.png",
            excerpt="un informe <muy> útil",
        )
    make_comment(
        post,
        kind="pingback",
        when=today,
        user_name="Hidden ping",
        is_public=False,
        source_url="https://hidden.example/",
    )
    return post


def renders(post, *, page: int, comments_open: bool, can_moderate: bool):
    """(new thread, reference thread), (new mentions, reference mentions) for one request."""
    request = RequestFactory().get(post.get_absolute_url() + f"?cpage={page}&x=<1>")
    request.user = get_user_model()(is_staff=can_moderate)
    drawn = thread_page(post.pk, page)
    assert drawn.number == page
    options = {"comments_open": comments_open, "can_moderate": can_moderate, "request": request}
    writer, reference = render.ThreadWriter(**options), ReferenceWriter(**options)
    return (
        (str(writer.thread(drawn.tree)), reference.thread(drawn.tree, page)),
        (str(writer.mentions(drawn.mentions)), reference.mentions(drawn.mentions)),
    )


def without_csrf(text: str) -> str:
    # A fresh mask of the CSRF token per call is the one expected difference.
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', 'name="csrfmiddlewaretoken" value=""', text)


@pytest.mark.parametrize("lang", ["en", "fr", "es"])
@pytest.mark.parametrize("zone", ["UTC", "America/New_York", "Asia/Kolkata"])
@pytest.mark.parametrize(("comments_open", "can_moderate"), [(True, False), (False, False), (True, True)])
def test_the_thread_is_drawn_as_before(discussion, settings, lang, zone, comments_open, can_moderate):
    settings.TIME_ZONE = zone
    with timezone.override(zoneinfo.ZoneInfo(zone)), translation.override(lang):
        (thread, old_thread), (mentions, old_mentions) = renders(
            discussion, page=1, comments_open=comments_open, can_moderate=can_moderate
        )
    assert without_csrf(thread) == without_csrf(old_thread)
    assert mentions == old_mentions
    # The comparison saw what it claims to: every visible item, none of the hidden ones.
    assert thread.count('class="comment ') == 13 and thread.count('class="in-reply-to"') == 3
    assert mentions.count('class="comment mention ') == 3
    assert "Removed" not in thread and "Held" not in thread and "Spam" not in thread
    assert "My parent was removed" in thread and "author, signed in" in thread
    assert 'src="/media/avatars/eve.png"' in thread and "hotlinked" not in thread
    assert ('name="csrfmiddlewaretoken"' in thread) == can_moderate
    assert ("reply-link" in thread) == comments_open


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_a_later_page_with_linkbacks_in_the_thread_and_gravatars(discussion, settings, lang):
    settings.COMMENTS_THREADS_PER_PAGE = 1
    settings.COMMENTS_LINKBACKS_IN_THREAD = True
    settings.COMMENTS_USE_GRAVATAR = True
    seen = []
    with translation.override(lang):
        for page in range(1, 7):  # three threads of comments, then three linkbacks
            for can_moderate in (False, True):
                (thread, old_thread), (mentions, old_mentions) = renders(
                    discussion, page=page, comments_open=True, can_moderate=can_moderate
                )
                assert without_csrf(thread) == without_csrf(old_thread)
                assert mentions == old_mentions == '<ol class="mentions"></ol>'
                seen.append(thread)
                if page > 1:  # a later page's permalinks name it, a linkback's don't need to
                    assert f"?cpage={page}#c" in thread or thread.count("comment-head linkback") == 1
    assert "gravatar.com/avatar/" in seen[0] and sum(t.count('class="comment ') for t in seen) == 2 * 16


def test_a_thread_item_holds_its_comments_values(discussion):
    """ThreadComment reads its row by position: each field must land on its own name."""
    from comments.thread import ThreadComment

    drawn = thread_page(discussion.pk, 1)
    items = [*drawn.mentions]
    nodes = list(drawn.tree)
    while nodes:
        node = nodes.pop()
        items.append(node.comment)
        nodes.extend(node.children)
    stored = {c.pk: c for c in Comment.objects.filter(pk__in=[i.pk for i in items])}
    assert len(stored) == len(items) == 16
    for item in items:
        for name in ThreadComment.FIELDS:
            assert getattr(item, name) == getattr(stored[item.pk], name), name


@pytest.mark.parametrize("zone", ["UTC", "America/New_York", "Australia/Lord_Howe", "Asia/Kolkata"])
@pytest.mark.parametrize("lang", ["en", "es", "fr"])
def test_the_threads_time_elements_read_as_the_filters_write_them(zone, lang):
    """HumanDatetimes.time_html, the thread's <time>: machine_datetime in the attribute and
    human_datetime, escaped, as its text, for every minute of a day, across DST changes (an
    ambiguous hour drops the zone's name) and naive times, many days in one render."""
    from posts.templatetags.blog import HumanDatetimes

    start = dt.datetime(2026, 3, 7, tzinfo=dt.UTC)
    whens = [start + dt.timedelta(minutes=37 * n) for n in range(0, 60 * 24 * 300 // 37, 11)]
    whens += [start + dt.timedelta(minutes=n, seconds=n % 60) for n in range(0, 60 * 24)]
    whens += [
        dt.datetime(2026, 11, 1, 5, 30, tzinfo=dt.UTC),  # 1:30 twice in New York
        dt.datetime(2026, 4, 4, 14, 45, tzinfo=dt.UTC),  # 1:45 twice on Lord Howe
        dt.datetime(2026, 6, 1, 9, 5, 59, 999_999),
        dt.datetime(2026, 2, 3, 4, 5, 6, tzinfo=dt.timezone(dt.timedelta(hours=5, minutes=45))),
    ]
    with timezone.override(zoneinfo.ZoneInfo(zone)), translation.override(lang):
        dates = HumanDatetimes()
        expected = [
            f'<time datetime="{machine_datetime(w)}">{escape(human_datetime(w))}</time>' for w in whens
        ]
        assert [dates.time_html(when) for when in whens] == expected
