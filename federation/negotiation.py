"""Content negotiation: the URL of a post, an author page or the home page answers ActivityPub
clients with JSON-LD and browsers with HTML (ActivityPub section 3.2).

A request "asks for ActivityPub" when its Accept header names `application/activity+json` or
`application/ld+json` with the ActivityStreams profile, and prefers it to HTML. Such requests
never reach the page cache (PAGE_CACHE_SKIP_ACCEPT), and every answer here says `Vary: Accept`.
(The HTML pages at these URLs carry a visitor's CSRF token and are sent `private`, so shared
caches keep neither.)
"""

from __future__ import annotations

from django.conf import settings
from django.urls import Resolver404, resolve
from django.utils.cache import patch_vary_headers

from federation import views

NEGOTIATED_VIEWS = ("posts:home", "posts:detail", "posts:author", "comments:permalink")


def wants_activitypub(accept: str) -> bool:
    """True when the Accept header prefers an ActivityStreams type to HTML."""
    best_ap = best_html = -1.0
    for index, part in enumerate(accept.split(",")):
        media, *params = [p.strip() for p in part.split(";")]
        media = media.lower()
        quality = 1.0
        profile = ""
        for param in params:
            name, _sep, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
            elif name.strip().lower() == "profile":
                profile = value.strip().strip('"')
        # Earlier entries win ties, as browsers and fediverse servers order them.
        score = quality - index * 1e-6
        if media == "application/activity+json" or (
            media == "application/ld+json" and (not profile or "activitystreams" in profile)
        ):
            best_ap = max(best_ap, score)
        elif media in ("text/html", "application/xhtml+xml"):
            best_html = max(best_html, score)
    return best_ap > 0 and best_ap > best_html


class ActivityPubNegotiationMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        accept = request.META.get("HTTP_ACCEPT", "")
        # Cheap test first: browsers' Accept headers never mention JSON-LD.
        if (
            "json" not in accept
            or not settings.FEDERATION_ENABLED
            or request.method not in ("GET", "HEAD")
            or not wants_activitypub(accept)
        ):
            return self.get_response(request)
        try:
            match = resolve(request.path_info)
        except Resolver404:
            return self.get_response(request)
        if match.view_name not in NEGOTIATED_VIEWS:
            return self.get_response(request)

        response = views.negotiated(request, match.view_name, match.kwargs)
        if response is None:
            response = self.get_response(request)
        patch_vary_headers(response, ("Accept",))
        return response
