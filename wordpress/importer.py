"""Importing a WordPress export (WXR) into sectorblog: authors, taxonomy, posts and pages,
attachments, comments with their threads and linkbacks, and redirects from the old URLs.

The records come from the streaming reader (wordpress/reader.py); this module writes them
through the ORM in one transaction (`wxr_import()`), into posts' tables and the comments app's.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import html
import ipaddress
import json
import os
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.contrib.sites.models import Site
from django.db import reset_queries, transaction
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext

from comments.bulk import threads_insert
from comments.linkbacks.icons import source_icons_queue
from comments.models import Comment
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
from posts.oldurls import normalize_path
from wordpress.content import comment_markdown, linkback_excerpt, plain_title, post_body_markdown
from wordpress.media import ImageImport
from wordpress.reader import (
    LINKBACK_FIELDS,
    META_AUTHORS,
    META_FEATURED,
    META_HANDLE,
    META_KIND,
    META_LANGUAGE,
    META_LINKBACK,
    META_MARKDOWN,
    META_TRANSLATION,
    META_TRASH_STATUS,
    Author,
    Channel,
    CommentRecord,
    Item,
    Record,
    Term,
    read_wxr,
)

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
    "image",
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
    media: str = ""  # why images were not downloaded ("--no-media", "dry run"), or ""

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

    def media_lines(self) -> list[str]:
        """Whether images were downloaded, and if not, why."""
        if not self.media:
            return []
        return [
            f"Images were not downloaded ({self.media}): featured images are not set, and posts "
            "show library images from the old site's addresses."
        ]

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
    media: bool = True,
) -> ImportReport:
    """Import a WXR file in one transaction; with `dry_run` the transaction is rolled back.
    With `media` (and not a dry run), featured images and the library images posts show are
    downloaded from the old site (wordpress/media.py).

    Raises WXRError (nothing written) for malformed or non-WXR input, and LookupError when a user
    named by `author_map` or `default_author` does not exist.
    """
    report = ImportReport(dry_run=dry_run, media="--no-media" if not media else "dry run" if dry_run else "")
    with transaction.atomic(), importing() as notes:
        report.notifications = notes
        importer = Importer(report=report, author_map=author_map or {}, default_author=default_author)
        importer.images = ImageImport(report=report, enabled=media and not dry_run)
        for record in read_wxr(path, on_progress=on_progress):
            importer.handle(record, file_name=Path(path).name)
            # With DEBUG on, Django keeps every query's SQL; a long import must not hoard them.
            reset_queries()
        importer.finish()
        if dry_run:
            transaction.set_rollback(True)
    return report


def _update_fields(obj, values: dict) -> bool:
    """Set the fields whose values differ and save the row if any did; whether it changed."""
    changed = [name for name, value in values.items() if getattr(obj, name) != value]
    for name in changed:
        setattr(obj, name, values[name])
    if changed:
        obj.save()
    return bool(changed)


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


def _linkback_fields(raw: str) -> dict:
    """The fields our export keeps in META_LINKBACK, checked and clipped; nothing else."""
    try:
        data = json.loads(raw)
    except ValueError:
        return {}
    if not isinstance(data, dict):
        return {}
    found = {name: str(data[name])[:limit] for name, limit in LINKBACK_FIELDS.items() if name in data}
    if isinstance(data.get("is_internal"), bool):
        found["is_internal"] = data["is_internal"]
    return found


def _valid_ip(value: str) -> str | None:
    try:
        return str(ipaddress.ip_address(value.strip()))
    except ValueError:
        return None


class SeenIds:
    """WordPress IDs seen so far, and how often each repeated, in memory that does not grow with
    every comment of a large blog: numeric IDs as bits (one byte per eight IDs up to the highest),
    repeats and other IDs in small dicts."""

    BITMAP_LIMIT = 1 << 27  # IDs above this (16 MB of bits) are kept in the dict instead

    def __init__(self):
        self.bits = bytearray()
        self.others: dict[str, int] = {}  # non-numeric or huge IDs -> times seen
        self.repeats: dict[int, int] = {}  # numeric IDs seen more than once -> extra times

    def see(self, wp_id: str) -> int:
        """Note one more occurrence of `wp_id`; how many times it was seen before."""
        if not wp_id.isdigit() or len(wp_id) > 10 or int(wp_id) >= self.BITMAP_LIMIT:
            before = self.others.get(wp_id, 0)
            self.others[wp_id] = before + 1
            return before
        number = int(wp_id)
        byte, bit = divmod(number, 8)
        if byte >= len(self.bits):
            self.bits.extend(bytes(max(byte + 1 - len(self.bits), len(self.bits))))
        if not self.bits[byte] & (1 << bit):
            self.bits[byte] |= 1 << bit
            return 0
        before = 1 + self.repeats.get(number, 0)
        self.repeats[number] = before
        return before


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
        self.comment_ids = SeenIds()  # WordPress comment IDs seen in this file
        self.post_type = ContentType.objects.get_for_model(Post)
        self.site = Site.objects.get_current()
        self.images = ImageImport(report=report, enabled=False)
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
        kind = "page" if item.post_type == "page" else "post"
        if item.status in ("auto-draft", "inherit"):
            self.report.count(kind, "skipped")
            return
        label = item.post_name or f"ID {item.wp_id}"
        values, slug, when, local = self._post_values(item, kind, label)
        post = self._recorded("post", key, Post)
        if slug:
            values["slug"] = self._free_slug(slug, values["published_at"], post, kind)
        if post is None:
            post = Post(**values)
            post.save()
            if when is not None:
                Post.objects.filter(pk=post.pk).update(created_at=local or when)
            self._remember("post", key, post)
            outcome = "imported"
        else:
            values["body"] = self.images.local_body(values["body"], self.source)
            changed = _update_fields(post, values)
            outcome = "updated" if changed else "skipped"
        if self._post_taxonomy(post, item) | self._post_author(post, item, kind, label):
            outcome = "updated" if outcome == "skipped" else outcome
        self.report.count(kind, outcome)
        if "#" not in key:
            self.posts_by_wp_id[item.wp_id] = post.pk
        self._redirects(post, item, key)
        self.images.post_read(post, item)
        self._comments(post, item)

    def _post_values(
        self, item: Item, kind: str, label: str
    ) -> tuple[dict, dt.datetime | None, dt.datetime | None]:
        """The Post fields from the item (reporting what changes on the way), its date and its
        local date."""
        status, known = self._status(item, kind)
        if not known:
            self.report.warn(
                kind, f"{item.post_name or item.wp_id}: unknown status {item.status!r}, imported as a draft"
            )
        if item.password:
            status = Post.Status.DRAFT
            self.report.warn(kind, f"{label}: password-protected in WordPress, imported as a draft")
        title = plain_title(item.title)
        if not title:
            title = gettext("(no title)")
            self.report.warn(kind, f"{label}: empty title, shown as {title!r}")
        title = _clip(self.report, kind, "title", title, 300)
        slug = self._post_slug(item, kind)
        gmt, local = _wp_datetime(item.post_date_gmt), _wp_datetime(item.post_date)
        when = gmt or local
        if status == Post.Status.PUBLISHED and when is None:
            self.report.warn(kind, f"{label}: no date in the file; dated now")
        if META_MARKDOWN in item.meta:  # our own export: the Markdown source itself
            markdown = item.meta[META_MARKDOWN]
        else:
            conversion = post_body_markdown(item.content)
            for code in dict.fromkeys(conversion.unrendered_shortcodes):
                self.report.warn(kind, f"{label}: shortcode {code} cannot be rendered; left visible as text")
            markdown = conversion.markdown
        values = {
            "title": title,
            "body": markdown,
            "excerpt": plain_text(item.excerpt or ""),
            "status": status,
            "published_at": when if status == Post.Status.PUBLISHED or gmt else None,
            "allow_comments": item.comment_status == "open",
            "allow_pings": item.ping_status == "open",
            "featured": item.is_sticky == "1" or item.meta.get(META_FEATURED) == "1",
            "is_page": kind == "page",
        }
        if item.meta.get(META_LANGUAGE) in Post.Language.values:
            values["language"] = item.meta[META_LANGUAGE]
        with contextlib.suppress(KeyError, ValueError):
            values["translation_group"] = uuid.UUID(item.meta[META_TRANSLATION])
        return values, slug, when, local

    def _post_slug(self, item: Item, kind: str) -> str:
        slug = unquote(item.post_name).strip()
        if slug and not _SLUG_OK.match(slug):
            fixed = slugify(slug, allow_unicode=True)
            self.report.warn(kind, f"slug {slug!r} is not a valid URL slug here; using {fixed!r}")
            slug = fixed
        return _clip(self.report, kind, "slug", slug, 200)

    def _post_taxonomy(self, post, item: Item) -> bool:
        """Set the post's categories and tags from the item; whether anything changed."""
        categories, tags = self._item_taxonomy(item)
        changed = False
        if {c.pk for c in categories} != set(post.categories.values_list("pk", flat=True)):
            post.categories.set(categories)
            changed = True
        if {t.pk for t in tags} != set(post.tags.values_list("pk", flat=True)):
            post.tags.set(tags)
            changed = True
        return changed

    def _post_author(self, post, item: Item, kind: str, label: str) -> bool:
        """Make the item's author (or --default-author) an author of the post; whether that
        changed anything."""
        user = self._user_for(item.creator) if item.creator else self.default_author
        if user is None:
            self.report.warn(kind, f"{label}: no author in the file and no --default-author")
            return False
        changed = self._move_authorship(post, user)
        co_authors = [
            self._user_for(login.strip())
            for login in item.meta.get(META_AUTHORS, "").split(",")
            if login.strip() and login.strip() != item.creator
        ]
        for author in [user, *co_authors]:  # our own export's co-authors, in byline order
            if not PostAuthor.objects.filter(post=post, user=author).exists():
                PostAuthor.objects.create(
                    post=post, user=author, position=PostAuthor.objects.filter(post=post).count()
                )
                changed = True
        return changed

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
        old.extend(item.old_paths)
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
        """The item's comments, each reply after its parent (threads in pre-order). A post whose
        comments are all new here (a first import) has its threads written in bulk; one with
        comments from an earlier run goes comment by comment, updating those in place."""
        if not item.comments:
            return
        entries = []
        for record in self._thread_walk(item):
            found = self._comment_kind_and_key(post, record)
            if found is not None:
                entries.append((record, *found))
        existing, stale = self._recorded_comments([key for _record, _kind, key in entries])
        if existing:
            placed: dict[str, tuple[int, int]] = {}  # wp id -> (our pk, level)
            for record, kind, key in entries:
                self._comment(post, record, kind, key, existing.get(key), placed)
        else:
            self._new_comments(post, entries, stale)

    def _thread_walk(self, item: Item) -> list[CommentRecord]:
        """The item's comments in thread order: each top-level comment, then its replies (oldest
        first), depth first. A reply to a comment the post does not have is kept at top level."""
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
        walk = []
        stack = list(reversed(children.get("0", [])))
        while stack:
            comment = stack.pop()
            walk.append(comment)
            stack.extend(reversed(children.get(comment.wp_id, [])))
        return walk

    def _recorded_comments(self, keys: list[str]) -> tuple[dict[str, Comment], set[str]]:
        """The comments earlier runs imported under these keys, and the keys whose comment has
        since been deleted here (their provenance rows are reused)."""
        records: dict[str, str] = {}
        for start in range(0, len(keys), 500):
            records.update(
                ImportRecord.objects.filter(
                    source=self.source, kind="comment", wp_id__in=keys[start : start + 500]
                ).values_list("wp_id", "object_id")
            )
        pks = [int(pk) for pk in records.values() if pk.isdigit()]
        comments = Comment.objects.in_bulk(pks) if pks else {}
        found = {key: comments[int(pk)] for key, pk in records.items() if int(pk or 0) in comments}
        return found, set(records) - set(found)

    def _comment(self, post, record: CommentRecord, kind: str, key: str, existing, placed: dict) -> None:
        """One comment of a post that already has some from an earlier run: saved through the
        model, which places a new reply among the thread's existing rows."""
        values = self._comment_values(post, record, kind)
        if existing is not None:
            changed = _update_fields(existing, values)
            self.report.count(kind, "updated" if changed else "skipped")
            placed[record.wp_id] = (existing.pk, existing.level)
            return
        if self._repeated_linkback(post, record, kind, values):
            return
        # The reply keeps its true parent at any depth; how deep a thread is drawn is the
        # renderer's business (COMMENTS_MAX_THREAD_LEVEL), as in WordPress.
        parent_pk, parent_level = placed.get(record.parent_id, (0, -1))
        if parent_pk and parent_level >= self.max_stored_level:
            self._too_deep(record, kind)
            parent_pk = 0
        comment = self._new_comment(post, kind, key, values)
        comment.parent_id = parent_pk
        comment.save()
        placed[record.wp_id] = (comment.pk, comment.level)
        self._remember("comment", key, comment)
        self.report.count(kind, "imported")

    def _repeated_linkback(self, post, record: CommentRecord, kind: str, values: dict) -> bool:
        """Whether a pingback, trackback or webmention repeats one the post has (reported)."""
        if kind in ("comment", "fediverse"):
            return False
        earlier = Comment.objects.filter(post=post, source_url=values["source_url"]).exclude(kind="comment")
        if not earlier.exists():
            return False
        self._skip_repeat(record, kind, values["source_url"])
        return True

    def _skip_repeat(self, record: CommentRecord, kind: str, source_url: str) -> None:
        self.report.warn(kind, f"{kind} {record.wp_id} from {source_url!r} repeats an earlier one; skipped")
        self.report.count(kind, "skipped")

    def _too_deep(self, record: CommentRecord, kind: str) -> None:
        self.report.warn(kind, f"comment {record.wp_id} is nested too deep to store; kept at top level")

    def _new_comment(self, post, kind: str, key: str, values: dict) -> Comment:
        digest = hashlib.sha256(f"wxr\x1f{self.source}\x1f{key}".encode()).hexdigest()
        return Comment(
            content_type=self.post_type,
            object_pk=str(post.pk),
            post_id=post.pk,
            site=self.site,
            duplicate_key=digest if kind == "comment" else "",
            **values,
        )

    def _new_comments(self, post, entries: list[tuple[CommentRecord, str, str]], stale: set[str]) -> None:
        """A post's comments, none imported before: built in thread order and written in bulk
        (comments.bulk), with their provenance rows. Nothing is sent and no check runs: these
        comments were moderated and announced on the old blog."""
        sources: set[str] | None = None  # the post's linkback sources, read when first needed
        added: set[str] = set()  # and those of this batch
        new: list[Comment] = []
        parents: list[int | None] = []
        keys: list[str] = []
        placed: dict[str, tuple[int, int]] = {}  # wp id -> (index in `new`, level)
        for record, kind, key in entries:
            values = self._comment_values(post, record, kind)
            if kind not in ("comment", "fediverse"):
                if sources is None:
                    sources = set(
                        Comment.objects.filter(post=post)
                        .exclude(kind="comment")
                        .values_list("source_url", flat=True)
                    )
                if values["source_url"] in sources or values["source_url"] in added:
                    self._skip_repeat(record, kind, values["source_url"])
                    continue
            if kind != "comment":
                added.add(values.get("source_url", ""))
            parent = placed.get(record.parent_id)
            if parent is not None and parent[1] >= self.max_stored_level:
                self._too_deep(record, kind)
                parent = None
            placed[record.wp_id] = (len(new), parent[1] + 1 if parent else 0)
            parents.append(parent[0] if parent else None)
            new.append(self._new_comment(post, kind, key, values))
            keys.append(key)
        threads_insert(new, parents)
        comment_type = ContentType.objects.get_for_model(Comment)
        fresh = []
        for key, comment in zip(keys, new, strict=True):
            if key in stale:
                ImportRecord.objects.filter(source=self.source, kind="comment", wp_id=key).update(
                    content_type=comment_type, object_id=str(comment.pk)
                )
            else:
                fresh.append(
                    ImportRecord(
                        source=self.source,
                        kind="comment",
                        wp_id=key,
                        content_type=comment_type,
                        object_id=str(comment.pk),
                    )
                )
            self.report.count(comment.kind, "imported")
        ImportRecord.objects.bulk_create(fresh, batch_size=500)
        source_icons_queue(new)

    def _comment_kind_and_key(self, post, record: CommentRecord) -> tuple[str, str] | None:
        """The comment's kind and its import key (a repeated WordPress ID gets `#n`), or None to
        skip it."""
        kind = {
            "": "comment",
            "comment": "comment",
            "pingback": "pingback",
            "trackback": "trackback",
            "webmention": "webmention",  # as the WordPress Webmention plugin names it
        }.get(record.type)
        if record.meta.get(META_KIND) == "fediverse" and kind == "comment":
            kind = "fediverse"
        if kind is None:
            self.report.warn(
                "comment", f"comment {record.wp_id} has type {record.type!r}; imported as a comment"
            )
            kind = "comment"
        if not record.wp_id:
            self.report.warn(kind, "a comment without wp:comment_id was skipped")
            return None
        key = record.wp_id
        repeats = self.comment_ids.see(key)
        if repeats:
            key = f"{record.wp_id}#{repeats + 1}"
            self.report.warn(
                kind, f"duplicate comment ID {record.wp_id} on {post.slug!r}; imported separately"
            )
        return kind, key

    def _comment_values(self, post, record: CommentRecord, kind: str) -> dict:
        """The Comment fields from a WXR comment, reporting what changes on the way."""
        approved = record.approved.lower()
        values = {
            "kind": kind,
            "user_name": (
                _clip(self.report, kind, "author name", html.unescape(record.author), 50)
                if kind in ("comment", "fediverse")
                else html.unescape(record.author)[:50]
            ),
            "user_email": record.email[:254],
            "user_url": record.url if len(record.url) <= 200 else "",
            "ip_address": _valid_ip(record.ip),
            "submit_date": _wp_datetime(record.date_gmt) or _wp_datetime(record.date) or post.published_at,
            "is_public": approved in ("1", "approve")
            or (approved == "trash" and record.meta.get(META_TRASH_STATUS) == "1"),
            "is_spam": approved == "spam",
            "is_removed": approved in ("trash", "post-trashed"),
        }
        if values["submit_date"] is None:
            values["submit_date"] = timezone.now()
        if kind == "fediverse":
            values["comment"] = record.meta.get(META_MARKDOWN, record.content)
            values["author_handle"] = record.meta.get(META_HANDLE, "")[:300]
        elif kind == "comment":
            values["comment"] = record.meta.get(META_MARKDOWN) or comment_markdown(record.content)
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
        if kind in ("pingback", "trackback", "webmention") and META_LINKBACK in record.meta:
            values.update(_linkback_fields(record.meta[META_LINKBACK]))
        if record.user_id not in ("", "0") and record.user_id in self.authors_by_wp_id:
            values["user"] = self.authors_by_wp_id[record.user_id]
        return values

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
            changed = _update_fields(media, values)
            outcome = "updated" if changed else "skipped"
        self.report.count("attachment", outcome)
        self.images.attachment_read(media, item, key)
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
        self.images.finish(source=self.source, recorded=self._recorded, remember=self._remember)
