"""Threaded replies over HTTP: every depth drawn nested, replies deeper than that (true parent kept,
drawn flat "in reply to"), the reply page without JS, and XTD-NOTES traps 2 (too deep to store) and
3 (another post's thread)."""

from __future__ import annotations

import pytest
from bs4 import BeautifulSoup
from django.contrib.auth import get_user_model

from comments.models import Comment
from tests import factories

pytestmark = pytest.mark.django_db


def soup(response):
    return BeautifulSoup(response.content, "html.parser")


@pytest.fixture
def reader(client):
    user = get_user_model().objects.create_user("ines", "ines@example.org", first_name="Inès")
    client.force_login(user)
    return user


def reply(client, post, comment_form_data, parent, text):
    return client.post(
        "/comments/post/", comment_form_data(client, post, reply_to=str(parent.pk), comment=text)
    )


def test_threaded_reply_at_every_depth_up_to_the_maximum(client, post, reader, comment_form_data, settings):
    settings.COMMENTS_FLOOD_SECONDS = 0
    assert settings.COMMENTS_MAX_THREAD_LEVEL == 3
    response = client.post("/comments/post/", comment_form_data(client, post, comment="level 0"))
    assert response.status_code == 302
    parent = root = Comment.objects.get()
    for level in (1, 2, 3):
        response = reply(client, post, comment_form_data, parent, f"level {level}")
        child = Comment.objects.get(comment=f"level {level}")
        assert response.status_code == 302 and response["Location"].endswith(f"#c{child.pk}")
        assert (child.level, child.parent_id, child.thread_id) == (level, parent.pk, root.pk)
        parent = child

    page = soup(client.get(post.get_absolute_url()))
    node = page.select_one(f"ol.thread > li#c{root.pk}")
    for level in (1, 2, 3):
        node = node.select_one(":scope > ol.children > li.comment")
        assert node.select_one(".comment-body").get_text(strip=True) == f"level {level}"
        assert f"level-{level}" in node["class"]


def test_reply_to_a_comment_at_the_deepest_drawn_level_keeps_its_true_parent(
    client, post, reader, make_comment, comment_form_data, settings
):
    settings.COMMENTS_FLOOD_SECONDS = 0
    top = make_comment(post, comment="top")
    a = make_comment(post, parent=top, comment="a")
    b = make_comment(post, parent=a, comment="b")
    deepest = make_comment(post, parent=b, comment="deepest", user_name="Dede")
    assert deepest.level == settings.COMMENTS_MAX_THREAD_LEVEL

    # The reply page (no JS) says plainly whom the reply answers.
    page = soup(client.get(f"/comments/reply/{deepest.pk}/"))
    assert page.select_one("#reply-note").get_text() == "Replying to Dede."
    assert page.select_one("input[name=reply_to]")["value"] == str(deepest.pk)

    assert reply(client, post, comment_form_data, deepest, "deeper").status_code == 302
    deeper = Comment.objects.get(comment="deeper")
    assert (deeper.parent_id, deeper.level, deeper.thread_id) == (deepest.pk, 4, top.pk)
    assert reply(client, post, comment_form_data, deeper, "deeper still").status_code == 302
    still = Comment.objects.get(comment="deeper still")
    assert (still.parent_id, still.level) == (deeper.pk, 5)

    # Drawn at the deepest level, after the reply each answers, each naming and linking it.
    thread = soup(client.get(post.get_absolute_url()))
    drawn = thread.select(f"li#c{b.pk} > ol.children > li")
    assert [li["id"] for li in drawn] == [f"c{deepest.pk}", f"c{deeper.pk}", f"c{still.pk}"]
    assert all("level-3" in li["class"] and li["aria-level"] == "4" for li in drawn)
    assert drawn[0].select_one(".in-reply-to") is None
    for li, answered in ((drawn[1], deepest), (drawn[2], deeper)):
        note = li.select_one("article .in-reply-to")
        assert note.get_text() == f"In reply to {answered.user_name}"
        assert note.a["href"] == f"#c{answered.pk}"


def test_reply_page_works_without_javascript(client, post, make_comment):
    parent = make_comment(post, user_name="Kwame", comment="Where were the kiosks?")
    page = soup(client.get(post.get_absolute_url()))
    link = page.select_one(f"li#c{parent.pk} a.reply-link")
    assert link["href"] == f"/comments/reply/{parent.pk}/"
    reply_page = soup(client.get(link["href"]))
    assert "Kwame" in reply_page.h1.get_text()
    assert "Where were the kiosks?" in reply_page.select_one(".replying-to").get_text()
    form = reply_page.select_one("form#comment-form")
    assert form["action"] == "/comments/post/"
    assert form.select_one("input[name=reply_to]")["value"] == str(parent.pk)
    assert form.select_one("textarea[name=comment]") is not None


def test_trap2_tampered_reply_to_deeper_than_max_is_400_and_nothing_saved(
    client, post, reader, make_comment, comment_form_data, settings
):
    top = make_comment(post, comment="top")
    deep = make_comment(post, parent=top, comment="deep")
    # A comment deeper than the maximum (the setting was lowered after it was written).
    settings.COMMENTS_XTD_MAX_THREAD_LEVEL = 0
    before = Comment.objects.count()
    response = reply(client, post, comment_form_data, deep, "too deep")
    assert response.status_code == 400
    assert Comment.objects.count() == before
    assert not Comment.objects.filter(thread_id=0).exists()
    for bogus in ("987654", "-1", "abc"):
        response = client.post("/comments/post/", comment_form_data(client, post, reply_to=bogus))
        assert response.status_code == 400, bogus
    assert Comment.objects.count() == before


def test_trap3_reply_to_on_another_posts_thread_is_400(client, post, reader, make_comment, comment_form_data):
    other = factories.PostFactory()
    foreign = make_comment(other, comment="on the other post")
    response = reply(client, post, comment_form_data, foreign, "hijack")
    assert response.status_code == 400
    assert "not part of this discussion" in soup(response).select_one("[role=status]").get_text()
    assert not Comment.objects.filter(comment="hijack").exists()


def test_cannot_reply_to_a_held_comment(client, post, reader, make_comment, comment_form_data):
    held = make_comment(post, comment="held", is_public=False)
    assert reply(client, post, comment_form_data, held, "x").status_code == 400
    assert client.get(f"/comments/reply/{held.pk}/").status_code == 404


def test_reply_link_and_inline_form_hooks_for_the_script(client, post, make_comment):
    parent = make_comment(post)
    page = soup(client.get(post.get_absolute_url()))
    link = page.select_one(f"li#c{parent.pk} a.reply-link")
    assert link["data-reply-to"] == str(parent.pk)
    form = page.select_one("#respond form#comment-form")
    assert "{name}" in form["data-replying"]
    assert link.has_attr("data-reply-name") and not link.has_attr("data-at-max")
    script = page.select_one("script[src$='site.js']")
    assert script["nonce"]


def test_a_reply_deeper_than_drawn_is_reached_by_permalink_feed_email_and_moderation(
    client, post, reader, make_comment, comment_form_data, settings, immediate_tasks,
    django_capture_on_commit_callbacks, mailoutbox,
):  # fmt: skip
    from django.contrib.auth.models import Permission

    settings.COMMENTS_FLOOD_SECONDS = 0
    settings.COMMENTS_THREADS_PER_PAGE = 1
    first_thread = make_comment(post, comment="an earlier thread", when=post.published_at)
    parent = make_comment(post, comment="top", user_email="follower@example.net", followup=True)
    for n in range(1, 6):  # a chain five replies deep: deeper than the four levels drawn
        parent = make_comment(post, parent=parent, comment=f"depth {n}")
    with django_capture_on_commit_callbacks(execute=True):
        response = reply(client, post, comment_form_data, parent, "depth six")
    assert response.status_code == 302
    deep = Comment.objects.get(comment="depth six")
    assert (deep.parent_id, deep.level) == (parent.pk, 6)

    # The permalink finds the thread's page, and that page draws the reply.
    location = client.get(f"/comments/c/{deep.pk}/")["Location"]
    assert location == f"{post.get_absolute_url()}?cpage=2#c{deep.pk}"
    page = soup(client.get(location.split("#")[0]))
    assert page.select_one(f"li#c{deep.pk} .in-reply-to a")["href"] == f"#c{parent.pk}"
    assert page.select_one(f"li#c{first_thread.pk}") is None

    # The follower's email links to it; the post's comment feed carries it.
    (email,) = [m for m in mailoutbox if "follower@example.net" in m.to]
    assert f"/comments/c/{deep.pk}/" in email.body
    feed = client.get(post.get_absolute_url() + "feed/")
    assert feed.status_code == 200 and b"depth six" in feed.content

    # Moderators find and open it.
    moderator = get_user_model().objects.create_user("mo", "mo@example.org", "pw-mo-12345", is_staff=True)
    moderator.user_permissions.add(
        Permission.objects.get(codename="can_moderate", content_type__app_label="comments")
    )
    client.force_login(moderator)
    listing = client.get("/admin/comments/comment/?q=depth+six")
    assert listing.status_code == 200 and b"depth six" in listing.content
    assert client.get(f"/admin/comments/comment/{deep.pk}/change/").status_code == 200
