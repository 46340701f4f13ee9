"""The admin's Export screen: Editors download a WXR file, streamed; other staff may not."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from lxml import etree

from posts.roles import CONTRIBUTOR, EDITOR, MODERATOR
from tests import factories
from tests.richsite import build_rich_site
from tests.wxrtools import wordpress_counts

pytestmark = pytest.mark.django_db
URL = "/admin/tools/export/"
WP = "{http://wordpress.org/export/1.2/}"


def login_as(client, role):
    user = factories.UserFactory(username=f"as-{role}".lower(), is_staff=True)
    user.groups.add(Group.objects.get(name=role))
    client.force_login(user)
    return user


def test_editor_downloads_the_export(client, tmp_path):
    site = build_rich_site()
    login_as(client, EDITOR)
    page = client.get("/admin/")
    assert b'id="export-link"' in page.content
    form = client.get(URL)
    assert form.status_code == 200 and b'id="export-form"' in form.content
    response = client.post(URL, {"status": "all"})
    assert response.status_code == 200
    assert response.streaming
    assert response["Content-Disposition"].startswith('attachment; filename="')
    assert "no-cache" in response["Cache-Control"] or "max-age=0" in response["Cache-Control"]
    body = b"".join(response.streaming_content)
    path = tmp_path / "download.xml"
    path.write_bytes(body)
    counts = wordpress_counts(path)
    assert counts["items_by_type_and_status"]["post/publish"] == 3
    # One author only.
    only = client.post(URL, {"status": "published", "author": site["ben"].pk})
    root = etree.fromstring(b"".join(only.streaming_content))
    assert sorted(i.findtext(f"{WP}post_name") for i in root.iter("item")) == [
        "pumps-and-kiosks",
        "sludge-again",
    ]


def test_bad_dates_answer_400_with_the_reason(client):
    login_as(client, EDITOR)
    response = client.post(URL, {"status": "all", "start": "2026-02-01", "end": "2026-01-01"})
    assert response.status_code == 400
    assert "is after" in response.content.decode()
    assert client.post(URL, {"status": "everything"}).status_code == 400


@pytest.mark.parametrize("role", [CONTRIBUTOR, MODERATOR])
def test_other_staff_may_not_export(client, role):
    login_as(client, role)
    assert b'id="export-link"' not in client.get("/admin/").content
    assert client.get(URL).status_code == 403
    assert client.post(URL, {"status": "all"}).status_code == 403


def test_anonymous_goes_to_sign_in(client):
    response = client.get(URL)
    assert response.status_code == 302 and "login" in response["Location"]
