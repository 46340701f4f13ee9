"""Small faults a person saw (issue "what real peers and real people hit", items 22 and 23).

- /author/<username>/feed/ answered 200 for staff who wrote nothing, though their HTML author page
  was a 404: the feed confirmed that a username exists.
- "… is now scheduled for Dec. 7, 2026, 3:09 a.m.." ended on two full stops, and times were shown
  with no time zone.
- /favicon.ico was a 404 (the admin's pages name no icon, so browsers ask for it).
- A parent category whose posts are all filed under its child showed "(0)".
- "Your text is kept below" was said when no text had been sent.
"""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from bs4 import BeautifulSoup
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from comments.models import Comment
from posts.models import Post
from tests import factories
from tests.test_authoring_roles import CHANGELIST, login_as, submit

KEPT = "your text is kept below"


def _text(response) -> str:
    return BeautifulSoup(response.content, "html.parser").get_text(" ", strip=True)


# --- 22: author feeds follow the author page's rule ------------------------------------------


@pytest.mark.django_db
def test_author_feed_of_an_account_with_nothing_published_is_not_found(post, author):
    factories.UserFactory(username="quiet-editor", is_staff=True)
    drafter = factories.UserFactory(username="drafter")
    factories.PostFactory(authors=[drafter], status=Post.Status.DRAFT, published_at=None)
    factories.PostFactory(authors=[drafter], published_at=timezone.now() + dt.timedelta(days=3))
    client = Client()
    for username in ("quiet-editor", "drafter", "nobody-at-all"):
        for url in (f"/author/{username}/", f"/author/{username}/feed/", f"/author/{username}/feed/atom/"):
            assert client.get(url).status_code == 404, url
    # The author of a published post keeps the page and both feeds.
    for url in ("/author/amara/", "/author/amara/feed/", "/author/amara/feed/atom/"):
        assert client.get(url).status_code == 200, url


# --- 23: dates and times ------------------------------------------------------------------


@pytest.mark.django_db
def test_schedule_message_ends_with_one_full_stop():
    client = Client()
    login_as(client, "Author", "auth")
    now = timezone.now()
    when = (now + dt.timedelta(days=2)).replace(hour=3, minute=9, second=0, microsecond=0)
    local = timezone.localtime(when)
    response = submit(
        client,
        reverse("admin:posts_post_add"),
        "_schedule",
        title="Dawn post",
        slug="dawn-post",
        body="Early.",
        published_at_0=local.strftime("%Y-%m-%d"),
        published_at_1=local.strftime("%H:%M:%S"),
    )
    assert response.status_code == 302
    message = BeautifulSoup(client.get(response["Location"]).content, "html.parser").select_one(
        ".messagelist li"
    )
    text = message.get_text(strip=True)
    assert "scheduled for" in text and "a.m." in text
    assert ".." not in text
    assert text.endswith(f"{local.tzname()}.")


@pytest.mark.django_db
def test_times_shown_to_readers_and_authors_name_the_time_zone(settings, post, make_comment):
    settings.TIME_ZONE = "Europe/Paris"
    timezone.activate("Europe/Paris")
    try:
        comment = make_comment(post, user_name="Grace")
        zone = timezone.localtime(comment.submit_date).tzname()  # CET or CEST
        page = BeautifulSoup(Client().get(post.get_absolute_url()).content, "html.parser")
        shown = page.select_one(f"#c{comment.pk} .permalink time").get_text(strip=True)
        assert shown.endswith(f" {zone}"), shown

        author = Client()
        login_as(author, "Editor", "ed")
        later = factories.PostFactory(title="Later on", published_at=timezone.now() + dt.timedelta(days=1))
        listing = BeautifulSoup(author.get(CHANGELIST).content, "html.parser")
        status = listing.select_one(".post-status-published").get_text(strip=True)
        zone_later = timezone.localtime(later.published_at).tzname()
        assert status.startswith("scheduled for") and status.endswith(zone_later), status
        row = next(tr for tr in listing.select("#result_list tbody tr") if "Later on" in tr.get_text())
        assert row.select_one(".field-published_column").get_text(strip=True).endswith(zone_later)
        form = BeautifulSoup(author.get(reverse("admin:posts_post_add")).content, "html.parser")
        assert "Europe/Paris" in form.select_one("#id_published_at_helptext").get_text()
    finally:
        timezone.deactivate()


# --- 23: the favicon -------------------------------------------------------------------------


@pytest.mark.django_db
def test_favicon_ico_is_served_for_pages_that_name_no_icon():
    client = Client()
    admin_login = client.get("/admin/login/")
    assert admin_login.status_code == 200
    assert BeautifulSoup(admin_login.content, "html.parser").select_one("link[rel~=icon]") is None
    response = client.get("/favicon.ico")
    assert response.status_code == 200
    assert response["Content-Type"] in ("image/x-icon", "image/vnd.microsoft.icon")
    body = b"".join(response.streaming_content) if response.streaming else response.content
    assert body[:4] == b"\x00\x00\x01\x00"  # an ICO file


# --- 23: category counts ---------------------------------------------------------------------


@pytest.mark.django_db
def test_parent_category_counts_the_posts_of_its_children():
    parent = factories.CategoryFactory(name="Sanitation", slug="sanitation")
    child = factories.CategoryFactory(name="Sludge", slug="sludge", parent=parent)
    both = factories.PostFactory(categories=[parent, child])
    factories.PostFactory(categories=[child])
    factories.PostFactory(categories=[child], status=Post.Status.DRAFT, published_at=None)
    page = BeautifulSoup(Client().get("/").content, "html.parser")
    tree = page.select_one(".widget-categories > ul")
    top = tree.select_one(":scope > li")
    assert top.a.get_text() == "Sanitation"
    # Two published posts are filed under it or its child; the one in both counts once.
    assert top.select_one(":scope > .count").get_text() == "(2)"
    assert top.select_one("ul > li .count").get_text() == "(2)"
    listed = BeautifulSoup(Client().get("/category/sanitation/").content, "html.parser")
    assert len(listed.select("article")) == 2 and both.title in listed.get_text()


@pytest.mark.django_db
def test_parent_category_with_no_posts_of_its_own_is_not_zero():
    parent = factories.CategoryFactory(name="Water", slug="water")
    child = factories.CategoryFactory(name="Rural", slug="rural", parent=parent)
    factories.PostFactory(categories=[child])
    tree = BeautifulSoup(Client().get("/").content, "html.parser").select_one(".widget-categories > ul")
    assert tree.select_one(":scope > li > .count").get_text() == "(1)"


# --- 23: "your text is kept below" ---------------------------------------------------------


@pytest.mark.django_db
def test_kept_below_is_said_only_when_text_was_sent(post, comment_form_data):
    client = Client()
    empty = client.post("/comments/post/", comment_form_data(client, post, comment=""))
    assert empty.status_code == 400
    assert KEPT not in _text(empty).lower()
    assert "Please correct the highlighted fields." in _text(empty)

    typed = client.post("/comments/post/", comment_form_data(client, post, email="not-an-address"))
    assert typed.status_code == 400
    assert KEPT in _text(typed).lower()
    assert Comment.objects.count() == 0


@pytest.mark.django_db
def test_expired_form_says_text_is_kept_only_when_there_was_text(post, comment_form_data):
    client = Client()
    with time_machine.travel(timezone.now() - dt.timedelta(hours=3), tick=False):
        stale_empty = comment_form_data(client, post, comment="   ")
        stale_typed = comment_form_data(client, post, comment="Written slowly.")
    empty = client.post("/comments/post/", stale_empty)
    assert empty.status_code == 400
    assert "expired" in _text(empty) and KEPT not in _text(empty).lower()
    typed = client.post("/comments/post/", stale_typed)
    assert typed.status_code == 400
    assert KEPT in _text(typed).lower()
    assert "Written slowly." in BeautifulSoup(typed.content, "html.parser").select_one("textarea").get_text()
