"""Moderation and spam over HTTP: hold rules, the admin queue (filters, bulk actions), the one
moderator permission (XTD-NOTES trap 7), authors' emails about held comments, and Akismet through
a loopback fake server, including the service being down and the later recheck by a real worker."""

from __future__ import annotations

import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from bs4 import BeautifulSoup
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.core import mail
from django.core.management import call_command

from comments.models import Comment
from tests import factories

pytestmark = pytest.mark.django_db


def soup(response):
    return BeautifulSoup(response.content, "html.parser")


def make_user(username, *perms, staff=False):
    user = get_user_model().objects.create_user(username, f"{username}@example.org", is_staff=staff)
    for perm in perms:
        app_label, codename = perm.split(".")
        user.user_permissions.add(
            Permission.objects.get(content_type__app_label=app_label, codename=codename)
        )
    return get_user_model().objects.get(pk=user.pk)


@pytest.fixture
def signed_in(client):
    client.force_login(make_user("zola"))
    return client


# --- Fake Akismet (comment-check, API 1.1) ----------------------------------------------------------


class FakeAkismet:
    def __init__(self):
        self.mode = "ham"
        self.requests: list[dict[str, list[str]]] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (http.server's API)
                length = int(self.headers.get("Content-Length", 0))
                fake.requests.append(urllib.parse.parse_qs(self.rfile.read(length).decode()))
                if fake.mode == "error":
                    self.send_response(500)
                    self.end_headers()
                    return
                body = {"spam": b"true", "ham": b"false", "invalid": b"invalid"}[fake.mode]
                self.send_response(200)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/1.1/comment-check"
        threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def akismet(settings):
    fake = FakeAkismet()
    settings.AKISMET_API_KEY = "test-key"
    settings.AKISMET_ENDPOINT = fake.url
    settings.AKISMET_TIMEOUT = 2
    yield fake
    fake.close()


# --- Hold rules ----------------------------------------------------------------------------------


def test_two_links_are_held_then_approved_in_the_admin_queue(
    client, post, author, comment_form_data, immediate_tasks, django_capture_on_commit_callbacks
):
    author.email = "amara@example.org"
    author.save()
    client.force_login(make_user("zola"))
    data = comment_form_data(client, post, comment="See https://a.example and https://b.example")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/comments/post/", data)
    assert response.status_code == 302
    assert "Held for moderation" in soup(client.get(response["Location"])).h1.get_text()
    comment = Comment.objects.get()
    assert not comment.is_public and "links" in comment.hold_reason
    assert soup(client.get(post.get_absolute_url())).find(id=f"c{comment.pk}") is None

    # The post's author hears about it, with a link to the queue.
    assert [m.to for m in mail.outbox] == [["amara@example.org"]]
    assert "held for moderation" in mail.outbox[0].subject
    assert f"/admin/comments/comment/{comment.pk}/change/" in mail.outbox[0].body

    moderator = make_user("mod", "comments.can_moderate", staff=True)
    client.force_login(moderator)
    queue = soup(client.get("/admin/comments/comment/?state=held"))
    assert str(comment.pk) in [i["value"] for i in queue.select("#result_list input[name=_selected_action]")]
    with django_capture_on_commit_callbacks(execute=True):
        done = client.post(
            "/admin/comments/comment/", {"action": "approve", "_selected_action": [comment.pk]}
        )
    assert done.status_code == 302
    comment.refresh_from_db()
    assert comment.is_public and comment.hold_reason == ""
    page = soup(client.get(post.get_absolute_url()))
    assert page.select_one(f"li#c{comment.pk} .comment-body a[href='https://a.example']")


def test_word_list_and_first_comment_rules(client, post, make_comment, comment_form_data, settings):
    settings.COMMENTS_FLOOD_SECONDS = 0
    settings.COMMENTS_MODERATION_WORDS = ["casino"]
    client.force_login(make_user("zola"))
    client.post("/comments/post/", comment_form_data(client, post, comment="Best CASINO bonus"))
    assert Comment.objects.get().hold_reason == "a word on the moderation list"

    settings.COMMENTS_HOLD_FIRST_COMMENT = True
    client.force_login(make_user("newbie"))
    client.post("/comments/post/", comment_form_data(client, post, comment="Hello, first time here"))
    first = Comment.objects.get(comment="Hello, first time here")
    assert not first.is_public and first.hold_reason == "the author's first comment"
    Comment.objects.filter(pk=first.pk).update(is_public=True, hold_reason="")
    client.post("/comments/post/", comment_form_data(client, post, comment="Second time"))
    assert Comment.objects.get(comment="Second time").is_public


def test_admin_queue_filters_by_state_kind_and_post(client, post, make_comment):
    other = factories.PostFactory(title="Other post")
    made = {
        "public": make_comment(post, comment="state public"),
        "awaiting": make_comment(post, comment="state awaiting", is_public=False, awaiting_confirmation=True),
        "held": make_comment(post, comment="state held", is_public=False, hold_reason="x"),
        "spam": make_comment(post, comment="state spam", is_public=False, is_spam=True),
        "removed": make_comment(post, comment="state removed", is_public=False, is_removed=True),
    }
    ping = make_comment(other, kind="pingback", source_url="https://elsewhere.example/p", comment="")
    client.force_login(make_user("mod", "comments.can_moderate", staff=True))

    def listed(query):
        page = soup(client.get(f"/admin/comments/comment/?{query}"))
        return {int(i["value"]) for i in page.select("#result_list input[name=_selected_action]")}

    for state, comment in made.items():
        assert listed(f"state={state}&post__id__exact={post.pk}") == {comment.pk}, state
    assert listed("kind__exact=pingback") == {ping.pk}
    assert listed(f"post__id__exact={other.pk}") == {ping.pk}
    assert ping.pk not in listed(f"post__id__exact={post.pk}")


def test_bulk_spam_and_remove(client, post, make_comment):
    a, b = make_comment(post, comment="a"), make_comment(post, comment="b")
    client.force_login(make_user("mod", "comments.can_moderate", staff=True))
    client.post("/admin/comments/comment/", {"action": "mark_spam", "_selected_action": [a.pk]})
    client.post("/admin/comments/comment/", {"action": "remove", "_selected_action": [b.pk]})
    a.refresh_from_db()
    b.refresh_from_db()
    assert a.is_spam and not a.is_public and b.is_removed and not b.is_public
    assert soup(client.get(post.get_absolute_url())).select("li.comment") == []


def test_trap7_one_moderator_permission_on_both_sides(client, post, make_comment):
    held = make_comment(post, comment="held", is_public=False, hold_reason="x")
    # django_comments' own permission does not make a moderator here.
    client.force_login(make_user("old", "django_comments.can_moderate", staff=True))
    assert client.get("/admin/comments/comment/").status_code == 403
    assert client.post(f"/comments/approve/{held.pk}/").status_code == 403
    held.refresh_from_db()
    assert not held.is_public

    client.force_login(make_user("mod", "comments.can_moderate", staff=True))
    assert client.get("/admin/comments/comment/").status_code == 200
    assert client.post(f"/comments/approve/{held.pk}/", {"next": post.get_absolute_url()}).status_code == 302
    held.refresh_from_db()
    assert held.is_public
    # The thread shows moderator controls to the same permission.
    page = soup(client.get(post.get_absolute_url()))
    assert page.select_one(f"li#c{held.pk} form[action='/comments/delete/{held.pk}/']")
    assert client.post(f"/comments/delete/{held.pk}/").status_code == 302
    held.refresh_from_db()
    assert held.is_removed


def test_readers_see_no_moderator_controls(client, post, make_comment):
    comment = make_comment(post)
    client.force_login(make_user("reader"))
    assert soup(client.get(post.get_absolute_url())).select_one(f"li#c{comment.pk} form") is None
    assert client.post(f"/comments/delete/{comment.pk}/").status_code == 403


def test_block_list_and_flag_models_are_in_the_admin(client):
    client.force_login(make_user("mod", "comments.can_moderate", staff=True))
    assert client.get("/admin/django_comments_xtd/blacklisteddomain/").status_code == 200
    assert client.get("/admin/django_comments/commentflag/").status_code == 200


# --- Spam checks ----------------------------------------------------------------------------------


def test_akismet_spam_verdict_stores_spam_and_sends_nothing(
    client, post, akismet, comment_form_data, immediate_tasks, django_capture_on_commit_callbacks
):
    akismet.mode = "spam"
    data = comment_form_data(client, post, comment="cheap pills", name="Spammer")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/comments/post/", data, HTTP_USER_AGENT="bot/1.0", HTTP_REFERER="http://x.example"
        )
    assert response.status_code == 302 and "/comments/posted/held/" in response["Location"]
    comment = Comment.objects.get()
    assert comment.is_spam and not comment.is_public
    assert mail.outbox == []
    sent = akismet.requests[0]
    assert sent["api_key"] == ["test-key"] and sent["comment_content"] == ["cheap pills"]
    assert sent["user_agent"] == ["bot/1.0"] and sent["user_ip"] == ["127.0.0.1"]
    assert sent["comment_type"] == ["comment"]


def test_akismet_ham_lets_the_comment_through(client, post, akismet, signed_in, comment_form_data):
    akismet.mode = "ham"
    response = signed_in.post("/comments/post/", comment_form_data(signed_in, post, comment="fine"))
    assert response.status_code == 302 and "#c" in response["Location"]
    assert Comment.objects.get().is_public and len(akismet.requests) == 1


def test_no_key_no_akismet_call(client, post, signed_in, comment_form_data, settings):
    settings.AKISMET_API_KEY = ""
    settings.AKISMET_ENDPOINT = "http://127.0.0.1:9/unreachable"
    response = signed_in.post("/comments/post/", comment_form_data(signed_in, post, comment="fine"))
    assert response.status_code == 302 and Comment.objects.get().is_public


def test_spam_checks_are_plain_functions_in_settings(client, post, signed_in, comment_form_data, settings):
    settings.COMMENTS_SPAM_CHECKS = ["comments.spam.link_stuffing_check"]
    text = " ".join(f"https://s{i}.example" for i in range(8))
    signed_in.post("/comments/post/", comment_form_data(signed_in, post, comment=text))
    assert Comment.objects.get().is_spam


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("failure", ["error", "timeout", "refused", "invalid"])
def test_spam_service_down_holds_the_comment_and_a_worker_rechecks_it(
    client, post, akismet, comment_form_data, settings, failure
):
    """Acceptance: with the spam service down the comment is held, not lost; a real db_worker
    pass rechecks it later and publishes it, and followers hear about it then."""
    settings.COMMENTS_SPAM_RECHECK_SECONDS = 0
    settings.AKISMET_TIMEOUT = 0.3
    if failure == "refused":
        settings.AKISMET_ENDPOINT = "http://127.0.0.1:9/1.1/comment-check"
    elif failure == "timeout":
        settings.AKISMET_ENDPOINT = "http://10.255.255.1:81/1.1/comment-check"
    else:
        akismet.mode = failure
    client.force_login(make_user("zola"))
    response = client.post("/comments/post/", comment_form_data(client, post, comment="Is the service up?"))

    assert response.status_code == 302 and "/comments/posted/held/" in response["Location"]
    comment = Comment.objects.get()
    assert comment.needs_spam_check and not comment.is_public and not comment.is_spam
    assert comment.comment == "Is the service up?"

    settings.AKISMET_ENDPOINT = akismet.url
    akismet.mode = "ham"
    call_command("db_worker", "--batch", "--no-reload", "--no-startup-delay", verbosity=0)
    comment.refresh_from_db()
    assert comment.is_public and not comment.needs_spam_check
    assert soup(client.get(post.get_absolute_url())).select_one(f"li#c{comment.pk}") is not None
