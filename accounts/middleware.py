"""Two small middlewares for signed-in staff.

SessionActivityMiddleware keeps the sessions list (allauth.usersessions) current: the session's
last activity, address and browser, written at most every SESSION_ACTIVITY_SECONDS. allauth's own
tracking writes on every request; this one costs nothing on most requests and nothing at all for
readers who are not staff.

StaffTwoFactorMiddleware enforces STAFF_REQUIRE_2FA: an account in a staff group without an
authenticator app or a passkey is sent to set one up, and can do nothing else until it has.
"""

from __future__ import annotations

import time

from allauth.mfa.models import Authenticator
from allauth.usersessions.models import UserSession
from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext as _

from accounts.signals import ACTIVITY_KEY
from accounts.staff import SECOND_FACTORS, requires_second_factor

VERDICT_KEY = "accounts_2fa"


def _signed_in(request: HttpRequest) -> bool:
    session = getattr(request, "session", None)
    return bool(session is not None and session.session_key and request.user.is_authenticated)


class SessionActivityMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if _signed_in(request) and request.user.is_staff:
            now = int(time.time())
            seen = request.session.get(ACTIVITY_KEY, 0)
            if now - seen >= settings.SESSION_ACTIVITY_SECONDS:
                request.session[ACTIVITY_KEY] = now
                UserSession.objects.create_from_request(request)
        return response


class StaffTwoFactorMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if (
            settings.STAFF_REQUIRE_2FA
            and _signed_in(request)
            and not self._allowed_path(request.path)
            and not self._has_second_factor(request)
        ):
            messages.warning(
                request,
                _(
                    "Your account can change this site, so it needs a second factor: set up "
                    "an authenticator app or a passkey to continue."
                ),
            )
            return HttpResponseRedirect(reverse("mfa_index"))
        return self.get_response(request)

    @staticmethod
    def _allowed_path(path: str) -> bool:
        """Sign-in, sign-out, two-factor set-up, password and session pages, and static files."""
        accounts_root = reverse("account_login").removesuffix("login/")
        allowed = (accounts_root, reverse("admin:logout"), settings.STATIC_URL, "/i18n/", "/healthz")
        return path.startswith(allowed)

    @staticmethod
    def _has_second_factor(request: HttpRequest) -> bool:
        """Kept in the session: once the factor exists a staff page costs no extra query; an
        exempt account (no staff flag, no group) is asked again after SESSION_ACTIVITY_SECONDS,
        so being added to a group takes effect within minutes."""
        user = request.user
        now = int(time.time())
        verdict = request.session.get(VERDICT_KEY)
        if isinstance(verdict, list) and verdict[0] == user.pk and verdict[1] >= now:
            return True
        if not requires_second_factor(user):
            request.session[VERDICT_KEY] = [user.pk, now + settings.SESSION_ACTIVITY_SECONDS]
            return True
        if Authenticator.objects.filter(user=user, type__in=SECOND_FACTORS).exists():
            request.session[VERDICT_KEY] = [user.pk, now + 10 * 365 * 86400]
            return True
        return False
