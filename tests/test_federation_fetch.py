"""The one outbound client (comments/linkbacks/fetch.py) as federation uses it: a POST with a
body signed per hop, loopback only for FEDERATION_ALLOWED_HOSTS, no redirect followed."""

from __future__ import annotations

import pytest

from comments.linkbacks.fetch import FetchError, fetch
from federation.keys import generate_pem_pair
from federation.signatures import sign_request, signature_of, verify_with_key
from tests.interop.loopback import LoopbackHTTP, Reply


@pytest.fixture(scope="module")
def pair():
    return generate_pem_pair()


def test_a_signed_post_arrives_verifiable_with_the_host_it_was_signed_for(settings, pair):
    private, public = pair
    with LoopbackHTTP() as server:
        server.routes["/inbox"] = Reply(202, b"")

        def sign(method, path, host, body):
            return sign_request(
                method=method, path=path, host=host, body=body, key_id="k", private_pem=private
            )

        response = fetch(
            server.url("/inbox?x=1"),
            method="POST",
            data=b'{"type":"Like"}',
            headers={"Content-Type": "application/activity+json"},
            allowed_hosts=[server.host],
            sign=sign,
        )
        assert response.status == 202
        received = server.requests[0]
        headers = {k.lower(): v for k, v in received.headers.items()}
        assert headers["host"] == server.host
        parsed = signature_of(headers)
        assert verify_with_key(
            parsed, public_pem=public, method="POST", path="/inbox", query="x=1", headers=headers
        )


def test_loopback_needs_the_federation_allow_list(settings):
    settings.LINKBACK_ALLOWED_HOSTS = []
    with LoopbackHTTP() as server:
        server.routes["/inbox"] = Reply(202, b"")
        with pytest.raises(FetchError):
            fetch(server.url("/inbox"), method="POST", data=b"{}", allowed_hosts=[])
        settings.LINKBACK_ALLOWED_HOSTS = [server.host]  # the linkback list does not open it
        with pytest.raises(FetchError):
            fetch(server.url("/inbox"), method="POST", data=b"{}", allowed_hosts=[])
        assert server.requests == []


def test_a_signed_post_is_not_sent_on_to_a_redirect(settings):
    with LoopbackHTTP() as server:
        server.routes["/inbox"] = Reply(307, b"", headers=[("Location", "/elsewhere")])
        server.routes["/elsewhere"] = Reply(202, b"")
        response = fetch(
            server.url("/inbox"),
            method="POST",
            data=b"{}",
            allowed_hosts=[server.host],
            follow_redirects=False,
        )
        assert response.status == 307
        assert [r.path for r in server.requests] == ["/inbox"]
