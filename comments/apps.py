from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CommentsConfig(AppConfig):
    # The label "comments" does not clash with django_comments or django_comments_xtd.
    name = "comments"
    verbose_name = _("Discussion")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from comments import moderation, signals  # noqa: F401 (registers handlers)
        from comments.linkbacks import admin as linkback_admin  # noqa: F401
        from comments.linkbacks import signals as linkback_signals  # noqa: F401

        # The one moderator class with all the hold rules (comments/moderation.py).
        moderation.register()
