"""Subscriptions in a real Chromium: sign up from a post's footer with JavaScript off, confirm from
the email, manage, unsubscribe; and axe-core and the Nu Html Checker on every newsletter page."""

from __future__ import annotations

import re

from django.core import mail

from newsletter import services
from newsletter.models import Subscriber
from tests.e2e.conftest import PHONE, assert_no_horizontal_scroll, audit, run_worker


def link_in_newest_mail(address: str, part: str) -> str:
    message = [m for m in mail.outbox if address in m.to][-1]
    match = re.search(rf"https?://[^/\s]+({re.escape(part)}\S+)", message.body)
    assert match, message.body
    return match.group(1)


def test_subscribe_from_a_post_without_javascript(open_page, live_server, site):
    page = open_page(java_script_enabled=False)
    page.goto(live_server.url + site.get_absolute_url())
    footer = page.locator("aside.subscribe-box")
    footer.get_by_label("Your email address").fill("reader@example.net")
    footer.get_by_role("button", name="Subscribe").click()
    assert page.locator("h1").inner_text() == "Check your email"
    assert not Subscriber.objects.exists()
    run_worker()
    page.goto(live_server.url + link_in_newest_mail("reader@example.net", "/subscribe/confirm/"))
    page.get_by_role("button", name="Yes, subscribe me").click()
    assert page.locator("h1").inner_text() == "You are subscribed"
    assert Subscriber.objects.get().email == "reader@example.net"

    # The manage link: switch to a weekly digest of excerpts, then unsubscribe.
    page.get_by_role("link", name="Change what you receive").click()
    page.get_by_label("A weekly digest").check()
    page.get_by_label("An excerpt with a link").check()
    page.get_by_role("button", name="Save my choices").click()
    assert page.get_by_role("status").inner_text() == "Your choices are saved."
    assert Subscriber.objects.get().frequency == "weekly"
    page.get_by_role("button", name="Unsubscribe").click()
    assert page.locator("h1").inner_text() == "Unsubscribed"
    assert not Subscriber.objects.exists()


def test_subscribe_page_with_choices_without_javascript_on_a_phone(open_page, live_server, site):
    from posts.models import Category

    learning = Category.objects.get(slug="learning")
    page = open_page(PHONE, java_script_enabled=False)
    page.goto(live_server.url + "/")
    page.locator(".widget-subscribe").get_by_role(
        "link", name="Choose topics, languages or a weekly digest"
    ).click()
    assert page.url.endswith("/subscribe/#email")
    assert_no_horizontal_scroll(page)
    form = page.locator("form.subscribe-form")
    form.get_by_role("button", name="Subscribe").click()  # no address: the form says so
    assert page.locator(".field-email .error").inner_text()
    assert page.locator(".widget-subscribe").count() == 0  # the sidebar's form is not repeated here
    form.get_by_label("Your email address").fill("topics@example.net")
    page.get_by_label("Only these categories:").check()
    page.get_by_label(learning.name, exact=True).check()
    page.get_by_label("French").check()
    page.get_by_role("button", name="Subscribe").click()
    assert page.locator("h1").inner_text() == "Check your email"
    run_worker()
    page.goto(live_server.url + link_in_newest_mail("topics@example.net", "/subscribe/confirm/"))
    page.get_by_role("button", name="Yes, subscribe me").click()
    subscriber = Subscriber.objects.get()
    assert list(subscriber.categories.all()) == [learning]
    assert subscriber.languages == ["en", "fr"]


def test_axe_and_vnu_find_nothing_on_the_newsletter_pages(open_page, live_server, site):
    subscriber = Subscriber.objects.create(email="a@example.net", confirmed_at=site.published_at)
    key = services.subscriber_key(subscriber=subscriber)
    confirm = services.confirmation_key(
        choices=services.Choices(email="b@example.net", post_languages=["en"])
    )
    page = open_page(bypass_csp=True)
    problems = {}
    pages = [
        ("subscribe", "/subscribe/", 200),
        ("check your email", "/subscribe/sent/", 200),
        ("confirm subscription", f"/subscribe/confirm/{confirm}/", 200),
        ("manage subscription", f"/subscribe/manage/{key}/", 200),
        ("unsubscribe", f"/subscribe/unsubscribe/{key}/", 200),
        ("manage link request", "/subscribe/manage/", 200),
        ("forged link", "/subscribe/manage/forged/", 400),
    ]
    for label, path, status in pages:
        response = page.goto(live_server.url + path)
        assert response.status == status, path
        violations, errors = audit(page, label, response.text())
        if violations or errors:
            problems[label] = ([v["id"] for v in violations], [e["message"] for e in errors])
    page.goto(live_server.url + "/subscribe/")
    page.locator("form.subscribe-form").get_by_role("button", name="Subscribe").click()
    violations, errors = audit(page, "subscribe form with errors", page.content())
    if violations or errors:
        problems["subscribe with errors"] = ([v["id"] for v in violations], [e["message"] for e in errors])
    assert problems == {}
