"""Managing a subscription without an account, the privacy page, and the admin's side: counts,
CSV export, the send log and "send a test to me"."""

from __future__ import annotations

import csv
import io

import pytest
from bs4 import BeautifulSoup
from django.contrib.auth import get_user_model
from django.core import mail
from django.utils import timezone

from comments.services import privacy_key
from newsletter import services
from newsletter.models import Delivery, Mailing, Subscriber
from tests import factories

pytestmark = pytest.mark.django_db


def soup(response):
    return BeautifulSoup(response.content, "html.parser")


def subscriber(email="ama@example.net", **fields):
    values = {"confirmed_at": timezone.now() - timezone.timedelta(days=1), **fields}
    return Subscriber.objects.create(email=email, **values)


def test_manage_page_changes_choices_and_unsubscribe_deletes_them(client):
    water = factories.CategoryFactory(name="Water", slug="water")
    sub = subscriber()
    key = services.subscriber_key(subscriber=sub)
    page = soup(client.get(f"/subscribe/manage/{key}/"))
    assert page.select_one("input[name=scope][value=all]").has_attr("checked")
    saved = client.post(
        f"/subscribe/manage/{key}/",
        {
            "scope": "some",
            "categories": [water.pk],
            "post_languages": ["es", "fr"],
            "frequency": "weekly",
            "content": "excerpt",
        },
    )
    assert saved.status_code == 200 and soup(saved).select_one("[role=status]")
    sub.refresh_from_db()
    assert (sub.all_categories, list(sub.categories.all()), sub.languages, sub.frequency, sub.content) == (
        False,
        [water],
        ["es", "fr"],
        "weekly",
        "excerpt",
    )
    bad = client.post(f"/subscribe/manage/{key}/", {"scope": "some", "post_languages": ["en"]})
    assert bad.status_code == 400 and soup(bad).select_one(".field-categories .error")

    gone = client.post(f"/subscribe/unsubscribe/{key}/")
    assert gone.status_code == 200 and "no more emails" in soup(gone).select_one("[role=status]").get_text()
    assert not Subscriber.objects.exists()
    assert client.get(f"/subscribe/manage/{key}/").status_code == 404


def test_privacy_page_lists_and_deletes_subscriptions_too(client, post, make_comment):
    make_comment(post, user_email="ama@example.net", comment="mine")
    subscriber("Ama@Example.net", frequency="weekly")
    key = privacy_key(email="ama@example.net")
    page = soup(client.get(f"/comments/privacy/{key}/"))
    assert "Subscribed to new posts (A weekly digest)" in page.select_one("ul.my-data").get_text()
    done = client.post(f"/comments/privacy/{key}/", {"confirm": "delete"})
    assert "1 other item was deleted" in soup(done).select_one("[role=status]").get_text()
    assert not Subscriber.objects.exists()


@pytest.fixture
def editor_client(client, db):
    user = get_user_model().objects.create_superuser("chief", "chief@example.org", "pw-chief-123")
    client.force_login(user)
    return client


def test_admin_counts_filters_and_csv_export(editor_client):
    water = factories.CategoryFactory(name="Water", slug="water")
    subscriber("a@example.net")
    b = subscriber("b@example.net", all_categories=False, post_languages=",es,fr,", frequency="weekly")
    b.categories.set([water])
    subscriber("=cmd@example.net", state="suspended")
    page = soup(editor_client.get("/admin/newsletter/subscriber/"))
    counts = page.select_one("#subscriber-counts").get_text(" ", strip=True)
    assert "Active: 2" in counts and "Suspended: 1" in counts
    assert "Spanish: 1" in counts and "English: 2" in counts and "Water: 1" in counts
    filtered = soup(editor_client.get("/admin/newsletter/subscriber/?reads=fr"))
    assert [a.get_text() for a in filtered.select("#result_list th.field-email a")] == ["b@example.net"]

    export = editor_client.post(
        "/admin/newsletter/subscriber/",
        {"action": "export_csv", "_selected_action": list(Subscriber.objects.values_list("pk", flat=True))},
    )
    assert export["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(b"".join(export.streaming_content).decode())))
    assert sorted(r["email"] for r in rows) == ["'=cmd@example.net", "a@example.net", "b@example.net"]
    assert next(r for r in rows if r["email"] == "b@example.net")["categories"] == "water"


def test_send_log_and_send_a_test_to_me(
    editor_client, smtp_server, django_capture_on_commit_callbacks, immediate_tasks
):
    subscriber("ok@example.net")
    subscriber("gone@example.net")
    smtp_server.answer("gone@example.net", "550 5.1.1 No such user")
    draft = factories.PostFactory(title="Draft to test", status="draft", published_at=None)
    change = soup(editor_client.get(f"/admin/posts/post/{draft.pk}/change/"))
    test_link = change.select_one("#newsletter-test-link")["href"]
    form = soup(editor_client.get(test_link))
    assert form.select_one("#test-language option[selected]")["value"] == "en"
    with django_capture_on_commit_callbacks(execute=True):
        sent = editor_client.post(test_link, {"language": "fr", "content": "full"})
    assert sent.status_code == 302
    [test] = smtp_server.to("chief@example.org")
    assert test.message["Subject"] == "[Test] Draft to test"
    assert not Delivery.objects.exists()  # a test is outside the ledger

    with django_capture_on_commit_callbacks(execute=True):
        post = factories.PostFactory(title="Live one", published_at=timezone.now())
    mailing = Mailing.objects.get(post=post)
    change = soup(editor_client.get(f"/admin/posts/post/{post.pk}/change/"))
    log_url = change.select_one("#newsletter-send-log")["href"]
    log = soup(editor_client.get(log_url))
    assert log.select_one("#log-sent").get_text() == "1" and log.select_one("#log-bounced").get_text() == "1"
    assert "550 5.1.1 No such user" in log.select_one("#log-reasons").get_text()
    listing = soup(editor_client.get("/admin/newsletter/mailing/"))
    assert mailing.post.title in listing.select_one("#result_list").get_text()


def test_contributor_cannot_send_tests_of_others_posts(client):
    from posts.roles import CONTRIBUTOR, roles_sync

    roles_sync()
    from django.contrib.auth.models import Group

    user = get_user_model().objects.create_user("cora", "cora@example.org", "pw", is_staff=True)
    user.groups.add(Group.objects.get(name=CONTRIBUTOR))
    client.force_login(user)
    theirs = factories.PostFactory(status="draft", published_at=None)
    assert client.get(f"/admin/newsletter/mailing/send-test/{theirs.pk}/").status_code == 403
    assert mail.outbox == []


def test_complaints_suspend_at_once_from_the_admin_or_the_command(editor_client):
    from django.core.management import call_command

    one = subscriber("one@example.net")
    subscriber("Two@Example.net")
    editor_client.post(
        "/admin/newsletter/subscriber/", {"action": "suspend_complaint", "_selected_action": [one.pk]}
    )
    call_command("newsletter_suspend", "two@example.net", stdout=io.StringIO())
    assert set(Subscriber.objects.values_list("state", "suspended_reason")) == {("suspended", "complaint")}
