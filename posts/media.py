"""The media library's upload checks: real images only (Pillow), known formats, at most 10 MB."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _

ALLOWED_FORMATS = {"JPEG", "PNG", "GIF", "WEBP"}


def max_upload_bytes() -> int:
    return settings.MEDIA_MAX_UPLOAD_BYTES


def validate_library_image(file) -> None:
    """Reject files over the size cap and anything Pillow cannot read as an allowed format."""
    # Pillow is heavy and needed only when an image is checked: loaded on first use
    from PIL import Image, UnidentifiedImageError

    limit = max_upload_bytes()
    size = getattr(file, "size", None)
    if size is not None and size > limit:
        raise ValidationError(
            _("This image is %(size)s; the limit is %(limit)s.")
            % {"size": filesizeformat(size), "limit": filesizeformat(limit)},
            code="too_large",
        )
    position = file.tell() if hasattr(file, "tell") else 0
    try:
        file.seek(0)
        with Image.open(file) as img:
            fmt = img.format
            img.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise ValidationError(_("This file is not an image Pillow can read."), code="invalid_image") from exc
    finally:
        if hasattr(file, "seek"):
            file.seek(position)
    if fmt not in ALLOWED_FORMATS:
        raise ValidationError(
            _("%(format)s images are not accepted; use JPEG, PNG, GIF or WebP.") % {"format": fmt},
            code="bad_format",
        )
