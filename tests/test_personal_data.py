"""Personal data on request: the commenter's JSON download from their privacy page, and an
Editor's export or erase of one commenter (by email) or one author (posts reassigned, not deleted),
each erase logged."""

from __future__ import annotations

import hashlib
import json

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.utils import timezone

from backup.models import Erasure
from comments.models import Comment
from comments.services import privacy_key
from newsletter.models import Subscriber
from posts.models import Post, PostAuthor
from posts.roles import CONTRIBUTOR, EDITOR
from tests import factories
from tests.richsite import build_rich_site

pytestmark = pytest.mark.django_db
SCREEN = "/admin/tools/personal-data/"


def login_as(client, role):
    user = factories.UserFactory(username=f"as-{role}".lower(), is_staff=True)
    user.groups.add(Group.objects.get(name=role))
    client.force_login(user)
    return user


def test_commenter_downloads_their_data_as_json(client):
    build_rich_site()
    Subscriber.objects.create(email="chidi@example.net", confirmed_at=timezone.now())
    page = client.get(f"/comments/privacy/{privacy_key(email='chidi@example.net')}/")
    assert page.status_code == 200 and b'id="download-my-data"' in page.content
    response = client.get(f"/comments/privacy/{privacy_key(email='chidi@example.net')}/?format=json")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response["Content-Disposition"] == 'attachment; filename="my-comments.json"'
    assert "no-store" in response["Cache-Control"]
    data = json.loads(response.content)
    assert data["format"] == "sectorblog-personal-data" and data["email"] == "chidi@example.net"
    texts = sorted(c["text"] for c in data["comments"])
    assert texts == ["A reply to the reply.", "First! With *emphasis* and ]]> inside."]
    first = next(c for c in data["comments"] if c["reply_to"] is None)
    assert first["ip_address"] == "203.0.113.7" and first["website"] == "https://chidi.example.net/"
    assert first["state"] == "public" and first["post"] == "Pumps & <kiosks>: a field note"
    assert data["other"]["newsletter"], "the newsletter subscription is listed"
    # Nobody else's comments, and a forged key gets nothing.
    assert all(c["email"] == "chidi@example.net" for c in data["comments"])
    assert client.get("/comments/privacy/forged/?format=json").status_code == 400


def test_editor_exports_and_erases_a_commenter(client):
    build_rich_site()
    editor = login_as(client, EDITOR)
    assert b'id="personal-data-link"' in client.get("/admin/").content
    exported = client.post(SCREEN, {"who": "commenter", "c-email": "chidi@example.net", "action": "export"})
    assert exported.status_code == 200
    assert len(json.loads(exported.content)["comments"]) == 2
    unconfirmed = client.post(SCREEN, {"who": "commenter", "c-email": "chidi@example.net", "action": "erase"})
    assert unconfirmed.status_code == 400 and "Tick the box" in unconfirmed.content.decode()
    assert Comment.objects.filter(user_email="chidi@example.net").count() == 2
    erased = client.post(
        SCREEN,
        {"who": "commenter", "c-email": "chidi@example.net", "c-confirm": "on", "action": "erase"},
        follow=True,
    )
    assert "Erased the data of chidi@example.net: 2 comments" in erased.content.decode()
    assert not Comment.objects.filter(user_email="chidi@example.net").exists()
    assert Comment.objects.filter(user_name="Dana").exists(), "replies by others stay"
    log = Erasure.objects.get()
    assert log.subject == "commenter" and log.erased_by == editor and log.summary["comments"] == 2
    assert log.subject_digest == hashlib.sha256(b"chidi@example.net").hexdigest()
    assert "chidi" not in json.dumps(log.summary)


def test_erase_an_author_reassigns_their_posts(client):
    site = build_rich_site()
    ana, ben = site["ana"], site["ben"]
    login_as(client, EDITOR)
    ben_posts = set(PostAuthor.objects.filter(user=ben).values_list("post_id", flat=True))
    assert len(ben_posts) == 3
    exported = client.post(SCREEN, {"who": "author", "a-user": ben.pk, "action": "export"})
    data = json.loads(exported.content)
    assert data["account"]["username"] == "ben" and len(data["posts"]) == 3
    no_target = client.post(SCREEN, {"who": "author", "a-user": ben.pk, "a-confirm": "on", "action": "erase"})
    assert no_target.status_code == 400 and "takes over the posts" in no_target.content.decode()
    assert get_user_model().objects.filter(username="ben").exists()
    posts_before = Post.objects.count()
    response = client.post(
        SCREEN,
        {"who": "author", "a-user": ben.pk, "a-reassign_to": ana.pk, "a-confirm": "on", "action": "erase"},
        follow=True,
    )
    assert "Erased the account ben; 3 posts now belong to ana." in response.content.decode()
    assert not get_user_model().objects.filter(username="ben").exists()
    assert Post.objects.count() == posts_before
    for post_id in ben_posts:
        assert list(PostAuthor.objects.filter(post_id=post_id).values_list("user__username", flat=True)) == [
            "ana"
        ]
    # The co-written post keeps ana once, as byline author; ben's author page is gone.
    first = Post.objects.get(slug="pumps-and-kiosks")
    assert first.authorships.count() == 1
    assert client.get("/author/ben/").status_code == 404
    assert client.get(first.get_absolute_url()).status_code == 200
    log = Erasure.objects.get()
    assert log.subject == "author" and log.reassigned_to == ana and log.summary["posts_reassigned"] == 3


def test_only_editors_see_the_screen(client):
    login_as(client, CONTRIBUTOR)
    assert client.get(SCREEN).status_code == 403
    assert (
        client.post(SCREEN, {"who": "commenter", "c-email": "x@example.net", "action": "export"}).status_code
        == 403
    )
