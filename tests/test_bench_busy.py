"""bench/busy.py's own parts, where a mistake would quietly measure something else: its loopback
blogs' pages must pass the site's real pingback verification (else every ping of the busy run is
a fault), and the readers' mix must be the one its docstring gives."""

from __future__ import annotations

import pytest

from bench.busy import SHARES, Blogs, lua_script, reader_mix
from comments.linkbacks.services import linkback_verify

TARGET = "http://127.0.0.1:8000/2026/12/05/share-your-field-notes/"


def test_blog_pages_pass_the_sites_pingback_verification(settings):
    blogs = Blogs(2)
    try:
        settings.LINKBACK_ALLOWED_HOSTS = blogs.allowed_hosts().split(",")
        first, second = (blogs.publish(ip, TARGET) for ip in blogs.ips)
        assert linkback_verify(source=first, target=TARGET).status == "ok"
        assert linkback_verify(source=second, target=TARGET).status == "ok"
        assert blogs.served == 2
        # The page links to its own target only, and lives on the blog that published it.
        assert linkback_verify(source=first, target=TARGET.replace("share", "keep")).status == "no_link"
        assert (
            linkback_verify(source=first.replace(blogs.ips[0], blogs.ips[1]), target=TARGET).status
            == "no_link"
        )
    finally:
        blogs.close()


def test_reader_mix_has_the_documented_shares():
    facts = {
        "posts": [f"/2026/01/01/note-{i}/" for i in range(200)],
        "archives": ["/page/2/", "/category/water/", "/tag/rural/"],
        "category_feeds": ["/category/water/feed/"],
    }
    mix = reader_mix(facts, 1.0)
    by_kind: dict[str, float] = {}
    for _path, share, kind in mix:
        by_kind[kind] = by_kind.get(kind, 0.0) + share
    assert by_kind == pytest.approx(SHARES)
    posts = [share for _path, share, kind in mix if kind == "post"]
    assert posts[0] / posts[1] == pytest.approx(2) and posts[0] / posts[9] == pytest.approx(10)
    assert sum(posts[:10]) / SHARES["post"] == pytest.approx(0.5, abs=0.01)
    script = lua_script(mix, "csrftoken=abc", seed=1)
    assert script.count('"/2026/01/01/note-') == 200 and "1.000000000}" in script
