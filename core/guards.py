"""Hostile-input guard: one cheap pass over every request before any view or form sees it.

- The URL: longer than MAX_URL_LENGTH characters gives 414 (gunicorn's own request-line limit,
  4094 bytes, usually answers first); a control character in the decoded path gives 400.
  PostgreSQL refuses NUL in text, so a NUL reaching a query would be a 500.
- Query values: control characters (NUL, C0 except tab/CR/LF, DEL, C1) are stripped, so a search
  or filter never carries them to the database.
- Form values (POST): NUL gives 400, as Django's own form fields answer; the other control
  characters are stripped.
- Names: bidirectional embedding, override and isolate characters are stripped from fields that
  hold a person's or a site's name, so "\u202eevil" cannot reverse the text around it.
- URL fields (website, source, target, next, *_url): longer than MAX_FIELD_URL_LENGTH, or holding
  CR/LF, gives 400.

`client_ip()` is the one answer to "who is asking", for login lockouts and rate limits.

`strip_control()` and `neutralise_bidi()` are the same rules for code that stores text it did not
get from a form (linkback titles and excerpts fetched from other sites, imports).
"""

from __future__ import annotations

import ipaddress
import re

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, QueryDict
from django.utils.translation import gettext as _

MAX_URL_LENGTH = 16_384
MAX_FIELD_URL_LENGTH = 2048

# C0 controls except tab, LF and CR; DEL; C1 controls.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_URL_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
# Embeddings, overrides and isolates (LRE RLE PDF LRO RLO, LRI RLI FSI PDI). The marks LRM/RLM
# stay: they cannot reorder text outside themselves.
_BIDI_CONTROL = re.compile(r"[\u202a-\u202e\u2066-\u2069]")
_NAME_FIELDS = frozenset(
    {"name", "user_name", "username", "author", "author_name", "blog_name", "display_name",
     "first_name", "last_name", "title", "source_title"}
)  # fmt: skip
_URL_FIELDS = frozenset({"url", "user_url", "website", "source", "target", "next", "homepage"})


def strip_control(text: str) -> str:
    """Remove NUL and other control characters, keeping tab, CR and LF."""
    return _CONTROL.sub("", text)


def neutralise_bidi(text: str) -> str:
    """Remove bidirectional embedding, override and isolate characters from a name or title."""
    return _BIDI_CONTROL.sub("", text)


def _is_url_field(key: str) -> bool:
    return key in _URL_FIELDS or key.endswith("_url")


def _clean_value(key: str, value: str) -> str:
    value = strip_control(value)
    if key in _NAME_FIELDS:
        value = neutralise_bidi(value)
    return value


def _bad_url_field(data: QueryDict) -> str | None:
    for key, values in data.lists():
        if not _is_url_field(key):
            continue
        for value in values:
            if len(value) > MAX_FIELD_URL_LENGTH or "\r" in value or "\n" in value:
                return key
    return None


def _cleaned(data: QueryDict) -> QueryDict | None:
    """A copy of the QueryDict with cleaned values, or None when nothing needed cleaning."""
    changed = False
    cleaned = QueryDict(mutable=True, encoding=data.encoding)
    for key, values in data.lists():
        new_values = [_clean_value(key, v) for v in values]
        changed = changed or new_values != values
        cleaned.setlist(key, new_values)
    if not changed:
        return None
    cleaned._mutable = False
    return cleaned


def _bad_request(message: str) -> HttpResponse:
    return HttpResponseBadRequest(message, content_type="text/plain; charset=utf-8")


class HostileInputMiddleware:
    """Refuse hostile URLs and clean hostile text before CSRF checks, views and forms run."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        raw_path = request.META.get("PATH_INFO", "")
        query = request.META.get("QUERY_STRING", "")
        if len(raw_path) + len(query) > MAX_URL_LENGTH:
            return HttpResponse(
                _("This address is too long."), status=414, content_type="text/plain; charset=utf-8"
            )
        if _URL_CONTROL.search(request.path):
            return _bad_request(_("This address contains control characters."))

        for attribute in ("GET", "POST"):
            if attribute == "POST" and request.method != "POST":
                continue
            data = getattr(request, attribute)
            if attribute == "POST" and any("\x00" in v for _key, values in data.lists() for v in values):
                return _bad_request(_("The form contains a NUL character."))
            if (field := _bad_url_field(data)) is not None:
                return _bad_request(
                    _("The address in “%(field)s” is too long or malformed.") % {"field": field}
                )
            if (cleaned := _cleaned(data)) is not None:
                setattr(request, attribute, cleaned)
        return self.get_response(request)


def client_ip(request: HttpRequest) -> str | None:
    """The client's address: REMOTE_ADDR, or with TRUSTED_PROXY_COUNT = N proxies in front, the
    address the outermost trusted proxy saw (the N-th X-Forwarded-For entry from the right).

    Entries further left were written by the client and can say anything, so they are never used.
    With fewer entries than trusted proxies, REMOTE_ADDR stands. The one answer for the whole
    site (sign-in limits, comment and linkback records, flood and rate limits, the page cache's
    per-client budget). Always a valid IP address or None, so it can go into an inet column.
    """
    remote = _ip_or_none(request.META.get("REMOTE_ADDR"))
    count = settings.TRUSTED_PROXY_COUNT
    if count <= 0:
        return remote
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    forwarded = [part for part in forwarded if part]
    if len(forwarded) < count:
        return remote
    # The trusted proxy's entry is the client; if it is not an address, the client is unknown
    # (never the proxy itself, which every client shares).
    return _ip_or_none(forwarded[-count])


def _ip_or_none(value: str | None) -> str | None:
    try:
        return str(ipaddress.ip_address(value or ""))
    except ValueError:
        return None
