"""Import a shared domain block list (Mastodon's CSV export, or one domain per line).

manage.py federation_import_blocks blocklist.csv
"""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from federation.blocklist import domain_blocks_import


class Command(BaseCommand):
    help = "Block every domain of a shared block list (see federation/blocklist.py for the formats)."

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)

    def handle(self, *args, file: Path, **options):
        try:
            text = file.read_text(encoding="utf-8", errors="replace")
        except OSError as exc:
            raise CommandError(f"Cannot read {file}: {exc}") from exc
        added, skipped = domain_blocks_import(text=text, source=file.name)
        self.stdout.write(f"{added} domains blocked, {skipped} lines skipped.")
