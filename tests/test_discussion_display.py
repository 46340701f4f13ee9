"""How a post's discussion looks and what it costs: the tree, avatars, linkbacks in the thread or
as Mentions, pagination with working permalinks, and a constant query count for 1, 50 and 500
comments. Also XTD-NOTES traps 1, 4, 6, 8, 9 and 13."""

from __future__ import annotations

import pytest
from bs4 import BeautifulSoup
from django.conf import settings as django_settings
from django.contrib.auth import get_user_model
from django.core import checks
from django.template.loader import render_to_string

from comments.models import Comment
from tests import factories

pytestmark = pytest.mark.django_db


def soup(response):
    return BeautifulSoup(response.content, "html.parser")


def build_discussion(post, make_comment, total: int) -> list[Comment]:
    """`total` comments: threads of a root and 3 nested replies, half by registered users."""
    users = [get_user_model().objects.create_user(f"u{i}", f"u{i}@example.org") for i in range(3)]
    made: list[Comment] = []
    parent = None
    for i in range(total):
        if i % 4 == 0:
            parent = None
        user = users[i % 3] if i % 2 else None
        parent = make_comment(
            post, parent=parent, user=user, user_name=f"Reader {i}", comment=f"Comment **{i}**"
        )
        made.append(parent)
    return made


@pytest.mark.parametrize("total", [1, 50, 500])
def test_whole_thread_in_a_constant_number_of_queries(
    client, post, make_comment, total, django_assert_num_queries, uncached_render
):
    # Measures the uncached render: with the caches on, a warm post page costs no queries.
    made = build_discussion(post, make_comment, total)
    factories.commit_term_counts()
    url = post.get_absolute_url()
    client.get(url)  # warm the content-type and site caches, as a running server has
    # The post page: post + authors + categories + tags + neighbours (posts app), then the
    # discussion: read whole, its counts taken from the rows. The same for 1, 50 or 500 comments.
    with django_assert_num_queries(PAGE_QUERIES):
        response = client.get(url)
    page = soup(response)
    shown = page.select("li.comment")
    assert len(shown) == min(total, 200)  # 50 threads of 4 per page
    assert page.select_one(f"li#c{made[0].pk} .comment-body strong").get_text() == "0"
    expected = f"{total} comment" + ("s" if total != 1 else "")
    assert page.select_one("#comments-heading").get_text(strip=True) == expected


# The post page itself: the post with its translations, authors, taxonomy (categories and tags in
# one query), both neighbours in one query and the chrome's 3 (recent posts; categories with the
# tag cloud; months); this post has no tags, so no related posts query. Then 1 for the whole
# discussion and 1 for the fediverse likes and boosts row above it (federation). The page only
# reads: no request transaction (core.reads).
PAGE_QUERIES = 9


def test_query_count_is_the_same_for_a_moderator(
    client, post, make_comment, django_assert_num_queries, uncached_render
):
    """xtd's tree checks permissions per comment (trap 1); ours once per request. Measured
    uncached, like the page above (cached fragments would spare the sidebar's queries)."""
    from django.contrib.auth.models import Permission

    moderator = get_user_model().objects.create_user("mod", "mod@example.org")
    moderator.user_permissions.add(
        Permission.objects.get(codename="can_moderate", content_type__app_label="comments")
    )
    client.force_login(moderator)
    url = post.get_absolute_url()
    build_discussion(post, make_comment, 8)
    factories.commit_term_counts()
    for size in (8, 40):
        for i in range(size - Comment.objects.count()):
            make_comment(post, user_name=f"Extra {i}", comment=f"extra {i}")
        client.get(url)
        # + session, user, and the user's and groups' permissions, once per request; + the
        # signed-in reader's profile, for the one display name "Commenting as" shows (issue 23).
        with django_assert_num_queries(PAGE_QUERIES + 4):
            response = client.get(url)
        assert len(soup(response).select("li.comment form[action^='/comments/delete/']")) == size


def test_each_comment_shows_avatar_name_link_date_permalink_text_and_reply(client, post, make_comment):
    comment = make_comment(
        post, user_name="Grace Nakato", user_email="grace@example.net", user_url="https://grace.example"
    )
    node = soup(client.get(post.get_absolute_url())).select_one(f"li#c{comment.pk}")
    avatar = node.select_one(".avatar")
    assert avatar.get_text() == "GN" and any(c.startswith("c") and c[1:].isdigit() for c in avatar["class"])
    author = node.select_one(".comment-author a")
    assert author["href"] == "https://grace.example" and author["rel"] == ["nofollow", "ugc"]
    permalink = node.select_one("a.permalink")
    assert permalink["href"] == f"#c{comment.pk}" and permalink.time["datetime"]
    assert node.select_one(".comment-body p").get_text() == "A thoughtful reply."
    assert node.select_one("a.reply-link")["href"] == f"/comments/reply/{comment.pk}/"


def test_avatars_are_local_and_deterministic_and_gravatar_is_opt_in(client, post, make_comment, settings):
    a = make_comment(post, user_name="Ana", user_email="same@example.net", comment="one")
    b = make_comment(post, user_name="Ana B", user_email="SAME@example.net", comment="two")
    page = soup(client.get(post.get_absolute_url()))
    assert page.select_one(f"#c{a.pk} .avatar")["class"] == page.select_one(f"#c{b.pk} .avatar")["class"]
    assert page.select("img.avatar") == []
    assert not [tag for tag in page.find_all(src=True) if "gravatar" in tag["src"]]

    settings.COMMENTS_USE_GRAVATAR = True
    page = soup(client.get(post.get_absolute_url()))
    img = page.select_one(f"#c{a.pk} img.avatar")
    assert img["src"].startswith("https://www.gravatar.com/avatar/") and img["alt"] == ""


def linkback(post, make_comment):
    return make_comment(
        post,
        kind="pingback",
        user_name="Blog del Agua",
        user_email="",
        comment="",
        source_url="https://agua.example/entrada",
        source_title="Lecciones del campo",
        excerpt="un informe muy útil",
    )


def test_linkbacks_in_the_thread(client, post, make_comment, settings):
    settings.COMMENTS_LINKBACKS_IN_THREAD = True
    ping = linkback(post, make_comment)
    page = soup(client.get(post.get_absolute_url()))
    node = page.select_one(f"ol.thread > li#c{ping.pk}")
    assert node.select_one(".kind").get_text() == "Pingback"
    source = node.select_one("a.source")
    assert source["href"] == "https://agua.example/entrada" and source.get_text() == "Lecciones del campo"
    assert node.select_one(".comment-body").get_text(strip=True) == "[…] un informe muy útil […]"
    assert page.select_one("ol.mentions") is None


def test_linkbacks_as_a_separate_mentions_list(client, post, make_comment, settings):
    settings.COMMENTS_LINKBACKS_IN_THREAD = False
    comment = make_comment(post)
    ping = linkback(post, make_comment)
    page = soup(client.get(post.get_absolute_url()))
    assert [li["id"] for li in page.select("ol.thread > li")] == [f"c{comment.pk}"]
    assert page.select_one("#mentions").get_text() == "Mentioned elsewhere"
    mention = page.select_one(f"ol.mentions > li#c{ping.pk}")
    assert mention.select_one("a.source")["href"] == "https://agua.example/entrada"
    # Shown under the sending site's name, apart from the readers' comments, and counted apart.
    assert mention.select_one(".site").get_text() == ping.user_name
    assert page.select_one("#comments-heading").get_text(strip=True) == "1 comment · 1 mention"


def test_long_threads_paginate_by_top_level_comment_and_permalinks_find_the_page(
    client, post, make_comment, settings
):
    assert django_settings.COMMENTS_THREADS_PER_PAGE == 50
    settings.COMMENTS_THREADS_PER_PAGE = 2
    roots = [make_comment(post, comment=f"root {i}") for i in range(5)]
    late_reply = make_comment(post, parent=roots[4], comment="late reply")

    first = soup(client.get(post.get_absolute_url()))
    assert [li["id"] for li in first.select("ol.thread > li")] == [f"c{roots[0].pk}", f"c{roots[1].pk}"]
    assert first.select_one(".comment-pages a[rel=next]")["href"] == "?cpage=2#comments"

    response = client.get(f"/comments/c/{late_reply.pk}/")
    assert response.status_code == 302
    assert response["Location"] == f"{post.get_absolute_url()}?cpage=3#c{late_reply.pk}"
    third = soup(client.get(response["Location"]))
    node = third.select_one(f"li#c{late_reply.pk}")
    assert node is not None
    assert node.select_one("a.permalink")["href"] == f"?cpage=3#c{late_reply.pk}"
    assert third.select_one(".comment-pages a[rel=prev]")["href"] == "?cpage=2#comments"
    assert late_reply.get_absolute_url() == f"/comments/c/{late_reply.pk}/"
    # Out-of-range and junk page numbers fall back to a real page, never a 500.
    assert client.get(post.get_absolute_url() + "?cpage=99").status_code == 200
    assert client.get(post.get_absolute_url() + "?cpage=x").status_code == 200


@pytest.mark.parametrize("linkbacks_in_thread", [False, True])
def test_every_page_of_a_long_discussion_shows_its_threads_and_the_whole_counts(
    client, post, make_comment, settings, uncached_render, linkbacks_in_thread
):
    """Each page shows its own threads, and every page the whole discussion's counts and
    mentions; a page past the end shows the last; hidden comments are in none."""
    settings.COMMENTS_THREADS_PER_PAGE = 2
    settings.COMMENTS_LINKBACKS_IN_THREAD = linkbacks_in_thread
    roots = [make_comment(post, comment=f"root {i}") for i in range(5)]
    replies = [make_comment(post, parent=roots[i], comment=f"reply {i}") for i in (0, 3, 4)]
    make_comment(post, parent=roots[1], comment="held", is_public=False)
    make_comment(post, comment="removed", is_removed=True)
    pings = [
        make_comment(post, kind="pingback", source_url=f"https://elsewhere.example/{i}/") for i in range(2)
    ]
    threads = [[roots[0], replies[0]], [roots[1]], [roots[2]], [roots[3], replies[1]], [roots[4], replies[2]]]
    if linkbacks_in_thread:
        threads += [[ping] for ping in pings]
    pages = [threads[i : i + 2] for i in range(0, len(threads), 2)]
    heading = "10 comments" if linkbacks_in_thread else "8 comments · 2 mentions"
    for cpage in [*range(1, len(pages) + 1), 99]:
        page = soup(client.get(f"{post.get_absolute_url()}?cpage={cpage}"))
        shown = pages[min(cpage, len(pages)) - 1]
        assert [li["id"] for li in page.select("ol.thread li.comment")] == [
            f"c{comment.pk}" for thread in shown for comment in thread
        ], cpage
        assert page.select_one("#comments-heading").get_text(strip=True) == heading
        mentions = [li["id"] for li in page.select("ol.mentions > li")]
        assert mentions == ([] if linkbacks_in_thread else [f"c{ping.pk}" for ping in pings])
        assert "held" not in page.get_text() and "removed" not in page.get_text()


def drawn(page) -> tuple:
    """Everything a ThreadPage gives the renderer, as plain values to compare."""

    def nodes(tree):
        return [
            (
                n.comment.pk,
                n.depth,
                n.in_reply_to and n.in_reply_to.pk,
                n.comment.avatar,
                n.comment.page_number,
                nodes(n.children),
            )
            for n in tree
        ]

    return (
        (page.number, page.num_pages, page.total, page.counts),
        nodes(page.tree),
        [(c.pk, c.avatar, c.page_number) for c in page.mentions],
    )


@pytest.mark.parametrize("linkbacks_in_thread", [False, True])
def test_a_discussion_read_whole_gives_the_pages_its_counted_reading_gives(
    post, make_comment, settings, monkeypatch, django_assert_num_queries, linkbacks_in_thread
):
    """Up to WHOLE_DISCUSSION_ROWS items, one query reads the whole discussion and the counts
    come from its rows; a longer one is counted, then its page read (3 queries). Both readings
    give every page the same threads, depths, counts and mentions."""
    from comments import thread

    settings.COMMENTS_THREADS_PER_PAGE = 2
    settings.COMMENTS_MAX_THREAD_LEVEL = 1
    settings.COMMENTS_LINKBACKS_IN_THREAD = linkbacks_in_thread
    ping = make_comment(post, kind="pingback", source_url="https://elsewhere.example/a/")
    make_comment(post, parent=ping, comment="a reader answers the pingback")
    roots = [make_comment(post, comment=f"root {i}") for i in range(4)]
    deep = make_comment(post, parent=make_comment(post, parent=roots[1], comment="reply"), comment="deeper")
    make_comment(post, parent=deep, comment="held", is_public=False)
    make_comment(post, kind="webmention", source_url="https://elsewhere.example/b/")
    make_comment(post, parent=roots[3], comment="spam", is_spam=True)
    make_comment(post, kind="trackback", source_url="https://elsewhere.example/c/", is_removed=True)
    for cpage in (1, 2, 3, 99, "x", None):
        with django_assert_num_queries(1):
            whole = thread.thread_page(post.pk, cpage)
        monkeypatch.setattr(thread, "WHOLE_DISCUSSION_ROWS", 8)  # this discussion shows 9
        with django_assert_num_queries(3):
            counted = thread.thread_page(post.pk, cpage)
        monkeypatch.undo()
        assert drawn(whole) == drawn(counted), cpage
    assert whole.num_pages == 3 and whole.counts == (
        {"comments": 9, "mentions": 0} if linkbacks_in_thread else {"comments": 7, "mentions": 2}
    )


def test_hidden_comments_are_not_shown_and_permalinks_404(client, post, make_comment):
    held = make_comment(post, comment="held text", is_public=False)
    spam = make_comment(post, comment="spam text", is_public=True, is_spam=True)
    body = client.get(post.get_absolute_url()).content.decode()
    assert "held text" not in body and "spam text" not in body
    assert client.get(f"/comments/c/{held.pk}/").status_code == 404
    assert client.get(f"/comments/c/{spam.pk}/").status_code == 404


def test_comment_counts_on_lists_count_only_visible_comments(client, post, make_comment):
    make_comment(post, comment="shown")
    make_comment(post, comment="held", is_public=False)
    card = soup(client.get("/")).select_one(f"a[href='{post.get_absolute_url()}#comments']")
    assert card.get_text(strip=True) == "1 comment"


# --- XTD-NOTES traps --------------------------------------------------------------------------------


def test_trap4_comments_app_is_xtd_and_rows_are_our_model():
    import django_comments

    assert django_settings.COMMENTS_APP == "django_comments_xtd"
    assert django_comments.get_model() is Comment


def test_trap6_xtd_templates_extend_our_base(rf, post):
    html = render_to_string("django_comments_xtd/muted.html", {"content_object": post})
    page = BeautifulSoup(html, "html.parser")
    assert page.select_one("header.site-header") is not None and page.select_one("main#main")


def test_trap8_no_template_library_clash_and_admin_registered():
    from django.contrib import admin
    from django_comments.models import CommentFlag
    from django_comments_xtd.models import BlackListedDomain

    ids = [m.id for m in checks.run_checks(tags=["templates"])]
    assert "templates.W003" not in ids
    assert all(admin.site.is_registered(m) for m in (Comment, CommentFlag, BlackListedDomain))


def test_trap9_behaviour_follows_the_settings_the_site_uses(
    client, post, make_comment, comment_form_data, settings
):
    settings.COMMENTS_MAX_THREAD_LEVEL = 1
    top = make_comment(post, comment="top")
    child = make_comment(post, parent=top, comment="child")
    client.force_login(get_user_model().objects.create_user("r", "r@example.org"))
    client.post("/comments/post/", comment_form_data(client, post, reply_to=str(child.pk), comment="flat"))
    flat = Comment.objects.get(comment="flat")
    assert (flat.parent_id, flat.level) == (child.pk, 2)
    page = soup(client.get(post.get_absolute_url()))
    drawn = page.select_one(f"li#c{flat.pk}")
    assert "level-1" in drawn["class"] and drawn.parent.parent["id"] == f"c{top.pk}"
    assert drawn.select_one(".in-reply-to a")["href"] == f"#c{child.pk}"


def test_trap13_no_react_bundle_only_our_small_script(client, post, make_comment):
    make_comment(post)
    page = soup(client.get(post.get_absolute_url()))
    scripts = [
        s.get("src", "inline") for s in page.select("script") if s.get("type") != "application/ld+json"
    ]
    assert sorted(scripts) == ["/static/js/share.js", "/static/js/site.js"]


HOSTILE_NAME = '"><script>x()</script><img src=x onerror=y()>'  # 45: within user_name's 50


@pytest.mark.parametrize("in_thread", [True, False])
def test_hostile_names_titles_and_addresses_stay_text_in_the_thread_and_mentions(
    client, post, make_comment, settings, in_thread
):
    """The thread is written in Python (comments/render.py): every field is escaped there."""
    import html5lib

    settings.COMMENTS_LINKBACKS_IN_THREAD = in_thread
    comment = make_comment(post, user_name=HOSTILE_NAME, user_url="javascript:alert(3)")
    ping = make_comment(
        post,
        kind="pingback",
        user_name=HOSTILE_NAME,
        source_url="javascript:alert(4)",
        source_title="<b onmouseover=alert(5)>Title</b>",
        excerpt="quoted",
    )
    response = client.get(post.get_absolute_url())
    section = soup(response).select_one("section#comments")
    # Parsed as a browser would: nothing from the fields became an element or an attribute.
    tree = html5lib.parse(str(section), namespaceHTMLElements=False)
    assert tree.findall(".//script") == [] and tree.findall(".//img") == [] and tree.findall(".//b") == []
    assert not [el for el in tree.iter() if any(name.startswith("on") for name in el.attrib)]
    node = section.select_one(f"li#c{comment.pk}")
    assert node.select_one(".comment-author").get_text() == HOSTILE_NAME
    assert node.select_one(".comment-author a") is None  # javascript: is not a website
    assert node.select_one("a.reply-link")["data-reply-name"] == HOSTILE_NAME
    linkback_node = section.select_one(f"li#c{ping.pk}")
    assert linkback_node.select_one("a.source") is None  # nor a source
    assert linkback_node.select_one(".source").get_text() == "<b onmouseover=alert(5)>Title</b>"
