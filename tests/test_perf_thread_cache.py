"""The rendered thread is kept in the cache and rebuilt only when what it shows changes."""

from __future__ import annotations

from bs4 import BeautifulSoup
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.core.cache import cache


def thread_texts(response) -> list[str]:
    page = BeautifulSoup(response.content, "html.parser")
    return [c.get_text(" ", strip=True) for c in page.select("li.comment .comment-body")]


def thread_keys() -> list[str]:
    return [k for k in cache._cache if ":sectorblog:thread:" in k]  # locmem in tests


def test_second_view_reuses_the_rendered_thread(client, post, make_comment):
    make_comment(post, comment="First thoughts.")
    first = client.get(post.get_absolute_url())
    assert len(thread_keys()) == 1
    second = client.get(post.get_absolute_url())
    assert len(thread_keys()) == 1
    assert thread_texts(first) == thread_texts(second) == ["First thoughts."]


def test_a_new_reply_and_an_edit_show_at_once(client, post, make_comment):
    root = make_comment(post, comment="First thoughts.")
    client.get(post.get_absolute_url())
    make_comment(post, parent=root, comment="A reply.", user_email="other@example.net")
    assert thread_texts(client.get(post.get_absolute_url())) == ["First thoughts.", "A reply."]
    root.comment = "First thoughts, edited."
    root.save()
    assert thread_texts(client.get(post.get_absolute_url())) == ["First thoughts, edited.", "A reply."]


def test_a_removed_comment_disappears_at_once(client, post, make_comment):
    keep = make_comment(post, comment="Stays.")
    gone = make_comment(post, comment="Goes.", user_email="other@example.net")
    client.get(post.get_absolute_url())
    gone.is_removed = True
    gone.save()
    assert thread_texts(client.get(post.get_absolute_url())) == [keep.comment]


def test_moderators_get_a_fresh_thread_with_their_controls(client, post, make_comment):
    make_comment(post, comment="Needs a look.")
    client.get(post.get_absolute_url())  # caches the readers' version
    moderator = get_user_model().objects.create_user("mod", "mod@example.org", "pw-mod-12345")
    moderator.user_permissions.add(
        Permission.objects.get(codename="can_moderate", content_type__app_label="comments")
    )
    client.force_login(moderator)
    page = BeautifulSoup(client.get(post.get_absolute_url()).content, "html.parser")
    assert page.select("li.comment form[action^='/comments/delete/']")
