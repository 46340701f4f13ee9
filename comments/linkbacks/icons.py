"""The small icon shown beside a linkback's site name under "Mentioned elsewhere".

When a pingback, trackback or webmention from another site is stored, the worker fetches that
site's /favicon.ico once through the guarded outbound client (fetch.py: public addresses only,
a byte cap and a deadline), checks that it is an image, and stores it on our own storage as a
32 px PNG (`icons/<host>.png`). Every linkback from that origin then points at the stored copy
(Comment.source_icon), so a reader's browser never asks the other site for anything. A site
without a usable icon is simply shown without one.
"""

from __future__ import annotations

import logging
from io import BytesIO
from urllib.parse import urlsplit

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Q
from django.tasks import task

from comments.linkbacks import fetch
from comments.models import Comment

log = logging.getLogger(__name__)

ICON_MAX_BYTES = 100_000
ICON_SIZE = 32


def source_origin(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return ""
    return f"{parts.scheme}://{parts.netloc.lower()}"


def icon_name(origin: str) -> str:
    host = urlsplit(origin).netloc.lower().replace(":", "_")
    return f"icons/{host}.png"


def _from_origin(origin: str) -> Q:
    return Q(source_url__istartswith=origin + "/") | Q(source_url__iexact=origin)


def _icon_png(data: bytes) -> bytes | None:
    from PIL import Image  # Pillow loads on first use: most requests never draw an icon

    try:
        image = Image.open(BytesIO(data))
        if getattr(image, "ico", None) is not None:  # an .ico holds several sizes: the best one
            image.size = max(image.ico.sizes())
        image.load()
    except Exception:
        return None
    image = image.convert("RGBA").resize((ICON_SIZE, ICON_SIZE), Image.LANCZOS)
    out = BytesIO()
    image.save(out, "PNG", optimize=True)
    return out.getvalue()


@task()
def source_icon_fetch(origin: str) -> str:
    """Fetch and store the icon of `origin` (once), and point its linkbacks at it.
    Returns "stored", "known", "none" (no usable icon) or "failed" (the fetch failed)."""
    name = icon_name(origin)
    outcome = "known"
    if not default_storage.exists(name):
        try:
            response = fetch.fetch(origin + "/favicon.ico", max_bytes=ICON_MAX_BYTES, deadline=5.0)
        except fetch.FetchError as exc:
            log.info("source icon: %s: %s", origin, exc)
            return "failed"
        png = _icon_png(response.body) if response.status == 200 else None
        if png is None:
            return "none"
        default_storage.save(name, ContentFile(png))
        outcome = "stored"
    url = default_storage.url(name)
    Comment.objects.filter(_from_origin(origin), kind__in=Comment.LINKBACK_KINDS).exclude(
        source_icon=url
    ).update(source_icon=url)
    return outcome


def source_icons_queue(comments) -> None:
    """After commit, fetch the icons of the sites new linkbacks come from, once per site: for
    linkbacks stored without save() and its post_save (comments.bulk.threads_insert)."""
    origins = {
        source_origin(comment.source_url)
        for comment in comments
        if comment.is_linkback and not comment.is_internal and not comment.source_icon
    }
    for origin in sorted(origins - {""}):
        transaction.on_commit(lambda origin=origin: source_icon_fetch.enqueue(origin))


def source_icon_queue(sender, instance: Comment, created: bool = False, raw: bool = False, **kwargs) -> None:
    """post_save: a new linkback from another site gets its site's icon after commit."""
    if raw or not created or not instance.is_linkback or instance.is_internal or instance.source_icon:
        return
    origin = source_origin(instance.source_url)
    if origin:
        transaction.on_commit(lambda: source_icon_fetch.enqueue(origin))
