"""HTTP Signatures as Mastodon signs and verifies them (draft-cavage-http-signatures-12).

Signing (section 2.3): `rsa-sha256` over the lines
    (request-target): post /inbox
    host: example.org
    date: Tue, 07 Dec 2026 10:00:00 GMT
    digest: SHA-256=<base64 of the body's SHA-256>
sent as `Signature: keyId="…#main-key",algorithm="rsa-sha256",headers="(request-target) host date
digest",signature="…"`, with the `Digest` header of RFC 3230 beside it. GETs sign
`(request-target) host date` (there is no body).

Verifying follows Mastodon's SignedRequest: `rsa-sha256` or `hs2019` with an RSA key; the signed
headers must include `date` and `host`, plus `(request-target)`, and `digest` on a POST; the
`Digest` must match the body; the `Date` must lie within ±1 h of now (Mastodon: 1 h clock skew);
`(request-target)` is tried with the query string first and then without it, as Mastodon does for
peers that leave it out. A request carries the signature in `Signature` or in
`Authorization: Signature …` (section 3.1).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from django.utils.http import http_date, parse_http_date

from federation.keys import load_private_key, load_public_key

CLOCK_SKEW_SECONDS = 3600
POST_HEADERS = ("(request-target)", "host", "date", "digest")
GET_HEADERS = ("(request-target)", "host", "date")
_PARAM = re.compile(r'\s*([A-Za-z]+)\s*=\s*(?:"([^"]*)"|([0-9]+))\s*(?:,|$)')


class SignatureError(Exception):
    """Why a request's signature is not acceptable (answered 401, or 400 for a bad Digest)."""

    def __init__(self, reason: str, status: int = 401):
        super().__init__(reason)
        self.reason = reason
        self.status = status


def body_digest(body: bytes) -> str:
    return "SHA-256=" + base64.b64encode(hashlib.sha256(body).digest()).decode()


def signing_string(names: list[str] | tuple[str, ...], values: Mapping[str, str]) -> str:
    return "\n".join(f"{name}: {values[name]}" for name in names)


def sign_request(
    *,
    method: str,
    path: str,
    host: str,
    body: bytes | None,
    key_id: str,
    private_pem: str,
    date: str | None = None,
) -> dict[str, str]:
    """The headers to send with a request: Date, Digest (with a body) and Signature.

    `path` includes the query string; `host` is the Host header exactly as it will be sent.
    """
    values = {
        "(request-target)": f"{method.lower()} {path}",
        "host": host,
        "date": date or http_date(),
    }
    headers = {"Host": host, "Date": values["date"]}
    names: tuple[str, ...] = GET_HEADERS
    if body is not None:
        values["digest"] = headers["Digest"] = body_digest(body)
        names = POST_HEADERS
    key = load_private_key(private_pem)
    raw = key.sign(signing_string(names, values).encode(), padding.PKCS1v15(), hashes.SHA256())
    signature = base64.b64encode(raw).decode()
    headers["Signature"] = (
        f'keyId="{key_id}",algorithm="rsa-sha256",headers="{" ".join(names)}",signature="{signature}"'
    )
    return headers


@dataclass
class ParsedSignature:
    key_id: str
    algorithm: str
    headers: list[str]
    signature: bytes
    raw: str


def parse_signature(header_value: str) -> ParsedSignature:
    """The parameters of a Signature header (section 2.1); SignatureError when malformed."""
    value = header_value.strip()
    if value[:10].lower() == "signature ":
        value = value[10:]
    params: dict[str, str] = {}
    position = 0
    while position < len(value):
        match = _PARAM.match(value, position)
        if match is None:
            raise SignatureError("malformed Signature header")
        params[match.group(1)] = match.group(2) if match.group(2) is not None else match.group(3)
        position = match.end()
    key_id, signature = params.get("keyId", ""), params.get("signature", "")
    if not key_id or not signature:
        raise SignatureError("keyId and signature are required")
    algorithm = params.get("algorithm", "hs2019").lower()
    if algorithm not in ("rsa-sha256", "hs2019"):
        raise SignatureError("unsupported signature algorithm (rsa-sha256 and hs2019 are)")
    try:
        raw = base64.b64decode(signature, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise SignatureError("signature is not base64") from exc
    names = params.get("headers", "date").lower().split()
    return ParsedSignature(key_id, algorithm, names, raw, header_value)


def signature_of(headers: Mapping[str, str]) -> ParsedSignature:
    """The signature a request carries (`Signature`, or `Authorization: Signature …`)."""
    value = headers.get("signature")
    if not value:
        auth = headers.get("authorization", "")
        if auth[:10].lower() == "signature ":
            value = auth
    if not value:
        raise SignatureError("the request is not signed")
    return parse_signature(value)


def check_request(
    parsed: ParsedSignature,
    *,
    method: str,
    headers: Mapping[str, str],
    body: bytes,
    now: float | None = None,
) -> None:
    """Everything that needs no key: signed headers, Date window, Digest. Cheap; run it before
    fetching anyone's key. `headers` maps lower-case names to values."""
    names = parsed.headers
    required = ["(request-target)", "host", "date"] + (["digest"] if method.upper() == "POST" else [])
    missing = [name for name in required if name not in names]
    if missing:
        raise SignatureError("these must be signed: " + ", ".join(missing))
    for name in names:
        if name.startswith("(") and name != "(request-target)":
            raise SignatureError(f"pseudo-header {name} is not supported with rsa-sha256")
        if not name.startswith("(") and name not in headers:
            raise SignatureError(f"signed header {name} is missing")
    try:
        sent = parse_http_date(headers["date"])
    except ValueError as exc:
        raise SignatureError("the Date header is not an HTTP date") from exc
    current = now if now is not None else datetime.now(UTC).timestamp()
    if abs(current - sent) > CLOCK_SKEW_SECONDS:
        raise SignatureError("the Date header is more than an hour away from now")
    if "digest" in names:
        offered = {}
        for part in headers["digest"].split(","):
            algorithm, _sep, value = part.strip().partition("=")
            offered[algorithm.lower()] = value.strip()
        if "sha-256" not in offered:
            raise SignatureError("the Digest header has no SHA-256 value", status=400)
        if body_digest(body).partition("=")[2] != offered["sha-256"]:
            raise SignatureError("the Digest header does not match the body", status=400)


def verify_with_key(
    parsed: ParsedSignature,
    *,
    public_pem: str,
    method: str,
    path: str,
    query: str,
    headers: Mapping[str, str],
) -> bool:
    """True when the signature verifies with this public key, with the query string in the
    request target or (as Mastodon also accepts) without it."""
    try:
        key = load_public_key(public_pem)
    except ValueError:
        return False
    targets = [f"{method.lower()} {path}?{query}", f"{method.lower()} {path}"] if query else []
    targets = targets or [f"{method.lower()} {path}"]
    for target in targets:
        values = dict(headers)
        values["(request-target)"] = target
        try:
            key.verify(
                parsed.signature,
                signing_string(parsed.headers, values).encode(),
                padding.PKCS1v15(),
                hashes.SHA256(),
            )
        except InvalidSignature:
            continue
        return True
    return False


def request_headers(meta: Mapping[str, object]) -> dict[str, str]:
    """Lower-case header names and values of a Django request's META."""
    found: dict[str, str] = {}
    for key, value in meta.items():
        if key.startswith("HTTP_"):
            found[key[5:].replace("_", "-").lower()] = str(value)
        elif key in ("CONTENT_TYPE", "CONTENT_LENGTH") and value:
            found[key.replace("_", "-").lower()] = str(value)
    return found
