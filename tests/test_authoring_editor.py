"""The post editor: live preview, buttons, scheduling, slugs per date, share links, autosave."""

from __future__ import annotations

import datetime as dt
import json

import pytest
import time_machine
from bs4 import BeautifulSoup
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from core.markup import render_markdown
from posts.models import Post, PostRevision
from tests import factories
from tests.test_authoring_roles import CHANGELIST, MIDDAY, change_url, draft, login_as, submit

PREVIEW = "/admin/posts/post/preview/"
# Includes the outbound linkback attempts inline, the review note of a draft (sent back) and the
# newsletter panel's mailing (its send log).
QUERIES_CHANGE_PAGE = 22
MARKDOWN = "## Field notes\n\n- pumps\n- kiosks\n\nSee [the report](https://example.org/report).\n"


def _split(when: dt.datetime) -> dict[str, str]:
    local = timezone.localtime(when)
    return {"published_at_0": local.strftime("%Y-%m-%d"), "published_at_1": local.strftime("%H:%M:%S")}


# --- live preview -------------------------------------------------------------------------


@pytest.mark.django_db
def test_preview_equals_published_output(client):
    login_as(client, "Author", "auth")
    response = client.post(PREVIEW, {"body": MARKDOWN}, HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    assert response["Cache-Control"].startswith("private")
    preview_html = response.json()["html"]
    assert "<h2" in preview_html and "<li>pumps</li>" in preview_html

    response = submit(
        client,
        reverse("admin:posts_post_add"),
        "_publish",
        title="Field notes",
        slug="field-notes",
        body=MARKDOWN,
    )
    assert response.status_code == 302
    post = Post.objects.get(slug="field-notes")
    assert post.body_html == preview_html == render_markdown(MARKDOWN, "post")
    page = BeautifulSoup(Client().get(post.get_absolute_url()).content, "html.parser")
    assert page.select_one(".e-content").decode_contents() == preview_html


@pytest.mark.django_db
def test_preview_without_js_renders_a_page(client):
    me = login_as(client, "Contributor", "cont")
    mine = draft(me)
    button = BeautifulSoup(client.get(change_url(mine)).content, "html.parser").find(id="btn-preview")
    assert button["formaction"] == PREVIEW
    assert button["formtarget"] == "_blank"
    response = client.post(PREVIEW, {"title": "Draft title", "body": MARKDOWN, "_preview": ""})
    assert response.status_code == 200
    # The post is drawn by the site's own templates and stylesheet, in a frame of the page.
    frame = BeautifulSoup(response.content, "html.parser").find("iframe", id="preview-frame")
    document = BeautifulSoup(frame["srcdoc"], "html.parser")
    assert document.find("link", rel="stylesheet")["href"] == "/static/css/site.css"
    assert document.find("link", href="/static/css/admin.css") is None
    article = document.find(id="post-preview-page")
    assert article.h1.text == "Draft title"
    assert article.find("a", href="https://example.org/report") is not None


@pytest.mark.django_db
@time_machine.travel(MIDDAY, tick=False)
def test_preview_endpoint_guards(client, settings):
    assert client.post(PREVIEW, {"body": "x"}).status_code == 302  # to the login page
    login_as(client, "Author", "auth")
    assert client.get(PREVIEW).status_code == 405
    settings.PREVIEW_RATE_PER_MINUTE = 3
    codes = [
        client.post(PREVIEW, {"body": "x"}, HTTP_ACCEPT="application/json").status_code for _ in range(4)
    ]
    assert codes == [200, 200, 200, 429]

    strict = Client(enforce_csrf_checks=True)
    login_as(strict, "Author", "auth2")
    assert strict.post(PREVIEW, {"body": "x"}).status_code == 403

    moderator = Client()
    login_as(moderator, "Moderator", "mod")
    assert moderator.post(PREVIEW, {"body": "x"}).status_code == 403


@pytest.mark.django_db
def test_change_page_has_editor_preview_pane_and_external_script(client):
    me = login_as(client, "Author", "auth")
    mine = draft(me, body="**bold** move")
    response = client.get(change_url(mine))
    page = BeautifulSoup(response.content, "html.parser")
    editor = page.find(id="md-editor")
    assert editor["data-preview-url"] == PREVIEW
    assert editor.find("textarea", id="id_body") is not None
    assert page.find(id="post-preview").strong.text == "bold"
    assert page.find("script", src="/static/js/editor.js") is not None
    assert page.find("link", href="/static/css/admin.css") is not None
    assert page.find(id="authoring-config")["data-autosave-url"] == f"/admin/posts/post/{mine.pk}/autosave/"
    assert "script-src 'self' 'nonce-" in response["Content-Security-Policy"]
    for script in page.find_all("script"):
        assert script.get("src") or script.get("nonce"), script


# --- buttons and scheduling ---------------------------------------------------------------


@pytest.mark.django_db
def test_scheduled_post_appears_exactly_when_its_time_passes(client):
    login_as(client, "Author", "auth")
    start = timezone.now().replace(microsecond=0)
    when = start + dt.timedelta(hours=2)
    with time_machine.travel(start, tick=False):
        response = submit(
            client,
            reverse("admin:posts_post_add"),
            "_schedule",
            title="Coming soon",
            slug="coming-soon",
            body="Later.",
            **_split(when),
        )
        assert response.status_code == 302
        post = Post.objects.get(slug="coming-soon")
        assert post.is_scheduled and post.published_at == when
        listing = BeautifulSoup(client.get(CHANGELIST).content, "html.parser")
        assert listing.select_one(".post-status").text.startswith("scheduled for")
        scheduled = client.get(CHANGELIST, {"state": "scheduled"})
        assert [
            a.text for a in BeautifulSoup(scheduled.content, "html.parser").select("#result_list tbody th a")
        ] == ["Coming soon"]

    reader = Client()
    url = post.get_absolute_url()
    with time_machine.travel(when - dt.timedelta(seconds=1), tick=False):
        assert "Coming soon" not in reader.get("/").content.decode()
        assert reader.get(url).status_code == 404
    with time_machine.travel(when, tick=False):
        assert "Coming soon" in reader.get("/").content.decode()
        assert reader.get(url).status_code == 200


@pytest.mark.django_db
def test_schedule_needs_a_future_date(client):
    me = login_as(client, "Author", "auth")
    mine = draft(me)
    response = submit(
        client, change_url(mine), "_schedule", **_split(timezone.now() - dt.timedelta(minutes=5))
    )
    assert response.status_code == 200
    errors = BeautifulSoup(response.content, "html.parser").select(".field-published_at .errorlist li")
    assert errors[0].text == "To schedule, set a publication date and time in the future."
    mine.refresh_from_db()
    assert mine.status == Post.Status.DRAFT


@pytest.mark.django_db
def test_published_post_can_be_unpublished_to_draft(client):
    me = login_as(client, "Author", "auth")
    mine = factories.PostFactory(authors=[me], title="Live")
    page = BeautifulSoup(client.get(change_url(mine)).content, "html.parser")
    assert page.find(id="btn-update") is not None
    assert page.find(id="btn-save-draft")["value"] == "Unpublish to draft"
    assert submit(client, change_url(mine), "_save_draft").status_code == 302
    mine.refresh_from_db()
    assert mine.status == Post.Status.DRAFT


@pytest.mark.django_db
def test_list_shows_statuses(client):
    me = login_as(client, "Editor", "ed")
    draft(me, title="A draft")
    draft(me, title="Waiting", status=Post.Status.REVIEW)
    factories.PostFactory(
        authors=[me], title="Out", categories=[factories.CategoryFactory()], tags=[factories.TagFactory()]
    )
    factories.PostFactory(authors=[me], title="Later", published_at=timezone.now() + dt.timedelta(days=3))
    soup = BeautifulSoup(client.get(CHANGELIST).content, "html.parser")
    assert [d["data-filter-title"] for d in soup.select("#changelist-filter details")] == [
        "status",
        "authors",
        "categories",
        "tags",
        "language",
    ]
    assert soup.select_one("nav.toplinks") is not None  # date hierarchy
    assert soup.find(id="searchbar") is not None
    statuses = {
        row.select_one("th a").text: row.select_one(".post-status").text
        for row in soup.select("#result_list tbody tr")
    }
    assert statuses["A draft"] == "draft"
    assert statuses["Waiting"] == "in review"
    assert statuses["Out"] == "published"
    assert statuses["Later"].startswith("scheduled for ")
    filters = {a.text for a in soup.select("#changelist-filter a")}
    assert {"Draft", "In review", "Scheduled", "Published"} <= filters
    for value, title in [("draft", "A draft"), ("review", "Waiting"), ("published", "Out")]:
        response = client.get(CHANGELIST, {"state": value})
        assert [
            a.text for a in BeautifulSoup(response.content, "html.parser").select("#result_list tbody th a")
        ] == [title]
    response = client.get(CHANGELIST, {"q": "Waiting"})
    assert [
        a.text for a in BeautifulSoup(response.content, "html.parser").select("#result_list tbody th a")
    ] == ["Waiting"]


@pytest.mark.django_db
def test_changelist_query_count_does_not_grow(client, django_assert_num_queries):
    me = login_as(client, "Author", "auth")
    for _ in range(3):
        draft(me)
    client.get(CHANGELIST)  # warm the session and content-type caches
    with django_assert_num_queries(14) as captured:
        assert client.get(CHANGELIST).status_code == 200
    assert not any('"posts_post"."body"' in q["sql"] for q in captured.captured_queries)
    for _ in range(12):
        factories.PostFactory(authors=[me])
    with django_assert_num_queries(14):
        assert client.get(CHANGELIST).status_code == 200


# --- slugs --------------------------------------------------------------------------------


@pytest.mark.django_db
@time_machine.travel(MIDDAY, tick=True)
def test_slug_must_be_unique_per_date_with_a_clear_error(client):
    other = factories.UserFactory(username="other")
    factories.PostFactory(
        authors=[other], slug="water-week", published_at=timezone.now() - dt.timedelta(minutes=1)
    )
    login_as(client, "Author", "auth")
    add = reverse("admin:posts_post_add")
    page = BeautifulSoup(client.get(add).content, "html.parser")
    assert page.find(id="django-admin-prepopulated-fields-constants") is not None
    response = submit(client, add, "_publish", title="Water week", slug="water-week", body="Again.")
    assert response.status_code == 200
    errors = BeautifulSoup(response.content, "html.parser").select(".field-slug .errorlist li")
    assert "already uses this slug on" in errors[0].text
    assert Post.objects.filter(slug="water-week").count() == 1
    # A draft with no date does not clash; another day does not clash either.
    assert submit(client, add, "_save_draft", title="Water week", slug="water-week").status_code == 302
    assert Post.objects.filter(slug="water-week").count() == 2


# --- view on site and signed preview links ------------------------------------------------


@pytest.mark.django_db
def test_view_on_site_for_unpublished_post_is_a_signed_link_that_expires(client):
    me = login_as(client, "Author", "auth")
    mine = draft(me, title="Secret plan", body="Under *review*.")
    page = BeautifulSoup(client.get(change_url(mine)).content, "html.parser")
    share = page.find(id="post-share-link")["value"]
    path = share.split("://", 1)[1].split("/", 1)[1]
    path = "/" + path
    assert path.startswith("/preview/")
    assert page.select_one("a.viewsitelink")["href"] == path

    start = timezone.now()
    reader = Client()
    response = reader.get(path)
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    assert response["X-Robots-Tag"].startswith("noindex")
    soup = BeautifulSoup(response.content, "html.parser")
    assert soup.select_one("article h1").text == "Secret plan"
    assert soup.select_one(".e-content em").text == "review"

    with time_machine.travel(start + dt.timedelta(days=7, seconds=5)):
        expired = reader.get(path)
    assert expired.status_code == 410
    assert "expired" in BeautifulSoup(expired.content, "html.parser").find(id="preview-error").text
    tampered = reader.get(path.replace(f"/preview/{mine.pk}:", f"/preview/{mine.pk + 1}:"))
    assert tampered.status_code == 404

    mine.status, mine.published_at = Post.Status.PUBLISHED, timezone.now() - dt.timedelta(seconds=1)
    mine.save()
    assert reader.get(path).url == mine.get_absolute_url()


@pytest.mark.django_db
def test_view_on_site_for_published_post_is_its_permalink(client):
    me = login_as(client, "Author", "auth")
    mine = factories.PostFactory(authors=[me])
    page = BeautifulSoup(client.get(change_url(mine)).content, "html.parser")
    assert page.select_one("a.viewsitelink")["href"] == mine.get_absolute_url()
    assert page.find(id="post-live-link")["href"] == mine.get_absolute_url()


# --- autosave -----------------------------------------------------------------------------


@pytest.mark.django_db
def test_autosave_keeps_one_slot_and_a_real_save_clears_it(client):
    me = login_as(client, "Author", "auth")
    mine = draft(me, title="T", body="first")
    url = reverse("admin:posts_post_autosave", args=[mine.pk])
    for body in ("typing", "typing more"):
        response = client.post(url, {"title": "T", "body": body})
        assert response.status_code == 200
        assert "saved_at" in json.loads(response.content)
    slots = PostRevision.objects.filter(post=mine, is_autosave=True)
    assert [s.body for s in slots] == ["typing more"]
    mine.refresh_from_db()
    assert mine.body == "first"  # autosave never overwrites the post itself

    revisions = BeautifulSoup(
        client.get(reverse("admin:posts_post_revisions", args=[mine.pk])).content, "html.parser"
    )
    assert revisions.find(id="revision-autosave") is not None

    assert submit(client, change_url(mine), "_save_draft", body="typing more").status_code == 302
    assert not PostRevision.objects.filter(post=mine, is_autosave=True).exists()


@pytest.mark.django_db
def test_autosave_refuses_other_peoples_posts(client):
    login_as(client, "Author", "auth")
    theirs = draft(factories.UserFactory(username="other"))
    response = client.post(
        reverse("admin:posts_post_autosave", args=[theirs.pk]), {"title": "x", "body": "y"}
    )
    assert response.status_code == 403
    assert not PostRevision.objects.filter(post=theirs).exists()


@pytest.mark.django_db
@pytest.mark.parametrize("token", ["garbage", "1:abc:def", "999999:1tQ0aa:bad-signature-value"])
def test_bad_preview_tokens_get_a_clear_404(token):
    response = Client().get(f"/preview/{token}/")
    assert response.status_code == 404
    assert BeautifulSoup(response.content, "html.parser").find(id="preview-error").text == (
        "This preview link is not valid."
    )


@pytest.mark.django_db
def test_preview_link_for_a_deleted_post_is_404(client):
    me = login_as(client, "Author", "auth")
    mine = draft(me)
    from posts.preview import preview_url

    path = preview_url(mine)
    mine.delete()
    assert Client().get(path).status_code == 404


@pytest.mark.django_db
def test_enter_key_default_is_save_draft_not_publish(client):
    me = login_as(client, "Author", "auth")
    buttons = BeautifulSoup(client.get(change_url(draft(me))).content, "html.parser").select(
        ".submit-row input[type=submit]"
    )
    assert buttons[0]["name"] == "_save_draft"
    assert [b["id"] for b in buttons] == ["btn-save-draft", "btn-publish", "btn-schedule", "btn-continue"]


@pytest.mark.django_db
def test_change_page_query_count_does_not_grow_with_history(client, django_assert_num_queries):
    me = login_as(client, "Editor", "ed")
    post = draft(me, body="Text")
    url = change_url(post)
    client.get(url)
    with django_assert_num_queries(QUERIES_CHANGE_PAGE):
        assert client.get(url).status_code == 200
    from comments.models import LinkbackAttempt

    for n in range(6):
        PostRevision.objects.create(post=post, title=post.title, body=f"v{n}", author=me)
        LinkbackAttempt.objects.create(post=post, target_url=f"https://example.net/{n}/")
    for language in ("es", "fr"):
        draft(me, language=language, translation_group=post.translation_group)
    with django_assert_num_queries(QUERIES_CHANGE_PAGE):
        assert client.get(url).status_code == 200
