"""Signal handlers for staff accounts (connected in AccountsConfig.ready).

- A wrong second-factor code counts as a failed sign-in for django-axes, so guessing codes meets
  the same shared lockout as guessing passwords.
- Changing the password ends every other session; resetting it (by email) ends them all, and
  lifts the lockout on that username, since the owner has just proved they hold its mailbox.
- Signing in stamps the session's activity time (see middleware.SessionActivityMiddleware).
"""

from __future__ import annotations

import time

from allauth.account import signals as account_signals
from allauth.mfa import signals as mfa_signals
from allauth.usersessions.internal.flows import sessions as session_flows
from allauth.usersessions.models import UserSession
from axes.utils import reset as axes_reset
from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.dispatch import receiver

ACTIVITY_KEY = "accounts_seen_at"


@receiver(mfa_signals.authentication_failed)
def count_failed_second_factor(sender, request, user, **kwargs) -> None:
    if request is None:
        return
    user_login_failed.send(sender=__name__, credentials={"username": user.get_username()}, request=request)


@receiver(account_signals.password_changed)
@receiver(account_signals.password_set)
def end_other_sessions(sender, request, user, **kwargs) -> None:
    session_flows.end_other_sessions(request, user)


@receiver(account_signals.password_reset)
def end_all_sessions_and_lift_lockout(sender, request, user, **kwargs) -> None:
    for session in UserSession.objects.filter(user_id=user.pk):
        session.end()
    axes_reset(username=user.get_username())


@receiver(user_logged_in)
def stamp_session_activity(sender, request, user, **kwargs) -> None:
    session = getattr(request, "session", None)
    if session is not None:
        session[ACTIVITY_KEY] = int(time.time())
