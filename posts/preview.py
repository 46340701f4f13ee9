"""Previews: the editor's live Markdown preview and signed share links for unpublished posts.

The live preview renders through the same `render_markdown(text, "post")` as `Post.save()`, so
what the author sees is byte for byte what readers will get. Share links are signed with
django.core.signing.TimestampSigner and expire after PREVIEW_LINK_MAX_AGE (7 days).
"""

from __future__ import annotations

import datetime as dt
import math
import re
import time

from django.conf import settings
from django.contrib import admin
from django.core import signing
from django.http import HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.html import strip_tags
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from core import ratelimit
from core.markup import render_markdown
from posts.models import WORDS_PER_MINUTE, Post, PostAuthor

SIGNING_SALT = "posts.preview-link"
MAX_PREVIEW_CHARS = 500_000


def link_max_age() -> dt.timedelta:
    return dt.timedelta(seconds=settings.PREVIEW_LINK_MAX_AGE)


def preview_token(post: Post) -> str:
    return signing.TimestampSigner(salt=SIGNING_SALT).sign(str(post.pk))


def preview_url(post: Post) -> str:
    """A path that shows this unpublished post to anyone holding it, until it expires.

    One page shows it twice (the admin's share field and its "View on site" link): the path is
    kept on the instance for a minute, so both carry the same signature even when the clock
    ticks to the next second between them (the signature names the second it was made in).
    """
    made = getattr(post, "_preview_url", None)
    if made is not None and time.monotonic() - made[1] < 60:
        return made[0]
    url = reverse("posts:preview", kwargs={"token": preview_token(post)})
    post._preview_url = (url, time.monotonic())
    return url


def rate_limited(*, user, bucket: str) -> bool:
    """True once a user has made more than PREVIEW_RATE_PER_MINUTE calls in this minute."""
    limit = settings.PREVIEW_RATE_PER_MINUTE
    # Counted where every process sees it (core/ratelimit.py), not in one worker's memory.
    return not ratelimit.limit_check(limits={f"authoring-rate:{bucket}:{user.pk}": limit}, seconds=60)


def render_preview(request) -> HttpResponse:
    """POST body (and title) → rendered HTML. JSON for the editor's fetch, a page for the button.

    Wrapped by the admin site's admin_view (login, staff, CSRF) in PostAdmin.get_urls.
    """
    if request.method != "POST":
        return HttpResponse(_("Use POST."), status=405, headers={"Allow": "POST"})
    if not (request.user.has_perm("posts.add_post") or request.user.has_perm("posts.change_post")):
        return HttpResponse(_("You cannot write posts."), status=403)
    wants_json = "application/json" in request.headers.get("Accept", "")
    if rate_limited(user=request.user, bucket="preview"):
        message = _("Too many previews; wait a minute.")
        if wants_json:
            return JsonResponse({"error": message}, status=429)
        return HttpResponse(message, status=429, content_type="text/plain; charset=utf-8")
    body = request.POST.get("body", "")
    if len(body) > MAX_PREVIEW_CHARS:
        message = _("The text is too long to preview.")
        if wants_json:
            return JsonResponse({"error": message}, status=413)
        return HttpResponse(message, status=413, content_type="text/plain; charset=utf-8")
    html = render_markdown(body, "post")
    if wants_json:
        response = JsonResponse({"html": html})
    else:
        context = {**admin.site.each_context(request), "document": _document(request, html)}
        response = render(request, "admin/posts/post/preview_page.html", context)
    response["Cache-Control"] = "private, no-store"
    return response


def _document(request, html: str) -> str:
    """The post as the site draws it (its own base template and stylesheet), for the preview
    page's frame: full height, at desktop or phone width, light or dark."""
    words = len(re.findall(r"\w+", strip_tags(html)))
    user = request.user
    context = {
        "title": request.POST.get("title", "")[:300],
        "body_html": html,
        "language": request.POST.get("language", "")[:12] or settings.LANGUAGE_CODE,
        "byline": user.get_full_name() or user.get_username(),
        "reading_minutes": max(1, math.ceil(words / WORDS_PER_MINUTE)),
    }
    return render_to_string("admin/posts/post/preview_document.html", context, request=request)


@never_cache
@require_GET
def shared_preview(request, token: str):
    """The public page behind a signed preview link: no account needed, never cached."""
    signer = signing.TimestampSigner(salt=SIGNING_SALT)
    try:
        pk = signer.unsign(token, max_age=link_max_age())
    except signing.SignatureExpired:
        return _preview_error(request, _("This preview link has expired. Ask the author for a new one."), 410)
    except signing.BadSignature:
        return _preview_error(request, _("This preview link is not valid."), 404)
    post = Post.objects.filter(pk=pk).prefetch_related("categories", "tags").first()
    if post is None:
        return _preview_error(request, _("This post no longer exists."), 404)
    if post.is_published:
        return HttpResponseRedirect(post.get_absolute_url())
    authors = [a.user for a in PostAuthor.objects.filter(post=post).select_related("user__profile")]
    response = render(
        request,
        "admin/posts/post/shared_preview.html",
        {"post": post, "authors": authors},
    )
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


def _preview_error(request, message: str, status: int):
    response = render(request, "admin/posts/post/shared_preview.html", {"error": message}, status=status)
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response
