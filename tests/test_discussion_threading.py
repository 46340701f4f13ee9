"""Threaded replies over HTTP: every depth up to the maximum, the reply at maximum depth, the reply
page without JS, and XTD-NOTES traps 2 (too deep) and 3 (another post's thread)."""

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
    assert settings.COMMENTS_XTD_MAX_THREAD_LEVEL == 3
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


def test_reply_to_comment_at_maximum_depth_attaches_to_its_parent(
    client, post, reader, make_comment, comment_form_data, settings
):
    top = make_comment(post, comment="top")
    a = make_comment(post, parent=top, comment="a")
    b = make_comment(post, parent=a, comment="b")
    deepest = make_comment(post, parent=b, comment="deepest")
    assert deepest.level == settings.COMMENTS_XTD_MAX_THREAD_LEVEL

    # The reply page (no JS) says where the reply will go.
    page = soup(client.get(f"/comments/reply/{deepest.pk}/"))
    assert "nest only 4 levels deep" in page.select_one("#reply-note").get_text()
    assert page.select_one("input[name=reply_to]")["value"] == str(deepest.pk)

    response = reply(client, post, comment_form_data, deepest, "sideways")
    assert response.status_code == 302
    sideways = Comment.objects.get(comment="sideways")
    assert (sideways.parent_id, sideways.level) == (b.pk, 3)
    thread = soup(client.get(post.get_absolute_url()))
    siblings = [li["id"] for li in thread.select(f"li#c{b.pk} > ol.children > li")]
    assert siblings == [f"c{deepest.pk}", f"c{sideways.pk}"]


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
    assert "{name}" in form["data-replying"] and "{name}" in form["data-attached"]
    script = page.select_one("script[src$='site.js']")
    assert script["nonce"]
