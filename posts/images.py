"""Responsive images: an upload stored in several widths, in WebP and in its own format.

The task worker makes the variants (posts.tasks.image_variants_make) after an upload is saved,
beside the original in the same storage: `library/2026/12/pump.jpg` gets `pump-480w.jpg`,
`pump-480w.webp`, `pump-960w.jpg`, `pump-960w.webp`, … for each of WIDTHS narrower than the
original, and `pump-<width>w.webp` at the original's own width. What was made is recorded on the
row (MediaImage.variant_widths, Post.featured_image_meta); pages list only recorded variants, so
an image whose variants are not made yet (or could not be) is shown as its original, with no
broken candidate in its srcset.
"""

from __future__ import annotations

import logging
import posixpath
import re
from dataclasses import dataclass
from html import unescape
from io import BytesIO

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils.html import format_html, format_html_join

log = logging.getLogger(__name__)

WIDTHS = (480, 960, 1600)
# The formats Pillow writes for the "original format" variants (GIF is kept as PNG: one frame).
_SAVE_AS = {
    "JPEG": ("JPEG", ".jpg"),
    "PNG": ("PNG", ".png"),
    "WEBP": ("WEBP", ".webp"),
    "GIF": ("PNG", ".png"),
}


@dataclass(frozen=True)
class ImageInfo:
    width: int
    height: int
    widths: tuple[int, ...]  # the narrower variants made, in both formats
    ext: str  # the extension of the original-format variants


def variant_name(name: str, width: int, ext: str) -> str:
    stem, _ext = posixpath.splitext(name)
    return f"{stem}-{width}w{ext}"


def _open(name: str, storage):
    """The stored image `name`, upright and loaded, with the Pillow format and extension its
    "original format" copies are written in; (None, "", "") when it can't be read as an image."""
    # Pillow is heavy and needed only in the worker that makes variants: loaded on first use
    from PIL import Image, ImageOps

    try:
        with storage.open(name, "rb") as handle:
            original = Image.open(BytesIO(handle.read()))
            original.load()
    except Exception:  # a missing or unreadable file: the page shows the original, as before
        log.warning("image variants: cannot read %s", name, exc_info=True)
        return None, "", ""
    fmt, ext = _SAVE_AS.get(original.format or "", ("PNG", ".png"))
    image = ImageOps.exif_transpose(original)
    if fmt == "JPEG" and image.mode not in ("RGB", "L"):
        image = image.convert("RGB")
    return image, fmt, ext


def _store(image, target_name: str, out_format: str, storage) -> None:
    """Encode `image` as `out_format` and store it as `target_name`, replacing an older copy."""
    buffer = BytesIO()
    options = {"quality": 82, "method": 4} if out_format == "WEBP" else {}
    if out_format == "JPEG":
        options = {"quality": 85, "optimize": True, "progressive": True}
    image.save(buffer, out_format, **options)
    if storage.exists(target_name):
        storage.delete(target_name)
    storage.save(target_name, ContentFile(buffer.getvalue()))


def make_variants(name: str, storage=default_storage) -> ImageInfo | None:
    """Write the variants of the stored image `name`; None when it can't be read as an image."""
    from PIL import Image  # heavy, worker only (see _open)

    image, fmt, ext = _open(name, storage)
    if image is None:
        return None
    width, height = image.size
    made = []
    for target in [w for w in WIDTHS if w < width] + [width]:
        resized = (
            image
            if target == width
            else image.resize((target, round(height * target / width)), Image.LANCZOS)
        )
        outputs = [("WEBP", ".webp")] if target == width else [("WEBP", ".webp"), (fmt, ext)]
        for out_format, out_ext in outputs:
            _store(resized, variant_name(name, target, out_ext), out_format, storage)
        if target != width:
            made.append(target)
    return ImageInfo(width, height, tuple(made), ext)


def _srcsets(url: str, info: ImageInfo) -> tuple[str, str]:
    own = [(variant_name(url, w, info.ext), w) for w in info.widths] + [(url, info.width)]
    webp = [(variant_name(url, w, ".webp"), w) for w in (*info.widths, info.width)]
    join = ", ".join
    return join(f"{u} {w}w" for u, w in webp), join(f"{u} {w}w" for u, w in own)


def picture_html(
    url: str,
    *,
    alt: str,
    info: ImageInfo | None,
    sizes: str,
    lazy: bool,
    css_class: str = "",
    width: int = 0,
    height: int = 0,
):
    """A <picture> with WebP and original-format srcsets when variants are recorded; else the
    original <img>. width/height (no layout shift) whenever the dimensions are known."""
    width, height = (info.width, info.height) if info else (width, height)
    attrs = [("src", url), ("alt", alt)]
    if css_class:
        attrs.append(("class", css_class))
    if width and height:
        attrs += [("width", width), ("height", height)]
    if info:
        webp, own = _srcsets(url, info)
        attrs += [("srcset", own), ("sizes", sizes)]
    attrs += [("loading", "lazy"), ("decoding", "async")] if lazy else [("fetchpriority", "high")]
    img = format_html("<img{}>", format_html_join("", ' {}="{}"', attrs))
    if not info:
        return img
    return format_html(
        '<picture><source type="image/webp" srcset="{}" sizes="{}">{}</picture>', webp, sizes, img
    )


def info_from(meta: dict | None, name: str) -> ImageInfo | None:
    """The recorded variants of the image stored as `name`; None when none are recorded for it
    (not made yet, could not be made, or recorded for an earlier upload)."""
    if not meta or meta.get("name") != name or not meta.get("width"):
        return None
    return ImageInfo(meta["width"], meta["height"], tuple(meta.get("widths", ())), meta.get("ext", ""))


def meta_of(name: str, info: ImageInfo) -> dict:
    return {
        "name": name,
        "width": info.width,
        "height": info.height,
        "widths": list(info.widths),
        "ext": info.ext,
    }


# --- images from the media library inside a post's body ------------------------------------------
BODY_SIZES = "(max-width: 42rem) 100vw, 40rem"
_IMG = re.compile(r"<img\b([^>]*)>")
_ATTR = re.compile(r'([a-z-]+)="([^"]*)"')


def library_names(body_html: str) -> list[str]:
    """The storage names of the media-library images a body shows."""
    prefix = settings.MEDIA_URL
    names = []
    for match in _IMG.finditer(body_html):
        src = unescape(dict(_ATTR.findall(match.group(1))).get("src", ""))
        if src.startswith(prefix):
            names.append(src[len(prefix) :])
    return names


def responsive_body(body_html: str, library: dict[str, object]) -> str:
    """Library images in a rendered (sanitised) body with their srcset, sizes, width, height and
    loading="lazy"; `library` maps storage names to MediaImage rows."""
    prefix = settings.MEDIA_URL

    def replace(match: re.Match) -> str:
        attrs = {k: unescape(v) for k, v in _ATTR.findall(match.group(1))}
        src = attrs.get("src", "")
        media = library.get(src[len(prefix) :]) if src.startswith(prefix) else None
        if media is None:
            return match.group(0)
        info = info_from(media.variants, media.image.name)
        html = picture_html(
            src,
            alt=attrs.get("alt", ""),
            info=info,
            sizes=BODY_SIZES,
            lazy=True,
            width=media.width,
            height=media.height,
        )
        return str(html)

    return _IMG.sub(replace, body_html)


# --- author photos -------------------------------------------------------------------------------
# An author photo shows as a 72 px circle in the author box at the end of a post and as a 112 px
# one on the author page (cards show no faces). It is cut square from the middle of the upload
# and stored at each size below (1x, 2x and 3x screens of both places), in WebP and in its own
# format: `avatars/ada.jpg` gets `ada-72x72.webp`, `ada-72x72.jpg`, `ada-112x112.webp`, … Sizes
# larger than the upload's shorter side are not made (no blown-up copies); an upload smaller
# than the smallest size gets one copy at its own size.
PHOTO_SIZES = (72, 112, 144, 224, 336)


@dataclass(frozen=True)
class PhotoInfo:
    sizes: tuple[int, ...]  # the square sides made, each in WebP and in the original's format
    ext: str  # the extension of the original-format copies


def photo_name(name: str, size: int, ext: str) -> str:
    stem, _ext = posixpath.splitext(name)
    return f"{stem}-{size}x{size}{ext}"


def make_photo_variants(name: str, storage=default_storage) -> PhotoInfo | None:
    """Write the square copies of the stored author photo `name`; None when it can't be read."""
    from PIL import Image, ImageOps  # heavy, worker only (see _open)

    image, fmt, ext = _open(name, storage)
    if image is None:
        return None
    side = min(image.size)
    sizes = [s for s in PHOTO_SIZES if s <= side] or [side]
    for size in sizes:
        square = ImageOps.fit(image, (size, size), Image.LANCZOS)
        _store(square, photo_name(name, size, ".webp"), "WEBP", storage)
        _store(square, photo_name(name, size, ext), fmt, storage)
    return PhotoInfo(tuple(sizes), ext)


def photo_info_from(meta: dict | None, name: str) -> PhotoInfo | None:
    """The recorded square copies of the photo stored as `name`; None when none are recorded for
    it (not made yet, could not be made, or recorded for an earlier upload)."""
    if not meta or meta.get("name") != name or not meta.get("sizes"):
        return None
    return PhotoInfo(tuple(meta["sizes"]), meta.get("ext", ""))


def photo_meta_of(name: str, info: PhotoInfo) -> dict:
    return {"name": name, "sizes": list(info.sizes), "ext": info.ext}


def photo_html(url: str, *, info: PhotoInfo | None, size: int, lazy: bool, css_class: str):
    """An author photo shown `size` CSS pixels square: a <picture> with WebP and original-format
    srcsets of the square copies when they are recorded, else the upload itself (cropped by CSS).
    Empty alt text: the author's name stands beside it."""
    loading = [("loading", "lazy"), ("decoding", "async")] if lazy else []
    attrs = [("class", css_class), ("alt", ""), ("width", size), ("height", size)]
    if info is None:
        return format_html("<img{}>", format_html_join("", ' {}="{}"', [("src", url), *attrs, *loading]))
    # The fallback src: the smallest copy that fills the box on a 1x screen, else the largest.
    fallback = next((s for s in info.sizes if s >= size), info.sizes[-1])
    own = ", ".join(f"{photo_name(url, s, info.ext)} {s}w" for s in info.sizes)
    webp = ", ".join(f"{photo_name(url, s, '.webp')} {s}w" for s in info.sizes)
    sizes = f"{size}px"
    src = photo_name(url, fallback, info.ext)
    img = format_html(
        "<img{}>",
        format_html_join("", ' {}="{}"', [("src", src), *attrs, ("srcset", own), ("sizes", sizes), *loading]),
    )
    return format_html(
        '<picture class="author-photo-frame"><source type="image/webp" srcset="{}" sizes="{}">{}</picture>',
        webp,
        sizes,
        img,
    )
