"""Responsive images (issue 23): an upload is stored in several widths and in WebP by the real task
worker; pages give srcset, sizes, width and height, lazy loading below the fold; media-library
images inside a post's body get the same; a variant that is not there falls back to the original."""

from __future__ import annotations

from io import BytesIO

import pytest
from bs4 import BeautifulSoup
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management import call_command
from PIL import Image

from posts.models import MediaImage, Post
from tests.factories import PostFactory

# Transactional: the worker runs in-process and closes its database connection when its batch
# ends, which on PostgreSQL would end a test wrapped in one transaction (SQLite ignores it).
pytestmark = pytest.mark.django_db(transaction=True)


def jpeg(width: int, height: int) -> ContentFile:
    buffer = BytesIO()
    Image.new("RGB", (width, height), (30, 110, 100)).save(buffer, "JPEG")
    return ContentFile(buffer.getvalue(), name="pump.jpg")


def run_worker() -> None:
    call_command("db_worker", "--batch", "--no-reload", "--no-startup-delay", verbosity=0)


def soup(client, url):
    return BeautifulSoup(client.get(url).content, "html.parser")


def test_featured_image_variants_from_the_worker_on_cards_and_the_post(
    client, settings, django_capture_on_commit_callbacks
):
    settings.PAGE_CACHE = False  # the same page read before and after the worker's pass
    settings.FRAGMENT_CACHE = False
    post = PostFactory(title="With a picture")
    with django_capture_on_commit_callbacks(execute=True):
        post.featured_image = jpeg(2000, 1000)
        post.featured_image_alt = "A solar pump"
        post.save()
    name = post.featured_image.name

    # Before the worker has run: the original, no srcset, no error.
    figure = soup(client, post.get_absolute_url()).select_one("figure.featured-image")
    assert figure.picture is None and figure.img["src"] == post.featured_image.url
    assert not figure.img.has_attr("srcset")

    run_worker()
    post.refresh_from_db()
    assert post.featured_image_variants["widths"] == [480, 960, 1600]
    for width in (480, 960, 1600):
        for ext in ("jpg", "webp"):
            stored = name.rsplit(".", 1)[0] + f"-{width}w.{ext}"
            with default_storage.open(stored) as handle:
                assert Image.open(handle).size == (width, width // 2)
    figure = soup(client, post.get_absolute_url()).select_one("figure.featured-image")
    img, source = figure.select_one("picture img"), figure.select_one("picture source")
    assert (img["width"], img["height"], img["alt"]) == ("2000", "1000", "A solar pump")
    assert img["srcset"].endswith(f"{post.featured_image.url} 2000w") and "-480w.jpg 480w" in img["srcset"]
    assert source["type"] == "image/webp" and "-2000w.webp 2000w" in source["srcset"]
    assert img.get("loading") is None and img["fetchpriority"] == "high"  # above the fold

    PostFactory(title="A later post without a picture")
    cards = soup(client, "/").select("article.post-card")
    card_img = next(c for c in cards if "With a picture" in c.get_text()).select_one(".card-image img")
    assert card_img["loading"] == "lazy" and card_img["alt"] == "" and "480w" in card_img["srcset"]


def test_library_images_in_a_body_get_srcset_and_a_missing_variant_falls_back(
    client, settings, django_capture_on_commit_callbacks
):
    settings.PAGE_CACHE = False
    settings.FRAGMENT_CACHE = False
    with django_capture_on_commit_callbacks(execute=True):
        media = MediaImage.objects.create(image=jpeg(1200, 800), alt_text="Pit latrine")
        post = PostFactory(body=f"Before.\n\n{media.markdown_snippet}\n\nAfter.")
    img = soup(client, post.get_absolute_url()).select_one(".e-content img")
    # Not made yet: the original, with its size known from the upload and lazy loading.
    assert img["src"] == media.image.url and not img.has_attr("srcset")
    assert (img["width"], img["height"], img["loading"]) == ("1200", "800", "lazy")

    run_worker()  # makes the copies and renders the post again
    img = soup(client, post.get_absolute_url()).select_one(".e-content picture img")
    assert "-480w.jpg 480w" in img["srcset"] and "-960w.jpg 960w" in img["srcset"]
    assert img["sizes"] and (img["width"], img["height"], img["loading"]) == ("1200", "800", "lazy")
    assert img["alt"] == "Pit latrine"


def test_an_unreadable_upload_is_recorded_and_shown_as_it_is(client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        post = PostFactory()
        post.featured_image = ContentFile(b"not an image at all", name="broken.jpg")
        post.save()
    run_worker()
    post.refresh_from_db()
    assert post.featured_image_variants == {"name": post.featured_image.name}
    response = client.get(post.get_absolute_url())
    assert response.status_code == 200
    img = BeautifulSoup(response.content, "html.parser").select_one("figure.featured-image img")
    assert img["src"] == post.featured_image.url and not img.has_attr("srcset")
    assert Post.objects.filter(pk=post.pk).exists()
