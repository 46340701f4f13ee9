"""allauth's forms, adjusted (ACCOUNT_FORMS, MFA_FORMS)."""

from __future__ import annotations

from allauth.account.forms import LoginForm as AllauthLoginForm
from allauth.account.forms import ResetPasswordForm as AllauthResetPasswordForm
from allauth.core import context
from allauth.mfa.base.forms import AuthenticateForm
from allauth.mfa.webauthn.forms import AuthenticateWebAuthnForm
from axes.handlers.proxy import AxesProxyHandler
from django import forms
from django.conf import settings
from django.forms.utils import ErrorDict
from django.utils.translation import gettext_lazy as _

from accounts.limits import rate_hit
from accounts.lockout import LOCKOUT_MESSAGE
from core.guards import client_ip

RESET_LIMITED_MESSAGE = _("Too many password reset requests. Try again later.")


class LoginForm(AllauthLoginForm):
    """Sends its login field as "username", Django's name for it: password managers, the admin's
    old login links and django-axes all expect that name."""

    def add_prefix(self, field_name: str) -> str:
        return super().add_prefix("username" if field_name == "login" else field_name)


class ResetPasswordForm(AllauthResetPasswordForm):
    """Reset requests are limited per client address and per email address. The refusal reads the
    same for every address, so it reveals nothing about which ones have accounts."""

    def clean_email(self) -> str:
        email = super().clean_email()
        request = context.request
        window = settings.PASSWORD_RESET_RATE_WINDOW
        by_ip = rate_hit(
            bucket="reset-ip",
            key=client_ip(request) or "",
            limit=settings.PASSWORD_RESET_RATE_PER_IP,
            window=window,
        )
        by_email = rate_hit(
            bucket="reset-email",
            key=email.strip().lower(),
            limit=settings.PASSWORD_RESET_RATE_PER_EMAIL,
            window=window,
        )
        if not (by_ip and by_email):
            raise forms.ValidationError(RESET_LIMITED_MESSAGE, code="rate_limited")
        return email


class LockoutCheck:
    """The second step of sign-in honours the lockout of the first: while the username or the
    address is locked out, not even a right code or passkey gets in."""

    user = None

    def full_clean(self):
        # The lock is checked before the code, so a locked-out guesser learns nothing from it.
        if self.is_bound and self.user is not None:
            request = context.request
            credentials = {"username": self.user.get_username()}
            if AxesProxyHandler.is_locked(request, credentials):
                # AxesMiddleware turns this into the lockout page.
                request.axes_locked_out = True
                request.axes_credentials = credentials
                self._errors = ErrorDict()
                self.cleaned_data = {}
                self.add_error(None, forms.ValidationError(LOCKOUT_MESSAGE, code="locked_out"))
                return
        super().full_clean()


class MFAAuthenticateForm(LockoutCheck, AuthenticateForm):
    pass


class MFAAuthenticateWebAuthnForm(LockoutCheck, AuthenticateWebAuthnForm):
    pass
