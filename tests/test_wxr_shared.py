"""Real WordPress exports from `<repo>/../shared/testdata/wxr/`: WordPress's own theme unit test
data must import with the counts WordPress's importer gives, and the other files without error.

These tests skip, saying why, when the folder is not there.
"""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
from django.apps import apps
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from lxml import etree

from posts.models import ImportRecord, Post, Redirect

REPO = Path(__file__).resolve().parent.parent


def _shared_folder() -> Path:
    candidates = [REPO.parent / "shared" / "testdata" / "wxr"]
    git = REPO / ".git"
    if git.is_file():  # a git worktree: the shared folder sits beside the main checkout
        gitdir = Path(git.read_text().split(":", 1)[1].strip())
        candidates.append(gitdir.parent.parent.parent.parent / "shared" / "testdata" / "wxr")
    return next((c for c in candidates if c.is_dir()), candidates[0])


SHARED = _shared_folder()
THEME = SHARED / "theme-unit-test-data.xml"


def _need(path: Path) -> None:
    if not path.is_file():
        reason = f"shared WXR test data not found: {path} (clone shared/ beside the repository)"
        print(reason)
        pytest.skip(reason)


def _items(path: Path):
    root = etree.parse(str(path), etree.XMLParser(resolve_entities=False, no_network=True)).getroot()
    wp = "{" + root.nsmap["wp"] + "}"
    for item in root.iter("item"):
        yield wp, item


def _date(value: str) -> dt.datetime | None:
    if not value or value.startswith("0000"):
        return None
    return dt.datetime.strptime(value, "%Y-%m-%d %H:%M:%S").replace(tzinfo=dt.UTC)


def test_theme_unit_test_data_matches_wordpress_importer(db, client):
    _need(THEME)
    out = io.StringIO()
    call_command("import_wxr", str(THEME), "--no-media", stdout=out)
    Comment = apps.get_model("comments", "Comment")

    # Counts WordPress's own importer produces.
    assert Post.objects.filter(is_page=False).count() == 58
    assert Post.objects.filter(is_page=True).count() == 21
    assert Comment.objects.filter(kind="comment").count() == 29
    assert Comment.objects.filter(kind="pingback").count() == 2
    assert Comment.objects.filter(kind="trackback").count() == 2
    assert get_user_model().objects.count() == 2
    assert ImportRecord.objects.filter(kind="author").count() == 2

    posts = {r.wp_id: int(r.object_id) for r in ImportRecord.objects.filter(kind="post")}
    records = {r.wp_id: int(r.object_id) for r in ImportRecord.objects.filter(kind="comment")}
    comments = {c.pk: c for c in Comment.objects.all()}
    replies = deepest = 0
    for wp, item in _items(THEME):
        post_type = item.findtext(wp + "post_type")
        if post_type not in ("post", "page"):
            continue
        post = Post.objects.get(pk=posts[item.findtext(wp + "post_id")])
        # Every slug and date equal to the file's.
        assert post.slug == unquote(item.findtext(wp + "post_name")) or not item.findtext(wp + "post_name")
        assert post.published_at == _date(item.findtext(wp + "post_date_gmt"))
        assert post.is_page == (post_type == "page")
        # Every comment under its true parent, at its true depth, however deep the thread is drawn.
        parents = {
            c.findtext(wp + "comment_id"): c.findtext(wp + "comment_parent")
            for c in item.iter(wp + "comment")
        }
        for wp_id, wp_parent in parents.items():
            ours = comments[records[wp_id]]
            assert ours.post_id == post.pk
            if wp_parent == "0":
                assert ours.parent_id == ours.pk and ours.level == 0
                continue
            replies += 1
            chain = [wp_parent]
            while parents.get(chain[-1], "0") != "0":
                chain.append(parents[chain[-1]])
            depth = len(chain)  # the reply's depth in WordPress, top level being 0
            assert ours.parent_id == records[wp_parent], wp_id
            assert ours.level == depth, wp_id
            deepest = max(deepest, depth)
        # Every old <link> leads to the new post: a 301, or the same URL when WordPress's matched ours.
        link = item.findtext("link").strip()
        path = urlsplit(link).path or "/"
        query = urlsplit(link).query
        # A full URL, so that a path like "//greek/" reaches the site as a path, as it would over HTTP.
        old = f"http://testserver{path}" + (f"?{query}" if query else "")
        if post.is_published:
            response = client.get(old)
            if response.status_code == 301:
                assert response["Location"] == post.get_absolute_url(), link
            else:
                assert response.status_code == 200, link
                assert unquote(response.wsgi_request.path) == unquote(post.get_absolute_url()), link
        else:
            # Drafts, scheduled and password-protected posts: the redirect is stored, and not followed yet.
            assert Redirect.objects.filter(post=post).exists(), link
            assert client.get(old).status_code in (200, 404)
    assert replies == 10
    assert deepest > settings.COMMENTS_MAX_THREAD_LEVEL  # the data is deeper than the site draws

    # Importing again changes nothing.
    before = (Post.objects.count(), Comment.objects.count(), Redirect.objects.count())
    second = io.StringIO()
    call_command("import_wxr", str(THEME), "--no-media", stdout=second)
    assert (Post.objects.count(), Comment.objects.count(), Redirect.objects.count()) == before
    lines = second.getvalue().splitlines()
    rows = lines[3 : lines.index("")] if "" in lines else lines[3:]
    assert rows and all(row.split()[-4:-2] == ["0", "0"] for row in rows), rows


@pytest.mark.parametrize("name", ["pelican-wordpressexport.xml", "wxr-comprehensive.xml"])
def test_other_shared_exports_import_without_error(db, name):
    path = SHARED / name
    _need(path)
    out = io.StringIO()
    call_command("import_wxr", str(path), "--no-media", stdout=out)
    expected = sum(1 for wp, item in _items(path) if item.findtext(wp + "post_type") in ("post", "page"))
    skipped_repeats = out.getvalue().count("repeats an earlier item; skipped")
    assert Post.objects.count() == expected - skipped_repeats
    assert "Imported" in out.getvalue()
