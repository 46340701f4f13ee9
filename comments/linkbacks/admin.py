"""Admin for linkback records: outbound attempts (also inline on the post) and received webmentions.

Authors see the attempts of the posts they may see, with what the receiver answered; for a failed
attempt, those who may edit the post get **Resend** (a button in the post's inline list, and an
action in the attempts list). The resend runs in the task worker, never in the request.
"""

from __future__ import annotations

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseNotAllowed, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from comments.linkbacks.send import RESENDABLE, attempt_resend
from comments.models import IncomingWebmention, LinkbackAttempt
from posts.models import Post

_ATTEMPT_FIELDS = (
    "target_url",
    "protocol",
    "endpoint",
    "outcome",
    "http_status",
    "fault_code",
    "reason",
    "tries",
    "removed",
    "attempted_at",
    "next_retry_at",
)


def attempt_reason(attempt: LinkbackAttempt) -> str:
    """What the receiver said. WordPress refuses most pingbacks with fault 0 and no words at all;
    an empty answer to a failed attempt reads as such rather than as a blank cell."""
    if attempt.message:
        return attempt.message
    answered = attempt.fault_code is not None or attempt.http_status is not None
    if answered and attempt.outcome in (LinkbackAttempt.Outcome.FAILED, LinkbackAttempt.Outcome.RETRY):
        return gettext("(no reason given by the receiver)")
    return ""


def _post_admin():
    return admin.site._registry[Post]


def may_resend(request, attempt: LinkbackAttempt) -> bool:
    """Whoever may edit the attempt's post (the post admin's own rule: authors, editors)."""
    return _post_admin().has_change_permission(request, attempt.post)


def _resend_button(attempt: LinkbackAttempt, *, next_url: str) -> str:
    """A submit button that posts the page's form (and its CSRF token) to the resend view.

    It sits inside the post's change form, where a nested <form> is not allowed; `formaction`
    sends that form to the resend view instead, which reads only the token and `next`.
    """
    url = reverse("admin:comments_linkbackattempt_resend", args=[attempt.pk])
    return format_html(
        '<button type="submit" class="button linkback-resend" formaction="{}?next={}" '
        'formmethod="post" formnovalidate>{}</button>',
        url,
        next_url,
        gettext("Resend"),
    )


class LinkbackAttemptInline(admin.TabularInline):
    """Read-only list of a post's outbound linkbacks, shown on the post's admin page."""

    model = LinkbackAttempt
    fields = _ATTEMPT_FIELDS
    readonly_fields = (*_ATTEMPT_FIELDS, "resend")
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False

    def get_fields(self, request, obj=None):
        # The Resend column only for those who may edit this post.
        if obj is not None and _post_admin().has_change_permission(request, obj):
            return (*_ATTEMPT_FIELDS, "resend")
        return _ATTEMPT_FIELDS

    @admin.display(description=_("reason"))
    def reason(self, obj):
        return attempt_reason(obj)

    @admin.display(description=_("resend"))
    def resend(self, obj):
        if obj.outcome not in RESENDABLE:
            return ""
        return _resend_button(obj, next_url=reverse("admin:posts_post_change", args=[obj.post_id]))


@admin.register(LinkbackAttempt)
class LinkbackAttemptAdmin(admin.ModelAdmin):
    list_display = (
        "target_url",
        "post",
        "protocol",
        "outcome",
        "http_status",
        "fault_code",
        "reason",
        "tries",
        "attempted_at",
    )
    list_filter = ("protocol", "outcome", "removed")
    search_fields = ("target_url", "endpoint", "post__title")
    readonly_fields = ("post", *_ATTEMPT_FIELDS, "content_hash", "created_at")
    list_select_related = ("post",)
    actions = ("resend_selected",)

    def has_add_permission(self, request):
        return False

    def get_queryset(self, request):
        # The attempts of the posts this user may see in the post admin, no others.
        posts = _post_admin().get_queryset(request).values("pk")
        return super().get_queryset(request).filter(post__in=posts)

    def has_resend_permission(self, request) -> bool:
        return _post_admin().has_change_permission(request)

    @admin.display(description=_("reason"))
    def reason(self, obj):
        return attempt_reason(obj)

    @admin.action(description=_("Resend the selected failed linkbacks"), permissions=["resend"])
    def resend_selected(self, request, queryset):
        sent = skipped = 0
        for attempt in queryset.select_related("post"):
            if may_resend(request, attempt) and attempt_resend(attempt=attempt):
                sent += 1
            else:
                skipped += 1
        self._report(request, sent, skipped)

    def _report(self, request, sent: int, skipped: int) -> None:
        if sent:
            self.message_user(
                request,
                ngettext(
                    "%(n)d linkback will be sent again in a moment.",
                    "%(n)d linkbacks will be sent again in a moment.",
                    sent,
                )
                % {"n": sent},
            )
        if skipped:
            self.message_user(
                request,
                ngettext(
                    "%(n)d linkback was left alone: only failed ones, on posts you may edit, are resent.",
                    "%(n)d linkbacks were left alone: only failed ones, on posts you may edit, are resent.",
                    skipped,
                )
                % {"n": skipped},
                level="warning",
            )

    def get_urls(self):
        return [
            path(
                "<int:pk>/resend/",
                self.admin_site.admin_view(self.resend_view),
                name="comments_linkbackattempt_resend",
            ),
            *super().get_urls(),
        ]

    def resend_view(self, request, pk):
        """POST: resend one failed attempt, then go back where the button was (the post's page)."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        attempt = get_object_or_404(LinkbackAttempt.objects.select_related("post"), pk=pk)
        if not may_resend(request, attempt):
            raise PermissionDenied
        resent = attempt_resend(attempt=attempt)
        self._report(request, int(resent), int(not resent))
        next_url = request.GET.get("next", "")
        if not url_has_allowed_host_and_scheme(next_url, {request.get_host()}, request.is_secure()):
            next_url = reverse("admin:posts_post_change", args=[attempt.post_id])
        return HttpResponseRedirect(next_url)


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
