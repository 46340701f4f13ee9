"""How a post page advertises its linkback endpoints: head tags, RDF block and response headers."""

from __future__ import annotations

import json
import re

from bs4 import BeautifulSoup, Comment
from lxml import etree

from tests import factories


def test_open_post_advertises_all_three_protocols(client, db, settings):
    settings.SITE_DOMAIN = "blog.example.org"
    settings.SITE_SCHEME = "https"
    post = factories.PostFactory()
    response = client.get(post.get_absolute_url())
    assert response["X-Pingback"] == "https://blog.example.org/xmlrpc.php"
    assert '<https://blog.example.org/webmention/>; rel="webmention"' in response["Link"]
    head = BeautifulSoup(response.content, "html.parser").head
    assert head.find("link", rel="pingback")["href"] == "https://blog.example.org/xmlrpc.php"
    assert head.find("link", rel="webmention")["href"] == "https://blog.example.org/webmention/"
    rdf_text = next(c for c in head.find_all(string=lambda s: isinstance(s, Comment)) if "rdf:RDF" in c)
    rdf = etree.fromstring(rdf_text.strip().encode())
    description = rdf[0]
    ns = "{http://madskills.com/public/xml/rss/module/trackback/}"
    permalink = "https://blog.example.org" + post.get_absolute_url()
    assert description.get(f"{ns}ping") == permalink + "trackback/"
    assert description.get("{http://purl.org/dc/elements/1.1/}identifier") == permalink


def test_closed_post_advertises_nothing(client, db):
    post = factories.PostFactory(allow_pings=False)
    response = client.get(post.get_absolute_url())
    assert "X-Pingback" not in response
    assert "webmention" not in response.get("Link", "")
    html = response.content.decode()
    assert not re.search(r'rel="(pingback|webmention)"', html) and "trackback:ping" not in html


def test_title_cannot_break_out_of_the_rdf_comment(client, db):
    post = factories.PostFactory(title='--> <script>alert(1)</script> "x')
    soup = BeautifulSoup(client.get(post.get_absolute_url()).content, "html.parser")
    # The only script carrying the title is the JSON-LD data block, where it stays a JSON string.
    executable = [s for s in soup.find_all("script") if s.get("type") != "application/ld+json"]
    assert not [s for s in executable if "alert" in s.get_text()]
    (data,) = [json.loads(s.string) for s in soup.find_all("script", type="application/ld+json")]
    assert data["headline"] == post.title


def test_other_pages_get_no_linkback_headers(client, db):
    factories.PostFactory()
    response = client.get("/")
    assert response.status_code == 200 and "X-Pingback" not in response


def test_head_tags_add_no_queries(client, db, django_assert_num_queries, uncached_render):
    # Compares two uncached renders (a cached page costs no queries either way).
    open_post = factories.PostFactory()
    closed_post = factories.PostFactory(allow_pings=False)
    client.get(open_post.get_absolute_url())  # warm caches (site, content types)
    counts = []
    for post in (open_post, closed_post):
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as ctx:
            client.get(post.get_absolute_url())
        counts.append(len(ctx.captured_queries))
    assert counts[0] == counts[1]
    with django_assert_num_queries(counts[0]):
        client.get(open_post.get_absolute_url())
