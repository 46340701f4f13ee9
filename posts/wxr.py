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

import datetime as dt
import hashlib
import html
import ipaddress
import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit

from django.apps import apps
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.contrib.sites.models import Site
from django.db import reset_queries, transaction
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext
from lxml import etree

from core.markup import plain_text
from posts.importing import ImportNotes, importing
from posts.models import (
    AuthorProfile,
    Category,
    ImportRecord,
    MediaReference,
    Post,
    PostAuthor,
    Redirect,
    Tag,
)
from posts.redirects import normalize_path
from posts.wordpress import comment_markdown, linkback_excerpt, plain_title, post_body_markdown

_WP_NAMESPACE = re.compile(r"^https?://wordpress\.org/export/1\.[0-2]/$")
_EXCERPT_NAMESPACE = re.compile(r"^https?://wordpress\.org/export/1\.[0-2]/excerpt/$")
_OTHER_NAMESPACES = {
    "http://purl.org/rss/1.0/modules/content/": "content",
    "http://purl.org/dc/elements/1.1/": "dc",
    "http://wellformedweb.org/CommentAPI/": "wfw",
}
SUPPORTED_VERSIONS = {"1.0", "1.1", "1.2"}


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
    return CommentRecord(
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
    channel = Channel()
    channel_el = None
    channel_yielded = False
    saw_wp = False
    depth = 0
    with open(path, "rb") as raw:
        reader = _CountingReader(raw, progress)
        events = etree.iterparse(
            reader,
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
                if event == "start":
                    depth += 1
                    if depth == 1:
                        _check_root(el, path)
                    elif depth == 2 and channel_el is None and _key(el.tag) == ("", "channel"):
                        channel_el = el
                    continue
                depth -= 1
                if channel_el is None or el.getparent() is not channel_el:
                    if depth == 0 and channel_el is None:
                        raise WXRError(
                            "not a WordPress export (WXR): the RSS document has no <channel>",
                            el.sourceline,
                            1,
                        )
                    continue
                ns, local = _key(el.tag)
                record: Record | None = None
                if ns == "wp":
                    saw_wp = True
                    if local == "wxr_version":
                        channel.wxr_version = (el.text or "").strip()
                    elif local == "base_site_url":
                        channel.base_site_url = (el.text or "").strip()
                    elif local == "base_blog_url":
                        channel.base_blog_url = (el.text or "").strip()
                    elif local == "author":
                        record = _author(el)
                    elif local in ("category", "tag", "term"):
                        record = _term(el, local)
                elif ns == "" and local in ("title", "link", "language"):
                    setattr(channel, local, (el.text or "").strip())
                elif ns == "" and local == "item":
                    record = _item(el)
                if record is not None:
                    if not channel_yielded:
                        _check_channel(channel, saw_wp, el, path)
                        channel_yielded = True
                        yield channel
                    yield record
                # Throw away what has been read so memory stays bounded.
                el.clear()
                while el.getprevious() is not None:
                    del channel_el[0]
        except etree.XMLSyntaxError as exc:
            line, column = exc.position if exc.position else (None, None)
            message = (exc.msg or str(exc)).split(", line ")[0]
            raise WXRError(f"malformed XML: {message}", max(line or 1, 1), max(column or 1, 1)) from None
        if channel_el is None:
            raise WXRError("not a WordPress export (WXR): no <channel> element", 1, 1)
        if not channel_yielded:
            _check_channel(channel, saw_wp, channel_el, path)
            yield channel


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


# --- Importing into sectorblog ----------------------------------------------------------------
# Everything below writes through the ORM inside one transaction, driven by `wxr_import()`.
#
# How WordPress maps onto sectorblog:
# - Pages are Posts with is_page=True (one model, one publication rule, one redirect table);
#   they keep their slug and date, and their URL is whatever Post.get_absolute_url() gives.
# - Status: publish -> published; future -> published with its future date (scheduled);
#   draft -> draft; pending -> review; private, trash and password-protected -> draft, reported
#   (this site has no private or password-protected posts, and must not publish them).
# - Dates come from post_date_gmt (UTC); a zero GMT date falls back to post_date, and a draft
#   with a zero GMT date (WordPress's "not fixed yet") gets no publication date.
# - Sticky -> featured; comment_status/ping_status "open" -> allow_comments/allow_pings.
# - Attachments become MediaReference rows that keep the original file URL; nothing is fetched.
# - Comments keep their thread: every reply keeps its parent, however deep (the site draws
#   replies below COMMENTS_MAX_THREAD_LEVEL flat, as WordPress does). approved 1 -> public,
#   0 -> held, spam -> spam (not public), trash -> removed. Imported comments get a
#   duplicate_key derived from their WordPress ID, so two identical comments (say, two empty
#   ones) by one person both survive.
# - A post ID seen twice in one file: an identical repeat is skipped, a different item is kept
#   as a separate post; both are reported. Other post types (nav_menu_item, custom types) are
#   counted as skipped.

REPORT_KINDS = (
    "author",
    "category",
    "tag",
    "post",
    "page",
    "attachment",
    "comment",
    "pingback",
    "trackback",
    "redirect",
)
OUTCOMES = ("imported", "updated", "skipped", "warnings")


@dataclass
class ImportReport:
    """What an import did, by kind: imported, updated, skipped, warnings; and the warning lines."""

    counts: dict[str, dict[str, int]] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    dry_run: bool = False
    source: str = ""
    notifications: ImportNotes = field(default_factory=ImportNotes)
    authors: list[str] = field(default_factory=list)

    def count(self, kind: str, outcome: str) -> None:
        row = self.counts.setdefault(kind, dict.fromkeys(OUTCOMES, 0))
        row[outcome] += 1

    def warn(self, kind: str, message: str) -> None:
        self.count(kind, "warnings")
        self.warnings.append(f"{kind}: {message}")

    def author(self, login: str, user, how: str) -> None:
        """Say which local account a WordPress login's posts went to, and why."""
        self.authors.append(f"{login} -> {user.get_username()} ({how})")

    def get(self, kind: str, outcome: str) -> int:
        return self.counts.get(kind, {}).get(outcome, 0)

    def table(self) -> str:
        kinds = [k for k in REPORT_KINDS if k in self.counts] + sorted(
            k for k in self.counts if k not in REPORT_KINDS
        )
        width = max([len("kind"), *(len(k) for k in kinds)])
        lines = [f"{'kind':<{width}}  " + "  ".join(f"{o:>8}" for o in OUTCOMES)]
        lines.append("-" * len(lines[0]))
        for kind in kinds:
            row = self.counts[kind]
            lines.append(f"{kind:<{width}}  " + "  ".join(f"{row[o]:>8}" for o in OUTCOMES))
        return "\n".join(lines)

    def notification_lines(self) -> list[str]:
        """What the import did not send, and why: it is a move, not a new publication."""
        notes = self.notifications
        lines = [
            "Nothing was sent: no pingbacks, trackbacks, webmentions or WebSub pings, and no emails "
            "(the old blog notified everyone when it first published).",
            f"{_counted(notes.links_known, 'link')} in {_counted(notes.posts_with_links, 'published post')} "
            "recorded as already notified; a later edit notifies only the links it adds.",
        ]
        if notes.scheduled:
            lines.append(
                f"{_counted(notes.scheduled, 'scheduled post')} will notify the pages "
                f"{'it links' if notes.scheduled == 1 else 'they link'} to when "
                f"{'it goes' if notes.scheduled == 1 else 'they go'} live."
            )
        return lines


def _counted(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"


def wxr_import(
    *,
    path: str | os.PathLike,
    dry_run: bool = False,
    author_map: dict[str, str] | None = None,
    default_author: str | None = None,
    on_progress: Callable[[int, int], None] | None = None,
) -> ImportReport:
    """Import a WXR file in one transaction; with `dry_run` the transaction is rolled back.

    Raises WXRError (nothing written) for malformed or non-WXR input, and LookupError when a user
    named by `author_map` or `default_author` does not exist.
    """
    report = ImportReport(dry_run=dry_run)
    with transaction.atomic(), importing() as notes:
        report.notifications = notes
        importer = Importer(report=report, author_map=author_map or {}, default_author=default_author)
        for record in read_wxr(path, on_progress=on_progress):
            importer.handle(record, file_name=Path(path).name)
            # With DEBUG on, Django keeps every query's SQL; a long import must not hoard them.
            reset_queries()
        importer.finish()
        if dry_run:
            transaction.set_rollback(True)
    return report


def _wp_datetime(value: str) -> dt.datetime | None:
    """A WXR date ("2013-01-11 20:22:19"; all zeros means unset) as an aware UTC datetime."""
    value = (value or "").strip()
    if not value or value.startswith("0000"):
        return None
    try:
        return dt.datetime.strptime(value[:19], "%Y-%m-%d %H:%M:%S").replace(tzinfo=dt.UTC)
    except ValueError:
        return None


def _clip(report: ImportReport, kind: str, what: str, value: str, limit: int) -> str:
    if len(value) <= limit:
        return value
    report.warn(kind, f"{what} cut to {limit} characters: {value[:40]!r}…")
    return value[:limit]


def _valid_ip(value: str) -> str | None:
    try:
        return str(ipaddress.ip_address(value.strip()))
    except ValueError:
        return None


_SLUG_OK = re.compile(r"^[-\w]+$")
_STATUS_KINDS = {"publish", "future", "draft", "pending", "private", "trash"}


class Importer:
    """Turns WXR records into rows. One instance per run; see `wxr_import()`."""

    def __init__(self, *, report: ImportReport, author_map: dict[str, str], default_author: str | None):
        self.report = report
        self.User = get_user_model()
        self.author_map = {old: self._existing_user(new) for old, new in author_map.items()}
        self.default_author = self._existing_user(default_author) if default_author else None
        self.source = ""
        self.prefix = ""
        self.authors: dict[str, object] = {}
        self.moved_authors: dict[int, object] = {}  # earlier run's account pk -> --author-map's
        self.authors_by_wp_id: dict[str, object] = {}
        self.categories: dict[str, object] = {}
        self.tags: dict[str, object] = {}
        self.category_parents: list[tuple[object, str]] = []
        self.seen: dict[tuple[str, str], list[int]] = {}
        self.posts_by_wp_id: dict[str, int] = {}  # ids only: memory must not grow with the file
        self.attachments: list[tuple[int, str, str, str]] = []
        self.comment_ids: dict[str, int] = {}  # WordPress comment ID -> times seen in this file
        self.post_type = ContentType.objects.get_for_model(Post)
        self.site = Site.objects.get_current()
        self.Comment = apps.get_model("comments", "Comment")
        self.max_stored_level = settings.COMMENTS_XTD_MAX_THREAD_LEVEL  # xtd refuses deeper

    def _existing_user(self, username: str):
        user = self.User.objects.filter(username=username).first()
        if user is None:
            raise LookupError(f"no user named {username!r} on this site")
        return user

    # --- provenance -------------------------------------------------------------------------

    def _recorded(self, kind: str, wp_id: str, model):
        record = ImportRecord.objects.filter(source=self.source, kind=kind, wp_id=wp_id).first()
        if record is None:
            return None
        return model._default_manager.filter(pk=record.object_id).first()

    def _remember(self, kind: str, wp_id: str, obj) -> None:
        """Record where a WordPress object went (a plain update, else an insert: no savepoint)."""
        target = {"content_type": ContentType.objects.get_for_model(obj), "object_id": str(obj.pk)}
        mine = ImportRecord.objects.filter(source=self.source, kind=kind, wp_id=wp_id)
        if not mine.exclude(**target).update(**target) and not mine.exists():
            ImportRecord.objects.create(source=self.source, kind=kind, wp_id=wp_id, **target)

    # --- dispatch ---------------------------------------------------------------------------

    def handle(self, record: Record, *, file_name: str = "") -> None:
        if isinstance(record, Channel):
            site = record.base_blog_url or record.link
            self.source = (site.rstrip("/") if site else f"file:{file_name}")[:500]
            self.prefix = urlsplit(site).path.rstrip("/") if site else ""
            self.report.source = self.source
        elif isinstance(record, Author):
            self._author(record)
        elif isinstance(record, Term):
            self._term(record)
        elif isinstance(record, Item):
            self._item(record)

    # --- authors ----------------------------------------------------------------------------

    def _author(self, author: Author) -> None:
        if not author.login:
            self.report.warn("author", "an author without a login was skipped")
            return
        user = self._user_for(author.login, author=author)
        if author.wp_id and user is not None:
            self.authors_by_wp_id[author.wp_id] = user
        if user is None:
            return
        # ?author=<id> and the author archive, which moves when the account's login differs.
        ours = normalize_path(f"/author/{user.get_username()}/")
        paths = self._old_paths(f"/?author={author.wp_id}") if author.wp_id.isdigit() else []
        for path in paths + self._old_paths(f"/author/{quote(author.login)}/", ours=ours):
            self._redirect(path, author=user)

    def _user_for(self, login: str, *, author: Author | None = None):
        """The local user for a WordPress login: the author map, else the account an earlier run of
        this import chose, else a new account.

        An account that merely has the same login is never taken over: it may be this site's
        staff (WordPress's "admin" is not ours). The new account gets a free login instead, and the
        summary says how to attach the posts to the existing account (`--author-map`).
        """
        if login in self.authors:
            return self.authors[login]
        previous = self._recorded("author", login, self.User)
        if login in self.author_map:
            user = self.author_map[login]
            moved = previous is not None and previous.pk != user.pk
            if moved:
                # Mapped on this run, not the last: what the last run imported moves over.
                self.moved_authors[previous.pk] = user
            self.report.count("author", "updated" if moved else "skipped")
            self.report.author(login, user, "existing account, --author-map")
            self._remember("author", login, user)
            self.authors[login] = user
            return user
        if author is None and self.authors:
            # The file lists its authors and this login is not one of them.
            cleaned = login.strip("<>[]()\"' \t")
            if cleaned in self.authors:
                self.report.warn("author", f"post author {login!r} read as {cleaned!r}")
                self.authors[login] = self.authors[cleaned]
                return self.authors[cleaned]
        if author is None and self.default_author is not None:
            self.authors[login] = self.default_author
            return self.default_author
        if author is None and self.authors:
            self.report.warn("author", f"post author {login!r} is not among the file's authors; added")
        author = author or Author(login=login)
        user = previous
        if user is not None:
            self.report.count("author", "skipped")
            self.report.author(login, user, "the account an earlier import chose")
        else:
            username, how = self._free_username(login)
            user = self.User(
                username=username,
                email=author.email[:254],
                first_name=author.first_name[:150],
                last_name=author.last_name[:150],
                is_staff=False,
            )
            user.set_unusable_password()
            user.save()
            self.report.count("author", "imported")
            self.report.author(login, user, how)
        profile, created = AuthorProfile.objects.get_or_create(
            user=user, defaults={"display_name": author.display_name[:100]}
        )
        if not created and not profile.display_name and author.display_name:
            profile.display_name = author.display_name[:100]
            profile.save(update_fields=["display_name"])
        self._remember("author", login, user)
        self.authors[login] = user
        return user

    def _free_username(self, login: str) -> tuple[str, str]:
        """A login for a new account, and how it was chosen: the WordPress login itself, or with a
        number added when an existing account has it (reported)."""
        wanted = login[:150]
        taken = self.User.objects.filter(username=wanted).first()
        if taken is None:
            return wanted, "new account"
        number = 2
        while self.User.objects.filter(username=(candidate := f"{wanted[:145]}-{number}")).exists():
            number += 1
        kind = "staff account" if taken.is_staff or taken.is_superuser else "account"
        self.report.warn(
            "author",
            f"WordPress login {login!r} is taken here by an existing {kind}, which was left alone; "
            f"the posts and comments of {login!r} go to a new account {candidate!r}. To attach them "
            f"to the existing account instead, import with --author-map {login}={wanted}",
        )
        return candidate, f"new account; {wanted!r} here is an existing {kind}, left alone"

    def _move_authorship(self, post, user) -> bool:
        """Hand a post over from the account an earlier run chose to the one --author-map names."""
        earlier = [pk for pk, new in self.moved_authors.items() if new.pk == user.pk]
        if not earlier:
            return False
        rows = PostAuthor.objects.filter(post=post, user_id__in=earlier)
        if PostAuthor.objects.filter(post=post, user=user).exists():
            return bool(rows.delete()[0])
        return bool(rows.update(user=user))

    # --- categories and tags ----------------------------------------------------------------

    def _term(self, term: Term) -> None:
        if term.taxonomy == "category":
            category = self._taxonomy_object("category", term.slug, term.name, term.description, term.wp_id)
            if category is not None and term.parent_slug:
                self.category_parents.append((category, unquote(term.parent_slug)))
        elif term.taxonomy in ("post_tag", "tag"):
            self._taxonomy_object("tag", term.slug, term.name, term.description, term.wp_id)
        else:
            self.report.count(f"term ({term.taxonomy or 'unknown'})", "skipped")

    def _taxonomy_object(self, kind: str, slug: str, name: str, description: str = "", wp_id: str = ""):
        model = Category if kind == "category" else Tag
        cache = self.categories if kind == "category" else self.tags
        name = html.unescape(name).strip()
        slug = unquote(slug).strip() or slugify(name, allow_unicode=True)
        if not _SLUG_OK.match(slug or "-!"):
            slug = slugify(slug, allow_unicode=True)
        if not slug:
            self.report.warn(kind, f"{name!r} has no usable slug and was skipped")
            return None
        slug = _clip(self.report, kind, "slug", slug, 100)
        if slug in cache:
            return cache[slug]
        name = _clip(self.report, kind, "name", name or slug, 100)
        description = html.unescape(description)
        key = wp_id or f"slug:{slug}"
        obj = self._recorded(kind, key, model)
        if obj is None and (obj := model.objects.filter(slug=slug).first()) is not None:
            # Already on this site (by hand or from another blog): use it as it is.
            self.report.count(kind, "skipped")
        elif obj is None:
            obj = model.objects.create(name=name, slug=slug, description=description)
            self.report.count(kind, "imported")
        else:
            changed = False
            if obj.name != name:
                obj.name, changed = name, True
            if description and obj.description != description:
                obj.description, changed = description, True
            if changed:
                obj.save()
            self.report.count(kind, "updated" if changed else "skipped")
        self._remember(kind, key, obj)
        cache[slug] = obj
        if kind == "category" and wp_id.isdigit():
            for path in self._old_paths(f"/?cat={wp_id}"):
                self._redirect(path, category=obj)
        elif kind == "tag":
            ours = normalize_path(obj.get_absolute_url())
            for path in self._old_paths(f"/?tag={quote(slug)}") + self._old_paths(f"/tag/{slug}/", ours=ours):
                self._redirect(path, tag=obj)
        return obj

    def _item_taxonomy(self, item: Item) -> tuple[list, list]:
        categories, tags = [], []
        for term in item.terms:
            taxonomy = term.taxonomy.lower()
            if taxonomy == "category":
                slug = term.slug or slugify(html.unescape(term.name), allow_unicode=True)
                found = self.categories.get(unquote(slug)) or self._taxonomy_object(
                    "category", slug, term.name
                )
                if found is not None:
                    categories.append(found)
            elif taxonomy in ("post_tag", "tag"):
                slug = term.slug or slugify(html.unescape(term.name), allow_unicode=True)
                found = self.tags.get(unquote(slug)) or self._taxonomy_object("tag", slug, term.name)
                if found is not None:
                    tags.append(found)
        return list(dict.fromkeys(categories)), list(dict.fromkeys(tags))

    # --- items ------------------------------------------------------------------------------

    def _item(self, item: Item) -> None:
        post_type = item.post_type
        if post_type in ("post", "page"):
            kind = "post"
        elif post_type == "attachment":
            kind = "attachment"
        else:
            self.report.count(post_type, "skipped")
            return
        report_kind = "page" if post_type == "page" else post_type
        if not item.wp_id.isdigit():
            self.report.warn(report_kind, f"item at line {item.line} has no numeric wp:post_id; skipped")
            return
        fingerprint = hash((post_type, item.post_name, item.title, item.post_date, item.link))
        earlier = self.seen.setdefault((kind, item.wp_id), [])
        key = item.wp_id
        if earlier:
            if fingerprint in earlier:
                self.report.warn(
                    report_kind,
                    f"duplicate ID {item.wp_id} at line {item.line} repeats an earlier item; skipped",
                )
                self.report.count(report_kind, "skipped")
                return
            key = f"{item.wp_id}#{len(earlier) + 1}"
            self.report.warn(
                report_kind,
                f"duplicate ID {item.wp_id} at line {item.line} ({item.title or item.post_name!r}): "
                f"imported as a separate {report_kind}",
            )
        earlier.append(fingerprint)
        if kind == "attachment":
            self._attachment(item, key)
        else:
            self._post(item, key)

    def _status(self, item: Item, kind: str) -> tuple[str, bool]:
        """(our status, whether it is a known WordPress status)."""
        status = item.status or "publish"
        if status in ("publish", "future"):
            return Post.Status.PUBLISHED, True
        if status == "pending":
            return Post.Status.REVIEW, True
        if status == "private":
            self.report.warn(
                kind, f"{item.post_name or item.wp_id}: private in WordPress, imported as a draft"
            )
            return Post.Status.DRAFT, True
        if status == "trash":
            self.report.warn(
                kind, f"{item.post_name or item.wp_id}: in WordPress's trash, imported as a draft"
            )
            return Post.Status.DRAFT, True
        return Post.Status.DRAFT, status == "draft"

    def _post(self, item: Item, key: str) -> None:
        is_page = item.post_type == "page"
        kind = "page" if is_page else "post"
        if item.status in ("auto-draft", "inherit"):
            self.report.count(kind, "skipped")
            return
        status, known = self._status(item, kind)
        if not known:
            self.report.warn(
                kind, f"{item.post_name or item.wp_id}: unknown status {item.status!r}, imported as a draft"
            )
        label = item.post_name or f"ID {item.wp_id}"
        if item.password:
            status = Post.Status.DRAFT
            self.report.warn(kind, f"{label}: password-protected in WordPress, imported as a draft")
        title = plain_title(item.title)
        if not title:
            title = gettext("(no title)")
            self.report.warn(kind, f"{label}: empty title, shown as {title!r}")
        title = _clip(self.report, kind, "title", title, 300)
        slug = unquote(item.post_name).strip()
        if slug and not _SLUG_OK.match(slug):
            fixed = slugify(slug, allow_unicode=True)
            self.report.warn(kind, f"slug {slug!r} is not a valid URL slug here; using {fixed!r}")
            slug = fixed
        slug = _clip(self.report, kind, "slug", slug, 200)
        gmt, local = _wp_datetime(item.post_date_gmt), _wp_datetime(item.post_date)
        when = gmt or local
        published_at = when if status == Post.Status.PUBLISHED or gmt else None
        if status == Post.Status.PUBLISHED and when is None:
            self.report.warn(kind, f"{label}: no date in the file; dated now")
        conversion = post_body_markdown(item.content)
        for code in dict.fromkeys(conversion.unrendered_shortcodes):
            self.report.warn(kind, f"{label}: shortcode {code} cannot be rendered; left visible as text")
        values = {
            "title": title,
            "body": conversion.markdown,
            "excerpt": plain_text(item.excerpt or ""),
            "status": status,
            "published_at": published_at,
            "allow_comments": item.comment_status == "open",
            "allow_pings": item.ping_status == "open",
            "featured": item.is_sticky == "1",
            "is_page": is_page,
        }
        post = self._recorded("post", key, Post)
        if slug:
            values["slug"] = self._free_slug(slug, published_at, post, kind)
        if post is None:
            post = Post(**values)
            post.save()
            if when is not None:
                Post.objects.filter(pk=post.pk).update(created_at=local or when)
            self._remember("post", key, post)
            outcome = "imported"
        else:
            changed = [name for name, value in values.items() if getattr(post, name) != value]
            for name in changed:
                setattr(post, name, values[name])
            if changed:
                post.save()
            outcome = "updated" if changed else "skipped"
        categories, tags = self._item_taxonomy(item)
        if {c.pk for c in categories} != set(post.categories.values_list("pk", flat=True)):
            post.categories.set(categories)
            outcome = "updated" if outcome == "skipped" else outcome
        if {t.pk for t in tags} != set(post.tags.values_list("pk", flat=True)):
            post.tags.set(tags)
            outcome = "updated" if outcome == "skipped" else outcome
        user = self._user_for(item.creator) if item.creator else self.default_author
        if user is not None and self._move_authorship(post, user) and outcome == "skipped":
            outcome = "updated"
        if user is not None and not PostAuthor.objects.filter(post=post, user=user).exists():
            if outcome == "skipped":
                outcome = "updated"
            PostAuthor.objects.create(
                post=post, user=user, position=PostAuthor.objects.filter(post=post).count()
            )
        elif user is None:
            self.report.warn(kind, f"{label}: no author in the file and no --default-author")
        self.report.count(kind, outcome)
        if "#" not in key:
            self.posts_by_wp_id[item.wp_id] = post.pk
        self._redirects(post, item, key)
        self._comments(post, item)

    def _free_slug(self, slug: str, published_at, post, kind: str) -> str:
        """The slug itself, or with a number added when another post has it on the same day."""
        if published_at is None:
            return slug
        day = published_at.date()
        candidate, number = slug, 1
        others = Post.objects.filter(published_at__date=day)
        if post is not None:
            others = others.exclude(pk=post.pk)
        while others.filter(slug=candidate).exists():
            number += 1
            candidate = f"{slug[: 200 - len(str(number)) - 1]}-{number}"
        if candidate != slug:
            self.report.warn(kind, f"slug {slug!r} is taken on {day}; using {candidate!r}")
        return candidate

    # --- redirects --------------------------------------------------------------------------

    def _redirects(self, post, item: Item, key: str) -> None:
        old = [item.link]
        if "#" not in key:
            # The blog's own ?p= links, and the same at the root for a blog moved out of a folder.
            for prefix in dict.fromkeys((self.prefix, "")):
                old.append(f"{prefix}/?p={item.wp_id}")
                if item.post_type == "page":
                    old.append(f"{prefix}/?page_id={item.wp_id}")
        if item.guid and re.search(r"[?&](p|page_id)=\d+", item.guid):
            old.append(item.guid)
        # WordPress answers a post's earlier slugs (`_wp_old_slug`) at its permalink structure.
        link = normalize_path(item.link) or ""
        slug = unquote(item.post_name).strip()
        if slug and link.endswith(f"/{slug}/"):
            old.extend(f"{link[: -len(slug) - 1]}{unquote(former)}/" for former in item.old_slugs)
        for url in old:
            path = normalize_path(url)
            if path:
                self._redirect(path, post=post)

    def _redirect(self, path: str, **target) -> None:
        """Store one old path, pointing at a post, category, tag or author (one keyword)."""
        ((field_name, obj),) = target.items()
        existing = Redirect.objects.filter(old_path=path).first()
        if existing is None:
            Redirect.objects.create(old_path=path, **target)
            self.report.count("redirect", "imported")
        elif getattr(existing, f"{field_name}_id") == obj.pk:
            self.report.count("redirect", "skipped")
        else:
            self.report.warn("redirect", f"{path} already redirects elsewhere; kept the earlier target")

    def _old_paths(self, path: str, *, ours: str = "") -> list[str]:
        """An old path of the blog, in its folder and at the root (for a blog moved out of its
        folder), normalised, without the one that is already `ours`."""
        found = (normalize_path(p) for p in dict.fromkeys((f"{self.prefix}{path}", path)))
        return [p for p in dict.fromkeys(found) if p and p != ours]

    # --- comments ---------------------------------------------------------------------------

    def _comments(self, post, item: Item) -> None:
        if not item.comments:
            return
        by_id = {c.wp_id: c for c in item.comments if c.wp_id}
        children: dict[str, list[CommentRecord]] = {}
        for comment in item.comments:
            parent = comment.parent_id if comment.parent_id in by_id else "0"
            if comment.parent_id not in ("0", "") and parent == "0":
                self.report.warn(
                    "comment",
                    f"comment {comment.wp_id} replies to {comment.parent_id}, "
                    "which is not in this post; kept at top level",
                )
            children.setdefault(parent, []).append(comment)
        for siblings in children.values():
            siblings.sort(key=lambda c: (c.date_gmt or c.date, int(c.wp_id) if c.wp_id.isdigit() else 0))
        placed: dict[str, tuple[int, int, str]] = {}  # wp id -> (our pk, level, wp parent id)
        stack = list(reversed(children.get("0", [])))
        while stack:
            comment = stack.pop()
            self._comment(post, comment, placed)
            stack.extend(reversed(children.get(comment.wp_id, [])))

    def _comment(self, post, record: CommentRecord, placed: dict) -> None:
        Comment = self.Comment
        kind = {"": "comment", "comment": "comment", "pingback": "pingback", "trackback": "trackback"}.get(
            record.type
        )
        if kind is None:
            self.report.warn(
                "comment", f"comment {record.wp_id} has type {record.type!r}; imported as a comment"
            )
            kind = "comment"
        if not record.wp_id:
            self.report.warn(kind, "a comment without wp:comment_id was skipped")
            return
        key = record.wp_id
        repeats = self.comment_ids.get(key, 0)
        self.comment_ids[key] = repeats + 1
        if repeats:
            key = f"{record.wp_id}#{repeats + 1}"
            self.report.warn(
                kind, f"duplicate comment ID {record.wp_id} on {post.slug!r}; imported separately"
            )
        approved = record.approved.lower()
        values = {
            "kind": kind,
            "user_name": (
                _clip(self.report, kind, "author name", html.unescape(record.author), 50)
                if kind == "comment"
                else html.unescape(record.author)[:50]
            ),
            "user_email": record.email[:254],
            "user_url": record.url if len(record.url) <= 200 else "",
            "ip_address": _valid_ip(record.ip),
            "submit_date": _wp_datetime(record.date_gmt) or _wp_datetime(record.date) or post.published_at,
            "is_public": approved in ("1", "approve"),
            "is_spam": approved == "spam",
            "is_removed": approved in ("trash", "post-trashed"),
        }
        if values["submit_date"] is None:
            values["submit_date"] = timezone.now()
        if kind == "comment":
            values["comment"] = comment_markdown(record.content)
            if not values["comment"]:
                self.report.warn(kind, f"comment {record.wp_id} on {post.slug!r} is empty")
        else:
            excerpt = linkback_excerpt(record.content)
            values.update(
                comment=excerpt,
                excerpt=excerpt,
                source_url=record.url[:2000],
                source_title=html.unescape(record.author)[:300],
            )
        if record.user_id not in ("", "0") and record.user_id in self.authors_by_wp_id:
            values["user"] = self.authors_by_wp_id[record.user_id]
        existing = self._recorded("comment", key, Comment)
        if existing is not None:
            changed = [name for name, value in values.items() if getattr(existing, name) != value]
            for name in changed:
                setattr(existing, name, values[name])
            if changed:
                existing.save()
            self.report.count(kind, "updated" if changed else "skipped")
            placed[record.wp_id] = (existing.pk, existing.level, record.parent_id)
            return
        if (
            kind != "comment"
            and Comment.objects.filter(post=post, source_url=values["source_url"])
            .exclude(kind="comment")
            .exists()
        ):
            self.report.warn(
                kind, f"{kind} {record.wp_id} from {values['source_url']!r} repeats an earlier one; skipped"
            )
            self.report.count(kind, "skipped")
            return
        # The reply keeps its true parent at any depth; how deep a thread is drawn is the
        # renderer's business (COMMENTS_MAX_THREAD_LEVEL), as in WordPress.
        parent_pk, parent_level, _grandparent = placed.get(record.parent_id, (0, -1, ""))
        if parent_pk and parent_level >= self.max_stored_level:
            self.report.warn(kind, f"comment {record.wp_id} is nested too deep to store; kept at top level")
            parent_pk = 0
        digest = hashlib.sha256(f"wxr\x1f{self.source}\x1f{key}".encode()).hexdigest()
        comment = Comment(
            content_type=self.post_type,
            object_pk=str(post.pk),
            site=self.site,
            parent_id=parent_pk,
            duplicate_key=digest if kind == "comment" else "",
            **values,
        )
        comment.save()
        placed[record.wp_id] = (comment.pk, comment.level, record.parent_id)
        self._remember("comment", key, comment)
        self.report.count(kind, "imported")

    # --- attachments ------------------------------------------------------------------------

    def _attachment(self, item: Item, key: str) -> None:
        if item.comments:
            self.report.warn(
                "attachment", f"attachment {item.wp_id} has {len(item.comments)} comment(s), not imported"
            )
        url = (item.attachment_url or item.guid).strip()
        if not url:
            self.report.warn("attachment", f"attachment {item.wp_id} has no URL; skipped")
            return
        values = {
            "original_url": url[:2000],
            "page_url": item.link[:2000],
            "title": plain_text(item.title)[:300],
            "caption": plain_text(item.excerpt or ""),
            "alt_text": item.meta.get("_wp_attachment_image_alt", "")[:500],
            "wp_parent_id": int(item.parent_id)
            if item.parent_id.isdigit() and item.parent_id != "0"
            else None,
            "uploaded_at": _wp_datetime(item.post_date_gmt) or _wp_datetime(item.post_date),
        }
        media = self._recorded("attachment", key, MediaReference)
        if media is None:
            media = MediaReference.objects.create(**values)
            self._remember("attachment", key, media)
            outcome = "imported"
        else:
            changed = [name for name, value in values.items() if getattr(media, name) != value]
            for name in changed:
                setattr(media, name, values[name])
            if changed:
                media.save()
            outcome = "updated" if changed else "skipped"
        self.report.count("attachment", outcome)
        if values["wp_parent_id"]:
            self.attachments.append(
                (media.pk, str(values["wp_parent_id"]), item.link, item.wp_id if "#" not in key else "")
            )

    def _category_paths(self) -> None:
        """WordPress nests a sub-category's archive under its parents' slugs
        (`/category/parent/child/`), here it is `/category/child/`: keep the old paths answering."""
        if not self.categories:
            return
        parents = dict(Category.objects.values_list("pk", "parent_id"))
        slugs = dict(Category.objects.values_list("pk", "slug"))
        for category in self.categories.values():
            chain, pk, seen = [], category.pk, set()
            while pk is not None and pk not in seen:  # a loop in the parents stops the walk
                seen.add(pk)
                chain.append(slugs[pk])
                pk = parents.get(pk)
            nested = "/".join(reversed(chain))
            ours = normalize_path(category.get_absolute_url())
            for path in self._old_paths(f"/category/{nested}/", ours=ours):
                self._redirect(path, category=category)

    # --- after the last record --------------------------------------------------------------

    def finish(self) -> None:
        from posts.models import Category, MediaReference, Post

        for category, parent_slug in self.category_parents:
            parent = self.categories.get(parent_slug) or Category.objects.filter(slug=parent_slug).first()
            if parent is None:
                self.report.warn("category", f"{category.slug}: parent {parent_slug!r} not found")
            elif parent.pk != category.parent_id and parent.pk != category.pk:
                Category.objects.filter(pk=category.pk).update(parent=parent)
        self._category_paths()
        for media_pk, wp_parent, page_url, wp_id in self.attachments:
            post_pk = self.posts_by_wp_id.get(wp_parent)
            post = (
                Post.objects.filter(pk=post_pk).first()
                if post_pk
                else self._recorded("post", wp_parent, Post)
            )
            if post is None:
                continue
            MediaReference.objects.filter(pk=media_pk).exclude(post=post).update(post=post)
            for url in (page_url, f"{self.prefix}/?attachment_id={wp_id}" if wp_id else ""):
                path = normalize_path(url) if url else None
                if path:
                    self._redirect(path, post=post)
