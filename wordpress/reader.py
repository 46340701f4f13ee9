"""Reading WordPress eXtended RSS (WXR) export files, versions 1.0, 1.1 and 1.2, as a stream.

WXR is RSS 2.0 with WordPress's `wp:` namespace (`http(s)://wordpress.org/export/1.x/`) plus the
`content:`, `excerpt:` and `dc:` namespaces. The channel carries the site's header, then
`wp:author`, `wp:category`, `wp:tag` and `wp:term` records, then one `<item>` per WordPress
post of any type (post, page, attachment, nav_menu_item, ...), each with its `wp:comment`s.

`read_wxr(path)` yields one small record at a time and throws each parsed element away, so memory
stays bounded however large the file is. The XML parser is hardened: no DTD loading, no entity
expansion, no network, no huge text nodes; a document that declares a DOCTYPE is refused outright
(a WordPress export never has one). Every failure is a `WXRError` naming the line and column.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from lxml import etree

_WP_NAMESPACE = re.compile(r"^https?://wordpress\.org/export/1\.[0-2]/$")
_EXCERPT_NAMESPACE = re.compile(r"^https?://wordpress\.org/export/1\.[0-2]/excerpt/$")
_OTHER_NAMESPACES = {
    "http://purl.org/rss/1.0/modules/content/": "content",
    "http://purl.org/dc/elements/1.1/": "dc",
    "http://wellformedweb.org/CommentAPI/": "wfw",
}
SUPPORTED_VERSIONS = {"1.0", "1.1", "1.2"}

# Post and comment meta that sectorblog's own exporter (wordpress/export.py) writes for what WordPress
# has no field for; read back by the importer so a round trip through WXR loses nothing.
META_MARKDOWN = "_sectorblog_markdown"  # a post's or comment's Markdown source
META_LANGUAGE = "_sectorblog_language"
META_TRANSLATION = "_sectorblog_translation_group"  # translations of one another share it
META_AUTHORS = "_sectorblog_authors"  # every author's login, byline first, comma-separated
META_REDIRECT = "_sectorblog_redirect"  # an old path that redirects to the post (repeated)
META_FEATURED = "_sectorblog_featured"
META_KIND = "_sectorblog_kind"  # a comment kind WordPress has no comment_type for ("fediverse")
META_HANDLE = "_sectorblog_handle"  # a fediverse reply's author handle
META_LINKBACK = "_sectorblog_linkback"  # a linkback's fields beyond WordPress's, as JSON
# WordPress's own: the approval a comment had before it went to the trash.
META_TRASH_STATUS = "_wp_trash_meta_status"
LINKBACK_FIELDS = {"user_name": 50, "user_url": 200, "source_title": 300, "author_avatar_url": 2000}


class WXRError(Exception):
    """The file cannot be imported: malformed XML, or not a WordPress export. Names line and column."""

    def __init__(self, message: str, line: int | None = None, column: int | None = None):
        self.message = message
        self.line = line
        self.column = column
        super().__init__(str(self))

    def __str__(self) -> str:
        if self.line is None:
            return self.message
        return f"line {self.line}, column {self.column or 1}: {self.message}"


@dataclass
class Channel:
    title: str = ""
    link: str = ""
    base_site_url: str = ""
    base_blog_url: str = ""
    wxr_version: str = ""
    language: str = ""


@dataclass
class Author:
    login: str
    email: str = ""
    display_name: str = ""
    first_name: str = ""
    last_name: str = ""
    wp_id: str = ""


@dataclass
class Term:
    """A `wp:category`, `wp:tag` or generic `wp:term` record of the channel."""

    taxonomy: str  # "category", "post_tag" or the wp:term_taxonomy value
    slug: str
    name: str = ""
    wp_id: str = ""
    parent_slug: str = ""
    description: str = ""


@dataclass
class ItemTerm:
    """A `<category domain=... nicename=...>` reference inside an item."""

    taxonomy: str
    slug: str
    name: str


@dataclass
class CommentRecord:
    wp_id: str
    author: str = ""
    email: str = ""
    url: str = ""
    ip: str = ""
    date: str = ""
    date_gmt: str = ""
    content: str = ""
    approved: str = "1"
    type: str = ""
    parent_id: str = "0"
    user_id: str = "0"
    meta: dict[str, str] = field(default_factory=dict)


@dataclass
class Item:
    line: int
    wp_id: str = ""
    post_type: str = "post"
    title: str = ""
    link: str = ""
    guid: str = ""
    creator: str = ""
    content: str = ""
    excerpt: str = ""
    post_name: str = ""
    post_date: str = ""
    post_date_gmt: str = ""
    status: str = ""
    parent_id: str = "0"
    menu_order: str = "0"
    is_sticky: str = "0"
    comment_status: str = ""
    ping_status: str = ""
    password: str = ""
    attachment_url: str = ""
    terms: list[ItemTerm] = field(default_factory=list)
    comments: list[CommentRecord] = field(default_factory=list)
    meta: dict[str, str] = field(default_factory=dict)
    old_slugs: list[str] = field(default_factory=list)  # every `_wp_old_slug`: WordPress keeps them all
    old_paths: list[str] = field(default_factory=list)  # every META_REDIRECT


Record = Channel | Author | Term | Item


class _CountingReader:
    """A binary file wrapper that remembers how many bytes the parser has consumed."""

    def __init__(self, fileobj, on_progress: Callable[[int], None] | None):
        self._file = fileobj
        self.position = 0
        self._on_progress = on_progress

    def read(self, size: int = -1) -> bytes:
        chunk = self._file.read(size)
        self.position += len(chunk)
        if self._on_progress is not None:
            self._on_progress(self.position)
        return chunk


def _key(tag) -> tuple[str, str]:
    """(namespace short name, local name) for a Clark-notation tag; unknown namespaces keep the URI."""
    if not isinstance(tag, str):
        return ("", "")
    if tag[0] != "{":
        return ("", tag)
    uri, local = tag[1:].split("}", 1)
    if _WP_NAMESPACE.match(uri):
        return ("wp", local)
    if _EXCERPT_NAMESPACE.match(uri):
        return ("excerpt", local)
    return (_OTHER_NAMESPACES.get(uri, uri), local)


def _text(el) -> str:
    """The element's text; stray markup that was not wrapped in CDATA is kept as markup."""
    if len(el) == 0:
        return el.text or ""
    inner = [el.text or ""]
    for child in el:
        inner.append(etree.tostring(child, encoding="unicode", with_tail=True))
    return "".join(inner)


def _children(el) -> dict[str, str]:
    found: dict[str, str] = {}
    for child in el:
        ns, local = _key(child.tag)
        if ns in ("wp", "", "content", "excerpt", "dc"):
            found.setdefault(f"{ns}:{local}" if ns else local, _text(child))
    return found


def _find_in_head(path: Path, needle: str, max_lines: int = 200) -> tuple[int, int]:
    """(line, column) of the first `needle` near the start of the file, for error messages only."""
    try:
        with open(path, "rb") as fh:
            for number, raw in enumerate(fh, start=1):
                found = raw.decode("utf-8", "replace").find(needle)
                if found >= 0:
                    return number, found + 1
                if number >= max_lines:
                    break
    except OSError:
        pass
    return 1, 1


def _column_of(path: Path, line: int, needle: str) -> int:
    """Where `needle` starts on a line of the file (1-based), for error messages only."""
    try:
        with open(path, "rb") as fh:
            for number, raw in enumerate(fh, start=1):
                if number == line:
                    found = raw.decode("utf-8", "replace").find(needle)
                    return found + 1 if found >= 0 else 1
    except OSError:
        pass
    return 1


def _author(el) -> Author:
    values = _children(el)
    return Author(
        login=values.get("wp:author_login", "").strip(),
        email=values.get("wp:author_email", "").strip(),
        display_name=values.get("wp:author_display_name", "").strip(),
        first_name=values.get("wp:author_first_name", "").strip(),
        last_name=values.get("wp:author_last_name", "").strip(),
        wp_id=values.get("wp:author_id", "").strip(),
    )


def _term(el, local: str) -> Term:
    values = _children(el)
    if local == "category":
        return Term(
            taxonomy="category",
            slug=values.get("wp:category_nicename", "").strip(),
            name=values.get("wp:cat_name", "").strip(),
            wp_id=values.get("wp:term_id", "").strip(),
            parent_slug=values.get("wp:category_parent", "").strip(),
            description=values.get("wp:category_description", "").strip(),
        )
    if local == "tag":
        return Term(
            taxonomy="post_tag",
            slug=values.get("wp:tag_slug", "").strip(),
            name=values.get("wp:tag_name", "").strip(),
            wp_id=values.get("wp:term_id", "").strip(),
            description=values.get("wp:tag_description", "").strip(),
        )
    return Term(
        taxonomy=values.get("wp:term_taxonomy", "").strip(),
        slug=values.get("wp:term_slug", "").strip(),
        name=values.get("wp:term_name", "").strip(),
        wp_id=values.get("wp:term_id", "").strip(),
        parent_slug=values.get("wp:term_parent", "").strip(),
        description=values.get("wp:term_description", "").strip(),
    )


def _comment(el) -> CommentRecord:
    values = _children(el)
    meta = {}
    for child in el:
        if _key(child.tag) == ("wp", "commentmeta"):
            pair = _children(child)
            meta.setdefault(pair.get("wp:meta_key", ""), pair.get("wp:meta_value", ""))
    return CommentRecord(
        meta=meta,
        wp_id=values.get("wp:comment_id", "").strip(),
        author=values.get("wp:comment_author", "").strip(),
        email=values.get("wp:comment_author_email", "").strip(),
        url=values.get("wp:comment_author_url", "").strip(),
        ip=values.get("wp:comment_author_IP", "").strip(),
        date=values.get("wp:comment_date", "").strip(),
        date_gmt=values.get("wp:comment_date_gmt", "").strip(),
        content=values.get("wp:comment_content", ""),
        approved=values.get("wp:comment_approved", "1").strip(),
        type=values.get("wp:comment_type", "").strip(),
        parent_id=values.get("wp:comment_parent", "0").strip() or "0",
        user_id=values.get("wp:comment_user_id", "0").strip() or "0",
    )


def _item(el) -> Item:
    item = Item(line=el.sourceline or 0)
    simple = {
        "title": "title",
        "link": "link",
        "guid": "guid",
        "dc:creator": "creator",
        "content:encoded": "content",
        "excerpt:encoded": "excerpt",
        "wp:post_id": "wp_id",
        "wp:post_type": "post_type",
        "wp:post_name": "post_name",
        "wp:post_date": "post_date",
        "wp:post_date_gmt": "post_date_gmt",
        "wp:status": "status",
        "wp:post_parent": "parent_id",
        "wp:menu_order": "menu_order",
        "wp:is_sticky": "is_sticky",
        "wp:comment_status": "comment_status",
        "wp:ping_status": "ping_status",
        "wp:post_password": "password",
        "wp:attachment_url": "attachment_url",
    }
    for child in el:
        ns, local = _key(child.tag)
        name = f"{ns}:{local}" if ns else local
        if name in simple:
            value = _text(child)
            attr = simple[name]
            setattr(item, attr, value if attr in ("content", "excerpt", "title") else value.strip())
        elif name == "category":
            item.terms.append(
                ItemTerm(
                    taxonomy=(child.get("domain") or "category").strip(),
                    slug=(child.get("nicename") or "").strip(),
                    name=_text(child).strip(),
                )
            )
        elif name == "wp:comment":
            item.comments.append(_comment(child))
        elif name == "wp:postmeta":
            values = _children(child)
            item.meta.setdefault(values.get("wp:meta_key", ""), values.get("wp:meta_value", ""))
            if values.get("wp:meta_key") == "_wp_old_slug" and values.get("wp:meta_value", "").strip():
                item.old_slugs.append(values["wp:meta_value"].strip())
            if values.get("wp:meta_key") == META_REDIRECT and values.get("wp:meta_value", "").strip():
                item.old_paths.append(values["wp:meta_value"].strip())
    item.post_type = item.post_type or "post"
    return item


def read_wxr(
    path: str | os.PathLike, *, on_progress: Callable[[int, int], None] | None = None
) -> Iterator[Record]:
    """Yield the Channel first, then Authors, Terms and Items in file order.

    Raises WXRError for malformed XML, a DOCTYPE, or a document that is not a WXR export.
    `on_progress(bytes_read, total_bytes)` is called as the file is read.
    """
    path = Path(path)
    total = path.stat().st_size
    progress = (lambda done: on_progress(done, total)) if on_progress else None
    state = _ReadState()
    with open(path, "rb") as raw:
        events = etree.iterparse(
            _CountingReader(raw, progress),
            events=("start", "end"),
            resolve_entities=False,
            no_network=True,
            load_dtd=False,
            huge_tree=False,
            remove_comments=True,
            remove_pis=True,
        )
        try:
            for event, el in events:
                yield from state.step(event, el, path)
        except etree.XMLSyntaxError as exc:
            line, column = exc.position if exc.position else (None, None)
            message = (exc.msg or str(exc)).split(", line ")[0]
            raise WXRError(f"malformed XML: {message}", max(line or 1, 1), max(column or 1, 1)) from None
    if state.channel_el is None:
        raise WXRError("not a WordPress export (WXR): no <channel> element", 1, 1)
    if not state.channel_yielded:
        _check_channel(state.channel, state.saw_wp, state.channel_el, path)
        yield state.channel


class _ReadState:
    """Where the streaming parse stands: depth, the <channel> element, what has been yielded."""

    def __init__(self):
        self.channel = Channel()
        self.channel_el = None
        self.channel_yielded = False
        self.saw_wp = False
        self.depth = 0

    def step(self, event: str, el, path: Path) -> Iterator[Record]:
        """One parser event: yields the records it completes (the Channel before the first)."""
        if event == "start":
            self.depth += 1
            if self.depth == 1:
                _check_root(el, path)
            elif self.depth == 2 and self.channel_el is None and _key(el.tag) == ("", "channel"):
                self.channel_el = el
            return
        self.depth -= 1
        if self.channel_el is None or el.getparent() is not self.channel_el:
            if self.depth == 0 and self.channel_el is None:
                raise WXRError(
                    "not a WordPress export (WXR): the RSS document has no <channel>", el.sourceline, 1
                )
            return
        record = self._record(el)
        if record is not None:
            if not self.channel_yielded:
                _check_channel(self.channel, self.saw_wp, el, path)
                self.channel_yielded = True
                yield self.channel
            yield record
        # Throw away what has been read so memory stays bounded.
        el.clear()
        while el.getprevious() is not None:
            del self.channel_el[0]

    def _record(self, el) -> Record | None:
        """A direct child of <channel>: a record, or a header field kept on the Channel."""
        ns, local = _key(el.tag)
        if ns == "wp":
            self.saw_wp = True
            if local in ("wxr_version", "base_site_url", "base_blog_url"):
                setattr(self.channel, local, (el.text or "").strip())
            elif local == "author":
                return _author(el)
            elif local in ("category", "tag", "term"):
                return _term(el, local)
        elif ns == "" and local in ("title", "link", "language"):
            setattr(self.channel, local, (el.text or "").strip())
        elif ns == "" and local == "item":
            return _item(el)
        return None


def _check_root(el, path: Path) -> None:
    info = el.getroottree().docinfo
    if info.doctype or info.internalDTD is not None or info.externalDTD is not None:
        raise WXRError(
            "a DOCTYPE is not allowed in a WordPress export (entities are refused)",
            *_find_in_head(path, "<!DOCTYPE"),
        )
    ns, local = _key(el.tag)
    if (ns, local) != ("", "rss"):
        line = el.sourceline or 1
        raise WXRError(
            f"not a WordPress export (WXR): the document starts with <{local}>, not <rss>",
            line,
            _column_of(path, line, f"<{el.prefix + ':' if el.prefix else ''}{local}"),
        )


def _check_channel(channel: Channel, saw_wp: bool, el, path: Path) -> None:
    if not saw_wp or not channel.wxr_version:
        line = el.sourceline or 1
        raise WXRError(
            "not a WordPress export (WXR): the channel has no wp:wxr_version",
            line,
            _column_of(path, line, "<"),
        )
    if channel.wxr_version not in SUPPORTED_VERSIONS:
        raise WXRError(
            f"unsupported WXR version {channel.wxr_version!r} (supported: 1.0, 1.1, 1.2)",
            el.sourceline or 1,
            1,
        )
