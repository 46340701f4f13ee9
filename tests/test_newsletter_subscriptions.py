"""Subscriptions to new posts, end to end through a real SMTP server (aiosmtpd on loopback):
sign up without JavaScript, confirm, publish, exactly one email, one-click unsubscribe (RFC 8058),
and no more email after it."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from bs4 import BeautifulSoup
from django.utils import timezone

from newsletter.models import Delivery, Mailing, Subscriber
from posts.models import Post
from tests import factories

pytestmark = pytest.mark.django_db


def soup(response):
    return BeautifulSoup(response.content, "html.parser")


def form_fields(page, selector: str) -> dict:
    form = page.select_one(selector)
    data = {}
    for field in form.select("input, select, textarea"):
        name = field.get("name")
        if not name:
            continue
        kind = field.get("type", "text")
        if kind in ("checkbox", "radio"):
            if field.has_attr("checked"):
                data.setdefault(name, []).append(field.get("value", "on"))
        else:
            data[name] = field.get("value", "")
    return data


def text_part(received) -> str:
    return received.message.get_body(preferencelist=("plain",)).get_content()


def html_part(received) -> str:
    return received.message.get_body(preferencelist=("html",)).get_content()


def link(text: str, path_part: str) -> str:
    match = re.search(rf"https?://[^\s<>\"]+{re.escape(path_part)}[^\s<>\"]+/", text)
    assert match, text
    return urlsplit(match.group(0)).path


def subscribe(client, smtp, email: str, run, **choices) -> str:
    """Sign up through the /subscribe/ page's form and return the confirmation link's path."""
    page = soup(client.get("/subscribe/"))
    data = form_fields(page, "form.subscribe-form")
    data.update(email=email, **choices)
    with run():
        response = client.post(page.select_one("form.subscribe-form")["action"], data)
    assert response.status_code == 302, response.content[:600]
    [message] = smtp.to(email)
    smtp.messages.remove(message)
    return link(text_part(message), "/subscribe/confirm/")


def publish(post_factory_kwargs: dict, run) -> Post:
    with run():
        return factories.PostFactory(
            published_at=timezone.now() - timezone.timedelta(minutes=1), **post_factory_kwargs
        )


@pytest.fixture
def run(django_capture_on_commit_callbacks, immediate_tasks):
    """Run what a request or save queued after commit, with tasks inline."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


def test_subscribe_confirm_publish_one_email_then_one_click_unsubscribe(client, smtp_server, run):
    confirm = subscribe(client, smtp_server, "ama@example.net", run)
    assert not Subscriber.objects.exists()  # nothing stored before confirmation

    page = client.get(confirm)  # a mail scanner opening the link subscribes nobody
    assert page.status_code == 200 and not Subscriber.objects.exists()
    done = client.post(confirm)
    assert done.status_code == 200
    assert "subscribed" in soup(done).select_one("[data-state]")["data-state"]
    subscriber = Subscriber.objects.get()
    assert (subscriber.email, subscriber.languages, subscriber.frequency) == (
        "ama@example.net",
        ["en"],
        "immediate",
    )

    post = publish(
        {"title": "Pumps that last", "body": "Text with [a link](/about/) and ![a pump](/media/p.png)."}, run
    )
    [received] = smtp_server.to("ama@example.net")
    message = received.message
    assert message["Subject"] == "Pumps that last"
    assert message["List-Id"].endswith("<posts.127.0.0.1>")
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    unsubscribe = urlsplit(message["List-Unsubscribe"].strip("<>")).path
    html = html_part(received)
    assert 'href="http://127.0.0.1:8000/about/"' in html and 'src="http://127.0.0.1:8000/media/p.png"' in html
    assert f"http://127.0.0.1:8000{post.get_absolute_url()}" in text_part(received)
    assert Delivery.objects.get().state == Delivery.State.SENT

    # Publishing again (update, unpublish and publish) sends nothing more.
    with run():
        post.status = Post.Status.DRAFT
        post.save()
        post.status = Post.Status.PUBLISHED
        post.published_at = timezone.now()
        post.save()
    assert len(smtp_server.to("ama@example.net")) == 1

    # RFC 8058: a mail client POSTs List-Unsubscribe=One-Click, without cookies or CSRF token.
    from django.test import Client

    one_click = Client(enforce_csrf_checks=True).post(unsubscribe, {"List-Unsubscribe": "One-Click"})
    assert one_click.status_code == 200
    assert not Subscriber.objects.exists() and not Delivery.objects.exists()

    publish({"title": "After unsubscribing"}, run)
    assert len(smtp_server.to("ama@example.net")) == 1


def confirmed(client, smtp, email, run, **choices) -> Subscriber:
    client.post(subscribe(client, smtp, email, run, **choices))
    return Subscriber.objects.get(email=email)


def tick(run):
    from newsletter import tasks

    with run():
        return tasks.tick.call()


def test_scheduled_post_goes_out_once_when_the_scheduler_finds_it_live(
    client, smtp_server, run, time_machine
):
    confirmed(client, smtp_server, "ama@example.net", run)
    when = timezone.now() + timezone.timedelta(hours=2)
    # (Not run through the inline task backend: linkbacks defer their scheduled-post task.)
    post = factories.PostFactory(title="Scheduled", published_at=when)
    tick(run)
    assert smtp_server.to("ama@example.net") == [] and not Mailing.objects.exists()

    time_machine.move_to(when + timezone.timedelta(seconds=30))
    result = tick(run)
    assert result["started"] == [post.pk]
    assert [m.message["Subject"] for m in smtp_server.to("ama@example.net")] == ["Scheduled"]
    tick(run)
    tick(run)
    assert len(smtp_server.to("ama@example.net")) == 1


def test_weekly_digest_subscriber_gets_one_email_with_the_weeks_posts(client, smtp_server, run, time_machine):
    from newsletter.models import DigestSchedule

    DigestSchedule.objects.update_or_create(pk=1, defaults={"weekday": 0, "hour": 8})
    monday = timezone.make_aware(timezone.datetime(2031, 3, 3, 8, 0))  # a Monday, 08:00 UTC
    time_machine.move_to(monday - timezone.timedelta(days=6))
    confirmed(client, smtp_server, "wk@example.net", run, frequency="weekly", content="excerpt")
    confirmed(client, smtp_server, "now@example.net", run)
    for day, title in ((5, "Tuesday notes"), (3, "Thursday notes")):
        time_machine.move_to(monday - timezone.timedelta(days=day))
        with run():
            factories.PostFactory(
                title=title,
                excerpt=f"Summary of {title}.",
                body="Body text kept out.",
                published_at=timezone.now(),
            )
    assert smtp_server.to("wk@example.net") == []
    assert len(smtp_server.to("now@example.net")) == 2  # the immediate subscriber got each post

    time_machine.move_to(monday - timezone.timedelta(minutes=1))
    tick(run)
    assert smtp_server.to("wk@example.net") == []
    time_machine.move_to(monday + timezone.timedelta(minutes=1))
    tick(run)
    tick(run)
    [digest] = smtp_server.to("wk@example.net")
    assert "2 new posts this week" in digest.message["Subject"]
    text = text_part(digest)
    assert text.index("Tuesday notes") < text.index("Thursday notes")
    assert "Summary of Tuesday notes." in text and "Body text kept out." not in text
    assert digest.message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert len(smtp_server.to("now@example.net")) == 2

    # The next week's digest holds only the next week's posts.
    time_machine.move_to(monday + timezone.timedelta(days=2))
    with run():
        factories.PostFactory(title="Next week", published_at=timezone.now())
    time_machine.move_to(monday + timezone.timedelta(days=7, minutes=5))
    tick(run)
    later = smtp_server.to("wk@example.net")[1:]
    assert [m.message["Subject"] for m in later] == ["Sector Learning: 1 new post this week"]
    assert "Tuesday notes" not in text_part(later[0])


def test_categories_languages_and_excerpts_are_respected(client, smtp_server, run):
    water = factories.CategoryFactory(name="Water", slug="water")
    wells = factories.CategoryFactory(name="Wells", slug="wells", parent=water)
    other = factories.CategoryFactory(name="Other", slug="other")
    confirmed(client, smtp_server, "water@example.net", run, scope="some", categories=[str(water.pk)])
    confirmed(client, smtp_server, "fr@example.net", run, post_languages=["fr"], content="excerpt")
    with run():
        factories.PostFactory(title="About wells", categories=[wells], published_at=timezone.now())
        factories.PostFactory(title="Off topic", categories=[other], published_at=timezone.now())
        factories.PostFactory(
            title="En français",
            language="fr",
            excerpt="Court résumé.",
            body="Texte complet caché.",
            published_at=timezone.now(),
        )
    assert [m.message["Subject"] for m in smtp_server.to("water@example.net")] == ["About wells"]
    [french] = smtp_server.to("fr@example.net")
    assert french.message["Subject"] == "En français"
    assert "Court résumé." in text_part(french) and "Texte complet caché." not in text_part(french)


def test_temporary_smtp_failure_retries_with_backoff_and_sends_once(
    client, smtp_server, run, time_machine, settings
):
    from newsletter import tasks

    settings.NEWSLETTER_RETRY_BASE_SECONDS = 300
    confirmed(client, smtp_server, "busy@example.net", run)
    confirmed(client, smtp_server, "fine@example.net", run)
    smtp_server.answer("busy@example.net", "451 4.3.2 Try again later", times=2)
    post = publish({"title": "Greylisted"}, run)
    assert len(smtp_server.to("fine@example.net")) == 1
    assert smtp_server.to("busy@example.net") == []
    row = Delivery.objects.get(subscriber__email="busy@example.net")
    assert (row.state, row.attempts, row.error) == ("queued", 1, "451 4.3.2 Try again later")
    first_retry = row.next_attempt_at
    assert first_retry - timezone.now() > timezone.timedelta(seconds=290)

    with run():
        tasks.deliver_post.call(post.pk)  # not due yet: nothing happens
    assert smtp_server.refused["busy@example.net"] == 1
    time_machine.move_to(first_retry + timezone.timedelta(seconds=1))
    with run():
        tasks.deliver_post.call(post.pk)
    row.refresh_from_db()
    assert (row.state, row.attempts) == ("queued", 2)
    assert row.next_attempt_at - timezone.now() > timezone.timedelta(seconds=590)  # doubled
    time_machine.move_to(row.next_attempt_at + timezone.timedelta(seconds=1))
    tick(run)  # the scheduler resumes the mailing
    assert len(smtp_server.to("busy@example.net")) == 1
    row.refresh_from_db()
    assert row.state == "sent"
    tick(run)
    assert len(smtp_server.to("busy@example.net")) == 1 and len(smtp_server.to("fine@example.net")) == 1


def test_permanent_failures_bounce_and_the_third_suspends_the_address(client, smtp_server, run):
    confirmed(client, smtp_server, "gone@example.net", run)
    smtp_server.answer("gone@example.net", "550 5.1.1 No such user")
    for n in range(3):
        publish({"title": f"Post {n}"}, run)
    subscriber = Subscriber.objects.get()
    assert subscriber.hard_bounces == 3 and subscriber.state == "suspended"
    assert subscriber.last_bounce == "550 5.1.1 No such user"
    assert set(Delivery.objects.values_list("state", flat=True)) == {"bounced"}
    publish({"title": "Post 4"}, run)
    assert smtp_server.refused["gone@example.net"] == 3  # no fourth attempt
    assert Delivery.objects.count() == 3


def test_spanish_and_french_subscribers_get_everything_around_the_post_in_their_language(
    client, smtp_server, run
):
    from django.test import Client

    for code, address in (("es", "ana@example.net"), ("fr", "luc@example.net")):
        reader = Client(HTTP_ACCEPT_LANGUAGE=code)
        confirm = subscribe(reader, smtp_server, address, run, post_languages=["en", "es", "fr"])
        reader.post(confirm)
    assert Subscriber.objects.get(email="ana@example.net").language == "es"
    publish({"title": "Field notes", "language": "en"}, run)
    [es] = smtp_server.to("ana@example.net")
    [fr] = smtp_server.to("luc@example.net")
    assert es.message["Content-Language"] == "es" and fr.message["Content-Language"] == "fr"
    assert "Cambiar lo que recibes" in text_part(es) and "Darse de baja" in text_part(es)
    assert "Modifier ce que vous recevez" in text_part(fr) and "Se désabonner" in text_part(fr)
    assert 'lang="es"' in html_part(es)


@pytest.mark.parametrize(
    ("frequency", "lang"),
    [("immediate", "es"), ("immediate", "fr"), ("weekly", "es"), ("weekly", "fr")],
)
def test_journey_with_a_scheduled_post_then_one_click_unsubscribe(
    smtp_server, run, time_machine, frequency, lang
):
    """Subscribe (page in `lang`) → confirm → a scheduled post goes live (found by the scheduler)
    → one email, at once or in the weekly digest → RFC 8058 one-click unsubscribe → no more."""
    from django.test import Client

    from newsletter.models import DigestSchedule

    DigestSchedule.objects.update_or_create(pk=1, defaults={"weekday": 2, "hour": 7})
    wednesday = timezone.make_aware(timezone.datetime(2031, 3, 5, 7, 0))
    time_machine.move_to(wednesday - timezone.timedelta(days=3))
    reader = Client(HTTP_ACCEPT_LANGUAGE=lang)
    address = f"{frequency}-{lang}@example.net"
    confirm = subscribe(reader, smtp_server, address, run, frequency=frequency, post_languages=[lang])
    reader.post(confirm)
    goes_live = wednesday - timezone.timedelta(days=1)
    factories.PostFactory(title="Agua segura", language=lang, published_at=goes_live)
    tick(run)
    assert smtp_server.to(address) == []

    time_machine.move_to(goes_live + timezone.timedelta(minutes=1))
    tick(run)
    if frequency == "weekly":
        assert smtp_server.to(address) == []
        time_machine.move_to(wednesday + timezone.timedelta(minutes=1))
        tick(run)
    tick(run)
    [received] = smtp_server.to(address)
    message = received.message
    assert message["Content-Language"] == lang
    words = {"es": "Darse de baja", "fr": "Se désabonner"}[lang]
    assert words in text_part(received) and "Agua segura" in text_part(received)
    if frequency == "weekly":
        assert message["Subject"].endswith(
            {"es": "1 entrada nueva esta semana", "fr": "1 nouvel article cette semaine"}[lang]
        )

    from django.test import Client as Anonymous

    unsubscribe = urlsplit(message["List-Unsubscribe"].strip("<>")).path
    assert (
        Anonymous(enforce_csrf_checks=True).post(unsubscribe, {"List-Unsubscribe": "One-Click"}).status_code
        == 200
    )
    assert not Subscriber.objects.exists()
    later = wednesday + timezone.timedelta(days=2)
    factories.PostFactory(title="Después", language=lang, published_at=later)
    time_machine.move_to(wednesday + timezone.timedelta(days=8))
    tick(run)
    tick(run)
    assert len(smtp_server.to(address)) == 1


def test_send_rate_setting_caps_emails_per_second(smtp_server, run, settings):
    from collections import Counter

    settings.NEWSLETTER_SEND_RATE = 4
    now = timezone.now()
    Subscriber.objects.bulk_create(
        [
            Subscriber(email=f"r{i}@example.net", confirmed_at=now - timezone.timedelta(days=1))
            for i in range(10)
        ]
    )
    publish({"title": "Paced"}, run)
    assert smtp_server.accepted == 10
    # Sends are counted per second when they start; an email may arrive just after its second
    # ends, so one second can show one more. Ten at four a second take at least three seconds'
    # slots: the first and last arrivals are more than a second apart (unpaced: a fraction).
    per_second = Counter(int(t) for t in smtp_server.arrivals)
    assert max(per_second.values()) <= 5, per_second
    assert smtp_server.arrivals[-1] - smtp_server.arrivals[0] > 1.0


def test_a_mailing_that_stopped_halfway_is_finished_by_the_scheduler(smtp_server, run, time_machine):
    """A worker that died while filling the ledger: the tick fills the rest, nobody gets two."""
    now = timezone.now()
    subscribers = Subscriber.objects.bulk_create(
        [
            Subscriber(email=f"r{i}@example.net", confirmed_at=now - timezone.timedelta(days=1))
            for i in range(3)
        ]
    )
    post = factories.PostFactory(title="Half filled", published_at=now - timezone.timedelta(minutes=5))
    Mailing.objects.create(post=post)  # filled_at stays empty: the start task never finished
    Delivery.objects.create(subscriber=subscribers[0], post=post, state=Delivery.State.SENT, sent_at=now)
    time_machine.move_to(now + timezone.timedelta(minutes=3))
    tick(run)
    assert sorted(r for m in smtp_server.messages for r in m.rcpt_tos) == ["r1@example.net", "r2@example.net"]
    assert Mailing.objects.get().filled_at is not None and Mailing.objects.get().recipients == 3
    tick(run)
    assert smtp_server.accepted == 2
