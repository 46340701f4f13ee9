"""Safe embeds: a line in a post that holds only the address of a video or a fediverse post from an
allow-listed provider becomes a click-to-load card.

- Providers: YouTube (played from youtube-nocookie.com), Vimeo, the PeerTube instances in
  EMBED_PEERTUBE_HOSTS and the Mastodon servers in EMBED_MASTODON_HOSTS. Any other address
  stays a plain link.
- After the post is saved, the worker asks the provider's oEmbed endpoint for the title and the
  thumbnail through the guarded client (comments/linkbacks/fetch.py), stores the thumbnail on our
  own storage (EmbedMeta) and renders the post again. Until then the card shows the address.
- The card makes no request to the provider: its picture is our copy, and its frame is only
  created when the reader presses the button (static/js/embeds.js), sandboxed. Without
  JavaScript the card is a link to the original. The CSP's frame-src names exactly the
  providers' frame origins (sectorblog/settings.py, beside EMBED_PEERTUBE_HOSTS).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from html import unescape
from urllib.parse import parse_qs, quote, urlsplit

from django.conf import settings
from django.utils.html import format_html


@dataclass(frozen=True)
class Embed:
    url: str
    provider: str  # shown on the card
    frame: str  # what the frame loads after the click
    oembed: str  # where the title and thumbnail come from
    kind: str  # "video" or "status"


_YOUTUBE_ID = re.compile(r"^[A-Za-z0-9_-]{11}$")
_NUMERIC = re.compile(r"^\d{1,20}$")
_PEERTUBE_PATH = re.compile(r"^/(?:w|videos/watch)/([A-Za-z0-9-]{6,64})/?$")
_MASTODON_PATH = re.compile(r"^/@([A-Za-z0-9_]{1,64})/(\d{1,20})/?$")


def _youtube(url: str, parts) -> Embed | None:
    host = parts.netloc.lower()
    if host in ("www.youtube.com", "youtube.com", "m.youtube.com") and parts.path == "/watch":
        video = (parse_qs(parts.query).get("v") or [""])[0]
    elif host == "youtu.be":
        video = parts.path.strip("/")
    else:
        return None
    if not _YOUTUBE_ID.match(video):
        return None
    oembed = f"https://www.youtube.com/oembed?format=json&url={quote(url, safe='')}"
    return Embed(url, "YouTube", f"https://www.youtube-nocookie.com/embed/{video}", oembed, "video")


def _vimeo(url: str, parts) -> Embed | None:
    if parts.netloc.lower() not in ("vimeo.com", "www.vimeo.com"):
        return None
    video = parts.path.strip("/")
    if not _NUMERIC.match(video):
        return None
    oembed = f"https://vimeo.com/api/oembed.json?url={quote(url, safe='')}"
    return Embed(url, "Vimeo", f"https://player.vimeo.com/video/{video}", oembed, "video")


def _peertube(url: str, parts) -> Embed | None:
    host = parts.netloc.lower()
    match = _PEERTUBE_PATH.match(parts.path)
    if host not in settings.EMBED_PEERTUBE_HOSTS or not match:
        return None
    origin = f"{parts.scheme}://{host}"
    oembed = f"{origin}/services/oembed?format=json&url={quote(url, safe='')}"
    return Embed(url, "PeerTube", f"{origin}/videos/embed/{match.group(1)}", oembed, "video")


def _mastodon(url: str, parts) -> Embed | None:
    host = parts.netloc.lower()
    match = _MASTODON_PATH.match(parts.path)
    if host not in settings.EMBED_MASTODON_HOSTS or not match:
        return None
    origin = f"{parts.scheme}://{host}"
    oembed = f"{origin}/api/oembed?url={quote(url, safe='')}"
    frame = f"{origin}/@{match.group(1)}/{match.group(2)}/embed"
    return Embed(url, "Mastodon", frame, oembed, "status")


def embed_for(url: str) -> Embed | None:
    """The embed an address stands for, or None when it is not on the allow-list."""
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or parts.username or parts.password or parts.fragment:
        return None
    if parts.scheme == "http" and parts.netloc.lower() not in settings.EMBED_INSECURE_HOSTS:
        return None
    for provider in (_youtube, _vimeo, _peertube, _mastodon):
        found = provider(url, parts)
        if found is not None:
            return found
    return None


# An address alone in its paragraph, as Markdown renders it: <p><a href="X">X</a></p>.
_ALONE = re.compile(r'<p><a href="([^"]+)">([^<]+)</a></p>')


def embeds_in(body_html: str) -> list[Embed]:
    found = []
    for match in _ALONE.finditer(body_html):
        href, text = match.group(1), match.group(2)
        if href == text:
            embed = embed_for(unescape(href))
            if embed is not None:
                found.append(embed)
    return found


_CARD = re.compile(r'<figure class="embed[^"]*" data-embed-url="([^"]+)"')


def card_urls(body_html: str) -> list[str]:
    """The addresses of the cards in a rendered body."""
    return [unescape(url) for url in _CARD.findall(body_html)]


def with_cards(body_html: str, meta: dict[str, object]) -> str:
    """The body with each allow-listed address alone on its line made a card; `meta` maps
    addresses to their EmbedMeta (title and local thumbnail), when the worker has fetched it."""

    def card(match: re.Match) -> str:
        href, text = match.group(1), match.group(2)
        embed = embed_for(unescape(href)) if href == text else None
        if embed is None:
            return match.group(0)
        info = meta.get(embed.url)
        title = getattr(info, "title", "") or embed.url
        thumbnail = getattr(info, "thumbnail_url", "")
        picture = (
            format_html('<img src="{}" alt="" width="480" height="270" loading="lazy">', thumbnail)
            if thumbnail
            else ""
        )
        return str(
            format_html(
                '<figure class="embed embed-{kind}" data-embed-url="{url}" data-embed-src="{frame}" '
                'data-embed-title="{title}">'
                '{picture}<figcaption><span class="embed-provider">{provider}</span> '
                '<a href="{url}" rel="nofollow noopener">{title}</a></figcaption>'
                '<button type="button" class="embed-load" hidden>{provider}</button></figure>',
                kind=embed.kind,
                frame=embed.frame,
                title=title,
                picture=picture,
                provider=embed.provider,
                url=embed.url,
            )
        )

    return _ALONE.sub(card, body_html)
