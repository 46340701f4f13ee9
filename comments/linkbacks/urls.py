"""Linkback endpoints: /xmlrpc.php (and /xmlrpc/), <post>/trackback/, /webmention/.

The date converters are the ones posts registers at startup (posts/converters.py)."""

from django.urls import path

from comments.linkbacks import pingback, trackback, webmention

app_name = "linkbacks"
urlpatterns = [
    path("xmlrpc.php", pingback.xmlrpc_endpoint, name="xmlrpc"),
    path("xmlrpc/", pingback.xmlrpc_endpoint, name="xmlrpc-slash"),
    path("webmention/", webmention.webmention_receive, name="webmention"),
    path("webmention/<uuid:token>/", webmention.webmention_status, name="webmention-status"),
    path(
        "<yyyy:year>/<mm:month>/<mm:day>/<postslug:slug>/trackback/",
        trackback.trackback_receive,
        name="trackback",
    ),
]
