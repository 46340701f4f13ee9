"""How django-allauth behaves on this site (ACCOUNT_ADAPTER, MFA_ADAPTER).

- Nobody signs up: staff accounts are made by an administrator.
- The client address is the site's one answer (core.guards.client_ip).
- Emails carry links on the public origin and go out from the task worker after commit.
- The "too many attempts" sentence is the lockout's, whichever limiter said it.
- A staff user who must keep a second factor cannot remove their last one.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from allauth.account.adapter import DefaultAccountAdapter
from allauth.mfa.adapter import DefaultMFAAdapter
from allauth.mfa.models import Authenticator
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import HttpRequest
from django.urls import reverse
from django.utils import translation

from accounts import tasks
from accounts.lockout import LOCKOUT_MESSAGE
from accounts.staff import SECOND_FACTORS, requires_second_factor
from core.guards import client_ip
from core.origin import absolute_url


class AccountAdapter(DefaultAccountAdapter):
    error_messages = {**DefaultAccountAdapter.error_messages, "too_many_login_attempts": LOCKOUT_MESSAGE}

    def is_open_for_signup(self, request: HttpRequest) -> bool:
        return False

    def get_client_ip(self, request: HttpRequest) -> str:
        address = client_ip(request)
        if not address:
            raise PermissionDenied("Unable to determine the client address")
        return address

    def get_reset_password_from_key_url(self, key: str) -> str:
        """The reset link on the public origin, not on whatever Host the request carried."""
        path = reverse("account_reset_password_from_key", kwargs={"uidb36": "UID", "key": "KEY"})
        return absolute_url(path.replace("UID-KEY", quote(key)))

    def send_mail(self, template_prefix: str, email: str, context: dict[str, Any]) -> None:
        """Render now (in the reader's language, with the request's context), send after commit
        from the worker: the request takes the same time whether or not an email is due."""
        message = self.render_mail(template_prefix, email, {"email": email, **context})
        html = ""
        for content, mimetype in getattr(message, "alternatives", []):
            if mimetype == "text/html":
                html = content
        if getattr(message, "content_subtype", "plain") == "html":
            html, body = message.body, ""
        else:
            body = message.body
        headers = {"Content-Language": translation.get_language() or settings.LANGUAGE_CODE}
        kwargs = dict(
            subject=message.subject,
            body=body,
            html=html,
            from_email=message.from_email,
            to=list(message.to),
            headers=headers,
        )
        transaction.on_commit(lambda: tasks.send_account_email.enqueue(**kwargs))


class MFAAdapter(DefaultMFAAdapter):
    def can_delete_authenticator(self, authenticator: Authenticator) -> bool:
        user = authenticator.user
        if authenticator.type not in SECOND_FACTORS or not settings.STAFF_REQUIRE_2FA:
            return True
        if not requires_second_factor(user):
            return True
        others = Authenticator.objects.filter(user=user, type__in=SECOND_FACTORS).exclude(pk=authenticator.pk)
        return others.exists()
