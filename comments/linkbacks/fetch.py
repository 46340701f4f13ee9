"""The one outbound HTTP client: every request this site makes to another server goes through here.

It guards against server-side request forgery (CVE-2022-3590 is the WordPress pingback case) and
against hostile peers:

- http and https only, on ports 80, 443 and 8080 (``LINKBACK_ALLOWED_PORTS``), no credentials;
- the host name is resolved once, every address is checked, and the socket connects to the
  checked address (the Host header and TLS SNI keep the name), so DNS rebinding cannot switch it;
- loopback, private, link-local, CGNAT, multicast, reserved and unspecified addresses are refused,
  IPv6 included, and IPv4 wrapped in IPv6 (``::ffff:``, ``64:ff9b::``, ``2002::``, Teredo) is
  unwrapped and checked as IPv4; disguised forms such as ``127.1`` or ``2130706433`` resolve to
  127.0.0.1 and are refused like it;
- at most 5 redirects, each hop checked again (RFC 9110 section 15.4);
- one total deadline (5 s) for DNS, connect, headers and body, and a byte cap (1 MB) counted after
  gzip/deflate decoding, so slow drips and compression bombs stop early;
- one opaque error for every failure, so the linkback endpoints cannot be used to probe hosts.

``LINKBACK_ALLOWED_HOSTS`` names exact ``host:port`` pairs that may be loopback (tests only).

Federation (ActivityPub) uses the same client: a caller may pass ``allowed_hosts`` (federation
passes ``FEDERATION_ALLOWED_HOSTS``) in place of the linkback allow-list, ``sign`` to add
per-hop headers such as an HTTP Signature (it is called with the method, the path with its query,
the exact Host header and the body of each hop, and the Host header is then sent as signed), and
``follow_redirects=False`` to stop at the first answer (a signed POST is never re-sent elsewhere).
"""

from __future__ import annotations

import contextlib
import http.client
import ipaddress
import logging
import socket
import ssl
import threading
import time
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

from django.conf import settings

from core.origin import public_origin

logger = logging.getLogger(__name__)

OPAQUE_MESSAGE = "The remote resource could not be retrieved."
MAX_REDIRECTS = 5
REDIRECT_STATUSES = {301, 302, 303, 307, 308}
CHUNK = 16 * 1024

_CGNAT = ipaddress.ip_network("100.64.0.0/10")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_NAT64_LOCAL = ipaddress.ip_network("64:ff9b:1::/48")


class FetchError(Exception):
    """Any failure to fetch. The message is always the same; the reason is only logged."""

    def __init__(self, reason: str = ""):
        super().__init__(OPAQUE_MESSAGE)
        self.reason = reason


class Headers:
    """Case-insensitive response headers that keep repeated fields (several ``Link`` headers)."""

    def __init__(self, items: list[tuple[str, str]] | None = None):
        self._items = list(items or [])

    def get(self, name: str, default: str | None = None) -> str | None:
        values = self.get_all(name)
        return ", ".join(values) if values else default

    def get_all(self, name: str) -> list[str]:
        name = name.lower()
        return [value for key, value in self._items if key.lower() == name]

    def __getitem__(self, name: str) -> str:
        value = self.get(name)
        if value is None:
            raise KeyError(name)
        return value

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and bool(self.get_all(name))

    def __iter__(self) -> Iterator[str]:
        return iter(dict.fromkeys(key.lower() for key, _ in self._items))

    def items(self) -> list[tuple[str, str]]:
        return list(self._items)


@dataclass
class FetchResponse:
    url: str
    status: int
    headers: Headers = field(default_factory=Headers)
    body: bytes = b""
    charset: str | None = None

    @property
    def content_type(self) -> str:
        return (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()


def user_agent() -> str:
    return f"{settings.SITE_NAME} linkbacks (Webmention, Pingback, TrackBack; +{public_origin()}/)"


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip in _NAT64 or ip in _NAT64_LOCAL:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip.teredo is not None:
        return ip.teredo[1]
    # IPv4-compatible addresses (::a.b.c.d), deprecated but still routable by some stacks.
    if int(ip) >> 32 == 0 and int(ip) > 0xFFFF:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def is_public_address(address: str) -> bool:
    """True only for a globally routable unicast address (IPv4 inside IPv6 is unwrapped first)."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address):
        inner = _embedded_ipv4(ip)
        if inner is not None:
            if not is_public_address(str(inner)):
                return False
        elif ip in _NAT64 or ip in _NAT64_LOCAL:
            return False
    return not (
        ip.is_loopback
        or ip.is_private
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
        or (isinstance(ip, ipaddress.IPv4Address) and ip in _CGNAT)
        # fec0::/10, deprecated by RFC 3879 but still routed inside some networks; Python's
        # is_global calls it global.
        or (isinstance(ip, ipaddress.IPv6Address) and ip.is_site_local)
        or not ip.is_global
    )


def _remaining(deadline_at: float) -> float:
    left = deadline_at - time.monotonic()
    if left <= 0:
        raise FetchError("deadline exceeded")
    return left


def _resolve(host: str, port: int, deadline_at: float) -> list[str]:
    """getaddrinfo has no timeout of its own: run it in a thread and stop waiting at the deadline."""
    result: dict[str, object] = {}

    def work() -> None:
        try:
            result["infos"] = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (OSError, UnicodeError, ValueError) as exc:  # IDNA failures raise UnicodeError
            result["error"] = exc

    thread = threading.Thread(target=work, daemon=True, name="linkback-dns")
    thread.start()
    thread.join(_remaining(deadline_at))
    if thread.is_alive() or "infos" not in result:
        raise FetchError(f"cannot resolve {host!r}")
    return list(dict.fromkeys(info[4][0] for info in result["infos"]))  # type: ignore[union-attr]


@dataclass
class _Target:
    scheme: str
    host: str
    port: int
    path: str
    address: str


def _check_url(url: str, deadline_at: float, allowed_hosts: list[str] | None = None) -> _Target:
    """Everything decided before any connection: scheme, credentials, port, and the address."""
    if len(url) > 2000 or any(ord(ch) < 33 or ord(ch) == 127 for ch in url):
        raise FetchError("malformed URL")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise FetchError("malformed URL") from exc
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise FetchError("scheme not allowed")
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        raise FetchError("credentials in URL")
    host = (parts.hostname or "").rstrip(".").lower()
    if not host:
        raise FetchError("no host")
    port = port or (443 if scheme == "https" else 80)
    pair = f"{host}:{port}" if ":" not in host else f"[{host}]:{port}"
    allowed = settings.LINKBACK_ALLOWED_HOSTS if allowed_hosts is None else allowed_hosts
    allowed_pair = pair in {entry.strip().lower() for entry in allowed}
    allowed_ports = settings.LINKBACK_ALLOWED_PORTS
    if port not in allowed_ports and not allowed_pair:
        raise FetchError("port not allowed")
    addresses = _resolve(host, port, deadline_at)
    if not addresses:
        raise FetchError("no address")
    if not allowed_pair and not all(is_public_address(a) for a in addresses):
        raise FetchError("address not allowed")
    path = parts.path or "/"
    if parts.query:
        path = f"{path}?{parts.query}"
    return _Target(scheme, host, port, path, addresses[0])


def check_url(url: str, *, allowed_hosts: list[str] | None = None, deadline: float = 5.0) -> None:
    """Raise FetchError unless fetch() would be allowed to connect to this URL (scheme, port,
    credentials, and every address its host resolves to). Nothing is connected."""
    _check_url(url, time.monotonic() + deadline, allowed_hosts)


def host_header(target: _Target) -> str:
    """The Host header http.client would send for this target."""
    host = f"[{target.host}]" if ":" in target.host else target.host
    default = 443 if target.scheme == "https" else 80
    return host if target.port == default else f"{host}:{target.port}"


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """Connects to the address that was checked; the Host header still names the host."""

    def __init__(self, host: str, port: int, *, address: str, timeout: float):
        super().__init__(host, port, timeout=timeout)
        self._address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """TLS to the checked address, with SNI and certificate checks against the host name."""

    def __init__(self, host: str, port: int, *, address: str, timeout: float):
        context = ssl.create_default_context(cafile=settings.LINKBACK_TLS_CA_FILE or None)
        super().__init__(host, port, timeout=timeout, context=context)
        self._address = address

    def connect(self) -> None:
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


def _decoder(encoding: str):
    encoding = encoding.strip().lower()
    if encoding in ("", "identity"):
        return None
    if encoding in ("gzip", "x-gzip"):
        return zlib.decompressobj(16 + zlib.MAX_WBITS)
    if encoding == "deflate":
        return zlib.decompressobj(zlib.MAX_WBITS | 32)
    raise FetchError("unsupported content encoding")


def _read_body(response: http.client.HTTPResponse, sock, deadline_at: float, max_bytes: int) -> bytes:
    """Read at most max_bytes of decoded body before the deadline, one socket read at a time."""
    decoder = _decoder(response.getheader("Content-Encoding") or "")
    length = response.getheader("Content-Length")
    if decoder is None and length and length.isdigit() and int(length) > max_bytes:
        raise FetchError("body too large")
    out = bytearray()
    while True:
        if sock is not None:
            sock.settimeout(_remaining(deadline_at))
        chunk = response.read1(CHUNK)
        _remaining(deadline_at)
        if not chunk:
            break
        if decoder is None:
            out += chunk
        else:
            data = decoder.decompress(chunk, max_bytes + 1 - len(out))
            out += data
            if decoder.unconsumed_tail:
                raise FetchError("decoded body too large")
        if len(out) > max_bytes:
            raise FetchError("body too large")
    if decoder is not None:
        out += decoder.flush()
        if len(out) > max_bytes:
            raise FetchError("decoded body too large")
    return bytes(out)


def _charset(content_type: str | None) -> str | None:
    if not content_type:
        return None
    for param in content_type.split(";")[1:]:
        key, _, value = param.partition("=")
        if key.strip().lower() == "charset" and value.strip():
            return value.strip().strip("\"'").lower()
    return None


def _one_request(
    target: _Target,
    method: str,
    data: bytes | None,
    headers: dict[str, str],
    deadline_at: float,
    max_bytes: int,
) -> FetchResponse:
    cls = _PinnedHTTPSConnection if target.scheme == "https" else _PinnedHTTPConnection
    conn = cls(target.host, target.port, address=target.address, timeout=_remaining(deadline_at))
    # Per-read timeouts alone let a peer drip one header byte a second forever: a watchdog
    # shuts the socket down at the total deadline, whatever the client is waiting for.
    watchdog = threading.Timer(_remaining(deadline_at), _shutdown, args=(conn,))
    watchdog.daemon = True
    watchdog.start()
    try:
        send_headers = {
            "User-Agent": user_agent(),
            "Accept-Encoding": "gzip, deflate",
            "Connection": "close",
        }
        send_headers.update(headers)
        conn.request(method, target.path, body=data, headers=send_headers)
        if conn.sock is not None:
            conn.sock.settimeout(_remaining(deadline_at))
        response = conn.getresponse()
        items = [(k, v) for k, v in response.getheaders()]
        if response.status in REDIRECT_STATUSES or method == "HEAD":
            body = b""
        else:
            body = _read_body(response, conn.sock, deadline_at, max_bytes)
        return FetchResponse(
            url="",  # the caller sets the URL it asked for
            status=response.status,
            headers=Headers(items),
            body=body,
            charset=_charset(response.getheader("Content-Type")),
        )
    finally:
        watchdog.cancel()
        conn.close()


def _shutdown(conn: http.client.HTTPConnection) -> None:
    sock = conn.sock
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)


def fetch(
    url: str,
    *,
    method: str = "GET",
    data: bytes | None = None,
    headers: dict[str, str] | None = None,
    max_bytes: int = 1_000_000,
    deadline: float = 5.0,
    allowed_hosts: list[str] | None = None,
    sign=None,
    follow_redirects: bool = True,
) -> FetchResponse:
    """Fetch url safely, following up to 5 redirects; raise FetchError on any failure.

    A response of any status is returned (the caller decides what a 404 or 410 means); only
    transport failures, refused addresses, the deadline and the byte cap raise.
    """
    deadline_at = time.monotonic() + deadline
    method = method.upper()
    headers = dict(headers or {})
    try:
        for _hop in range(MAX_REDIRECTS + 1):
            target = _check_url(url, deadline_at, allowed_hosts)
            hop_headers = headers
            if sign is not None:
                hop_headers = {**headers, **sign(method, target.path, host_header(target), data)}
            response = _one_request(target, method, data, hop_headers, deadline_at, max_bytes)
            location = response.headers.get_all("Location")
            if response.status not in REDIRECT_STATUSES or not location or not follow_redirects:
                response.url = url
                return response
            url = urljoin(url, location[0].strip())
            if response.status in (301, 302, 303) and method == "POST":
                method, data = "GET", None
                headers.pop("Content-Type", None)
        raise FetchError("too many redirects")
    except FetchError as exc:
        logger.info("fetch %s refused or failed: %s", url[:200], exc.reason)
        raise
    except (OSError, http.client.HTTPException, ValueError, zlib.error, UnicodeError) as exc:
        logger.info("fetch %s failed: %r", url[:200], exc)
        raise FetchError(repr(exc)) from None
