from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


def sync_site(sender, using="default", **kwargs):
    """Keep the Site row in step with SITE_DOMAIN, so links in emails are right (XTD trap 11).

    `migrate` runs before every start of `make run` and every deploy, so this is where a change of
    public origin (another PORT, a new SITE_DOMAIN) is noticed: absolute URLs of this site stored
    under the old origin are moved to the new one (`core.origin.urls_moved`).
    """
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
        post_migrate.connect(sync_site, sender=self)
        connect_content_version(self)


def connect_content_version(config: AppConfig) -> None:
    """Any saved or deleted post, taxonomy term, authorship or profile makes cached pages stale."""
    from django.db.models.signals import m2m_changed, post_delete, post_save

    from sectorblog.cachekeys import content_version_bump

    for name in ("Post", "Category", "Tag", "PostAuthor", "AuthorProfile"):
        model = config.get_model(name)
        post_save.connect(content_version_bump, sender=model, dispatch_uid=f"content-version-save-{name}")
        post_delete.connect(content_version_bump, sender=model, dispatch_uid=f"content-version-del-{name}")
    # Bylines fall back to the user's own name: a saved user is a change too, except a login.
    from django.apps import apps
    from django.conf import settings

    post_save.connect(
        _user_saved, sender=apps.get_model(settings.AUTH_USER_MODEL), dispatch_uid="content-version-user"
    )
    post_model = config.get_model("Post")
    for field in ("categories", "tags", "authors"):
        through = getattr(post_model, field).through
        m2m_changed.connect(content_version_bump, sender=through, dispatch_uid=f"content-version-m2m-{field}")


def _user_saved(sender, update_fields=None, **kwargs) -> None:
    from sectorblog.cachekeys import content_version_bump

    if update_fields is not None and set(update_fields) <= {"last_login"}:
        return  # django.contrib.auth's user_logged_in handler: nothing a page shows
    content_version_bump()
