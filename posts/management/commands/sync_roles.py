"""`manage.py sync_roles`: create the editorial role groups and set their permissions.

Idempotent: a second run reports nothing to change. Run it after `migrate` when ROLES changes.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand
from django.db import transaction

from posts.roles import roles_sync


class Command(BaseCommand):
    help = "Create or update the Contributor, Author, Editor and Moderator groups."

    def handle(self, *args, **options):
        with transaction.atomic():
            report = roles_sync()
        for name in report.created_groups:
            self.stdout.write(f"created group {name}")
        for line in report.added:
            self.stdout.write(f"granted {line}")
        for line in report.removed:
            self.stdout.write(f"revoked {line}")
        for line in report.missing:
            self.stderr.write(f"missing permission (app not migrated?) {line}")
        if not (report.created_groups or report.added or report.removed):
            self.stdout.write("roles already in step")
