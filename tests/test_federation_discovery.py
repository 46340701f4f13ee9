"""Being found: WebFinger, NodeInfo, host-meta, actor documents and posts as Articles, by content
negotiation on the same URLs as the HTML pages."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import pytest
from bs4 import BeautifulSoup

from tests import factories

AP = "application/activity+json"
LD = 'application/ld+json; profile="https://www.w3.org/ns/activitystreams"'
MASTODON_ACCEPT = f"{AP}, {LD}, text/html;q=0.1"


@pytest.fixture
def site(db, settings):
    settings.SITE_DOMAIN = "blog.example"
    settings.SITE_SCHEME = "https"
    settings.ALLOWED_HOSTS = ["blog.example", "testserver"]
    amara = factories.UserFactory(username="amara", first_name="Amara", last_name="Okafor")
    factories.UserFactory(username="idle", first_name="Idle", last_name="Editor")  # staff, no posts
    water = factories.TagFactory(name="clean water", slug="clean-water")
    post = factories.PostFactory(authors=[amara], tags=[water], title="Pumps that last", language="en")
    translation = factories.PostFactory(
        authors=[amara], title="Bombas que duran", language="es", translation_group=post.translation_group
    )
    draft = factories.PostFactory(authors=[amara], status="draft", title="Not yet")
    return {"post": post, "translation": translation, "draft": draft, "amara": amara}


def finger(client, resource):
    return client.get("/.well-known/webfinger", {"resource": resource})


def test_webfinger_finds_the_blog_and_authors_with_published_posts(client, site):
    response = finger(client, "acct:blog@blog.example")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/jrd+json"
    jrd = response.json()
    assert jrd["subject"] == "acct:blog@blog.example"
    self_link = next(link for link in jrd["links"] if link["rel"] == "self")
    assert self_link == {"rel": "self", "type": AP, "href": "https://blog.example/"}
    author = finger(client, "acct:amara@blog.example").json()
    assert next(link for link in author["links"] if link["rel"] == "self")["href"] == (
        "https://blog.example/author/amara/"
    )
    # By the actor's URL too.
    assert finger(client, "https://blog.example/author/amara/").json()["subject"] == "acct:amara@blog.example"


@pytest.mark.parametrize(
    "resource, status",
    [
        ("acct:idle@blog.example", 404),  # staff who wrote nothing are not found
        ("acct:nobody@blog.example", 404),
        ("acct:amara@elsewhere.example", 404),
        ("", 400),
    ],
)
def test_webfinger_does_not_find_others(client, site, resource, status):
    assert finger(client, resource).status_code == status


def test_nodeinfo_and_host_meta(client, site):
    index = client.get("/.well-known/nodeinfo").json()
    href = index["links"][0]["href"]
    assert href == "https://blog.example/nodeinfo/2.1"
    info = client.get("/nodeinfo/2.1").json()
    assert info["version"] == "2.1"
    assert info["protocols"] == ["activitypub"]
    assert info["usage"]["localPosts"] == 2  # the draft is not counted
    assert info["openRegistrations"] is False
    xrd = ET.fromstring(client.get("/.well-known/host-meta").content)
    link = xrd.find("{http://docs.oasis-open.org/ns/xri/xrd-1.0}Link")
    assert link.get("template") == "https://blog.example/.well-known/webfinger?resource={uri}"


@pytest.mark.parametrize("accept", [AP, LD, MASTODON_ACCEPT])
def test_actors_answer_activitypub_at_their_html_urls(client, site, accept):
    blog = client.get("/", HTTP_ACCEPT=accept)
    assert blog["Content-Type"].startswith(AP)
    assert "Accept" in blog["Vary"]
    doc = blog.json()
    assert doc["id"] == doc["url"] == "https://blog.example/"
    assert doc["preferredUsername"] == "blog"
    for name in ("inbox", "outbox", "followers", "following", "featured"):
        assert doc[name].startswith("https://blog.example/ap/blog/")
    assert doc["endpoints"]["sharedInbox"] == "https://blog.example/inbox"
    assert doc["publicKey"]["id"] == "https://blog.example/#main-key"
    assert doc["publicKey"]["owner"] == doc["id"]
    assert "BEGIN PUBLIC KEY" in doc["publicKey"]["publicKeyPem"]
    assert doc["icon"]["url"].endswith(".png")
    assert doc["summary"].startswith("<p>A sector learning blog")
    person = client.get("/author/amara/", HTTP_ACCEPT=accept).json()
    assert person["type"] == "Person"
    assert person["name"] == "Amara Okafor"
    assert person["preferredUsername"] == "amara"
    # Browsers still get the page, which shows the handle with a copy button.
    page = BeautifulSoup(client.get("/author/amara/").content, "html.parser")
    assert page.select_one(".fediverse-handle code").get_text() == "@amara@blog.example"
    assert page.select_one(".fediverse-handle button.copy-link")["data-url"] == "@amara@blog.example"


def test_staff_who_wrote_nothing_have_no_actor(client, site):
    assert client.get("/author/idle/", HTTP_ACCEPT=AP).status_code == 404


def test_posts_answer_activitypub_as_articles(client, site):
    post, translation = site["post"], site["translation"]
    response = client.get(post.get_absolute_url(), HTTP_ACCEPT=MASTODON_ACCEPT)
    assert response.status_code == 200
    article = response.json()
    url = f"https://blog.example{post.get_absolute_url()}"
    assert article["id"] == url
    assert article["type"] == "Article"
    assert article["name"] == "Pumps that last"
    assert "<h2" in article["content"] and "<script" not in article["content"]
    assert article["attributedTo"] == ["https://blog.example/author/amara/"]
    assert article["published"].endswith("Z") and article["updated"].endswith("Z")
    assert article["contentMap"] == {"en": article["content"]}
    assert article["tag"] == [
        {"type": "Hashtag", "href": "https://blog.example/tag/clean-water/", "name": "#CleanWater"}
    ]
    assert article["replies"]["type"] == "OrderedCollection"
    links = article["url"]
    assert links[0]["href"] == url and links[0]["hreflang"] == "en"
    assert links[1]["href"] == f"https://blog.example{translation.get_absolute_url()}"
    assert links[1]["hreflang"] == "es"
    # The HTML page is unchanged for browsers.
    assert client.get(post.get_absolute_url())["Content-Type"].startswith("text/html")


def test_drafts_are_not_articles(client, site):
    assert client.get(site["draft"].get_absolute_url(), HTTP_ACCEPT=AP).status_code == 404


def test_featured_image_is_an_attachment(client, site, settings, tmp_path):
    from django.core.files.base import ContentFile

    post = site["post"]
    post.featured_image.save("pump.png", ContentFile(b"\x89PNG fake"), save=False)
    post.featured_image_alt = "A hand pump"
    post.save()
    article = client.get(post.get_absolute_url(), HTTP_ACCEPT=AP).json()
    assert article["attachment"][0]["type"] == "Image"
    assert article["attachment"][0]["name"] == "A hand pump"
    assert article["attachment"][0]["url"].startswith("https://blog.example/media/featured/")


def test_collections(client, site):
    outbox = client.get("/ap/blog/outbox").json()
    assert outbox["type"] == "OrderedCollection" and outbox["totalItems"] == 2
    page = client.get("/ap/blog/outbox?page=1").json()
    assert {item["object"]["name"] for item in page["orderedItems"]} == {
        "Pumps that last",
        "Bombas que duran",
    }
    assert client.get("/ap/authors/amara/followers").json()["totalItems"] == 0
    assert client.get("/ap/authors/idle/outbox").status_code == 404
    assert client.get("/ap/blog/outbox?page=abc").status_code == 404


def test_the_subscribe_page_shows_the_blog_and_author_handles(client, site):
    page = BeautifulSoup(client.get("/subscribe/").content, "html.parser")
    handles = [code.get_text() for code in page.select(".fediverse-handle code")]
    assert handles == ["@blog@blog.example", "@amara@blog.example"]


@pytest.mark.parametrize("page_cache", [False, True])
def test_the_page_cache_never_mixes_html_and_activitypub(client, site, settings, page_cache):
    settings.PAGE_CACHE = settings.FRAGMENT_CACHE = page_cache
    url = site["post"].get_absolute_url()
    for _ in range(2):  # the second HTML request is a page-cache hit when the cache is on
        assert client.get(url)["Content-Type"].startswith("text/html")
        assert json.loads(client.get(url, HTTP_ACCEPT=AP).content)["type"] == "Article"
    assert client.get("/", HTTP_ACCEPT=AP).json()["type"] == "Organization"


def test_the_fast_path_leaves_activitypub_requests_to_django(site, settings):
    """The WSGI fast path (core/cache/fastpath.py) must not answer a cached HTML page to a peer."""
    from io import BytesIO

    from django.core.handlers.wsgi import WSGIHandler
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    from core.cache.fastpath import FastPath

    settings.PAGE_CACHE = settings.FRAGMENT_CACHE = settings.FAST_PATH = True
    app = FastPath(WSGIHandler())
    # As Django's test client does: the test's transaction must survive each request's end.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    url = site["post"].get_absolute_url()

    def call(accept: str):
        environ = {
            "REQUEST_METHOD": "GET",
            "PATH_INFO": url,
            "QUERY_STRING": "",
            "SERVER_NAME": "blog.example",
            "SERVER_PORT": "443",
            "HTTP_HOST": "blog.example",
            "HTTP_ACCEPT": accept,
            "wsgi.url_scheme": "https",
            "wsgi.input": BytesIO(),
            "wsgi.errors": BytesIO(),
        }
        seen = {}

        def start_response(status, headers, exc_info=None):
            seen["status"], seen["headers"] = status, dict(headers)

        body = b"".join(app(environ, start_response))
        return seen, body

    try:
        for _ in range(3):  # miss, hit (recorded), then answered by the fast path
            seen, _body = call("text/html")
            assert seen["headers"]["Content-Type"].startswith("text/html")
        assert app.records  # the fast path now answers this page by itself
        seen, body = call(AP)
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)
    assert seen["headers"]["Content-Type"].startswith(AP)
    assert json.loads(body)["type"] == "Article"


def test_article_content_has_absolute_links_and_images(client, site):
    post = site["post"]
    post.body = "See [the archive](/2025/) and ![a pump](/media/library/pump.png)."
    post.save()
    content = client.get(post.get_absolute_url(), HTTP_ACCEPT=AP).json()["content"]
    assert 'href="https://blog.example/2025/"' in content
    assert 'src="https://blog.example/media/library/pump.png"' in content
