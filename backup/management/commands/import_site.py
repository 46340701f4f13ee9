"""`manage.py import_site FILE.tar.gz`: restore an archive into an empty database (see backup.archive)."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from backup.archive import ArchiveError, archive_import


class Command(BaseCommand):
    help = (
        "Restore an archive written by export_site into a new, migrated database (SQLite or "
        "PostgreSQL, whichever made it), in one transaction: on any error nothing is written."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="the archive export_site wrote")

    def handle(self, *args, **options):
        try:
            report = archive_import(
                options["file"], on_progress=self._progress if options["verbosity"] > 1 else None
            )
        except ArchiveError as exc:
            raise CommandError(f"nothing was restored: {exc}") from None
        self.stdout.write(self.style.SUCCESS(f"Restored {options['file']}"))
        self.stdout.write(
            f"{report.rows} rows in {sum(1 for n in report.counts.values() if n)} tables, "
            f"{report.media_files} media files ({report.media_bytes} bytes)"
        )
        self.stdout.write(f"content digest (SHA-256): {report.digest}")

    def _progress(self, label: str, count: int) -> None:
        self.stdout.write(f"  {label}: {count}")
