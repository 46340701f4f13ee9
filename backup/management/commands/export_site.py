"""`manage.py export_site FILE.tar.gz`: the whole site in one archive (see backup.archive)."""

from __future__ import annotations

from backup.archive import archive_export
from backup.commandline import ArchiveCommand


class Command(ArchiveCommand):
    help = (
        "Write every table (accounts with password hashes, posts, revisions, comments, linkbacks, "
        "subscriptions, federation keys, settings, ...) and the media files to a versioned JSON Lines "
        "archive (.tar.gz) with a manifest of counts and digests. It holds secrets: keep it safe."
    )
    file_help = "the archive to write, e.g. site-2026-12-07.tar.gz"

    def handle(self, *args, **options):
        report = archive_export(options["file"], on_progress=self.progress(options))
        self.report(f"Archived to {options['file']}", report)
