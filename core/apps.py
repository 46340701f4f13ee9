from django.apps import AppConfig


class CoreConfig(AppConfig):
    """Shared infrastructure below every app; it imports none of them."""

    name = "core"
    verbose_name = "core"

    def ready(self) -> None:
        from core import lookups  # app-loading order: its lookups need the models ready
        from core.cache import watcher

        lookups.register()
        # The content version is renewed after every write to a table an app registered as
        # content (core/cache/watcher.py); apps register theirs in their own ready().
        watcher.install()
