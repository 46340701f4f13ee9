"""Staff sign-in with a second factor: a TOTP code (generated here with pyotp, as an authenticator
app would), a recovery code, and the STAFF_REQUIRE_2FA rule that sends staff without a factor to
set one up. Passkeys are tested in a real Chromium (tests/e2e/test_e2e_accounts.py)."""

from __future__ import annotations

import pyotp
import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from bs4 import BeautifulSoup
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.test import Client

pytestmark = pytest.mark.django_db

PASSWORD = "a-long-staff-pass-phrase-71"


@pytest.fixture(autouse=True)
def fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def editor(db):
    user = get_user_model().objects.create_user("ines", "ines@example.org", PASSWORD, is_staff=True)
    user.groups.add(Group.objects.get(name="Editor"))
    return user


def browser(ip: str = "192.0.2.10") -> Client:
    return Client(REMOTE_ADDR=ip, HTTP_USER_AGENT="Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0")


def sign_in(client: Client, username: str, password: str, next_url: str = "/admin/"):
    return client.post(f"/admin/login/?next={next_url}", {"username": username, "password": password})


def with_totp(user) -> str:
    secret = generate_totp_secret()
    TOTP.activate(user, secret)
    return secret


def second_step(client: Client, code: str):
    return client.post("/accounts/2fa/authenticate/", {"code": code})


def signed_in_to_admin(client: Client) -> bool:
    return client.get("/admin/").status_code == 200


def test_the_admin_login_is_the_sign_in_form_with_a_reset_link():
    page = BeautifulSoup(browser().get("/admin/login/?next=/admin/").content, "html.parser")
    form = page.select_one("form.accounts-form")
    assert form["action"] == "/accounts/login/"
    assert page.select_one("label[for=id_username]").get_text(strip=True).startswith("Username")
    assert form.select_one("input[name=username][autocomplete=username]") is not None
    assert form.select_one("input[name=password][type=password]") is not None
    assert form.select_one("input[name=next]")["value"] == "/admin/"
    assert page.select_one("a[href='/accounts/password/reset/']") is not None


def test_password_alone_signs_in_a_staff_user_without_a_second_factor(editor):
    client = browser()
    response = sign_in(client, "ines", PASSWORD)
    assert response.status_code == 302 and response["Location"] == "/admin/"
    assert signed_in_to_admin(client)


def test_a_totp_code_completes_the_sign_in(editor):
    secret = with_totp(editor)
    client = browser()
    response = sign_in(client, "ines", PASSWORD)
    assert response.status_code == 302 and response["Location"] == "/accounts/2fa/authenticate/"
    assert not signed_in_to_admin(client), "the password alone must not sign in"
    response = second_step(client, pyotp.TOTP(secret).now())
    assert response.status_code == 302 and response["Location"] == "/admin/"
    assert signed_in_to_admin(client)


def test_a_wrong_totp_code_keeps_the_door_shut(editor):
    secret = with_totp(editor)
    client = browser()
    sign_in(client, "ines", PASSWORD)
    right = pyotp.TOTP(secret).now()
    wrong = f"{(int(right) + 1) % 1_000_000:06d}"
    response = second_step(client, wrong)
    assert response.status_code == 200
    page = BeautifulSoup(response.content, "html.parser")
    assert page.select_one("#mfa-code-error") is not None
    assert page.select_one("input[name=code]")["aria-invalid"] == "true"
    assert not signed_in_to_admin(client)


def test_a_recovery_code_signs_in_once(editor):
    with_totp(editor)
    code = RecoveryCodes.activate(editor).get_unused_codes()[0]
    client = browser()
    sign_in(client, "ines", PASSWORD)
    response = second_step(client, code)
    assert response.status_code == 302 and response["Location"] == "/admin/"
    assert signed_in_to_admin(client)

    again = browser("192.0.2.11")
    sign_in(again, "ines", PASSWORD)
    assert second_step(again, code).status_code == 200  # used up
    assert not signed_in_to_admin(again)


@pytest.fixture
def require_2fa(settings):
    settings.STAFF_REQUIRE_2FA = True


def test_with_2fa_required_a_staff_user_must_set_it_up_first(editor, require_2fa):
    client = browser()
    assert sign_in(client, "ines", PASSWORD).status_code == 302
    response = client.get("/admin/posts/post/")
    assert response.status_code == 302 and response["Location"] == "/accounts/2fa/"
    page = BeautifulSoup(client.get("/accounts/2fa/").content, "html.parser")
    assert "needs a second factor" in page.select_one(".messagelist").get_text()

    # Set up an authenticator app the way a person would: confirm the password (adding a factor
    # asks for it again), then read the secret off the page.
    confirm = client.get("/accounts/2fa/totp/activate/")
    assert confirm.status_code == 302 and confirm["Location"].startswith("/accounts/reauthenticate/")
    back = client.post(confirm["Location"], {"password": PASSWORD})
    assert back.status_code == 302
    setup = BeautifulSoup(client.get("/accounts/2fa/totp/activate/").content, "html.parser")
    secret = setup.select_one("#authenticator_secret")["value"]
    response = client.post("/accounts/2fa/totp/activate/", {"code": pyotp.TOTP(secret).now()})
    assert response.status_code == 302
    assert Authenticator.objects.filter(user=editor, type=Authenticator.Type.TOTP).exists()
    # Recovery codes come with it.
    assert Authenticator.objects.filter(user=editor, type=Authenticator.Type.RECOVERY_CODES).exists()
    assert client.get("/admin/posts/post/").status_code == 200


def test_with_2fa_required_a_group_member_without_staff_flag_is_held_too(require_2fa):
    moderator = get_user_model().objects.create_user("mo", "mo@example.org", PASSWORD)
    moderator.groups.add(Group.objects.get(name="Moderator"))
    client = browser()
    client.force_login(moderator)
    response = client.get("/")
    assert response.status_code == 302 and response["Location"] == "/accounts/2fa/"


def test_with_2fa_required_readers_are_not_asked(require_2fa):
    reader = get_user_model().objects.create_user("reader", "reader@example.org", PASSWORD)
    client = browser()
    client.force_login(reader)
    assert client.get("/").status_code == 200


def test_with_2fa_required_the_last_factor_cannot_be_removed(editor, require_2fa):
    secret = with_totp(editor)
    client = browser()
    sign_in(client, "ines", PASSWORD)
    second_step(client, pyotp.TOTP(secret).now())
    page = client.get("/accounts/2fa/totp/deactivate/")
    assert page.status_code in (200, 302)
    client.post("/accounts/2fa/totp/deactivate/", {})
    assert Authenticator.objects.filter(user=editor, type=Authenticator.Type.TOTP).exists()


def test_without_the_rule_tests_and_development_are_not_forced(editor, settings):
    assert settings.STAFF_REQUIRE_2FA is False
    client = browser()
    client.force_login(editor)
    assert client.get("/admin/").status_code == 200


def test_signup_is_closed():
    response = browser().get("/accounts/signup/")
    assert "account/signup_closed.html" in [t.name for t in response.templates]
    browser().post(
        "/accounts/signup/",
        {"username": "mallory", "email": "m@example.org", "password1": PASSWORD, "password2": PASSWORD},
    )
    assert not get_user_model().objects.filter(username="mallory").exists()


def test_the_authenticator_app_shows_the_site_name_and_the_username(editor, settings):
    settings.SITE_NAME = settings.MFA_TOTP_ISSUER = "Sector Learning"
    client = browser()
    sign_in(client, "ines", PASSWORD)
    client.post("/accounts/reauthenticate/", {"password": PASSWORD})
    response = client.get("/accounts/2fa/totp/activate/")
    assert response.status_code == 200
    url = response.context["totp_url"]
    assert url.startswith("otpauth://totp/") and "issuer=Sector%20Learning" in url
    assert "ines%40example.org" in url or "ines" in url.split("?")[0]
