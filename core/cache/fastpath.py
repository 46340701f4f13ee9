"""Page-cache hits answered before Django's request handling, for anonymous readers.

A page served from the page cache (core.cache.pagecache) still passed through Django's handler
and all twenty middleware, which cost more than the cache lookup itself: about 0.5 ms of CPU per
request here, as much as a view returning a fixed string (the benchmark's floor). This WSGI
wrapper answers such requests itself, at a fraction of that.

It learns from Django. When Django answers a GET with a page-cache hit, the wrapper records the
final status and headers, as every middleware left them (security headers, CSP, Vary,
Content-Language, linkback headers, cache headers), under the page's cache key and whether the
client took gzip. The next request for the same key is answered from that record and the cached
entry, with everything that belongs to one visitor made afresh, by the same code Django's
middleware would run:
- the CSRF secret read from the visitor's cookie (CsrfViewMiddleware.process_request), a new
  masked token in the page and the cookie renewed (CsrfViewMiddleware.process_response);
- a new CSP nonce, in the page and in the policy header in place of the recorded one;
- the ETag (PageCacheMiddleware's), Content-Length and Content-Encoding.

Anything it is unsure of goes to Django, which answers as before: whatever the page cache's
own rule (core.cache.policy.verdict, the one the middleware uses) does not call cacheable, or
leaves to the session (a session cookie); methods other than GET; conditional requests (Django
sends the 304); a host Django would refuse; plain HTTP when SECURE_SSL_REDIRECT is on; a content
version that has expired or can't be read; no record yet; an entry gone from the cache; or any
error. Nothing here touches the database, so
cached pages stay up while it is down.

With a shared cache (Redis) a hit costs one round trip to it: the content version and the
dependency tags (core.cache.deps) of the copy this process last served for the same page are
fetched together, and the copy is served when it is still the current one; a copy whose tags
have changed, or the first hit on a page, costs one more.

`FAST_PATH=0` turns it off; it is off whenever PAGE_CACHE is.
"""

from __future__ import annotations

import logging
import re
import threading
from collections import OrderedDict

from django.conf import settings
from django.core.exceptions import DisallowedHost
from django.core.handlers.wsgi import WSGIRequest
from django.http import HttpResponse
from django.middleware.csrf import CsrfViewMiddleware
from django.utils.csp import generate_nonce
from django.utils.http import http_date
from django.utils.translation import get_language_from_request

from core.cache import deps, pagecache, policy
from core.cache.version import content_version_and_tags

logger = logging.getLogger(__name__)

RECORDS = 4096  # keys × encodings remembered per process, least recently used first out
# Headers made per visitor, or per stored copy (a page's copy is replaced under the same key when
# a discussion it shows changes: core.cache.deps); every other header is replayed as recorded.
PER_VISITOR = {"set-cookie", "etag", "content-length", "content-encoding", "date", "server", "last-modified"}
_NONCE = re.compile(r"'nonce-([A-Za-z0-9_\-]+)'")
CONDITIONAL = ("HTTP_IF_NONE_MATCH", "HTTP_IF_MODIFIED_SINCE", "HTTP_IF_MATCH", "HTTP_IF_UNMODIFIED_SINCE")


def enabled() -> bool:
    return settings.PAGE_CACHE and settings.FAST_PATH


class FastPath:
    def __init__(self, app):
        self.app = app
        self.records: OrderedDict[tuple[str, bool], list[tuple[str, str]]] = OrderedDict()
        self.slot_tags: OrderedDict[str, tuple[str, ...]] = OrderedDict()  # pagecache.slot_for → tags
        self.lock = threading.Lock()
        self._page_cache: pagecache.PageCacheMiddleware | None = None
        self._csrf = CsrfViewMiddleware(lambda request: None)

    @property
    def page_cache(self) -> pagecache.PageCacheMiddleware:
        if self._page_cache is None:
            self._page_cache = pagecache.PageCacheMiddleware(lambda request: None)
        return self._page_cache

    # --- WSGI ---------------------------------------------------------------------------------
    def __call__(self, environ, start_response):
        if not enabled() or not self._eligible(environ):
            return self.app(environ, start_response)
        try:
            answer = self._answer(environ)
        except Exception as exc:  # noqa: BLE001 (whatever went wrong, Django answers)
            logger.warning("fast path skipped: %r", exc)
            answer = None
        if answer is None:
            return self.app(environ, self._recorder(environ, start_response))
        status, headers, body = answer
        start_response(status, headers)
        return [body]

    def _eligible(self, environ) -> bool:
        if environ.get("REQUEST_METHOD") != "GET":
            return False
        if any(environ.get(name) for name in CONDITIONAL):
            return False
        answer = policy.verdict(
            method="GET",
            path=environ.get("PATH_INFO", ""),
            accept=environ.get("HTTP_ACCEPT", ""),
            cookies=environ.get("HTTP_COOKIE", ""),  # the raw header: a substring errs on "no"
            environ=environ,
        )
        return answer is policy.Verdict.YES  # a session cookie: only Django can read the session

    # --- answering ----------------------------------------------------------------------------
    def _answer(self, environ):
        query = pagecache.cache_query(environ.get("QUERY_STRING", ""))
        if query is None:
            return None  # never stored: Django renders it
        # A copy: WSGIRequest replaces the environ's PATH_INFO (bytes as latin-1, per PEP 3333)
        # with the decoded path, and Django, reading that again, would mangle any non-ASCII path.
        request = WSGIRequest(environ.copy())  # _eligible has ruled out session and messages cookies
        if settings.SECURE_SSL_REDIRECT and not request.is_secure():
            return None  # SecurityMiddleware redirects
        if settings.DISALLOWED_USER_AGENTS:
            return None  # CommonMiddleware checks them
        try:
            slot = self.page_cache.slot_for(request, get_language_from_request(request), query)
        except DisallowedHost:
            return None  # Django answers 400
        with self.lock:
            guess = self.slot_tags.get(slot, ())
        version, tag_values = content_version_and_tags(guess)
        if version is None:
            return None
        key = self.page_cache.key_in(version, slot)
        accept_encoding = environ.get("HTTP_ACCEPT_ENCODING", "")
        gzip_ok = bool(pagecache.ACCEPTS_GZIP.search(accept_encoding))
        with self.lock:
            recorded = self.records.get((key, gzip_ok))
            if recorded is not None:
                self.records.move_to_end((key, gzip_ok))
        if recorded is None:
            return None
        entry = self._lookup(key, slot, guess, tag_values)
        if entry is None:
            return None
        self._csrf.process_request(request)  # the visitor's CSRF secret, as Django reads it
        nonce = generate_nonce()
        token = pagecache.masked_csrf_token(request).encode() if entry["csrf"] else b""
        etag = self.page_cache.etag(request, entry)
        body, gzipped = self.page_cache.body(
            entry, token, nonce.encode() if entry["nonce"] else b"", accept_encoding
        )
        headers = []
        for name, value in recorded:
            if name.lower() in PER_VISITOR:
                continue
            if name.lower().startswith("content-security-policy"):
                value = _NONCE.sub(f"'nonce-{nonce}'", value)
            headers.append((name, value))
        headers.append(("ETag", etag))
        modified = entry.get("last_modified_http") or http_date(entry["last_modified"])
        headers.append(("Last-Modified", modified))
        if gzipped:
            headers.append(("Content-Encoding", "gzip"))
        headers.append(("Content-Length", str(len(body))))
        shell = HttpResponse()
        self._csrf.process_response(request, shell)  # renews or sets the CSRF cookie
        headers.extend(("Set-Cookie", morsel.OutputString()) for morsel in shell.cookies.values())
        return "200 OK", headers, body

    def _lookup(self, key: str, slot: str, guess: tuple[str, ...], tag_values: dict | None) -> dict | None:
        """The stored page, checked against `tag_values`: the values of the tags (`guess`) this
        process saw on the slot's last copy, read with the version in one round trip to a shared
        cache, so that a hit costs that one round trip. Remembers the copy's tags for next time."""
        if tag_values is None:
            entry = self.page_cache.lookup(key)
        else:
            with deps.known(guess, tag_values):
                entry = self.page_cache.lookup(key)
        if entry is not None and tuple(entry.get("tags", ())) != guess:
            with self.lock:
                self.slot_tags[slot] = tuple(entry.get("tags", ()))
                self.slot_tags.move_to_end(slot)
                while len(self.slot_tags) > RECORDS:
                    self.slot_tags.popitem(last=False)
        return entry

    # --- learning -----------------------------------------------------------------------------
    def _recorder(self, environ, start_response):
        """start_response that keeps the headers of a GET answered by a page-cache hit."""

        def record(status, headers, exc_info=None):
            key = environ.get(pagecache.KEY_ENVIRON)
            if key and status.startswith("200 ") and exc_info is None:
                names = {name.lower(): value for name, value in headers}
                if names.get("x-page-cache") == "hit":
                    variant = (key, names.get("content-encoding") == "gzip")
                    with self.lock:
                        self.records[variant] = list(headers)
                        self.records.move_to_end(variant)
                        while len(self.records) > RECORDS:
                            self.records.popitem(last=False)
            if exc_info is not None:
                return start_response(status, headers, exc_info)
            return start_response(status, headers)

        return record
