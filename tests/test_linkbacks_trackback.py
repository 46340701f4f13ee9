"""TrackBack receiving: the spec's XML answers, charset, redirects, moderation and verification."""

from __future__ import annotations

import pytest
from lxml import etree

from comments.linkbacks.tasks import verify_trackback
from comments.models import Comment
from tests import factories
from tests.interop.loopback import LoopbackHTTP, Reply


def _trackback_url(post) -> str:
    return post.get_absolute_url() + "trackback/"


def _answer(response) -> tuple[str, str | None]:
    root = etree.fromstring(response.content)
    assert root.tag == "response"
    return root.findtext("error"), root.findtext("message")


@pytest.fixture
def on_site(settings):
    settings.SITE_DOMAIN = "testserver"


def test_trackback_is_stored_held_and_answered_with_error_0(
    client, db, on_site, django_capture_on_commit_callbacks
):
    post = factories.PostFactory()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client.post(
            _trackback_url(post),
            {
                "url": "http://blog.example/entry",
                "title": "<b>A</b> title",
                "excerpt": "Some words",
                "blog_name": "Blog",
            },
        )
    assert response.status_code == 200 and response["Content-Type"].startswith("text/xml")
    assert _answer(response) == ("0", None)
    comment = Comment.objects.get(post=post)
    assert comment.kind == "trackback" and comment.is_public is False
    assert (
        comment.source_title == "A title" and comment.excerpt == "Some words" and comment.user_name == "Blog"
    )
    # After commit: the source verification, the "held comment" email to the post's authors, and
    # fetching the sending site's icon.
    assert len(callbacks) == 3
    with django_capture_on_commit_callbacks(execute=True):
        for callback in callbacks:
            callback()
    assert comment.hold_reason == "trackbacks are not verified"


def test_charset_field_decodes_the_form(client, db, on_site):
    post = factories.PostFactory()
    body = "url=http%3A%2F%2Fblog.example%2Fa&title=" + "Informaci%F3n" + "&charset=iso-8859-1"
    response = client.post(_trackback_url(post), body, content_type="application/x-www-form-urlencoded")
    assert _answer(response)[0] == "0"
    assert Comment.objects.get(post=post).source_title == "Información"


@pytest.mark.parametrize("data", [{}, {"url": "javascript:alert(1)"}, {"url": "ftp://x.example/"}])
def test_missing_or_bad_url_is_error_1(client, db, on_site, data):
    post = factories.PostFactory()
    response = client.post(_trackback_url(post), data)
    error, message = _answer(response)
    assert response.status_code == 400 and error == "1" and message
    assert not Comment.objects.exists()


def test_closed_or_missing_post_is_error_1(client, db, on_site):
    closed = factories.PostFactory(allow_pings=False)
    response = client.post(_trackback_url(closed), {"url": "http://a.example/"})
    assert _answer(response)[0] == "1"
    response = client.post("/2020/01/01/nope/trackback/", {"url": "http://a.example/"})
    assert _answer(response)[0] == "1"
    assert not Comment.objects.exists()


def test_get_redirects_to_the_post(client, db):
    post = factories.PostFactory()
    response = client.get(_trackback_url(post))
    assert response.status_code == 302 and response["Location"] == post.get_absolute_url()


def test_repeat_neither_duplicates_nor_rewrites_and_queues_a_verification(
    client, db, on_site, django_capture_on_commit_callbacks
):
    post = factories.PostFactory()
    client.post(_trackback_url(post), {"url": "http://blog.example/e", "title": "one"})
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(_trackback_url(post), {"url": "http://blog.example/e", "title": "two"})
    assert _answer(response) == ("0", None)
    assert Comment.objects.filter(post=post).count() == 1
    # Only a verification of the source may change the text (issue item 12).
    assert Comment.objects.get(post=post).source_title == "one"
    from django_tasks_db.models import DBTaskResult

    assert DBTaskResult.objects.filter(task_path__endswith="verify_trackback").count() == 1


def test_verification_task_fills_in_what_the_source_says(client, db, on_site, settings):
    post = factories.PostFactory()
    with LoopbackHTTP() as server:
        settings.LINKBACK_ALLOWED_HOSTS = [server.host]
        server.routes["/e"] = Reply(
            body=f"<title>Real title</title><p>We liked <a href='http://testserver{post.get_absolute_url()}'>"
            f"this post</a> a lot.</p>".encode()
        )
        client.post(_trackback_url(post), {"url": server.url("/e"), "title": "claimed"})
        comment = Comment.objects.get(post=post)
        assert verify_trackback.call(comment.pk) == "ok"
    comment.refresh_from_db()
    assert comment.source_title == "Real title" and "this post" in comment.excerpt
    assert comment.verified_at is not None and comment.is_public is False


def test_forged_forwarded_for_is_ignored_or_validated(client, db, on_site, settings):
    post = factories.PostFactory()
    settings.TRUSTED_PROXY_COUNT = 1
    response = client.post(
        _trackback_url(post), {"url": "http://blog.example/f"}, headers={"X-Forwarded-For": "not-an-ip"}
    )
    assert _answer(response)[0] == "0"
    assert Comment.objects.get(post=post).ip_address is None
    settings.TRUSTED_PROXY_COUNT = 0
    client.post(
        _trackback_url(post), {"url": "http://blog.example/g"}, headers={"X-Forwarded-For": "203.0.113.9"}
    )
    assert Comment.objects.get(source_url="http://blog.example/g").ip_address == "127.0.0.1"
