"""`manage.py import_site FILE.tar.gz`: restore an archive into an empty database (see backup.archive)."""

from __future__ import annotations

from django.core.management.base import CommandError

from backup.archive import ArchiveError, archive_import
from backup.commandline import ArchiveCommand


class Command(ArchiveCommand):
    help = (
        "Restore an archive written by export_site into a new, migrated database (SQLite or "
        "PostgreSQL, whichever made it), in one transaction: on any error nothing is written."
    )
    file_help = "the archive export_site wrote"

    def handle(self, *args, **options):
        try:
            report = archive_import(options["file"], on_progress=self.progress(options))
        except ArchiveError as exc:
            raise CommandError(f"nothing was restored: {exc}") from None
        self.report(f"Restored {options['file']}", report)
