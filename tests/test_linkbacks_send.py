"""Sending: our sender against a recording Webmention receiver, an xmlrpc.server Pingback server,
a TrackBack receiver, internal links, retries, updates and a real db_worker pass."""

from __future__ import annotations

import threading
import xmlrpc.client
from urllib.parse import parse_qs
from xmlrpc.server import SimpleXMLRPCRequestHandler, SimpleXMLRPCServer

import pytest
from bs4 import BeautifulSoup
from django.contrib.auth import get_user_model
from django_tasks_db.models import DBTaskResult

from comments.linkbacks.send import attempt_retry, post_linkbacks_send
from comments.models import Comment, LinkbackAttempt
from posts.models import Post
from tests import factories
from tests.interop.loopback import LoopbackHTTP, Reply
from tests.interop.worker import run_worker


class PingbackServer:
    """A Pingback 1.0 server built on the standard library's xmlrpc.server."""

    def __init__(self, fault: int | None = None):
        self.calls: list[tuple[str, str]] = []

        class Quiet(SimpleXMLRPCRequestHandler):
            def log_message(self, *args):
                pass

        self.server = SimpleXMLRPCServer(("127.0.0.1", 0), requestHandler=Quiet, logRequests=False)
        self.server.register_function(self.ping, "pingback.ping")
        self.fault = fault
        self.host = f"127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.02,), daemon=True)

    def ping(self, source, target):
        self.calls.append((source, target))
        if self.fault:
            raise xmlrpc.client.Fault(self.fault, "refused")
        return "Thanks"

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def peer(settings):
    settings.SITE_DOMAIN = "testserver"
    # A receiver without flood control: notifications to it need no spacing (see test_linkbacks_wordpress).
    settings.LINKBACK_SEND_SPACING_SECONDS = 0
    with LoopbackHTTP() as server:
        settings.LINKBACK_ALLOWED_HOSTS = [server.host]
        server.routes["/endpoint"] = lambda rec: Reply(202, b"accepted")
        yield server


def _wm_page(peer, path: str) -> None:
    peer.routes[path] = Reply(
        body=b"<html><head><link rel='webmention' href='/endpoint'></head><body>hi</body></html>"
    )


def _posts_to_endpoint(peer):
    return [parse_qs(r.body.decode()) for r in peer.requests if r.path == "/endpoint"]


def _post_with_body(body: str, **fields) -> Post:
    post = factories.PostFactory(body=body, **fields)
    return post


def test_webmention_sent_once_then_only_changes_on_update(peer, db):
    _wm_page(peer, "/a")
    _wm_page(peer, "/b")
    _wm_page(peer, "/c")
    post = _post_with_body(f"Read [a]({peer.url('/a')}) and [b]({peer.url('/b')}#part).")
    source = "http://testserver" + post.get_absolute_url()

    post_linkbacks_send(post_id=post.pk)
    sent = _posts_to_endpoint(peer)
    assert sorted(s["target"][0] for s in sent) == [peer.url("/a"), peer.url("/b")]
    assert {s["source"][0] for s in sent} == {source}
    attempts = LinkbackAttempt.objects.filter(post=post)
    assert {(a.protocol, a.outcome, a.http_status) for a in attempts} == {("webmention", "success", 202)}

    peer.requests.clear()
    post_linkbacks_send(post_id=post.pk)
    assert peer.requests == []  # unchanged post: nobody pinged again

    post.body = f"Now [a]({peer.url('/a')}) and [c]({peer.url('/c')})."
    post.save()
    post_linkbacks_send(post_id=post.pk)
    sent = _posts_to_endpoint(peer)
    assert sorted(s["target"][0] for s in sent) == [peer.url("/b"), peer.url("/c")]  # removed + added
    assert LinkbackAttempt.objects.get(post=post, target_url=peer.url("/b")).removed is True


def test_pingback_sent_to_an_xmlrpc_server(peer, db):
    with PingbackServer() as rpc, PingbackServer(fault=48) as dup, PingbackServer(fault=17) as nolink:
        for name, server in (("ok", rpc), ("dup", dup), ("nolink", nolink)):
            peer.routes[f"/{name}"] = Reply(headers=[("X-Pingback", f"http://{server.host}/RPC2")], body=b"x")
        from django.conf import settings

        settings.LINKBACK_ALLOWED_HOSTS = [peer.host, rpc.host, dup.host, nolink.host]
        post = _post_with_body(
            f"[ok]({peer.url('/ok')}) [dup]({peer.url('/dup')}) [nolink]({peer.url('/nolink')})"
        )
        post_linkbacks_send(post_id=post.pk)
        source = "http://testserver" + post.get_absolute_url()
        assert rpc.calls == [(source, peer.url("/ok"))]
        assert dup.calls and nolink.calls
    outcomes = {a.target_url.rsplit("/", 1)[1]: a for a in LinkbackAttempt.objects.filter(post=post)}
    assert outcomes["ok"].protocol == "pingback" and outcomes["ok"].outcome == "success"
    assert outcomes["dup"].outcome == "success" and outcomes["dup"].fault_code == 48
    assert outcomes["nolink"].outcome == "failed" and outcomes["nolink"].fault_code == 17


def test_internal_link_creates_an_approved_pingback_without_http(
    peer, db, client, django_assert_max_num_queries
):
    earlier = factories.PostFactory(title="Two years on")
    later = _post_with_body(
        f"As we wrote in [our first post](http://testserver{earlier.get_absolute_url()}), it works."
    )
    post_linkbacks_send(post_id=later.pk)
    pingback = Comment.objects.get(post=earlier)
    assert pingback.kind == "pingback" and pingback.is_internal and pingback.is_public
    assert pingback.source_title == later.title
    assert "our first post" in pingback.excerpt
    assert peer.requests == []
    attempt = LinkbackAttempt.objects.get(post=later)
    assert attempt.protocol == "internal" and attempt.outcome == "success"
    page = BeautifulSoup(client.get(earlier.get_absolute_url()).content, "html.parser")
    assert "our first post" in page.get_text()


def test_transient_failures_retry_with_backoff_then_fail_after_five(
    peer, db, django_capture_on_commit_callbacks
):
    peer.routes["/down"] = Reply(503, b"busy")
    post = _post_with_body(f"[down]({peer.url('/down')})")
    with django_capture_on_commit_callbacks(execute=True):
        post_linkbacks_send(post_id=post.pk)
    attempt = LinkbackAttempt.objects.get(post=post)
    assert attempt.outcome == "retry" and attempt.tries == 1 and attempt.next_retry_at is not None
    first_delay = attempt.next_retry_at - attempt.attempted_at
    retry_task = DBTaskResult.objects.filter(task_path__endswith="retry_linkback_attempt").first()
    assert retry_task is not None and retry_task.run_after is not None
    delays = [first_delay]
    for _ in range(4):
        attempt = attempt_retry(attempt_id=attempt.pk)
        if attempt.next_retry_at:
            delays.append(attempt.next_retry_at - attempt.attempted_at)
    assert attempt.outcome == "failed" and attempt.tries == 5
    assert all(b > a for a, b in zip(delays, delays[1:], strict=False))
    assert attempt_retry(attempt_id=attempt.pk).tries == 5  # a finished attempt is left alone


def test_no_endpoint_is_recorded_and_not_retried(peer, db):
    peer.routes["/plain"] = Reply(body=b"<p>no endpoints</p>")
    post = _post_with_body(f"[plain]({peer.url('/plain')})")
    post_linkbacks_send(post_id=post.pk)
    attempt = LinkbackAttempt.objects.get(post=post)
    assert attempt.outcome == "no_endpoint" and attempt.next_retry_at is None


def test_trackback_sent_only_to_listed_urls(peer, db):
    peer.routes["/tb"] = Reply(
        body=b"<?xml version='1.0'?><response><error>0</error></response>", content_type="text/xml"
    )
    _wm_page(peer, "/linked")
    post = _post_with_body(f"[linked]({peer.url('/linked')})", trackback_urls=peer.url("/tb") + "\n")
    post_linkbacks_send(post_id=post.pk)
    tb = [r for r in peer.requests if r.path == "/tb"]
    assert len(tb) == 1
    form = parse_qs(tb[0].body.decode())
    assert form["url"] == ["http://testserver" + post.get_absolute_url()] and form["title"] == [post.title]
    assert LinkbackAttempt.objects.get(post=post, target_url=peer.url("/tb")).outcome == "success"
    assert [r.path for r in peer.requests if r.method == "POST"].count("/tb") == 1


def test_publishing_queues_the_send_task_after_commit(db, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        draft = factories.PostFactory(status="draft", published_at=None)
    # A draft sends nothing (its save renews the page cache's content version after commit, too).
    assert not DBTaskResult.objects.filter(task_path__endswith="send_linkbacks").exists()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        draft.status = "published"
        draft.save()
    assert not DBTaskResult.objects.filter(task_path__endswith="send_linkbacks").exists()
    for callback in callbacks:  # queued on commit, not inline
        callback()
    task = DBTaskResult.objects.get(task_path__endswith="send_linkbacks")
    assert task.args_kwargs["args"] == [draft.pk]


def test_admin_lists_attempts(client, db, peer):
    peer.routes["/plain"] = Reply(body=b"<p>none</p>")
    post = _post_with_body(f"[plain]({peer.url('/plain')})")
    post_linkbacks_send(post_id=post.pk)
    admin = get_user_model().objects.create_superuser("root", "root@example.org", "pw-root-123")
    client.force_login(admin)
    page = BeautifulSoup(client.get("/admin/comments/linkbackattempt/").content, "html.parser")
    assert peer.url("/plain") in page.get_text()


@pytest.mark.django_db(transaction=True)
def test_end_to_end_publish_then_worker_notifies_the_receiver(peer, django_capture_on_commit_callbacks):
    """A real db_worker pass (a subprocess on PostgreSQL) sends the webmention after publishing."""
    _wm_page(peer, "/far")
    post = _post_with_body(f"[far]({peer.url('/far')})")
    mode = run_worker()
    print("worker ran", mode)
    sent = _posts_to_endpoint(peer)
    assert [s["target"][0] for s in sent] == [peer.url("/far")]
    assert LinkbackAttempt.objects.get(post=post).outcome == "success"


def test_scheduled_post_is_sent_at_its_publication_time(db, django_capture_on_commit_callbacks):
    import datetime as dt

    from django.utils import timezone

    when = timezone.now() + dt.timedelta(days=2)
    with django_capture_on_commit_callbacks(execute=True):
        post = factories.PostFactory(published_at=when)
    task = DBTaskResult.objects.get(task_path__endswith="send_linkbacks")
    assert task.args_kwargs["args"] == [post.pk] and task.run_after == when
    assert post_linkbacks_send(post_id=post.pk) == []  # not yet published: nothing sent
