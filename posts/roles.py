"""Editorial roles as Django groups: Contributor, Author, Editor and Moderator.

`ROLES` is the single definition. The data migration creates the groups from it and
`manage.py sync_roles` (idempotent) keeps existing databases in step. Permissions are named by
(app_label, codename) so that posts never imports the comments app.

Object-level rules (own posts only, no publishing without `publish_post`) live in posts/admin.py.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.apps import apps as live_apps
from django.contrib.auth import get_user_model
from django.db.models import Q

CONTRIBUTOR = "Contributor"
AUTHOR = "Author"
EDITOR = "Editor"
MODERATOR = "Moderator"

_WRITE = [
    ("posts", "add_post"),
    ("posts", "change_post"),
    ("posts", "view_post"),
    ("posts", "view_category"),
    ("posts", "view_tag"),
    ("posts", "view_postrevision"),
    ("posts", "add_mediaimage"),
    ("posts", "view_mediaimage"),
    # Writers see the outbound Pingback/Webmention attempts of their posts (read-only inline).
    ("comments", "view_linkbackattempt"),
]
_PUBLISH = [
    ("posts", "publish_post"),
    # Authors add tags while writing (issue 22); renaming, merging and deleting stay with Editors.
    ("posts", "add_tag"),
    ("posts", "delete_post"),
    ("posts", "change_mediaimage"),
]
_EDIT_ALL = [
    ("posts", "edit_others_posts"),
    ("posts", "add_category"),
    ("posts", "change_category"),
    ("posts", "delete_category"),
    ("posts", "change_tag"),
    ("posts", "delete_tag"),
    ("posts", "delete_mediaimage"),
    ("posts", "view_authorprofile"),
]
_MODERATE = [
    ("comments", "can_moderate"),
    ("comments", "view_comment"),
    ("comments", "change_comment"),
]

ROLES: dict[str, list[tuple[str, str]]] = {
    CONTRIBUTOR: _WRITE,
    AUTHOR: _WRITE + _PUBLISH,
    EDITOR: _WRITE + _PUBLISH + _EDIT_ALL,
    MODERATOR: _MODERATE,
}


@dataclass
class SyncReport:
    created_groups: list[str] = field(default_factory=list)
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)


def roles_sync(*, apps=None) -> SyncReport:
    """Create the role groups and set their permissions to exactly `ROLES`. Safe to run again.

    `apps` is the migration state registry inside a data migration, the live registry otherwise.
    Permissions that do not exist yet (an app not migrated) are reported in `missing`.
    """
    if apps is None:
        apps = live_apps
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    report = SyncReport()
    for role, wanted in ROLES.items():
        group, created = Group.objects.get_or_create(name=role)
        if created:
            report.created_groups.append(role)
        wanted_ids: dict[int, str] = {}
        for app_label, codename in wanted:
            perm = Permission.objects.filter(content_type__app_label=app_label, codename=codename).first()
            if perm is None:
                report.missing.append(f"{role}: {app_label}.{codename}")
            else:
                wanted_ids[perm.pk] = f"{app_label}.{codename}"
        current = set(group.permissions.values_list("pk", flat=True))
        to_add = set(wanted_ids) - current
        to_remove = current - set(wanted_ids)
        if to_add:
            group.permissions.add(*to_add)
            report.added.extend(f"{role}: {wanted_ids[pk]}" for pk in sorted(to_add))
        if to_remove:
            group.permissions.remove(*to_remove)
            report.removed.extend(f"{role}: permission #{pk}" for pk in sorted(to_remove))
    return report


def editors():
    """Active staff who may edit others' posts and publish them (Editors, and superusers)."""
    User = get_user_model()
    can = Q(is_superuser=True) | (
        Q(groups__permissions__codename="edit_others_posts")
        | Q(user_permissions__codename="edit_others_posts")
    )
    return User.objects.filter(can, is_active=True, is_staff=True).exclude(email="").distinct()
