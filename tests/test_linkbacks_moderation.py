"""Who may change what a linkback shows, and when it waits for a moderator: peers as peers do it
(real HTTP posts to /xmlrpc.php, <post>/trackback/ and /webmention/), with loopback sources whose
pages change between pings.

Issue "What real peers and real people hit", items 11 (TrackBack verification keeps the sender's
name and says it verified), 12 (nobody rewrites an approved linkback) and 13 (trust is per origin).
"""

from __future__ import annotations

import xmlrpc.client

import pytest
from bs4 import BeautifulSoup
from django.contrib.auth import get_user_model

from comments.linkbacks.tasks import verify_trackback
from comments.models import Comment
from tests import factories
from tests.interop.loopback import LoopbackHTTP, Reply


@pytest.fixture
def on_site(settings, db):
    settings.SITE_DOMAIN = "testserver"


@pytest.fixture
def sources(settings):
    """Two blogs on one host name and different ports, as on a laptop running a demo and a WordPress."""
    with LoopbackHTTP() as one, LoopbackHTTP() as two:
        settings.LINKBACK_ALLOWED_HOSTS = [one.host, two.host]
        yield one, two


def source_page(
    target: str,
    *,
    title: str = "Notes from Lima",
    author: str = "Lucía Quispe",
    photo: str = "https://lucia.example/me.png",
    words: str = "We read a good piece on sanitation markets",
) -> Reply:
    """A blog post that links to `target`, with an h-card author and avatar."""
    html = (
        f"<html><head><title>{title}</title></head><body><article class='h-entry'>"
        f"<span class='p-author h-card'><a class='u-url p-name' href='https://lucia.example/'>{author}</a>"
        f"<img class='u-photo' src='{photo}' alt=''></span>"
        f"<div class='e-content'><p>{words}, and you can find it "
        f"<a href='{target}'>on the sector blog</a>, with field notes from three towns.</p></div>"
        "</article></body></html>"
    )
    return Reply(body=html.encode())


def pingback(client, source: str, target: str) -> object:
    """pingback.ping over HTTP as xmlrpc.client marshals it; returns the result or the Fault."""
    body = xmlrpc.client.dumps((source, target), "pingback.ping")
    response = client.post("/xmlrpc.php", body, content_type="text/xml")
    assert response.status_code == 200
    try:
        return xmlrpc.client.loads(response.content)[0][0]
    except xmlrpc.client.Fault as fault:
        return fault


def trackback(client, post, **fields):
    response = client.post(post.get_absolute_url() + "trackback/", fields)
    root = BeautifulSoup(response.content, "xml")
    return response.status_code, root.find("error").text, (root.find("message") or root.new_tag("x")).text


def target_of(post) -> str:
    return "http://testserver" + post.get_absolute_url()


def shown_on_page(client, post) -> str:
    return BeautifulSoup(client.get(post.get_absolute_url()).content, "html.parser").get_text(" ")


def approve(comment: Comment) -> None:
    from comments.services import comment_approve

    comment.refresh_from_db()
    comment_approve(comment=comment)


# --- item 13: "hold the first linkback from a site" is per origin --------------------------------


def test_first_linkback_from_another_port_on_the_same_host_is_held(on_site, client, sources, settings):
    settings.LINKBACK_HOLD_FIRST_FROM_SOURCE = True
    one, two = sources
    post = factories.PostFactory()
    one.routes["/entry"] = source_page(target_of(post))
    one.routes["/later"] = source_page(target_of(post), title="A later note")
    two.routes["/entry"] = source_page(target_of(post), title="Hello from the other port")

    assert "registered" in pingback(client, one.url("/entry"), target_of(post))
    first = Comment.objects.get(source_url=one.url("/entry"))
    assert not first.is_public and first.hold_reason == "first linkback from this site"
    approve(first)

    # The same site again: trusted now.
    pingback(client, one.url("/later"), target_of(post))
    assert Comment.objects.get(source_url=one.url("/later")).is_public

    # Same host name (127.0.0.1), another port: another site, held like any first linkback.
    assert one.host.split(":")[0] == two.host.split(":")[0] and one.port != two.port
    pingback(client, two.url("/entry"), target_of(post))
    stranger = Comment.objects.get(source_url=two.url("/entry"))
    assert not stranger.is_public and stranger.hold_reason == "first linkback from this site"
    page = shown_on_page(client, post)
    assert "A later note" in page and "Hello from the other port" not in page


def test_our_own_internal_pingbacks_vouch_for_no_one(on_site, client, settings):
    """Internal pingbacks come from this site's origin; a peer naming a page here is still new."""
    settings.LINKBACK_HOLD_FIRST_FROM_SOURCE = True
    from comments.linkbacks import services
    from comments.linkbacks.excerpt import LinkContext
    from comments.linkbacks.send import post_linkbacks_send

    earlier = factories.PostFactory(title="Two years on")
    later = factories.PostFactory(body=f"See [our first post]({target_of(earlier)}).")
    post_linkbacks_send(post_id=later.pk)
    assert Comment.objects.get(post=earlier, is_internal=True).is_public
    # A peer pings `later` naming a page of ours as its source (say, a comment there links to it).
    comment, created = services.linkback_store(
        post=later,
        kind=Comment.Kind.PINGBACK,
        source=target_of(earlier) + "#c12",
        context=LinkContext(title="Two years on", excerpt="a reader's link"),
    )
    assert created and not comment.is_public and comment.hold_reason == "first linkback from this site"


# --- item 11: TrackBack verification keeps the sender's name and says it verified ------------------


def test_trackback_verification_keeps_blog_name_and_updates_the_hold_reason(on_site, client, sources):
    one, _two = sources
    post = factories.PostFactory()
    one.routes["/tb-entry"] = Reply(
        body=(
            "<html><head><title>Saneamiento en Cusco</title></head><body><p>Leímos "
            f"<a href='{target_of(post)}'>esta nota</a> con interés.</p></body></html>"
        ).encode()
    )
    status, error, _message = trackback(
        client, post, url=one.url("/tb-entry"), title="Saneamiento", blog_name="Agua Viva", excerpt="Leímos"
    )
    assert (status, error) == (200, "0")
    comment = Comment.objects.get(post=post)
    assert comment.hold_reason == "trackbacks are not verified"

    assert verify_trackback.call(comment.pk) == "ok"
    comment.refresh_from_db()
    assert comment.user_name == "Agua Viva"  # not the source's host, 127.0.0.1
    assert comment.source_title == "Saneamiento en Cusco" and "esta nota" in comment.excerpt
    assert comment.verified_at is not None and not comment.is_public
    assert comment.hold_reason == "trackback: its source links to this post"


def test_trackback_whose_source_does_not_link_says_so(on_site, client, sources):
    one, _two = sources
    post = factories.PostFactory()
    one.routes["/nolink"] = Reply(body=b"<html><title>Elsewhere</title><p>Nothing here.</p></html>")
    trackback(client, post, url=one.url("/nolink"), title="Claimed", blog_name="Agua Viva")
    comment = Comment.objects.get(post=post)
    assert verify_trackback.call(comment.pk) == "no_link"
    comment.refresh_from_db()
    assert comment.hold_reason == "trackback: its source does not link to this post"
    assert comment.source_title == "Claimed" and not comment.is_public


# --- item 12: nobody rewrites an approved linkback ---------------------------------------------------


@pytest.fixture
def public_pingback(on_site, client, sources, settings):
    settings.LINKBACK_HOLD_FIRST_FROM_SOURCE = False
    one, _two = sources
    post = factories.PostFactory()
    one.routes["/entry"] = source_page(target_of(post))
    assert "registered" in pingback(client, one.url("/entry"), target_of(post))
    comment = Comment.objects.get(post=post)
    assert comment.is_public and comment.source_title == "Notes from Lima"
    return post, comment, one


@pytest.fixture
def public_webmention(
    on_site, client, sources, settings, immediate_tasks, django_capture_on_commit_callbacks
):
    settings.LINKBACK_HOLD_FIRST_FROM_SOURCE = False
    one, _two = sources
    post = factories.PostFactory()
    one.routes["/entry"] = source_page(target_of(post))
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/webmention/", {"source": one.url("/entry"), "target": target_of(post)})
    assert response.status_code == 201
    comment = Comment.objects.get(post=post)
    assert comment.kind == "webmention" and comment.is_public
    return post, comment, one


@pytest.mark.parametrize("kind", ["public_pingback", "public_webmention"])
def test_trackback_never_overwrites_or_restores_a_pingback_or_webmention(request, client, kind):
    post, comment, one = request.getfixturevalue(kind)
    status, error, message = trackback(
        client,
        post,
        url=one.url("/entry"),
        title="Cheap pills",
        blog_name="Spam King",
        excerpt="Buy now",
    )
    assert (status, error) == (409, "1") and "already registered" in message
    comment.refresh_from_db()
    assert (comment.kind, comment.source_title, comment.user_name) == (
        kind[7:],
        "Notes from Lima",
        "Lucía Quispe",
    )
    assert comment.is_public and "Cheap pills" not in shown_on_page(client, post)

    # Hidden by a moderator: a trackback doesn't bring it back either.
    from comments.services import comment_remove

    comment_remove(comment=comment)
    status, error, _message = trackback(client, post, url=one.url("/entry"), title="Back again")
    comment.refresh_from_db()
    assert (status, error) == (409, "1") and comment.is_removed and not comment.is_public
    assert Comment.objects.filter(post=post).count() == 1


def test_changed_source_sends_an_approved_pingback_back_to_moderation(public_pingback, client):
    post, comment, one = public_pingback
    # The source reworded only its spacing and case: nothing material, it stays as it is.
    one.routes["/entry"] = source_page(target_of(post), title="Notes  from LIMA")
    fault = pingback(client, one.url("/entry"), target_of(post))
    assert isinstance(fault, xmlrpc.client.Fault) and fault.faultCode == 48
    comment.refresh_from_db()
    assert comment.is_public

    # Now a new title, author and avatar: held until a moderator looks.
    one.routes["/entry"] = source_page(
        target_of(post), title="Casino bonus", author="Bonus Bot", photo="https://evil.example/x.png"
    )
    pingback(client, one.url("/entry"), target_of(post))
    comment.refresh_from_db()
    assert not comment.is_public and comment.hold_reason == "the source changed the text shown here"
    assert (comment.source_title, comment.user_name) == ("Casino bonus", "Bonus Bot")
    page = shown_on_page(client, post)
    assert "Casino bonus" not in page and "Bonus Bot" not in page

    approve(comment)
    comment.refresh_from_db()
    assert comment.is_public and comment.hold_reason == ""


def test_changed_source_sends_an_approved_webmention_back_to_moderation(
    public_webmention, client, django_capture_on_commit_callbacks
):
    post, comment, one = public_webmention
    one.routes["/entry"] = source_page(target_of(post), words="Miracle cures are sold")
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/webmention/", {"source": one.url("/entry"), "target": target_of(post)})
    comment.refresh_from_db()
    assert "Miracle cures" in comment.excerpt
    assert not comment.is_public and comment.hold_reason == "the source changed the text shown here"
    assert "Miracle cures" not in shown_on_page(client, post)


def test_repeated_trackback_changes_an_approved_one_only_through_verification(on_site, client, sources):
    one, _two = sources
    post = factories.PostFactory()
    one.routes["/tb"] = Reply(
        body=f"<title>Saneamiento</title><p>Ver <a href='{target_of(post)}'>la nota</a>.</p>".encode()
    )
    trackback(client, post, url=one.url("/tb"), title="Saneamiento", blog_name="Agua Viva")
    comment = Comment.objects.get(post=post)
    verify_trackback.call(comment.pk)
    approve(comment)
    assert "Saneamiento" in shown_on_page(client, post)

    # The same URL pinged again with other words: nothing changes, nothing is unhidden.
    status, error, _message = trackback(
        client, post, url=one.url("/tb"), title="Casino bonus", excerpt="Win big", blog_name="Bonus Bot"
    )
    assert (status, error) == (200, "0")
    comment.refresh_from_db()
    assert (comment.source_title, comment.user_name, comment.is_public) == ("Saneamiento", "Agua Viva", True)

    # Verification reads the source: unchanged, so nothing changes.
    verify_trackback.call(comment.pk)
    comment.refresh_from_db()
    assert comment.is_public and comment.source_title == "Saneamiento"

    # The source itself changed: its new text waits for a moderator.
    one.routes["/tb"] = Reply(
        body=f"<title>Casino bonus</title><p>Win <a href='{target_of(post)}'>big</a>.</p>".encode()
    )
    verify_trackback.call(comment.pk)
    comment.refresh_from_db()
    assert comment.source_title == "Casino bonus" and not comment.is_public
    assert "Casino bonus" not in shown_on_page(client, post)


def test_moderator_removal_stands_but_a_source_that_links_again_comes_back(public_pingback, client):
    post, comment, one = public_pingback
    from comments.services import comment_remove

    comment_remove(comment=comment)
    pingback(client, one.url("/entry"), target_of(post))
    comment.refresh_from_db()
    assert comment.is_removed and not comment.is_public

    # A webmention whose source stops linking is hidden by the site, and returns when it links again.
    from comments.linkbacks import services

    other = factories.PostFactory()
    one.routes["/wm"] = source_page(target_of(other))
    services.linkback_receive(post=other, kind="webmention", source=one.url("/wm"), target=target_of(other))
    mention = Comment.objects.get(post=other)
    assert mention.is_public
    one.routes["/wm"] = Reply(body=b"<p>Link gone.</p>")
    services.linkback_receive(post=other, kind="webmention", source=one.url("/wm"), target=target_of(other))
    mention.refresh_from_db()
    assert mention.is_removed
    one.routes["/wm"] = source_page(target_of(other))
    services.linkback_receive(post=other, kind="webmention", source=one.url("/wm"), target=target_of(other))
    mention.refresh_from_db()
    assert not mention.is_removed and mention.is_public
    assert "Notes from Lima" in shown_on_page(client, other)


def test_admin_shows_why_a_changed_linkback_is_held(public_pingback, client):
    post, comment, one = public_pingback
    one.routes["/entry"] = source_page(target_of(post), title="Casino bonus")
    pingback(client, one.url("/entry"), target_of(post))
    admin = get_user_model().objects.create_superuser("root", "root@example.org", "pw-root-123")
    client.force_login(admin)
    page = client.get("/admin/comments/comment/?state=held").content.decode()
    assert "the source changed the text shown here" in page


# --- item 15: a trackback flood is one email per author, not one per trackback --------------------


def _run_due_tasks() -> None:
    """The real db_worker, one pass, in this process: its emails land in mail.outbox, and it reads
    the clock the test sets. The test is transactional, so the worker may close its connection."""
    from django.core.management import call_command

    call_command("db_worker", batch=True, reload=False, startup_delay=False, verbosity=0)


@pytest.mark.django_db(transaction=True)
def test_trackback_flood_from_many_addresses_is_one_digest_per_author(client, settings):
    import datetime as dt

    import time_machine
    from django.core import mail
    from django.utils import timezone

    settings.SITE_DOMAIN = "testserver"
    settings.LINKBACK_HELD_DIGEST_SECONDS = 600
    authors = [factories.UserFactory(username=name) for name in ("amara", "bruno")]
    post = factories.PostFactory(authors=authors)
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        for ip in range(6):  # six addresses, five trackbacks each: under the per-address limit
            for n in range(5):
                response = client.post(
                    post.get_absolute_url() + "trackback/",
                    {
                        "url": f"http://10.0.{ip}.{n}/buy-now",
                        "title": f"CHEAP PILLS {ip}-{n}",
                        "excerpt": "Click here http://spam.example/",
                        "blog_name": "Totally legit",
                    },
                    REMOTE_ADDR=f"203.0.113.{ip + 1}",
                )
                assert b"<error>0</error>" in response.content
        assert Comment.objects.filter(post=post, kind="trackback", is_public=False).count() == 30
        _run_due_tasks()
        assert mail.outbox == []  # the digest waits for the window to gather the flood

    with time_machine.travel(start + dt.timedelta(seconds=601), tick=False):
        _run_due_tasks()
    assert sorted(m.to[0] for m in mail.outbox) == ["amara@example.org", "bruno@example.org"]
    for message in mail.outbox:
        assert "30 linkbacks" in message.subject and post.title in message.subject
        assert "Trackback: 30" in message.body and "30 different sites" in message.body
        assert f"post__id__exact={post.pk}" in message.body
        assert "PILLS" not in message.body and "spam.example" not in message.body  # no sender text

    # A linkback after the digest starts a new window: batched, never dropped.
    mail.outbox.clear()
    with time_machine.travel(start + dt.timedelta(seconds=700), tick=False):
        client.post(post.get_absolute_url() + "trackback/", {"url": "http://10.1.0.1/late"})
    with time_machine.travel(start + dt.timedelta(seconds=1301), tick=False):
        _run_due_tasks()
    assert len(mail.outbox) == 2 and all("31 linkbacks" in m.subject for m in mail.outbox)
