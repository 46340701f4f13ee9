"""The public origin follows `make run` (issue: what real peers and real people hit, items 1 and 2).

`PORT=8101 make run` must advertise port 8101 everywhere a reader, a feed reader, an email
recipient or another blog sees an absolute URL of the site, including what was stored while the
same database was served on another port before. Development emails stay raw files under
var/mail/ and are also summarised, decoded, on the `make run` console.

These tests run the README's own command (`make run`, through tests/live.py) on a free port, once
for the module: migrate, seed, gunicorn with two workers and the task worker.
"""

from __future__ import annotations

import email
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import feedparser
import pytest
from bs4 import BeautifulSoup

from tests.live import ROOT, LiveSite, needs_gunicorn, which_database

pytestmark = pytest.mark.skipif(bool(needs_gunicorn()), reason=needs_gunicorn() or "")

INTRO = "sector-learning-two-years-on"
OPEN_POST = "share-your-field-notes"


def _post_path(site: LiveSite, slug: str) -> str:
    code = f"from posts.models import Post; print(Post.objects.get(slug={slug!r}).get_absolute_url())"
    result = site.manage("shell", "-c", code)
    return result.stdout.strip().splitlines()[-1]


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """`make run` on a free port, over a database a newcomer first served on another port."""
    live = LiveSite(tmp_path_factory.mktemp("origin"), workers=2)
    earlier = "8000" if live.port != 8000 else "8001"
    print(f"[origin] make run on port {live.port} ({which_database()}), after a first run on {earlier}")
    # The first run: migrate and seed while HOST:PORT was 127.0.0.1:<earlier>.
    live.env["PORT"] = earlier
    live.prepare()
    live.env["PORT"] = str(live.port)
    live.earlier_port = earlier
    try:
        live.start_make_run()
        yield live
    finally:
        live.stop()


def _absolute_urls(text: str) -> list[str]:
    return re.findall(r"https?://127\.0\.0\.1:\d+[^\s\"'<>]*", text)


def test_make_run_on_another_port_advertises_that_port(site):
    origin = site.origin
    path = _post_path(site, INTRO)
    response = site.get(path)
    assert response.status == 200, response.text[:500]
    page = BeautifulSoup(response.text, "html.parser")

    assert page.select_one('link[rel="canonical"]')["href"] == origin + path
    assert page.select_one('meta[property="og:url"]')["content"] == origin + path
    assert page.select_one('link[rel="pingback"]')["href"] == origin + "/xmlrpc.php"
    assert page.select_one('link[rel="webmention"]')["href"] == origin + "/webmention/"
    assert response.header("X-Pingback") == origin + "/xmlrpc.php"
    assert f"<{origin}/webmention/>" in (response.header("Link") or "")
    # Share links carry the post's address.
    assert page.select_one("button.copy-link")["data-url"] == origin + path
    linkedin = page.select_one("a.share-linkedin")["href"]
    assert origin + path in linkedin.replace("%3A", ":").replace("%2F", "/")
    # Nothing on the page names another port of this host.
    stray = [url for url in _absolute_urls(response.text) if not url.startswith(origin + "/")]
    assert stray == []

    feed = feedparser.parse(site.get("/feed/").body)
    assert feed.feed.link == origin + "/"
    assert feed.entries, "the feed has items"
    for entry in feed.entries:
        assert entry.link.startswith(origin + "/"), entry.link
        assert entry.id.startswith(origin + "/"), entry.id
    assert any(link.href == origin + "/feed/" for link in feed.feed.links if link.rel == "self")


def test_internal_pingbacks_stored_under_an_earlier_port_follow_the_new_one(site):
    """The demo's internal pingbacks were stored while the site ran on another port."""
    path = _post_path(site, INTRO)
    # The worker has sent the seeded posts' linkbacks by now (it runs every second).
    deadline = time.monotonic() + 60
    while True:
        queued = site.manage(
            "shell",
            "-c",
            "from django_tasks_db.models import DBTaskResult as R; "
            "print(R.objects.filter(status__in=['READY', 'RUNNING']).count())",
        ).stdout.split()[-1]
        if queued == "0" or time.monotonic() > deadline:
            break
        time.sleep(1)
    page = BeautifulSoup(site.get(path).text, "html.parser")
    internal = [a["href"] for a in page.select(".kind-pingback a.source") if "127.0.0.1" in a["href"]]
    assert len(internal) == 2, internal  # two later posts link to the intro: one pingback each
    assert all(href.startswith(site.origin + "/") for href in internal), internal
    for href in internal:
        assert site.get(href[len(site.origin) :]).status == 200


def _comment_form(site: LiveSite, path: str) -> tuple[dict, str]:
    response = site.get(path)
    form = BeautifulSoup(response.text, "html.parser").select_one("form#comment-form")
    assert form is not None, "the demo's open post takes comments"
    data = {i["name"]: i.get("value", "") for i in form.select("input[type=hidden]")}
    cookie = "; ".join(f"{k}={v}" for k, v in response.cookies().items())
    return data, cookie


def test_make_run_console_prints_each_dev_email_decoded(site):
    path = _post_path(site, OPEN_POST)
    data, cookie = _comment_form(site, path)
    data.update(name="Ama Reader", email="ama.reader@example.net", comment="A field note from Kisumu.")
    response = site.post("/comments/post/", data, headers={"Cookie": cookie})
    assert response.status == 302, response.text[:800]

    log = site.var / "make-run.log"
    deadline = time.monotonic() + 60
    while "[mail] To: ama.reader@example.net" not in log.read_text(errors="replace"):
        assert time.monotonic() < deadline, site.log_tail(60)
        time.sleep(0.5)
    time.sleep(0.5)
    console = log.read_text(errors="replace")
    block = console[console.index("[mail] To: ama.reader@example.net") :]
    assert re.search(r"\[mail\] Subject: .+", block)
    links = re.findall(r"\[mail\] Link: (\S+)", block)
    confirm = [link for link in links if "/comments/confirm/" in link]
    assert confirm and confirm[0].startswith(site.origin + "/comments/confirm/"), links
    # The printed link is whole: following it confirms the comment.
    followed = site.get(confirm[0][len(site.origin) :])
    assert followed.status == 302, followed.text[:500]
    assert "A field note from Kisumu." in site.get(followed.header("Location").split("#")[0]).text

    # The file is still the file backend's raw MIME, which tools parse.
    files = sorted((site.var / "mail").glob("*.log"))
    raw = b"".join(f.read_bytes() for f in files)
    assert raw.count(b"-" * 79) >= 1
    message = email.message_from_bytes(raw.split(b"\n" + b"-" * 79)[0])
    assert message["To"] and message["Subject"]


def _setting(tmp_path, expression: str, **env) -> str:
    """A settings value as a fresh process started with `env` computes it."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
    for name in ("EMAIL_URL", "SITE_DOMAIN", "HOST", "PORT", "ALLOWED_HOSTS", "TESTING"):
        base.pop(name, None)
    base.update(VAR_DIR=str(tmp_path), SECRET_KEY="x" * 50, DJANGO_SETTINGS_MODULE="sectorblog.settings")
    base.update(env)
    code = f"import django; django.setup(); from django.conf import settings; print({expression})"
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=base, capture_output=True, text=True, check=True
    )
    return out.stdout.strip()


def test_production_mail_keeps_the_plain_file_backend(tmp_path):
    """Only development (DEBUG and no EMAIL_URL) prints mail on the console."""
    backend = "settings.MAILERS['default']['BACKEND']"
    prod = {"DEBUG": "0", "ALLOWED_HOSTS": "blog.example.org"}
    assert _setting(tmp_path, backend, DEBUG="1") == "core.devmail.EmailBackend"
    assert _setting(tmp_path, backend, **prod) == "django.core.mail.backends.filebased.EmailBackend"
    assert _setting(tmp_path, backend, DEBUG="1", EMAIL_URL=f"file://{Path(tmp_path) / 'm'}") == (
        "django.core.mail.backends.filebased.EmailBackend"
    )


def test_public_origin_is_the_served_host_and_port_unless_site_domain_says_otherwise(tmp_path):
    origin = "__import__('core.origin').origin.public_origin()"
    assert _setting(tmp_path, origin, DEBUG="1") == "http://127.0.0.1:8000"
    assert _setting(tmp_path, origin, DEBUG="1", PORT="8101") == "http://127.0.0.1:8101"
    # A wildcard bind address is no address a browser or a peer can open: loopback is advertised.
    assert _setting(tmp_path, origin, DEBUG="1", HOST="0.0.0.0", PORT="8101") == "http://127.0.0.1:8101"
    assert _setting(tmp_path, origin, DEBUG="1", HOST="::", PORT="8101") == "http://[::1]:8101"
    assert _setting(tmp_path, origin, DEBUG="1", HOST="my-laptop.local", PORT="8101") == (
        "http://my-laptop.local:8101"
    )
    # ... and in development the site answers on that name.
    hosts = _setting(tmp_path, "settings.ALLOWED_HOSTS", DEBUG="1", HOST="my-laptop.local")
    assert "'my-laptop.local'" in hosts
    explicit = {"SITE_DOMAIN": "blog.example.org", "SITE_SCHEME": "https"}
    assert _setting(tmp_path, origin, DEBUG="1", PORT="8101", **explicit) == "https://blog.example.org"


def test_migrate_moves_stored_internal_links_to_a_new_origin(db, settings, client):
    """The same database served on another port: internal pingbacks (and the send records that
    stop them being sent twice) name the new origin, with no duplicate left from either."""
    import io

    from django.core.management import call_command

    from comments.linkbacks.send import post_linkbacks_send
    from comments.models import Comment, LinkbackAttempt
    from posts.models import Post

    settings.SITE_DOMAIN = "127.0.0.1:8000"
    call_command("migrate", verbosity=0)
    call_command("seed_demo", stdout=io.StringIO())
    for post in Post.objects.exclude(slug=INTRO):
        post_linkbacks_send(post_id=post.pk)
    settings.SITE_DOMAIN = "127.0.0.1:8101"
    # A worker that ran under the new origin before any migrate stored one of them again.
    checklist = Post.objects.get(slug="community-of-practice-checklist")
    post_linkbacks_send(post_id=checklist.pk)
    call_command("migrate", verbosity=0)

    intro = Post.objects.get(slug=INTRO)
    internal = Comment.objects.filter(post=intro, is_internal=True)
    sources = sorted(internal.values_list("source_url", flat=True))
    assert sources == sorted(
        f"http://127.0.0.1:8101{p.get_absolute_url()}"
        for p in Post.objects.filter(slug__in=["writing-for-peers", "community-of-practice-checklist"])
    )
    user_urls = internal.values_list("user_url", flat=True)
    assert all(url.startswith("http://127.0.0.1:8101/") for url in user_urls)
    targets = LinkbackAttempt.objects.filter(protocol="internal").values_list("target_url", flat=True)
    assert targets and all(url.startswith("http://127.0.0.1:8101/") for url in targets)
    # Sending again under the new origin finds nothing new to send.
    assert post_linkbacks_send(post_id=checklist.pk) == []
    page = client.get(intro.get_absolute_url()).content.decode()
    assert "127.0.0.1:8000" not in page
