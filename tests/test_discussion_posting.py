"""Posting a comment over HTTP: anonymous confirmation by email, signed-in users, limits, closing,
flood control, the block list, xtd's security hash and honeypot, and inert XSS."""

from __future__ import annotations

import datetime as dt
import pickle
import re
from urllib.parse import urlsplit

import pytest
from bs4 import BeautifulSoup
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core import mail
from django.utils import timezone
from django_comments_xtd import signed as xtd_signed
from django_comments_xtd.models import BlackListedDomain

from comments.models import Comment

pytestmark = pytest.mark.django_db


def soup(response):
    return BeautifulSoup(response.content, "html.parser")


def confirm_link(message) -> str:
    """The confirmation link's path; its origin is the configured public one (XTD-NOTES trap 11)."""
    match = re.search(r"https?://\S+/comments/confirm/\S+/", message.body)
    assert match, message.body
    assert match.group(0).startswith(f"{settings.SITE_SCHEME}://{settings.SITE_DOMAIN}/")
    return urlsplit(match.group(0)).path


def post_comment(client, data, capture):
    with capture(execute=True):
        return client.post("/comments/post/", data)


def test_anonymous_comment_is_confirmed_by_email_then_visible(
    client, post, comment_form_data, immediate_tasks, django_capture_on_commit_callbacks
):
    data = comment_form_data(client, post, comment="Pumps *need* spare parts.")
    response = post_comment(client, data, django_capture_on_commit_callbacks)

    assert response.status_code == 302
    notice = client.get(response["Location"])
    assert "Check your email" in soup(notice).h1.get_text()
    comment = Comment.objects.get()
    assert comment.awaiting_confirmation and not comment.is_public
    assert "Pumps" not in client.get(post.get_absolute_url()).content.decode()

    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["ama@example.net"]
    assert "confirm" in message.subject.lower()
    link = confirm_link(message)

    with django_capture_on_commit_callbacks(execute=True):
        landed = client.get(link)
    assert landed.status_code == 302
    assert landed["Location"].endswith(f"#c{comment.pk}")
    page = soup(client.get(post.get_absolute_url()))
    shown = page.select_one(f"li#c{comment.pk}")
    assert shown.select_one(".comment-body em").get_text() == "need"

    # Clicking twice is harmless: same place, nothing new stored, no new email. (The post's
    # author heard of the published comment once: tests/test_notifications_authors.py.)
    again = client.get(link)
    assert again.status_code == 302 and again["Location"] == landed["Location"]
    assert Comment.objects.count() == 1 and [m.to for m in mail.outbox] == [
        ["ama@example.net"],
        ["amara@example.org"],
    ]


def test_confirmation_key_is_tamper_proof_and_never_unpickled(client, post, tmp_path, settings):
    """XTD-NOTES trap 12: xtd's keys are pickles. Ours are signed JSON, checked before decoding:
    a pickle that would run code on loading is refused, whether signed with a wrong key or in
    xtd's own format with the right one, and the side effect never happens."""
    canary = tmp_path / "unpickled"

    class Payload:
        def __reduce__(self):
            return (canary.touch, ())

    forged = xtd_signed.dumps(Payload(), key=b"not-the-secret").decode()
    xtd_format = xtd_signed.dumps(Payload(), extra_key=settings.COMMENTS_XTD_SALT).decode()
    for key in (forged, xtd_format, "garbage", forged[:-3] + "abc"):
        response = client.get(f"/comments/confirm/{key}/")
        assert response.status_code == 400, key
        assert "not valid" in soup(response).select_one("[role=status]").get_text()
    assert not canary.exists()
    # The payload is a real, working pickle: loading it does create the file.
    pickle.loads(pickle.dumps(Payload()))
    assert canary.exists()


def test_expired_confirmation_link_says_so(
    client, post, comment_form_data, immediate_tasks, django_capture_on_commit_callbacks, time_machine
):
    post_comment(client, comment_form_data(client, post), django_capture_on_commit_callbacks)
    link = confirm_link(mail.outbox[0])
    time_machine.move_to(timezone.now() + dt.timedelta(days=4))
    response = client.get(link)
    assert response.status_code == 410
    assert "expired" in soup(response).select_one("[role=status]").get_text()
    assert not Comment.objects.get().is_public


def test_signed_in_user_posts_immediately(
    client, post, comment_form_data, immediate_tasks, django_capture_on_commit_callbacks
):
    user = get_user_model().objects.create_user("kofi", "kofi@example.org", first_name="Kofi")
    client.force_login(user)
    data = comment_form_data(client, post, name="", email="", comment="Signed in and straight up.")
    response = post_comment(client, data, django_capture_on_commit_callbacks)

    comment = Comment.objects.get()
    assert response.status_code == 302 and response["Location"].endswith(f"#c{comment.pk}")
    assert comment.is_public and comment.user == user and comment.user_email == "kofi@example.org"
    assert [m.to for m in mail.outbox] == [["amara@example.org"]]  # no confirmation; the author hears
    page = soup(client.get(post.get_absolute_url()))
    assert page.select_one(f"#c{comment.pk} .comment-author").get_text(strip=True) == "Kofi"


def test_validation_error_keeps_everything_typed_and_ties_errors(client, post, comment_form_data):
    data = comment_form_data(
        client, post, email="not-an-address", url="https://ama.example", comment="Keep me"
    )
    response = client.post("/comments/post/", data)

    assert response.status_code == 400
    page = soup(response)
    form = page.select_one("form#comment-form")
    # Browsers drop the newline Django puts after <textarea>.
    assert form.select_one("textarea[name=comment]").get_text().removeprefix("\n") == "Keep me"
    assert form.select_one("input[name=name]")["value"] == "Ama Reader"
    assert form.select_one("input[name=url]")["value"] == "https://ama.example"
    email = form.select_one("input[name=email]")
    assert email["value"] == "not-an-address"
    described = email["aria-describedby"].split()
    assert "id_email_error" in described
    assert page.select_one("#id_email_error").get_text(strip=True)
    assert Comment.objects.count() == 0


def test_ten_thousand_character_cap_is_checked_before_rendering(client, post, comment_form_data, monkeypatch):
    import comments.models

    rendered = []
    monkeypatch.setattr(comments.models, "render_markdown", lambda *a: rendered.append(a) or "")
    data = comment_form_data(client, post, comment="x" * 10_001)
    response = client.post("/comments/post/", data)

    assert response.status_code == 400
    error = soup(response).select_one("#id_comment_error").get_text()
    assert "10,000" in error and "10,001" in error
    assert rendered == [] and Comment.objects.count() == 0
    ok = client.post("/comments/post/", comment_form_data(client, post, comment="y" * 10_000))
    assert ok.status_code == 302


@pytest.mark.parametrize("closing", ["switch", "age"])
def test_closed_thread_still_shows_comments_and_refuses_new_ones(
    client, post, make_comment, comment_form_data, closing
):
    make_comment(post, comment="Said before closing.")
    data = comment_form_data(client, post)
    if closing == "switch":
        post.allow_comments = False
    else:
        post.published_at = timezone.now() - dt.timedelta(days=61)
    post.save()

    page = soup(client.get(post.get_absolute_url()))
    assert "Said before closing." in page.select_one("#comments").get_text()
    assert page.select_one("#comments .closed").get_text(strip=True) == "Comments are closed."
    assert page.select_one("form#comment-form") is None and page.select_one("a.reply-link") is None
    response = client.post("/comments/post/", data)
    assert response.status_code == 403
    assert Comment.objects.count() == 1


def test_closing_age_is_configurable(client, post, settings):
    post.published_at = timezone.now() - dt.timedelta(days=61)
    post.save()
    settings.COMMENTS_CLOSE_AFTER_DAYS = 90
    assert soup(client.get(post.get_absolute_url())).select_one("form#comment-form") is not None
    settings.COMMENTS_CLOSE_AFTER_DAYS = 0
    assert soup(client.get(post.get_absolute_url())).select_one("form#comment-form") is not None


def test_flood_second_comment_within_15_seconds_gets_429(client, post, comment_form_data):
    first = client.post("/comments/post/", comment_form_data(client, post, comment="One"))
    assert first.status_code == 302
    # Same IP, different email.
    second = client.post(
        "/comments/post/", comment_form_data(client, post, email="b@example.net", comment="Two")
    )
    assert second.status_code == 429
    assert second["Retry-After"] == "15"
    page = soup(second)
    assert "wait 15 seconds" in page.select_one("form#comment-form [role=alert]").get_text()
    assert page.select_one("textarea[name=comment]").get_text().strip() == "Two"  # nothing lost
    # Same email, different IP.
    third = client.post(
        "/comments/post/", comment_form_data(client, post, comment="Three"), REMOTE_ADDR="10.9.9.9"
    )
    assert third.status_code == 429
    assert list(Comment.objects.values_list("comment", flat=True)) == ["One"]


def test_flood_window_expires(client, post, comment_form_data, time_machine):
    time_machine.move_to(timezone.now(), tick=False)
    assert client.post("/comments/post/", comment_form_data(client, post, comment="One")).status_code == 302
    time_machine.shift(16)
    assert client.post("/comments/post/", comment_form_data(client, post, comment="Two")).status_code == 302


def test_block_list_rejects_address_and_domain(client, post, comment_form_data):
    BlackListedDomain.objects.create(domain="spam.example")
    BlackListedDomain.objects.create(domain="pest@example.net")
    for email in ("a@spam.example", "b@mail.spam.example", "pest@example.net"):
        response = client.post(
            "/comments/post/", comment_form_data(client, post, email=email), REMOTE_ADDR=email
        )
        assert response.status_code == 403, email
        assert "not accepted" in soup(response).select_one("[role=status]").get_text()
    assert Comment.objects.count() == 0 and mail.outbox == []


def test_security_hash_and_honeypot_stay_on(client, post, comment_form_data):
    tampered = comment_form_data(client, post, security_hash="0" * 40)
    assert client.post("/comments/post/", tampered).status_code == 400
    stale = comment_form_data(client, post, comment="Typed before lunch")
    stale["timestamp"] = str(int(stale["timestamp"]) - 3 * 3600)
    expired = client.post("/comments/post/", stale)
    assert expired.status_code == 400
    # The text survives, in a fresh form that can be sent again.
    page = soup(expired)
    assert "expired" in page.select_one("[role=alert]").get_text()
    fresh = {i["name"]: i.get("value", "") for i in page.select("form#comment-form input")}
    fresh["comment"] = page.select_one("textarea[name=comment]").get_text().removeprefix("\n")
    assert fresh["comment"] == "Typed before lunch" and fresh["name"] == "Ama Reader"
    assert int(fresh["timestamp"]) > int(stale["timestamp"])
    assert Comment.objects.count() == 0
    assert client.post("/comments/post/", fresh).status_code == 302
    Comment.objects.all().delete()
    bot = comment_form_data(client, post, honeypot="http://buy.example")
    assert client.post("/comments/post/", bot).status_code == 400
    assert Comment.objects.count() == 0


def test_bad_target_is_a_clear_400(client, post, comment_form_data):
    data = comment_form_data(client, post, object_pk="999999")
    assert client.post("/comments/post/", data).status_code == 400
    data = comment_form_data(client, post, content_type="auth.user")
    assert client.post("/comments/post/", data).status_code == 400
    assert client.get("/comments/post/").status_code == 405


# The comment-side cases of the security issue (issue 11): raw HTML, bad schemes, obfuscated
# schemes, mXSS shapes and attribute breakout.
XSS_CASES = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "<svg onload=alert(1)>",
    "<details open ontoggle=alert(1)>",
    "<input autofocus onfocus=alert(1)>",
    "[a](JaVaScRiPt:alert(1))",
    "![a](javascript:alert(1))",
    "[a](javascript&#58;alert(1))",
    "[a](javascript&#x3A;alert(1))",
    "[a](vbscript:msgbox(1))",
    "[a](data:text/html,<script>alert(1)</script>)",
    "[a](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "[a](java\tscript:alert(1))",
    "[a](<java\nscript:alert(1)>)",
    "[a](\u2028javascript:alert(1))",
    "[a](\x01javascript:alert(1))",
    "[a](java\u200bscript:alert(1))",
    "<noscript><title></noscript><img src=x onerror=alert(1)>",
    "<math><style><img src=x onerror=alert(1)></style></math>",
    '<svg><p><style><g title="</style><img src=x onerror=alert(1)>">',
    "<form><math><mtext></form><form><mglyph><style></math><img src=x onerror=alert(1)>",
    "<textarea>x</textarea><!--</textarea><img src=x onerror=alert(1)>-->",
    '![x" onerror="alert(1)](http://e/x.png)',
    "`<script>` and ```\n<script>alert(1)</script>\n```",
]
BANNED = {
    "script",
    "iframe",
    "object",
    "embed",
    "base",
    "meta",
    "form",
    "style",
    "svg",
    "math",
    "img",
    "input",
}
URL_ATTRIBUTES = {"href", "src", "action", "formaction", "xlink:href", "srcset", "poster", "data"}


def assert_inert(fragment):
    for tag in fragment.find_all(True):
        assert tag.name not in BANNED, tag
        for attribute, value in tag.attrs.items():
            assert not attribute.lower().startswith("on"), tag
            if attribute in URL_ATTRIBUTES:
                scheme = value.split(":", 1)[0].lower() if ":" in value.split("/", 1)[0] else ""
                assert scheme in {"", "http", "https", "mailto"}, tag


@pytest.mark.parametrize("text", XSS_CASES)
def test_comment_side_xss_renders_inert(client, post, make_comment, comment_form_data, text, settings):
    """Through the real form (body and author name) and as a stored linkback (title, excerpt),
    parsed with an HTML5 parser."""
    settings.COMMENTS_HOLD_LINKS = 99
    client.force_login(get_user_model().objects.create_user("eve", "eve@example.org", first_name=text[:30]))
    response = client.post("/comments/post/", comment_form_data(client, post, comment=text))
    assert response.status_code == 302
    comment = Comment.objects.get(kind="comment")
    ping = make_comment(
        post,
        kind="pingback",
        source_url="https://e.example/p",
        source_title=text,
        excerpt=text,
        comment="",
        user_email="",
    )
    page = BeautifulSoup(client.get(post.get_absolute_url()).content, "html5lib")
    for pk in (comment.pk, ping.pk):
        node = page.select_one(f"li#c{pk}")
        assert node is not None
        assert_inert(node)
    # The attack is shown as text, not run.
    assert page.select_one(f"li#c{ping.pk} a.source").get_text() == text


@pytest.mark.parametrize("field", ["name", "comment", "url"])
def test_nul_characters_are_a_400_not_a_500(client, post, comment_form_data, field):
    response = client.post("/comments/post/", comment_form_data(client, post, **{field: "bad\x00value"}))
    assert response.status_code == 400
    assert Comment.objects.count() == 0


def test_comment_post_without_csrf_token_is_403(post, comment_form_data):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    data = comment_form_data(strict, post)
    data.pop("csrfmiddlewaretoken")
    assert strict.post("/comments/post/", data).status_code == 403
    other = Client(enforce_csrf_checks=True)
    other.get(post.get_absolute_url())
    assert other.post("/comments/post/", comment_form_data(strict, post)).status_code == 403
    assert Comment.objects.count() == 0


@pytest.mark.parametrize(
    "url", ["javascript:alert(1)", " JavaScript:alert(1)", "data:text/html,x", "ftp://x.example"]
)
def test_stored_non_http_websites_and_sources_are_not_linked(client, post, make_comment, url):
    """Rows written outside the form (admin, imports, linkbacks) still can't carry a script link."""
    comment = make_comment(post, user_url=url, comment=f"site {url}")
    ping = make_comment(post, kind="pingback", source_url=url, source_title="Src", comment="", user_email="")
    page = soup(client.get(post.get_absolute_url()))
    assert page.select_one(f"li#c{comment.pk} .comment-author a") is None
    assert page.select_one(f"li#c{ping.pk} a.source") is None
    assert page.select_one(f"li#c{ping.pk} .source").get_text() == "Src"


def test_form_refuses_non_http_website(client, post, comment_form_data):
    response = client.post("/comments/post/", comment_form_data(client, post, url="javascript:alert(1)"))
    assert response.status_code == 400 and Comment.objects.count() == 0
