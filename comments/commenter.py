"""Less friction for anonymous commenters: two cookies.

- **Remember me** (`sb_commenter`, opt-in with the form's checkbox, as WordPress offers): the
  name, email and website, kept for a year so the form can fill itself in. Only the comment form
  reads it: static/js/site.js on post pages (which are served from the page cache, so the server
  cannot), and the server on the reply page. Unticking the box forgets them.
- **Trusted address** (`sb_trusted`, HttpOnly, signed): issued when a comment's confirmation link
  is followed, it names (as keyed digests, never in clear) the addresses confirmed in this
  browser. A later comment with one of them skips the confirmation email and goes straight to
  moderation. Trust needs both the cookie and the address: typing someone else's address in
  another browser still asks that address to confirm, and a new browser confirms once more.
"""

from __future__ import annotations

import json
from urllib.parse import quote, unquote

from django.conf import settings
from django.core import signing
from django.utils.crypto import salted_hmac

# The flash message that marks a reader's new comment on the next page (views → discussion tag).
JUST_POSTED_TAG = "just-posted"
REMEMBER_COOKIE = "sb_commenter"
TRUST_COOKIE = "sb_trusted"
TRUST_SALT = "sectorblog.comments.trusted"
TRUST_MAX_ADDRESSES = 5  # a shared family computer; more than that is not a person


def _cookie_options(*, max_age: int, httponly: bool) -> dict:
    return {
        "max_age": max_age,
        "path": "/",
        "secure": settings.SESSION_COOKIE_SECURE,
        "httponly": httponly,
        "samesite": "Lax",
    }


# --- Remember me ------------------------------------------------------------------------------------


def remembered_read(request) -> dict[str, str]:
    """{"name", "email", "url"} from the cookie, or {} (a missing or garbled cookie)."""
    raw = request.COOKIES.get(REMEMBER_COOKIE, "")
    try:
        data = json.loads(unquote(raw)) if raw else {}
    except ValueError:
        return {}
    if not isinstance(data, dict):
        return {}
    return {key: str(data.get(key, ""))[:300] for key in ("name", "email", "url")}


def remembered_write(response, *, name: str, email: str, url: str) -> None:
    value = quote(json.dumps({"name": name, "email": email, "url": url}, separators=(",", ":")))
    # Read by the form's script, so not HttpOnly; it holds only what the reader typed for it.
    response.set_cookie(REMEMBER_COOKIE, value, **_cookie_options(max_age=365 * 24 * 3600, httponly=False))


def remembered_forget(request, response) -> None:
    if REMEMBER_COOKIE in request.COOKIES:
        response.delete_cookie(REMEMBER_COOKIE, path="/", samesite="Lax")


# --- Trusted addresses --------------------------------------------------------------------------------


def _address_digest(email: str) -> str:
    return salted_hmac(TRUST_SALT, email.strip().lower(), algorithm="sha256").hexdigest()[:32]


def _trusted_digests(request) -> list[str]:
    raw = request.COOKIES.get(TRUST_COOKIE, "")
    if not raw:
        return []
    try:
        data = signing.loads(raw, salt=TRUST_SALT, max_age=settings.COMMENTS_TRUST_MAX_AGE)
    except signing.BadSignature:  # forged, or older than COMMENTS_TRUST_MAX_AGE
        return []
    return [d for d in data if isinstance(d, str)] if isinstance(data, list) else []


def trust_holds(request, *, email: str) -> bool:
    """This browser confirmed this address before (the signed cookie names it)."""
    return bool(email.strip()) and _address_digest(email) in _trusted_digests(request)


def trust_issue(request, response, *, email: str) -> None:
    """Add the address to this browser's trusted ones (the newest TRUST_MAX_ADDRESSES)."""
    digest = _address_digest(email)
    digests = [d for d in _trusted_digests(request) if d != digest] + [digest]
    value = signing.dumps(digests[-TRUST_MAX_ADDRESSES:], salt=TRUST_SALT)
    response.set_cookie(
        TRUST_COOKIE, value, **_cookie_options(max_age=settings.COMMENTS_TRUST_MAX_AGE, httponly=True)
    )
