"""Federation in the admin: followers (approve, remove with a Reject), blocked domains (with the
import of a shared block list) and actors, reports received, fediverse replies (answer from
here), and what was sent where."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.db import transaction
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from comments.services import COMMENT_STATE_LABELS, answer_post, comment_state
from federation import delivery
from federation.blocklist import domain_blocks_import
from federation.models import (
    ActorBlock,
    Delivery,
    DomainBlock,
    Follower,
    InboxHealth,
    RemoteActor,
    RemoteNote,
    Report,
)


@admin.register(Follower)
class FollowerAdmin(admin.ModelAdmin):
    list_display = ("handle", "owner", "state", "created_at")
    list_filter = ("state", "owner")
    search_fields = ("actor__preferred_username", "actor__domain", "actor__uri")
    actions = ("approve", "remove")
    list_select_related = ("actor",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description=_("follower"), ordering="actor__domain")
    def handle(self, obj):
        return format_html(
            '<a href="{}" rel="nofollow">{}</a>', obj.actor.profile_url or obj.actor.uri, obj.actor.handle
        )

    @admin.action(description=_("Approve the selected followers"))
    def approve(self, request, queryset):
        with transaction.atomic():
            pending = list(queryset.filter(state=Follower.State.PENDING).select_related("actor"))
            for follower in pending:
                delivery.follower_approve(follower=follower)
        self.message_user(
            request, ngettext("%d follower approved.", "%d followers approved.", len(pending)) % len(pending)
        )

    @admin.action(description=_("Remove the selected followers (they are told)"))
    def remove(self, request, queryset):
        with transaction.atomic():
            followers = list(queryset.select_related("actor"))
            for follower in followers:
                delivery.follower_remove(follower=follower)
        self.message_user(
            request,
            ngettext("%d follower removed.", "%d followers removed.", len(followers)) % len(followers),
        )

    def delete_model(self, request, obj):
        delivery.follower_remove(follower=obj)

    def delete_queryset(self, request, queryset):
        for follower in queryset.select_related("actor"):
            delivery.follower_remove(follower=follower)


class BlockListForm(forms.Form):
    file = forms.FileField(
        label=_("Block list"),
        help_text=_(
            "A CSV file as Mastodon exports it (#domain,#severity,…) or one domain per line. "
            "Domains already blocked are kept."
        ),
    )


@admin.register(DomainBlock)
class DomainBlockAdmin(admin.ModelAdmin):
    list_display = ("domain", "reason", "imported_from", "created_at")
    search_fields = ("domain", "reason")
    change_list_template = "admin/federation/domainblock/change_list.html"

    def get_urls(self):
        return [
            path(
                "import/", self.admin_site.admin_view(self.import_view), name="federation_domainblock_import"
            ),
            *super().get_urls(),
        ]

    def import_view(self, request):
        if not self.has_add_permission(request):
            return redirect("admin:index")
        form = BlockListForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            upload = form.cleaned_data["file"]
            if upload.size > 5_000_000:
                form.add_error("file", _("The file is larger than 5 MB."))
            else:
                text = upload.read().decode("utf-8", "replace")
                added, skipped = domain_blocks_import(text=text, source=upload.name)
                self.message_user(
                    request,
                    _("%(added)d domains blocked, %(skipped)d lines skipped.")
                    % {"added": added, "skipped": skipped},
                    messages.SUCCESS,
                )
                return redirect("admin:federation_domainblock_changelist")
        context = {
            **self.admin_site.each_context(request),
            "form": form,
            "title": _("Import a block list"),
            "opts": self.model._meta,
        }
        return render(request, "admin/federation/domainblock/import.html", context)


@admin.register(ActorBlock)
class ActorBlockAdmin(admin.ModelAdmin):
    list_display = ("actor_uri", "reason", "created_at")
    search_fields = ("actor_uri",)


@admin.register(Report)
class ReportAdmin(admin.ModelAdmin):
    list_display = ("domain", "reporter", "short_content", "received_at", "resolved")
    list_filter = ("resolved",)
    readonly_fields = ("activity_id", "reporter", "domain", "reported", "content", "received_at")
    actions = ("resolve",)

    def has_add_permission(self, request):
        return False

    @admin.display(description=_("message"))
    def short_content(self, obj):
        return obj.content[:120]

    @admin.action(description=_("Mark as resolved"))
    def resolve(self, request, queryset):
        queryset.update(resolved=True)


class AnswerForm(forms.Form):
    text = forms.CharField(label=_("Your answer"), widget=forms.Textarea(attrs={"rows": 6}), max_length=10000)


@admin.register(RemoteNote)
class RemoteNoteAdmin(admin.ModelAdmin):
    """Fediverse replies; moderate them in the discussion's queue, answer them here."""

    list_display = ("sender", "excerpt", "post", "state", "answer_link")
    list_select_related = ("actor", "comment__post")
    readonly_fields = ("object_id", "actor", "comment", "received_at")

    def has_add_permission(self, request):
        return False

    @admin.display(description=_("from"))
    def sender(self, obj):
        return obj.actor.handle

    @admin.display(description=_("text"))
    def excerpt(self, obj):
        return obj.comment.moderation_text[:120]

    @admin.display(description=_("post"))
    def post(self, obj):
        return obj.comment.post

    @admin.display(description=_("state"))
    def state(self, obj):
        return COMMENT_STATE_LABELS[comment_state(obj.comment)]

    @admin.display(description=_("answer"))
    def answer_link(self, obj):
        url = reverse("admin:federation_remotenote_answer", args=[obj.pk])
        return format_html('<a href="{}">{}</a>', url, _("Answer"))

    def get_urls(self):
        return [
            path(
                "<int:pk>/answer/",
                self.admin_site.admin_view(self.answer_view),
                name="federation_remotenote_answer",
            ),
            *super().get_urls(),
        ]

    def answer_view(self, request, pk: int):
        """An author answers a fediverse reply from the admin: a comment in the thread under it,
        sent back out as a Note (the same path as answering on the site)."""

        note = get_object_or_404(RemoteNote.objects.select_related("comment__post", "actor"), pk=pk)
        if not request.user.is_staff:
            return redirect("admin:index")
        form = AnswerForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            submission = answer_post(parent=note.comment, user=request.user, text=form.cleaned_data["text"])
            if submission.comment is not None:
                self.message_user(
                    request,
                    _("Your answer is in the thread and on its way to %(handle)s.")
                    % {"handle": note.actor.handle},
                )
            else:
                self.message_user(
                    request,
                    _("The answer was not stored: %(why)s.") % {"why": submission.outcome},
                    messages.WARNING,
                )
            return redirect("admin:federation_remotenote_changelist")
        context = {
            **self.admin_site.each_context(request),
            "form": form,
            "note": note,
            "title": _("Answer %(handle)s") % {"handle": note.actor.handle},
            "opts": self.model._meta,
        }
        return render(request, "admin/federation/remotenote/answer.html", context)


@admin.register(RemoteActor)
class RemoteActorAdmin(admin.ModelAdmin):
    list_display = ("handle", "name", "domain", "fetched_at")
    search_fields = ("preferred_username", "domain", "uri")
    readonly_fields = [f.name for f in RemoteActor._meta.fields]

    def has_add_permission(self, request):
        return False


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    list_display = ("activity", "inbox", "state", "attempts", "last_status", "next_attempt_at")
    list_filter = ("state",)
    search_fields = ("inbox",)
    readonly_fields = [f.name for f in Delivery._meta.fields]

    def has_add_permission(self, request):
        return False


@admin.register(InboxHealth)
class InboxHealthAdmin(admin.ModelAdmin):
    list_display = ("inbox", "dead", "failures", "failing_since", "last_success_at")
    list_filter = ("dead",)
    actions = ("revive",)

    @admin.action(description=_("Try the selected inboxes again"))
    def revive(self, request, queryset):
        queryset.update(dead=False, failures=0, failing_since=None)
