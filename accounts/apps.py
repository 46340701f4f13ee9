from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class AccountsConfig(AppConfig):
    """Staff accounts: sign-in with a second factor, password reset, lockout, sessions; and the admin
    chrome (header, index by task). Only sectorblog's settings and urls refer to it."""

    name = "accounts"
    verbose_name = "accounts"
    default = True

    def ready(self) -> None:
        from accounts import signals  # noqa: F401  (connects the handlers)


class DeskAdminConfig(admin_apps.AdminConfig):
    """django.contrib.admin with our AdminSite as `admin.site`, so every `@admin.register` in the
    other apps lands on it without importing this app."""

    default = False  # "accounts" alone names AccountsConfig
    default_site = "accounts.admin_site.DeskAdminSite"
