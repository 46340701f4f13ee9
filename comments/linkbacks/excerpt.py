"""Verification of a linkback source: does it link to the target, and what does it say around it?

Shared by the three protocols: Webmention section 3.2.2 (Webmention Verification: the source must
contain an exact link to the target), Pingback 1.0 section "Processing" step 3 (the source must
link to the target; fault 0x11 otherwise) and TrackBack, which the spec leaves unverified.

- Charset: the HTTP header, then ``<meta charset>`` / ``http-equiv``, then detection
  (charset-normalizer), as the HTML Standard's encoding sniffing orders them.
- Links: ``a[href]``, ``img[src]``, ``video[src]``, ``audio[src]``, ``link[href]`` (plus
  ``source[src]``), resolved against the source URL (or its ``<base>``); the target's fragment is
  ignored. A URL in plain text or in an HTML comment is not a link.
- Title: ``<title>``, else the h-entry name. Excerpt: about 100 characters each side of the link,
  cut at word boundaries, counted in characters. Author and avatar from an h-card (mf2py).
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass
from urllib.parse import urldefrag, urljoin, urlsplit, urlunsplit

import mf2py
from bs4 import BeautifulSoup, Comment, Declaration, Doctype, ProcessingInstruction

CONTEXT_CHARS = 100
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_\-:.]+)""", re.IGNORECASE)
_LINK_TAGS = {"a": "href", "img": "src", "video": "src", "audio": "src", "link": "href", "source": "src"}
_BLOCKS = {
    "p",
    "li",
    "blockquote",
    "dd",
    "dt",
    "td",
    "th",
    "figcaption",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "article",
    "section",
    "div",
    "main",
    "body",
}
_SKIP = {"script", "style", "template", "noscript", "head", "title"}
_SPACE = re.compile(r"\s+")


@dataclass
class LinkContext:
    """What a source says about the target, ready to store."""

    title: str
    excerpt: str
    author_name: str = ""
    author_url: str = ""
    author_photo: str = ""


def _known(name: str | None) -> str | None:
    if not name:
        return None
    try:
        return codecs.lookup(name).name
    except LookupError:
        return None


def decode_html(body: bytes, header_charset: str | None = None) -> str:
    """Decode a page: HTTP charset, then a <meta> declaration in the first 4 kB, then detection."""
    for candidate in (header_charset, None):
        encoding = _known(candidate)
        if encoding is None and candidate is None:
            match = _META_CHARSET.search(body[:4096])
            encoding = _known(match.group(1).decode("ascii", "replace")) if match else None
        if encoding:
            # WHATWG maps ISO-8859-1 labels to windows-1252; do the same for the curly quotes.
            if encoding in ("latin-1", "iso8859-1"):
                encoding = "cp1252"
            try:
                return body.decode(encoding)
            except UnicodeDecodeError:
                continue
    if body.startswith(codecs.BOM_UTF8):
        return body[3:].decode("utf-8", "replace")
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        pass
    # charset detection is heavy and needed only for undeclared encodings: loaded on first use
    from charset_normalizer import from_bytes

    matches = list(from_bytes(body[:200_000]))
    if not matches:
        return body.decode("cp1252", "replace")
    top = min((m.chaos, -m.coherence) for m in matches)
    tied = [m.encoding for m in matches if (m.chaos, -m.coherence) == top]
    # Ties are common between single-byte Western and Central European code pages; the HTML
    # Standard's fallback for an undeclared page is windows-1252, so it wins a tie.
    encoding = "cp1252" if "cp1252" in tied else tied[0]
    return body.decode(encoding, "replace")


def normalise_url(url: str) -> str:
    """A URL without its fragment, with scheme and host in lower case, for exact comparison."""
    url = urldefrag(url.strip())[0]
    try:
        parts = urlsplit(url)
    except ValueError:
        return url
    path = parts.path or "/"
    return urlunsplit((parts.scheme.lower(), parts.netloc.lower(), path, parts.query, ""))


def _text(node) -> str:
    return _SPACE.sub(" ", node.get_text(" ")).strip()


def _strings(block):
    """The visible strings of a block, in document order (no comments, scripts or styles)."""
    for string in block.descendants:
        if not isinstance(string, str) or isinstance(
            string, Comment | Declaration | Doctype | ProcessingInstruction
        ):
            continue
        if any(parent.name in _SKIP for parent in string.parents if parent is not None):
            continue
        yield string


def _cut_before(text: str) -> str:
    """The last ~100 characters before the link, starting at a word boundary."""
    text = _SPACE.sub(" ", text)
    if len(text) <= CONTEXT_CHARS:
        return text.lstrip()
    tail = text[-CONTEXT_CHARS:]
    if text[-CONTEXT_CHARS - 1] == " ":
        return tail
    cut = tail.find(" ")
    return tail[cut + 1 :] if 0 <= cut < len(tail) - 1 else tail


def _cut_after(text: str) -> str:
    """The first ~100 characters after the link, ending at a word boundary."""
    text = _SPACE.sub(" ", text)
    if len(text) <= CONTEXT_CHARS:
        return text.rstrip()
    head = text[:CONTEXT_CHARS]
    if text[CONTEXT_CHARS] == " ":
        return head.rstrip()
    cut = head.rfind(" ")
    return head[:cut] if cut > 0 else head


def _excerpt_around(element) -> str:
    """The link's text with up to ~100 characters of its block's text on each side."""
    block = next((p for p in element.parents if p.name in _BLOCKS), None) or element.parent
    inside = {id(s) for s in element.descendants if isinstance(s, str)}
    before: list[str] = []
    after: list[str] = []
    seen_link = False
    for string in _strings(block):
        if id(string) in inside:
            seen_link = True
            continue
        (after if seen_link else before).append(str(string))
    label = _text(element) or element.get("alt", "") or element.get("title", "")
    label = _SPACE.sub(" ", label).strip()
    excerpt = _cut_before("".join(before)) + label + _cut_after("".join(after))
    return _SPACE.sub(" ", excerpt).strip()[: 3 * CONTEXT_CHARS + 200]


def find_link(html: str, *, source_url: str, target_url: str) -> LinkContext | None:
    """If the page links exactly to target_url, what it says around that link; else None."""
    soup = BeautifulSoup(html, "lxml")
    base_tag = soup.find("base", href=True)
    base = urljoin(source_url, base_tag["href"]) if base_tag else source_url
    wanted = normalise_url(target_url)
    found = None
    for element in soup.find_all(list(_LINK_TAGS)):
        value = element.get(_LINK_TAGS[element.name])
        if not value or not isinstance(value, str):
            continue
        if normalise_url(urljoin(base, value)) == wanted:
            found = element
            if element.name in ("a", "img", "video", "audio"):
                break
    if found is None:
        return None
    excerpt = "" if found.name == "link" else _excerpt_around(found)
    title_tag = soup.find("title")
    title = _text(title_tag) if title_tag else ""
    context = LinkContext(title=title[:300], excerpt=excerpt)
    _add_microformats(context, html, source_url)
    if not context.title:
        context.title = source_url[:300]
    return context


def _first(props: dict, name: str) -> str:
    values = props.get(name) or []
    if not values:
        return ""
    value = values[0]
    if isinstance(value, dict):
        value = value.get("value") or value.get("url") or ""
        if isinstance(value, dict):
            return ""
    return str(value).strip() if isinstance(value, str) else ""


def _safe_url(url: str) -> str:
    return url if url.lower().startswith(("http://", "https://")) and len(url) <= 2000 else ""


def _add_microformats(context: LinkContext, html: str, source_url: str) -> None:
    """Fill the title (h-entry name) and author (h-card) where the page marks them up."""
    try:
        parsed = mf2py.parse(doc=html, url=source_url, html_parser="lxml")
    except Exception:  # noqa: BLE001 - a malformed page just has no microformats
        return
    items = parsed.get("items", [])
    entry = next((i for i in items if "h-entry" in i.get("type", [])), None)
    card = None
    if entry:
        props = entry.get("properties", {})
        name = _first(props, "name")
        if name and not context.title and len(name) <= 300:
            context.title = name
        authors = props.get("author") or []
        if authors and isinstance(authors[0], dict):
            card = authors[0]
        elif authors and isinstance(authors[0], str):
            context.author_name = authors[0][:100]
    if card is None:
        card = next((i for i in items if "h-card" in i.get("type", [])), None)
    if card:
        props = card.get("properties", {})
        context.author_name = _first(props, "name")[:100] or context.author_name
        context.author_url = _safe_url(_first(props, "url"))
        photo = props.get("photo") or []
        if photo:
            value = photo[0].get("value") if isinstance(photo[0], dict) else photo[0]
            context.author_photo = _safe_url(str(value or ""))
