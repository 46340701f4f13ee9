"""The thread's two renderers agree: comments/render.py (what pages use, for speed) and the
templates under templates/comments/thread/ (where the markup can be read) give the same HTML,
apart from whitespace between tags, for every kind of item the thread shows."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import get_user_model
from django.template.loader import render_to_string
from django.test import RequestFactory
from django.utils import translation

from comments import render
from comments.thread import thread_page

pytestmark = pytest.mark.django_db


def normalised(html: str) -> str:
    # A fresh CSRF mask per call is the one expected difference (moderators' Remove forms).
    html = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', 'name="csrfmiddlewaretoken" value=""', html)
    return re.sub(r">\s+<", "><", re.sub(r"\s+", " ", str(html))).strip()


@pytest.fixture
def discussion(post, make_comment, settings):
    settings.COMMENTS_MAX_THREAD_LEVEL = 2
    settings.COMMENTS_THREADS_PER_PAGE = 50
    root = make_comment(post, user_name='Ana <b>"quoted"</b>', user_url="https://ana.example/?a=1&b=2")
    reply = make_comment(post, parent=root, user_name="Bea", comment="A *reply* with `code`")
    deeper = make_comment(post, parent=reply, user_name="Cai", comment="Deeper")
    make_comment(post, parent=deeper, user_name="Dee", comment="Drawn flat, in reply to Cai")
    make_comment(post, user_name="No site", user_url="javascript:alert(1)", comment="Unsafe site")
    make_comment(
        post,
        kind="fediverse",
        user_name="Eve",
        author_handle="@eve@social.example",
        source_url="https://social.example/@eve/1",
        comment="<p>From the fediverse</p>",
    )
    for n, kind in enumerate(("pingback", "trackback", "webmention")):
        make_comment(
            post,
            kind=kind,
            user_name="" if n else "Blog del Agua",
            user_email="",
            comment="",
            source_url=f"https://site{n}.example/entry",
            source_title="" if n == 2 else f"Title {n} & more",
            source_icon="" if n else "/media/icons/site0.example.png",
            excerpt="un informe <muy> útil",
        )
    return post


def both(post, *, comments_open: bool, can_moderate: bool, lang: str = "en"):
    request = RequestFactory().get(post.get_absolute_url() + "?x=<1>")
    request.user = get_user_model()(is_staff=can_moderate)
    with translation.override(lang):
        page = thread_page(post.pk, 1)
        writer = render.ThreadWriter(comments_open=comments_open, can_moderate=can_moderate, request=request)
        context = {
            "tree": page.tree,
            "mentions": page.mentions,
            "comments_open": comments_open,
            "can_moderate": can_moderate,
            "request": request,
        }
        return (
            (writer.thread(page.tree), render_to_string("comments/thread/thread.html", context, request)),
            (
                writer.mentions(page.mentions),
                render_to_string("comments/thread/mentions.html", context, request),
            ),
        )


@pytest.mark.parametrize(
    ("comments_open", "can_moderate", "lang"),
    [(True, False, "en"), (False, False, "fr"), (True, True, "es"), (False, True, "en")],
)
def test_python_renderer_and_templates_give_the_same_html(discussion, comments_open, can_moderate, lang):
    for python_html, template_html in both(
        discussion, comments_open=comments_open, can_moderate=can_moderate, lang=lang
    ):
        assert normalised(python_html) == normalised(template_html)
    thread, mentions = both(discussion, comments_open=comments_open, can_moderate=can_moderate, lang=lang)
    # The comparison saw every kind of item, escaped the same way.
    assert thread[0].count('class="comment ') == 6 and "in-reply-to" in thread[0]
    assert "&lt;b&gt;&quot;quoted&quot;&lt;/b&gt;" in thread[0] and "javascript:" not in thread[0]
    assert mentions[0].count('class="comment mention ') == 3 and mentions[0].count('class="favicon"') == 1
    assert ("Remove" in thread[0] or "Supprimer" in thread[0] or "Eliminar" in thread[0]) == can_moderate


def test_linkbacks_drawn_in_the_thread_match_too(discussion, settings):
    settings.COMMENTS_LINKBACKS_IN_THREAD = True
    (python_html, template_html), _mentions = both(discussion, comments_open=True, can_moderate=False)
    assert python_html.count("comment-head linkback") == 3
    assert normalised(python_html) == normalised(template_html)


@pytest.mark.parametrize("zone", ["UTC", "America/New_York", "Australia/Lord_Howe", "Asia/Kolkata"])
@pytest.mark.parametrize("lang", ["en", "es", "fr"])
def test_the_threads_dates_read_as_human_datetime_writes_them(zone, lang):
    """The thread formats each day's words once (HumanDatetimes); every date still reads exactly
    as the human_datetime filter writes it: midnight, noon, across DST changes (an ambiguous
    hour drops the zone's name), naive times, and many days in one render; and its machine
    dates as machine_datetime writes them, to the second, with the zone's offset."""
    import datetime as dt
    import zoneinfo

    from django.utils import timezone

    from posts.templatetags.blog import HumanDatetimes, human_datetime, machine_datetime

    start = dt.datetime(2026, 3, 7, tzinfo=dt.UTC)
    whens = [start + dt.timedelta(minutes=37 * n) for n in range(0, 60 * 24 * 300 // 37, 11)]
    whens += [
        dt.datetime(2026, 1, 1, 0, 0, tzinfo=dt.UTC),
        dt.datetime(2026, 1, 1, 12, 0, tzinfo=dt.UTC),
        dt.datetime(2026, 11, 1, 5, 30, tzinfo=dt.UTC),  # 1:30 twice in New York
        dt.datetime(2026, 6, 1, 9, 5),
        dt.datetime(2026, 6, 1, 9, 5, 59, 999_999),
        dt.datetime(2026, 7, 4, 23, 59, 59, 500_000, tzinfo=dt.UTC),
        dt.datetime(2026, 2, 3, 4, 5, 6, tzinfo=dt.timezone(dt.timedelta(hours=5, minutes=45))),
        None,
    ]
    with timezone.override(zoneinfo.ZoneInfo(zone)), translation.override(lang):
        dates = HumanDatetimes()
        assert [dates(when) for when in whens] == [human_datetime(when) for when in whens]
        assert [dates.pair(when)[0] for when in whens if when] == [machine_datetime(w) for w in whens if w]
