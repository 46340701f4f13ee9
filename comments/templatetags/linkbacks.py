"""Linkback autodiscovery in a post page's <head>, only while the post takes pings.

Pingback 1.0 "Autodiscovery" (``<link rel="pingback">`` with an absolute URL), Webmention section
3.1.2 (``<link rel="webmention">``) and TrackBack 1.2 "Auto-Discovery" (the RDF block, inside an
HTML comment as the spec shows).
"""

from __future__ import annotations

from django import template
from django.urls import reverse
from django.utils.html import format_html

from comments.linkbacks.services import pings_open, site_url

register = template.Library()


def permalink_path(post) -> str:
    return post.get_absolute_url()


@register.simple_tag
def linkback_head(post):
    if post is None or not pings_open(post):
        return ""
    permalink = site_url(permalink_path(post))
    trackback = site_url(permalink_path(post) + "trackback/")
    return format_html(
        '<link rel="pingback" href="{}">\n'
        '<link rel="webmention" href="{}">\n'
        "<!--\n"
        '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"\n'
        '         xmlns:dc="http://purl.org/dc/elements/1.1/"\n'
        '         xmlns:trackback="http://madskills.com/public/xml/rss/module/trackback/">\n'
        '<rdf:Description rdf:about="{}" dc:identifier="{}" dc:title="{}" trackback:ping="{}" />\n'
        "</rdf:RDF>\n"
        "-->",
        site_url(reverse("linkbacks:xmlrpc")),
        site_url(reverse("linkbacks:webmention")),
        permalink,
        permalink,
        post.title.replace("--", "—"),
        trackback,
    )
