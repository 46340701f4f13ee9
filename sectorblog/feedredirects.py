"""WordPress's query-string feed URLs (`/?feed=rss2`, `/?feed=atom`, …) answered with a 301.

The home page is the reading views' business, so this runs as a middleware that only acts on
a GET or HEAD of `/` carrying a `feed` parameter. An unknown `feed` value falls through to the
home page, as WordPress serves its front page for those.
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


class WordPressFeedRedirectMiddleware:
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
        return self.get_response(request)
