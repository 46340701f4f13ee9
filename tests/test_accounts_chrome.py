"""The admin chrome: the site's name in the header, an index grouped by task with each role seeing
only its groups, and internals (login records, the task queue, import bookkeeping) for superusers
only, answered 403 when a non-superuser forges their URL."""

from __future__ import annotations

import pytest
from bs4 import BeautifulSoup
from django.contrib.auth.models import Group, Permission

from tests import factories

pytestmark = pytest.mark.django_db

# What each role's index shows: task group -> the models listed under it, in order.
EXPECTED_INDEX = {
    "Contributor": {"Write": ["Posts", "Images", "Categories", "Tags", "Linkback attempts"]},
    "Author": {"Write": ["Posts", "Images", "Categories", "Tags", "Linkback attempts"]},
    "Editor": {"Write": ["Posts", "Images", "Categories", "Tags", "Author profiles", "Linkback attempts"]},
    "Moderator": {"Discussion": ["Comments", "Comment flags", "Black listed domains"]},
}
INTERNAL_URLS = [
    "/admin/axes/accessattempt/",
    "/admin/axes/accesslog/",
    "/admin/axes/accessfailurelog/",
    "/admin/django_tasks_database/dbtaskresult/",
    "/admin/posts/importrecord/",
    "/admin/posts/mediareference/",
    "/admin/sites/site/",
]
WHOLLY_INTERNAL_APPS = {"/admin/axes/", "/admin/django_tasks_database/", "/admin/sites/"}


def staff(role: str | None, username: str, *, superuser: bool = False):
    user = factories.UserFactory(username=username, is_staff=True, is_superuser=superuser)
    if role:
        user.groups.add(Group.objects.get(name=role))
    return user


def index_groups(html: bytes) -> dict[str, list[str]]:
    page = BeautifulSoup(html, "html.parser")
    groups = {}
    for module in page.select("#content-main .module"):
        caption = module.select_one("caption").get_text(strip=True)
        groups[caption] = [th.get_text(strip=True) for th in module.select("tbody th, tr th[scope=row]")]
    return groups


@pytest.mark.parametrize("role", sorted(EXPECTED_INDEX))
def test_each_role_sees_only_its_task_groups(client, role):
    client.force_login(staff(role, f"u-{role.lower()}"))
    response = client.get("/admin/")
    assert response.status_code == 200
    assert index_groups(response.content) == EXPECTED_INDEX[role]


def test_the_header_names_the_site_not_django(client, settings):
    settings.SITE_NAME = "Sector Learning"
    client.force_login(staff("Author", "writer"))
    page = BeautifulSoup(client.get("/admin/").content, "html.parser")
    assert page.select_one("#site-name").get_text(strip=True) == "Sector Learning"
    assert "Django" not in page.select_one("title").get_text()
    assert "Django administration" not in page.get_text()


def test_a_superuser_sees_every_group_with_internals_last(client):
    client.force_login(staff(None, "root", superuser=True))
    groups = index_groups(client.get("/admin/").content)
    assert list(groups) == ["Write", "Discussion", "Subscribers", "Site", "Internals"]
    assert groups["Site"] == ["Users", "Groups", "Redirects"]
    internals = groups["Internals"]
    for name in ("Access attempts", "Import records", "Media references"):
        assert name in internals
    assert not {"Posts", "Comments", "Users", "Linkback attempts"} & set(internals)


@pytest.mark.parametrize("url", INTERNAL_URLS)
@pytest.mark.parametrize("role", ["Author", "Editor", "Moderator"])
def test_a_forged_url_to_an_internal_model_answers_403(client, role, url):
    user = staff(role, "forger")
    # Even a permission handed out by mistake does not open an internal to a non-superuser.
    user.user_permissions.add(*Permission.objects.filter(content_type__app_label="axes"))
    client.force_login(user)
    assert client.get(url).status_code == 403
    assert client.get(url + "1/change/").status_code == 403
    app_page = url.rsplit("/", 2)[0] + "/"
    if app_page in WHOLLY_INTERNAL_APPS:
        assert client.get(app_page).status_code == 404


@pytest.mark.parametrize("url", INTERNAL_URLS)
def test_superusers_still_reach_the_internals(client, url):
    client.force_login(staff(None, "root", superuser=True))
    assert client.get(url).status_code == 200


def test_internal_app_pages_hide_internal_models_from_non_superusers(client):
    user = staff("Editor", "ed")
    client.force_login(user)
    posts_app = index_groups(client.get("/admin/posts/").content)
    listed = [name for models in posts_app.values() for name in models]
    assert "Posts" in listed
    assert "Import records" not in listed and "Media references" not in listed


def test_the_sidebar_lists_the_same_task_groups(client):
    client.force_login(staff("Author", "writer"))
    page = BeautifulSoup(client.get("/admin/posts/post/").content, "html.parser")
    captions = [c.get_text(strip=True) for c in page.select("#nav-sidebar caption")]
    assert captions == ["Write"]


def test_autocomplete_of_an_internal_model_answers_403(client):
    client.force_login(staff("Editor", "ed"))
    response = client.get(
        "/admin/autocomplete/",
        {"app_label": "posts", "model_name": "importrecord", "field_name": "post", "term": "a"},
    )
    assert response.status_code == 403
