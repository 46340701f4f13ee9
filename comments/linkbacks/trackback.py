"""TrackBack receiver and sender (TrackBack Technical Specification 1.2, Six Apart).

- Receiving, spec section "Sending a TrackBack Ping": ``POST <post>/trackback/`` with a
  form-encoded body, ``url`` required and ``title``, ``excerpt``, ``blog_name`` and ``charset``
  optional. The answer is the spec's XML: ``<response><error>0</error></response>``, or ``error``
  1 with a ``message``. A GET redirects to the post.
- The spec does not verify pings, so every trackback is held for moderation; a task then fetches
  the source and, when it links to the post, fills in its title and excerpt and marks it verified
  (the sender's ``blog_name`` stays the name shown). A repeated ping changes nothing by itself: it
  queues that verification again, and only what the source says can change the text. A ping
  naming the source of a pingback or webmention is refused (``error`` 1, HTTP 409).
- Autodiscovery, spec section "Auto-Discovery of TrackBack Ping URLs": the RDF block in the post
  page (see templatetags/linkbacks.py).
- Sending, section "Sending a TrackBack Ping": only to the URLs an author lists in the post's
  "Send trackbacks to" field.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, QueryDict
from django.urls import reverse
from django.utils.html import strip_tags
from django.views.decorators.csrf import csrf_exempt
from lxml import etree

from comments.linkbacks import services
from comments.linkbacks.fetch import FetchError, fetch
from comments.linkbacks.tasks import verify_trackback
from comments.models import Comment
from core.guards import client_ip
from core.queue import on_commit_enqueue

MAX_BODY = 64_000


def _answer(error: str | None = None, status: int = 200) -> HttpResponse:
    root = etree.Element("response")
    etree.SubElement(root, "error").text = "1" if error else "0"
    if error:
        etree.SubElement(root, "message").text = error
    body = etree.tostring(root, xml_declaration=True, encoding="utf-8")
    return HttpResponse(body, content_type="text/xml; charset=utf-8", status=status)


def _form(request: HttpRequest) -> QueryDict:
    """Decode the form with the charset the sender names (the spec's ``charset`` field)."""
    length = request.META.get("CONTENT_LENGTH") or "0"
    if not length.isdigit() or int(length) > MAX_BODY:
        raise ValueError("too large")
    if request.content_type == "multipart/form-data":
        return request.POST
    raw = request.read(MAX_BODY + 1)
    if len(raw) > MAX_BODY:
        raise ValueError("too large")
    probe = QueryDict(raw, encoding="latin-1")
    charset = (probe.get("charset") or "utf-8").strip().lower()
    try:
        return QueryDict(raw, encoding=charset)
    except (LookupError, UnicodeDecodeError):
        return QueryDict(raw, encoding="utf-8")


def _clean(value: str | None, limit: int) -> str:
    text = strip_tags(value or "")
    text = "".join(ch for ch in text if ch >= " " or ch in "\n\t")
    return " ".join(text.split())[:limit]


@csrf_exempt
def trackback_receive(request: HttpRequest, year: int, month: int, day: int, slug: str) -> HttpResponse:
    """Receive one TrackBack ping for a post; always held for moderation."""
    post_url = reverse("posts:detail", kwargs={"year": year, "month": month, "day": day, "slug": slug})
    if request.method == "GET":
        return HttpResponseRedirect(post_url)
    if request.method != "POST":
        return _answer("TrackBack pings are sent with POST.", status=405)
    try:
        form = _form(request)
    except ValueError:
        return _answer("The ping is too large.", status=400)
    source = (form.get("url") or "").strip()
    if not services.is_http_url(source):
        return _answer("A url parameter with an http(s) URL is required.", status=400)
    target = services.site_url(post_url)
    try:
        post = services.linkback_target_post(target=target)
    except services.TargetError as exc:
        return _answer(str(exc), status=404 if not exc.closed else 403)
    remote_ip = client_ip(request)
    if not services.linkback_rate_check(remote_ip=remote_ip, source=source):
        return _answer("Too many pings; try again later.", status=429)
    try:
        comment, _created = services.linkback_store(
            post=post,
            kind=Comment.Kind.TRACKBACK,
            source=source,
            context=None,
            remote_ip=remote_ip,
            blog_name=_clean(form.get("blog_name"), 50),
            title=_clean(form.get("title"), 300),
            excerpt=_clean(form.get("excerpt"), 255),
        )
    except services.LinkbackConflict as exc:
        return _answer(str(exc), status=409)
    # New or repeated, the source is fetched: a repeat's own fields never change what is shown.

    on_commit_enqueue(verify_trackback, comment.pk)
    return _answer()


def trackback_send(
    *, ping_url: str, post_url: str, title: str, excerpt: str, blog_name: str
) -> tuple[bool, int | None, str]:
    """Send one TrackBack ping. Returns (success, HTTP status, message)."""
    data = urlencode(
        {
            "url": post_url,
            "title": title,
            "excerpt": excerpt[:255],
            "blog_name": blog_name,
            "charset": "utf-8",
        }
    ).encode()
    try:
        response = fetch(
            ping_url,
            method="POST",
            data=data,
            headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"},
            max_bytes=64_000,
        )
    except FetchError as exc:
        return False, None, str(exc)
    try:
        root = etree.fromstring(
            response.body, etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
        )
        error = (root.findtext("error") or "").strip()
        message = (root.findtext("message") or "").strip()[:300]
    except etree.XMLSyntaxError:
        return False, response.status, "The TrackBack server did not answer with XML."
    return error == "0", response.status, message
