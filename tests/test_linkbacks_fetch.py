"""The outbound HTTP client: SSRF refusals without a connect(), hostile peers, redirects, headers."""

from __future__ import annotations

import gzip
import time
import zlib

import pytest

from comments.linkbacks.fetch import OPAQUE_MESSAGE, FetchError, fetch, is_public_address
from tests.interop.loopback import ConnectionRecorder, LoopbackHTTP, Reply


@pytest.fixture
def peer(settings):
    with LoopbackHTTP() as server:
        settings.LINKBACK_ALLOWED_HOSTS = [server.host]
        yield server


def test_fetch_returns_body_headers_and_charset_and_names_itself(peer):
    peer.routes["/page"] = Reply(
        body="<p>¡Hola!</p>".encode("latin-1"),
        content_type="text/html; charset=ISO-8859-1",
        headers=[("Link", '<https://a.example/wm>; rel="webmention"'), ("Link", "</x>; rel=other")],
    )
    response = fetch(peer.url("/page"))
    assert response.status == 200
    assert response.charset == "iso-8859-1"
    assert response.body.decode("latin-1") == "<p>¡Hola!</p>"
    assert response.headers.get_all("link") == ['<https://a.example/wm>; rel="webmention"', "</x>; rel=other"]
    sent = peer.requests[0].headers
    assert "linkbacks" in sent["User-Agent"] and "Webmention" in sent["User-Agent"]
    assert sent["Host"] == peer.host


@pytest.mark.parametrize(
    "host",
    [
        "127.0.0.1",
        "127.1",
        "0177.0.0.1",
        "0x7f.1",
        "2130706433",
        "0",
        "0.0.0.0",
        "[::1]",
        "[::ffff:127.0.0.1]",
        "[::ffff:7f00:1]",
        "[64:ff9b::7f00:1]",
        "[2002:7f00:1::]",
        "[::]",
        "localhost",
        "10.0.0.1",
        "172.16.0.1",
        "192.168.1.1",
        "169.254.169.254",
        "100.64.0.1",
        "224.0.0.1",
        "240.0.0.1",
        "255.255.255.255",
        "[fe80::1]",
        "[fc00::1]",
        "[ff02::1]",
    ],
)
def test_every_disguised_or_private_address_is_refused_without_connecting(settings, host):
    with ConnectionRecorder() as recorder:
        # Open the port so only the address check can refuse; the allow-list names another host.
        settings.LINKBACK_ALLOWED_PORTS = [80, 443, 8080, recorder.port]
        settings.LINKBACK_ALLOWED_HOSTS = ["example.invalid:1"]
        with pytest.raises(FetchError) as info:
            fetch(f"http://{host}:{recorder.port}/")
        time.sleep(0.05)
        assert recorder.connections == 0
        assert str(info.value) == OPAQUE_MESSAGE


@pytest.mark.parametrize(
    "url",
    [
        "ftp://127.0.0.1/",
        "file:///etc/passwd",
        "gopher://127.0.0.1:70/",
        "http://user:pw@{host}/",
        "http://{host}@evil.example/",
        "http://127.0.0.1:{port}/",  # a port that is not allowed
        "http:///nohost",
        "http://exa mple.org/",
    ],
)
def test_schemes_credentials_and_ports_are_refused_without_connecting(settings, url):
    with ConnectionRecorder() as recorder:
        host = f"127.0.0.1:{recorder.port}"
        settings.LINKBACK_ALLOWED_HOSTS = []
        with pytest.raises(FetchError):
            fetch(url.format(host=host, port=recorder.port))
        time.sleep(0.05)
        assert recorder.connections == 0


def test_allow_list_opens_only_the_exact_pair(settings):
    with ConnectionRecorder() as recorder, LoopbackHTTP() as other:
        settings.LINKBACK_ALLOWED_HOSTS = [f"127.0.0.1:{recorder.port}"]
        with pytest.raises(FetchError):
            fetch(f"http://localhost:{recorder.port}/")  # same address, another name
        with pytest.raises(FetchError):
            fetch(other.url("/"))  # same host, another port
        assert recorder.connections == 0 and other.requests == []


def test_redirects_are_rechecked_each_hop(peer, settings):
    with ConnectionRecorder() as recorder:
        settings.LINKBACK_ALLOWED_PORTS = [80, 443, 8080, recorder.port]
        peer.routes["/hop"] = Reply(302, headers=[("Location", f"http://127.0.0.2:{recorder.port}/")])
        with pytest.raises(FetchError):
            fetch(peer.url("/hop"))
        assert recorder.connections == 0


def test_redirects_are_followed_up_to_five(peer):
    for i in range(5):
        peer.routes[f"/r{i}"] = Reply(302, headers=[("Location", f"/r{i + 1}")])
    peer.routes["/r5"] = Reply(body=b"<p>end</p>")
    response = fetch(peer.url("/r0"))
    assert response.url == peer.url("/r5") and response.body == b"<p>end</p>"
    peer.routes["/r5"] = Reply(302, headers=[("Location", "/r6")])
    peer.routes["/r6"] = Reply(body=b"too far")
    with pytest.raises(FetchError):
        fetch(peer.url("/r0"))


def test_redirect_loop_is_a_clean_error(peer):
    peer.routes["/loop"] = Reply(302, headers=[("Location", "/loop")])
    start = time.monotonic()
    with pytest.raises(FetchError):
        fetch(peer.url("/loop"))
    assert time.monotonic() - start < 5
    assert len(peer.requests) == 6


def test_slow_drip_stops_at_the_deadline(peer):
    peer.routes["/drip"] = Reply(body=b"x" * 1000, drip_delay=0.05)
    start = time.monotonic()
    with pytest.raises(FetchError):
        fetch(peer.url("/drip"), deadline=1.0)
    assert time.monotonic() - start < 1.6


def test_slow_drip_of_headers_stops_at_the_deadline(peer):
    def stream():
        yield b""

    def slow_headers(rec):
        time.sleep(3)
        return Reply(body=b"late")

    peer.routes["/slowhead"] = slow_headers
    start = time.monotonic()
    with pytest.raises(FetchError):
        fetch(peer.url("/slowhead"), deadline=1.0)
    assert time.monotonic() - start < 1.6


def test_fifty_megabyte_body_is_cut_at_the_cap(peer):
    def stream():
        chunk = b"a" * 65536
        for _ in range(50 * 16):
            yield chunk

    peer.routes["/big"] = Reply(stream=stream)
    start = time.monotonic()
    with pytest.raises(FetchError):
        fetch(peer.url("/big"))
    assert time.monotonic() - start < 5


def test_declared_large_body_is_refused_before_reading(peer):
    peer.routes["/declared"] = Reply(body=b"a" * 1_000_001)
    with pytest.raises(FetchError):
        fetch(peer.url("/declared"))


@pytest.mark.parametrize("encoding", ["gzip", "deflate"])
def test_compression_bombs_are_counted_after_decoding(peer, encoding):
    raw = b"\0" * (50 * 1024 * 1024)
    bomb = gzip.compress(raw, 9) if encoding == "gzip" else zlib.compress(raw, 9)
    assert len(bomb) < 200_000
    peer.routes["/bomb"] = Reply(body=bomb, headers=[("Content-Encoding", encoding)])
    start = time.monotonic()
    with pytest.raises(FetchError):
        fetch(peer.url("/bomb"))
    assert time.monotonic() - start < 5


def test_small_gzip_body_is_decoded(peer):
    peer.routes["/gz"] = Reply(body=gzip.compress(b"<p>small</p>"), headers=[("Content-Encoding", "gzip")])
    assert fetch(peer.url("/gz")).body == b"<p>small</p>"


def test_every_failure_reads_the_same(peer, settings):
    peer.routes["/drip"] = Reply(body=b"x" * 100, drip_delay=0.1)
    with ConnectionRecorder() as closed:
        closed_port = closed.port
    settings.LINKBACK_ALLOWED_HOSTS = [peer.host, f"127.0.0.1:{closed_port}"]
    messages = set()
    for url in [
        f"http://127.0.0.1:{closed_port}/",  # port closed
        "http://unresolvable.invalid/",  # no such host
        "http://10.1.2.3/",  # private
        peer.url("/drip"),  # timeout
    ]:
        with pytest.raises(FetchError) as info:
            fetch(url, deadline=0.5)
        messages.add(str(info.value))
    assert messages == {OPAQUE_MESSAGE}


def test_dns_is_resolved_once_and_the_connection_goes_to_the_checked_address(peer, settings, monkeypatch):
    """A rebinding resolver answers loopback once, then a private address: the client connects to
    the first answer it checked and never asks again; Host keeps the name."""
    import socket

    real = socket.getaddrinfo
    answers = []

    def rebinding(host, port, *args, **kwargs):
        if host != "rebind.test":
            return real(host, port, *args, **kwargs)
        address = "127.0.0.1" if not answers else "10.9.9.9"
        answers.append(address)
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port))]

    monkeypatch.setattr(socket, "getaddrinfo", rebinding)
    settings.LINKBACK_ALLOWED_HOSTS = [f"rebind.test:{peer.port}"]
    peer.routes["/p"] = Reply(body=b"pinned")
    response = fetch(f"http://rebind.test:{peer.port}/p")
    assert response.body == b"pinned"
    assert answers == ["127.0.0.1"]
    assert peer.requests[0].headers["Host"] == f"rebind.test:{peer.port}"


def test_https_connects_to_the_checked_address_with_sni_and_checks_the_name(settings, tmp_path, monkeypatch):
    """TLS goes to the pinned address while SNI and the certificate check use the host name."""
    import shutil
    import socket
    import ssl
    import subprocess

    if not shutil.which("openssl"):
        pytest.skip("the openssl command is needed to make a test certificate")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=pinned.test",
         "-addext", "subjectAltName=DNS:pinned.test", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip
    with LoopbackHTTP() as server:
        tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        tls.load_cert_chain(cert, key)
        server_names = []
        tls.sni_callback = lambda sslsock, name, ctx: server_names.append(name)
        server.server.socket = tls.wrap_socket(server.server.socket, server_side=True)
        server.routes["/s"] = Reply(body=b"secure")
        real = socket.getaddrinfo

        def resolver(host, port, *args, **kwargs):
            if host in ("pinned.test", "other.test"):
                return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", port))]
            return real(host, port, *args, **kwargs)

        monkeypatch.setattr(socket, "getaddrinfo", resolver)
        settings.LINKBACK_TLS_CA_FILE = str(cert)
        settings.LINKBACK_ALLOWED_HOSTS = [f"pinned.test:{server.port}", f"other.test:{server.port}"]
        assert fetch(f"https://pinned.test:{server.port}/s").body == b"secure"
        assert server_names == ["pinned.test"]
        with pytest.raises(FetchError):
            fetch(f"https://other.test:{server.port}/s")  # same address, name not on the certificate


@pytest.mark.parametrize("address", ["fec0::1", "feff:ffff::1", "fec0::1%eth0"])
def test_deprecated_site_local_ipv6_is_not_a_public_address(address):
    """fec0::/10 (RFC 3879 deprecated it, but some networks still route it internally)."""
    assert is_public_address(address) is False


def test_global_ipv6_next_to_the_site_local_range_stays_public():
    assert is_public_address("2606:4700:4700::1111") is True
