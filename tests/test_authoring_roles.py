"""Roles in the admin, checked at the HTTP level: who lists, changes, publishes and assigns authors.

Also holds the small helpers the other authoring tests import: `login_as` and `form_values`
(reads a change form the way a browser would submit it).
"""

from __future__ import annotations

import datetime as dt
import io

import pytest
import time_machine
from bs4 import BeautifulSoup
from django.contrib.auth.models import Group, Permission
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from posts.models import Post, PostAuthor
from posts.roles import ROLES
from tests import factories

CHANGELIST = "/admin/posts/post/"
# Far from midnight and from a minute boundary: per-date and per-minute rules stay put.
MIDDAY = dt.datetime(2026, 6, 15, 12, 0, 10, tzinfo=dt.UTC)


def login_as(client, role: str | None, username: str):
    """A staff user in the given role group (None: superuser), logged in on `client`."""
    user = factories.UserFactory(username=username, is_staff=True, is_superuser=role is None)
    if role:
        user.groups.add(Group.objects.get(name=role))
    client.force_login(user)
    return user


def form_values(html: str, form_id: str = "post_form") -> dict[str, list[str] | str]:
    """The values a browser would submit from a form, without any submit button."""
    form = BeautifulSoup(html, "html.parser").find("form", id=form_id)
    assert form is not None, f"no form #{form_id} on the page"
    data: dict[str, list[str]] = {}
    for field in form.find_all(["input", "textarea", "select"]):
        name = field.get("name")
        if not name or field.has_attr("disabled"):
            continue
        if field.name == "input":
            kind = field.get("type", "text")
            if kind in {"submit", "button", "file", "image", "reset"}:
                continue
            if kind in {"checkbox", "radio"} and not field.has_attr("checked"):
                continue
            data.setdefault(name, []).append(field.get("value", "on" if kind == "checkbox" else ""))
        elif field.name == "textarea":
            text = field.string or ""
            data.setdefault(name, []).append(text[1:] if text.startswith("\n") else text)
        else:
            data.setdefault(name, [])
            data[name].extend(
                o.get("value", o.text) for o in field.find_all("option") if o.has_attr("selected")
            )
    return {k: v if len(v) != 1 else v[0] for k, v in data.items()}


def change_url(post: Post) -> str:
    return reverse("admin:posts_post_change", args=[post.pk])


def submit(client, url: str, button: str, **overrides):
    """GET the change form, apply overrides, POST it with the named submit button."""
    page = client.get(url)
    assert page.status_code == 200, page.status_code
    data = form_values(page.content.decode())
    data.update(overrides)
    data[button] = "1"
    return client.post(url, data)


def listed_titles(response) -> list[str]:
    soup = BeautifulSoup(response.content, "html.parser")
    return [a.text for a in soup.select("#result_list tbody th a")]


def draft(author, **fields):
    fields.setdefault("status", Post.Status.DRAFT)
    fields.setdefault("published_at", None)
    return factories.PostFactory(authors=[author], **fields)


# --- groups -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_migration_creates_the_four_roles_and_sync_is_idempotent():
    for role, wanted in ROLES.items():
        group = Group.objects.get(name=role)
        have = set(group.permissions.values_list("content_type__app_label", "codename"))
        assert have == set(wanted), role
    moderator = Group.objects.get(name="Moderator")
    moderator.permissions.remove(
        Permission.objects.get(content_type__app_label="comments", codename="can_moderate")
    )
    moderator.permissions.add(Permission.objects.get(content_type__app_label="posts", codename="delete_post"))

    out = io.StringIO()
    call_command("sync_roles", stdout=out)
    assert "granted Moderator: comments.can_moderate" in out.getvalue()
    assert "revoked Moderator" in out.getvalue()
    assert set(moderator.permissions.values_list("codename", flat=True)) == {
        "can_moderate",
        "view_comment",
        "change_comment",
    }
    again = io.StringIO()
    call_command("sync_roles", stdout=again)
    assert again.getvalue().strip() == "roles already in step"
    assert Group.objects.filter(name__in=ROLES).count() == 4


# --- listing ------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("role", "sees_others"),
    [("Contributor", False), ("Author", False), ("Editor", True), (None, True)],
)
def test_changelist_shows_own_posts_unless_editor(client, role, sees_others):
    me = login_as(client, role, "me")
    other = factories.UserFactory(username="other")
    draft(me, title="Mine")
    factories.PostFactory(authors=[other], title="Theirs")
    response = client.get(CHANGELIST)
    assert response.status_code == 200
    titles = listed_titles(response)
    assert "Mine" in titles
    assert ("Theirs" in titles) is sees_others


@pytest.mark.django_db
def test_moderator_cannot_open_posts_admin(client):
    user = login_as(client, "Moderator", "mod")
    assert client.get(CHANGELIST).status_code == 403
    assert user.has_perm("comments.can_moderate")
    assert user.has_perm("comments.change_comment")
    assert not user.has_perm("posts.change_post")


# --- changing others' posts ---------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["Contributor", "Author"])
def test_forged_post_to_someone_elses_post_changes_nothing(client, role):
    login_as(client, role, "me")
    other = factories.UserFactory(username="other")
    theirs = draft(other, title="Theirs", body="original")
    response = client.get(change_url(theirs))
    assert response.status_code in {302, 403}
    response = client.post(
        change_url(theirs),
        {"title": "Hijacked", "slug": "hijacked", "body": "x", "language": "en", "_publish": "1"},
    )
    assert response.status_code in {302, 403}
    theirs.refresh_from_db()
    assert (theirs.title, theirs.body, theirs.status) == ("Theirs", "original", Post.Status.DRAFT)


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["Editor", None])
def test_editor_and_superuser_change_and_publish_someone_elses_post(client, role):
    login_as(client, role, "ed")
    other = factories.UserFactory(username="other")
    theirs = draft(other, title="Theirs")
    response = submit(client, change_url(theirs), "_publish", title="Edited by the editor")
    assert response.status_code == 302, response.content[:2000]
    theirs.refresh_from_db()
    assert theirs.title == "Edited by the editor"
    assert theirs.is_published
    assert list(theirs.authors.all()) == [other]


# --- publishing rights --------------------------------------------------------------------


@pytest.mark.django_db
def test_contributor_cannot_publish_even_with_a_forged_post(client):
    me = login_as(client, "Contributor", "cont")
    mine = draft(me, title="My draft")
    url = change_url(mine)
    page = BeautifulSoup(client.get(url).content, "html.parser")
    assert page.find(id="btn-publish") is None
    assert page.find(id="btn-schedule") is None
    assert page.find(id="btn-submit-review") is not None
    assert page.find("input", attrs={"name": "published_at_0"}) is None

    response = submit(client, url, "_publish")
    assert response.status_code == 200
    assert "You do not have the right to publish posts." in response.content.decode()
    forged_date = (timezone.now() - dt.timedelta(hours=1)).strftime("%Y-%m-%d")
    response = submit(
        client, url, "_save_draft", status="published", published_at_0=forged_date, published_at_1="10:00:00"
    )
    assert response.status_code == 302
    mine.refresh_from_db()
    assert mine.status == Post.Status.DRAFT
    assert mine.published_at is None
    assert not Post.objects.published().filter(pk=mine.pk).exists()


@pytest.mark.django_db
def test_contributor_submits_for_review_and_then_cannot_touch_published_post(client):
    me = login_as(client, "Contributor", "cont")
    mine = draft(me, title="For review")
    response = submit(client, change_url(mine), "_submit_review")
    assert response.status_code == 302
    mine.refresh_from_db()
    assert mine.status == Post.Status.REVIEW

    published = factories.PostFactory(authors=[me], title="Already out")
    page = client.get(change_url(published))
    assert page.status_code == 200  # view only
    assert BeautifulSoup(page.content, "html.parser").find(id="btn-save-draft") is None
    response = client.post(change_url(published), {"title": "changed", "_save_draft": "1"})
    assert response.status_code == 403
    published.refresh_from_db()
    assert published.title == "Already out" and published.is_published


@pytest.mark.django_db
def test_author_publishes_own_post_but_cannot_change_its_authors(client):
    me = login_as(client, "Author", "auth")
    other = factories.UserFactory(username="other")
    mine = draft(me, title="Mine")
    url = change_url(mine)
    page = BeautifulSoup(client.get(url).content, "html.parser")
    assert page.find(id="authorships-group") is None
    response = submit(
        client,
        url,
        "_publish",
        **{
            "authorships-TOTAL_FORMS": "1",
            "authorships-INITIAL_FORMS": "0",
            "authorships-0-user": str(other.pk),
            "authorships-0-position": "0",
        },
    )
    assert response.status_code == 302
    mine.refresh_from_db()
    assert mine.is_published
    assert list(PostAuthor.objects.filter(post=mine).values_list("user__username", flat=True)) == ["auth"]


@pytest.mark.django_db
def test_new_post_by_author_gets_them_as_author(client):
    login_as(client, "Author", "auth")
    response = submit(
        client, reverse("admin:posts_post_add"), "_save_draft", title="Fresh", slug="fresh", body="Hello"
    )
    assert response.status_code == 302
    post = Post.objects.get(slug="fresh")
    assert post.status == Post.Status.DRAFT
    assert [u.username for u in post.authors.all()] == ["auth"]


@pytest.mark.django_db
def test_editor_assigns_authors_in_order(client):
    login_as(client, "Editor", "ed")
    first = factories.UserFactory(username="first")
    second = factories.UserFactory(username="second")
    post = draft(first, title="Co-written")
    url = change_url(post)
    page = client.get(url)
    assert BeautifulSoup(page.content, "html.parser").find(id="authorships-group") is not None
    data = form_values(page.content.decode())
    data.update(
        {
            "authorships-TOTAL_FORMS": "2",
            "authorships-1-user": str(second.pk),
            "authorships-1-position": "0",
            "authorships-0-position": "1",
            "_save_draft": "1",
        }
    )
    response = client.post(url, data)
    assert response.status_code == 302, response.content[:3000]
    assert list(PostAuthor.objects.filter(post=post).values_list("user__username", flat=True)) == [
        "second",
        "first",
    ]


# --- bulk actions -------------------------------------------------------------------------


def _action(client, action: str, posts):
    return client.post(
        CHANGELIST, {"action": action, "_selected_action": [str(p.pk) for p in posts], "index": "0"}
    )


@pytest.mark.django_db
def test_contributor_has_no_publish_action_and_a_forged_one_does_nothing(client):
    me = login_as(client, "Contributor", "cont")
    mine = draft(me, title="Mine")
    options = [
        o["value"]
        for o in BeautifulSoup(client.get(CHANGELIST).content, "html.parser").select(
            "select[name=action] option"
        )
    ]
    assert "publish_selected" not in options
    assert "unpublish_selected" not in options
    assert "close_comments" in options
    _action(client, "publish_selected", [mine])
    mine.refresh_from_db()
    assert mine.status == Post.Status.DRAFT


@pytest.mark.django_db
def test_author_bulk_actions_touch_only_their_posts(client):
    me = login_as(client, "Author", "auth")
    other = factories.UserFactory(username="other")
    mine = draft(me, title="Mine")
    theirs = draft(other, title="Theirs")
    _action(client, "publish_selected", [mine, theirs])
    mine.refresh_from_db()
    theirs.refresh_from_db()
    assert mine.is_published
    assert theirs.status == Post.Status.DRAFT

    _action(client, "close_comments", [mine, theirs])
    _action(client, "close_pings", [mine])
    mine.refresh_from_db()
    theirs.refresh_from_db()
    assert (mine.allow_comments, mine.allow_pings) == (False, False)
    assert theirs.allow_comments is True

    _action(client, "unpublish_selected", [mine])
    mine.refresh_from_db()
    assert mine.status == Post.Status.DRAFT
    assert not Post.objects.published().filter(pk=mine.pk).exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("role", "adds_tags", "manages"),
    [("Contributor", False, False), ("Author", True, False), ("Editor", True, True)],
)
def test_authors_add_tags_and_only_editors_manage_categories_and_tags(client, role, adds_tags, manages):
    """Authors create tags while writing (issue 22); renaming and deleting tags, and categories, stay
    with Editors."""
    from posts.models import Category, Tag

    login_as(client, role, "someone")
    response = client.post("/admin/posts/category/add/", {"name": "Hygiene", "slug": "hygiene-category"})
    assert (response.status_code == 302) is manages, response.status_code
    assert Category.objects.filter(name="Hygiene").exists() is manages
    response = client.post("/admin/posts/tag/add/", {"name": "Hygiene", "slug": "hygiene-tag"})
    assert (response.status_code == 302) is adds_tags, response.status_code
    assert Tag.objects.filter(name="Hygiene").exists() is adds_tags
    tag = Tag.objects.create(name="Water", slug="water")
    response = client.post(f"/admin/posts/tag/{tag.pk}/change/", {"name": "Renamed", "slug": "water"})
    tag.refresh_from_db()
    assert (tag.name == "Renamed") is manages


@pytest.mark.django_db
@time_machine.travel(MIDDAY, tick=True)
def test_bulk_publish_skips_posts_whose_slug_is_taken_today(client):
    me = login_as(client, "Author", "auth")
    factories.PostFactory(authors=[me], slug="same", published_at=timezone.now() - dt.timedelta(seconds=5))
    clash = draft(me, title="Clash", slug="same")
    fine = draft(me, title="Fine", slug="fine")
    response = client.post(
        CHANGELIST,
        {"action": "publish_selected", "_selected_action": [str(clash.pk), str(fine.pk)], "index": "0"},
        follow=True,
    )
    assert response.status_code == 200
    texts = [li.text for li in BeautifulSoup(response.content, "html.parser").select("ul.messagelist li")]
    assert "Published 1 posts." in texts
    assert any("Clash" in t for t in texts)
    clash.refresh_from_db()
    fine.refresh_from_db()
    assert clash.status == Post.Status.DRAFT and fine.is_published


@pytest.mark.django_db
@time_machine.travel(MIDDAY, tick=True)
def test_failed_publish_shows_the_stored_status_and_its_buttons(client):
    me = login_as(client, "Author", "auth")
    factories.PostFactory(authors=[me], slug="taken", published_at=timezone.now() - dt.timedelta(seconds=5))
    mine = draft(me, slug="taken")
    response = submit(client, change_url(mine), "_publish", published_at_0="not a date")
    assert response.status_code == 200
    page = BeautifulSoup(response.content, "html.parser")
    assert page.select(".field-published_at .errorlist li")
    assert page.select_one(".field-status_column .post-status").text == "draft"
    assert page.find(id="btn-publish") is not None
    response = submit(client, change_url(mine), "_publish")
    assert BeautifulSoup(response.content, "html.parser").select(".field-slug .errorlist li")
    mine.refresh_from_db()
    assert mine.status == Post.Status.DRAFT and mine.published_at is None


@pytest.mark.django_db
def test_delete_rights_follow_roles(client):
    me = login_as(client, "Contributor", "cont")
    mine = draft(me)
    delete = reverse("admin:posts_post_delete", args=[mine.pk])
    assert client.get(delete).status_code == 403
    assert client.post(delete, {"post": "yes"}).status_code == 403
    assert Post.objects.filter(pk=mine.pk).exists()

    author = Client()
    other = login_as(author, "Author", "auth")
    own = draft(other)
    assert author.post(reverse("admin:posts_post_delete", args=[own.pk]), {"post": "yes"}).status_code == 302
    assert not Post.objects.filter(pk=own.pk).exists()
    response = author.post(reverse("admin:posts_post_delete", args=[mine.pk]), {"post": "yes"})
    assert response.status_code in {302, 403}
    assert Post.objects.filter(pk=mine.pk).exists()


# --- the whole role × action matrix -------------------------------------------------------

MATRIX = {
    # role: (lists own, lists others', changes own, changes others', publishes own, publishes others')
    "Contributor": (True, False, True, False, False, False),
    "Author": (True, False, True, False, True, False),
    "Editor": (True, True, True, True, True, True),
    "Moderator": (False, False, False, False, False, False),
    None: (True, True, True, True, True, True),
}


def _attempt(client, post: Post, button: str, title: str) -> None:
    """Send what a browser would (or, when the form is refused, a forged minimal POST)."""
    url = change_url(post)
    page = client.get(url)
    soup = BeautifulSoup(page.content, "html.parser") if page.status_code == 200 else None
    if soup is not None and soup.find("form", id="post_form") and soup.find(attrs={"name": "title"}):
        data = form_values(page.content.decode())
    else:
        data = {"slug": post.slug, "body": post.body, "language": "en"}
    data.update({"title": title, button: "1"})
    client.post(url, data)


@pytest.mark.django_db
@pytest.mark.parametrize("role", list(MATRIX), ids=lambda r: r or "superuser")
def test_role_action_matrix(client, role):
    me = login_as(client, role, "me")
    other = factories.UserFactory(username="other")
    expected = MATRIX[role]

    own, others = draft(me, title="Own"), draft(other, title="Others")
    response = client.get(CHANGELIST)
    titles = listed_titles(response) if response.status_code == 200 else []
    seen = ("Own" in titles, "Others" in titles)

    changed = []
    for post in (draft(me, title="Own 2"), draft(other, title="Others 2")):
        _attempt(client, post, "_save_draft", "Changed")
        post.refresh_from_db()
        changed.append(post.title == "Changed")

    published = []
    for post in (own, others):
        _attempt(client, post, "_publish", post.title)
        post.refresh_from_db()
        published.append(Post.objects.published().filter(pk=post.pk).exists())

    assert (*seen, *changed, *published) == expected
