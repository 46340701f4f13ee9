"""One templated plain-text email, written in the recipient's language: the site's name and
origin in every context, the subject on one line, Content-Language set. Sent through the
default mailer (callers are tasks: email never goes out inside a request)."""

from __future__ import annotations

from django.conf import settings
from django.core.mail import EmailMessage
from django.template.loader import render_to_string
from django.utils import translation

from core.origin import public_origin


def templated_email(
    *,
    to: str,
    language: str,
    subject_template: str,
    body_template: str,
    context: dict,
    headers: dict | None = None,
    from_email: str | None = None,
) -> EmailMessage:
    """The email, rendered in `language` (not sent)."""
    language = language or settings.LANGUAGE_CODE
    with translation.override(language):
        context = {"SITE_NAME": settings.SITE_NAME, "SITE_ORIGIN": public_origin(), **context}
        subject = " ".join(render_to_string(subject_template, context).split())
        body = render_to_string(body_template, context)
    return EmailMessage(
        subject,
        body,
        from_email or settings.DEFAULT_FROM_EMAIL,
        [to],
        headers={"Content-Language": language, **(headers or {})},
    )
