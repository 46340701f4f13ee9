"""The worker's half of safe embeds (posts/embeds.py): the title and thumbnail of each embedded
video or fediverse post, fetched once from the provider's oEmbed endpoint through the guarded
client (fetch.py), the thumbnail copied to our own storage. It lives here, beside the one
outbound client, because posts never makes network requests; the post_save receiver in
comments/linkbacks/signals.py queues it.
"""

from __future__ import annotations

import hashlib
import json
import logging
from io import BytesIO

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.tasks import task

from comments.linkbacks import fetch
from posts import embeds
from posts.models import EmbedMeta, Post

log = logging.getLogger(__name__)

OEMBED_MAX_BYTES = 200_000
THUMBNAIL_MAX_BYTES = 2_000_000


def _thumbnail(url: str) -> str:
    """Our copy of a thumbnail (a JPEG at most 960 px wide), or "" when it can't be had."""
    from PIL import Image

    if not url.startswith(("https://", "http://")):
        return ""
    try:
        response = fetch.fetch(url, max_bytes=THUMBNAIL_MAX_BYTES, deadline=10.0)
        image = Image.open(BytesIO(response.body))
        image.load()
    except Exception:
        log.info("embed thumbnail: cannot use %s", url, exc_info=True)
        return ""
    image = image.convert("RGB")
    if image.width > 960:
        image = image.resize((960, round(image.height * 960 / image.width)), Image.LANCZOS)
    out = BytesIO()
    image.save(out, "JPEG", quality=82, optimize=True)
    name = f"embeds/{hashlib.sha256(url.encode()).hexdigest()[:32]}.jpg"
    if default_storage.exists(name):
        default_storage.delete(name)
    return default_storage.save(name, ContentFile(out.getvalue()))


@task()
def embed_meta_fetch(url: str) -> str:
    """Fetch and store the title and thumbnail of one embedded address, then render the posts
    that show it again. Returns "stored", "failed" or "not allowed"."""
    embed = embeds.embed_for(url)
    if embed is None:
        return "not allowed"
    title, thumbnail, outcome = "", "", "failed"
    try:
        response = fetch.fetch(embed.oembed, max_bytes=OEMBED_MAX_BYTES, deadline=10.0)
        data = json.loads(response.body) if response.status == 200 else {}
        if isinstance(data, dict):
            title = str(data.get("title") or data.get("author_name") or "")[:300]
            thumbnail = _thumbnail(str(data.get("thumbnail_url") or ""))
            outcome = "stored"
    except (fetch.FetchError, ValueError) as exc:
        log.info("embed metadata: %s: %s", url, exc)
    # Recorded even when it failed, so saving the post again does not ask again.
    EmbedMeta.objects.update_or_create(url=url, defaults={"title": title, "thumbnail": thumbnail})
    for post in Post.objects.filter(body__contains=url):
        post.save()
    return outcome


def embed_meta_queue(post: Post) -> None:
    """After commit, fetch what is missing for the post's embeds."""
    wanted = set(embeds.card_urls(post.body_html))
    if not wanted:
        return
    known = set(EmbedMeta.objects.filter(url__in=wanted).values_list("url", flat=True))
    for url in sorted(wanted - known):
        transaction.on_commit(lambda url=url: embed_meta_fetch.enqueue(url))
