"""import_wxr brings the old blog's images here: each post's featured image (`_thumbnail_id` -> the
attachment's `wp:attachment_url`) and the library images posts show, downloaded through the
guarded client from a real HTTP server on loopback, stored with their alt text, and given their
narrower and WebP copies by the worker. A download that fails leaves the post without the image
and is reported; `--no-media` downloads nothing."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management import call_command
from PIL import Image

from posts.models import MediaImage, MediaReference, Post
from tests.factories import PostFactory
from tests.interop.loopback import LoopbackHTTP, Reply

# Transactional: the worker runs in-process and closes its database connection when its batch
# ends, which on PostgreSQL would end a test wrapped in one transaction.
pytestmark = pytest.mark.django_db(transaction=True)

WXR = """<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:excerpt="http://wordpress.org/export/1.2/excerpt/"
 xmlns:content="http://purl.org/rss/1.0/modules/content/" xmlns:dc="http://purl.org/dc/elements/1.1/"
 xmlns:wp="http://wordpress.org/export/1.2/">
<channel><title>Water Notes</title><link>{old}</link>
<wp:wxr_version>1.2</wp:wxr_version><wp:base_blog_url>{old}</wp:base_blog_url>
<wp:author><wp:author_id>2</wp:author_id><wp:author_login>nadia</wp:author_login></wp:author>
<item><title>Lessons from the borehole</title><link>{old}/2024/03/04/borehole/</link>
<dc:creator>nadia</dc:creator>
<content:encoded><![CDATA[We drilled in March.

<img src="{old}/wp-content/uploads/2024/03/pump-300x200.png" alt="The pump" width="300" height="200" />

The water came at 40 metres.]]></content:encoded>
<wp:post_id>101</wp:post_id><wp:post_date_gmt>2024-03-04 22:30:00</wp:post_date_gmt>
<wp:post_name>borehole</wp:post_name><wp:status>publish</wp:status><wp:post_type>post</wp:post_type>
<wp:postmeta><wp:meta_key>_thumbnail_id</wp:meta_key><wp:meta_value>301</wp:meta_value></wp:postmeta>
</item>
<item><title>Kiosks</title><link>{old}/2024/03/05/kiosks/</link><dc:creator>nadia</dc:creator>
<content:encoded><![CDATA[Kiosks sell water by the jerrycan.]]></content:encoded>
<wp:post_id>102</wp:post_id><wp:post_date_gmt>2024-03-05 10:00:00</wp:post_date_gmt>
<wp:post_name>kiosks</wp:post_name><wp:status>publish</wp:status><wp:post_type>post</wp:post_type>
<wp:postmeta><wp:meta_key>_thumbnail_id</wp:meta_key><wp:meta_value>303</wp:meta_value></wp:postmeta>
</item>
<item><title>The rig</title><link>{old}/2024/03/04/borehole/drill/</link>
<wp:post_id>301</wp:post_id><wp:post_parent>101</wp:post_parent><wp:post_type>attachment</wp:post_type>
<wp:status>inherit</wp:status><wp:attachment_url>{old}/wp-content/uploads/2024/03/drill.jpg</wp:attachment_url>
<wp:postmeta><wp:meta_key>_wp_attachment_image_alt</wp:meta_key>
<wp:meta_value>The rig at work</wp:meta_value></wp:postmeta>
</item>
<item><title>Pump</title><link>{old}/pump/</link>
<wp:post_id>302</wp:post_id><wp:post_parent>0</wp:post_parent><wp:post_type>attachment</wp:post_type>
<wp:status>inherit</wp:status><wp:attachment_url>{old}/wp-content/uploads/2024/03/pump.png</wp:attachment_url>
<wp:postmeta><wp:meta_key>_wp_attachment_image_alt</wp:meta_key>
<wp:meta_value>A hand pump</wp:meta_value></wp:postmeta>
</item>
<item><title>Gone</title><link>{old}/2024/03/05/kiosks/gone/</link>
<wp:post_id>303</wp:post_id><wp:post_parent>102</wp:post_parent><wp:post_type>attachment</wp:post_type>
<wp:status>inherit</wp:status><wp:attachment_url>{old}/wp-content/uploads/2024/03/gone.jpg</wp:attachment_url>
</item>
</channel></rss>"""


def picture(fmt: str, size=(1800, 1200), colour=(30, 90, 160)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, fmt)
    return out.getvalue()


@pytest.fixture
def old_blog(settings):
    """The old WordPress site: a real HTTP server on loopback, allowed to the guarded client."""
    with LoopbackHTTP() as server:
        settings.LINKBACK_ALLOWED_HOSTS = [server.host]
        settings.LINKBACK_ALLOWED_PORTS = [80, 443, server.port]
        yield server


def run_import(path: Path, *args: str) -> str:
    out = io.StringIO()
    call_command("import_wxr", str(path), *args, stdout=out)
    return out.getvalue()


def run_worker() -> None:
    call_command("db_worker", "--batch", "--no-reload", "--no-startup-delay", verbosity=0)


def stored(name: str) -> bytes:
    with default_storage.open(name) as handle:
        return handle.read()


def test_featured_and_library_images_are_downloaded_with_alt_text_and_copies(
    old_blog, tmp_path, client, settings
):
    drill, pump = picture("JPEG"), picture("PNG", colour=(200, 120, 20))
    old_blog.routes["/wp-content/uploads/2024/03/drill.jpg"] = Reply(200, drill, content_type="image/jpeg")
    old_blog.routes["/wp-content/uploads/2024/03/pump.png"] = Reply(200, pump, content_type="image/png")
    path = tmp_path / "old.xml"
    path.write_text(WXR.format(old=old_blog.url("")), encoding="utf-8")

    out = run_import(path)

    post = Post.objects.get(slug="borehole")
    assert stored(post.featured_image.name) == drill
    assert post.featured_image_alt == "The rig at work"
    library = MediaImage.objects.get()
    assert stored(library.image.name) == pump and library.alt_text == "A hand pump"
    # The post now shows the local copy (the original, not WordPress's 300 px one).
    assert library.image.url in post.body and old_blog.host not in post.body
    # The missing file is reported, and its post imported without a featured image.
    kiosks = Post.objects.get(slug="kiosks")
    assert not kiosks.featured_image
    assert "kiosks: featured image" in out and "gone.jpg could not be downloaded (HTTP 404)" in out
    assert [line.split()[1:] for line in out.splitlines() if line.startswith("image ")] == [
        ["2", "0", "0", "1"]
    ]
    # Nothing is fetched from the old site when pages are read.
    run_worker()
    post.refresh_from_db()
    library.refresh_from_db()
    assert post.featured_image_variants.get("widths") and library.variants.get("widths")
    settings.PAGE_CACHE = settings.FRAGMENT_CACHE = False
    page = BeautifulSoup(client.get(post.get_absolute_url()).content, "html.parser")
    sources = [img["src"] for img in page.select("article img")]
    assert sources and not any(old_blog.host in src for src in sources)

    # A second run downloads nothing again.
    before = len(old_blog.requests)
    again = run_import(path)
    assert len(old_blog.requests) == before + 1  # the missing file is tried again, only it
    assert [line.split()[1:] for line in again.splitlines() if line.startswith("image ")] == [
        ["0", "0", "1", "1"]
    ]
    assert [line.split()[1:] for line in again.splitlines() if line.startswith("post ")] == [
        ["0", "0", "2", "0"]
    ]
    post.refresh_from_db()
    assert library.image.url in post.body and old_blog.host not in post.body
    assert MediaImage.objects.count() == 1


def test_no_media_downloads_nothing_and_says_so(old_blog, tmp_path):
    path = tmp_path / "old.xml"
    path.write_text(WXR.format(old=old_blog.url("")), encoding="utf-8")
    out = run_import(path, "--no-media")
    assert old_blog.requests == []
    assert "Images were not downloaded (--no-media)" in out
    assert not Post.objects.get(slug="borehole").featured_image
    assert MediaReference.objects.count() == 3 and MediaImage.objects.count() == 0


def test_the_round_trip_keeps_featured_and_library_images(old_blog, tmp_path, settings):
    """export_wxr on one site, import_wxr into an empty one: the files arrive byte for byte.
    The loopback server plays the exporting site's web server (SITE_DOMAIN points at it)."""
    settings.SITE_DOMAIN = old_blog.host
    old_media = Path(settings.MEDIA_ROOT)

    def serve_media(request):
        name = request.path.removeprefix("/media/")
        try:
            return Reply(200, (old_media / name).read_bytes(), content_type="application/octet-stream")
        except OSError:
            return Reply(404, b"")

    cover, figure = picture("PNG", colour=(10, 160, 90)), picture("JPEG", size=(900, 600))
    library = MediaImage.objects.create(
        image=ContentFile(figure, name="committee.jpg"), alt_text="The committee meets"
    )
    post = PostFactory(slug="committees", body=f"Who runs it.\n\n{library.markdown_snippet}\n")
    post.featured_image = ContentFile(cover, name="cover.png")
    post.featured_image_alt = "A water point at dusk"
    post.save()
    for name in (post.featured_image.name, library.image.name):
        old_blog.routes[f"/media/{name}"] = serve_media
    path = tmp_path / "site.xml"
    call_command("export_wxr", "--output", str(path), stdout=io.StringIO())

    Post.objects.all().delete()
    MediaImage.objects.all().delete()
    settings.MEDIA_ROOT = tmp_path / "new-media"
    settings.SITE_DOMAIN = "new.example.org"
    out = run_import(path)

    moved = Post.objects.get(slug="committees")
    assert stored(moved.featured_image.name) == cover
    assert moved.featured_image_alt == "A water point at dusk"
    copy = MediaImage.objects.get()
    assert stored(copy.image.name) == figure and copy.alt_text == "The committee meets"
    assert moved.body == f"Who runs it.\n\n{copy.markdown_snippet}\n"
    assert "could not" not in out
