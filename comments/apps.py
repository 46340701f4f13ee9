from django.apps import AppConfig
from django.db.models.signals import post_save
from django.utils.translation import gettext_lazy as _


class CommentsConfig(AppConfig):
    # The label "comments" does not clash with django_comments or django_comments_xtd.
    name = "comments"
    verbose_name = _("Discussion")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # app-loading order: these modules import models, which exist only once apps are ready.
        from comments import moderation, signals  # noqa: F401 (registers handlers)
        from comments.counts import public_response_count
        from comments.linkbacks import icons
        from comments.linkbacks import signals as linkback_signals  # noqa: F401
        from comments.linkbacks.admin import LinkbackAttemptInline
        from comments.models import Comment
        from core.cache import watcher
        from posts.extensions import list_annotation_register, post_admin_inline_register

        # The one moderator class with all the hold rules (comments/moderation.py).
        moderation.register()
        post_save.connect(icons.source_icon_queue, sender=Comment, dispatch_uid="comments.linkbacks.icons")
        # posts' extension points (posts/extensions.py): the count on every post list, and the
        # outbound linkback attempts on the post's change form.
        list_annotation_register("comment_count", public_response_count)
        list_annotation_register("mention_count", lambda: public_response_count(mentions=True))
        post_admin_inline_register(LinkbackAttemptInline)
        # Every table of the discussion (and of the two apps it builds on) renews the content
        # version when written (core/cache/watcher.py), but for three that readers never see and
        # that strangers or the task worker write often: a webmention waiting for its check,
        # the record of one outbound notification, an author's queue of comment notices.
        # A comment's own rows (in the three tables of its model, and its flags) are written inside
        # core.cache.deps.changing(post) by comments.models: they renew that post's discussion
        # tags, not the whole site's content version.
        watcher.register_content(
            self.label,
            quiet_models=("comments.IncomingWebmention", "comments.LinkbackAttempt", "comments.AuthorNotice"),
            scoped_models=(
                "comments.Comment",
                "django_comments.Comment",
                "django_comments_xtd.XtdComment",
                "django_comments.CommentFlag",  # a comment's flags go with it when it is deleted
            ),
        )
        watcher.register_content("django_comments")
        watcher.register_content("django_comments_xtd")
