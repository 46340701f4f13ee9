"""Feed plumbing that sits in front of the views.

- WordPress's query-string feed URLs (`/?feed=rss2`, `/?feed=atom`, `/?feed=comments-rss2`, …)
  get a 301 to the matching feed. The home page belongs to the reading views, so this is a
  middleware that acts only on a GET or HEAD of `/` carrying `feed`. An unknown `feed` value
  falls through to the home page, as WordPress serves its front page for those.
- Feed responses do not depend on Accept-Language (their language comes from `?lang=` or the
  post), so the `Vary: Accept-Language` that LocaleMiddleware adds is taken off them again: a
  CDN then keeps one copy per feed instead of one per reader language. This needs the
  middleware listed before (outside) LocaleMiddleware.
"""

from django.http import HttpResponsePermanentRedirect
from django.urls import reverse
from django.utils.http import urlencode

WORDPRESS_FEEDS = {
    "": "feeds:site",
    "feed": "feeds:site",
    "rss": "feeds:site",
    "rss2": "feeds:site",
    "rdf": "feeds:site",
    "atom": "feeds:site-atom",
    "comments-rss2": "feeds:comments",
    "comments-atom": "feeds:comments-atom",
}


class FeedMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path_info == "/" and "feed" in request.GET and request.method in ("GET", "HEAD"):
            name = WORDPRESS_FEEDS.get(request.GET["feed"].strip().lower())
            if name:
                target = reverse(name)
                lang = request.GET.get("lang", "")
                if lang:
                    target += "?" + urlencode({"lang": lang})
                return HttpResponsePermanentRedirect(target)
        response = self.get_response(request)
        match = getattr(request, "resolver_match", None)
        if match is not None and "feeds" in match.namespaces and response.has_header("Vary"):
            kept = [v.strip() for v in response["Vary"].split(",") if v.strip().lower() != "accept-language"]
            if kept:
                response["Vary"] = ", ".join(kept)
            else:
                del response["Vary"]
        return response
