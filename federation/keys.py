"""RSA key pairs for local actors: 2048-bit, made on first use and stored in the database.

Rotation (README "Federation"): `manage.py federation_rotate_key blog` (or a username) makes a new
pair and sends `Update` of the actor to its followers' inboxes. Servers that cached the old key
fail to verify our next request, fetch the actor again and find the new key, as Mastodon does
(SignatureVerification refetches a stale key once).
"""

from __future__ import annotations

from functools import lru_cache

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.db import IntegrityError, transaction

from federation.models import ActorKey


def generate_pem_pair() -> tuple[str, str]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    public = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return private, public


def actor_key(owner: str) -> ActorKey:
    """The stored key pair of a local actor, created on first use (safe under concurrency)."""
    found = ActorKey.objects.filter(owner=owner).first()
    if found is not None:
        return found
    private, public = generate_pem_pair()
    try:
        with transaction.atomic():
            return ActorKey.objects.create(owner=owner, private_pem=private, public_pem=public)
    except IntegrityError:
        return ActorKey.objects.get(owner=owner)


def key_rotate(*, owner: str) -> ActorKey:
    """Replace an actor's key pair; the caller announces it (federation.delivery.actor_update_send)."""
    private, public = generate_pem_pair()
    key, _created = ActorKey.objects.update_or_create(
        owner=owner, defaults={"private_pem": private, "public_pem": public}
    )
    load_private_key.cache_clear()
    return key


@lru_cache(maxsize=64)
def load_private_key(pem: str) -> rsa.RSAPrivateKey:
    key = serialization.load_pem_private_key(pem.encode(), password=None)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ValueError("not an RSA key")
    return key


@lru_cache(maxsize=512)
def load_public_key(pem: str) -> rsa.RSAPublicKey:
    """An RSA public key from PEM; ValueError for anything else (EC keys, garbage)."""
    key = serialization.load_pem_public_key(pem.encode())
    if not isinstance(key, rsa.RSAPublicKey):
        raise ValueError("not an RSA key")
    if key.key_size < 1024:
        raise ValueError("RSA key too short")
    return key
