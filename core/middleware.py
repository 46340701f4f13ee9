"""Answer a terse 503 with Retry-After when the database is unreachable, never a traceback.

Three routes lead here: a view's query fails (process_exception), a middleware's query fails
(`server_error`, the handler500, sees the database error that caused the 500), and a statement
runs past PostgreSQL's statement_timeout (QueryCanceled is an OperationalError). A POST that fails
this way gets its text back in a form, so a commenter loses nothing and can resend.
"""

from __future__ import annotations

import sys

from django.db import DatabaseError, InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string

from core.errors import server_error as plain_server_error

RETRY_AFTER_SECONDS = 30
# The 503 page has no script and loads nothing but the site's stylesheet.
UNAVAILABLE_CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)
# Fields shown as editable text on the retry form; every other posted field is carried hidden.
_VISIBLE_FIELDS = ("name", "email", "url", "comment")
_NOT_CARRIED = {"csrfmiddlewaretoken", "post", "preview"}


def _retry_form_context(request: HttpRequest) -> dict | None:
    if request is None or request.method != "POST":
        return None
    try:
        data = request.POST
    except Exception:  # an unreadable body: nothing to give back
        return None
    # Only comment-like forms get their text back; never echo secrets.
    secret = [key for key in data if ("password" in key or "token" in key) and key not in _NOT_CARRIED]
    if not data.get("comment") or secret:
        return None
    return {
        "action": request.path,
        "visible": [(name, data.get(name, "")) for name in _VISIBLE_FIELDS if name in data],
        "hidden": [
            (key, value)
            for key, values in data.lists()
            if key not in _VISIBLE_FIELDS and key not in _NOT_CARRIED
            for value in values
        ],
    }


def database_unavailable_response(request: HttpRequest | None = None) -> HttpResponse:
    retry = _retry_form_context(request)
    try:
        if retry is not None:
            # request= gives the form a CSRF token; nothing on this page touches the database.
            body = render_to_string("503_retry.html", {"retry": retry}, request=request)
        else:
            body = render_to_string("503.html", request=None)
    except Exception:  # the template layer may need the database too (it does not, but be safe)
        body = "<h1>Service unavailable</h1><p>Please try again in a moment.</p>"
    response = HttpResponse(body, status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    response.database_unavailable = True  # lets replica routing retry on the primary
    response["Cache-Control"] = "no-store"
    response["Content-Security-Policy"] = UNAVAILABLE_CSP
    return response


def is_database_unavailable(exc: BaseException | None) -> bool:
    """True for errors that mean "the database cannot answer now", not "this query is wrong"."""
    if isinstance(exc, (OperationalError, InterfaceError)):
        return True
    return isinstance(exc, DatabaseError) and _is_connection_error(exc)


class DatabaseUnavailableMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            return self.get_response(request)
        except (OperationalError, InterfaceError) as exc:
            return self._handle(request, exc)

    def process_exception(self, request: HttpRequest, exception: Exception):
        if is_database_unavailable(exception):
            return self._handle(request, exception)
        return None

    def _handle(self, request: HttpRequest, exc: Exception) -> HttpResponse:
        hook = getattr(request, "database_unavailable_handler", None)
        if hook is not None:
            return hook(exc)
        return database_unavailable_response(request)


def server_error(request: HttpRequest) -> HttpResponse:
    """handler500: a 503 when the database caused the error (e.g. in a middleware), else the 500."""
    if is_database_unavailable(sys.exc_info()[1]):
        return database_unavailable_response(request)

    return plain_server_error(request)


def _is_connection_error(exc: Exception) -> bool:
    text = str(exc).lower()
    return "connection" in text or "timeout" in text or "canceling statement" in text
