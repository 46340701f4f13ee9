from django.apps import AppConfig
from django.conf import settings
from django.core.signals import request_finished
from django.db.models.signals import post_migrate, post_save
from django.utils.translation import gettext_lazy as _


def sync_site(sender, using="default", **kwargs):
    """Keep the Site row in step with SITE_DOMAIN, so links in emails are right (XTD trap 11).

    `migrate` runs before every start of `make run` and every deploy, so this is where a change of
    public origin (another PORT, a new SITE_DOMAIN) is noticed: absolute URLs of this site stored
    under the old origin are moved to the new one (`core.origin.urls_moved`).
    """
    # app-loading order: apps.py is imported before the models are ready.
    from django.conf import settings
    from django.contrib.sites.models import Site

    from core.origin import public_origin, urls_moved

    before = Site.objects.using(using).filter(pk=settings.SITE_ID).values_list("domain", flat=True).first()
    Site.objects.using(using).update_or_create(
        pk=settings.SITE_ID,
        defaults={"domain": settings.SITE_DOMAIN, "name": settings.SITE_NAME},
    )
    Site.objects.clear_cache()
    if before and before.lower() != settings.SITE_DOMAIN.lower():
        # The Site row keeps no scheme: what was stored under either one moves.
        new = public_origin() + "/"
        urls_moved.send(
            sender=Site, moves=[(f"{scheme}://{before}/", new) for scheme in ("http", "https")], using=using
        )


class PostsConfig(AppConfig):
    name = "posts"
    verbose_name = _("Posts")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from core.cache import version, watcher
        from posts import converters, termcounts  # app-loading order, as every ready() import
        from posts.models import AuthorProfile, MediaImage, Post, next_scheduled_publication
        from posts.tasks import image_variants_queue

        converters.register()  # once per process, before any URLconf is loaded
        post_migrate.connect(sync_site, sender=self)
        for model in (Post, MediaImage, AuthorProfile):
            post_save.connect(
                image_variants_queue, sender=model, dispatch_uid=f"image-variants-{model.__name__}"
            )
        # Saved posts, taxonomy and authors renew the page cache's content version by themselves:
        # core.cache.watcher watches every write to the tables registered here. Bylines fall back
        # to the user's name, so the user table counts too, but not its last_login stamp.
        # The stored term counts (posts.termcounts) are what readers see only through the pages
        # the writes they derive from have renewed already: refreshing them is no change.
        watcher.register_content(
            self.label, schedule=True, quiet_models=("posts.TermCount", "posts.TermCountState")
        )
        watcher.on_write(termcounts.WATCHED, termcounts.refresh_after_commit)
        watcher.before_statement(termcounts.refresh_owed)
        request_finished.connect(termcounts.refresh_owed, dispatch_uid="posts-termcounts-owed")
        post_migrate.connect(termcounts.after_migrate, sender=self, dispatch_uid="posts-termcounts")
        watcher.register_content_model(settings.AUTH_USER_MODEL, quiet_columns=("last_login",))
        version.register_schedule(next_scheduled_publication)
