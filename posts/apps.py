from django.apps import AppConfig
from django.conf import settings
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
        from posts import converters  # app-loading order, as every ready() import
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
        watcher.register_content(self.label, schedule=True)
        watcher.register_content_model(settings.AUTH_USER_MODEL, quiet_columns=("last_login",))
        version.register_schedule(next_scheduled_publication)
