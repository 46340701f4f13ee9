"""Bringing an imported blog's images here: featured images (`_thumbnail_id`) and the media-library
images its posts show, downloaded from the old site so the posts stop pointing at it.

Every download goes through the guarded outbound client (comments/linkbacks/fetch.py: public
addresses only, pinned DNS, a deadline, at most MEDIA_MAX_UPLOAD_BYTES), and what arrives must be
an image the media library accepts (posts/media.py: JPEG, PNG, GIF or WebP that Pillow reads).
The bytes are stored as they came, so a featured image exported and imported again is the same
file. A failure is an answer, not an exception: the caller imports the post without the image
and says why.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass
from urllib.parse import unquote, urljoin, urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.utils.text import get_valid_filename

from comments.linkbacks import fetch
from posts.media import validate_library_image
from posts.models import ImportRecord, MediaImage, MediaReference, Post

DEADLINE_SECONDS = 30.0
_EXTENSIONS = {"JPEG": "jpg", "PNG": "png", "GIF": "gif", "WEBP": "webp"}
# WordPress embeds its resized copies ("photo-1024x768.jpg") of the uploaded original ("photo.jpg").
_SIZED = re.compile(r"-\d{1,5}x\d{1,5}(?=\.\w{2,5}$)")
# Image addresses in a post's Markdown body: ![alt](url "title") and raw <img src="url">.
_MARKDOWN_IMAGE = re.compile(r"!\[[^\]\n]*\]\(\s*<?([^)\s>]+)>?")
_HTML_IMAGE = re.compile(r"<img\b[^>]*?\bsrc\s*=\s*[\"']([^\"']+)[\"']", re.IGNORECASE)


@dataclass
class Download:
    """A downloaded image (`file` set, named after the URL with the extension of its real format),
    or why there is none (`problem`)."""

    url: str
    file: ContentFile | None = None
    problem: str = ""


def image_download(url: str) -> Download:
    """Fetch `url` and check it is an image the media library takes."""
    if urlsplit(url).scheme not in ("http", "https"):
        return Download(url, problem="not an http(s) address")
    try:
        response = fetch.fetch(url, max_bytes=settings.MEDIA_MAX_UPLOAD_BYTES, deadline=DEADLINE_SECONDS)
    except fetch.FetchError as exc:
        if "too large" in exc.reason:
            return Download(url, problem="is larger than the upload limit")
        if "not allowed" in exc.reason:
            return Download(url, problem="was not fetched (not a public address or port)")
        return Download(url, problem="could not be downloaded (no answer)")
    if response.status != 200:
        return Download(url, problem=f"could not be downloaded (HTTP {response.status})")
    if response.content_type and not response.content_type.startswith(("image/", "application/octet")):
        return Download(url, problem=f"is not an image ({response.content_type})")
    file = ContentFile(response.body)
    try:
        validate_library_image(file)
    except ValidationError as exc:
        return Download(url, problem=f"was refused: {' '.join(exc.messages)}")
    file.name = _file_name(url, _format(response.body))
    return Download(url, file=file)


def _format(data: bytes) -> str:
    from PIL import Image  # Pillow loads on first use: most imports have no images

    with Image.open(ContentFile(data)) as image:
        return image.format or ""


def _file_name(url: str, image_format: str) -> str:
    stem = posixpath.splitext(posixpath.basename(unquote(urlsplit(url).path)))[0]
    stem = get_valid_filename(stem)[:80] if stem.strip(". ") else "image"
    return f"{stem or 'image'}.{_EXTENSIONS.get(image_format, 'img')}"


def embedded_images(markdown: str) -> set[str]:
    """The image addresses a post's Markdown shows (Markdown images and raw <img> tags)."""
    return set(_MARKDOWN_IMAGE.findall(markdown)) | set(_HTML_IMAGE.findall(markdown))


def original_url(url: str) -> str:
    """The uploaded original a WordPress resized copy was made from (or the address itself)."""
    parts = urlsplit(url)
    return parts._replace(path=_SIZED.sub("", parts.path), query="", fragment="").geturl()


class ImageImport:
    """The images of one import run: what the importer noted while reading (which attachment is
    each post's featured image, which addresses each post's body shows, where each attachment
    was), then, after the last record, the downloads: featured images onto their posts, and the
    library images posts show into the media library, the posts pointing at the local copies.

    Memory holds ids and addresses only, one entry per image. The worker makes each stored
    image's narrower and WebP copies after the import commits (posts/tasks.py), as for an upload.
    """

    def __init__(self, *, report, enabled: bool):
        self.report = report
        self.enabled = enabled
        self.thumbnails: list[tuple[int, str]] = []  # (post pk, the attachment's WordPress ID)
        self.embeds: list[tuple[int, list[str]]] = []  # (post pk, image addresses in its body)
        self.by_wp_id: dict[str, int] = {}  # attachment's WordPress ID -> MediaReference pk
        self.by_url: dict[str, tuple[int, str]] = {}  # original's URL -> (MediaReference pk, key)
        self.featured_files: dict[str, str] = {}  # URL -> stored name, for images used twice
        self.library: dict[int, object] = {}  # MediaReference pk -> MediaImage (None: failed)

    def post_read(self, post, item) -> None:
        if not self.enabled:
            return
        thumbnail = item.meta.get("_thumbnail_id", "").strip()
        if thumbnail.isdigit():
            self.thumbnails.append((post.pk, thumbnail))
        shown = embedded_images(post.body)
        if shown:
            self.embeds.append((post.pk, sorted(shown)))

    def attachment_read(self, media, item, key: str) -> None:
        if not self.enabled:
            return
        if "#" not in key:
            self.by_wp_id[item.wp_id] = media.pk
        self.by_url.setdefault(original_url(media.original_url), (media.pk, key))

    def local_body(self, body: str, source: str) -> str:
        """`body` (a post's Markdown as the file has it) with each library image that an earlier
        run stored here shown from the local copy, as that run left the post: so a second run of
        the same file finds the post unchanged. Costs queries only for a post showing images."""
        shown = {address: original_url(urljoin(source + "/", address)) for address in embedded_images(body)}
        if not shown:
            return body
        found = MediaReference.objects.filter(original_url__in=set(shown.values()))
        references = dict(found.values_list("pk", "original_url"))
        records = ImportRecord.objects.filter(source=source)
        keys = dict(
            records.filter(kind="attachment", object_id__in=[str(pk) for pk in references]).values_list(
                "object_id", "wp_id"
            )
        )
        stored = dict(records.filter(kind="image", wp_id__in=keys.values()).values_list("wp_id", "object_id"))
        images = MediaImage.objects.in_bulk([int(pk) for pk in stored.values() if pk.isdigit()])
        local = {}
        for pk, url in references.items():
            image = images.get(int(stored.get(keys.get(str(pk), ""), "0") or 0))
            if image is not None:
                local[url] = image.image.url
        for address, url in shown.items():
            if url in local:
                body = body.replace(address, local[url])
        return body

    def finish(self, *, source: str, recorded, remember) -> None:
        """Download and attach. `recorded(kind, key, model)` and `remember(kind, key, obj)` are
        the importer's provenance lookups, so a second run reuses what the first stored."""
        if not self.enabled:
            return
        for post_pk, wp_id in self.thumbnails:
            post = Post.objects.filter(pk=post_pk).first()
            media = MediaReference.objects.filter(pk=self.by_wp_id.get(wp_id, 0)).first()
            if post is None:
                continue
            if media is None:
                self.report.warn("image", f"{post.slug}: featured image {wp_id} is not in the file")
            elif post.featured_image:
                self.report.count("image", "skipped")
            else:
                self._featured(post, media)
        for post_pk, addresses in self.embeds:
            post = Post.objects.filter(pk=post_pk).first()
            if post is None:
                continue
            body = post.body
            for address in addresses:
                found = self.by_url.get(original_url(urljoin(source + "/", address)))
                if found is None:
                    continue  # not one of the blog's attachments: left as it is
                image = self._library_image(*found, recorded, remember)
                if image is not None:
                    body = body.replace(address, image.image.url)
            if body != post.body:
                post.body = body
                post.save()

    def _featured(self, post, media) -> None:
        url = media.original_url
        if url in self.featured_files:
            post.featured_image.name = self.featured_files[url]
        else:
            download = image_download(url)
            if download.file is None:
                self.report.warn(
                    "image", f"{post.slug}: featured image {url} {download.problem}; imported without it"
                )
                return
            post.featured_image = download.file  # stored under featured/ as the post is saved
            self.report.count("image", "imported")
        post.featured_image_alt = (media.alt_text or "")[:300]
        post.save()
        self.featured_files.setdefault(url, post.featured_image.name)

    def _library_image(self, media_pk: int, key: str, recorded, remember):
        if media_pk in self.library:
            return self.library[media_pk]
        image = recorded("image", key, MediaImage)
        if image is not None:
            self.report.count("image", "skipped")
        else:
            media = MediaReference.objects.get(pk=media_pk)
            download = image_download(media.original_url)
            if download.file is None:
                self.report.warn(
                    "image", f"{media.original_url} {download.problem}; the posts showing it still link there"
                )
            else:
                image = MediaImage.objects.create(
                    image=download.file,
                    alt_text=(media.alt_text or media.title or download.file.name)[:300],
                    caption=(media.caption or "")[:300],
                )
                remember("image", key, image)
                self.report.count("image", "imported")
        self.library[media_pk] = image
        return image
