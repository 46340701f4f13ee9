"""Markdown to safe HTML: the one rendering pipeline for posts and comments.

`render_markdown(text, profile)` runs Python-Markdown with a fixed set of extensions, then nh3
(the Ammonia sanitizer). Two profiles: "post" (richer, raw HTML allowed and sanitized) and
"comment" (smaller; raw HTML is escaped, links get rel="nofollow ugc noopener noreferrer").
URL attributes are limited to http, https and mailto, and relative URLs only where they are
plainly relative paths or fragments, so tricks like "\\u2028javascript:" cannot pass.
"""

from __future__ import annotations

import html
import re
import threading
import xml.etree.ElementTree as etree
from html.parser import HTMLParser
from typing import Literal

import markdown
import nh3
from django.utils.text import Truncator
from markdown.inlinepatterns import InlineProcessor

Profile = Literal["post", "comment"]

_POST_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "caption", "cite", "code", "col", "colgroup", "dd",
    "del", "details", "dfn", "div", "dl", "dt", "em", "figcaption", "figure", "h1", "h2", "h3",
    "h4", "h5", "h6", "hr", "i", "img", "ins", "kbd", "li", "mark", "ol", "p", "pre", "q", "s",
    "samp", "small", "span", "strong", "sub", "summary", "sup", "table", "tbody", "td", "tfoot",
    "th", "thead", "time", "tr", "u", "ul", "var",
}  # fmt: skip
_COMMENT_TAGS = {
    "a", "b", "blockquote", "br", "code", "del", "em", "i", "li", "ol", "p", "pre", "strong",
    "ul",
}  # fmt: skip
_POST_ATTRIBUTES = {
    "*": {"id", "class", "title", "lang", "dir"},
    "a": {"href", "hreflang"},
    "img": {"src", "alt", "width", "height", "loading"},
    "td": {"colspan", "rowspan", "align"},
    "th": {"colspan", "rowspan", "align", "scope"},
    "ol": {"start", "reversed"},
    "time": {"datetime"},
    "abbr": {"title"},
    "sup": {"id"},
    "li": {"id"},
}
_COMMENT_ATTRIBUTES = {"a": {"href"}, "code": {"class"}, "span": {"class"}}
_URL_SCHEMES = {"http", "https", "mailto"}

# A URL value is allowed when it starts with an allowed scheme, or is plainly relative
# (path, query or fragment) with no scheme at all. Anything else is dropped.
_SAFE_URL = re.compile(r"^(?:(?:https?|mailto):|[/#?.]|[\w\-~%]+(?:[/#?]|$))", re.IGNORECASE)
_FORBIDDEN_IN_URL = re.compile(
    r"[\x00-\x20\x7f-\x9f\u00ad\u061c\u115f\u1160\u17b4\u17b5"
    r"\u180e\u2000-\u200f\u2028-\u202e\u2060-\u206f\u3164\ufeff]"
)


def _filter_attribute(element: str, attribute: str, value: str) -> str | None:
    if attribute in {"href", "src"}:
        stripped = value.strip()
        if _FORBIDDEN_IN_URL.search(stripped) or not _SAFE_URL.match(stripped):
            return None
        scheme = stripped.split(":", 1)[0].lower() if ":" in stripped.split("/", 1)[0] else ""
        if scheme and scheme not in _URL_SCHEMES:
            return None
        return stripped
    if attribute == "class":
        # Keep only Pygments/codehilite and footnote classes; no styling hooks from authors.
        kept = [c for c in value.split() if re.fullmatch(r"[a-z0-9][a-z0-9_-]{0,40}", c)]
        return " ".join(kept) or None
    return value


_EXTENSIONS = {
    "post": [
        "markdown.extensions.tables",
        "markdown.extensions.fenced_code",
        "markdown.extensions.codehilite",
        "markdown.extensions.footnotes",
        "markdown.extensions.toc",
        "markdown.extensions.smarty",
        "markdown.extensions.sane_lists",
    ],
    "comment": [
        "markdown.extensions.fenced_code",
        "markdown.extensions.codehilite",
        "markdown.extensions.smarty",
        "markdown.extensions.sane_lists",
    ],
}
_EXTENSION_CONFIGS = {
    "markdown.extensions.codehilite": {"css_class": "highlight", "guess_lang": False},
    "markdown.extensions.toc": {"permalink": False, "toc_depth": "2-3"},
}

# Bare URLs become links. Applied to text outside code spans by a Markdown inline pattern.
_AUTOLINK_RE = r"(?<![\(\[<\"'=/])\b(https?://[^\s<>\"'\)\]]+[^\s<>\"'\)\]\.,;:!?])"


class _BareUrlExtension(markdown.Extension):
    def extendMarkdown(self, md: markdown.Markdown) -> None:  # noqa: N802 (Markdown's API)

        class BareUrl(InlineProcessor):
            def handleMatch(self, m, data):  # noqa: N802

                el = etree.Element("a")
                el.set("href", m.group(1))
                el.text = m.group(1)
                return el, m.start(0), m.end(0)

        md.inlinePatterns.register(BareUrl(_AUTOLINK_RE, md), "bare_url", 15)


def _escape_raw_html(text: str) -> str:
    # Comments may not contain raw HTML: escape angle brackets outside code, keeping autolinks.
    return re.sub(r"<(?!(?:https?://|mailto:)[^>\s]+>)", "&lt;", text)


# Python-Markdown finds the end of "[text]" and "(url)" by scanning forward from each opener, so
# thousands of unmatched or deeply nested brackets cost O(n²) (10,000 "[" took 15 s). Above this
# many scanned characters, the offending openers are backslash-escaped before rendering.
_BRACKET_SCAN_BUDGET = 50_000
_BRACKET_MAX_DEPTH = 2
_CLOSERS = {"]": "[", ")": "("}


def _defuse_brackets(text: str) -> str:
    """Escape the unmatched or deeply nested "[" and "(" that would make link parsing quadratic.

    Ordinary text (whose brackets would cost less than the budget to scan) is returned unchanged,
    so code spans in normal posts never gain a visible backslash.
    """
    open_at: dict[str, list[int]] = {"[": [], "(": []}
    spans: list[tuple[int, int, int]] = []  # (opener position, scan length, depth)
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c == "\\":
            i += 2
            continue
        if c in open_at:
            open_at[c].append(i)
        elif c in _CLOSERS and open_at[_CLOSERS[c]]:
            stack = open_at[_CLOSERS[c]]
            start = stack.pop()
            spans.append((start, i - start, len(stack)))
        i += 1
    unmatched = [start for stack in open_at.values() for start in stack]
    cost = sum(length for _start, length, _depth in spans) + sum(n - start for start in unmatched)
    if cost <= _BRACKET_SCAN_BUDGET:
        return text
    escape_at = sorted(unmatched + [start for start, _length, depth in spans if depth >= _BRACKET_MAX_DEPTH])
    pieces, last = [], 0
    for position in escape_at:
        pieces.append(text[last:position])
        pieces.append("\\")
        last = position
    pieces.append(text[last:])
    return "".join(pieces)


def _plain_paragraphs(text: str) -> str:
    """A last-resort rendering: escaped text in paragraphs, for input Markdown cannot parse."""
    blocks = [b.strip() for b in re.split(r"\n\s*\n", text) if b.strip()]
    return "".join(f"<p>{html.escape(b, quote=False)}</p>" for b in blocks)


def render_markdown(text: str, profile: Profile = "post") -> str:
    """Render Markdown to sanitized HTML. Deterministic: the same text gives the same bytes.

    Never raises on hostile text: quadratic bracket shapes are defused first, and text that nests
    deeper than Python's recursion limit (e.g. 5,000 list markers) falls back to plain paragraphs.
    """
    if profile not in _EXTENSIONS:
        raise ValueError(f"unknown profile {profile!r}")
    text = text.replace("\x00", "")
    if profile == "comment":
        text = _escape_raw_html(text)
    text = _defuse_brackets(text)
    md = _converter(profile)
    try:
        raw = md.reset().convert(text)
    except RecursionError:
        _converters.__dict__.pop(profile, None)  # left mid-document: the next call builds a new one
        raw = _plain_paragraphs(text)
    return sanitize(raw, profile)


# Building a Markdown instance (loading and registering its extensions) costs more than
# converting a comment, so each thread keeps one per profile and resets it between documents.
_converters = threading.local()


def _converter(profile: Profile) -> markdown.Markdown:
    md = getattr(_converters, profile, None)
    if md is None:
        md = markdown.Markdown(
            extensions=[*_EXTENSIONS[profile], _BareUrlExtension()],
            extension_configs=_EXTENSION_CONFIGS,
            output_format="html",
        )
        setattr(_converters, profile, md)
    return md


def sanitize(raw_html: str, profile: Profile = "post") -> str:
    """Sanitize HTML with nh3 for the given profile. Idempotent."""
    is_comment = profile == "comment"
    return nh3.clean(
        raw_html,
        tags=_COMMENT_TAGS if is_comment else _POST_TAGS,
        attributes=_COMMENT_ATTRIBUTES if is_comment else _POST_ATTRIBUTES,
        url_schemes=_URL_SCHEMES,
        attribute_filter=_filter_attribute,
        link_rel="nofollow ugc noopener noreferrer" if is_comment else None,
        strip_comments=True,
    )


def plain_text(html_fragment: str) -> str:
    """Text content of an HTML fragment, for excerpts, meta descriptions and search."""
    text = nh3.clean(html_fragment, tags=set())
    return re.sub(r"\s+", " ", html.unescape(text)).strip()


# Where a paragraph's text is not running prose: an excerpt never takes text from inside these.
_NOT_PROSE = frozenset(
    {"h1", "h2", "h3", "h4", "h5", "h6", "table", "ul", "ol", "dl", "pre", "figure", "nav", "aside"}
)


class _Enough(Exception):
    pass


class _Paragraphs(HTMLParser):
    """Collects the text of the paragraphs outside headings, lists, tables and code, in order,
    and stops reading once `words` words are in hand."""

    def __init__(self, words: int):
        super().__init__(convert_charrefs=True)
        self.words = words
        self.count = 0
        self.skip = 0
        self.current: list[str] | None = None
        self.paragraphs: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag in _NOT_PROSE:
            self.skip += 1
        elif tag == "p" and not self.skip:
            self.current = []
        elif tag == "br" and self.current is not None:
            self.current.append(" ")

    def handle_endtag(self, tag):
        if tag in _NOT_PROSE:
            self.skip = max(0, self.skip - 1)
        elif tag == "p" and self.current is not None:
            text = re.sub(r"\s+", " ", "".join(self.current)).strip()
            self.current = None
            if text:
                self.paragraphs.append(text)
                self.count += len(text.split())
                if self.count >= self.words:
                    raise _Enough

    def handle_data(self, data):
        if self.current is not None and not self.skip:
            self.current.append(data)


def excerpt_text(html_fragment: str, words: int) -> str:
    """A plain-text excerpt that keeps its sense: the first paragraphs, whole, up to `words` words.

    Headings, list items, table cells and code are never run together into it. A first paragraph
    longer than the limit is cut at a word boundary with "…". A body without any paragraph falls
    back to its text, cut the same way.
    """
    reader = _Paragraphs(words)
    try:
        reader.feed(html_fragment)
        reader.close()
    except _Enough:
        pass
    taken: list[str] = []
    count = 0
    for paragraph in reader.paragraphs:
        size = len(paragraph.split())
        if taken and count + size > words:
            break
        taken.append(paragraph)
        count += size
    if not taken:
        return Truncator(plain_text(html_fragment)).words(words, truncate="…")
    return Truncator(" ".join(taken)).words(words, truncate="…")
