from django.apps import AppConfig


class SectorblogConfig(AppConfig):
    """The project package as an app: project-wide commands (worker, cluster demo)."""

    name = "sectorblog"
    verbose_name = "sectorblog"
