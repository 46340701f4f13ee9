"""The demo discussion is open (issue "what real peers and real people hit", item 21).

The seed-like post (an article with reader comments and pingbacks) had fixed, months-old dates,
so its comments were closed (COMMENTS_CLOSE_AFTER_DAYS) the first time a newcomer ran `make run`.
Demo dates are now relative to the day of seeding, and a run on a demo database old enough for the
discussion to close moves the demo forward again.
"""

from __future__ import annotations

import datetime as dt
import io

import time_machine
from bs4 import BeautifulSoup
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from comments.linkbacks.send import post_linkbacks_send
from comments.models import Comment
from posts.models import Post

INTRO = "sector-learning-two-years-on"


def _seed() -> str:
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


def _snapshot():
    posts = sorted(Post.objects.values_list("slug", "published_at", "body", "updated_at"))
    comments = sorted(Comment.objects.values_list("pk", "submit_date", "source_url", "user_url"))
    return posts, comments


def _reply_to_a_seeded_commenter(client: Client, comment_form_data) -> int:
    intro = Post.objects.get(slug=INTRO)
    grace = Comment.objects.get(post=intro, user_name="Grace Mwangi")
    page = BeautifulSoup(client.get(intro.get_absolute_url()).content, "html.parser")
    assert page.select_one("form#comment-form") is not None, "the seed-like post takes comments"
    assert page.select_one(f'#c{grace.pk} a.reply-link[data-reply-to="{grace.pk}"]') is not None
    data = comment_form_data(client, intro, reply_to=str(grace.pk), comment="Same here in Malawi.")
    return client.post("/comments/post/", data).status_code


def test_fresh_demo_lets_a_newcomer_reply_to_the_seed_posts_commenters(db, comment_form_data):
    _seed()
    intro = Post.objects.get(slug=INTRO)
    assert intro.is_published
    # Every comment and pingback of the demo sits between its post's date and now.
    for comment in Comment.objects.select_related("post"):
        assert comment.post.published_at <= comment.submit_date <= timezone.now(), comment
    # The later posts that ping the seed-like post are published, after it.
    later = Post.objects.filter(body__contains=intro.get_absolute_url())
    assert later.count() == 2 and all(p.is_published and p.published_at > intro.published_at for p in later)
    assert _reply_to_a_seeded_commenter(Client(), comment_form_data) == 302


def test_seed_demo_run_twice_changes_nothing(db):
    _seed()
    before = _snapshot()
    _seed()
    assert _snapshot() == before


def test_an_old_demo_database_is_moved_forward_and_its_discussion_reopens(db, client, comment_form_data):
    """Seeded 70 days ago (and its linkbacks sent then): today's run reopens the discussion."""
    with time_machine.travel(timezone.now() - dt.timedelta(days=70), tick=False):
        _seed()
        for post in Post.objects.exclude(slug=INTRO):
            post_linkbacks_send(post_id=post.pk)
    intro = Post.objects.get(slug=INTRO)
    old_url = intro.get_absolute_url()
    page = BeautifulSoup(client.get(old_url).content, "html.parser")
    assert page.select_one("form#comment-form") is None  # closed: the fault a newcomer met

    output = _seed()
    assert "moved forward 70 days" in output
    intro.refresh_from_db()
    assert intro.get_absolute_url() != old_url
    # The old address leads to the post's new one.
    response = client.get(old_url)
    assert response.status_code == 301 and response["Location"].endswith(intro.get_absolute_url())
    # Links between demo posts, and the internal pingbacks they made, follow the move.
    later = Post.objects.filter(slug__in=["writing-for-peers", "community-of-practice-checklist"])
    assert all(f"]({intro.get_absolute_url()})" in p.body for p in later)
    page = BeautifulSoup(client.get(intro.get_absolute_url()).content, "html.parser")
    internal = [a["href"] for a in page.select(".kind-pingback a.source") if "example" not in a["href"]]
    assert sorted(internal) == sorted(f"http://127.0.0.1:8000{p.get_absolute_url()}" for p in later)
    for href in internal:
        assert client.get(href.removeprefix("http://127.0.0.1:8000")).status_code == 200
    for comment in Comment.objects.select_related("post"):
        assert comment.post.published_at <= comment.submit_date <= timezone.now(), comment
    # Resending finds every link already notified under its new address: nothing new is stored.
    count = Comment.objects.count()
    for post in later:
        post_linkbacks_send(post_id=post.pk)
    assert Comment.objects.count() == count

    assert _reply_to_a_seeded_commenter(Client(), comment_form_data) == 302
    before = _snapshot()
    _seed()
    assert _snapshot() == before
