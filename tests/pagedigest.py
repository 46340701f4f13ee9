"""A digest of rendered public pages that two copies of one site agree on: per-request values
(CSP nonces, CSRF tokens, the comment form's timestamp and signature) and the site's own origin are
blanked first, everything else must be byte-for-byte the same."""

from __future__ import annotations

import hashlib
import re
from urllib.parse import quote

_VOLATILE = [
    (re.compile(rb'nonce="[^"]*"'), b'nonce=""'),
    (re.compile(rb'(name="(?:csrfmiddlewaretoken|timestamp|security_hash)" value=")[^"]*"'), rb'\1"'),
    (re.compile(rb'(name="(?:csrfmiddlewaretoken|timestamp|security_hash)"[^>]*? value=")[^"]*"'), rb'\1"'),
]


def normalize(body: bytes, origins: tuple[str, ...] = ()) -> bytes:
    for pattern, replacement in _VOLATILE:
        body = pattern.sub(replacement, body)
    for origin in origins:
        escaped = origin.replace("/", "\\/")
        for form in (origin, escaped, quote(origin, safe=""), origin.split("://", 1)[-1]):
            body = body.replace(form.encode(), b"ORIGIN")
    return body


def pages_digest(pages: dict[str, bytes]) -> str:
    digest = hashlib.sha256()
    for path in sorted(pages):
        digest.update(path.encode() + b"\0" + hashlib.sha256(pages[path]).digest())
    return digest.hexdigest()
