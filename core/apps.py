from django.apps import AppConfig


class CoreConfig(AppConfig):
    """Shared infrastructure below every app; it imports none of them."""

    name = "core"
    verbose_name = "core"

    def ready(self) -> None:
        from core import lookups  # app-loading order: its lookups need the models ready

        lookups.register()
