"""The desk (issue 22) in a real Chromium: an Author writes a post with a pasted image (alt text
asked for), a new tag and a schedule, previews it at phone width and in dark colours, and
publishes; a Contributor submits, an Editor sends it back with a note, the Contributor sees the
note; axe-core on the post screen and the media dialog. Screenshots of the post screen at 1440
and 1024 px are kept under var/e2e/."""

from __future__ import annotations

import base64
import datetime as dt
import io
import re

import pytest
from django.contrib.auth.models import Group
from django.core import mail
from django.utils import timezone
from PIL import Image

from posts.models import MediaImage, Post, ReviewNote, Tag
from tests import factories
from tests.e2e.conftest import ARTIFACTS, audit, run_axe, run_worker

PASSWORD = "a-long-pass-phrase-42"


@pytest.fixture
def team(transactional_db, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    from django.core.management import call_command

    call_command("sync_roles", verbosity=0)
    people = {}
    for username, role, first in [
        ("wren", "Author", "Wren"),
        ("cora", "Contributor", "Cora"),
        ("eda", "Editor", "Eda"),
    ]:
        user = factories.UserFactory(username=username, first_name=first, email=f"{username}@example.org")
        user.set_password(PASSWORD)
        user.save()
        user.groups.add(Group.objects.get(name=role))
        people[role] = user
    return people


def sign_in(page, base: str, username: str) -> None:
    page.goto(base + "/admin/login/?next=/admin/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(base + "/admin/")


def png_base64(size=(64, 40)) -> str:
    buffer = io.BytesIO()
    Image.new("RGB", size, (30, 140, 90)).save(buffer, format="PNG")
    return base64.b64encode(buffer.getvalue()).decode()


PASTE_IMAGE = """async b64 => {
  const bytes = Uint8Array.from(atob(b64), c => c.charCodeAt(0));
  const file = new File([bytes], "pasted.png", {type: "image/png"});
  const data = new DataTransfer();
  data.items.add(file);
  const body = document.getElementById("id_body");
  body.focus();
  body.dispatchEvent(new ClipboardEvent("paste", {clipboardData: data, bubbles: true, cancelable: true}));
}"""


def serious(violations: list[dict]) -> list[tuple[str, str, list]]:
    return [
        (v["id"], v["impact"], [n["target"] for n in v["nodes"]][:5])
        for v in violations
        if v.get("impact") in ("serious", "critical")
    ]


def test_an_author_writes_with_a_pasted_image_a_new_tag_and_a_schedule(open_page, live_server, team):
    base = live_server.url
    page = open_page(viewport={"width": 1440, "height": 900}, bypass_csp=True)
    sign_in(page, base, "wren")
    page.goto(base + "/admin/posts/post/add/")

    # The post screen: a wide title, the toolbar, and the buttons in view beside the editor.
    title = page.get_by_label("Title")
    title.fill("Pump repairs by bicycle")
    assert title.bounding_box()["width"] > 800
    toolbar = page.get_by_role("toolbar", name="Formatting")
    names = [b.get_attribute("aria-label") for b in toolbar.locator("button[data-action]").all()][:9]
    assert names == [
        "Heading",
        "Bold",
        "Italic",
        "Link",
        "Quote",
        "Bulleted list",
        "Format as code",
        "Add an image",
        "Footnote",
    ]
    side = page.locator("#desk-side")
    for button in ("#btn-save-draft", "#btn-publish", "#btn-schedule", "#btn-preview"):
        assert side.locator(button).is_visible()
        assert side.locator(button).bounding_box()["y"] < 900, f"{button} is below the fold"

    body = page.locator("#id_body")
    body.fill("We rode out to the pumps.\n\n")
    body.press("End")
    page.keyboard.press("Control+End")
    # Ctrl+B in the text: a bold pair around the cursor; the word count follows the text.
    page.keyboard.press("Control+b")
    page.keyboard.type("Spare washers")
    page.keyboard.press("Control+End")
    page.keyboard.type("\n\n")
    assert "**Spare washers**" in body.input_value()
    assert page.locator("#md-word-count").inner_text() == "8 words"
    assert page.locator("#md-reading-time").inner_text() == "1 min read"
    assert page.locator("#autosave-state").inner_text() == "Unsaved changes"

    # Paste an image: the media dialog opens and asks for alt text before anything is inserted.
    page.evaluate(PASTE_IMAGE, png_base64())
    dialog = page.get_by_role("dialog", name="Add an image")
    dialog.wait_for()
    assert page.evaluate("document.activeElement.id") == "media-alt"
    dialog.get_by_role("button", name="Upload and insert").click()
    error = dialog.get_by_role("alert")
    assert error.inner_text().startswith("Add alt text: describe the image")
    assert not MediaImage.objects.exists()
    assert serious(run_axe(page)) == [], "media dialog"

    dialog.get_by_label("Alt text").fill("A hand pump with a new washer")
    dialog.get_by_role("button", name="Upload and insert").click()
    dialog.wait_for(state="hidden")
    image = MediaImage.objects.get()
    assert image.alt_text == "A hand pump with a new washer" and image.uploaded_by == team["Author"]
    # Inserted where the cursor was, as its own paragraph.
    assert body.input_value().endswith(
        f"**Spare washers**\n\n![A hand pump with a new washer]({image.image.url})"
    )
    page.locator("#post-preview img[alt='A hand pump with a new washer']").wait_for()

    # A new tag, typed in the side panel.
    page.get_by_label("New tags").fill("Bicycles, Maintenance")

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.locator("#id_body").focus()
    page.evaluate("window.scrollTo(0, 0); document.getElementById('desk-side').scrollTop = 0")
    page.screenshot(path=str(ARTIFACTS / "desk-post-screen-1440.png"))
    assert serious(run_axe(page)) == [], "post screen"
    page.set_viewport_size({"width": 1024, "height": 800})
    assert side.locator("#btn-publish").bounding_box()["y"] < 800
    page.evaluate("window.scrollTo(0, 0); document.getElementById('desk-side').scrollTop = 0")
    page.screenshot(path=str(ARTIFACTS / "desk-post-screen-1024.png"))
    assert page.evaluate("document.scrollingElement.scrollWidth") <= 1024
    page.set_viewport_size({"width": 1440, "height": 900})

    # Preview: the site's own stylesheet, full height, phone width, then dark.
    with page.context.expect_page() as new_tab:
        page.locator("#btn-preview").click()
    tab = new_tab.value
    tab.wait_for_load_state()
    frame_box = tab.locator("#preview-frame").bounding_box()
    assert frame_box["height"] > 600
    tab.get_by_role("button", name="Phone").click()
    assert tab.get_by_role("button", name="Phone").get_attribute("aria-pressed") == "true"
    assert 380 <= tab.locator("#preview-frame").bounding_box()["width"] <= 400
    frame = tab.frame_locator("#preview-frame")
    assert frame.locator("article h1").inner_text() == "Pump repairs by bicycle"
    assert frame.locator("article img").get_attribute("alt") == "A hand pump with a new washer"
    assert frame.locator("link[href='/static/css/site.css']").count() == 1
    light = frame.locator("html").evaluate("h => getComputedStyle(h).backgroundColor")
    tab.get_by_role("button", name="Dark").click()
    tab.wait_for_function(
        "light => getComputedStyle("
        "document.getElementById('preview-frame').contentDocument.documentElement).backgroundColor !== light",
        arg=light,
    )
    assert tab.get_by_role("button", name="Dark").get_attribute("aria-pressed") == "true"
    tab.screenshot(path=str(ARTIFACTS / "desk-preview-phone-dark.png"))
    tab.close()

    # Schedule: a time in the future, in the site's time zone; one full stop and the zone named.
    when = timezone.localtime() + dt.timedelta(days=2)
    page.locator("#id_published_at_0").fill(when.strftime("%Y-%m-%d"))
    page.locator("#id_published_at_1").fill("09:30:00")
    page.locator("#btn-schedule").click()
    page.wait_for_load_state()
    message = page.locator(".messagelist li").first.inner_text()
    assert re.fullmatch(r"“Pump repairs by bicycle” is now scheduled for .+ UTC\.", message), message
    post = Post.objects.get(slug="pump-repairs-by-bicycle")
    assert post.is_scheduled
    assert sorted(post.tags.values_list("name", flat=True)) == ["Bicycles", "Maintenance"]
    assert Tag.objects.filter(slug="bicycles").exists()

    # Publish now, from the scheduled post's side panel; readers see it with its image.
    page.goto(base + f"/admin/posts/post/{post.pk}/change/")
    page.locator("#desk-side #btn-publish").click()
    page.wait_for_load_state()
    post.refresh_from_db()
    assert post.is_published and not post.is_scheduled
    page.goto(base + post.get_absolute_url())
    assert page.locator("article img").get_attribute("alt") == "A hand pump with a new washer"
    assert page.locator("article").get_by_role("link", name="Bicycles").count() == 1


def test_an_editor_sends_a_post_back_with_a_note_the_contributor_sees(open_page, live_server, team):
    base = live_server.url
    contributor = open_page()
    sign_in(contributor, base, "cora")
    contributor.goto(base + "/admin/posts/post/add/")
    contributor.get_by_label("Title").fill("Our first school visit")
    contributor.locator("#id_body").fill("The children showed us their handwashing station.")
    assert contributor.locator("#btn-publish").count() == 0
    contributor.locator("#btn-submit-review").click()
    contributor.wait_for_load_state()
    post = Post.objects.get(slug="our-first-school-visit")
    assert post.status == Post.Status.REVIEW

    editor = open_page()
    sign_in(editor, base, "eda")
    editor.goto(base + f"/admin/posts/post/{post.pk}/change/")
    editor.get_by_role("link", name="Send back with a note").click()
    note = "Lovely start. Please add a photo of the station and name the school."
    editor.get_by_label("Note for the author").fill(note)
    editor.get_by_role("button", name="Send back").click()
    editor.wait_for_load_state()
    assert "Sent 1 post back to its author." in editor.locator(".messagelist").inner_text()
    post.refresh_from_db()
    assert post.status == Post.Status.DRAFT
    assert ReviewNote.objects.get(post=post).note == note

    contributor.goto(base + f"/admin/posts/post/{post.pk}/change/")
    shown = contributor.get_by_role("note")
    assert note in shown.inner_text()
    assert "Sent back by Eda" in shown.inner_text()
    run_worker()
    to_contributor = [m for m in mail.outbox if m.to == ["cora@example.org"]]
    assert to_contributor and note in to_contributor[-1].body


def test_someone_elses_post_is_refused_in_words(open_page, live_server, team):
    base = live_server.url
    theirs = factories.PostFactory(title="Not yours", authors=[team["Editor"]], status=Post.Status.DRAFT)
    page = open_page()
    sign_in(page, base, "wren")
    page.goto(base + f"/admin/posts/post/{theirs.pk}/change/")
    text = page.locator(".messagelist").inner_text()
    assert "belongs to another writer" in text
    assert "ID" not in text and "doesn't exist" not in text


def test_axe_finds_nothing_serious_on_the_desk_in_dark_mode_and_by_keyboard(open_page, live_server, team):
    """The sign-in and two-factor screens are audited in test_e2e_accounts.py; here the post screen
    (dark), its media dialog opened from the keyboard, and the preview page."""
    base = live_server.url
    page = open_page(viewport={"width": 1280, "height": 800}, bypass_csp=True, color_scheme="dark")
    sign_in(page, base, "wren")
    response = page.goto(base + "/admin/posts/post/add/")
    violations, html_errors = audit(page, "post screen, dark", response.text())
    assert serious(violations) == [] and html_errors == [], "post screen, dark"
    assert "Sector Learning" in page.locator("#site-name").inner_text()
    assert "Django administration" not in response.text()

    # The toolbar is one tab stop; arrow keys move inside it; Ctrl+Alt+M opens the media dialog.
    page.locator("#id_title").fill("Keyboard only")
    page.locator("#id_title").press("Tab")
    assert page.evaluate("document.activeElement.getAttribute('aria-label')") == "Heading"
    page.keyboard.press("ArrowRight")
    assert page.evaluate("document.activeElement.getAttribute('aria-label')") == "Bold"
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "id_body"
    page.keyboard.press("Control+Alt+m")
    dialog = page.get_by_role("dialog", name="Add an image")
    dialog.wait_for()
    assert page.evaluate("document.activeElement.id") == "media-file"
    assert serious(run_axe(page)) == [], "media dialog, dark"
    page.keyboard.press("Escape")
    dialog.wait_for(state="hidden")

    with page.context.expect_page() as new_tab:
        page.locator("#btn-preview").click()
    tab = new_tab.value
    tab.wait_for_load_state()
    violations, html_errors = audit(tab, "preview page", tab.content())
    assert serious(violations) == [] and html_errors == [], "preview page"
