"""Signed keys and absolute links that the discussion's emails and pages carry.

Below comments/services.py and comments/tasks.py: both use them, and neither is imported here.
"""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.core import signing
from django.urls import reverse

from comments.models import Comment
from comments.thread import page_of_thread
from core.origin import absolute_url

CONFIRM_SALT = "sectorblog.comments.confirm"
MUTE_SALT = "sectorblog.comments.mute"
PRIVACY_SALT = "sectorblog.comments.privacy"


def email_digest(email: str) -> str:
    return hashlib.sha256(email.strip().lower().encode()).hexdigest()[:32]


def confirmation_key(*, comment: Comment) -> str:
    """A signed, timestamped key naming one waiting comment. JSON inside: nothing is unpickled."""
    return signing.dumps({"c": comment.pk, "e": email_digest(comment.user_email)}, salt=CONFIRM_SALT)


def mute_key(*, email: str, post_id: int) -> str:
    return signing.dumps({"e": email.strip().lower(), "p": post_id}, salt=MUTE_SALT)


def privacy_key(*, email: str) -> str:
    return signing.dumps({"e": email.strip().lower()}, salt=PRIVACY_SALT)


def privacy_email_from_key(*, key: str) -> str:
    """The address a privacy link was sent to. Raises BadSignature or SignatureExpired."""
    data = signing.loads(key, salt=PRIVACY_SALT, max_age=settings.COMMENTS_PRIVACY_MAX_AGE)
    if not isinstance(data, dict) or not isinstance(data.get("e"), str):
        raise signing.BadSignature("malformed")
    return data["e"]


def site_url(path: str) -> str:
    """An absolute URL on the public origin (settings, not the Site row: XTD-NOTES trap 11)."""
    return absolute_url(path)


def comment_page_url(*, comment: Comment) -> str:
    """The post URL, on the page of the thread holding this comment, with the #c<id> anchor."""
    page = page_of_thread(post_id=comment.post_id, thread_id=comment.thread_id)
    url = comment.post.get_absolute_url()
    if page > 1:
        url += f"?cpage={page}"
    return f"{url}#c{comment.pk}"


def reply_url(*, comment: Comment) -> str:
    return reverse("comments:reply", args=[comment.pk])
