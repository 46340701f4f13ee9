from django.apps import AppConfig


class SectorblogConfig(AppConfig):
    """The project package as an app: project-wide commands (worker, cluster demo), and the
    watcher that renews the content version after every content write (sectorblog.cachekeys)."""

    name = "sectorblog"
    verbose_name = "sectorblog"

    def ready(self) -> None:
        from django.db import connections
        from django.db.backends.signals import connection_created
        from django.db.models.signals import post_migrate, pre_migrate

        from sectorblog import cachekeys

        connection_created.connect(cachekeys.watch_connection, dispatch_uid="content-write-watcher")
        for connection in connections.all(initialized_only=True):  # made before this app was ready
            cachekeys.watch_connection(connection=connection)
        # Sent for every app with models, before the first migration and after the last.
        pre_migrate.connect(cachekeys.pause_for_migrations, dispatch_uid="content-pause")
        post_migrate.connect(cachekeys.resume_after_migrations, dispatch_uid="content-resume")
