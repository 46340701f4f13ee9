"""`manage.py export_site FILE.tar.gz`: the whole site in one archive (see backup.archive)."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from backup.archive import archive_export


class Command(BaseCommand):
    help = (
        "Write every table (accounts with password hashes, posts, revisions, comments, linkbacks, "
        "subscriptions, federation keys, settings, ...) and the media files to a versioned JSON Lines "
        "archive (.tar.gz) with a manifest of counts and digests. It holds secrets: keep it safe."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="the archive to write, e.g. site-2026-12-07.tar.gz")

    def handle(self, *args, **options):
        report = archive_export(
            options["file"], on_progress=self._progress if options["verbosity"] > 1 else None
        )
        self.stdout.write(self.style.SUCCESS(f"Archived to {options['file']}"))
        self.stdout.write(
            f"{report.rows} rows in {sum(1 for n in report.counts.values() if n)} tables, "
            f"{report.media_files} media files ({report.media_bytes} bytes)"
        )
        self.stdout.write(f"content digest (SHA-256): {report.digest}")

    def _progress(self, label: str, count: int) -> None:
        self.stdout.write(f"  {label}: {count}")
