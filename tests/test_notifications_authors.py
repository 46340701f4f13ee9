"""Email for the people who write and moderate: each author's choice of comment emails (every
comment, held ones only, none), bursts batched to one email per author per post per window,
moderation from the email's links, and the review workflow (submit, publish, schedule, send back
with a note)."""

from __future__ import annotations

import datetime as dt
import re
from urllib.parse import urlsplit

import pytest
from bs4 import BeautifulSoup
from django.core import mail
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from comments.models import Comment
from posts.models import AuthorProfile, Post, ReviewNote
from tests import factories
from tests.test_authoring_roles import change_url, login_as, submit

pytestmark = pytest.mark.django_db


def soup(response):
    return BeautifulSoup(response.content, "html.parser")


def link_after(label: str, body: str) -> str:
    match = re.search(rf"{re.escape(label)}\s+(https?://\S+)", body)
    assert match, body
    return urlsplit(match.group(1)).path


@pytest.fixture
def writer(db):
    user = factories.UserFactory(username="amara", first_name="Amara", email="amara@example.org")
    return user


def choose(user, choice: str, language: str = "en"):
    AuthorProfile.objects.filter(user=user).update(comment_notifications=choice, email_language=language)


def comment_on(post, client, comment_form_data, capture, **fields):
    """A signed-in reader's comment (no confirmation step), through the real form."""
    data = comment_form_data(client, post, **fields)
    with capture(execute=True):
        response = client.post("/comments/post/", data)
    assert response.status_code == 302, response.content[:500]
    return Comment.objects.order_by("-pk").first()


@pytest.fixture
def reader(db):
    client = Client()
    client.force_login(factories.UserFactory(username="rita", is_staff=False, email="rita@example.net"))
    return client


@pytest.mark.parametrize(
    ("choice", "public_mail", "held_mail"),
    [("all", True, True), ("held", False, True), ("none", False, False)],
)
def test_each_author_choice(
    writer,
    reader,
    comment_form_data,
    django_capture_on_commit_callbacks,
    immediate_tasks,
    settings,
    choice,
    public_mail,
    held_mail,
):
    settings.COMMENTS_FLOOD_SECONDS = 0
    settings.COMMENTS_HOLD_LINKS = 1
    settings.COMMENTS_NOTIFY_AUTHOR_WINDOW = 0  # batching has its own test
    choose(writer, choice)
    post = factories.PostFactory(authors=[writer], title="Hand pumps")
    capture = django_capture_on_commit_callbacks
    public = comment_on(post, reader, comment_form_data, capture, comment="Great notes on pumps.")
    assert public.is_public
    to_writer = [m for m in mail.outbox if m.to == ["amara@example.org"]]
    assert bool(to_writer) is public_mail
    if public_mail:
        [message] = to_writer
        assert message.subject == "New comment on your post “Hand pumps”"
        assert "Great notes on pumps." in message.body
        assert f"/comments/reply/{public.pk}/" in message.body
        assert f"/comments/moderate/{public.pk}/" in message.body
    mail.outbox.clear()
    held = comment_on(post, reader, comment_form_data, capture, comment="See https://spam.example/ please")
    assert not held.is_public
    to_writer = [m for m in mail.outbox if m.to == ["amara@example.org"]]
    assert bool(to_writer) is held_mail
    if held_mail:
        assert "Held for moderation" in to_writer[0].body
        assert "Approve or remove it:" in to_writer[0].body


def test_author_is_not_told_of_their_own_comment(
    writer, comment_form_data, django_capture_on_commit_callbacks, immediate_tasks
):
    post = factories.PostFactory(authors=[writer])
    client = Client()
    client.force_login(writer)
    comment_on(post, client, comment_form_data, django_capture_on_commit_callbacks, comment="My own reply.")
    assert [m for m in mail.outbox if m.to == ["amara@example.org"]] == []


@pytest.mark.django_db(transaction=True)
def test_a_burst_becomes_one_email_per_author_per_post_per_window(
    writer, reader, comment_form_data, time_machine, settings
):
    settings.COMMENTS_FLOOD_SECONDS = 0
    post = factories.PostFactory(authors=[writer], title="Wells")

    def worker():
        call_command("db_worker", "--batch", "--no-reload", "--no-startup-delay", verbosity=0)

    def post_comment(text):
        response = reader.post("/comments/post/", comment_form_data(reader, post, comment=text))
        assert response.status_code == 302

    def writer_mail():
        return [m for m in mail.outbox if m.to == ["amara@example.org"]]

    post_comment("First thought.")
    worker()
    assert len(writer_mail()) == 1  # the first one goes at once
    time_machine.move_to(timezone.now() + dt.timedelta(minutes=2))
    post_comment("Second thought.")
    post_comment("Third thought.")
    worker()
    assert len(writer_mail()) == 1  # held back inside the ten minutes
    time_machine.move_to(timezone.now() + dt.timedelta(minutes=9))
    worker()
    [first, second] = writer_mail()
    assert second.subject == "2 new comments on your post “Wells”"
    assert "Second thought." in second.body and "Third thought." in second.body
    assert "First thought." not in second.body
    worker()
    assert len(writer_mail()) == 2


def test_author_approves_a_held_comment_from_the_emails_link(
    writer, reader, comment_form_data, django_capture_on_commit_callbacks, immediate_tasks, settings
):
    settings.COMMENTS_HOLD_LINKS = 1
    post = factories.PostFactory(authors=[writer])
    held = comment_on(
        post,
        reader,
        comment_form_data,
        django_capture_on_commit_callbacks,
        comment="Link: https://example.org/x",
    )
    [message] = [m for m in mail.outbox if m.to == ["amara@example.org"]]
    moderate = link_after("Approve or remove it:", message.body)

    stranger = Client()
    stranger.force_login(factories.UserFactory(username="stranger"))
    assert stranger.get(moderate).status_code == 403
    assert stranger.post(f"/comments/approve/{held.pk}/").status_code == 403

    author = Client()
    author.force_login(writer)
    page = soup(author.get(moderate))
    assert page.select_one("[role=status]").get_text() == "Held for moderation"
    form = page.select_one(f"form[action$='/approve/{held.pk}/']")
    with django_capture_on_commit_callbacks(execute=True):
        done = author.post(form["action"], {"next": form.select_one("[name=next]")["value"]})
    assert done.status_code == 302 and done["Location"] == moderate
    held.refresh_from_db()
    assert held.is_public
    assert soup(author.get(moderate)).select_one("#approve") is None


def test_author_email_in_the_authors_language(
    writer, reader, comment_form_data, django_capture_on_commit_callbacks, immediate_tasks
):
    choose(writer, "all", "fr")
    post = factories.PostFactory(authors=[writer], title="Pompes")
    comment_on(post, reader, comment_form_data, django_capture_on_commit_callbacks, comment="Bravo.")
    [message] = [m for m in mail.outbox if m.to == ["amara@example.org"]]
    assert message.extra_headers["Content-Language"] == "fr"
    assert message.subject == "Nouveau commentaire sur votre article « Pompes »"


def test_profile_page_sets_the_choices(client, writer):
    client.force_login(writer)
    page = soup(client.get("/admin/posts/authorprofile/me/"))
    assert page.select_one("#id_comment_notifications option[selected]")["value"] == "all"
    response = client.post(
        "/admin/posts/authorprofile/me/",
        {"display_name": "Amara O.", "comment_notifications": "held", "email_language": "es"},
    )
    assert response.status_code == 302
    profile = AuthorProfile.objects.get(user=writer)
    assert (profile.comment_notifications, profile.email_language) == ("held", "es")


# --- The review workflow -------------------------------------------------------------------------


@pytest.fixture
def team(db):
    from posts.roles import roles_sync

    roles_sync()  # the groups come from a data migration, which transactional tests flush
    contributor_client, editor_client = Client(), Client()
    contributor = login_as(contributor_client, "Contributor", "cora")
    editor = login_as(editor_client, "Editor", "eddie")
    second_editor = factories.UserFactory(username="edna")
    from django.contrib.auth.models import Group

    second_editor.groups.add(Group.objects.get(name="Editor"))
    AuthorProfile.objects.filter(user=second_editor).update(email_language="es")
    return contributor_client, contributor, editor_client, editor


def test_submit_for_review_tells_the_editors(team, django_capture_on_commit_callbacks, immediate_tasks):
    contributor_client, contributor, _editor_client, _editor = team
    post = factories.PostFactory(authors=[contributor], title="Latrines", status="draft", published_at=None)
    with django_capture_on_commit_callbacks(execute=True):
        response = submit(contributor_client, change_url(post), "_submit_review")
    assert response.status_code == 302
    by_address = {m.to[0]: m for m in mail.outbox}
    assert set(by_address) == {"eddie@example.org", "edna@example.org"}
    assert by_address["eddie@example.org"].subject == "Submitted for review: “Latrines”"
    assert f"/admin/posts/post/{post.pk}/change/" in by_address["eddie@example.org"].body
    assert by_address["edna@example.org"].extra_headers["Content-Language"] == "es"
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        submit(contributor_client, change_url(post), "_submit_review")  # saved again while in review
    assert mail.outbox == []


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("button", ["_publish", "_schedule"])
def test_contributor_is_told_when_an_editor_publishes_or_schedules(team, button):
    _contributor_client, contributor, editor_client, _editor = team
    post = factories.PostFactory(authors=[contributor], title="Kiosks", status="review", published_at=None)
    overrides = {}
    if button == "_schedule":
        when = timezone.localtime() + dt.timedelta(days=2)
        overrides = {"published_at_0": when.strftime("%Y-%m-%d"), "published_at_1": "09:30:00"}
    response = submit(editor_client, change_url(post), button, **overrides)
    assert response.status_code == 302, response.content[:1500]
    call_command("db_worker", "--batch", "--no-reload", "--no-startup-delay", verbosity=0)
    [message] = [m for m in mail.outbox if m.to == ["cora@example.org"]]
    if button == "_publish":
        assert message.subject == "Published: “Kiosks”"
        post.refresh_from_db()
        assert post.get_absolute_url() in message.body
    else:
        assert message.subject == "Scheduled: “Kiosks”"
        assert "9:30" in message.body


def test_send_back_with_a_note(team, django_capture_on_commit_callbacks, immediate_tasks):
    contributor_client, contributor, editor_client, _editor = team
    post = factories.PostFactory(
        authors=[contributor], title="Sanitation", status="review", published_at=None
    )
    page = soup(editor_client.get(change_url(post)))
    send_back = page.select_one("#post-send-back-tool")["href"]
    assert soup(contributor_client.get(change_url(post))).select_one("#post-send-back-tool") is None
    assert contributor_client.get(send_back).status_code == 403

    empty = editor_client.post(send_back, {"note": "  "})
    assert empty.status_code == 400 and soup(empty).select_one("#send-back-error")
    with django_capture_on_commit_callbacks(execute=True):
        done = editor_client.post(send_back, {"note": "Please add the costs table.\nAnd a photo."})
    assert done.status_code == 302
    post.refresh_from_db()
    assert post.status == Post.Status.DRAFT
    assert ReviewNote.objects.get(post=post).note == "Please add the costs table.\nAnd a photo."
    [message] = [m for m in mail.outbox if m.to == ["cora@example.org"]]
    assert message.subject == "Sent back with a note: “Sanitation”"
    assert "Please add the costs table." in message.body

    note = soup(contributor_client.get(change_url(post))).select_one("#review-note")
    assert "Please add the costs table." in note.get_text() and "eddie" in note.get_text()
    # Submitted again, the note leaves the page.
    submit(contributor_client, change_url(post), "_submit_review")
    assert soup(contributor_client.get(change_url(post))).select_one("#review-note") is None


def test_send_back_as_a_bulk_action(team, django_capture_on_commit_callbacks, immediate_tasks):
    _contributor_client, contributor, editor_client, _editor = team
    posts = [
        factories.PostFactory(authors=[contributor], status="review", published_at=None) for _ in range(2)
    ]
    ids = [p.pk for p in posts]
    page = editor_client.post("/admin/posts/post/", {"action": "send_back_selected", "_selected_action": ids})
    assert page.status_code == 200 and len(soup(page).select("#send-back-posts li")) == 2
    with django_capture_on_commit_callbacks(execute=True):
        done = editor_client.post(
            "/admin/posts/post/",
            {"action": "send_back_selected", "_selected_action": ids, "note": "Shorter."},
        )
    assert done.status_code == 302
    assert set(Post.objects.filter(pk__in=ids).values_list("status", flat=True)) == {"draft"}
    assert len([m for m in mail.outbox if m.to == ["cora@example.org"]]) == 2
