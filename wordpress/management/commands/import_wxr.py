"""`manage.py import_wxr FILE`: move a WordPress blog here from its WXR export (see wordpress/importer.py)."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from core.progress import progress_bar
from wordpress.importer import wxr_import
from wordpress.reader import WXRError

MAX_WARNING_LINES = 200


class Command(BaseCommand):
    help = (
        "Import a WordPress export (WXR 1.0-1.2): authors, categories, tags, posts, pages, "
        "attachments (as media references; featured images and the library images posts show are "
        "downloaded), comments, pingbacks, trackbacks and redirects from the old URLs. Running it "
        "again with the same file changes nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="the .xml file WordPress exported (Tools > Export)")
        parser.add_argument("--dry-run", action="store_true", help="read and check everything, write nothing")
        parser.add_argument(
            "--author-map",
            action="append",
            default=[],
            metavar="OLD=NEW",
            help=(
                "post as the existing user NEW what the WordPress login OLD wrote (repeatable); "
                "without it, a login that an existing account here has gets a new account"
            ),
        )
        parser.add_argument(
            "--no-media",
            action="store_true",
            help=(
                "do not download featured images and the library images posts show "
                "(they stay at the old site's addresses)"
            ),
        )
        parser.add_argument(
            "--default-author",
            metavar="USER",
            help="existing user for posts whose author the file does not name",
        )

    def handle(self, *args, **options):
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(f"{path}: no such file")
        author_map = {}
        for pair in options["author_map"]:
            old, sep, new = pair.partition("=")
            if not sep or not old.strip() or not new.strip():
                raise CommandError(f"--author-map expects OLD=NEW, got {pair!r}")
            author_map[old.strip()] = new.strip()
        try:
            with progress_bar(self.stdout) as progress:
                report = wxr_import(
                    path=path,
                    dry_run=options["dry_run"],
                    author_map=author_map,
                    default_author=options["default_author"],
                    on_progress=progress,
                    media=not options["no_media"],
                )
        except WXRError as exc:
            raise CommandError(f"{path}: {exc}") from None
        except LookupError as exc:
            raise CommandError(str(exc.args[0] if exc.args else exc)) from None
        title = f"{'Dry run (nothing written)' if report.dry_run else 'Imported'}: {path.name}"
        self.stdout.write(self.style.SUCCESS(title) + (f" from {report.source}" if report.source else ""))
        self.stdout.write(report.table())
        if report.authors:
            self.stdout.write("\nAuthors (WordPress login -> account here):")
            for line in report.authors:
                self.stdout.write(f"  {line}")
        self.stdout.write("")
        for line in report.media_lines() + report.notification_lines():
            self.stdout.write(line)
        if report.warnings:
            self.stdout.write(f"\nWarnings ({len(report.warnings)}):")
            for line in report.warnings[:MAX_WARNING_LINES]:
                self.stdout.write(self.style.WARNING(f"  {line}"))
            if len(report.warnings) > MAX_WARNING_LINES:
                self.stdout.write(f"  … and {len(report.warnings) - MAX_WARNING_LINES} more")
