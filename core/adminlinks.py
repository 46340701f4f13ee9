"""The admin's "View on site" redirect, limited to objects the signed-in user may see in the admin.

Django's admin routes /admin/r/<content type>/<id>/ to contenttypes' `shortcut`, which redirects
any staff user to any object's URL. A Contributor (staff, own drafts only) could count through the
ids and read the slug and planned date of every other author's draft and scheduled post.
"""

from __future__ import annotations

from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.contrib.contenttypes.models import ContentType
from django.contrib.contenttypes.views import shortcut
from django.http import Http404


def view_on_site(request, content_type_id: int, object_id: str):
    """Redirect as Django's shortcut does, but only to an object whose admin lets this user view it.

    Wrapped by `admin.site.admin_view` in sectorblog/urls.py (staff login, never cached).
    """
    try:
        model = ContentType.objects.get_for_id(content_type_id).model_class()
    except ContentType.DoesNotExist as exc:
        raise Http404 from exc
    if model is None or not admin.site.is_registered(model):
        raise Http404
    model_admin = admin.site.get_model_admin(model)
    obj = model_admin.get_object(request, unquote(object_id))  # within the admin's own queryset
    if obj is None or not model_admin.has_view_or_change_permission(request, obj):
        raise Http404
    return shortcut(request, content_type_id, object_id)
