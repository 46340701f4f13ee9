"""Safe embeds (issue 23): an allow-listed video or fediverse address alone on a line becomes a
click-to-load card whose title and thumbnail the worker fetched through the guarded client and
stored; any other address stays a link; the CSP allows exactly the providers' frames."""

from __future__ import annotations

import json
from io import BytesIO

import pytest
from bs4 import BeautifulSoup
from django.core.management import call_command
from PIL import Image

from posts import embeds
from tests.factories import PostFactory
from tests.interop.loopback import LoopbackHTTP, Reply

# Transactional: the worker runs in-process and closes its database connection when its batch
# ends, which on PostgreSQL would end a test wrapped in one transaction (SQLite ignores it).
pytestmark = pytest.mark.django_db(transaction=True)


def png() -> bytes:
    out = BytesIO()
    Image.new("RGB", (640, 360), (20, 90, 160)).save(out, "PNG")
    return out.getvalue()


@pytest.fixture
def peertube(settings):
    with LoopbackHTTP() as server:
        settings.LINKBACK_ALLOWED_HOSTS = [server.host]
        settings.LINKBACK_ALLOWED_PORTS = [80, 443, 8080, server.port]
        settings.EMBED_PEERTUBE_HOSTS = [server.host]
        settings.EMBED_INSECURE_HOSTS = [server.host]
        yield server


def test_which_addresses_are_embedded(settings):
    settings.EMBED_MASTODON_HOSTS = ["mastodon.social"]
    youtube = embeds.embed_for("https://www.youtube.com/watch?v=dQw4w9WgXcQ")
    assert youtube.frame == "https://www.youtube-nocookie.com/embed/dQw4w9WgXcQ"
    assert embeds.embed_for("https://youtu.be/dQw4w9WgXcQ").frame == youtube.frame
    assert embeds.embed_for("https://vimeo.com/76979871").frame == "https://player.vimeo.com/video/76979871"
    toot = embeds.embed_for("https://mastodon.social/@ana/113123456789")
    assert toot.frame == "https://mastodon.social/@ana/113123456789/embed" and toot.kind == "status"
    for refused in (
        "https://evil.example/@ana/1",  # a server not on the list
        "https://www.youtube.com/watch?v=short",
        "http://www.youtube.com/watch?v=dQw4w9WgXcQ",  # plain http
        "https://user:pw@vimeo.com/76979871",
        "javascript:alert(1)",
    ):
        assert embeds.embed_for(refused) is None, refused


def test_a_card_is_made_only_for_an_address_alone_on_its_line(client, settings):
    settings.PAGE_CACHE = False
    settings.FRAGMENT_CACHE = False
    url = "https://www.youtube.com/watch?v=dQw4w9WgXcQ"
    post = PostFactory(
        body=f"Watch this:\n\n{url}\n\nOr see {url} in a sentence.\n\nhttps://example.org/video"
    )
    page = BeautifulSoup(client.get(post.get_absolute_url()).content, "html.parser")
    cards = page.select(".e-content figure.embed")
    assert len(cards) == 1
    card = cards[0]
    assert card["data-embed-src"] == "https://www.youtube-nocookie.com/embed/dQw4w9WgXcQ"
    assert card.select_one("figcaption a")["href"] == url  # works without JavaScript
    assert card.find("iframe") is None and card.find("img") is None  # nothing from YouTube yet
    assert page.select_one(".e-content a[href='https://example.org/video']") is not None
    csp = client.get(post.get_absolute_url())["Content-Security-Policy"]
    frame_src = next(d for d in csp.split(";") if d.strip().startswith("frame-src")).split()[1:]
    assert frame_src == [
        "https://www.youtube-nocookie.com",
        "https://player.vimeo.com",
        *[f"https://{h}" for h in (*settings.EMBED_PEERTUBE_HOSTS, *settings.EMBED_MASTODON_HOSTS)],
    ]


def test_the_worker_fetches_title_and_thumbnail_once_and_stores_the_picture(
    client, peertube, settings, django_capture_on_commit_callbacks
):
    settings.PAGE_CACHE = False
    settings.FRAGMENT_CACHE = False
    video = peertube.url("/w/9c9de5e8-0a1e-484a-b099-e80766180a6d")
    peertube.routes["/services/oembed"] = Reply(
        200,
        json.dumps({"title": "Emptying pits, filmed", "thumbnail_url": peertube.url("/thumb.png")}).encode(),
        content_type="application/json",
    )
    peertube.routes["/thumb.png"] = Reply(200, png(), content_type="image/png")
    with django_capture_on_commit_callbacks(execute=True):
        post = PostFactory(body=f"Intro.\n\n{video}\n")
    call_command("db_worker", "--batch", "--no-reload", "--no-startup-delay", verbosity=0)

    card = BeautifulSoup(client.get(post.get_absolute_url()).content, "html.parser").select_one(
        "figure.embed"
    )
    assert card.select_one("figcaption a").get_text() == "Emptying pits, filmed"
    assert card.img["src"].startswith(settings.MEDIA_URL + "embeds/") and peertube.host not in card.img["src"]
    assert card["data-embed-src"] == peertube.url("/videos/embed/9c9de5e8-0a1e-484a-b099-e80766180a6d")

    def metadata_requests():  # the post's outbound linkback to the video is another matter
        return [r.path.split("?")[0] for r in peertube.requests if not r.path.startswith("/w/")]

    assert metadata_requests() == ["/services/oembed", "/thumb.png"]
    with django_capture_on_commit_callbacks(execute=True):
        post.save()  # saved again: nothing is fetched again
    call_command("db_worker", "--batch", "--no-reload", "--no-startup-delay", verbosity=0)
    assert metadata_requests() == ["/services/oembed", "/thumb.png"]
