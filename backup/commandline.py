"""What export_site and import_site share: the archive argument, the per-table progress lines
(at --verbosity 2) and the closing report."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from backup.archive import ArchiveReport


class ArchiveCommand(BaseCommand):
    file_help = ""  # what the archive argument is, for --help

    def add_arguments(self, parser):
        parser.add_argument("file", help=self.file_help)

    def progress(self, options):
        """The on_progress callback for archive_export/archive_import: a line per table written
        or restored at --verbosity 2 or more, else None."""
        return self._progress if options["verbosity"] > 1 else None

    def _progress(self, label: str, count: int) -> None:
        self.stdout.write(f"  {label}: {count}")

    def report(self, title: str, report: ArchiveReport) -> None:
        self.stdout.write(self.style.SUCCESS(title))
        self.stdout.write(
            f"{report.rows} rows in {sum(1 for n in report.counts.values() if n)} tables, "
            f"{report.media_files} media files ({report.media_bytes} bytes)"
        )
        self.stdout.write(f"content digest (SHA-256): {report.digest}")
