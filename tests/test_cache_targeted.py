"""Issue 24 §2: a change renews only the pages that show it (core.cache.deps).

With every cache on (as in production), a comment on post A renews A's page, A's comment feed,
the all-comments feed and the lists that show A's count; post B, a list without A and the site
feed stay page-cache hits. A write the discussion's code cannot attribute renews everything, and
a page rendered while a change commits is never kept as current. tests/test_cache_live.py runs
the same under gunicorn with two workers, with the version file and with Redis.
"""

from __future__ import annotations

import datetime as dt
import threading

import pytest
import time_machine
from django.contrib.auth.models import AnonymousUser
from django.contrib.sessions.backends.signed_cookies import SessionStore
from django.db import connection
from django.http import HttpResponse
from django.test import Client, RequestFactory
from django.utils import timezone
from django.utils.http import http_date

from comments.models import Comment
from core.cache import deps, pagecache
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def site():
    now = timezone.now()
    a = factories.PostFactory(title="Borehole repairs", published_at=now - dt.timedelta(days=1))
    b = factories.PostFactory(title="Kiosk pricing", published_at=now - dt.timedelta(days=400))
    quiet = factories.TagFactory(name="Quiet", slug="quiet")
    b.tags.add(quiet)
    factories.make_comment(a, comment="First on A")
    factories.make_comment(b, comment="First on B")
    return {"a": a, "b": b}


def cache_state(client: Client, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200, path
    return response["X-Page-Cache"]


def warm(client: Client, *paths: str) -> None:
    for path in paths:
        client.get(path)
        assert cache_state(client, path) == "hit", path


def pages(site) -> tuple[tuple[str, ...], tuple[str, ...]]:
    a, b = site["a"].get_absolute_url(), site["b"].get_absolute_url()
    showing_a = (a, a + "feed/", "/comments/feed/", "/")
    not_showing_a = (b, b + "feed/", "/tag/quiet/", "/feed/")
    return showing_a, not_showing_a


def test_a_comment_on_one_post_renews_its_pages_and_leaves_the_others_cached(site):
    client = Client()
    showing_a, not_showing_a = pages(site)
    warm(client, *showing_a, *not_showing_a)

    factories.make_comment(site["a"], comment="Second on A, about spare parts")

    assert [cache_state(client, path) for path in not_showing_a] == ["hit"] * 4
    assert [cache_state(client, path) for path in showing_a] == ["miss"] * 4
    for path in showing_a[:3]:
        assert "spare parts" in client.get(path).content.decode(), path
    assert "2 comments" in client.get("/").content.decode()
    assert [cache_state(client, path) for path in showing_a] == ["hit"] * 4  # stored again


@pytest.mark.parametrize("how", ["update", "delete", "save"])
def test_moderation_renews_only_the_post_whose_comment_it_touched(site, how):
    client = Client()
    comment = factories.make_comment(site["a"], comment="REMOVE-ME on the pumps")
    showing_a, not_showing_a = pages(site)
    warm(client, *showing_a, *not_showing_a)
    if how == "update":  # the admin's bulk actions and the task worker's checks
        Comment.objects.filter(pk=comment.pk).update(is_public=False)
    elif how == "delete":
        Comment.objects.filter(pk=comment.pk).delete()
    else:
        comment.is_removed = True
        comment.save()
    assert "REMOVE-ME" not in client.get(showing_a[0]).content.decode()
    assert "REMOVE-ME" not in client.get(showing_a[2]).content.decode()
    assert [cache_state(client, path) for path in not_showing_a] == ["hit"] * 4


def test_a_write_nobody_attributed_renews_every_page(site):
    """SQL that names the discussion's tables outside comments.models' own paths (a raw cursor,
    another app's bulk update) renews the content version: a miss everywhere, never a stale page."""
    client = Client()
    showing_a, not_showing_a = pages(site)
    warm(client, *showing_a, *not_showing_a)
    table = Comment._meta.get_field("is_public").model._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {table} SET is_public = %s WHERE 1 = 0", [False])
    assert [cache_state(client, path) for path in (*showing_a, *not_showing_a)] == ["miss"] * 8


def test_the_post_page_last_modified_follows_its_own_discussion(site):
    client = Client()
    path = site["a"].get_absolute_url()
    client.get(path)
    first = client.get(path)
    later = timezone.now() + dt.timedelta(minutes=3)
    with time_machine.travel(later, tick=False):
        factories.make_comment(site["a"], comment="Later on A")
        again = client.get(path, headers={"if-modified-since": first["Last-Modified"]})
    assert again.status_code == 200
    assert "Later on A" in again.content.decode()
    assert again["Last-Modified"] == http_date(int(later.timestamp()))


def anonymous_request(path: str):
    request = RequestFactory().get(path)
    request.user, request.session = AnonymousUser(), SessionStore()
    return request


@pytest.mark.django_db(transaction=True)
def test_a_page_rendered_while_a_comment_commits_is_not_kept():
    """The view reads the thread, another connection commits a comment on that post before the
    response is stored: the response is served, but not stored as current."""
    post = factories.PostFactory(title="Race", published_at=timezone.now() - dt.timedelta(hours=1))
    middleware = pagecache.PageCacheMiddleware(lambda request: None)

    def view(request):
        deps.discussion(post.pk)
        html = "<p>" + " ".join(Comment.objects.filter(post=post).values_list("comment", flat=True)) + "</p>"

        def writer():
            factories.make_comment(post, comment="Committed during the render")
            connection.close()

        thread = threading.Thread(target=writer)
        thread.start()
        thread.join()
        return HttpResponse(html * 50)

    request = anonymous_request(post.get_absolute_url())
    middleware.get_response = view
    first = middleware(request)
    assert "Committed during the render" not in first.content.decode()

    request = anonymous_request(post.get_absolute_url())
    middleware.get_response = lambda request: HttpResponse(
        "<p>" + " ".join(Comment.objects.filter(post=post).values_list("comment", flat=True)) + "</p>"
    )
    second = middleware(request)
    assert second["X-Page-Cache"] == "miss"  # the first render was not stored
    assert "Committed during the render" in second.content.decode()


def test_a_pingback_renews_its_post_and_leaves_the_others_cached(site, settings):
    """A real pingback: Python's xmlrpc.client, through the site's endpoint, from a loopback
    blog whose page links to post A (the site fetches it and checks the link)."""
    import xmlrpc.client

    from tests.interop.loopback import LoopbackHTTP, Reply
    from tests.test_linkbacks_pingback import ClientTransport

    settings.SITE_DOMAIN = "testserver"
    settings.LINKBACK_HOLD_FIRST_FROM_SOURCE = False
    target = "http://testserver" + site["a"].get_absolute_url()
    with LoopbackHTTP() as blog:
        # Settings first: the deploy digest in every key covers them (a new setting, new pages).
        settings.LINKBACK_ALLOWED_HOSTS = [blog.host]
        client = Client()
        showing_a, not_showing_a = pages(site)
        warm(client, *showing_a, *not_showing_a)
        blog.routes["/lima"] = Reply(
            body=(
                "<html><head><title>Notes from Lima</title></head><body><p>Read "
                f'<a href="{target}">the borehole notes</a> on the sector blog.</p></body></html>'
            ).encode()
        )
        proxy = xmlrpc.client.ServerProxy("http://testserver/xmlrpc.php", transport=ClientTransport(Client()))
        assert "registered" in proxy.pingback.ping(blog.url("/lima"), target)
    assert [cache_state(client, path) for path in not_showing_a] == ["hit"] * 4
    assert "the borehole notes" in client.get(showing_a[0]).content.decode()
    assert "Notes from Lima" in client.get("/comments/feed/").content.decode()


def test_feed_validators_survive_a_comment_on_another_post(site):
    """Issue 25: after a comment on post A, the site feed and B's comment feed keep their ETag and
    Last-Modified, so a feed reader's conditional GET still gets a 304."""
    client = Client()
    feeds = ("/feed/", site["b"].get_absolute_url() + "feed/")
    before = {path: client.get(path) for path in feeds}
    later = timezone.now() + dt.timedelta(minutes=5)
    with time_machine.travel(later, tick=False):
        factories.make_comment(site["a"], comment="Elsewhere on A")
        for path, old in before.items():
            again = client.get(path)
            assert (again["ETag"], again["Last-Modified"]) == (old["ETag"], old["Last-Modified"]), path
            conditional = client.get(path, headers={"if-modified-since": old["Last-Modified"]})
            assert conditional.status_code == 304, path
        a_feed = client.get(site["a"].get_absolute_url() + "feed/")
        assert a_feed["Last-Modified"] == http_date(int(later.timestamp()))
