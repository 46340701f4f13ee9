"""Account emails go out from the task worker, after commit, like every other email here: a
password-reset request answers in the same time whether or not the address has an account."""

from __future__ import annotations

from django.core.mail import EmailMultiAlternatives
from django.tasks import task


@task
def send_account_email(
    *, subject: str, body: str, html: str, from_email: str, to: list[str], headers: dict[str, str]
) -> str:
    message = EmailMultiAlternatives(subject, body, from_email, to, headers=headers)
    if html:
        message.attach_alternative(html, "text/html")
    message.send()
    return "sent"
