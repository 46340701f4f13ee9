"""Our AdminSite: the site's name in the header, an index grouped by task (taskgroups.py), and
internals for superusers only, in the index and behind every URL (a forged one answers 403).

It is `admin.site` (DeskAdminConfig.default_site), so the apps register on it as usual.
"""

from __future__ import annotations

from functools import wraps

from allauth.account.views import login as account_login
from django.apps import apps
from django.conf import settings
from django.contrib.admin import AdminSite
from django.contrib.admin.options import BaseModelAdmin
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from accounts.taskgroups import INTERNALS, TASK_GROUPS, is_internal, member_rank, task_group_of


def sees_internals(user) -> bool:
    return user.is_active and user.is_superuser


class DeskAdminSite(AdminSite):
    index_title = _("Your desk")

    @property
    def site_header(self):
        return settings.SITE_NAME

    @property
    def site_title(self):
        return settings.SITE_NAME

    def login(self, request, extra_context=None):
        """The admin's login page is allauth's sign-in (second factor, lockout, reset link), served
        here too so that /admin/login/?next=… keeps working. A signed-in staff user goes on to
        the index as before."""
        if request.method == "GET" and self.has_permission(request):
            return super().login(request, extra_context)

        return account_login(request)

    def password_change(self, request, extra_context=None):
        """One password-change page: allauth's, which also ends the other sessions."""
        return HttpResponseRedirect(reverse("account_change_password"))

    def admin_view(self, view, cacheable=False):
        """Model admin views of internal models refuse everyone but superusers, whatever
        permissions a group grants; the login check in super() still runs first."""
        model_admin = getattr(view, "__self__", None)
        if isinstance(model_admin, BaseModelAdmin) and is_internal(model_admin.model):
            inner = view

            @wraps(inner)
            def view(request, *args, **kwargs):
                if not sees_internals(request.user):
                    raise PermissionDenied
                return inner(request, *args, **kwargs)

        return super().admin_view(view, cacheable)

    def autocomplete_view(self, request):
        model = self._autocomplete_model(request)
        if model is not None and is_internal(model) and not sees_internals(request.user):
            raise PermissionDenied
        return super().autocomplete_view(request)

    def _autocomplete_model(self, request):
        try:
            return apps.get_model(request.GET["app_label"], request.GET["model_name"])
        except (KeyError, LookupError, ValueError):
            return None

    def _build_app_dict(self, request, label=None):
        app_dict = super()._build_app_dict(request, label)
        if sees_internals(request.user):
            return app_dict
        for app_label in list(app_dict):
            models = [m for m in app_dict[app_label]["models"] if not is_internal(m["model"])]
            if models:
                app_dict[app_label]["models"] = models
            else:
                del app_dict[app_label]
        return app_dict

    def get_app_list(self, request, app_label=None):
        """The index and the sidebar list task groups; an app's own page (/admin/posts/) keeps
        Django's per-app list."""
        if app_label is not None:
            return super().get_app_list(request, app_label)
        grouped: dict[str, list[dict]] = {}
        for app in self._build_app_dict(request).values():
            for model in app["models"]:
                grouped.setdefault(task_group_of(model["model"]).key, []).append(model)
        app_list = []
        for group in (*TASK_GROUPS, INTERNALS):
            models = grouped.get(group.key)
            if not models:
                continue
            if group is INTERNALS:
                models.sort(key=lambda m: (m["model"]._meta.app_label, str(m["name"])))
            else:
                models.sort(key=lambda m, group=group: member_rank(group, m["model"]))
            app_list.append(
                {
                    "name": group.name,
                    "app_label": group.key,
                    "app_url": None,
                    "has_module_perms": True,
                    "models": models,
                }
            )
        return app_list
