"""Origins (scheme://host[:port]) of linkback sources: the unit of trust between sites."""

from __future__ import annotations

from urllib.parse import urlsplit

_DEFAULT_PORTS = {"http": 80, "https": 443}


def source_origin(url: str) -> str:
    """scheme://host[:port] of a URL, lower case, with the scheme's default port left out.

    The unit of trust between sites (RFC 6454 origins): two sites on one host name but different
    ports (a demo on 127.0.0.1:8000 and a WordPress on 127.0.0.1:8081) are different sites.
    """
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return ""
    scheme, host = parts.scheme.lower(), (parts.hostname or "").lower()
    if not host or scheme not in _DEFAULT_PORTS:
        return ""
    if ":" in host:
        host = f"[{host}]"
    if port is None or port == _DEFAULT_PORTS[scheme]:
        return f"{scheme}://{host}"
    return f"{scheme}://{host}:{port}"


def _origin_spellings(origin: str) -> list[str]:
    """An origin as stored URLs may start: with its default port left out, or written out."""
    scheme, rest = origin.split("://", 1)
    if rest.rsplit("]", 1)[-1].count(":"):
        return [origin]  # an explicit, non-default port
    return [origin, f"{origin}:{_DEFAULT_PORTS[scheme]}"]
