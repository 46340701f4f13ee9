"""Interop with an independent ActivityPub implementation: a Fedify peer (tests/interop/fedify/,
Node 22 from the npm registry's `node` package) and the blog as it runs (gunicorn over HTTPS with
several workers, the task worker, a scratch database), talking over real HTTP on loopback.

The peer discovers the blog by WebFinger and follows it, receives the next post's Create and
verifies our signature, replies to the post and to a comment, likes and boosts the post, edits
and deletes its reply, and receives the author's federated answer. Every step is checked on both
sides: the blog's pages, documents and rows, and what the peer says it received and verified.

Run by .ci/run as `pytest -m fedify` after `npm ci` in tests/interop/fedify.
"""

from __future__ import annotations

import json
import os
import shutil
import ssl
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest
from bs4 import BeautifulSoup

from tests.live import LiveSite, free_port, needs_gunicorn, which_database

pytestmark = pytest.mark.fedify

ROOT = Path(__file__).resolve().parent.parent
FEDIFY = ROOT / "tests" / "interop" / "fedify"
NODE = FEDIFY / "node_modules" / "node" / "bin" / "node"


def _cert(tmp_path: Path) -> tuple[Path, Path]:
    cert, key = tmp_path / "localhost.pem", tmp_path / "localhost-key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=localhost",
         "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip
    return cert, key


class FedifyPeer:
    def __init__(self, tmp_path: Path, cert: Path, key: Path):
        self.port = free_port()
        self.origin = f"https://localhost:{self.port}"
        self.context = ssl.create_default_context(cafile=str(cert))
        self.log = tmp_path / "fedify.log"
        env = {
            **os.environ,
            "PORT": str(self.port),
            "TLS_CERT": str(cert),
            "TLS_KEY": str(key),
            "NODE_EXTRA_CA_CERTS": str(cert),
        }
        with open(self.log, "wb") as handle:
            self.proc = subprocess.Popen(
                [str(NODE), "server.mjs"], cwd=FEDIFY, env=env, stdout=handle, stderr=subprocess.STDOUT
            )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                self.received()
                return
            except OSError:
                if self.proc.poll() is not None:
                    break
                time.sleep(0.3)
        raise AssertionError(f"the Fedify peer did not start:\n{self.log.read_text()[-3000:]}")

    def _call(self, path: str, payload: dict | None = None):
        data = json.dumps(payload).encode() if payload is not None else None
        request = urllib.request.Request(self.origin + path, data=data, method="POST" if data else "GET")
        try:
            with urllib.request.urlopen(request, context=self.context, timeout=60) as response:
                return json.loads(response.read())
        except urllib.error.HTTPError as error:
            raise AssertionError(f"peer {path}: {error.code} {error.read()[:2000]!r}") from None

    def order(self, action: str, **payload):
        return self._call(f"/control/{action}", payload)

    def received(self) -> list[dict]:
        return self._call("/control/received")

    def wait_for(self, predicate, what: str, timeout: float = 60) -> dict:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for item in self.received():
                if predicate(item):
                    return item
            time.sleep(0.5)
        raise AssertionError(f"the peer never received {what}; it has {json.dumps(self.received())[:3000]}")

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def shell(site: LiveSite, code: str):
    """Run Python in the site's Django (its database); the code prints one JSON value."""
    result = site.manage("shell", "-c", code)
    return json.loads(result.stdout.strip().splitlines()[-1])


def page(site: LiveSite, path: str) -> BeautifulSoup:
    response = site.get(path)
    assert response.status == 200, response.text[:500]
    return BeautifulSoup(response.body, "html.parser")


def wait_until(check, what: str, timeout: float = 60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.5)
    raise AssertionError(f"timed out waiting for {what}")


def test_a_fedify_peer_follows_reads_replies_reacts_and_hears_back(tmp_path):
    if not NODE.exists():
        pytest.skip(f"Node 22 for the Fedify peer is not installed: run `npm ci` in {FEDIFY} (.ci/run does)")
    if reason := needs_gunicorn():
        pytest.skip(reason)
    if not shutil.which("openssl"):
        pytest.skip("the openssl command is needed to make the test certificate")
    print(f"Fedify interop on {which_database()}")
    cert, key = _cert(tmp_path)
    peer = FedifyPeer(tmp_path, cert, key)
    site = LiveSite(tmp_path, workers=2, task_worker=True, tls=(cert, key))
    site.env.update(
        SITE_DOMAIN=site.host,
        SITE_SCHEME="https",
        FEDERATION_ALLOWED_HOSTS=f"localhost:{peer.port}",
        LINKBACK_TLS_CA_FILE=str(cert),
        FEDERATION_RETRY_BASE_SECONDS="2",
    )
    blog_handle = f"@blog@{site.host}"
    try:
        site.start()
        # 1. WebFinger discovery and Follow; our Accept reaches the peer, signed.
        followed = peer.order("follow", handle=blog_handle)
        assert followed["actor"] == f"{site.origin}/"
        assert followed["name"] == "Sector Learning"
        accept = peer.wait_for(lambda a: a["kind"] == "Accept", "the Accept of its Follow")
        assert accept["verified"] and accept["actor"] == f"{site.origin}/"
        followers = json.loads(site.get("/ap/blog/followers").body)
        assert followers["totalItems"] == 1
        assert shell(site, "import json; from federation.models import Follower; "
                     "print(json.dumps(list(Follower.objects.values_list('actor__uri', 'state'))))") == [
            [f"{peer.origin}/users/peer", "accepted"]
        ]  # fmt: skip

        # 2. The next post goes out as a Create of an Article, and the peer verified our signature.
        post = shell(
            site,
            "import json; from django.contrib.auth import get_user_model; "
            "from posts.models import Post, PostAuthor; "
            "author = get_user_model().objects.filter(authorships__isnull=False).first(); "
            "post = Post.objects.create(title='Wells after the rains', body='We went back in **May**.', "
            "status='published'); "
            "PostAuthor.objects.create(post=post, user=author); "
            "print(json.dumps({'url': post.get_absolute_url(), 'author': author.username, 'pk': post.pk}))",
        )  # fmt: skip
        post_id = f"{site.origin}{post['url']}"
        created = peer.wait_for(
            lambda a: a["kind"] == "Create" and (a["object"] or {}).get("id") == post_id, "the post's Create"
        )
        assert created["verified"] and created["actor"] == f"{site.origin}/"
        assert created["object"]["type"] == "Article"
        assert created["object"]["name"] == "Wells after the rains"

        # 3. A reply to the post: the sender's first, so it is held; a moderator approves it.
        first = peer.order("reply", to=blog_handle, inReplyTo=post_id, content="<p>Which wells?</p>")
        held = shell(
            site,
            "import json; from federation.models import RemoteNote; "
            f"n = RemoteNote.objects.select_related('comment').get(object_id={first['id']!r}); "
            "print(json.dumps([n.comment.pk, n.comment.is_public, n.comment.hold_reason]))",
        )
        assert held[1] is False and "first fediverse reply" in held[2]
        assert page(site, post["url"]).select_one(f"li#c{held[0]}") is None
        shell(
            site,
            "from comments.models import Comment; from comments.services import comment_approve; "
            f"comment_approve(comment=Comment.objects.get(pk={held[0]})); print(1)",
        )
        shown = page(site, post["url"]).select_one(f"li#c{held[0]}")
        assert shown.select_one(".comment-body").get_text(strip=True) == "Which wells?"
        assert shown.select_one(".comment-handle").get_text() == "@peer@localhost"

        # 4. A reply to a reader's comment nests under it (this sender is approved now).
        local = shell(
            site,
            "import json; from comments.models import Comment; from django.contrib.sites.models import Site; "
            "from django.contrib.contenttypes.models import ContentType; from posts.models import Post; "
            f"post = Post.objects.get(pk={post['pk']}); "
            "c = Comment.objects.create(content_type=ContentType.objects.get_for_model(Post), "
            "object_pk=str(post.pk), "
            "site=Site.objects.get_current(), user_name='Reader Rosa', user_email='rosa@example.net', "
            "comment='The one by the school.', is_public=True, parent_id=0); "
            "print(json.dumps({'pk': c.pk, 'url': c.get_absolute_url()}))",
        )  # fmt: skip
        second = peer.order(
            "reply", to=blog_handle, inReplyTo=f"{site.origin}{local['url']}", content="<p>Thanks Rosa</p>"
        )
        nested = wait_until(
            lambda: page(site, post["url"]).select_one(
                f"li#c{local['pk']} > ol.children > li.kind-fediverse"
            ),
            "the reply under the comment",
        )
        assert nested.select_one(".comment-body").get_text(strip=True) == "Thanks Rosa"

        # 5. A like and a boost: counted in the row above the thread, never comments.
        peer.order("like", to=blog_handle, object=post_id)
        peer.order("announce", to=blog_handle, object=post_id)
        row = page(site, post["url"]).select_one("#comments .reactions")
        assert row.select_one(".reaction-likes a").get_text() == "Fedify Peer"
        assert row.select_one(".reaction-boosts a").get_text() == "Fedify Peer"

        # 6. The peer edits its reply, then deletes its first one.
        peer.order("edit", to=blog_handle, id=second["id"], content="<p>Thanks Rosa, noted!</p>")
        edited = page(site, post["url"]).select_one(f"li#c{local['pk']} li.kind-fediverse .comment-body")
        assert edited.get_text(strip=True) == "Thanks Rosa, noted!"
        peer.order("delete", to=blog_handle, id=first["id"])
        assert page(site, post["url"]).select_one(f"li#c{held[0]}") is None

        # 7. The author answers the peer's reply; the answer reaches the peer as a Note.
        answer = shell(
            site,
            "import json; from django.contrib.auth import get_user_model; "
            "from federation.models import RemoteNote; from comments.services import answer_post; "
            f"note = RemoteNote.objects.select_related('comment').get(object_id={second['id']!r}); "
            f"user = get_user_model().objects.get(username={post['author']!r}); "
            "s = answer_post(parent=note.comment, user=user, text='Glad it helps!'); "
            "print(json.dumps({'pk': s.comment.pk, 'outcome': s.outcome}))",
        )  # fmt: skip
        assert answer["outcome"] == "public"
        heard = peer.wait_for(
            lambda a: a["kind"] == "Create" and (a["object"] or {}).get("inReplyTo") == second["id"],
            "the author's answer",
        )
        assert heard["verified"]
        assert heard["actor"] == f"{site.origin}/author/{post['author']}/"
        assert "Glad it helps!" in heard["object"]["content"]
        mention = heard["object"]["tag"]
        mention = mention if isinstance(mention, list) else [mention]
        assert any(t.get("href") == f"{peer.origin}/users/peer" for t in mention)
        thread = page(site, post["url"])
        assert thread.select_one(f"li.kind-fediverse > ol.children > li#c{answer['pk']}")
    except AssertionError:
        print(site.log_tail(80))
        print(peer.log.read_text()[-4000:])
        raise
    finally:
        if os.environ.get("FEDIFY_KEEP_LOGS"):
            print(site.log_tail(200))
            print(peer.log.read_text()[-6000:])
        site.stop()
        peer.stop()
