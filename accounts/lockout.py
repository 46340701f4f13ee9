"""What a client sees when sign-in is refused for too many failures.

django-axes counts failures in the database (shared by every process and server) per client
address across usernames and per username across addresses (AXES_LOCKOUT_PARAMETERS); wrong
second-factor codes count too (signals.py). Whichever limit fired, the answer is this one page
with this one sentence, so it tells an attacker nothing about which usernames exist or which
limit they hit.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils.translation import gettext_lazy as _

LOCKOUT_MESSAGE = _("Too many failed sign-in attempts. Try again later, or reset your password.")


def lockout_response(request: HttpRequest, original_response=None, credentials=None) -> HttpResponse:
    """AXES_LOCKOUT_CALLABLE: 429 with the generic message and the cool-off, in the site's chrome."""
    response = TemplateResponse(
        request,
        "accounts/locked.html",
        {"message": LOCKOUT_MESSAGE, "cooloff_hours": settings.AXES_COOLOFF_TIME},
        status=429,
    )
    response["Retry-After"] = str(int(settings.AXES_COOLOFF_TIME * 3600))
    return response.render()
