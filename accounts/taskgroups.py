"""The admin index by task: what people do (Write, Discussion, Subscribers, Site), not which app a
model lives in. Everything not listed here is an internal (login records, the task queue, import
bookkeeping, second-factor devices…) and is for superusers only: hidden from everyone else's
index and answered 403 when its URL is forged (see admin_site.py).

A model is named "app_label.model_name"; "app_label.*" takes a whole app, so models that the
newsletter and federation apps add later land in their group without a change here.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Model
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class TaskGroup:
    key: str
    name: str | Promise
    members: tuple[str, ...]


TASK_GROUPS: tuple[TaskGroup, ...] = (
    TaskGroup(
        "write",
        _("Write"),
        (
            "posts.post",
            "posts.mediaimage",
            "posts.category",
            "posts.tag",
            "posts.authorprofile",
            "comments.linkbackattempt",
        ),
    ),
    TaskGroup(
        "discussion",
        _("Discussion"),
        (
            "comments.comment",
            "django_comments.commentflag",
            "django_comments_xtd.blacklisteddomain",
            "comments.incomingwebmention",
        ),
    ),
    TaskGroup("subscribers", _("Subscribers"), ("newsletter.*", "federation.*")),
    TaskGroup("site", _("Site"), ("auth.user", "auth.group", "posts.redirect")),
)
INTERNALS = TaskGroup("internals", _("Internals"), ())


def _names(model: type[Model]) -> tuple[str, str]:
    meta = model._meta
    return f"{meta.app_label}.{meta.model_name}", f"{meta.app_label}.*"


def task_group_of(model: type[Model]) -> TaskGroup:
    """The group a model's admin is listed under; INTERNALS for anything not named above."""
    exact, whole_app = _names(model)
    for group in TASK_GROUPS:
        if exact in group.members:
            return group
    for group in TASK_GROUPS:
        if whole_app in group.members:
            return group
    return INTERNALS


def is_internal(model: type[Model]) -> bool:
    return task_group_of(model) is INTERNALS


def member_rank(group: TaskGroup, model: type[Model]) -> int:
    """Position inside the group: the order of TASK_GROUPS (Posts before Tags), whole apps last."""
    exact, _whole_app = _names(model)
    return group.members.index(exact) if exact in group.members else len(group.members)
