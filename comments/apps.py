from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CommentsConfig(AppConfig):
    # The label "comments" does not clash with django_comments or django_comments_xtd.
    name = "comments"
    verbose_name = _("Discussion")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from comments import moderation, signals, websub  # noqa: F401 (registers handlers)
        from comments.linkbacks import admin as linkback_admin  # noqa: F401
        from comments.linkbacks import signals as linkback_signals  # noqa: F401
        from core.cache import watcher

        # The one moderator class with all the hold rules (comments/moderation.py).
        moderation.register()
        # Every table of the discussion (and of the two apps it builds on) renews the content
        # version when written (core/cache/watcher.py), but for two that readers never see and
        # that strangers or the task worker write often: a webmention waiting for its check,
        # the record of one outbound notification.
        watcher.register_content(
            self.label, quiet_models=("comments.IncomingWebmention", "comments.LinkbackAttempt")
        )
        watcher.register_content("django_comments")
        watcher.register_content("django_comments_xtd")
