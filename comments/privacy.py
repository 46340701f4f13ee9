"""Personal data held for an email address besides its comments: a registry that apps above
comments add to (the newsletter's subscriptions, for one), so the discussion's privacy page
(comments/views.py, `privacy_manage`) lists and deletes everything without importing them.

An app registers one `PersonalDataProvider` from its AppConfig.ready().
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class PersonalDataProvider:
    key: str  # unique, e.g. "newsletter"
    title: str  # a section heading (lazily translated)
    describe: Callable[[str], list[str]]  # what is held for the address, one line per item
    delete: Callable[[str], int]  # delete it all; returns how many items went


_providers: dict[str, PersonalDataProvider] = {}


def personal_data_register(provider: PersonalDataProvider) -> None:
    _providers[provider.key] = provider


def personal_data_providers() -> list[PersonalDataProvider]:
    return list(_providers.values())


# --- The commenter's own copy (the JSON download on the privacy page, and the admin's export) ---

PERSONAL_DATA_FORMAT = "sectorblog-personal-data"


def _iso(value) -> str | None:
    return value.isoformat() if value else None


def comment_record(comment) -> dict:
    """Everything stored about one comment, as its writer may read it."""
    from comments.services import comment_state

    return {
        "id": comment.pk,
        "post": comment.post.title if comment.post_id else None,
        "post_url": comment.post.get_absolute_url()
        if comment.post_id and comment.post.is_published
        else None,
        "submitted_at": _iso(comment.submit_date),
        "state": comment_state(comment),
        "kind": comment.kind,
        "name": comment.user_name,
        "email": comment.user_email,
        "website": comment.user_url,
        "ip_address": comment.ip_address,
        "user_agent": comment.user_agent,
        "language": comment.language,
        "text": comment.comment,
        "reply_to": comment.parent_id if comment.parent_id != comment.pk else None,
        "follow_up_emails": comment.followup,
        "follow_up_scope": comment.followup_scope if comment.followup else None,
    }


def personal_data(email: str, *, comments=None) -> dict:
    """The data held for an email address: its comments and every registered provider's items."""
    from django.utils import timezone

    from comments.services import comments_by_email

    if comments is None:
        comments = comments_by_email(email=email)
    return {
        "format": PERSONAL_DATA_FORMAT,
        "version": 1,
        "email": email,
        "exported_at": timezone.now().isoformat(),
        "comments": [comment_record(c) for c in comments],
        "other": {p.key: [str(line) for line in p.describe(email)] for p in personal_data_providers()},
    }
