"""A full-page cache for anonymous readers, with per-visitor CSRF tokens and CSP nonces.

Pages and feeds answered to anonymous GET/HEAD requests are stored in Django's cache (Redis when
REDIS_URL is set, local memory otherwise) under a key made of the content version
(core.cache.version), the deploy digest (core.cache.fragments), the scheme, host, path and
query, and the language LocaleMiddleware resolved for the request. Any change to posts or
taxonomy bumps the content version, so every page is fresh on its next request. A comment renews
its post's dependency tags instead (core.cache.deps): each stored page carries the tags it showed,
recorded while it rendered, and is served only while none of them changed after it began.

What is never stored (core.cache.policy decides, for this middleware and the fast path alike):
requests from signed-in users (or carrying flash messages), the admin, anything but GET/HEAD;
responses other than 200, responses that set a cookie or touch the session, and responses
marked private or no-store (staff previews).

Query strings can't make the cache grow without bound (`cache_query`):
- marketing parameters (utm_*, fbclid, gclid, …) are dropped from the request before the view
  runs and from the key, so a link shared with tracking tags is the same page as without;
- a query string with any parameter no view reads is answered, never stored;
- each client may add at most PAGE_CACHE_VARIANTS_PER_CLIENT pages with a query string (searches,
  comment pages) per PAGE_CACHE_TIMEOUT; beyond that its pages are answered, not stored.

Per-visitor parts of a page are cut out before storing and put back on every serve:
- the CSRF token of the comment form: each masked token of this request's CSRF secret becomes a
  placeholder, and each serve fills in a token made as `get_token(request)` makes it, which also
  sets the visitor's CSRF cookie, so the form works without JavaScript;
- the CSP nonce: the request's nonce becomes a placeholder and each serve fills in the current
  request's nonce, which ContentSecurityPolicyMiddleware then puts in the header.

Conditional GET (RFC 9110 §13.1.2 If-None-Match, §13.1.3 If-Modified-Since): every served page
has a weak ETag (the stored page's digest plus the visitor's CSRF cookie, so a browser's copy is
only revalidated while its token still matches) and Last-Modified: the view's own where it gives
one (a feed: its newest item), else the time content last changed on the site (the content
version's, core.cache.version.changed_at). Both come from the content, never from when or in
which process the page was stored, so every worker answers the same validators.
A 304 carries no CSP header, so the browser keeps the policy stored with its copy (RFC 9111
§4.3.4), whose nonce matches that copy's body.

Place it last in MIDDLEWARE: after Session, Locale, CSRF and Auth (it needs the user, the
language and the CSRF secret) and after ContentSecurityPolicyMiddleware (which makes the nonce and
writes the header on the way out). Pages are stored with their gzip compression done once, in
pieces joined around each visitor's token and nonce (see _gzip_member), so a browser's request
costs no compression; GZipMiddleware, further out, leaves such responses alone.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import re
import secrets
import struct
import threading
import time
import zlib
from collections import OrderedDict
from urllib.parse import parse_qsl, urlencode

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse, QueryDict
from django.middleware.csp import get_nonce
from django.middleware.csrf import CSRF_ALLOWED_CHARS, CSRF_SECRET_LENGTH
from django.utils.cache import get_conditional_response, patch_cache_control, patch_vary_headers
from django.utils.crypto import constant_time_compare
from django.utils.encoding import escape_uri_path
from django.utils.http import http_date, parse_http_date_safe
from django.views.decorators.csp import csp_override, csp_report_only_override

from core.cache import deps, policy
from core.cache.fragments import deploy_digest
from core.cache.version import changed_at, content_version
from core.guards import client_ip
from core.ratelimit import limit_check

logger = logging.getLogger(__name__)
TOKEN_RE = re.compile(rb"(?<![A-Za-z0-9])[A-Za-z0-9]{64}(?![A-Za-z0-9])")
STORED_HEADERS_SKIP = {"set-cookie", "vary", "content-length"}
KEY_ENVIRON = "sectorblog.page_cache_key"


# --- Query strings ----------------------------------------------------------------------------
# Parameters that only tell analytics where a visitor came from. No view reads them: they are
# dropped from the request and the key, so each tagged link is not a page of its own.
MARKETING_PARAMS = frozenset(
    {
        "fbclid", "gclid", "gclsrc", "dclid", "gbraid", "wbraid", "msclkid", "yclid", "twclid",
        "ttclid", "igshid", "li_fat_id", "mc_cid", "mc_eid", "_ga", "_gl", "_hsenc", "_hsmi",
        "mkt_tok", "ref", "ref_src", "ref_url", "s_kwcid", "srsltid", "oly_anon_id", "oly_enc_id",
        "vero_id", "wickedid", "rb_clickid",
    }
)  # fmt: skip
MARKETING_PREFIXES = ("utm_", "mtm_", "pk_", "hsa_", "matomo_")
# Parameters the site's views read: search (q, and WordPress's s), a discussion page (cpage), a
# feed's language (lang), the "comment posted" page's post. A query string with any other
# parameter is answered by the view but never stored, so it can't make the cache grow; a view
# that starts reading a new parameter needs it added here to have those pages cached.
PAGE_PARAMS = frozenset({"q", "s", "cpage", "lang", "post"})


def _is_marketing(name: str) -> bool:
    return name.lower() in MARKETING_PARAMS or name.lower().startswith(MARKETING_PREFIXES)


def cache_query(query_string: str) -> str | None:
    """The query string as the page cache keys it: marketing parameters dropped, the rest in a
    fixed order. None when it names a parameter no view reads (such pages are never stored)."""
    if not query_string:
        return ""
    pairs = [pair for pair in parse_qsl(query_string, keep_blank_values=True) if not _is_marketing(pair[0])]
    if any(name not in PAGE_PARAMS for name, _value in pairs):
        return None
    return urlencode(sorted(pairs, key=lambda pair: pair[0]))  # stable: repeated names keep order


def _placeholder(purpose: str) -> bytes:
    """A marker no one can type into a comment: derived from SECRET_KEY, same in every process."""
    digest = hmac.new(settings.SECRET_KEY.encode(), f"pagecache:{purpose}".encode(), "sha256")
    return f"@@{purpose}-{digest.hexdigest()[:20]}@@".encode()


# --- CSRF tokens, as django.middleware.csrf.get_token makes them, with fewer system calls ------
# get_token() draws each random character with its own os.urandom() call: 64 calls for a first
# visit's secret and mask, 40 % of a cached page's cost. These draw all characters from one call,
# by rejection sampling (bytes below 248 = 4 × 62), so every character stays uniform.
_CSRF_INDEX = {c: i for i, c in enumerate(CSRF_ALLOWED_CHARS)}
_CSRF_BASE = len(CSRF_ALLOWED_CHARS)
_CSRF_LIMIT = 256 - 256 % _CSRF_BASE


def _random_csrf_string(length: int = CSRF_SECRET_LENGTH) -> str:
    chars: list[str] = []
    while len(chars) < length:
        chars.extend(CSRF_ALLOWED_CHARS[b % _CSRF_BASE] for b in os.urandom(length + 8) if b < _CSRF_LIMIT)
    return "".join(chars[:length])


def _csrf_secret(request: HttpRequest) -> str:
    """The request's CSRF secret; a new one (and a cookie on the way out) on a first visit."""
    if "CSRF_COOKIE" not in request.META:
        request.META.update(CSRF_COOKIE=_random_csrf_string(), CSRF_COOKIE_NEEDS_UPDATE=True)
    return request.META["CSRF_COOKIE"]


def masked_csrf_token(request: HttpRequest) -> str:
    """What get_token(request) returns: a fresh mask, then the secret shifted by it."""
    secret = _csrf_secret(request)
    request.META["CSRF_COOKIE_NEEDS_UPDATE"] = True  # as get_token: renew the cookie's expiry
    mask = _random_csrf_string()
    pairs = zip(secret, mask, strict=True)
    cipher = "".join(CSRF_ALLOWED_CHARS[(_CSRF_INDEX[x] + _CSRF_INDEX[y]) % _CSRF_BASE] for x, y in pairs)
    return mask + cipher


def token_matches(token: str, secret: str) -> bool:
    """Whether `token` is `secret` masked as get_token() masks it (the mask, then each secret
    character shifted by the mask's). Written out here, not taken from Django's private
    _does_token_match; tests/test_cache_contract.py pins that Django's own get_token() tokens match."""
    if len(token) != 2 * CSRF_SECRET_LENGTH or len(secret) != CSRF_SECRET_LENGTH:
        return False
    mask, cipher = token[:CSRF_SECRET_LENGTH], token[CSRF_SECRET_LENGTH:]
    try:
        pairs = zip(cipher, mask, strict=True)
        unmasked = "".join(
            CSRF_ALLOWED_CHARS[(_CSRF_INDEX[x] - _CSRF_INDEX[y]) % _CSRF_BASE] for x, y in pairs
        )
    except KeyError:  # a character no token has
        return False
    return constant_time_compare(unmasked, secret)


class NearCache:
    """A small in-process copy of pages fetched from the cache, kept as Python objects.

    Keys include the content version, so an entry can never go stale: a bump changes the key.
    This saves moving and unpickling ~100 KB from Redis on every hit (only the version is read
    from Redis per request), and unpickling it from Django's local-memory cache, which stores
    values pickled. Bounded by total bytes, oldest first out.
    """

    def __init__(self, max_bytes: int | None = None):
        self.max_bytes = max_bytes if max_bytes is not None else settings.PAGE_CACHE_NEAR_BYTES
        self.entries: OrderedDict[str, dict] = OrderedDict()
        self.size = 0
        self.lock = threading.Lock()

    def _enabled(self) -> bool:
        return self.max_bytes > 0

    def get(self, key: str) -> dict | None:
        if not self._enabled():
            return None
        with self.lock:
            entry = self.entries.get(key)
            if entry is not None:
                self.entries.move_to_end(key)
            return entry

    def put(self, key: str, entry: dict) -> None:
        if not self._enabled() or len(entry["body"]) > self.max_bytes // 4:
            return
        with self.lock:
            old = self.entries.pop(key, None)
            if old is not None:  # a newer copy of a page whose dependencies changed
                self.size -= len(old["body"])
            self.entries[key] = entry
            self.size += len(entry["body"])
            while self.size > self.max_bytes and self.entries:
                _old_key, old = self.entries.popitem(last=False)
                self.size -= len(old["body"])


# --- gzip, compressed once per stored page ---------------------------------------------------
# Django's GZipMiddleware compresses every response anew: for a 140 kB post page that was most
# of the cost of serving it from the cache to a browser. Stored pages carry their compressed
# pieces instead (PageCacheMiddleware._deflated_parts), joined on each serve into one gzip
# member (RFC 1952) around the visitor's own token and nonce.
GZIP_LEVEL = 6
GZIP_MIN_BYTES = 200  # as GZipMiddleware: shorter responses are not worth compressing
GZIP_MAX_RANDOM_BYTES = 100  # as GZipMiddleware: a random-length header field against BREACH
ACCEPTS_GZIP = re.compile(r"\bgzip\b")
_FINAL_BLOCK = zlib.compressobj(GZIP_LEVEL, zlib.DEFLATED, -15).flush(zlib.Z_FINISH)


def _deflate(data: bytes) -> bytes:
    """A raw deflate stream of `data`, ended by a sync flush (byte aligned, not final)."""
    compressor = zlib.compressobj(GZIP_LEVEL, zlib.DEFLATED, -15)
    return compressor.compress(data) + compressor.flush(zlib.Z_SYNC_FLUSH)


def _stored_block(data: bytes) -> bytes:
    """`data` as one uncompressed deflate block (RFC 1951 §3.2.4), not final, byte aligned.

    A visitor's token or nonce is random: compressing it gains nothing, and a new compressor
    costs ~0.1 ms of setup each time.
    """
    return b"\0" + struct.pack("<HH", len(data), len(data) ^ 0xFFFF) + data if data else b""


def _gzip_member(parts: list, body: bytes, values: dict[int, bytes]) -> bytes:
    """One gzip member: header with a random-length file name (BREACH mitigation, as Django's
    compress_string does), the stored pieces with the visitor's values between them as stored
    blocks, a final empty block, then CRC-32 and length of the uncompressed `body`."""
    name = b"a" * secrets.randbelow(GZIP_MAX_RANDOM_BYTES) + b"\0"
    header = b"\x1f\x8b\x08\x08\0\0\0\0\0\xff" + name  # deflate, FNAME, no mtime, unknown OS
    blocks = {mark: _stored_block(value) for mark, value in values.items()}
    pieces = [header]
    for part in parts:
        pieces.append(part if isinstance(part, bytes) else blocks[part])
    pieces.append(_FINAL_BLOCK)
    pieces.append(struct.pack("<II", zlib.crc32(body), len(body) & 0xFFFFFFFF))
    return b"".join(pieces)


class PageCacheMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response
        self.csrf_mark = _placeholder("csrf")
        self.nonce_mark = _placeholder("nonce")
        self._marks = re.compile(b"(" + re.escape(self.csrf_mark) + b"|" + re.escape(self.nonce_mark) + b")")
        self._near = NearCache()

    # --- the request side ---------------------------------------------------------------------
    def __call__(self, request: HttpRequest) -> HttpResponse:
        # What the page shows of the discussion is recorded while it renders (core.cache.deps),
        # as of now: before the version is read and before any query.
        with deps.recording(nested=False) as recorder:
            return self._respond(request, recorder)

    def _respond(self, request: HttpRequest, recorder: deps.Recorder) -> HttpResponse:
        try:
            query = self._cacheable_query(request)
            if query is None:
                return self.get_response(request)
            version = content_version()
            key = self._key(request, query, version)
            # For core.cache.fastpath, which learns from this hit's full response.
            request.META[KEY_ENVIRON] = key
            entry = self.lookup(key)
        except Exception as exc:  # noqa: BLE001 (an unreachable cache or database must not be a 500)
            # The version may need the database, and the session or the cache may be down: the
            # view answers as if there were no page cache (a 503 if the database is gone).
            logger.warning("page cache unavailable: %s", exc)
            return self.get_response(request)
        if entry is not None:
            return self._serve(request, entry, hit=True)
        if request.method == "HEAD":
            # Views answer HEAD as GET would; store only what a GET produced.
            return self.get_response(request)
        response = self.get_response(request)
        entry = self._entry(request, response, version)
        if entry is None:
            return response
        try:
            if not self._depends(entry, recorder):
                return response  # a change committed while it rendered: answered, not stored
            if query and not self._client_may_add_variant(request):
                return response
            cache.set(key, entry, timeout=settings.PAGE_CACHE_TIMEOUT)
            self._near.put(key, entry)
        except Exception as exc:  # noqa: BLE001
            logger.warning("page cache unavailable: %s", exc)
            return response
        return self._serve(request, entry, hit=False)

    def lookup(self, key: str) -> dict | None:
        """The stored page under `key`, while every discussion it shows is as it was then."""
        entry = self._near.get(key)
        if entry is not None and self._fresh(entry):
            return entry
        # Not here, or this process's copy is older than a change to what it shows: another
        # process may have stored the new copy under the same key.
        entry = cache.get(key)
        if entry is None or not self._fresh(entry):
            return None
        self._near.put(key, entry)
        return entry

    @staticmethod
    def _fresh(entry: dict) -> bool:
        return not entry.get("tags") or deps.fresh(entry["tags"], entry["as_of"])

    @staticmethod
    def _depends(entry: dict, recorder: deps.Recorder) -> bool:
        """Give `entry` the tags its page depends on; False when it must not be stored. The
        page's Last-Modified is the newest change among the version and its tags."""
        tags = recorder.final_tags()
        newest = deps.storable(tags, recorder.as_of)
        if newest is None:
            return False
        entry["tags"], entry["as_of"] = tuple(sorted(tags)), recorder.as_of
        entry["last_modified"] = max(entry["last_modified"], newest // 1_000_000_000)
        entry["last_modified_http"] = http_date(entry["last_modified"])  # formatted once, not per hit
        return True

    def _cacheable_query(self, request: HttpRequest) -> str | None:
        """The query string the key uses (see cache_query), or None when this request is neither
        served from nor stored in the cache. Marketing parameters are taken off the request
        here, so the view renders the page everyone shares."""
        if not self._request_is_cacheable(request):
            return None
        raw = request.META.get("QUERY_STRING", "")
        query = cache_query(raw)
        if query is not None and raw and any(_is_marketing(name) for name in request.GET):
            kept = request.GET.copy()
            for name in [name for name in kept if _is_marketing(name)]:
                del kept[name]
            request.META["QUERY_STRING"] = kept.urlencode()
            request.GET = QueryDict(request.META["QUERY_STRING"])
        return query

    def _client_may_add_variant(self, request: HttpRequest) -> bool:
        """Whether this client may store one more page with a query string. The window lasts as
        long as a stored page, so one client never has more than twice the limit stored."""
        limits = {f"pagecache:variants:{client_ip(request)}": settings.PAGE_CACHE_VARIANTS_PER_CLIENT}
        return limit_check(limits=limits, seconds=settings.PAGE_CACHE_TIMEOUT)

    def _request_is_cacheable(self, request: HttpRequest) -> bool:
        answer = policy.verdict(
            method=request.method,
            path=request.path,
            accept=request.META.get("HTTP_ACCEPT", ""),
            cookies=request.COOKIES,
            environ=request.META,
        )
        if answer is policy.Verdict.IF_ANONYMOUS:
            # Only now is the session read (AuthenticationMiddleware's user is lazy).
            user = getattr(request, "user", None)
            return user is not None and not user.is_authenticated and "_messages" not in request.session
        return answer is policy.Verdict.YES

    def _key(self, request: HttpRequest, query: str, version: str) -> str:
        lang = getattr(request, "LANGUAGE_CODE", "") or settings.LANGUAGE_CODE
        return self.key_for(request, lang, version, query)

    @staticmethod
    def key_for(request: HttpRequest, lang: str, version: str, query: str) -> str:
        """The key of this page: `query` is cache_query()'s answer for the request."""
        return PageCacheMiddleware.key_in(version, PageCacheMiddleware.slot_for(request, lang, query))

    @staticmethod
    def slot_for(request: HttpRequest, lang: str, query: str) -> str:
        """The page's key without the content version: the same page under every version."""
        where = f"{request.scheme}://{request.get_host()}{escape_uri_path(request.path)}?{query}"
        digest = hashlib.blake2b(where.encode(), digest_size=16).hexdigest()
        # The deploy digest: a shared cache never serves pages rendered by the previous code.
        return f"{deploy_digest()}:{lang}:{digest}"

    @staticmethod
    def key_in(version: str, slot: str) -> str:
        return f"page:{version}:{slot}"

    # --- storing ------------------------------------------------------------------------------
    def _entry(self, request: HttpRequest, response: HttpResponse, version: str) -> dict | None:
        if response.status_code != 200 or response.streaming:
            return None
        if response.cookies:
            return None
        cache_control = response.get("Cache-Control", "").lower()
        if any(word in cache_control for word in ("private", "no-store", "no-cache")):
            return None
        if settings.SESSION_COOKIE_NAME in request.COOKIES:
            return None  # served from the cache, but only stored from visitors without a session
        # Without a session cookie, reading the session (e.g. `user.is_authenticated` in a
        # template) only ever sees an empty one: the page is the anonymous page. Writing to it
        # would give this visitor a session cookie, so that page is theirs alone.
        session = getattr(request, "session", None)
        if session is not None and session.modified:
            return None
        messages = getattr(request, "_messages", None)
        if messages is not None and getattr(messages, "added_new", False):
            return None
        body = response.content
        body, has_csrf = self._cut_csrf(request, body)
        body, has_nonce = self._cut_nonce(request, body)
        headers = [(k, v) for k, v in response.headers.items() if k.lower() not in STORED_HEADERS_SKIP]
        compressible = len(body) >= GZIP_MIN_BYTES and not response.has_header("Content-Encoding")
        # A view's own validators (a feed's ETag and Last-Modified, which name its content's
        # state) stay what clients see, cached or not; the page cache makes them only for pages
        # without (and the ETag for pages with a visitor's token, which must name the visitor).
        own = not (has_csrf or has_nonce)
        modified = parse_http_date_safe(response.get("Last-Modified", "")) or changed_at(version)
        return {
            "body": body,
            "gzip": self._deflated_parts(body) if compressible else None,
            "headers": headers,
            "csrf": has_csrf,
            "nonce": has_nonce,
            "digest": hashlib.blake2b(body, digest_size=12).hexdigest(),
            "etag": response.get("ETag") if own else None,
            "last_modified": modified or int(time.time()),  # the clock only for a foreign version
        }

    def _cut_csrf(self, request: HttpRequest, body: bytes) -> tuple[bytes, bool]:
        secret = request.META.get("CSRF_COOKIE")
        if not secret or not request.META.get("CSRF_COOKIE_NEEDS_UPDATE"):
            return body, False  # the page never asked for a token
        found = False

        def swap(match: re.Match) -> bytes:
            nonlocal found
            if token_matches(match.group().decode(), secret):
                found = True
                return self.csrf_mark
            return match.group()

        return TOKEN_RE.sub(swap, body), found

    def _cut_nonce(self, request: HttpRequest, body: bytes) -> tuple[bytes, bool]:
        nonce = get_nonce(request)
        if not nonce:  # LazyNonce is false until something rendered it
            return body, False
        value = str(nonce).encode()
        return body.replace(value, self.nonce_mark), value in body

    def _deflated_parts(self, body: bytes) -> list:
        """The page compressed once, in pieces that can be joined around each visitor's values.

        Each stretch between placeholders is a raw deflate stream ended by a sync flush: byte
        aligned, not final and referring to nothing before it, so the streams can be joined in
        order with the visitor's token and nonce (compressed on their own) between them. The
        placeholders stay in the list as 1 (CSRF token) and 2 (nonce).
        """
        parts: list = []
        for piece in self._marks.split(body):
            if piece == self.csrf_mark:
                parts.append(1)
            elif piece == self.nonce_mark:
                parts.append(2)
            elif piece:
                parts.append(_deflate(piece))
        return parts

    # --- serving ------------------------------------------------------------------------------
    def etag(self, request: HttpRequest, entry: dict) -> str:
        """The ETag a client sees for `entry`: the view's own, or the stored page's digest with
        the visitor's CSRF cookie (a page with a token is only revalidated while it matches)."""
        if entry.get("etag"):
            return entry["etag"]
        cookie = request.COOKIES.get(settings.CSRF_COOKIE_NAME, "") if entry["csrf"] else ""
        if entry["csrf"] and not cookie:
            # A first visit: use the secret the response's new cookie will carry, so the
            # browser's first revalidation can already match.
            cookie = _csrf_secret(request)
        visitor = hashlib.blake2b(cookie.encode(), digest_size=6).hexdigest() if cookie else "0"
        return f'W/"{entry["digest"]}-{visitor}"'

    def _serve(self, request: HttpRequest, entry: dict, *, hit: bool) -> HttpResponse:
        response = HttpResponse()
        for name, value in entry["headers"]:
            response[name] = value
        response["ETag"] = self.etag(request, entry)
        response["Last-Modified"] = http_date(entry["last_modified"])
        if entry["csrf"] or entry["nonce"] or "public" not in response.get("Cache-Control", ""):
            # A page with this visitor's token or nonce: browsers may keep a copy but must
            # revalidate; shared caches must not keep it. Feeds, the same for everyone, keep
            # the `public, max-age` their view gave them, for CDNs and feed readers.
            patch_cache_control(response, private=True, no_cache=True)
        response["X-Page-Cache"] = "hit" if hit else "miss"
        conditional = get_conditional_response(
            request,
            etag=response["ETag"],
            last_modified=entry["last_modified"],
            response=response,
        )
        if conditional is not response:
            # 304 or 412: keep the browser's stored CSP (whose nonce matches its copy) and send
            # no new CSRF cookie.
            # (Django's public way to leave the CSP headers off one response: its view decorators.)
            return csp_override({})(csp_report_only_override({})(lambda _request: conditional))(request)
        # The ETag above already names this request's CSRF secret (a first visit's new one too).
        token = masked_csrf_token(request).encode() if entry["csrf"] else b""
        nonce = str(get_nonce(request)).encode() if entry["nonce"] else b""
        response.content, gzipped = self.body(
            entry, token, nonce, request.META.get("HTTP_ACCEPT_ENCODING", "")
        )
        if gzipped:
            # Compressed when stored, not on every serve; GZipMiddleware leaves it as it is.
            response["Content-Encoding"] = "gzip"
        patch_vary_headers(response, ("Accept-Encoding",))
        return response

    def body(self, entry: dict, token: bytes, nonce: bytes, accept_encoding: str) -> tuple[bytes, bool]:
        """The stored page with this visitor's token and nonce; gzipped when the client takes it."""
        body = entry["body"]
        if entry["csrf"]:
            body = body.replace(self.csrf_mark, token)
        if entry["nonce"]:
            body = body.replace(self.nonce_mark, nonce)
        parts = entry.get("gzip")
        if parts is not None and ACCEPTS_GZIP.search(accept_encoding):
            return _gzip_member(parts, body, {1: token, 2: nonce}), True
        return body, False
