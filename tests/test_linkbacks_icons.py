"""A linkback's site icon (issue 23): the worker fetches the sending site's /favicon.ico once
through the guarded client, stores it as a small PNG on our storage, and "Mentioned elsewhere"
shows that local copy beside the site's name. Readers' browsers never ask the other site."""

from __future__ import annotations

from io import BytesIO

import pytest
from bs4 import BeautifulSoup
from django.core.files.storage import default_storage
from django.core.management import call_command
from PIL import Image

from tests.interop.loopback import LoopbackHTTP, Reply

# Transactional: the worker runs in-process and closes its database connection when its batch
# ends, which on PostgreSQL would end a test wrapped in one transaction (SQLite ignores it).
pytestmark = pytest.mark.django_db(transaction=True)


def ico() -> bytes:
    out = BytesIO()
    Image.new("RGBA", (48, 48), (200, 40, 40, 255)).save(out, "ICO", sizes=[(16, 16), (48, 48)])
    return out.getvalue()


@pytest.fixture
def peer(settings):
    with LoopbackHTTP() as server:
        settings.LINKBACK_ALLOWED_HOSTS = [server.host]
        settings.LINKBACK_ALLOWED_PORTS = [80, 443, 8080, server.port]
        yield server


def run_worker() -> None:
    call_command("db_worker", "--batch", "--no-reload", "--no-startup-delay", verbosity=0)


def pingback(post, make_comment, url, title="Lecciones"):
    return make_comment(
        post, kind="pingback", user_name="Blog del Agua", user_email="", comment="", source_url=url,
        source_title=title, excerpt="un informe muy útil",
    )  # fmt: skip


def test_the_site_icon_is_fetched_once_stored_locally_and_shown(
    client, post, make_comment, peer, settings, django_capture_on_commit_callbacks
):
    settings.PAGE_CACHE = False
    settings.FRAGMENT_CACHE = False
    peer.routes["/favicon.ico"] = Reply(200, ico(), content_type="image/x-icon")
    with django_capture_on_commit_callbacks(execute=True):
        first = pingback(post, make_comment, peer.url("/entrada-1"))
        second = pingback(post, make_comment, peer.url("/entrada-2"), title="Otra")
    run_worker()

    icon_name = f"icons/{peer.host.replace(':', '_')}.png"
    with default_storage.open(icon_name) as handle:
        assert Image.open(handle).size == (32, 32)
    asked = [r.path for r in peer.requests if r.path == "/favicon.ico"]
    assert len(asked) == 1  # two linkbacks from one site: one fetch
    page = BeautifulSoup(client.get(post.get_absolute_url()).content, "html.parser")
    for comment in (first, second):
        icon = page.select_one(f"li#c{comment.pk} .site img.favicon")
        assert icon["src"] == default_storage.url(icon_name) and icon["alt"] == ""
        assert peer.host not in icon["src"]
    assert page.select_one(f"li#c{first.pk} .site").get_text() == "Blog del Agua"


def test_a_site_without_a_usable_icon_is_shown_without_one(
    client, post, make_comment, peer, settings, django_capture_on_commit_callbacks
):
    settings.PAGE_CACHE = False
    settings.FRAGMENT_CACHE = False
    peer.routes["/favicon.ico"] = Reply(200, b"<html>not an icon</html>")
    with django_capture_on_commit_callbacks(execute=True):
        ping = pingback(post, make_comment, peer.url("/entrada"))
    run_worker()
    ping.refresh_from_db()
    assert ping.source_icon == ""
    page = BeautifulSoup(client.get(post.get_absolute_url()).content, "html.parser")
    assert page.select_one(f"li#c{ping.pk} .site img") is None
    assert page.select_one(f"li#c{ping.pk} .site").get_text() == "Blog del Agua"
