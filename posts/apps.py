from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


def sync_site(sender, using="default", **kwargs):
    """Keep the Site row in step with SITE_DOMAIN, so links in emails are right (XTD trap 11)."""
    from django.conf import settings
    from django.contrib.sites.models import Site

    Site.objects.using(using).update_or_create(
        pk=settings.SITE_ID,
        defaults={"domain": settings.SITE_DOMAIN, "name": settings.SITE_NAME},
    )
    Site.objects.clear_cache()


class PostsConfig(AppConfig):
    name = "posts"
    verbose_name = _("Posts")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        post_migrate.connect(sync_site, sender=self)
        # Saved posts, taxonomy, authors and comments renew the page cache's content version by
        # themselves: sectorblog.cachekeys watches every write to their tables.
