"""Webmention receiver and sender (W3C Recommendation, 12 January 2017).

- Receiving, section 3.2 (Receiving Webmentions): ``POST /webmention/`` with ``source`` and
  ``target``. Section 3.2.1 (Request Verification) is done synchronously: both http(s), source !=
  target, and the target is a published post of ours that takes pings; otherwise 400 with the
  reason. Verification itself (section 3.2.2) runs in a task, never in the request thread, and
  the answer is 201 Created with a Location status URL (section 3.2, asynchronous processing).
  The status page shows pending, accepted or rejected.
- Updates and deletes, section 3.2.2: a repeated source updates the mention; a source that now
  answers 410 Gone or no longer links removes it.
- Sending, section 3.1.3 (Sender notifies receiver): a form-encoded POST of source and target to
  the discovered endpoint; any 2xx is success.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from comments.linkbacks import services
from comments.linkbacks.fetch import FetchError, fetch
from comments.linkbacks.tasks import verify_webmention
from comments.models import IncomingWebmention
from core.guards import client_ip
from core.queue import on_commit_enqueue


def _bad(reason: str) -> HttpResponse:
    return HttpResponseBadRequest(reason, content_type="text/plain; charset=utf-8")


@csrf_exempt
@require_POST
def webmention_receive(request: HttpRequest) -> HttpResponse:
    """Validate a Webmention request cheaply and queue its verification (section 3.2.1)."""
    source = (request.POST.get("source") or "").strip()
    target = (request.POST.get("target") or "").strip()
    if not source or not target:
        return _bad(_("Both source and target are required."))
    if not services.is_http_url(source):
        return _bad(_("The source must be an http or https URL."))
    if not services.is_http_url(target):
        return _bad(_("The target must be an http or https URL."))
    if services.normalise(source) == services.normalise(target):
        return _bad(_("The source and the target must be different."))
    try:
        services.linkback_target_post(target=target, request_host=request.get_host())
    except services.TargetError as exc:
        return _bad(str(exc))
    remote_ip = client_ip(request)
    if not services.linkback_rate_check(remote_ip=remote_ip, source=source):
        return HttpResponse(
            _("Too many webmentions; try again later."), status=429, content_type="text/plain; charset=utf-8"
        )
    incoming = IncomingWebmention.objects.create(source=source, target=target, remote_ip=remote_ip)
    on_commit_enqueue(verify_webmention, incoming.pk)
    status_url = request.build_absolute_uri(reverse("linkbacks:webmention-status", args=[incoming.token]))
    response = HttpResponse(
        _("Webmention received; verification is queued. Status: %(url)s") % {"url": status_url},
        status=201,
        content_type="text/plain; charset=utf-8",
    )
    response["Location"] = status_url
    return response


@require_GET
def webmention_status(request: HttpRequest, token) -> HttpResponse:
    """The status URL of a received webmention: pending, accepted or rejected."""
    incoming = get_object_or_404(IncomingWebmention, token=token)
    return render(request, "linkbacks/webmention_status.html", {"incoming": incoming})


def webmention_send(*, endpoint: str, source: str, target: str) -> tuple[bool, int | None, str]:
    """Section 3.1.3: POST source and target to the endpoint. Returns (success, status, message)."""
    try:
        response = fetch(
            endpoint,
            method="POST",
            data=urlencode({"source": source, "target": target}).encode(),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
            max_bytes=64_000,
        )
    except FetchError as exc:
        return False, None, str(exc)
    return 200 <= response.status < 300, response.status, response.body[:200].decode("utf-8", "replace")
