"""Admin for linkback records: outbound attempts (also inline on the post) and received webmentions."""

from __future__ import annotations

from django.contrib import admin

from comments.models import IncomingWebmention, LinkbackAttempt

_ATTEMPT_FIELDS = (
    "target_url",
    "protocol",
    "endpoint",
    "outcome",
    "http_status",
    "fault_code",
    "message",
    "tries",
    "removed",
    "attempted_at",
    "next_retry_at",
)


class LinkbackAttemptInline(admin.TabularInline):
    """Read-only list of a post's outbound linkbacks, shown on the post's admin page."""

    model = LinkbackAttempt
    fields = _ATTEMPT_FIELDS
    readonly_fields = _ATTEMPT_FIELDS
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(LinkbackAttempt)
class LinkbackAttemptAdmin(admin.ModelAdmin):
    list_display = (
        "target_url",
        "post",
        "protocol",
        "outcome",
        "http_status",
        "fault_code",
        "tries",
        "attempted_at",
    )
    list_filter = ("protocol", "outcome", "removed")
    search_fields = ("target_url", "endpoint", "post__title")
    readonly_fields = ("post", *_ATTEMPT_FIELDS, "content_hash", "created_at")
    list_select_related = ("post",)

    def has_add_permission(self, request):
        return False


@admin.register(IncomingWebmention)
class IncomingWebmentionAdmin(admin.ModelAdmin):
    list_display = ("source", "target", "status", "remote_ip", "created_at")
    list_filter = ("status",)
    search_fields = ("source", "target")
    readonly_fields = (
        "token",
        "source",
        "target",
        "status",
        "reason",
        "comment",
        "remote_ip",
        "created_at",
        "updated_at",
    )

    def has_add_permission(self, request):
        return False


def _attach_to_post_admin() -> None:
    # posts never imports comments, so comments adds its inline to the Post admin itself.
    from posts.admin import PostAdmin

    if LinkbackAttemptInline not in PostAdmin.inlines:
        PostAdmin.inlines = [*PostAdmin.inlines, LinkbackAttemptInline]


_attach_to_post_admin()
