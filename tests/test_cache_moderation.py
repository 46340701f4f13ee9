"""What moderation changes, readers see at once, with the page cache and fragment cache on.

Every state change of a comment goes through the database, and every write to a table readers
see renews the content version (core.cache.version.ContentWriteWatcher), however the write was
made: save(), QuerySet.update() (the moderation services), django-comments-xtd's own updates, a
raw cursor. Here a moderator clicks the real admin actions and on-page buttons, then an anonymous
visitor (served by the page cache) and a signed-in reader (served the cached thread fragment)
read the post again. tests/test_cache_live.py does the same against gunicorn with two workers.
"""

from __future__ import annotations

import pytest
from bs4 import BeautifulSoup
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import connection
from django.test import Client

from comments import services
from posts.roles import MODERATOR

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/comments/comment/"


@pytest.fixture(autouse=True)
def _caches_on(settings):
    # The suite's default; stated here because this whole file is about them.
    assert settings.PAGE_CACHE and settings.FRAGMENT_CACHE


@pytest.fixture
def moderator():
    user = get_user_model().objects.create_user("moira", "moira@example.org", "pw-moira-123", is_staff=True)
    user.groups.add(Group.objects.get(name=MODERATOR))
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def signed_in_reader():
    client = Client()
    client.force_login(get_user_model().objects.create_user("rafa", "rafa@example.org", "pw-rafa-123"))
    return client


def comment_ids(response) -> set[int]:
    page = BeautifulSoup(response.content, "html.parser")
    return {int(li["id"][1:]) for li in page.select("li.comment[id^=c]")}


def warm(url: str, *readers: Client) -> None:
    """Read the page until the anonymous copy is a page-cache hit and the thread is cached."""
    anonymous = readers[0]
    anonymous.get(url)
    assert anonymous.get(url)["X-Page-Cache"] == "hit"
    for reader in readers[1:]:
        reader.get(url)


@pytest.mark.parametrize(
    ("action", "public_before", "public_after"),
    [("remove", True, False), ("mark_spam", True, False), ("approve", False, True)],
)
def test_admin_moderation_actions_reach_anonymous_and_signed_in_readers_at_once(
    post, make_comment, moderator, signed_in_reader, action, public_before, public_after
):
    comment = make_comment(
        post,
        comment="Our kiosk closed in May.",
        is_public=public_before,
        hold_reason="" if public_before else "x",
    )
    other = make_comment(post, comment="Ours is still open.")
    url = post.get_absolute_url()
    anonymous = Client()
    warm(url, anonymous, signed_in_reader)
    expected_before = {comment.pk, other.pk} if public_before else {other.pk}
    assert comment_ids(anonymous.get(url)) == expected_before

    response = moderator.post(CHANGELIST, {"action": action, "_selected_action": [comment.pk]})
    assert response.status_code == 302

    expected_after = {comment.pk, other.pk} if public_after else {other.pk}
    assert comment_ids(anonymous.get(url)) == expected_after
    assert comment_ids(signed_in_reader.get(url)) == expected_after
    # The comment count on the home page moves too.
    home = BeautifulSoup(anonymous.get("/").content, "html.parser").get_text(" ")
    assert f"{len(expected_after)} comment" in home


@pytest.mark.parametrize("button", ["remove", "approve"])
def test_moderator_buttons_on_the_post_page_reach_cached_pages(
    post, make_comment, moderator, signed_in_reader, button
):
    public = button == "remove"
    comment = make_comment(
        post, comment="Flagged words here.", is_public=public, hold_reason="" if public else "x"
    )
    url = post.get_absolute_url()
    anonymous = Client()
    warm(url, anonymous, signed_in_reader)
    path = {"remove": f"/comments/delete/{comment.pk}/", "approve": f"/comments/approve/{comment.pk}/"}[
        button
    ]
    assert moderator.post(path, {"next": url}).status_code == 302
    visible = button == "approve"
    assert (comment.pk in comment_ids(anonymous.get(url))) is visible
    assert (comment.pk in comment_ids(signed_in_reader.get(url))) is visible


def test_email_confirmation_shows_the_comment_to_cached_readers(post, make_comment, signed_in_reader):
    waiting = make_comment(
        post,
        comment="Waiting for my click.",
        is_public=False,
        awaiting_confirmation=True,
        user_email="w@example.net",
    )
    url = post.get_absolute_url()
    anonymous = Client()
    warm(url, anonymous, signed_in_reader)
    assert waiting.pk not in comment_ids(anonymous.get(url))
    key = services.confirmation_key(comment=waiting)
    assert Client().get(f"/comments/confirm/{key}/").status_code == 302
    assert waiting.pk in comment_ids(anonymous.get(url))
    assert waiting.pk in comment_ids(signed_in_reader.get(url))


def test_spam_recheck_verdict_reaches_cached_readers(post, make_comment, settings):
    from comments import tasks

    settings.COMMENTS_SPAM_CHECKS = []  # the service answers "ham" this time
    held = make_comment(post, comment="Checked again later.", is_public=False, needs_spam_check=True)
    url = post.get_absolute_url()
    anonymous = Client()
    warm(url, anonymous)
    tasks.recheck_spam.call(held.pk, 1)
    assert held.pk in comment_ids(anonymous.get(url))


def test_privacy_deletion_reaches_cached_readers(post, make_comment):
    mine = make_comment(post, comment="Please forget me.", user_email="forget@example.net")
    url = post.get_absolute_url()
    anonymous = Client()
    warm(url, anonymous)
    assert services.privacy_delete(email="forget@example.net") == 1
    assert mine.pk not in comment_ids(anonymous.get(url))


@pytest.mark.parametrize("how", ["xtd manager", "django_comments model", "raw cursor"])
def test_any_write_to_a_content_table_renews_the_version_however_it_is_made(post, make_comment, how):
    """No call site has to remember the cache: third-party updates and raw SQL count too."""
    from django_comments.models import Comment as BaseComment
    from django_comments_xtd.models import XtdComment

    comment = make_comment(post, comment="Seen by all, for now.")
    url = post.get_absolute_url()
    anonymous = Client()
    warm(url, anonymous)
    if how == "xtd manager":
        XtdComment.norel_objects.filter(pk=comment.pk).update(is_public=False)
    elif how == "django_comments model":
        BaseComment.objects.filter(pk=comment.pk).update(is_removed=True)
    else:
        with connection.cursor() as cursor:
            cursor.execute("UPDATE django_comments SET is_public = %s WHERE id = %s", [False, comment.pk])
    assert comment.pk not in comment_ids(anonymous.get(url))


def test_a_login_leaves_the_cache_alone(post, author, client):
    """Logging in stamps last_login on the user row, which no page shows."""
    url = post.get_absolute_url()
    warm(url, client)
    Client().force_login(author)
    assert client.get(url)["X-Page-Cache"] == "hit"
    author.first_name = "Amina"  # a byline may show it: that is a change
    author.save()
    assert client.get(url)["X-Page-Cache"] == "miss"


def test_a_queued_webmention_leaves_the_cache_alone(post, client):
    """A stranger's webmention waits for its check in a table readers never see; posting one
    must not empty every cached page (the check's result, a stored mention, will)."""
    url = post.get_absolute_url()
    warm(url, client)
    response = Client().post(
        "/webmention/", {"source": "https://elsewhere.example/notes/", "target": "http://testserver" + url}
    )
    assert response.status_code in (201, 202)
    assert client.get(url)["X-Page-Cache"] == "hit"
