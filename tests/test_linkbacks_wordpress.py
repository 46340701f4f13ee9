"""Sending to a blog that answers like WordPress (tests/interop/wordpress.py): its 15 s flood fault
429, its fault 0 with no words, pings spaced per site, and the authors' Resend in the admin.

Issue "What real peers and real people hit", item 10.
"""

from __future__ import annotations

import time

import pytest
from bs4 import BeautifulSoup
from django.test import Client
from django_tasks_db.models import DBTaskResult

from comments.linkbacks.send import attempt_retry, post_linkbacks_send
from comments.models import LinkbackAttempt
from tests import factories
from tests.interop.wordpress import WordPressLike
from tests.interop.worker import run_worker
from tests.test_authoring_roles import login_as


@pytest.fixture
def wordpress(settings):
    settings.SITE_DOMAIN = "testserver"
    with WordPressLike(flood_seconds=1.5) as blog:
        settings.LINKBACK_ALLOWED_HOSTS = [blog.host]
        yield blog


def _post_linking(blog, *paths, **fields):
    links = " ".join(f"[{p}]({blog.add_post(p)})" for p in paths)
    return factories.PostFactory(body=f"We read {links}.", **fields)


def _attempt(post, blog, path) -> LinkbackAttempt:
    return LinkbackAttempt.objects.get(post=post, target_url=blog.url(path))


def _retry_tasks():
    return DBTaskResult.objects.filter(task_path__endswith="retry_linkback_attempt")


def test_flood_fault_429_is_retried_later_not_given_up(
    wordpress, db, settings, django_capture_on_commit_callbacks
):
    settings.LINKBACK_SEND_SPACING_SECONDS = 0  # no spacing: the receiver's own refusal is under test
    post = _post_linking(wordpress, "/2026/01/one/", "/2026/01/two/")
    with django_capture_on_commit_callbacks(execute=True):
        post_linkbacks_send(post_id=post.pk)

    first, second = _attempt(post, wordpress, "/2026/01/one/"), _attempt(post, wordpress, "/2026/01/two/")
    assert first.outcome == "success" and len(wordpress.accepted) == 1
    assert second.fault_code == 429 and second.message == "You are posting comments too quickly. Slow down."
    assert second.outcome == "retry" and second.tries == 1
    assert second.next_retry_at > second.attempted_at
    (task,) = _retry_tasks()
    assert task.args_kwargs["args"] == [second.pk] and task.run_after == second.next_retry_at

    time.sleep(wordpress.flood_seconds + 0.1)  # the retry comes later; WordPress then takes it
    assert attempt_retry(attempt_id=second.pk).outcome == "success"
    assert [target for _t, _s, target in wordpress.accepted] == [first.target_url, second.target_url]


@pytest.mark.django_db(transaction=True)
def test_pings_to_one_site_are_spaced_and_all_arrive(wordpress, settings):
    """Three links to one WordPress: one ping now, the others queued for their turns, never a 429.

    The real worker sends the queued ones when due. WordPress's window is 15 s and our spacing 20 s;
    here both are scaled down (1.5 s and 2 s)."""
    settings.LINKBACK_SEND_SPACING_SECONDS = 2
    paths = ("/2026/02/a/", "/2026/02/b/", "/2026/02/c/")
    post = _post_linking(wordpress, *paths)
    post_linkbacks_send(post_id=post.pk)

    assert len(wordpress.accepted) == 1 and wordpress.floods == []
    waiting = [a for a in LinkbackAttempt.objects.filter(post=post) if a.outcome == "retry"]
    assert len(waiting) == 2 and all(a.tries == 0 and a.fault_code is None for a in waiting)
    turns = sorted(a.next_retry_at for a in waiting)
    assert (turns[1] - turns[0]).total_seconds() >= 1.9
    assert sorted(t.run_after for t in _retry_tasks()) == turns

    deadline = time.monotonic() + 30
    while len(wordpress.accepted) < 3 and time.monotonic() < deadline:
        time.sleep(0.5)
        run_worker()
    assert wordpress.floods == [], "a ping went to WordPress inside its flood window"
    assert sorted(target for _t, _s, target in wordpress.accepted) == sorted(wordpress.url(p) for p in paths)
    times = [t for t, _s, _target in wordpress.accepted]
    assert all(b - a >= wordpress.flood_seconds for a, b in zip(times, times[1:], strict=False))
    assert {a.outcome for a in LinkbackAttempt.objects.filter(post=post)} == {"success"}


def test_fault_0_without_words_fails_at_once_and_the_admin_says_no_reason_was_given(
    wordpress, db, client, django_capture_on_commit_callbacks
):
    wordpress.refused.add("/2026/03/closed/")
    author = login_as(client, "Author", "amara")
    post = _post_linking(wordpress, "/2026/03/closed/", authors=[author])
    with django_capture_on_commit_callbacks(execute=True):
        post_linkbacks_send(post_id=post.pk)
    attempt = _attempt(post, wordpress, "/2026/03/closed/")
    assert (attempt.fault_code, attempt.message, attempt.outcome, attempt.tries) == (0, "", "failed", 1)
    assert not _retry_tasks().exists()

    for url in (f"/admin/posts/post/{post.pk}/change/", "/admin/comments/linkbackattempt/"):
        page = BeautifulSoup(client.get(url).content, "html.parser")
        assert "(no reason given by the receiver)" in page.get_text(), url


@pytest.mark.django_db(transaction=True)
def test_author_resends_a_failed_pingback_from_the_post_page(wordpress, settings):
    from posts.roles import roles_sync

    settings.LINKBACK_SEND_SPACING_SECONDS = 0  # the resend follows the refused ping at once here

    roles_sync()  # a transactional test starts without the migration's role groups
    wordpress.refused.add("/2026/04/later/")
    browser = Client(enforce_csrf_checks=True)
    author = login_as(browser, "Author", "amara")
    post = _post_linking(wordpress, "/2026/04/later/", authors=[author])
    post_linkbacks_send(post_id=post.pk)
    assert _attempt(post, wordpress, "/2026/04/later/").outcome == "failed"

    # The WordPress post opens its pings; the author sees the failed attempt and resends it.
    wordpress.refused.clear()
    change = f"/admin/posts/post/{post.pk}/change/"
    page = BeautifulSoup(browser.get(change).content, "html.parser")
    button = page.select_one("#post_form button.linkback-resend")
    assert button is not None and button.get_text(strip=True) == "Resend"
    form = {i["name"]: i.get("value", "") for i in page.select("#post_form input[type=hidden]")}
    response = browser.post(button["formaction"], form)
    assert response.status_code == 302 and response["Location"] == change
    assert "will be sent again" in browser.get(change).content.decode()
    assert wordpress.accepted == []  # never inside the request: the worker sends it

    run_worker()
    attempt = _attempt(post, wordpress, "/2026/04/later/")
    assert attempt.outcome == "success" and attempt.tries == 1
    assert [target for _t, _s, target in wordpress.accepted] == [attempt.target_url]


def test_only_those_who_may_edit_the_post_can_resend(
    wordpress, db, client, django_capture_on_commit_callbacks
):
    wordpress.refused.add("/2026/05/x/")
    owner = factories.UserFactory(username="owner")
    post = _post_linking(wordpress, "/2026/05/x/", authors=[owner])
    with django_capture_on_commit_callbacks(execute=True):
        post_linkbacks_send(post_id=post.pk)
    attempt = _attempt(post, wordpress, "/2026/05/x/")
    resend_url = f"/admin/comments/linkbackattempt/{attempt.pk}/resend/"

    login_as(client, "Author", "stranger")  # an author, but not of this post
    assert client.post(resend_url).status_code in (403, 404)
    changelist = client.get("/admin/comments/linkbackattempt/").content.decode()
    assert wordpress.url("/2026/05/x/") not in changelist  # nor does the list show it
    attempt.refresh_from_db()
    assert attempt.outcome == "failed" and not _retry_tasks().exists()

    editor = Client()
    login_as(editor, "Editor", "ed")
    with django_capture_on_commit_callbacks(execute=True):
        response = editor.post(
            "/admin/comments/linkbackattempt/",
            {"action": "resend_selected", "_selected_action": [attempt.pk]},
        )
    assert response.status_code == 302
    attempt.refresh_from_db()
    assert attempt.outcome == "retry" and attempt.tries == 0 and _retry_tasks().count() == 1


def test_trackback_receiver_answering_429_is_retried(db, settings, django_capture_on_commit_callbacks):
    from tests.interop.loopback import LoopbackHTTP, Reply

    settings.SITE_DOMAIN = "testserver"
    with LoopbackHTTP() as receiver:
        settings.LINKBACK_ALLOWED_HOSTS = [receiver.host]
        receiver.routes["/tb"] = Reply(429, b"<p>Slow down.</p>")
        post = factories.PostFactory(trackback_urls=receiver.url("/tb"))
        with django_capture_on_commit_callbacks(execute=True):
            post_linkbacks_send(post_id=post.pk)
    attempt = LinkbackAttempt.objects.get(post=post)
    assert (attempt.http_status, attempt.outcome) == (429, "retry")
