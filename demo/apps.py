from django.apps import AppConfig


class DemoConfig(AppConfig):
    """The demo site's content and sign-in (`seed_demo`, `ensure_demo_admin`, which `make run`
    calls). An app that combines others: it writes posts, comments and linkbacks, so it sits
    above them; nothing imports it."""

    name = "demo"
    verbose_name = "Demo"
