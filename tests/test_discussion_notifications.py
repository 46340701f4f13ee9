"""Email around the discussion: follow-ups with one-click mute, the page's language, the privacy
link to see and delete one's comments, and all of it sent by tasks after commit."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from bs4 import BeautifulSoup
from django.contrib.auth import get_user_model
from django.core import mail
from django.utils import timezone

from comments.models import Comment
from posts.models import AuthorProfile

pytestmark = pytest.mark.django_db


def soup(response):
    return BeautifulSoup(response.content, "html.parser")


def link_in(message, path_part: str) -> str:
    match = re.search(rf"https?://\S+{path_part}\S+/", message.body)
    assert match, message.body
    return urlsplit(match.group(0)).path


def test_followup_email_then_one_click_mute(
    client,
    post,
    make_comment,
    comment_form_data,
    immediate_tasks,
    django_capture_on_commit_callbacks,
    settings,
):
    settings.COMMENTS_FLOOD_SECONDS = 0
    # Only follow-ups here: the post's author chose no comment emails (tests/test_notifications_authors.py).
    AuthorProfile.objects.filter(user__authorships__post=post).update(comment_notifications="none")
    make_comment(post, user_name="Ada", user_email="ada@example.net", followup=True, comment="First!")
    make_comment(post, user_name="Bo", user_email="bo@example.net", followup=False, comment="No thanks")
    client.force_login(get_user_model().objects.create_user("cy", "cy@example.org", first_name="Cy"))

    with django_capture_on_commit_callbacks(execute=True):
        client.post("/comments/post/", comment_form_data(client, post, comment="A reply for Ada"))
    new = Comment.objects.get(comment="A reply for Ada")
    assert [m.to for m in mail.outbox] == [["ada@example.net"]]
    message = mail.outbox[0]
    assert post.title in message.subject and "A reply for Ada" in message.body
    assert f"/comments/c/{new.pk}/" in message.body
    assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    mute = link_in(message, "/comments/mute/")
    assert message.extra_headers["List-Unsubscribe"].endswith(f"{mute}>")

    page = client.get(mute)
    assert page.status_code == 200
    assert "no more emails" in soup(page).select_one("[role=status]").get_text()
    assert not Comment.objects.filter(user_email="ada@example.net", followup=True).exists()
    assert client.get(mute).status_code == 200  # twice is fine
    assert client.post(mute, {"List-Unsubscribe": "One-Click"}).status_code == 204

    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/comments/post/", comment_form_data(client, post, comment="Another one"))
    assert Comment.objects.get(comment="Another one").is_public
    assert mail.outbox == []  # Ada muted the thread


def test_tampered_mute_link_is_400(client):
    assert client.get("/comments/mute/not-a-key/").status_code == 400


def test_emails_use_the_language_of_the_page(
    client, post, comment_form_data, immediate_tasks, django_capture_on_commit_callbacks
):
    from django.utils import translation

    with translation.override("fr"):
        data = comment_form_data(client, post, comment="Merci pour ce billet")
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/comments/post/", data, HTTP_ACCEPT_LANGUAGE="fr")
    comment = Comment.objects.get()
    assert comment.language == "fr"
    assert mail.outbox[0].to == ["ama@example.net"]
    assert mail.outbox[0].extra_headers["Content-Language"] == "fr"


def test_privacy_link_shows_and_deletes_all_comments_for_an_address(
    client, post, make_comment, immediate_tasks, django_capture_on_commit_callbacks
):
    mine = [
        make_comment(post, user_email="Me@Example.net", comment="public one"),
        make_comment(post, user_email="me@example.net", comment="held one", is_public=False),
    ]
    reply = make_comment(post, parent=mine[0], user_email="other@example.net", comment="someone else's reply")

    form = client.get("/comments/privacy/")
    assert soup(form).select_one("input[name=email]")
    with django_capture_on_commit_callbacks(execute=True):
        asked = client.post("/comments/privacy/", {"email": "me@example.net"})
    assert asked.status_code == 200 and "Check your email" in soup(asked).h1.get_text()
    assert [m.to for m in mail.outbox] == [["me@example.net"]]
    manage = link_in(mail.outbox[0], "/comments/privacy/")

    page = soup(client.get(manage))
    listed = [li.select_one(".comment-body").get_text(strip=True) for li in page.select("ol.my-comments li")]
    assert sorted(listed) == ["held one", "public one"]

    done = client.post(manage, {"confirm": "delete"})
    assert done.status_code == 200 and "2 comments" in soup(done).select_one("[role=status]").get_text()
    assert list(Comment.objects.values_list("pk", flat=True)) == [reply.pk]
    # The other person's reply stays visible.
    assert soup(client.get(post.get_absolute_url())).select_one(f"li#c{reply.pk}")


def test_privacy_request_does_not_reveal_unknown_addresses(
    client, immediate_tasks, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        asked = client.post("/comments/privacy/", {"email": "nobody@example.net"})
    assert asked.status_code == 200 and len(mail.outbox) == 1
    bad = client.post("/comments/privacy/", {"email": "nope"})
    assert bad.status_code == 400
    # Not a way to flood someone's inbox.
    with django_capture_on_commit_callbacks(execute=True):
        again = client.post("/comments/privacy/", {"email": "victim@example.net"})
    assert again.status_code == 429 and len(mail.outbox) == 1


def test_privacy_link_expires_and_resists_tampering(client, time_machine):
    from comments.services import privacy_key

    key = privacy_key(email="me@example.net")
    assert client.get(f"/comments/privacy/{key}x/").status_code == 400
    time_machine.move_to(timezone.now() + timezone.timedelta(days=2))
    assert client.get(f"/comments/privacy/{key}/").status_code == 410


@pytest.mark.django_db(transaction=True)
def test_confirmation_email_goes_through_a_real_worker_after_commit(client, post, comment_form_data):
    """No email inside the request: the task is queued at commit and db_worker sends it."""
    from django.core.management import call_command
    from django_tasks_db.models import DBTaskResult

    response = client.post("/comments/post/", comment_form_data(client, post))
    assert response.status_code == 302
    assert mail.outbox == []
    assert DBTaskResult.objects.filter(task_path="comments.tasks.send_confirmation_request").count() == 1
    call_command("db_worker", "--batch", "--no-reload", "--no-startup-delay", verbosity=0)
    assert [m.to for m in mail.outbox] == [["ama@example.net"]]
    assert "/comments/confirm/" in mail.outbox[0].body


@pytest.mark.django_db(transaction=True)
def test_unconfirmed_comment_is_discarded_after_its_link_expires(
    client, post, comment_form_data, time_machine
):
    from django.core.management import call_command
    from django_tasks_db.models import DBTaskResult

    client.post("/comments/post/", comment_form_data(client, post, comment="never confirmed"))
    call_command("db_worker", "--batch", "--no-reload", "--no-startup-delay", verbosity=0)
    assert Comment.objects.filter(comment="never confirmed").exists()  # too early: link still valid
    assert DBTaskResult.objects.filter(task_path="comments.tasks.discard_unconfirmed").count() == 1

    time_machine.move_to(timezone.now() + timezone.timedelta(days=3, hours=2))
    call_command("db_worker", "--batch", "--no-reload", "--no-startup-delay", verbosity=0)
    assert not Comment.objects.exists()


def test_confirmed_comment_is_not_discarded(client, post, make_comment):
    from comments.tasks import discard_unconfirmed

    comment = make_comment(post)
    assert discard_unconfirmed.call(comment.pk) == 0
    assert Comment.objects.filter(pk=comment.pk).exists()
