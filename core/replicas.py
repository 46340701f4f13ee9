"""Request-side replica routing: read-your-writes pinning, and fallback when a replica fails.

A safe request (GET/HEAD) reads from one replica chosen for the whole request. A request that
writes pins its client to the primary for DATABASE_PIN_SECONDS with a signed cookie, so a
commenter always sees their own comment. If the chosen replica fails, it is taken out of
rotation and the request is answered again from the primary: a dead replica never causes a 500.
"""

from __future__ import annotations

from django.conf import settings
from django.core import signing
from django.db import InterfaceError, OperationalError, connections
from django.http import HttpRequest, HttpResponse

from core import routers

PIN_COOKIE = "sb_primary"
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
# The salt keeps its name from before the move to core/, so pins issued then stay valid.
_signer = signing.TimestampSigner(salt="sectorblog.replicas.pin")


def is_pinned(request: HttpRequest) -> bool:
    value = request.COOKIES.get(PIN_COOKIE)
    if not value:
        return False
    try:
        _signer.unsign(value, max_age=settings.DATABASE_PIN_SECONDS)
    except signing.BadSignature:
        return False
    return True


def replica_is_broken(alias: str) -> bool:
    """Probe a replica with one cheap query on a fresh connection."""
    conn = connections[alias]
    try:
        conn.close()
        with conn.cursor() as cursor:
            cursor.execute("SELECT 1")
        return False
    except Exception:
        return True


class ReplicaRoutingMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not routers.replica_aliases():
            return self.get_response(request)
        safe = request.method in SAFE_METHODS
        alias = routers.choose_replica() if safe and not is_pinned(request) else routers.PRIMARY
        choice = routers.ReadChoice(alias)
        request.read_database = choice
        token = routers.read_target.set(choice)
        try:
            response = self._respond(request, choice)
        finally:
            routers.read_target.reset(token)
        if not safe:
            response.set_cookie(
                PIN_COOKIE,
                _signer.sign("1"),
                max_age=settings.DATABASE_PIN_SECONDS,
                httponly=True,
                samesite="Lax",
                secure=settings.SESSION_COOKIE_SECURE,
            )
        return response

    def _respond(self, request: HttpRequest, choice: routers.ReadChoice) -> HttpResponse:
        alias = choice.alias
        if alias == routers.PRIMARY:
            return self.get_response(request)
        try:
            response = self.get_response(request)
        except (OperationalError, InterfaceError):
            response = None
        failed = response is None or getattr(response, "database_unavailable", False)
        if failed and replica_is_broken(alias):
            routers.mark_down(alias)
            primary = routers.ReadChoice(routers.PRIMARY)
            routers.read_target.set(primary)
            request.read_database = primary
            return self.get_response(request)
        if response is None:
            raise OperationalError("database unavailable")
        return response
