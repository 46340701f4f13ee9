from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FeedsConfig(AppConfig):
    """All syndication: the feed framework, the post and comment feeds, their URLs and the WebSub
    publisher. It sits above comments and posts (it lists both) and below the apps that combine
    them; nothing below it imports it (the views name feeds by URL, `reverse("feeds:…")`)."""

    name = "feeds"
    verbose_name = _("Feeds")

    def ready(self) -> None:
        from feeds import websub  # noqa: F401 (connects the WebSub ping to post saves)
