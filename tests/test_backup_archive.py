"""export_site / import_site: every table and the media files, losslessly, into an empty database
(tests/test_backup_moving.py moves a live site between SQLite and PostgreSQL); bad archives stop
with a clear message and write nothing."""

from __future__ import annotations

import io
import json
import tarfile

import pytest
from django.apps import apps
from django.contrib.admin.models import ADDITION, LogEntry
from django.contrib.auth.models import Group
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.utils import timezone

from backup import archive
from comments.models import Comment, IncomingWebmention, LinkbackAttempt
from federation.models import ActorKey, Follower, RemoteActor
from newsletter.models import Subscriber
from posts.models import MediaImage, Post, PostRevision
from posts.roles import EDITOR
from tests.pagedigest import normalize
from tests.richsite import build_rich_site

pytestmark = pytest.mark.django_db


def png() -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (3, 2), (10, 120, 200)).save(out, "PNG")
    return out.getvalue()


def build_everything() -> dict:
    site = build_rich_site()
    ana = site["ana"]
    ana.set_password("a-secret-pass-123")
    ana.save()
    ana.groups.add(Group.objects.get(name=EDITOR))
    PostRevision.objects.create(post=site["first"], title="Old title", body="Old body", author=ana)
    stored = default_storage.save("library/pump.png", ContentFile(png()))
    MediaImage.objects.create(image=stored, alt_text="A pump", uploaded_by=ana, width=3, height=2)
    site["first"].featured_image.save("pump-feature.png", ContentFile(png()), save=True)
    LinkbackAttempt.objects.create(
        post=site["first"],
        target_url="https://far.example/x",
        protocol="webmention",
        outcome="failed",
        http_status=500,
        tries=3,
        next_retry_at=timezone.now(),
    )
    IncomingWebmention.objects.create(
        source="https://mention.example/m/",
        target="http://testserver/x/",
        status="accepted",
        comment=Comment.objects.filter(kind="webmention").first(),
        remote_ip="198.51.100.9",
    )
    Subscriber.objects.create(email="sub@example.net", confirmed_at=timezone.now()).categories.add(
        site["first"].categories.first()
    )
    ActorKey.objects.create(owner="blog", private_pem="-----PRIVATE-----", public_pem="-----PUBLIC-----")
    actor = RemoteActor.objects.create(
        uri="https://social.example/users/f",
        domain="social.example",
        inbox="https://social.example/inbox",
        key_id="https://social.example/users/f#key",
        fetched_at=timezone.now(),
        public_key_pem="pem",
    )
    Follower.objects.create(owner="blog", actor=actor)
    LogEntry.objects.log_actions(ana.pk, [site["first"]], ADDITION, single_object=True)
    return site


def table_rows() -> dict[str, list]:
    """Every archived table, row by row, all columns."""
    return {
        model._meta.label_lower: sorted(
            (
                tuple(archive._encode(v) for v in row)
                for row in archive._rows(model, archive._columns(model), "default")
            ),
            key=repr,
        )
        for model in archive.archived_models()
    }


def wipe() -> None:
    """Empty every content table, as a new database is (what `migrate` seeds stays)."""
    for model in reversed(archive.archived_models()):
        if model._meta.label_lower not in archive.SEEDED:
            model._base_manager.all()._raw_delete("default")
    assert archive.content_rows() == {}


def test_every_model_is_archived_or_excluded_with_a_reason():
    archived = {m._meta.label_lower for m in archive.archived_models()}
    concrete = {
        m._meta.label_lower
        for m in apps.get_models(include_auto_created=True)
        if m._meta.managed and not m._meta.proxy
    }
    uncovered = concrete - archived - set(archive.EXCLUDED)
    assert uncovered == set(), f"neither archived nor excluded with a reason: {sorted(uncovered)}"
    assert set(archive.EXCLUDED) <= concrete, "an exclusion names a model that does not exist"
    assert all(len(reason) > 20 for reason in archive.EXCLUDED.values())
    assert not archived & set(archive.EXCLUDED)
    # What the issue names is archived.
    for label in (
        "auth.user",
        "auth.group",
        "posts.post",
        "posts.postrevision",
        "posts.authorprofile",
        "posts.redirect",
        "posts.mediaimage",
        "comments.comment",
        "comments.linkbackattempt",
        "comments.incomingwebmention",
        "newsletter.subscriber",
        "federation.follower",
        "federation.actorkey",
        "sites.site",
    ):
        assert label in archived, label
    # Parents and referenced tables load first.
    order = [m._meta.label_lower for m in archive.archived_models()]
    assert order.index("django_comments.comment") < order.index("django_comments_xtd.xtdcomment")
    assert order.index("django_comments_xtd.xtdcomment") < order.index("comments.comment")
    assert order.index("auth.user") < order.index("posts.postauthor")


def test_round_trip_is_lossless(tmp_path, client):
    site = build_everything()
    before = table_rows()
    files = [MediaImage.objects.get().image.name, site["first"].featured_image.name]
    contents = {name: default_storage.open(name).read() for name in files}
    page = client.get(site["first"].get_absolute_url())
    assert page.status_code == 200
    path = tmp_path / "site.tar.gz"
    out = io.StringIO()
    call_command("export_site", str(path), stdout=out)
    assert "content digest (SHA-256): " in out.getvalue()
    with tarfile.open(path) as tar:
        names = tar.getnames()
        manifest = json.load(tar.extractfile("manifest.json"))
    assert names[0] == "manifest.json"
    assert manifest["format"] == "sectorblog-archive" and manifest["version"] == 1
    assert manifest["counts"]["comments.comment"] == Comment.objects.count() == 13
    assert manifest["counts"]["posts.post"] == Post.objects.count()
    assert {f"media/{n}" for n in files} <= set(names)

    wipe()
    for name in files:
        default_storage.delete(name)
    out = io.StringIO()
    call_command("import_site", str(path), stdout=out)
    assert manifest["digest"] in out.getvalue()
    assert table_rows() == before
    assert {name: default_storage.open(name).read() for name in files} == contents
    # The restored site works: the sign-in hash, new rows (sequences moved on), the same page.
    from django.contrib.auth import get_user_model

    assert get_user_model().objects.get(username="ana").check_password("a-secret-pass-123")
    Post.objects.create(title="After the restore", status=Post.Status.DRAFT)
    from django.core.cache import cache

    cache.clear()
    again = client.get(site["first"].get_absolute_url())
    assert again.status_code == 200
    assert normalize(again.content) == normalize(page.content)


@pytest.fixture
def small_archive(tmp_path):
    build_rich_site()
    path = tmp_path / "site.tar.gz"
    call_command("export_site", str(path), stdout=io.StringIO())
    wipe()
    return path


def rewrite(path, out, change):
    """Copy an archive, passing each member's (name, bytes) through `change`."""
    with tarfile.open(path) as src, tarfile.open(out, "w:gz") as dst:
        for member in src.getmembers():
            data = src.extractfile(member).read()
            result = change(member.name, data)
            if result is None:
                continue
            info = tarfile.TarInfo(member.name)
            info.size = len(result)
            dst.addfile(info, io.BytesIO(result))
    return out


def restore_fails(path, message):
    with pytest.raises(CommandError, match=message):
        call_command("import_site", str(path), stdout=io.StringIO())
    assert archive.content_rows() == {}, "something was half-restored"


def test_wrong_version(small_archive, tmp_path):
    def newer(name, data):
        if name == "manifest.json":
            manifest = json.loads(data)
            manifest["version"] = 99
            return json.dumps(manifest).encode()
        return data

    restore_fails(rewrite(small_archive, tmp_path / "v99.tar.gz", newer), "version 99 is not supported")


def test_truncated_file(small_archive, tmp_path):
    data = small_archive.read_bytes()
    cut = tmp_path / "cut.tar.gz"
    cut.write_bytes(data[: len(data) * 2 // 3])
    # Cut inside a member's data ("corrupt or truncated") or where the gzip stream still reads
    # to whole members ("the archive is truncated: … missing"), depending on the archive's size.
    restore_fails(cut, "truncated")


def test_a_missing_member_is_truncation(small_archive, tmp_path):
    short = rewrite(
        small_archive,
        tmp_path / "short.tar.gz",
        lambda n, d: None if n.endswith("comments.comment.jsonl") else d,
    )
    restore_fails(short, "truncated")


def test_not_an_archive(tmp_path):
    junk = tmp_path / "junk.tar.gz"
    junk.write_bytes(b"this is not gzip at all" * 100)
    restore_fails(junk, "corrupt or truncated")


def test_tampered_rows_fail_the_digest(small_archive, tmp_path):
    def tamper(name, data):
        return data.replace(b"Chidi", b"Mallory") if name.endswith("django_comments.comment.jsonl") else data

    restore_fails(rewrite(small_archive, tmp_path / "tampered.tar.gz", tamper), "does not match the manifest")


def test_refuses_a_database_that_is_not_empty(small_archive):
    Post.objects.create(title="Already here", status=Post.Status.DRAFT)
    with pytest.raises(CommandError, match=r"the database is not empty \(1 posts.post"):
        call_command("import_site", str(small_archive), stdout=io.StringIO())
    assert Post.objects.count() == 1


def test_foreign_keys_hold_after_restore(small_archive):
    call_command("import_site", str(small_archive), stdout=io.StringIO())
    connection.check_constraints()
    assert Comment.objects.filter(kind="webmention").count() == 1


def test_both_commands_list_each_table_at_verbosity_2(tmp_path):
    build_everything()
    path = tmp_path / "site.tar.gz"
    quiet, loud = io.StringIO(), io.StringIO()
    call_command("export_site", str(path), stdout=quiet)
    assert "  posts.post: " not in quiet.getvalue()
    call_command("export_site", str(path), verbosity=2, stdout=loud)
    assert f"  posts.post: {Post.objects.count()}" in loud.getvalue()
    assert loud.getvalue().splitlines()[-3:] == quiet.getvalue().splitlines()[-3:]  # the same report

    wipe()
    restored = io.StringIO()
    call_command("import_site", str(path), verbosity=2, stdout=restored)
    lines = restored.getvalue().splitlines()
    assert f"  posts.post: {Post.objects.count()}" in lines
    assert lines[-3] == f"Restored {path}" and lines[-2:] == quiet.getvalue().splitlines()[-2:]
