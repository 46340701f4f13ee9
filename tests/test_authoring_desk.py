"""The desk's post screen (issue 22) without a browser: the editor's image upload and its refusals,
new tags from the post form, refusals of someone else's post in words, the preview's light and
dark stylesheets, and the screen's layout (toolbar, side panel, collapsed linkbacks)."""

from __future__ import annotations

import io

import pytest
from bs4 import BeautifulSoup
from django.contrib.messages import get_messages
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from posts.models import MediaImage, Post, ReviewNote, Tag
from tests import factories
from tests.test_authoring_roles import CHANGELIST, change_url, draft, login_as, submit

UPLOAD = "/admin/posts/post/media/upload/"
ADD = "/admin/posts/post/add/"


def png(name: str = "pump.png") -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (30, 20), (200, 80, 40)).save(buffer, format="PNG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")


def messages_of(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


# --- the editor's image upload ---------------------------------------------------------------


@pytest.mark.django_db
def test_upload_from_the_editor_returns_the_markdown_to_insert(client):
    me = login_as(client, "Contributor", "cont")
    response = client.post(UPLOAD, {"image": png(), "alt_text": "  A pump  in the rain ", "caption": ""})
    assert response.status_code == 201, response.content
    image = MediaImage.objects.get()
    assert (image.alt_text, image.uploaded_by, image.width) == ("A pump in the rain", me, 30)
    assert response.json()["snippet"] == f"![A pump in the rain]({image.image.url})"


@pytest.mark.django_db
@pytest.mark.parametrize("alt", ["", "   "])
def test_upload_without_alt_text_is_refused_with_a_clear_message(client, alt):
    login_as(client, "Author", "auth")
    response = client.post(UPLOAD, {"image": png(), "alt_text": alt})
    assert response.status_code == 400
    assert response.json()["error"] == (
        "Add alt text: describe the image for readers who cannot see it. "
        "The image is not uploaded without it."
    )
    assert not MediaImage.objects.exists()


@pytest.mark.django_db
def test_upload_of_something_that_is_not_an_image_is_refused(client):
    login_as(client, "Author", "auth")
    fake = SimpleUploadedFile("fake.png", b"not a png at all", content_type="image/png")
    response = client.post(UPLOAD, {"image": fake, "alt_text": "A pump"})
    assert response.status_code == 400
    assert "image" in response.json()["errors"]
    assert not MediaImage.objects.exists()


@pytest.mark.django_db
def test_upload_needs_the_right_to_add_images_and_a_post(client):
    login_as(client, "Moderator", "mod")
    response = client.post(UPLOAD, {"image": png(), "alt_text": "A pump"})
    assert response.status_code == 403
    assert response.json()["error"] == "You cannot add images to the library."
    login_as(client, "Author", "auth")
    assert client.get(UPLOAD).status_code == 405
    assert not MediaImage.objects.exists()


# --- tags ----------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_an_author_adds_new_tags_from_the_post_form(client):
    me = login_as(client, "Author", "auth")
    Tag.objects.create(name="Water", slug="water")
    mine = draft(me, title="Rain tanks", slug="rain-tanks")
    response = submit(
        client, change_url(mine), "_save_draft", new_tags="water, Rain harvesting,  , Rain harvesting"
    )
    assert response.status_code == 302
    assert sorted(mine.tags.values_list("slug", flat=True)) == ["rain-harvesting", "water"]
    assert Tag.objects.count() == 2


@pytest.mark.django_db
def test_a_contributor_has_no_new_tags_field_and_a_forged_one_is_ignored(client):
    me = login_as(client, "Contributor", "cont")
    mine = draft(me)
    page = BeautifulSoup(client.get(change_url(mine)).content, "html.parser")
    assert page.find(id="id_new_tags") is None
    assert submit(client, change_url(mine), "_save_draft", new_tags="Forged").status_code == 302
    assert not Tag.objects.exists()


# --- refusals in words ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_someone_elses_post_is_refused_in_words_not_as_a_missing_id(client):
    editor = factories.UserFactory(username="ed")
    theirs = draft(editor, title="Theirs")
    login_as(client, "Author", "auth")
    response = client.get(change_url(theirs))
    assert response.status_code == 302 and response["Location"] == CHANGELIST
    [message] = messages_of(response)
    assert message == (
        "That post belongs to another writer, so you can't open it. Ask an editor if it needs your help."
    )
    response = client.get(f"/admin/posts/post/{theirs.pk + 1000}/change/")
    assert messages_of(response)[-1] == "That post doesn't exist any more; it may have been deleted."
    # A forged POST to it changes nothing either.
    client.post(change_url(theirs), {"title": "Mine now", "_save_draft": "1"})
    theirs.refresh_from_db()
    assert theirs.title == "Theirs"


# --- the screen ------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_post_screen_has_a_toolbar_a_side_panel_and_linkbacks_collapsed(client):
    me = login_as(client, "Author", "auth")
    page = BeautifulSoup(client.get(change_url(draft(me))).content, "html.parser")
    toolbar = page.find(attrs={"role": "toolbar"})
    assert toolbar["aria-label"] == "Formatting" and toolbar["aria-controls"] == "id_body"
    buttons = toolbar.find_all("button", attrs={"data-action": True})
    labels = [(b["aria-label"], b["aria-keyshortcuts"]) for b in buttons if b.has_attr("aria-keyshortcuts")]
    assert labels[:4] == [
        ("Heading", "Control+Alt+H"),
        ("Bold", "Control+B"),
        ("Italic", "Control+I"),
        ("Link", "Control+K"),
    ]
    assert [b.get("tabindex") for b in buttons][:2] == [None, "-1"]  # one tab stop, arrows inside
    side = page.find(id="desk-side")
    assert side.name == "aside"
    assert [i["id"] for i in side.select(".submit-row input, .submit-row button")][:3] == [
        "btn-save-draft",
        "btn-publish",
        "btn-schedule",
    ]
    for field in ("id_published_at_0", "id_language", "id_tags", "id_new_tags", "id_featured_image"):
        assert side.find(id=field) is not None, field
    assert page.select_one(".desk-main #id_title")["class"] == ["vTextField", "desk-title"]
    assert page.find(id="media-dialog").name == "dialog"
    assert page.find("label", attrs={"for": "media-alt"}).text == "Alt text"
    assert page.find(id="md-word-count") is not None and page.find(id="autosave-state") is not None
    below = page.select("fieldset.pane-below details summary")
    assert [s.get_text(strip=True) for s in below] == ["Trackbacks to send"]
    assert page.select_one("#linkbackattempt_set-group details, .inline-group details") is not None


@pytest.mark.django_db
def test_a_scheduled_post_can_be_published_now(client):
    me = login_as(client, "Author", "auth")
    from django.utils import timezone

    later = timezone.now() + timezone.timedelta(days=3)
    mine = draft(me, status=Post.Status.PUBLISHED, published_at=later)
    page = BeautifulSoup(client.get(change_url(mine)).content, "html.parser")
    assert page.find(id="btn-publish") is not None
    assert submit(client, change_url(mine), "_publish").status_code == 302
    mine.refresh_from_db()
    assert mine.is_published and mine.published_at <= timezone.now()


@pytest.mark.django_db
def test_the_contributor_sees_the_editors_note_on_the_post(client):
    cont = login_as(client, "Contributor", "cont")
    mine = draft(cont, status=Post.Status.REVIEW)
    editor = login_as(client, "Editor", "ed")
    page = BeautifulSoup(client.get(change_url(mine)).content, "html.parser")
    assert page.find(id="post-send-back-tool")["href"] == f"/admin/posts/post/{mine.pk}/send-back/"
    response = client.post(f"/admin/posts/post/{mine.pk}/send-back/", {"note": ""})
    assert response.status_code == 400
    assert "Write a note" in BeautifulSoup(response.content, "html.parser").find(id="send-back-error").text
    client.post(f"/admin/posts/post/{mine.pk}/send-back/", {"note": "Name the school, please."})
    assert ReviewNote.objects.get(post=mine).author == editor
    client.force_login(cont)
    note = BeautifulSoup(client.get(change_url(mine)).content, "html.parser").find(id="review-note")
    assert note["role"] == "note" and "Name the school, please." in note.text


# --- the preview's light and dark ---------------------------------------------------------------


@pytest.mark.django_db
def test_preview_stylesheets_fix_the_sites_colour_scheme(client):
    assert client.get("/admin/posts/post/preview/dark.css").status_code == 302  # signed-in staff only
    login_as(client, "Contributor", "cont")
    dark = client.get("/admin/posts/post/preview/dark.css")
    light = client.get("/admin/posts/post/preview/light.css")
    assert dark["Content-Type"] == light["Content-Type"] == "text/css; charset=utf-8"
    dark_css, light_css = dark.content.decode(), light.content.decode()
    assert "@media (prefers-color-scheme" not in dark_css + light_css
    assert "@media all {" in dark_css and "color-scheme: dark;" in dark_css
    assert "@media not all {" in light_css and "color-scheme: light;" in light_css
    # Relative url()s (the fonts) point where the site's own stylesheet would find them.
    assert "../" not in dark_css and 'url("/static/fonts/' in dark_css
    assert client.get("/admin/posts/post/preview/sepia.css").status_code == 404


# --- tags: Editors merge them --------------------------------------------------------------------


@pytest.mark.django_db
def test_an_editor_merges_tags_and_the_old_address_leads_to_the_kept_one(client):
    from django.test import Client

    editor = login_as(client, "Editor", "ed")
    bike, bicycles = (
        Tag.objects.create(name="Bike", slug="bike"),
        Tag.objects.create(name="Bicycles", slug="bicycles"),
    )
    both = factories.PostFactory(authors=[editor], title="Both", slug="both")
    both.tags.add(bike, bicycles)
    only_bike = factories.PostFactory(authors=[editor], title="Only bike", slug="only-bike")
    only_bike.tags.add(bike)
    old_url = bike.get_absolute_url()
    data = {"action": "merge_selected", "_selected_action": [bike.pk, bicycles.pk]}
    page = client.post("/admin/posts/tag/", data)
    assert page.status_code == 200
    form = BeautifulSoup(page.content, "html.parser").find(id="merge-form")
    assert {i["value"] for i in form.find_all("input", attrs={"name": "keep"})} == {
        str(bike.pk),
        str(bicycles.pk),
    }
    response = client.post("/admin/posts/tag/", {**data, "keep": bicycles.pk})
    assert response.status_code == 302
    assert messages_of(response)[-1] == "Merged 1 tag into “Bicycles”."
    assert list(Tag.objects.values_list("slug", flat=True)) == ["bicycles"]
    assert set(bicycles.posts.values_list("slug", flat=True)) == {"both", "only-bike"}
    moved = Client().get(old_url)
    assert moved.status_code == 301 and moved["Location"].endswith(bicycles.get_absolute_url())


@pytest.mark.django_db
def test_an_author_cannot_merge_tags(client):
    login_as(client, "Author", "auth")
    a, b = Tag.objects.create(name="A", slug="a"), Tag.objects.create(name="B", slug="b")
    page = BeautifulSoup(client.get("/admin/posts/tag/").content, "html.parser")
    assert page.find("option", value="merge_selected") is None
    client.post(
        "/admin/posts/tag/", {"action": "merge_selected", "_selected_action": [a.pk, b.pk], "keep": a.pk}
    )
    assert Tag.objects.count() == 2
