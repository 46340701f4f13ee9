"""Spam checks: a list of plain functions named in settings.COMMENTS_SPAM_CHECKS.

Each check is `check(comment, context) -> Verdict`: HAM (no opinion against), SPAM, or UNKNOWN
when the check could not decide (a service timed out or failed). `context` carries what the
request knew (ip, user agent, referrer, page URL, language). `run_spam_checks()` runs them in
order and stops at the first SPAM.
"""

from __future__ import annotations

import enum
import logging
from typing import Any

import requests
from django.conf import settings
from django.utils.module_loading import import_string

from comments.moderation import count_links
from core.origin import public_origin

logger = logging.getLogger(__name__)

LINK_STUFFING_THRESHOLD = 8


class Verdict(enum.StrEnum):
    HAM = "ham"
    SPAM = "spam"
    UNKNOWN = "unknown"


def link_stuffing_check(comment, context: dict[str, Any]) -> Verdict:
    """A comment that is mostly a list of links is spam, not a question for a moderator."""
    return Verdict.SPAM if count_links(comment.moderation_text) >= LINK_STUFFING_THRESHOLD else Verdict.HAM


def akismet_check(comment, context: dict[str, Any]) -> Verdict:
    """Ask Akismet's comment-check (API 1.1) when AKISMET_API_KEY is set.

    Akismet answers the body "true" for spam and "false" for ham; anything else (an error,
    "invalid", a timeout, a 5xx) is UNKNOWN, so the comment is held and checked again later.
    """
    key = settings.AKISMET_API_KEY
    if not key:
        return Verdict.HAM
    origin = public_origin()
    data = {
        "api_key": key,
        "blog": origin + "/",
        "user_ip": context.get("ip") or comment.ip_address or "",
        "user_agent": context.get("user_agent") or comment.user_agent or "",
        "referrer": context.get("referrer", ""),
        "permalink": context.get("permalink", ""),
        "comment_type": "comment" if comment.kind == "comment" else comment.kind,
        "comment_author": comment.user_name,
        "comment_author_email": comment.user_email,
        "comment_author_url": comment.user_url,
        "comment_content": comment.comment,
        "blog_lang": context.get("language") or comment.language or "",
        "blog_charset": "UTF-8",
    }
    try:
        response = requests.post(settings.AKISMET_ENDPOINT, data=data, timeout=settings.AKISMET_TIMEOUT)
    except requests.RequestException as exc:
        logger.warning("akismet unreachable: %s", exc)
        return Verdict.UNKNOWN
    body = response.text.strip()
    if response.status_code == 200 and body == "true":
        return Verdict.SPAM
    if response.status_code == 200 and body == "false":
        return Verdict.HAM
    logger.warning("akismet gave no verdict: %s %r", response.status_code, body[:100])
    return Verdict.UNKNOWN


def run_spam_checks(comment, context: dict[str, Any] | None = None) -> Verdict:
    """Run every configured check; SPAM wins, then UNKNOWN, else HAM."""
    context = context or {}
    outcome = Verdict.HAM
    for path in settings.COMMENTS_SPAM_CHECKS:
        verdict = Verdict(import_string(path)(comment, context))
        if verdict is Verdict.SPAM:
            return Verdict.SPAM
        if verdict is Verdict.UNKNOWN:
            outcome = Verdict.UNKNOWN
    return outcome
