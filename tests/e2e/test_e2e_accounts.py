"""Staff accounts in a real Chromium: a passkey added and used through Chromium's virtual
authenticator (the DevTools protocol's WebAuthn domain), a TOTP sign-in, a password reset read
from the email file the site wrote, and axe-core on the sign-in and two-factor screens."""

from __future__ import annotations

import re
import time
from email import message_from_bytes, policy
from pathlib import Path

import pyotp
import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from tests.e2e.conftest import audit, run_worker

PASSWORD = "a-long-staff-pass-phrase-71"


@pytest.fixture
def editor(transactional_db, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    from django.core.management import call_command

    call_command("sync_roles", verbosity=0)
    user = get_user_model().objects.create_user("ines", "ines@example.org", PASSWORD, is_staff=True)
    user.groups.add(Group.objects.get(name="Editor"))
    return user


def sign_in_with_password(page, base: str, username: str = "ines", password: str = PASSWORD) -> None:
    page.goto(base + "/admin/login/?next=/admin/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_load_state()


def virtual_authenticator(page) -> tuple[object, str]:
    """A platform authenticator (like a laptop's fingerprint reader) that always says yes."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    added = cdp.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "internal",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
                "automaticPresenceSimulation": True,
            }
        },
    )
    return cdp, added["authenticatorId"]


def test_a_passkey_is_added_and_then_signs_in(open_page, live_server, editor, settings):
    settings.STAFF_REQUIRE_2FA = True
    base = live_server.url
    page = open_page()
    cdp, authenticator_id = virtual_authenticator(page)

    sign_in_with_password(page, base)
    # Staff without a second factor are sent to set one up.
    assert page.url == base + "/accounts/2fa/"
    page.goto(base + "/accounts/2fa/webauthn/add/")
    if "/reauthenticate/" in page.url:  # adding a factor asks for the password again
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name=re.compile("Confirm", re.I)).click()
        page.wait_for_url(re.compile(r"/accounts/2fa/webauthn/add/"))
    page.get_by_label("Name").fill("Laptop")
    page.get_by_role("button", name="Add").click()
    page.wait_for_url(lambda url: "/webauthn/add/" not in url)
    keys = Authenticator.objects.filter(user=editor, type=Authenticator.Type.WEBAUTHN)
    assert keys.count() == 1
    credentials = cdp.send("WebAuthn.getCredentials", {"authenticatorId": authenticator_id})["credentials"]
    assert len(credentials) == 1

    page.goto(base + "/admin/")
    assert page.locator("#site-name").inner_text() == settings.SITE_NAME
    page.get_by_role("button", name="Log out").click()
    page.wait_for_load_state()

    sign_in_with_password(page, base)
    assert page.url.startswith(base + "/accounts/2fa/authenticate/")
    page.get_by_role("button", name="Use a passkey or security key").click()
    page.wait_for_url(base + "/admin/")
    assert page.locator("#content h1").count() >= 1
    assert Authenticator.objects.get(pk=keys.get().pk).last_used_at is not None
    sign_count = cdp.send("WebAuthn.getCredentials", {"authenticatorId": authenticator_id})["credentials"][0]
    assert sign_count["signCount"] >= 1


def current_code(secret: str, margin: float = 10.0) -> str:
    """The authenticator's code, with at least `margin` seconds of its 30-second window left: the
    site accepts a code in its own window only, and on a loaded machine typing and submitting it
    can take long enough for the window to turn, as a person typing a code at the last second."""
    left = 30 - time.time() % 30
    if left < margin:
        time.sleep(left + 0.5)
    return pyotp.TOTP(secret).now()


def test_a_totp_code_signs_in_through_the_browser(open_page, live_server, editor):
    secret = generate_totp_secret()
    TOTP.activate(editor, secret)
    page = open_page()
    sign_in_with_password(page, live_server.url)
    page.get_by_label("Code").fill(current_code(secret))
    page.get_by_role("button", name="Sign In").click()
    page.wait_for_url(live_server.url + "/admin/")


def read_newest_email(mail_dir: Path, to: str):
    messages = []
    for path in sorted(mail_dir.glob("*.log")):
        for chunk in path.read_bytes().split(b"-" * 79 + b"\n"):
            if chunk.strip():
                messages.append(message_from_bytes(chunk, policy=policy.default))
    mine = [m for m in messages if to in str(m["To"])]
    assert mine, f"no email to {to} in {mail_dir}"
    return mine[-1]


def test_password_reset_end_to_end_through_the_email_file(open_page, live_server, editor, settings, tmp_path):
    mail_dir = tmp_path / "mail"
    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.filebased.EmailBackend",
            "OPTIONS": {"file_path": str(mail_dir)},
        }
    }
    base = live_server.url
    page = open_page()
    page.goto(base + "/admin/login/")
    page.get_by_role("link", name="Forgotten your password?").click()
    page.get_by_label(re.compile("Email", re.I)).fill("ines@example.org")
    page.get_by_role("button", name=re.compile("Reset", re.I)).click()
    page.wait_for_load_state()
    run_worker()  # the email goes out from the task worker, as in production

    message = read_newest_email(mail_dir, "ines@example.org")
    body = message.get_body(preferencelist=("plain",)).get_content()
    path = re.search(r"https?://[^/\s]+(/accounts/password/reset/key/\S+)", body).group(1)
    page.goto(base + path)
    new = "a-brand-new-pass-phrase-55"
    page.get_by_label("New Password:", exact=True).fill(new)
    page.get_by_label("New Password (again):", exact=True).fill(new)
    page.get_by_role("button", name=re.compile("Change Password", re.I)).click()
    page.wait_for_load_state()

    sign_in_with_password(page, base, password=new)
    page.wait_for_url(base + "/admin/")
    editor.refresh_from_db()
    assert editor.check_password(new)


def test_axe_finds_nothing_serious_on_the_sign_in_and_two_factor_screens(
    open_page, live_server, editor, settings
):
    base = live_server.url
    page = open_page(bypass_csp=True)
    problems = {}

    def check(label: str, response_html: str) -> None:
        violations, errors = audit(page, label, response_html)
        serious = [v for v in violations if v.get("impact") in ("serious", "critical")]
        if serious or errors:
            problems[label] = ([(v["id"], v["impact"]) for v in serious], [e["message"] for e in errors])

    for label, path in [("sign in", "/admin/login/"), ("password reset", "/accounts/password/reset/")]:
        response = page.goto(base + path)
        check(label, response.text())

    page.goto(base + "/admin/login/")
    page.get_by_label("Username").fill("ines")
    page.get_by_label("Password").fill("wrong-password")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_load_state()
    check("sign in with an error", page.content())

    secret = generate_totp_secret()
    TOTP.activate(editor, secret)
    sign_in_with_password(page, base)
    check("two-factor code", page.content())
    page.get_by_label("Code").fill("000000" if pyotp.TOTP(secret).now() != "000000" else "111111")
    page.get_by_role("button", name="Sign In").click()
    page.wait_for_load_state()
    check("two-factor code with an error", page.content())
    page.get_by_label("Code").fill(current_code(secret))
    page.get_by_role("button", name="Sign In").click()
    page.wait_for_url(base + "/admin/")

    for label, path in [
        ("two-factor overview", "/accounts/2fa/"),
        ("recovery codes", "/accounts/2fa/recovery-codes/"),
        ("sessions", "/accounts/sessions/"),
        ("admin index", "/admin/"),
    ]:
        response = page.goto(base + path)
        if "/reauthenticate/" in page.url:
            page.get_by_label("Password").fill(PASSWORD)
            page.get_by_role("button", name=re.compile("Confirm", re.I)).click()
            page.wait_for_load_state()
            check("confirm password", page.content())
            response = page.goto(base + path)
        check(label, response.text())
    assert problems == {}
