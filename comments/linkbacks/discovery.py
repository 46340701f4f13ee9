"""Endpoint discovery for sending: Webmention first, then Pingback.

- Webmention, W3C Recommendation section 3.1.2 (Sender discovers receiver Webmention endpoint):
  the HTTP ``Link`` header with a ``rel`` list containing ``webmention`` (RFC 8288), else the
  first ``<link>`` or ``<a>`` element with that rel in document order. Relative URLs are resolved
  against the final URL after redirects, the query string is kept, and an empty href means the
  page itself. Endpoints inside HTML comments or escaped text are not elements, so they never count.
- Pingback 1.0, section "Autodiscovery": the ``X-Pingback`` header, else
  ``<link rel="pingback" href="…">``.

One GET of the target (through fetch.py) serves both protocols.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urljoin

from bs4 import BeautifulSoup

from comments.linkbacks.excerpt import decode_html
from comments.linkbacks.fetch import FetchResponse, fetch


@dataclass
class Endpoint:
    protocol: str  # "webmention" or "pingback"
    url: str


def parse_link_header(values: list[str]) -> list[tuple[str, set[str]]]:
    """Each (uri-reference, rel values) in one or more RFC 8288 Link header fields, in order.

    A small scanner rather than a regex: commas and semicolons inside quoted parameters
    (``title="a, b"``) do not split links or parameters.
    """
    links: list[tuple[str, set[str]]] = []
    for value in values:
        i, n = 0, len(value)
        while i < n:
            start = value.find("<", i)
            end = value.find(">", start + 1)
            if start < 0 or end < 0:
                break
            uri = value[start + 1 : end].strip()
            i = end + 1
            params: list[str] = []
            current: list[str] = []
            quoted = False
            while i < n:
                ch = value[i]
                if ch == '"':
                    quoted = not quoted
                elif not quoted and ch in ";,":
                    params.append("".join(current))
                    current = []
                    if ch == ",":
                        i += 1
                        break
                    i += 1
                    continue
                current.append(ch)
                i += 1
            params.append("".join(current))
            rels: set[str] = set()
            for param in params:
                name, _, raw = param.partition("=")
                if name.strip().lower() == "rel":
                    rels.update(raw.strip().strip('"').lower().split())
            links.append((uri, rels))
    return links


def webmention_endpoint(response: FetchResponse) -> str | None:
    """The Webmention endpoint advertised by a fetched page, absolute, or None."""
    for uri, rels in parse_link_header(response.headers.get_all("Link")):
        if "webmention" in rels:
            return urljoin(response.url, uri)
    if not response.body or "html" not in (response.content_type or "text/html"):
        return None
    soup = BeautifulSoup(decode_html(response.body, response.charset), "lxml")
    base = _base_url(soup, response.url)
    for element in soup.find_all(["link", "a"]):
        rels = [r.lower() for r in element.get("rel") or []]
        if "webmention" in rels and element.has_attr("href"):
            return urljoin(base, element["href"].strip())
    return None


def pingback_endpoint(response: FetchResponse) -> str | None:
    """The Pingback server advertised by a fetched page, or None."""
    header = response.headers.get("X-Pingback")
    if header:
        return urljoin(response.url, header.strip())
    if not response.body or "html" not in (response.content_type or "text/html"):
        return None
    soup = BeautifulSoup(decode_html(response.body, response.charset), "lxml")
    for element in soup.find_all("link"):
        rels = [r.lower() for r in element.get("rel") or []]
        if "pingback" in rels and element.get("href"):
            return urljoin(response.url, element["href"].strip())
    return None


def _base_url(soup: BeautifulSoup, url: str) -> str:
    base = soup.find("base", href=True)
    return urljoin(url, base["href"]) if base else url


def discover(target_url: str, *, deadline: float = 5.0) -> tuple[Endpoint | None, FetchResponse]:
    """Fetch target_url once and return its Webmention endpoint, else its Pingback server.

    Raises FetchError when the target cannot be fetched.
    """
    response = fetch(target_url, deadline=deadline, headers={"Accept": "text/html, */*;q=0.5"})
    endpoint = webmention_endpoint(response)
    if endpoint:
        return Endpoint("webmention", endpoint), response
    endpoint = pingback_endpoint(response)
    if endpoint:
        return Endpoint("pingback", endpoint), response
    return None, response
