"""Media library uploads, post revisions (diff and exact restore) and translations."""

from __future__ import annotations

import io

import pytest
from bs4 import BeautifulSoup
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from posts.models import MediaImage, Post, PostRevision
from tests import factories
from tests.test_authoring_roles import change_url, draft, form_values, login_as, submit

MEDIA_ADD = "/admin/posts/mediaimage/add/"


def _image_bytes(fmt: str = "PNG", size=(40, 30)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (20, 120, 200)).save(buffer, format=fmt)
    return buffer.getvalue()


def _upload(client, content: bytes, name: str = "pump.png", alt: str = "A hand pump in a village"):
    page = client.get(MEDIA_ADD)
    data = form_values(page.content.decode(), form_id="mediaimage_form")
    data.update({"alt_text": alt, "image": SimpleUploadedFile(name, content), "_save": "1"})
    return client.post(MEDIA_ADD, data)


def _errors(response) -> list[str]:
    return [li.text for li in BeautifulSoup(response.content, "html.parser").select(".errorlist li")]


# --- media library ------------------------------------------------------------------------


@pytest.mark.django_db
def test_upload_image_and_copy_its_markdown_snippet(client, settings):
    user = login_as(client, "Contributor", "cont")
    response = _upload(client, _image_bytes())
    assert response.status_code == 302, _errors(response)
    image = MediaImage.objects.get()
    assert (image.width, image.height, image.uploaded_by) == (40, 30, user)
    assert (settings.MEDIA_ROOT / image.image.name).exists()
    snippet = f"![A hand pump in a village]({image.image.url})"
    listing = BeautifulSoup(client.get("/admin/posts/mediaimage/").content, "html.parser")
    field = listing.find(id=f"media-snippet-{image.pk}")
    assert field["value"] == snippet
    assert listing.find("button", attrs={"data-copy": f"media-snippet-{image.pk}"}) is not None
    assert listing.find("img", class_="media-thumb")["alt"] == "A hand pump in a village"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("content", "name", "alt", "message"),
    [
        (b"not really a png", "fake.png", "alt", "Upload a valid image."),
        (_image_bytes("BMP"), "old.bmp", "alt", "BMP images are not accepted"),
        (_image_bytes(), "pump.png", "", "Add alt text: describe the image for readers who cannot see it."),
        (
            _image_bytes(),
            "pump.png",
            "   ",
            "Add alt text: describe the image for readers who cannot see it.",
        ),
    ],
)
def test_upload_rejects_bad_files_and_missing_alt(client, content, name, alt, message):
    login_as(client, "Author", "auth")
    response = _upload(client, content, name=name, alt=alt)
    assert response.status_code == 200
    assert any(message in error for error in _errors(response)), _errors(response)
    assert not MediaImage.objects.exists()


@pytest.mark.django_db
def test_upload_rejects_files_over_the_size_cap(client, settings):
    settings.MEDIA_MAX_UPLOAD_BYTES = 1000
    login_as(client, "Author", "auth")
    content = _image_bytes(size=(400, 400))
    assert len(content) > 1000
    response = _upload(client, content)
    assert response.status_code == 200
    assert any("the limit is 1000" in error for error in _errors(response)), _errors(response)
    assert not MediaImage.objects.exists()


# --- revisions ----------------------------------------------------------------------------


@pytest.mark.django_db
def test_each_text_change_keeps_a_revision_with_author_and_diff(client):
    me = login_as(client, "Author", "auth")
    add = reverse("admin:posts_post_add")
    assert (
        submit(client, add, "_save_draft", title="Notes", slug="notes", body="one\ntwo\n").status_code == 302
    )
    post = Post.objects.get(slug="notes")
    url = change_url(post)
    assert submit(client, url, "_save_draft", body="one\nthree\n").status_code == 302
    assert submit(client, url, "_save_draft").status_code == 302  # no text change: no revision
    revisions = list(PostRevision.objects.filter(post=post, is_autosave=False))
    assert [r.body for r in revisions] == ["one\nthree\n", "one\ntwo\n"]
    assert {r.author for r in revisions} == {me}

    page = BeautifulSoup(
        client.get(reverse("admin:posts_post_revisions", args=[post.pk])).content, "html.parser"
    )
    newest = page.select("#revision-list > li")[0]
    assert [s.text for s in newest.select(".diff-del")] == ["-two"]
    assert [s.text for s in newest.select(".diff-add")] == ["+three"]
    assert "auth" in newest.h2.text


@pytest.mark.django_db
def test_restore_round_trips_exactly(client):
    me = login_as(client, "Author", "auth")
    original = "Line with trailing spaces  \n\n\tTabbed — ünïcode 💧\r\n```\ncode\n```\n\n\n"
    post = draft(me, title="Original title", body=original)
    original_html = post.body_html
    url = change_url(post)
    # The first edit keeps the text from before it as a baseline revision.
    assert submit(client, url, "_save_draft", title="New title", body="Rewritten.").status_code == 302
    baseline = PostRevision.objects.get(post=post, body=original)
    restore = reverse("admin:posts_post_restore", args=[post.pk, baseline.pk])
    assert client.get(restore).status_code == 302  # GET never restores
    post.refresh_from_db()
    assert post.body == "Rewritten."

    response = client.post(restore)
    assert response.status_code == 302
    post.refresh_from_db()
    assert (post.title, post.body, post.body_html) == ("Original title", original, original_html)
    latest = PostRevision.objects.filter(post=post, is_autosave=False).first()
    assert (latest.body, latest.author, latest.note) == (original, me, f"restored from #{baseline.pk}")


@pytest.mark.django_db
def test_restore_is_refused_without_change_rights(client):
    login_as(client, "Author", "auth")
    theirs = draft(factories.UserFactory(username="other"), body="theirs")
    revision = PostRevision.objects.create(post=theirs, title="x", body="vandalised")
    response = client.post(reverse("admin:posts_post_restore", args=[theirs.pk, revision.pk]))
    assert response.status_code == 403
    theirs.refresh_from_db()
    assert theirs.body == "theirs"


# --- translations -------------------------------------------------------------------------


@pytest.mark.django_db
def test_add_translation_creates_a_draft_sibling_with_taxonomy(client):
    me = login_as(client, "Author", "auth")
    category = factories.CategoryFactory(name="Sanitation", slug="sanitation")
    tag = factories.TagFactory(name="pumps", slug="pumps")
    post = factories.PostFactory(authors=[me], title="Pumps", categories=[category], tags=[tag])
    page = BeautifulSoup(client.get(change_url(post)).content, "html.parser")
    translate_url = page.find(id="post-add-translation")["href"]
    assert translate_url == reverse("admin:posts_post_translate", args=[post.pk])
    options = [
        o["value"]
        for o in BeautifulSoup(client.get(translate_url).content, "html.parser").select("#id_language option")
    ]
    assert options == ["es", "fr"]

    response = client.post(translate_url, {"language": "fr"})
    assert response.status_code == 302
    copy = Post.objects.get(language="fr")
    assert response.url == change_url(copy)
    assert copy.translation_group == post.translation_group
    assert copy.status == Post.Status.DRAFT and copy.published_at is None
    assert list(copy.categories.all()) == [category]
    assert list(copy.tags.all()) == [tag]
    assert list(copy.authors.all()) == [me]

    siblings = BeautifulSoup(client.get(change_url(post)).content, "html.parser").find(id="post-translations")
    assert [a["href"] for a in siblings.find_all("a")] == [change_url(copy)]
    assert "Français" in siblings.text

    again = client.post(translate_url, {"language": "fr"})
    assert again.status_code == 400
    assert Post.objects.filter(language="fr").count() == 1


@pytest.mark.django_db
def test_editor_offers_library_images_to_insert(client):
    me = login_as(client, "Author", "auth")
    assert _upload(client, _image_bytes()).status_code == 302
    image = MediaImage.objects.get()
    page = BeautifulSoup(client.get(change_url(draft(me))).content, "html.parser")
    picker = page.find(id="media-insert")
    assert picker.find("button", class_="insert-snippet")["data-snippet"] == image.markdown_snippet
    assert picker.find("img")["alt"] == "A hand pump in a village"


@pytest.mark.django_db
def test_unknown_revision_or_post_is_404_not_500(client):
    me = login_as(client, "Author", "auth")
    post = draft(me)
    assert client.post(reverse("admin:posts_post_restore", args=[post.pk, 999999])).status_code == 404
    assert client.post(reverse("admin:posts_post_restore", args=[999999, 1])).status_code == 404
    assert client.get(reverse("admin:posts_post_revisions", args=[999999])).status_code == 404
    assert (
        client.post(reverse("admin:posts_post_translate", args=[post.pk]), {"language": "xx"}).status_code
        == 400
    )


@pytest.mark.django_db
def test_restoring_the_autosave_recovers_unsaved_text(client):
    me = login_as(client, "Author", "auth")
    post = draft(me, title="Kept", body="saved text")
    autosave = reverse("admin:posts_post_autosave", args=[post.pk])
    assert client.post(autosave, {"title": "Kept", "body": "typed but never saved\n"}).status_code == 200
    slot = PostRevision.objects.get(post=post, is_autosave=True)
    page = BeautifulSoup(
        client.get(reverse("admin:posts_post_revisions", args=[post.pk])).content, "html.parser"
    )
    form = page.find(id="revision-autosave").find("form")
    assert form["action"] == reverse("admin:posts_post_restore", args=[post.pk, slot.pk])
    assert client.post(form["action"]).status_code == 302
    post.refresh_from_db()
    assert post.body == "typed but never saved\n"
    assert not PostRevision.objects.filter(post=post, is_autosave=True).exists()
