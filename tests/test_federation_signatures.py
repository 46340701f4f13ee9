"""HTTP Signatures (draft-cavage-12, as Mastodon signs them): ours, checked both ways against a
second, independent implementation (apsig, the signature library of the apkit toolkit)."""

from __future__ import annotations

import base64
import time

import pytest
from apsig.draft.sign import Signer
from apsig.draft.verify import Verifier
from cryptography.hazmat.primitives import serialization
from django.utils.http import http_date

from federation.keys import actor_key, generate_pem_pair, load_private_key
from federation.signatures import (
    SignatureError,
    body_digest,
    check_request,
    parse_signature,
    sign_request,
    signature_of,
    verify_with_key,
)

BODY = b'{"type":"Create","id":"https://peer.example/a/1"}'
KEY_ID = "https://blog.example/#main-key"


@pytest.fixture(scope="module")
def pair():
    return generate_pem_pair()


def lower(headers: dict) -> dict:
    return {k.lower(): v for k, v in headers.items()}


def test_our_signature_verifies_with_apsig(pair):
    private, public = pair
    headers = sign_request(
        method="POST", path="/inbox", host="peer.example", body=BODY, key_id=KEY_ID, private_pem=private
    )
    assert headers["Digest"] == body_digest(BODY)
    assert 'algorithm="rsa-sha256"' in headers["Signature"]
    assert 'headers="(request-target) host date digest"' in headers["Signature"]
    verifier = Verifier(public, "POST", "https://peer.example/inbox", headers, BODY)
    assert verifier.verify(raise_on_fail=True) == KEY_ID


def test_a_tampered_body_fails_apsig_too(pair):
    private, public = pair
    headers = sign_request(
        method="POST", path="/inbox", host="peer.example", body=BODY, key_id=KEY_ID, private_pem=private
    )
    with pytest.raises(Exception):  # noqa: B017 (apsig raises its own error types)
        Verifier(public, "POST", "https://peer.example/inbox", headers, BODY + b" ").verify(
            raise_on_fail=True
        )


def test_apsig_signature_verifies_with_ours(pair):
    private, public = pair
    signed = Signer(
        headers={"Content-Type": "application/activity+json"},
        private_key=load_private_key(private),
        method="POST",
        url="https://blog.example/inbox",
        key_id="https://peer.example/users/ana#main-key",
        body=BODY,
    ).sign()
    headers = lower(signed)
    parsed = signature_of(headers)
    assert parsed.key_id == "https://peer.example/users/ana#main-key"
    check_request(parsed, method="POST", headers=headers, body=BODY)
    assert verify_with_key(parsed, public_pem=public, method="POST", path="/inbox", query="", headers=headers)
    # Another key, or another path, does not verify.
    _other_private, other_public = generate_pem_pair()
    assert not verify_with_key(
        parsed, public_pem=other_public, method="POST", path="/inbox", query="", headers=headers
    )
    assert not verify_with_key(
        parsed, public_pem=public, method="POST", path="/other", query="", headers=headers
    )


def test_signed_gets_carry_no_digest_and_verify(pair):
    private, public = pair
    headers = lower(
        sign_request(
            method="GET",
            path="/users/ana?x=1",
            host="peer.example",
            body=None,
            key_id=KEY_ID,
            private_pem=private,
        )
    )
    assert "digest" not in headers
    parsed = signature_of(headers)
    assert parsed.headers == ["(request-target)", "host", "date"]
    check_request(parsed, method="GET", headers=headers, body=b"")
    assert verify_with_key(
        parsed, public_pem=public, method="GET", path="/users/ana", query="x=1", headers=headers
    )


def test_the_date_window_is_one_hour_either_way(pair):
    private, _public = pair
    for offset, ok in ((-3500, True), (3500, True), (-3700, False), (3700, False)):
        date = http_date(time.time() + offset)
        headers = lower(
            sign_request(
                method="POST",
                path="/inbox",
                host="h",
                body=BODY,
                key_id=KEY_ID,
                private_pem=private,
                date=date,
            )
        )
        parsed = signature_of(headers)
        if ok:
            check_request(parsed, method="POST", headers=headers, body=BODY)
        else:
            with pytest.raises(SignatureError, match="hour"):
                check_request(parsed, method="POST", headers=headers, body=BODY)


def test_a_digest_that_does_not_match_is_a_400(pair):
    private, _public = pair
    headers = lower(
        sign_request(method="POST", path="/inbox", host="h", body=BODY, key_id=KEY_ID, private_pem=private)
    )
    with pytest.raises(SignatureError) as caught:
        check_request(signature_of(headers), method="POST", headers=headers, body=BODY + b"x")
    assert caught.value.status == 400


def test_a_post_must_sign_the_digest_host_and_date():
    value = (
        'keyId="k",algorithm="rsa-sha256",headers="(request-target) date",signature="'
        + base64.b64encode(b"x" * 256).decode()
        + '"'
    )
    parsed = parse_signature(value)
    with pytest.raises(SignatureError, match="host, digest"):
        check_request(parsed, method="POST", headers={"date": http_date(), "signature": value}, body=b"")


@pytest.mark.parametrize(
    "value",
    [
        'keyId="k",signature="not base64!"',
        'algorithm="rsa-sha256",signature="AAAA"',
        'keyId="k",algorithm="ecdsa-sha512",signature="AAAA"',
        'keyId="k" signature="AAAA"',
    ],
)
def test_malformed_signature_headers_are_refused(value):
    with pytest.raises(SignatureError):
        parse_signature(value)


def test_actor_keys_are_rsa_2048_made_once_and_stored(db):
    first = actor_key("blog")
    again = actor_key("blog")
    assert first.pk == again.pk and first.public_pem == again.public_pem
    public = serialization.load_pem_public_key(first.public_pem.encode())
    assert public.key_size == 2048
    assert actor_key("user:1").public_pem != first.public_pem
