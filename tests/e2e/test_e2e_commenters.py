"""A returning commenter in a real Chromium: "Remember me" fills the form from its cookie, the
address confirmed once in this browser publishes the next comment without a new email, and after
confirming the reader lands on their comment, marked, with a note saying it is published."""

from __future__ import annotations

from django.core import mail

from comments.models import Comment
from posts.models import AuthorProfile
from tests.e2e.conftest import audit, confirm_path, run_worker


def test_remembered_commenter_second_comment_is_published_without_a_new_email(open_page, live_server, site):
    AuthorProfile.objects.update(comment_notifications="none")  # only the commenter's emails here
    page = open_page(bypass_csp=True)  # lets axe-core be injected for the audit below
    page.goto(live_server.url + site.get_absolute_url())
    form = page.locator("#comment-form")
    form.get_by_label("Name:", exact=True).fill("Kofi Mensah")
    form.get_by_label("Email:", exact=True).fill("kofi@example.net")
    form.get_by_label("Comment:", exact=True).fill("First time here: notes on kiosk repairs.")
    form.get_by_label("Remember my name, email and website on this browser").check()
    form.get_by_role("button", name="Post comment").click()
    assert page.locator("h1").inner_text() == "Check your email"
    run_worker()
    assert [m.to for m in mail.outbox] == [["kofi@example.net"]]

    # After confirming: the comment, marked, and a note that it is published.
    page.goto(live_server.url + confirm_path("kofi@example.net"))
    first = Comment.objects.get(user_email="kofi@example.net")
    assert page.url.endswith(f"#c{first.pk}")
    note = page.locator("#just-posted")
    assert note.get_by_role("link", name="Go to your comment").get_attribute("href") == f"#c{first.pk}"
    assert "Your comment is published." in note.inner_text()
    marked = page.locator(f"#c{first.pk} > article")
    plain_background = page.evaluate("getComputedStyle(document.body).backgroundColor")
    assert marked.evaluate("e => getComputedStyle(e).backgroundColor") != plain_background
    violations, errors = audit(page, "post page after confirming a comment", page.content())
    assert (violations, errors) == ([], [])

    # Later, in the same browser: the form fills itself in, and the comment is published at once.
    page.goto(live_server.url + site.get_absolute_url())
    form = page.locator("#comment-form")
    assert form.get_by_label("Name:", exact=True).input_value() == "Kofi Mensah"
    assert form.get_by_label("Email:", exact=True).input_value() == "kofi@example.net"
    assert form.get_by_label("Remember my name, email and website on this browser").is_checked()
    form.get_by_label("Comment:", exact=True).fill("Back again: the notebooks work.")
    form.get_by_role("button", name="Post comment").click()
    second = Comment.objects.get(comment="Back again: the notebooks work.")
    assert second.is_public and not second.awaiting_confirmation
    assert page.url.endswith(f"#c{second.pk}")
    assert "Your comment is published." in page.locator("#just-posted").inner_text()
    run_worker()
    assert [m.to for m in mail.outbox] == [["kofi@example.net"]]  # no second confirmation email


def test_the_same_address_in_another_browser_confirms_again(open_page, live_server, site):
    from comments import commenter

    AuthorProfile.objects.update(comment_notifications="none")
    first_browser = open_page()
    first_browser.goto(live_server.url + site.get_absolute_url())
    form = first_browser.locator("#comment-form")
    form.get_by_label("Name:", exact=True).fill("Kofi Mensah")
    form.get_by_label("Email:", exact=True).fill("kofi@example.net")
    form.get_by_label("Comment:", exact=True).fill("Confirmed in the first browser.")
    form.get_by_role("button", name="Post comment").click()
    run_worker()
    first_browser.goto(live_server.url + confirm_path("kofi@example.net"))
    cookies = {c["name"]: c for c in first_browser.context.cookies()}
    assert cookies[commenter.TRUST_COOKIE]["httpOnly"]

    other = open_page()
    other.goto(live_server.url + site.get_absolute_url())
    form = other.locator("#comment-form")
    assert form.get_by_label("Name:", exact=True).input_value() == ""
    form.get_by_label("Name:", exact=True).fill("Someone Else")
    form.get_by_label("Email:", exact=True).fill("kofi@example.net")
    form.get_by_label("Comment:", exact=True).fill("Typed with Kofi's address.")
    form.get_by_role("button", name="Post comment").click()
    assert other.locator("h1").inner_text() == "Check your email"
    assert Comment.objects.get(comment="Typed with Kofi's address.").awaiting_confirmation
