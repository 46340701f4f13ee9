"""`manage.py export_wxr`: the site as a WordPress export (WXR 1.2), streamed (see wordpress.export)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from core.progress import progress_bar
from posts.models import Category
from wordpress.export import ExportFilter, ExportReport, wxr_chunks


def _date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"{value!r} is not a date (YYYY-MM-DD)") from None


class Command(BaseCommand):
    help = (
        "Export posts, pages, comments, linkbacks, authors, categories, tags and media as a WordPress "
        "eXtended RSS (WXR 1.2) file that WordPress's importer (Tools > Import > WordPress) and "
        "`import_wxr` read. Written as a stream: memory does not grow with the site."
    )

    def add_arguments(self, parser):
        parser.add_argument("--output", "-o", metavar="FILE", help="write here (default: standard output)")
        parser.add_argument("--author", metavar="USER", help="only posts this user wrote or co-wrote")
        parser.add_argument("--category", metavar="SLUG", help="only posts in this category or below it")
        parser.add_argument("--start", metavar="DATE", help="only posts dated on or after (YYYY-MM-DD)")
        parser.add_argument("--end", metavar="DATE", help="only posts dated on or before (YYYY-MM-DD)")
        parser.add_argument(
            "--status",
            choices=["published", "all"],
            default="all",
            help="published: only what readers see; all (default): drafts, scheduled and in review too",
        )

    def handle(self, *args, **options):
        selection = ExportFilter(status=options["status"])
        if options["author"]:
            selection.author = get_user_model().objects.filter(username=options["author"]).first()
            if selection.author is None:
                raise CommandError(f"no user named {options['author']!r}")
        if options["category"]:
            selection.category = Category.objects.filter(slug=options["category"]).first()
            if selection.category is None:
                raise CommandError(f"no category with the slug {options['category']!r}")
        selection.start = _date(options["start"]) if options["start"] else None
        selection.end = _date(options["end"]) if options["end"] else None
        if selection.start and selection.end and selection.start > selection.end:
            raise CommandError("--start is after --end")
        report = ExportReport()
        output = options["output"]
        if output:
            path = Path(output)
            partial = path.with_name(path.name + ".part")
            try:
                with (
                    partial.open("w", encoding="utf-8", newline="\n") as out,
                    progress_bar(self.stderr, unit="posts") as progress,
                ):
                    for chunk in wxr_chunks(selection, report=report, on_progress=progress):
                        out.write(chunk)
                partial.replace(path)
            except BaseException:
                partial.unlink(missing_ok=True)
                raise
            self.stdout.write(self.style.SUCCESS(f"Exported to {path}"))
            for line in report.lines():
                self.stdout.write(line)
        else:
            for chunk in wxr_chunks(selection, report=report):
                self.stdout.write(chunk, ending="")
            for line in report.lines():
                self.stderr.write(line)
