"""A small site with one of everything an export must carry: co-authored posts, a page, drafts, a
scheduled post, translations, nested categories, tags, threaded comments at several depths, every
approval state, pingbacks, trackbacks, webmentions, a fediverse reply, redirects, text with `]]>`
and characters XML 1.0 forbids. Used by the WXR and archive tests."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from posts.models import Category, Post, Redirect, Tag
from tests.factories import PostFactory, UserFactory, make_comment


def build_rich_site() -> dict:
    now = timezone.now().replace(microsecond=0)
    ana = UserFactory(username="ana", first_name="Ana", last_name="Lopez", email="ana@example.org")
    ben = UserFactory(username="ben", email="ben@example.org")
    water = Category.objects.create(name="Water", slug="water", description="All about water")
    wells = Category.objects.create(name="Wells", slug="wells", parent=water)
    deep = Category.objects.create(name="Deep wells", slug="deep-wells", parent=wells)
    hygiene = Category.objects.create(name="Hygiene", slug="hygiene")
    pumps = Tag.objects.create(name="pumps", slug="pumps", description="Hand pumps")
    kiosks = Tag.objects.create(name="kiosks", slug="kiosks")
    Tag.objects.create(name="unused", slug="unused")

    first = PostFactory(
        title="Pumps & <kiosks>: a field note",
        slug="pumps-and-kiosks",
        body="We visited **three** towns.\n\n## What broke\n\n- seals\n- handles\n\nCode: `a ]]> b`\n",
        excerpt="A note from the field.",
        published_at=now - dt.timedelta(days=20),
        authors=[ana, ben],
        categories=[deep, hygiene],
        tags=[pumps, kiosks],
        featured=True,
    )
    spanish = PostFactory(
        title="Bombas y quioscos",
        slug="bombas-y-quioscos",
        body="Visitamos **tres** pueblos. Agua — ماء — 水 💧\n",
        language="es",
        translation_group=first.translation_group,
        published_at=now - dt.timedelta(days=19),
        authors=[ana],
        categories=[water],
    )
    second = PostFactory(
        title="Sludge, again",
        slug="sludge-again",
        body="Control characters\x01 and\x0b dropped.\n",
        published_at=now - dt.timedelta(days=10),
        authors=[ben],
        categories=[hygiene],
        tags=[pumps],
        allow_pings=False,
    )
    PostFactory(title="About", slug="about", body="Who we are.\n", is_page=True, authors=[ana])
    PostFactory(
        title="Half written", slug="half-written", status=Post.Status.DRAFT, published_at=None, authors=[ben]
    )
    PostFactory(
        title="For review", slug="for-review", status=Post.Status.REVIEW, published_at=None, authors=[ana]
    )
    PostFactory(
        title="Next month",
        slug="next-month",
        published_at=now + dt.timedelta(days=30),
        authors=[ana],
        allow_comments=False,
    )
    # Comments: a thread four deep, every approval state, linkbacks of each kind, a fediverse reply.
    base = now - dt.timedelta(days=9)
    top = make_comment(
        first,
        user_name="Chidi",
        user_email="chidi@example.net",
        user_url="https://chidi.example.net/",
        comment="First! With *emphasis* and ]]> inside.",
        when=base,
        ip_address="203.0.113.7",
    )
    reply = make_comment(
        first,
        parent=top,
        user_name="Dana",
        user_email="dana@example.net",
        comment="A reply.",
        when=base + dt.timedelta(hours=1),
    )
    deeper = make_comment(
        first,
        parent=reply,
        user_name="Chidi",
        user_email="chidi@example.net",
        comment="A reply to the reply.",
        when=base + dt.timedelta(hours=2),
    )
    make_comment(
        first,
        parent=deeper,
        user_name="Eve",
        user_email="eve@example.net",
        comment="Fourth level.",
        when=base + dt.timedelta(hours=3),
    )
    make_comment(
        first,
        user_name="Held",
        user_email="held@example.net",
        comment="Waiting.",
        is_public=False,
        when=base + dt.timedelta(hours=4),
    )
    make_comment(
        first,
        user_name="Spammer",
        user_email="spam@example.net",
        comment="Buy now",
        is_public=False,
        is_spam=True,
        when=base + dt.timedelta(hours=5),
    )
    make_comment(
        first,
        user_name="Gone",
        user_email="gone@example.net",
        comment="Removed text",
        is_removed=True,
        when=base + dt.timedelta(hours=6),
    )
    make_comment(
        first,
        user=ana,
        user_name="Ana Lopez",
        user_email="ana@example.org",
        comment="Thanks, all.",
        when=base + dt.timedelta(hours=7),
    )
    make_comment(
        first,
        kind="pingback",
        user_name="Other blog",
        source_url="https://other.example/a/",
        source_title="Other blog post",
        excerpt="they wrote about pumps",
        comment="they wrote about pumps",
        when=base + dt.timedelta(hours=8),
    )
    make_comment(
        first,
        kind="trackback",
        user_name="Tracker",
        source_url="https://track.example/t/",
        source_title="Tracker",
        excerpt="a trackback excerpt",
        comment="a trackback excerpt",
        when=base + dt.timedelta(hours=9),
    )
    make_comment(
        first,
        kind="webmention",
        user_name="Mentioner",
        source_url="https://mention.example/m/",
        source_title="A mention",
        excerpt="mentioned here",
        comment="mentioned here",
        when=base + dt.timedelta(hours=10),
    )
    make_comment(
        second,
        kind="fediverse",
        user_name="Fedi Person",
        user_email="",
        comment='<p>Hello from <a href="https://social.example/@f">the fediverse</a></p>',
        author_handle="@f@social.example",
        when=base + dt.timedelta(hours=11),
    )
    make_comment(
        spanish,
        user_name="Lucía",
        user_email="lucia@example.es",
        comment="¡Muy bien!",
        when=base + dt.timedelta(hours=12),
    )
    Redirect.objects.create(old_path="/2019/01/01/old-pumps/", post=first)
    Redirect.objects.create(old_path="/?p=999", post=second)
    return {"first": first, "second": second, "spanish": spanish, "ana": ana, "ben": ben}
