"""Issue 23, author photos: an uploaded photo is cut square and stored at the sizes the author box
(72 px) and the author page (112 px) show it at, for 1x to 3x screens, in WebP and in its own format,
by the real task worker. Pages give a <picture> with srcset, sizes, width and height, lazy in the
author box at the end of a post and not on the author page (above the fold). A photo whose copies
are not made yet, or can't be, is shown as uploaded. `queue_image_variants` queues photos uploaded
before the worker made copies."""

from __future__ import annotations

import io
from io import BytesIO

import pytest
from bs4 import BeautifulSoup
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management import call_command
from PIL import Image

from posts.models import AuthorProfile
from tests.factories import PostFactory, UserFactory

# Transactional: the worker runs in-process and closes its database connection when its batch
# ends, which on PostgreSQL would end a test wrapped in one transaction (SQLite ignores it).
pytestmark = pytest.mark.django_db(transaction=True)


def picture(width: int, height: int, fmt: str = "JPEG", name: str = "ada.jpg") -> ContentFile:
    buffer = BytesIO()
    Image.new("RGB", (width, height), (180, 90, 40)).save(buffer, fmt)
    return ContentFile(buffer.getvalue(), name=name)


def run_worker() -> None:
    call_command("db_worker", "--batch", "--no-reload", "--no-startup-delay", verbosity=0)


def soup(client, url):
    response = client.get(url)
    assert response.status_code == 200, url
    return BeautifulSoup(response.content, "html.parser")


@pytest.fixture
def author_with_post(settings):
    settings.PAGE_CACHE = False  # the same pages read before and after the worker's pass
    settings.FRAGMENT_CACHE = False
    user = UserFactory(username="ada", first_name="Ada", last_name="Obi")
    post = PostFactory(title="Boreholes in the dry season", authors=[user])
    return user, post


def test_the_worker_makes_square_copies_and_both_pages_list_them(
    client, author_with_post, django_capture_on_commit_callbacks
):
    user, post = author_with_post
    profile = user.profile
    with django_capture_on_commit_callbacks(execute=True):
        profile.bio = "Water engineer."
        profile.avatar = picture(800, 600)
        profile.save()
    name, url = profile.avatar.name, profile.avatar.url

    # Before the worker has run: the upload itself, sized, no srcset, no error.
    img = soup(client, "/author/ada/").select_one(".author-card img.author-photo")
    assert img["src"] == url and not img.has_attr("srcset") and img.find_parent("picture") is None
    assert (img["width"], img["height"]) == ("112", "112")

    run_worker()
    profile.refresh_from_db()
    assert profile.avatar_variants == {"name": name, "sizes": [72, 112, 144, 224, 336], "ext": ".jpg"}
    stem = name.rsplit(".", 1)[0]
    for size in (72, 112, 144, 224, 336):
        for ext, fmt in (("webp", "WEBP"), ("jpg", "JPEG")):
            with default_storage.open(f"{stem}-{size}x{size}.{ext}") as handle:
                stored = Image.open(handle)
                assert (stored.format, stored.size) == (fmt, (size, size))

    # The author page: 112 px, above the fold (not lazy).
    stem_url = url.rsplit(".", 1)[0]
    page = soup(client, "/author/ada/").select_one(".author-card picture.author-photo-frame")
    source, img = page.select_one("source"), page.select_one("img.u-photo.author-photo")
    assert source["type"] == "image/webp" and source["sizes"] == "112px"
    assert source["srcset"].split(", ") == [f"{stem_url}-{s}x{s}.webp {s}w" for s in (72, 112, 144, 224, 336)]
    assert img["src"] == f"{stem_url}-112x112.jpg" and f"{stem_url}-224x224.jpg 224w" in img["srcset"]
    assert (img["width"], img["height"], img["sizes"], img["alt"]) == ("112", "112", "112px", "")
    assert not img.has_attr("loading")

    # The author box at the end of the post: 72 px, lazy.
    box = soup(client, post.get_absolute_url()).select_one(".author-box picture.author-photo-frame")
    img = box.select_one("img")
    assert box.select_one("source")["sizes"] == "72px" and img["src"] == f"{stem_url}-72x72.jpg"
    assert (img["width"], img["height"], img["loading"]) == ("72", "72", "lazy")


def test_a_small_png_gets_one_copy_at_its_own_size(
    client, author_with_post, django_capture_on_commit_callbacks
):
    user, _post = author_with_post
    with django_capture_on_commit_callbacks(execute=True):
        user.profile.avatar = picture(60, 90, "PNG", "tiny.png")
        user.profile.save()
    run_worker()
    user.profile.refresh_from_db()
    assert user.profile.avatar_variants["sizes"] == [60] and user.profile.avatar_variants["ext"] == ".png"
    img = soup(client, "/author/ada/").select_one(".author-card picture img")
    assert img["src"].endswith("-60x60.png") and img["srcset"].endswith("-60x60.png 60w")


def test_an_unreadable_photo_is_recorded_and_shown_as_uploaded(
    client, author_with_post, django_capture_on_commit_callbacks
):
    user, post = author_with_post
    with django_capture_on_commit_callbacks(execute=True):
        user.profile.avatar = ContentFile(b"not a picture", name="broken.jpg")
        user.profile.save()
    run_worker()
    user.profile.refresh_from_db()
    assert user.profile.avatar_variants == {"name": user.profile.avatar.name}
    img = soup(client, post.get_absolute_url()).select_one(".author-box img.author-photo")
    assert img["src"] == user.profile.avatar.url and not img.has_attr("srcset")


def test_photos_uploaded_before_the_worker_made_copies_are_queued_by_the_command(client, author_with_post):
    user, _post = author_with_post
    # As a photo stored before posts/0013: on the row, with no copies recorded and none queued.
    name = default_storage.save("avatars/old.jpg", picture(400, 400))
    AuthorProfile.objects.filter(user=user).update(avatar=name)
    run_worker()
    assert AuthorProfile.objects.get(user=user).avatar_variants == {}

    call_command("queue_image_variants", stdout=(text := io.StringIO()))
    assert "author photos: 1 queued" in text.getvalue()
    run_worker()
    assert AuthorProfile.objects.get(user=user).avatar_variants["sizes"] == [72, 112, 144, 224, 336]
    source = soup(client, "/author/ada/").select_one(".author-card picture source")
    assert "/media/avatars/old-336x336.webp 336w" in source["srcset"]

    # A second run finds nothing left to do.
    call_command("queue_image_variants", stdout=(again := io.StringIO()))
    assert "0 queued in all" in again.getvalue()
    call_command("queue_image_variants", "--all", stdout=(everything := io.StringIO()))
    assert "author photos: 1 queued" in everything.getvalue()


def test_a_cached_author_page_shows_the_copies_once_the_worker_has_made_them(
    client, django_capture_on_commit_callbacks
):
    # The page and fragment caches on, as in production: the worker's write renews the pages.
    user = UserFactory(username="ada")
    PostFactory(authors=[user])
    with django_capture_on_commit_callbacks(execute=True):
        user.profile.avatar = picture(300, 300)
        user.profile.save()
    assert soup(client, "/author/ada/").select_one(".author-card picture") is None
    cached = client.get("/author/ada/")
    assert cached["X-Page-Cache"] == "hit" and b"<picture" not in cached.content
    run_worker()
    fresh = client.get("/author/ada/")
    assert fresh["X-Page-Cache"] == "miss"
    source = BeautifulSoup(fresh.content, "html.parser").select_one(".author-card picture source")
    assert source["srcset"].endswith("-224x224.webp 224w")  # 336 px is wider than the upload
