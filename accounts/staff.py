"""Who counts as staff for the second-factor rule: anyone who can reach the admin, and anyone in a
group (the groups are the editorial roles of posts/roles.py; a Moderator may moderate from the
public pages without being admin staff)."""

from __future__ import annotations

from allauth.mfa.models import Authenticator

# The factors that count as a second factor; recovery codes only stand in for them.
SECOND_FACTORS = (Authenticator.Type.TOTP, Authenticator.Type.WEBAUTHN)


def requires_second_factor(user) -> bool:
    if not user.is_authenticated or not user.is_active:
        return False
    if user.is_staff or user.is_superuser:
        return True
    return user.groups.exists()
