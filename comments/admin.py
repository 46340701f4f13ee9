"""The moderation queue: every comment and linkback, filtered by state, kind and post, with bulk
approve, spam and remove. Moderators need only `comments.can_moderate` (MODERATE_PERMISSION).

With a custom comment model xtd registers nothing, so CommentFlag and BlackListedDomain (the
block list) are registered here (XTD-NOTES trap 8).
"""

from __future__ import annotations

from django.contrib import admin
from django.db.models import Q
from django.utils.text import Truncator
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from django_comments.models import CommentFlag
from django_comments_xtd.models import BlackListedDomain

from comments import services
from comments.models import Comment
from comments.moderation import MODERATE_PERMISSION

STATE_FILTERS = {
    "public": Q(is_public=True, is_removed=False, is_spam=False),
    "awaiting": Q(awaiting_confirmation=True, is_removed=False, is_spam=False),
    "held": Q(is_public=False, awaiting_confirmation=False, is_removed=False, is_spam=False),
    "spam": Q(is_spam=True, is_removed=False),
    "removed": Q(is_removed=True),
}


class StateFilter(admin.SimpleListFilter):
    title = _("state")
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return list(services.COMMENT_STATE_LABELS.items())

    def queryset(self, request, queryset):
        if self.value() in STATE_FILTERS:
            return queryset.filter(STATE_FILTERS[self.value()])
        return queryset


class ModeratorAccess:
    """Lets holders of the moderator permission see and act on the queue."""

    def _moderates(self, request) -> bool:
        return request.user.is_active and request.user.has_perm(MODERATE_PERMISSION)

    def has_module_permission(self, request):
        return super().has_module_permission(request) or self._moderates(request)

    def has_view_permission(self, request, obj=None):
        return super().has_view_permission(request, obj) or self._moderates(request)

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) or self._moderates(request)

    def has_moderate_permission(self, request):
        return self._moderates(request)


@admin.register(Comment)
class CommentAdmin(ModeratorAccess, admin.ModelAdmin):
    list_display = ("short_text", "user_name", "kind", "post", "state", "hold_reason", "submit_date")
    list_filter = (StateFilter, "kind", ("post", admin.RelatedOnlyFieldListFilter))
    list_select_related = ("post",)
    search_fields = ("user_name", "user_email", "comment", "source_url", "ip_address")
    date_hierarchy = "submit_date"
    ordering = ("-submit_date",)
    actions = ("approve", "mark_spam", "remove")
    readonly_fields = (
        "post",
        "kind",
        "content_type",
        "object_pk",
        "site",
        "user",
        "ip_address",
        "user_agent",
        "language",
        "submit_date",
        "thread_id",
        "parent_id",
        "level",
        "order",
        "nested_count",
        "hold_reason",
        "needs_spam_check",
        "awaiting_confirmation",
        "source_url",
        "source_title",
    )
    fields = (
        *readonly_fields[:2],
        "user_name",
        "user_email",
        "user_url",
        "comment",
        "excerpt",
        "followup",
        "is_public",
        "is_removed",
        "is_spam",
        *readonly_fields[2:],
    )

    def has_add_permission(self, request):
        return False

    @admin.display(description=_("text"))
    def short_text(self, obj):
        # A fediverse reply's text without its HTML; a comment's Markdown; a linkback's excerpt.
        text = obj.moderation_text if obj.is_remote_reply else (obj.comment or obj.excerpt)
        return Truncator(text or obj.source_url).chars(80)

    @admin.display(description=_("state"))
    def state(self, obj):
        return services.COMMENT_STATE_LABELS[services.comment_state(obj)]

    def _bulk(self, request, queryset, action, message):
        count = 0
        for comment in queryset:
            action(comment=comment)
            count += 1
        self.message_user(request, message(count))

    @admin.action(description=_("Approve selected comments"), permissions=["moderate"])
    def approve(self, request, queryset):
        self._bulk(
            request,
            queryset,
            services.comment_approve,
            lambda n: ngettext("%(n)d comment approved.", "%(n)d comments approved.", n) % {"n": n},
        )

    @admin.action(description=_("Mark selected comments as spam"), permissions=["moderate"])
    def mark_spam(self, request, queryset):
        self._bulk(
            request,
            queryset,
            services.comment_mark_spam,
            lambda n: (
                ngettext("%(n)d comment marked as spam.", "%(n)d comments marked as spam.", n) % {"n": n}
            ),
        )

    @admin.action(description=_("Remove selected comments"), permissions=["moderate"])
    def remove(self, request, queryset):
        self._bulk(
            request,
            queryset,
            services.comment_remove,
            lambda n: ngettext("%(n)d comment removed.", "%(n)d comments removed.", n) % {"n": n},
        )


@admin.register(CommentFlag)
class CommentFlagAdmin(ModeratorAccess, admin.ModelAdmin):
    list_display = ("comment", "user", "flag", "flag_date")
    list_select_related = ("user",)
    raw_id_fields = ("comment", "user")


@admin.register(BlackListedDomain)
class BlockListAdmin(ModeratorAccess, admin.ModelAdmin):
    """The block list: a domain (blocks it and its subdomains) or one full email address."""

    search_fields = ("domain",)
    list_display = ("domain",)
