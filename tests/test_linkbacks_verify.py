"""Shared verification: exact links, charsets, titles, excerpts and h-card authors, from real fetches."""

from __future__ import annotations

import pytest
from bs4 import BeautifulSoup

from comments.linkbacks.services import linkback_verify
from tests.interop.loopback import LoopbackHTTP, Reply

TARGET = "https://blog.example.org/2026/03/02/sanitation-markets/"

SPANISH = (
    "<html><head><title>Mercados de saneamiento en Perú</title></head><body><main><p>"
    "Durante la campaña en Cajamarca, el equipo técnico revisó cómo los pequeños proveedores "
    "venden baños ecológicos a familias rurales; según <a href='{target}'>el análisis del blog</a>, "
    "la demanda crece cuando hay crédito local y acompañamiento técnico después de la instalación, "
    "algo que también observamos en Ayacucho y en la sierra de Piura."
    "</p></main></body></html>"
)


@pytest.fixture
def peer(settings):
    with LoopbackHTTP() as server:
        settings.LINKBACK_ALLOWED_HOSTS = [server.host]
        yield server


def _verify(peer, body: bytes, content_type="text/html; charset=utf-8", target=TARGET, path="/s"):
    peer.routes[path] = Reply(body=body, content_type=content_type)
    return linkback_verify(source=peer.url(path), target=target)


@pytest.mark.parametrize(
    ("content_type", "meta"),
    [
        ("text/html; charset=ISO-8859-1", ""),
        ("text/html", '<meta charset="iso-8859-1">'),
        ("text/html", '<meta http-equiv="Content-Type" content="text/html; charset=ISO-8859-1">'),
        ("text/html", ""),  # no declaration at all: detected
    ],
    ids=["http-header", "meta-charset", "meta-http-equiv", "detected"],
)
def test_spanish_latin1_page_gives_a_correct_excerpt(peer, content_type, meta):
    html = SPANISH.format(target=TARGET).replace("<head>", f"<head>{meta}")
    result = _verify(peer, html.encode("iso-8859-1"), content_type)
    assert result.status == "ok"
    ctx = result.context
    assert ctx.title == "Mercados de saneamiento en Perú"
    assert "el análisis del blog" in ctx.excerpt
    assert "\ufffd" not in ctx.excerpt
    before, after = ctx.excerpt.split("el análisis del blog")
    assert 60 <= len(before.strip()) <= 100 and 60 <= len(after.strip()) <= 100
    # a verbatim piece of the paragraph, cut at word boundaries (in characters)
    paragraph = BeautifulSoup(SPANISH.format(target=TARGET), "html.parser").p.get_text()
    at = paragraph.index(ctx.excerpt)
    end = at + len(ctx.excerpt)
    assert paragraph[at - 1] == " " and (end == len(paragraph) or paragraph[end] == " ")


@pytest.mark.parametrize(
    "html",
    [
        "<p>See <a href='{target}#comments'>this</a>.</p>",  # fragment on the link is ignored
        "<p>See <a href='/2026/03/02/sanitation-markets/'>this</a>.</p>",  # relative, same host
        "<p><img src='{target}' alt='a picture'></p>",
        "<p><video src='{target}'></video></p>",
        "<p><audio src='{target}'></audio></p>",
        "<html><head><link rel='in-reply-to' href='{target}'></head><body></body></html>",
        "<html><head><base href='https://blog.example.org/2026/'></head>"
        "<body><a href='03/02/sanitation-markets/'>x</a></body></html>",
    ],
)
def test_links_that_count(settings, html):
    with LoopbackHTTP() as server:
        target = TARGET
        settings.LINKBACK_ALLOWED_HOSTS = [server.host]
        body = html.format(target=target)
        if "href='/2026" in body:
            target = server.url("/2026/03/02/sanitation-markets/")
        result = _verify(server, body.encode(), target=target)
        assert result.status == "ok"


@pytest.mark.parametrize(
    "html",
    [
        "<p>Plain text mention: {target}</p>",
        "<p><!-- <a href='{target}'>hidden</a> --></p>",
        "<script>var u = '<a href=\"{target}\">x</a>';</script>",
        "<p><a href='{target}extra'>longer URL</a></p>",
        "<p><a href='https://blog.example.org/2026/03/02/'>parent</a></p>",
        "<p><a data-href='{target}'>not an href</a></p>",
    ],
)
def test_mentions_that_do_not_count(peer, html):
    assert _verify(peer, html.format(target=TARGET).encode()).status == "no_link"


def test_h_entry_name_is_the_title_when_there_is_no_title_and_h_card_gives_the_author(peer):
    html = (
        "<html><body><article class='h-entry'><h1 class='p-name'>Agua y saneamiento</h1>"
        "<span class='p-author h-card'><a class='u-url p-name' href='https://lucia.example/'>Lucía</a>"
        "<img class='u-photo' src='https://lucia.example/me.png' alt=''></span>"
        f"<div class='e-content'><p>Ver <a href='{TARGET}'>la nota</a>.</p></div></article></body></html>"
    )
    ctx = _verify(peer, html.encode()).context
    assert ctx.title == "Agua y saneamiento"
    assert ctx.author_name == "Lucía"
    assert ctx.author_url == "https://lucia.example/"
    assert ctx.author_photo == "https://lucia.example/me.png"


def test_hostile_author_urls_are_dropped(peer):
    html = (
        "<div class='h-card'><a class='u-url p-name' href='javascript:alert(1)'>X</a>"
        "<img class='u-photo' src='data:image/svg+xml,<svg onload=alert(1)>'></div>"
        f"<p><a href='{TARGET}'>link</a></p>"
    )
    ctx = _verify(peer, html.encode()).context
    assert ctx.author_url == "" and ctx.author_photo == ""


def test_410_is_gone_and_errors_are_no_link(peer):
    peer.routes["/gone"] = Reply(410, b"gone")
    peer.routes["/err"] = Reply(500, f"<a href='{TARGET}'>x</a>".encode())
    assert linkback_verify(source=peer.url("/gone"), target=TARGET).status == "gone"
    assert linkback_verify(source=peer.url("/err"), target=TARGET).status == "no_link"
    assert _verify(peer, b"%PDF-1.4 " + TARGET.encode(), content_type="application/pdf").status == "no_link"


def test_long_excerpt_is_cut_in_characters_not_bytes(peer):
    words = " ".join(["ñandú"] * 60)
    html = f"<p>{words} <a href='{TARGET}'>enlace</a> {words}</p>"
    ctx = _verify(peer, html.encode()).context
    before, after = ctx.excerpt.split("enlace")
    assert set(before.split()) == {"ñandú"} and set(after.split()) == {"ñandú"}
    assert len(before.strip()) <= 100 and len(after.strip()) <= 100


BOMB = (
    b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">'
    b'<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">'
    b'<!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">'
    b'<!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">]>'
    b"<html><body><p>&lol5;</p></body></html>"
)


@pytest.mark.parametrize("content_type", ["application/xhtml+xml", "text/xml", "text/html"])
def test_xml_bomb_source_is_a_clean_no_link(peer, content_type):
    import time

    start = time.monotonic()
    assert _verify(peer, BOMB, content_type=content_type).status == "no_link"
    assert time.monotonic() - start < 5


def test_hostile_sources_end_cleanly_within_the_deadline(peer, settings):
    import gzip
    import time

    settings.LINKBACK_FETCH_DEADLINE = 1.5
    peer.routes["/drip"] = Reply(body=f"<a href='{TARGET}'>x</a>".encode() * 20, drip_delay=0.02)
    peer.routes["/loop"] = Reply(302, headers=[("Location", "/loop")])
    peer.routes["/huge"] = Reply(stream=lambda: (b"<p>" + b"a" * 65536 for _ in range(800)))
    peer.routes["/gzbomb"] = Reply(
        body=gzip.compress(b" " * (50 * 1024 * 1024)), headers=[("Content-Encoding", "gzip")]
    )
    for path in ("/drip", "/loop", "/huge", "/gzbomb"):
        start = time.monotonic()
        assert linkback_verify(source=peer.url(path), target=TARGET).status == "no_link", path
        assert time.monotonic() - start < 2.5, path
