"""Pingback 1.0 receiver: an XML-RPC server with exactly two methods.

- ``pingback.ping(sourceURI, targetURI)``, Pingback 1.0 section "XML-RPC Interface", with the
  fault codes of section "Error Codes": 0 generic, 0x10 (16) source does not exist, 0x11 (17) no
  link to the target, 0x20 (32) target does not exist, 0x21 (33) target cannot be used, 0x30 (48)
  already registered, 0x31 (49) access denied, 0x32 (50) upstream failure.
- ``pingback.extensions.getPingbacks(url)``, the Pingback extension that lists a target's pings.

Nothing else: no ``system.multicall`` (the amplification vector), no introspection, no login.

The request is parsed defensively before anything is expanded: at most 1 MB, no
Content-Encoding, no DOCTYPE or entity declarations, at most 10,000 elements, and strings only
where the spec says string. Such a request gets HTTP 400; a well-formed call gets a fault.

A failure to fetch the source, a source without the link and a source that times out all give
the same fault 17 with the same words, so the endpoint tells a caller nothing about the network.

Processing fetches the source while the caller waits, as the spec's synchronous answer requires.
Those fetches hold web workers, so at most LINKBACK_VERIFY_CONCURRENCY run at once on this machine
(a semaphore shared by every worker, core/semaphore.py); past that, a ping is answered at once
with fault 0x32 and "try again later", and readers keep their workers. Why 0x32: the spec has no
"busy" code; 0x32 is its one code for a failure that is neither the source's nor the target's and
may clear by itself (the server "could not communicate with an upstream server"), so a sender that
tells codes apart retries it (ours does). Fault 0 would not do: WordPress answers 0 to everything,
permanent refusals included, so senders treat it as final. An HTTP 503 would break XML-RPC's rule
that faults travel in a 200 answer, and WordPress's client gives up on it the same way.
"""

from __future__ import annotations

import io
import xmlrpc.client

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from lxml import etree

from comments.linkbacks import services
from comments.models import Comment
from core.guards import client_ip
from core.semaphore import semaphore_slot

MAX_BODY = 1_000_000
MAX_ELEMENTS = 10_000

GENERIC = 0
SOURCE_MISSING = 0x10
NO_LINK = 0x11
TARGET_MISSING = 0x20
TARGET_INVALID = 0x21
ALREADY_REGISTERED = 0x30
ACCESS_DENIED = 0x31
UPSTREAM = 0x32

NO_LINK_MESSAGE = "The source URI does not contain a link to the target URI."
BUSY_MESSAGE = "This site is busy verifying other pingbacks; please try again in a few minutes."


class BadRequest(Exception):
    """The body is not an acceptable XML-RPC call: answered with HTTP 400."""


class Fault(Exception):
    def __init__(self, code: int, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


def parse_call(body: bytes) -> tuple[str, list]:
    """Parse an XML-RPC methodCall without expanding anything. Returns (method name, params)."""
    if len(body) > MAX_BODY:
        raise BadRequest("The request body is too large.")
    lowered = body.lower()
    if b"<!doctype" in lowered or b"<!entity" in lowered:
        raise BadRequest("DOCTYPE and entity declarations are not accepted.")
    parser_args = dict(
        events=("start",),
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
    )
    count = 0
    try:
        context = etree.iterparse(io.BytesIO(body), **parser_args)
        for _event, _element in context:
            count += 1
            if count > MAX_ELEMENTS:
                raise BadRequest("Too many XML elements.")
        root = context.root
    except etree.XMLSyntaxError as exc:
        raise BadRequest("The request is not well-formed XML.") from exc
    if root is None or root.getroottree().docinfo.doctype:
        raise BadRequest("DOCTYPE declarations are not accepted.")
    if root.tag != "methodCall":
        raise BadRequest("Not an XML-RPC methodCall.")
    name = (root.findtext("methodName") or "").strip()
    params = [_value(param.find("value")) for param in root.findall("params/param")]
    return name, params


def _value(element) -> object:
    """A param's value: strings are returned as str; other types are tagged so they can be refused."""
    if element is None:
        raise Fault(GENERIC, "Malformed parameter.")
    children = list(element)
    if not children:
        return element.text or ""
    child = children[0]
    if child.tag == "string":
        return child.text or ""
    return ("non-string", child.tag)


def _response(result: object) -> HttpResponse:
    body = xmlrpc.client.dumps((result,), methodresponse=True, allow_none=False)
    return HttpResponse(body.encode(), content_type="text/xml; charset=utf-8")


def _fault(code: int, message: str) -> HttpResponse:
    body = xmlrpc.client.dumps(xmlrpc.client.Fault(code, message), methodresponse=True)
    return HttpResponse(body.encode(), content_type="text/xml; charset=utf-8")


def _strings(params: list, count: int) -> list[str]:
    if len(params) != count or not all(isinstance(p, str) for p in params):
        raise Fault(GENERIC, f"Expected {count} string parameter(s).")
    return [p.strip() for p in params]


def pingback_ping(request: HttpRequest, source: str, target: str) -> str:
    """Pingback 1.0 "Processing": check the target, then fetch the source within the budget."""
    if not services.is_http_url(source):
        raise Fault(SOURCE_MISSING, "The source URI is not an http(s) URL.")
    if not services.is_http_url(target):
        raise Fault(TARGET_MISSING, "The target URI does not exist on this site.")
    if services.normalise(source) == services.normalise(target):
        raise Fault(GENERIC, "The source and target URIs are the same.")
    try:
        post = services.linkback_target_post(target=target, request_host=request.get_host())
    except services.TargetError as exc:
        raise Fault(TARGET_INVALID if exc.closed else TARGET_MISSING, str(exc)) from exc
    if not services.linkback_rate_check(remote_ip=client_ip(request), source=source):
        raise Fault(ACCESS_DENIED, "Too many pingbacks; try again later.")
    with semaphore_slot(name="pingback-verify", slots=settings.LINKBACK_VERIFY_CONCURRENCY) as held:
        if not held:
            raise Fault(UPSTREAM, BUSY_MESSAGE)
        status, _comment, created = services.linkback_receive(
            post=post, kind=Comment.Kind.PINGBACK, source=source, target=target, remote_ip=client_ip(request)
        )
    if status != "ok":
        raise Fault(NO_LINK, NO_LINK_MESSAGE)
    if not created:
        raise Fault(ALREADY_REGISTERED, "The pingback has already been registered (it was updated).")
    return f"Pingback from {source[:200]} to {target[:200]} registered. Thanks."


def pingback_get_pingbacks(request: HttpRequest, url: str) -> list[str]:
    """The source URLs of a post's public pingbacks (pingback.extensions.getPingbacks)."""
    try:
        post = services.linkback_target_post(target=url, request_host=request.get_host())
    except services.TargetError as exc:
        raise Fault(TARGET_INVALID if exc.closed else TARGET_MISSING, str(exc)) from exc
    return list(
        Comment.objects.filter(post=post, kind=Comment.Kind.PINGBACK, is_public=True, is_removed=False)
        .order_by("submit_date")
        .values_list("source_url", flat=True)[:1000]
    )


@csrf_exempt
@transaction.non_atomic_requests
@require_POST
def xmlrpc_endpoint(request: HttpRequest) -> HttpResponse:
    """The XML-RPC endpoint at /xmlrpc.php and /xmlrpc/. Any Content-Type is accepted."""
    if request.headers.get("Content-Encoding", "identity").strip().lower() not in ("", "identity"):
        return HttpResponseBadRequest(
            "Compressed request bodies are not accepted.", content_type="text/plain"
        )
    length = request.META.get("CONTENT_LENGTH") or "0"
    if not length.isdigit() or int(length) > MAX_BODY:
        return HttpResponseBadRequest("The request body is too large.", content_type="text/plain")
    body = request.read(MAX_BODY + 1)
    try:
        method, params = parse_call(body)
    except BadRequest as exc:
        return HttpResponseBadRequest(str(exc), content_type="text/plain")
    except Fault as exc:
        return _fault(exc.code, exc.message)
    try:
        if method == "pingback.ping":
            source, target = _strings(params, 2)
            return _response(pingback_ping(request, source, target))
        if method == "pingback.extensions.getPingbacks":
            (url,) = _strings(params, 1)
            return _response(pingback_get_pingbacks(request, url))
        return _fault(-32601, "Method not found; this server offers pingback.ping only.")
    except Fault as exc:
        return _fault(exc.code, exc.message)
