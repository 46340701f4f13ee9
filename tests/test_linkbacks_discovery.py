"""Endpoint discovery against loopback fixtures modelled on the webmention.rocks discovery suite."""

from __future__ import annotations

import pytest

from comments.linkbacks.discovery import discover, parse_link_header
from comments.linkbacks.fetch import FetchError
from tests.interop.loopback import LoopbackHTTP, Reply


@pytest.fixture
def peer(settings):
    with LoopbackHTTP() as server:
        settings.LINKBACK_ALLOWED_HOSTS = [server.host]
        yield server


def _html(body: str) -> bytes:
    return f"<!doctype html><html><head><title>t</title>{body}</head><body></body></html>".encode()


# (case, reply for /test, expected endpoint path or absolute URL)
CASES = {
    "header-absolute": (
        Reply(headers=[("Link", "<{base}/endpoint/1>; rel=webmention")]),
        "{base}/endpoint/1",
    ),
    "header-relative": (Reply(headers=[("Link", '</endpoint/2>; rel="webmention"')]), "{base}/endpoint/2"),
    "header-rel-list": (
        Reply(headers=[("Link", '</endpoint/3>; rel="somethingelse webmention"')]),
        "{base}/endpoint/3",
    ),
    "header-not-webmention": (
        Reply(
            headers=[("Link", '</wrong>; rel="not-webmention"')],
            body=_html('<link rel="webmention" href="/endpoint/4">'),
        ),
        "{base}/endpoint/4",
    ),
    "link-element-absolute": (
        Reply(body=_html('<link rel="webmention" href="{base}/endpoint/5">')),
        "{base}/endpoint/5",
    ),
    "link-element-relative": (
        Reply(body=_html('<link rel="webmention" href="endpoint/6">')),
        "{base}/endpoint/6",
    ),
    "a-element": (
        Reply(body=b'<html><body><a rel="webmention" href="/endpoint/7">endpoint</a></body></html>'),
        "{base}/endpoint/7",
    ),
    "rel-list-in-html": (
        Reply(body=_html('<link rel="webmention somethingelse" href="/endpoint/8">')),
        "{base}/endpoint/8",
    ),
    "query-string-kept": (
        Reply(headers=[("Link", '</endpoint/9?version=1&a=b>; rel="webmention"')]),
        "{base}/endpoint/9?version=1&a=b",
    ),
    "html-query-string-kept": (
        Reply(body=_html('<link rel="webmention" href="/endpoint/10?q=1">')),
        "{base}/endpoint/10?q=1",
    ),
    "several-first-wins-link-before-a": (
        Reply(
            body=b'<html><head><link rel="webmention" href="/endpoint/11"></head>'
            b'<body><a rel="webmention" href="/endpoint/wrong">x</a></body></html>'
        ),
        "{base}/endpoint/11",
    ),
    "several-first-wins-a-before-link": (
        Reply(
            body=b'<html><body><a rel="webmention" href="/endpoint/12">x</a>'
            b'<link rel="webmention" href="/endpoint/wrong"></body></html>'
        ),
        "{base}/endpoint/12",
    ),
    "several-link-headers": (
        Reply(headers=[("Link", '</endpoint/13>; rel="webmention"'), ("Link", '</wrong>; rel="webmention"')]),
        "{base}/endpoint/13",
    ),
    "one-header-several-links": (
        Reply(headers=[("Link", '<https://a.example/x>; rel="other", </endpoint/14>; rel="webmention"')]),
        "{base}/endpoint/14",
    ),
    "empty-href-is-the-page": (Reply(body=_html('<link rel="webmention" href="">')), "{base}/test"),
    "in-html-comment-ignored": (
        Reply(
            body=_html(
                '<!-- <link rel="webmention" href="/wrong"> --><link rel="webmention" href="/endpoint/16">'
            )
        ),
        "{base}/endpoint/16",
    ),
    "escaped-code-ignored": (
        Reply(
            body=b'<html><body><code>&lt;a rel="webmention" href="/wrong"&gt;&lt;/a&gt;</code>'
            b'<a rel="webmention" href="/endpoint/17">x</a></body></html>'
        ),
        "{base}/endpoint/17",
    ),
    "header-wins-over-body": (
        Reply(
            headers=[("Link", '</endpoint/18>; rel="webmention"')],
            body=_html('<link rel="webmention" href="/wrong">'),
        ),
        "{base}/endpoint/18",
    ),
    "uppercase-rel-header": (
        Reply(headers=[("LinK", '</endpoint/19>; REL="WebMention"')]),
        "{base}/endpoint/19",
    ),
    "link-without-href-skipped": (
        Reply(body=_html('<link rel="webmention"><link rel="webmention" href="/endpoint/20">')),
        "{base}/endpoint/20",
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_webmention_discovery_cases(peer, case):
    reply, expected = CASES[case]
    base = f"http://{peer.host}"
    reply.headers = [(k, v.replace("{base}", base)) for k, v in reply.headers]
    reply.body = reply.body.replace(b"{base}", base.encode())
    peer.routes["/test"] = reply
    endpoint, _response = discover(peer.url("/test"))
    assert endpoint is not None and endpoint.protocol == "webmention"
    assert endpoint.url == expected.replace("{base}", base)


def test_302_redirect_resolves_against_the_final_url(peer):
    peer.routes["/start"] = Reply(302, headers=[("Location", "/moved/page")])
    peer.routes["/moved/page"] = Reply(body=_html('<link rel="webmention" href="endpoint">'))
    endpoint, response = discover(peer.url("/start"))
    assert response.url == peer.url("/moved/page")
    assert endpoint.url == peer.url("/moved/endpoint")


def test_pingback_discovery_header_then_link(peer):
    peer.routes["/h"] = Reply(headers=[("X-Pingback", peer.url("/xmlrpc.php"))], body=_html(""))
    peer.routes["/l"] = Reply(body=_html(f'<link rel="pingback" href="{peer.url("/rpc")}">'))
    peer.routes["/none"] = Reply(body=_html(""))
    assert (discover(peer.url("/h"))[0].protocol, discover(peer.url("/h"))[0].url) == (
        "pingback",
        peer.url("/xmlrpc.php"),
    )
    assert discover(peer.url("/l"))[0].url == peer.url("/rpc")
    assert discover(peer.url("/none"))[0] is None


def test_webmention_is_preferred_over_pingback(peer):
    peer.routes["/both"] = Reply(
        headers=[("X-Pingback", peer.url("/xmlrpc.php"))], body=_html('<link rel="webmention" href="/wm">')
    )
    endpoint, _ = discover(peer.url("/both"))
    assert (endpoint.protocol, endpoint.url) == ("webmention", peer.url("/wm"))


def test_unreachable_target_raises_the_opaque_error(settings):
    settings.LINKBACK_ALLOWED_HOSTS = []
    with pytest.raises(FetchError):
        discover("http://127.0.0.1/")


def test_link_header_parser_reads_params_in_any_order():
    assert parse_link_header(['<https://a.example/e>; title="x, y"; rel="webmention"']) == [
        ("https://a.example/e", {"webmention"})
    ]
