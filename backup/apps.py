"""Full-site archives: backup, restore and moving between databases (export_site / import_site),
and personal data on request (an Editor's export and erase of one person's data). An app that
combines the others; nothing imports it."""

from django.apps import AppConfig


class BackupConfig(AppConfig):
    name = "backup"
    verbose_name = "Backup and personal data"
    default_auto_field = "django.db.models.BigAutoField"
