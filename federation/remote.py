"""Other servers' actors and objects, fetched through the one outbound client
(comments/linkbacks/fetch.py: no private addresses, a deadline, a byte cap), with our GETs signed
by the blog's key for servers that require signed fetches (Mastodon's secure mode).

Documents are read as compacted JSON-LD with the contexts every implementation uses; a remote
`@context` is never fetched. An actor document is refused (and nothing stored) when its ID is not
on the host it was fetched from, or when its key or an inbox points at an address the outbound
client may not reach (a private network, loopback).
"""

from __future__ import annotations

import io
import json
import logging
from datetime import timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.tasks import task
from django.utils import timezone
from PIL import Image, UnidentifiedImageError

from comments.linkbacks.fetch import FetchError, check_url, fetch
from comments.models import Comment
from core.cache.version import content_version_bump
from core.origin import public_origin
from federation.actors import actor_by_owner
from federation.keys import actor_key, load_public_key
from federation.models import BLOG_OWNER, ActorBlock, DomainBlock, RemoteActor, RemoteNote
from federation.signatures import sign_request
from federation.vocab import first_id, text_of

logger = logging.getLogger(__name__)

ACCEPT = 'application/activity+json, application/ld+json; profile="https://www.w3.org/ns/activitystreams"'
ACTOR_TYPES = {"Person", "Service", "Application", "Group", "Organization"}
MAX_DOCUMENT_BYTES = 1_000_000


class RemoteError(Exception):
    """A remote document could not be had or is not acceptable (the reason is logged)."""


def user_agent() -> str:
    return f"{settings.SITE_NAME} (sectorblog; ActivityPub; +{public_origin()}/)"


def signer_for(owner: str):
    """fetch()'s `sign` hook: HTTP Signature headers made with a local actor's key."""
    key = actor_key(owner)
    actor = actor_by_owner(owner)
    key_id = actor.key_id if actor is not None else ""

    def sign(method: str, path: str, host: str, body: bytes | None) -> dict[str, str]:
        return sign_request(
            method=method, path=path, host=host, body=body, key_id=key_id, private_pem=key.private_pem
        )

    return sign


def fetch_document(url: str) -> tuple[dict, str]:
    """GET a JSON-LD document; returns (document, final URL). RemoteError on any failure."""
    if domain_blocked(urlsplit(url).hostname or ""):
        raise RemoteError("blocked domain")
    try:
        response = fetch(
            url,
            headers={"Accept": ACCEPT, "User-Agent": user_agent()},
            max_bytes=MAX_DOCUMENT_BYTES,
            deadline=settings.FEDERATION_DELIVERY_DEADLINE,
            allowed_hosts=settings.FEDERATION_ALLOWED_HOSTS,
            sign=signer_for(BLOG_OWNER),
        )
    except FetchError as exc:
        raise RemoteError(f"fetch failed: {exc.reason}") from exc
    if response.status != 200:
        raise RemoteError(f"HTTP {response.status}")
    if "json" not in response.content_type:
        raise RemoteError(f"not JSON: {response.content_type}")
    try:
        document = json.loads(response.body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise RemoteError("invalid JSON") from exc
    if not isinstance(document, dict):
        raise RemoteError("not a JSON object")
    return document, response.url


def domain_blocked(host: str) -> bool:
    """True when the host or a parent domain is on the domain block list."""
    host = host.lower().rstrip(".")
    if not host:
        return False
    parts = host.split(".")
    candidates = [".".join(parts[i:]) for i in range(len(parts))]
    return DomainBlock.objects.filter(domain__in=candidates).exists()


def actor_blocked(uri: str) -> bool:
    return domain_blocked(urlsplit(uri).hostname or "") or ActorBlock.objects.filter(actor_uri=uri).exists()


def _same_host(a: str, b: str) -> bool:
    return (urlsplit(a).netloc or "").lower() == (urlsplit(b).netloc or "").lower()


def _reachable(url: str) -> bool:
    try:
        check_url(url, allowed_hosts=settings.FEDERATION_ALLOWED_HOSTS)
    except FetchError:
        return False
    return True


def _public_key(document: dict, key_id: str | None) -> dict | None:
    keys = document.get("publicKey")
    if isinstance(keys, dict):
        keys = [keys]
    if not isinstance(keys, list):
        return None
    for key in keys:
        if isinstance(key, dict) and (key_id is None or key.get("id") == key_id):
            return key
    return None


def _icon_url(value) -> str:
    if isinstance(value, list):
        value = value[0] if value else None
    if isinstance(value, dict):
        value = value.get("url")
        if isinstance(value, dict | list):
            value = first_id(value)
    return value if isinstance(value, str) and value.startswith(("http://", "https://")) else ""


def actor_store(document: dict, fetched_url: str, *, key_id: str | None = None) -> RemoteActor:
    """Check an actor document and store (or refresh) it. RemoteError when it is not acceptable."""
    uri = document.get("id")
    if not isinstance(uri, str) or not uri.startswith(("http://", "https://")):
        raise RemoteError("actor without an http(s) id")
    if not _same_host(uri, fetched_url):
        raise RemoteError("actor id is not on the host it came from")
    kinds = document.get("type")
    kinds = set(kinds) if isinstance(kinds, list) else {kinds}
    if not kinds & ACTOR_TYPES:
        raise RemoteError("not an actor")
    inbox = document.get("inbox")
    endpoints = document.get("endpoints") if isinstance(document.get("endpoints"), dict) else {}
    shared = endpoints.get("sharedInbox") or ""
    if not isinstance(inbox, str) or not isinstance(shared, str):
        raise RemoteError("inbox missing")
    key = _public_key(document, key_id)
    if key is None:
        raise RemoteError("no such public key in the actor")
    pem, owner, kid = key.get("publicKeyPem"), key.get("owner"), key.get("id")
    if not isinstance(pem, str) or not isinstance(kid, str) or (owner is not None and owner != uri):
        raise RemoteError("malformed public key")
    try:
        load_public_key(pem)
    except ValueError as exc:
        raise RemoteError("unusable public key") from exc
    if not _same_host(kid, uri):
        raise RemoteError("key is not on the actor's host")
    for url in filter(None, (inbox, shared, kid)):
        if not _reachable(url):
            raise RemoteError(f"refused address in actor document: {url[:100]}")
    profile = first_id(document.get("url")) or uri
    values = {
        "domain": (urlsplit(uri).hostname or "").lower(),
        "preferred_username": text_of(document.get("preferredUsername"), 200),
        "name": text_of(document.get("name"), 200),
        "profile_url": profile
        if profile.startswith(("http://", "https://")) and len(profile) <= 2000
        else uri,
        "inbox": inbox,
        "shared_inbox": shared,
        "key_id": kid,
        "public_key_pem": pem,
        "icon_url": _icon_url(document.get("icon"))[:2000],
        "fetched_at": timezone.now(),
    }
    try:
        with transaction.atomic():
            actor, created = RemoteActor.objects.update_or_create(uri=uri, defaults=values)
    except IntegrityError:
        actor = RemoteActor.objects.get(uri=uri)
        created = False
    if created or actor.icon_url and not actor.avatar:
        pk = actor.pk
        transaction.on_commit(lambda: fetch_avatar.enqueue(pk))
    return actor


def actor_get(uri: str, *, refresh: bool = False) -> RemoteActor:
    """The actor with this ID, from storage while fresh, else fetched. RemoteError on failure."""
    uri = uri.split("#", 1)[0]
    found = RemoteActor.objects.filter(uri=uri).first()
    fresh_after = timezone.now() - timedelta(seconds=settings.FEDERATION_ACTOR_TTL)
    if found is not None and not refresh and found.fetched_at >= fresh_after:
        return found
    document, final_url = fetch_document(uri)
    return actor_store(document, final_url)


def key_owner(key_id: str, *, refresh: bool = False) -> RemoteActor:
    """The actor a signature's keyId belongs to. The key may be a fragment of the actor document
    (Mastodon's `…#main-key`) or a document of its own naming its `owner`."""
    found = RemoteActor.objects.filter(key_id=key_id).first()
    fresh_after = timezone.now() - timedelta(seconds=settings.FEDERATION_ACTOR_TTL)
    if found is not None and not refresh and found.fetched_at >= fresh_after:
        return found
    document, final_url = fetch_document(key_id.split("#", 1)[0])
    if "publicKeyPem" in document and isinstance(document.get("owner"), str):
        owner_uri = document["owner"]
        if not _same_host(owner_uri, key_id):
            raise RemoteError("key owner on another host")
        document, final_url = fetch_document(owner_uri)
    return actor_store(document, final_url, key_id=key_id)


AVATAR_SIZE = 96
AVATAR_MAX_BYTES = 2_000_000


@task()
def fetch_avatar(actor_id: int) -> str:
    """Copy a remote actor's avatar into our storage (re-encoded as a small PNG, so nothing of the
    original file is served), and point their replies at it. Avatars are never hot-linked."""
    actor = RemoteActor.objects.filter(pk=actor_id).first()
    if actor is None or not actor.icon_url:
        return "none"
    try:
        response = fetch(
            actor.icon_url,
            headers={"Accept": "image/*", "User-Agent": user_agent()},
            max_bytes=AVATAR_MAX_BYTES,
            deadline=settings.FEDERATION_DELIVERY_DEADLINE,
            allowed_hosts=settings.FEDERATION_ALLOWED_HOSTS,
        )
    except FetchError:
        return "unreachable"
    if response.status != 200 or not response.content_type.startswith("image/"):
        return "not an image"
    try:
        Image.MAX_IMAGE_PIXELS = 40_000_000
        with Image.open(io.BytesIO(response.body)) as image:
            image.thumbnail((AVATAR_SIZE, AVATAR_SIZE))
            out = io.BytesIO()
            image.convert("RGBA").save(out, format="PNG", optimize=True)
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
        return "not an image"
    if actor.avatar:
        actor.avatar.delete(save=False)
    actor.avatar.save(f"{actor.pk}.png", ContentFile(out.getvalue()), save=False)
    RemoteActor.objects.filter(pk=actor.pk).update(avatar=actor.avatar.name)
    ids = RemoteNote.objects.filter(actor=actor).values_list("comment_id", flat=True)
    if Comment.objects.filter(pk__in=ids).update(author_avatar_url=actor.avatar.url):
        content_version_bump()  # the thread shows the new face (update() sends no signal)
    return "stored"
