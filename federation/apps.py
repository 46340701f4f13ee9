from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FederationConfig(AppConfig):
    """ActivityPub for the blog and its authors. Nothing in core, posts or comments imports this
    app: it connects to their signals and hooks here."""

    name = "federation"
    verbose_name = _("Fediverse")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from federation import hooks  # app-loading order: hooks imports models

        hooks.connect()
