"""Advertise the linkback endpoints in the headers of a post page.

Pingback 1.0 section "Autodiscovery" (``X-Pingback``) and Webmention section 3.1.2
(``Link: <…>; rel="webmention"``). The post view sets ``request.viewed_post``; pages without it,
and posts whose pings are closed, get no headers.
"""

from __future__ import annotations

from django.urls import reverse

from comments.linkbacks.services import pings_open, site_url


class LinkbackHeadersMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        post = getattr(request, "viewed_post", None)
        if post is None or response.status_code != 200 or not pings_open(post):
            return response
        response["X-Pingback"] = site_url(reverse("linkbacks:xmlrpc"))
        link = f'<{site_url(reverse("linkbacks:webmention"))}>; rel="webmention"'
        existing = response.headers.get("Link")
        response["Link"] = f"{existing}, {link}" if existing else link
        return response
