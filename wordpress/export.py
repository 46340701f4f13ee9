"""Writing the site as a WordPress eXtended RSS (WXR 1.2) file, as a stream.

`wxr_chunks()` yields the file as text, a few kilobytes at a time: the channel header, the authors,
categories and tags, then one `<item>` per post or page (with its comments) and one per media item.
Posts are read in batches of `BATCH` by primary key, with their authors and terms in a
handful of queries per batch; their comments are read in post order, in chunks, and written as
they are read. Memory does not grow with the size of the site, nor with the length of a thread.

What WordPress has no field for is kept in `wp:postmeta` / `wp:commentmeta` under `_sectorblog_*`
keys (defined in `wordpress.reader`; `wordpress.importer` reads them back):

- `_sectorblog_markdown`: the post's Markdown source (`content:encoded` holds the rendered HTML);
- `_sectorblog_language`, `_sectorblog_translation_group`: translations of one another share a group;
- `_sectorblog_authors`: every author's login, byline first (WordPress has one `dc:creator`);
- `_sectorblog_redirect`: an old path that redirects to the post;
- `_sectorblog_featured`: 1 for a featured post (also written as `wp:is_sticky`);
- on comments, `_sectorblog_markdown` (the commenter's Markdown) and `_sectorblog_kind` for kinds
  WordPress has no `comment_type` for (fediverse replies).

Characters XML 1.0 forbids (most C0 controls, lone surrogates, U+FFFE/U+FFFF) are dropped and
counted; the count is in `ExportReport.dropped` and in a comment at the end of the file.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.files.storage import default_storage
from django.db.models import Max, Q
from django.utils import timezone

from comments.models import Comment
from core.origin import absolute_url, public_origin
from posts.models import Category, MediaImage, MediaReference, Post, PostAuthor, Redirect, Tag
from wordpress.reader import (
    LINKBACK_FIELDS,
    META_AUTHORS,
    META_FEATURED,
    META_HANDLE,
    META_KIND,
    META_LANGUAGE,
    META_LINKBACK,
    META_MARKDOWN,
    META_REDIRECT,
    META_TRANSLATION,
    META_TRASH_STATUS,
)

WXR_VERSION = "1.2"
BATCH = 200
BATCH_COMMENTS = 1000
NS = {
    "excerpt": "http://wordpress.org/export/1.2/excerpt/",
    "content": "http://purl.org/rss/1.0/modules/content/",
    "wfw": "http://wellformedweb.org/CommentAPI/",
    "dc": "http://purl.org/dc/elements/1.1/",
    "wp": "http://wordpress.org/export/1.2/",
}
NO_DATE = "0000-00-00 00:00:00"

# XML 1.0's Char production: tab, newline, carriage return, and the ranges below.
_FORBIDDEN = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


@dataclass
class ExportFilter:
    """Which posts go into the export (the command's and the admin screen's options)."""

    author: object | None = None  # a user
    category: Category | None = None
    start: dt.date | None = None
    end: dt.date | None = None
    status: str = "all"  # "all" or "published"

    @property
    def is_full(self) -> bool:
        return self.author is None and self.category is None and not self.start and not self.end

    def posts(self):
        qs = Post.objects.all() if self.status == "all" else Post.objects.published()
        if self.author is not None:
            qs = qs.filter(authorships__user=self.author)
        if self.category is not None:
            qs = qs.filter(categories__pk__in=self.category.descendant_ids())
        if self.start:
            qs = qs.filter(
                Q(published_at__date__gte=self.start)
                | Q(published_at__isnull=True, created_at__date__gte=self.start)
            )
        if self.end:
            qs = qs.filter(
                Q(published_at__date__lte=self.end)
                | Q(published_at__isnull=True, created_at__date__lte=self.end)
            )
        return qs.distinct()


@dataclass
class ExportReport:
    posts: int = 0
    pages: int = 0
    attachments: int = 0
    comments: int = 0
    authors: int = 0
    categories: int = 0
    tags: int = 0
    dropped: int = 0  # characters XML 1.0 forbids, left out
    counts_by_kind: dict[str, int] = field(default_factory=dict)

    def lines(self) -> list[str]:
        kinds = ", ".join(f"{n} {k}" for k, n in sorted(self.counts_by_kind.items()))
        lines = [
            f"{self.posts} posts, {self.pages} pages, {self.attachments} attachments, "
            f"{self.comments} comments ({kinds or 'none'}), "
            f"{self.authors} authors, {self.categories} categories, {self.tags} tags",
        ]
        if self.dropped:
            lines.append(f"{self.dropped} characters that XML 1.0 forbids were left out")
        return lines


class _Writer:
    def __init__(self, report: ExportReport):
        self.report = report

    def clean(self, value) -> str:
        text = "" if value is None else str(value)
        text, dropped = _FORBIDDEN.subn("", text)
        self.report.dropped += dropped
        return text

    def cdata(self, value) -> str:
        """Text as CDATA; a `]]>` inside is split across two sections, as WordPress does."""
        return "<![CDATA[" + self.clean(value).replace("]]>", "]]]]><![CDATA[>") + "]]>"

    def markup(self, value) -> str:
        """Plain text as WordPress keeps titles and names: HTML, so `&` and `<` as entities."""
        return self.cdata(html.escape(self.clean(value), quote=False))

    def text(self, value) -> str:
        return self.clean(value).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")

    def attr(self, value) -> str:
        return self.text(value).replace('"', "&quot;")


def _local(when: dt.datetime | None) -> str:
    if when is None:
        return NO_DATE
    return timezone.localtime(when).strftime("%Y-%m-%d %H:%M:%S")


def _gmt(when: dt.datetime | None) -> str:
    if when is None:
        return NO_DATE
    return when.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S")


def _rfc822(when: dt.datetime | None) -> str:
    if when is None:
        return ""
    return when.astimezone(dt.UTC).strftime("%a, %d %b %Y %H:%M:%S +0000")


def _open(allowed: bool) -> str:
    return "open" if allowed else "closed"


def wp_status(post: Post, now: dt.datetime) -> str:
    if post.status == Post.Status.PUBLISHED:
        return "future" if post.published_at and post.published_at > now else "publish"
    if post.status == Post.Status.REVIEW:
        return "pending"
    return "draft"


def comment_approved(comment) -> str:
    if comment.is_spam:
        return "spam"
    if comment.is_removed:
        return "trash"
    return "1" if comment.is_public else "0"


class _Ids:
    """WordPress keeps posts and attachments in one table, so attachment IDs must not collide with
    post IDs: each kind of media gets a range above the last post ID (stable for one database)."""

    def __init__(self):
        self.posts = Post.objects.aggregate(m=Max("pk"))["m"] or 0
        self.refs = MediaReference.objects.aggregate(m=Max("pk"))["m"] or 0
        self.images = MediaImage.objects.aggregate(m=Max("pk"))["m"] or 0

    def reference(self, pk: int) -> int:
        return self.posts + pk

    def image(self, pk: int) -> int:
        return self.posts + self.refs + pk

    def featured(self, post_pk: int) -> int:
        return self.posts + self.refs + self.images + post_pk


def _media_url(name: str) -> str:
    return absolute_url(default_storage.url(name))


def wxr_chunks(
    selection: ExportFilter | None = None,
    *,
    report: ExportReport | None = None,
    on_progress: Callable[[int, int], None] | None = None,
) -> Iterator[str]:
    """The WXR file, in pieces. `report` (if given) is filled in as the stream is consumed."""
    selection = selection or ExportFilter()
    report = report if report is not None else ExportReport()
    w = _Writer(report)
    now = timezone.now()
    origin = public_origin()
    ids = _Ids()
    post_ids = selection.posts().values("pk")
    total = Post.objects.filter(pk__in=post_ids).count()
    if on_progress:
        on_progress(0, total)

    namespaces = "".join(f'\n\txmlns:{prefix}="{uri}"' for prefix, uri in NS.items())
    lang = settings.LANGUAGE_CODE
    yield (
        '<?xml version="1.0" encoding="UTF-8" ?>\n'
        f"<!-- A WordPress eXtended RSS (WXR {WXR_VERSION}) export of {w.text(origin)}, written by "
        "sectorblog. Import it in WordPress with Tools > Import > WordPress, or here with "
        "`manage.py import_wxr`. -->\n"
        f'<rss version="2.0"{namespaces}\n>\n<channel>\n'
        f"\t<title>{w.text(settings.SITE_NAME)}</title>\n"
        f"\t<link>{w.text(origin)}</link>\n"
        "\t<description></description>\n"
        f"\t<pubDate>{_rfc822(now)}</pubDate>\n"
        f"\t<language>{w.text(lang)}</language>\n"
        f"\t<wp:wxr_version>{WXR_VERSION}</wp:wxr_version>\n"
        f"\t<wp:base_site_url>{w.text(origin)}</wp:base_site_url>\n"
        f"\t<wp:base_blog_url>{w.text(origin)}</wp:base_blog_url>\n"
    )

    yield from _authors(w, post_ids, report)
    yield from _terms(w, selection, post_ids, report)
    yield "\t<generator>https://github.com/sectorblog (sectorblog)</generator>\n"

    # Posts and pages, a batch at a time.
    done = 0
    last = 0
    base = Post.objects.filter(pk__in=post_ids).order_by("pk")
    while True:
        batch = list(base.filter(pk__gt=last)[:BATCH])
        if not batch:
            break
        last = batch[-1].pk
        yield from _posts(w, batch, ids, report, now)
        done += len(batch)
        if on_progress:
            on_progress(done, total)

    yield from _media(w, selection, post_ids, ids, report)
    yield "</channel>\n</rss>\n"
    if report.dropped:
        yield f"<!-- {report.dropped} characters that XML 1.0 forbids were left out of this export. -->\n"


def _authors(w: _Writer, post_ids, report: ExportReport) -> Iterator[str]:
    User = get_user_model()
    # Authors: every account credited on an exported post.
    author_ids = PostAuthor.objects.filter(post__in=post_ids).values("user_id")
    for user in User.objects.filter(pk__in=author_ids).select_related("profile").order_by("pk"):
        profile = getattr(user, "profile", None)
        display = (profile.display_name if profile else "") or user.get_full_name() or user.get_username()
        report.authors += 1
        yield (
            f"\t<wp:author><wp:author_id>{user.pk}</wp:author_id>"
            f"<wp:author_login>{w.cdata(user.get_username())}</wp:author_login>"
            f"<wp:author_email>{w.cdata(user.email)}</wp:author_email>"
            f"<wp:author_display_name>{w.cdata(display)}</wp:author_display_name>"
            f"<wp:author_first_name>{w.cdata(user.first_name)}</wp:author_first_name>"
            f"<wp:author_last_name>{w.cdata(user.last_name)}</wp:author_last_name></wp:author>\n"
        )


def _terms(w: _Writer, selection: ExportFilter, post_ids, report: ExportReport) -> Iterator[str]:
    # Categories (parents before children, as WordPress's importer wants) and tags.
    if selection.is_full:
        categories = list(Category.objects.all())
        tags = Tag.objects.order_by("pk")
    else:
        used = set(Category.objects.filter(posts__in=post_ids).values_list("pk", flat=True))
        everything = {c.pk: c for c in Category.objects.all()}
        for pk in list(used):  # a used category's ancestors come along, so the tree holds
            parent = everything[pk].parent_id
            while parent and parent not in used:
                used.add(parent)
                parent = everything[parent].parent_id
        categories = [c for c in everything.values() if c.pk in used]
        tags = Tag.objects.filter(posts__in=post_ids).distinct().order_by("pk")
    by_pk = {c.pk: c for c in categories}
    written: set[int] = set()

    def ordered(category, trail=()):
        if category.pk in written:
            return
        parent = by_pk.get(category.parent_id)
        if parent is not None and parent.pk not in trail:
            yield from ordered(parent, (*trail, category.pk))
        if category.pk not in written:
            written.add(category.pk)
            yield category

    for category in sorted(categories, key=lambda c: c.pk):
        for c in ordered(category):
            parent = by_pk.get(c.parent_id)
            report.categories += 1
            yield (
                f"\t<wp:category><wp:term_id>{c.pk}</wp:term_id>"
                f"<wp:category_nicename>{w.cdata(c.slug)}</wp:category_nicename>"
                f"<wp:category_parent>{w.cdata(parent.slug if parent else '')}</wp:category_parent>"
                f"<wp:cat_name>{w.markup(c.name)}</wp:cat_name>"
                f"<wp:category_description>{w.cdata(c.description)}</wp:category_description></wp:category>\n"
            )
    for tag in tags.iterator():
        report.tags += 1
        yield (
            f"\t<wp:tag><wp:term_id>{tag.pk}</wp:term_id><wp:tag_slug>{w.cdata(tag.slug)}</wp:tag_slug>"
            f"<wp:tag_name>{w.markup(tag.name)}</wp:tag_name>"
            f"<wp:tag_description>{w.cdata(tag.description)}</wp:tag_description></wp:tag>\n"
        )


def _media(w: _Writer, selection: ExportFilter, post_ids, ids: _Ids, report: ExportReport) -> Iterator[str]:
    # Media: the references imported from WordPress, the library (full exports) and featured images.
    refs = MediaReference.objects.order_by("pk")
    if not selection.is_full:
        refs = refs.filter(post__in=post_ids)
    for ref in refs.iterator(chunk_size=BATCH):
        yield _attachment(
            w,
            report,
            wp_id=ids.reference(ref.pk),
            title=ref.title,
            url=ref.original_url,
            link=ref.page_url,
            parent=ref.post_id or 0,
            caption=ref.caption,
            alt=ref.alt_text,
            when=ref.uploaded_at,
        )
    if selection.is_full:
        for image in (
            MediaImage.objects.order_by("pk").select_related("uploaded_by").iterator(chunk_size=BATCH)
        ):
            yield _attachment(
                w,
                report,
                wp_id=ids.image(image.pk),
                title=image.alt_text,
                url=_media_url(image.image.name),
                link="",
                parent=0,
                caption=image.caption,
                alt=image.alt_text,
                when=image.uploaded_at,
                creator=image.uploaded_by.get_username() if image.uploaded_by else "",
            )
    featured = Post.objects.filter(pk__in=post_ids).exclude(featured_image="").order_by("pk")
    for post in featured.only("pk", "title", "featured_image", "featured_image_alt", "created_at").iterator(
        chunk_size=BATCH
    ):
        yield _attachment(
            w,
            report,
            wp_id=ids.featured(post.pk),
            title=post.featured_image_alt or post.title,
            url=_media_url(post.featured_image.name),
            link="",
            parent=post.pk,
            caption="",
            alt=post.featured_image_alt,
            when=post.created_at,
        )


def _meta(w: _Writer, key: str, value) -> str:
    return (
        f"\t\t<wp:postmeta><wp:meta_key>{w.cdata(key)}</wp:meta_key>"
        f"<wp:meta_value>{w.cdata(value)}</wp:meta_value></wp:postmeta>\n"
    )


def _attachment(w, report, *, wp_id, title, url, link, parent, caption, alt, when, creator="") -> str:
    report.attachments += 1
    out = [
        "\t<item>\n",
        f"\t\t<title>{w.cdata(title)}</title>\n",
        f"\t\t<link>{w.text(link)}</link>\n",
        f"\t\t<pubDate>{_rfc822(when)}</pubDate>\n",
        f"\t\t<dc:creator>{w.cdata(creator)}</dc:creator>\n",
        f'\t\t<guid isPermaLink="false">{w.text(url)}</guid>\n',
        "\t\t<description></description>\n",
        f"\t\t<content:encoded>{w.cdata('')}</content:encoded>\n",
        f"\t\t<excerpt:encoded>{w.cdata(caption)}</excerpt:encoded>\n",
        f"\t\t<wp:post_id>{wp_id}</wp:post_id>\n",
        f"\t\t<wp:post_date>{w.cdata(_local(when))}</wp:post_date>\n",
        f"\t\t<wp:post_date_gmt>{w.cdata(_gmt(when))}</wp:post_date_gmt>\n",
        f"\t\t<wp:comment_status>{w.cdata('closed')}</wp:comment_status>\n",
        f"\t\t<wp:ping_status>{w.cdata('closed')}</wp:ping_status>\n",
        f"\t\t<wp:post_name>{w.cdata('')}</wp:post_name>\n",
        f"\t\t<wp:status>{w.cdata('inherit')}</wp:status>\n",
        f"\t\t<wp:post_parent>{parent}</wp:post_parent>\n",
        "\t\t<wp:menu_order>0</wp:menu_order>\n",
        f"\t\t<wp:post_type>{w.cdata('attachment')}</wp:post_type>\n",
        f"\t\t<wp:post_password>{w.cdata('')}</wp:post_password>\n",
        "\t\t<wp:is_sticky>0</wp:is_sticky>\n",
        f"\t\t<wp:attachment_url>{w.cdata(url)}</wp:attachment_url>\n",
    ]
    if alt:
        out.append(_meta(w, "_wp_attachment_image_alt", alt))
    out.append("\t</item>\n")
    return "".join(out)


def _posts(w: _Writer, batch: list[Post], ids: _Ids, report: ExportReport, now) -> Iterable[str]:

    pks = [p.pk for p in batch]
    authors: dict[int, list[str]] = {}
    for post_id, username in (
        PostAuthor.objects.filter(post_id__in=pks)
        .order_by("post_id", "position", "pk")
        .values_list("post_id", "user__username")
    ):
        authors.setdefault(post_id, []).append(username)
    terms: dict[int, list[tuple[str, str, str]]] = {}
    for post_id, slug, name in Post.categories.through.objects.filter(post_id__in=pks).values_list(
        "post_id", "category__slug", "category__name"
    ):
        terms.setdefault(post_id, []).append(("category", slug, name))
    for post_id, slug, name in Post.tags.through.objects.filter(post_id__in=pks).values_list(
        "post_id", "tag__slug", "tag__name"
    ):
        terms.setdefault(post_id, []).append(("post_tag", slug, name))
    redirects: dict[int, list[str]] = {}
    for post_id, path in (
        Redirect.objects.filter(post_id__in=pks).order_by("pk").values_list("post_id", "old_path")
    ):
        redirects.setdefault(post_id, []).append(path)
    # One post's comments at a time: they come in post order and are written as they are read.
    stream = (
        Comment.objects.filter(post_id__in=pks)
        .order_by("post_id", "submit_date", "pk")
        .iterator(chunk_size=BATCH_COMMENTS)
    )
    pending = next(stream, None)

    for post in batch:
        status = wp_status(post, now)
        if post.is_page:
            report.pages += 1
        else:
            report.posts += 1
        logins = authors.get(post.pk, [])
        when = post.published_at
        date_local = _local(when or post.created_at)
        date_gmt = _gmt(when) if when else NO_DATE
        out = [
            "\t<item>\n",
            f"\t\t<title>{w.markup(post.title)}</title>\n",
            f"\t\t<link>{w.text(absolute_url(post.get_absolute_url()))}</link>\n",
            f"\t\t<pubDate>{_rfc822(when)}</pubDate>\n",
            f"\t\t<dc:creator>{w.cdata(logins[0] if logins else '')}</dc:creator>\n",
            f'\t\t<guid isPermaLink="false">{w.text(absolute_url(f"/?p={post.pk}"))}</guid>\n',
            "\t\t<description></description>\n",
            f"\t\t<content:encoded>{w.cdata(post.body_html)}</content:encoded>\n",
            f"\t\t<excerpt:encoded>{w.cdata(post.excerpt)}</excerpt:encoded>\n",
            f"\t\t<wp:post_id>{post.pk}</wp:post_id>\n",
            f"\t\t<wp:post_date>{w.cdata(date_local)}</wp:post_date>\n",
            f"\t\t<wp:post_date_gmt>{w.cdata(date_gmt)}</wp:post_date_gmt>\n",
            f"\t\t<wp:post_modified>{w.cdata(_local(post.updated_at))}</wp:post_modified>\n",
            f"\t\t<wp:post_modified_gmt>{w.cdata(_gmt(post.updated_at))}</wp:post_modified_gmt>\n",
            f"\t\t<wp:comment_status>{w.cdata(_open(post.allow_comments))}</wp:comment_status>\n",
            f"\t\t<wp:ping_status>{w.cdata(_open(post.allow_pings))}</wp:ping_status>\n",
            f"\t\t<wp:post_name>{w.cdata(post.slug)}</wp:post_name>\n",
            f"\t\t<wp:status>{w.cdata(status)}</wp:status>\n",
            "\t\t<wp:post_parent>0</wp:post_parent>\n",
            "\t\t<wp:menu_order>0</wp:menu_order>\n",
            f"\t\t<wp:post_type>{w.cdata('page' if post.is_page else 'post')}</wp:post_type>\n",
            f"\t\t<wp:post_password>{w.cdata('')}</wp:post_password>\n",
            f"\t\t<wp:is_sticky>{1 if post.featured and not post.is_page else 0}</wp:is_sticky>\n",
        ]
        for taxonomy, slug, name in terms.get(post.pk, []):
            out.append(
                f'\t\t<category domain="{taxonomy}" nicename="{w.attr(slug)}">{w.markup(name)}</category>\n'
            )
        out.append(_meta(w, META_MARKDOWN, post.body))
        out.append(_meta(w, META_LANGUAGE, post.language))
        out.append(_meta(w, META_TRANSLATION, str(post.translation_group)))
        if len(logins) > 1:
            out.append(_meta(w, META_AUTHORS, ",".join(logins)))
        if post.featured:
            out.append(_meta(w, META_FEATURED, "1"))
        if post.featured_image:
            out.append(_meta(w, "_thumbnail_id", str(ids.featured(post.pk))))
        for path in redirects.get(post.pk, []):
            out.append(_meta(w, META_REDIRECT, path))
        yield "".join(out)
        while pending is not None and pending.post_id == post.pk:
            yield _comment(w, pending, report)
            pending = next(stream, None)
        yield "\t</item>\n"


def _comment(w: _Writer, comment, report: ExportReport) -> str:
    kind = comment.kind
    report.comments += 1
    report.counts_by_kind[kind] = report.counts_by_kind.get(kind, 0) + 1
    linkback = kind in ("pingback", "trackback", "webmention")
    if linkback:
        author, url = comment.source_title or comment.user_name, comment.source_url
        content = comment.body_html
        wp_type = kind
    else:
        author, url = comment.user_name, comment.user_url
        content = comment.body_html
        wp_type = "comment"
    parent = 0 if comment.parent_id in (None, comment.pk) else comment.parent_id
    meta = []
    if kind in ("comment", "fediverse"):
        meta.append((META_MARKDOWN, comment.comment))
    if linkback:
        fields = {name: getattr(comment, name) for name in LINKBACK_FIELDS}
        fields["is_internal"] = comment.is_internal
        meta.append((META_LINKBACK, json.dumps(fields, ensure_ascii=False)))
    if comment.is_removed:
        meta.append((META_TRASH_STATUS, "1" if comment.is_public else "0"))
    if kind == "fediverse":
        meta.append((META_KIND, kind))
        meta.append(("protocol", "activitypub"))
        if comment.author_handle:
            meta.append((META_HANDLE, comment.author_handle))
    return (
        "\t\t<wp:comment>\n"
        f"\t\t\t<wp:comment_id>{comment.pk}</wp:comment_id>\n"
        f"\t\t\t<wp:comment_author>{w.markup(author)}</wp:comment_author>\n"
        f"\t\t\t<wp:comment_author_email>{w.cdata(comment.user_email)}</wp:comment_author_email>\n"
        f"\t\t\t<wp:comment_author_url>{w.text(url)}</wp:comment_author_url>\n"
        f"\t\t\t<wp:comment_author_IP>{w.cdata(comment.ip_address or '')}</wp:comment_author_IP>\n"
        f"\t\t\t<wp:comment_date>{w.cdata(_local(comment.submit_date))}</wp:comment_date>\n"
        f"\t\t\t<wp:comment_date_gmt>{w.cdata(_gmt(comment.submit_date))}</wp:comment_date_gmt>\n"
        f"\t\t\t<wp:comment_content>{w.cdata(content)}</wp:comment_content>\n"
        f"\t\t\t<wp:comment_approved>{w.cdata(comment_approved(comment))}</wp:comment_approved>\n"
        f"\t\t\t<wp:comment_type>{w.cdata(wp_type)}</wp:comment_type>\n"
        f"\t\t\t<wp:comment_parent>{parent}</wp:comment_parent>\n"
        f"\t\t\t<wp:comment_user_id>{comment.user_id or 0}</wp:comment_user_id>\n"
        + "".join(
            f"\t\t\t<wp:commentmeta><wp:meta_key>{w.cdata(k)}</wp:meta_key>"
            f"<wp:meta_value>{w.cdata(v)}</wp:meta_value></wp:commentmeta>\n"
            for k, v in meta
        )
        + "\t\t</wp:comment>\n"
    )
