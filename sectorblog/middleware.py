"""Answer a terse 503 with Retry-After when the database is unreachable, never a traceback."""

from __future__ import annotations

from django.db import DatabaseError, InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string

RETRY_AFTER_SECONDS = 30


def database_unavailable_response(request: HttpRequest | None = None) -> HttpResponse:
    try:
        body = render_to_string("503.html", request=None)
    except Exception:  # the template layer may need the database too (it does not, but be safe)
        body = "<h1>Service unavailable</h1><p>Please try again in a moment.</p>"
    response = HttpResponse(body, status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    response.database_unavailable = True  # lets replica routing retry on the primary
    response["Cache-Control"] = "no-store"
    return response


class DatabaseUnavailableMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            return self.get_response(request)
        except (OperationalError, InterfaceError) as exc:
            return self._handle(request, exc)

    def process_exception(self, request: HttpRequest, exception: Exception):
        if isinstance(exception, (OperationalError, InterfaceError)) or (
            isinstance(exception, DatabaseError) and _is_connection_error(exception)
        ):
            return self._handle(request, exception)
        return None

    def _handle(self, request: HttpRequest, exc: Exception) -> HttpResponse:
        hook = getattr(request, "database_unavailable_handler", None)
        if hook is not None:
            return hook(exc)
        return database_unavailable_response(request)


def _is_connection_error(exc: Exception) -> bool:
    text = str(exc).lower()
    return "connection" in text or "timeout" in text or "canceling statement" in text
