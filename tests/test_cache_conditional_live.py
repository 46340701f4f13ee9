"""Conditional GET as feed readers and browsers use it, against the product as it runs (issue 25):
real gunicorn with two workers, the page cache and its fast path on, no Redis (each worker keeps
its own page copies) and, as a second variant, Redis.

- Every worker answers the same ETag and Last-Modified for the same content, so a reader that
  sends back either validator gets a 304 with no body, whichever worker answers it.
- If-None-Match wins over If-Modified-Since when both are sent (RFC 9110 section 13.2.2).
- A new post, or a new comment on a post in a feed, makes the next conditional GET a 200 with new
  validators.
- feedparser, passing back `etag` and `modified` as a feed reader does, sees 304 on its second poll.
"""

from __future__ import annotations

import json
import time
import uuid

import pytest

from tests.live import LiveSite, needs_gunicorn, redis_unavailable, which_database

pytestmark = pytest.mark.skipif(needs_gunicorn() is not None, reason=str(needs_gunicorn()))

REDIS_URL = "redis://127.0.0.1:6379/13"

SETUP = """
import json
from feeds.comments import visible_comments

post = visible_comments().order_by("-post__published_at").first().post
print(json.dumps({"post": post.get_absolute_url(), "pk": post.pk}))
"""

NEW_COMMENT = """
from django.contrib.contenttypes.models import ContentType
from django.contrib.sites.models import Site
from comments.models import Comment
from posts.models import Post

post = Post.objects.get(pk=PK)
Comment(
    content_type=ContentType.objects.get_for_model(Post), object_pk=str(post.pk),
    site=Site.objects.get_current(), user_name="Feed Reader", user_email="reader@example.net",
    comment="A new comment the feeds must show", parent_id=0, is_public=True,
).save()
"""

NEW_POST = """
from django.contrib.auth import get_user_model
from django.utils import timezone
from posts.models import Post, PostAuthor

author = get_user_model().objects.filter(is_staff=True).first()
post = Post.objects.create(
    title="A post published while readers poll", slug="published-while-readers-poll",
    body="Fresh news.", status=Post.Status.PUBLISHED, published_at=timezone.now(),
)
PostAuthor.objects.create(post=post, user=author, position=0)
"""


@pytest.fixture(scope="module", params=["no-redis", "redis"])
def live(request, tmp_path_factory):
    env = {}
    prefix = ""
    if request.param == "redis":
        if reason := redis_unavailable(REDIS_URL):
            pytest.skip(reason)
        prefix = f"sb-cond-{uuid.uuid4().hex[:10]}"
        env = {"REDIS_URL": REDIS_URL, "CACHE_KEY_PREFIX": prefix}
    site = LiveSite(tmp_path_factory.mktemp(f"cond-{request.param}"), workers=2, env=env, access_log=True)
    print(f"\n[live] {request.param}, {which_database()}, 2 gunicorn workers")
    site.start()
    try:
        site.data = json.loads(site.manage("shell", "-c", SETUP).stdout.strip().splitlines()[-1])
        yield site
    finally:
        site.stop()
        if prefix:
            import redis

            client = redis.Redis.from_url(REDIS_URL)
            for key in client.scan_iter(f"{prefix}:*"):
                client.delete(key)


def paths(site: LiveSite) -> list[str]:
    post = site.data["post"]
    return ["/feed/", "/feed/atom/", "/comments/feed/", post + "feed/", "/"]


def validators(site: LiveSite, path: str, cookie: str = "") -> tuple[str, str, str]:
    """ETag, Last-Modified and the cookies a browser would keep (an HTML page's ETag names the
    visitor's CSRF cookie, so a browser's copy is revalidated with the cookie it was given)."""
    response = site.get(path, headers={"Cookie": cookie} if cookie else {})
    assert response.status == 200, (path, response.status)
    etag, modified = response.header("ETag"), response.header("Last-Modified")
    assert etag and modified, (path, dict(response.headers))
    kept = cookie or "; ".join(f"{name}={value}" for name, value in response.cookies().items())
    return etag, modified, kept


def conditional(site: LiveSite, path: str, etag: str, modified: str, cookie: str, use: str):
    header = {"If-None-Match": etag} if use == "etag" else {"If-Modified-Since": modified}
    if cookie:
        header["Cookie"] = cookie
    return site.get(path, headers=header)


def test_every_worker_answers_304_to_either_validator(live):
    first = {path: validators(live, path) for path in paths(live)}
    # Whatever a worker stores from now on, it stores at a later second than the validators above.
    time.sleep(1.1)
    served_before = len(live.requests_served())
    answers = []
    for round_ in range(2):
        for path in paths(live):
            for use in ("modified", "etag"):
                response = conditional(live, path, *first[path], use)
                answers.append((path, use, response.status, len(response.body), round_))
    assert len(answers) == 20
    assert [a for a in answers if a[2] != 304 or a[3] != 0] == [], answers
    workers = {entry.pid for entry in live.requests_served()[served_before:]}
    print(f"[live] 20 conditional GETs answered by {len(workers)} worker(s)")
    # Plain GETs from every worker give the same validators as the first.
    for path in paths(live):
        assert {validators(live, path, first[path][2]) for _ in range(6)} == {first[path]}, path


def test_if_none_match_wins_over_if_modified_since(live):
    path = "/feed/"
    etag, modified, _cookie = validators(live, path)
    both = live.get(path, headers={"If-None-Match": '"something-else"', "If-Modified-Since": modified})
    assert both.status == 200 and both.body
    epoch = "Thu, 01 Jan 1970 00:00:00 GMT"
    matching = live.get(path, headers={"If-None-Match": etag, "If-Modified-Since": epoch})
    assert matching.status == 304 and matching.body == b""


def test_a_new_comment_then_a_new_post_make_the_next_conditional_get_a_200(live):
    before = {path: validators(live, path) for path in paths(live)}
    time.sleep(1.1)  # validators are in whole seconds
    live.manage("shell", "-c", f"PK = {live.data['pk']}\n" + NEW_COMMENT)
    for path in ["/comments/feed/", live.data["post"] + "feed/", "/"]:
        for use in ("modified", "etag"):
            response = conditional(live, path, *before[path], use)
            assert response.status == 200 and response.body, (path, use, response.status)
            assert response.header("ETag") != before[path][0], path
            assert response.header("Last-Modified") != before[path][1], path
    # The post feeds did not change: a comment elsewhere leaves their validators as they were.
    for path in ["/feed/", "/feed/atom/"]:
        assert conditional(live, path, *before[path], "modified").status == 304, path
        assert conditional(live, path, *before[path], "etag").status == 304, path

    before = {path: validators(live, path) for path in paths(live)}
    time.sleep(1.1)
    live.manage("shell", "-c", NEW_POST)
    for path in ["/feed/", "/feed/atom/", "/"]:
        for use in ("modified", "etag"):
            response = conditional(live, path, *before[path], use)
            assert response.status == 200 and b"published while readers poll" in response.body, (path, use)
            assert response.header("ETag") != before[path][0], path
            assert response.header("Last-Modified") != before[path][1], path


def test_feedparser_sees_304_on_its_second_poll(live):
    feedparser = pytest.importorskip("feedparser")
    for path in ["/feed/", "/feed/atom/", "/comments/feed/", live.data["post"] + "feed/"]:
        url = live.url(path)
        first = feedparser.parse(url)
        assert first.status == 200 and first.entries, (path, first.get("bozo_exception"))
        assert first.etag and first.modified, path
        time.sleep(0.1)
        for _ in range(3):  # new connections: the workers take turns
            again = feedparser.parse(url, etag=first.etag, modified=first.modified)
            assert again.status == 304, (path, again.status)
            assert again.entries == []
        # A reader that keeps only the date (many do) is answered 304 too.
        dated = feedparser.parse(url, modified=first.modified)
        assert dated.status == 304, (path, dated.status)
