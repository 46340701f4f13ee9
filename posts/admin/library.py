"""The admin of everything around a post: the media library, categories and tags, writers' own
profiles, and the WordPress import records (old URLs, provenance, attachments; see wordpress/importer.py)."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from posts.admin.forms import MediaImageForm, OwnProfileForm
from posts.admin.post import AuthoringMedia
from posts.admin.rights import can_edit_others
from posts.models import AuthorProfile


class MediaImageAdmin(admin.ModelAdmin):
    form = MediaImageForm
    list_display = ("thumbnail", "alt_text", "snippet_column", "uploaded_by", "uploaded_at")
    list_display_links = ("alt_text",)
    search_fields = ("alt_text", "caption")
    readonly_fields = ("thumbnail", "snippet_column", "dimensions")
    Media = AuthoringMedia

    def get_fields(self, request, obj=None):
        if obj is None:
            return ("image", "alt_text", "caption")
        return ("thumbnail", "snippet_column", "dimensions", "image", "alt_text", "caption")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("uploaded_by")

    def _own_or_editor(self, request, obj) -> bool:
        return obj is None or can_edit_others(request.user) or obj.uploaded_by_id == request.user.pk

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and self._own_or_editor(request, obj)

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and self._own_or_editor(request, obj)

    def save_model(self, request, obj, form, change):
        if not change:
            obj.uploaded_by = request.user
        super().save_model(request, obj, form, change)

    @admin.display(description=_("image"))
    def thumbnail(self, obj):
        if not obj or not obj.image:
            return "—"
        return format_html('<img class="media-thumb" src="{}" alt="{}">', obj.image.url, obj.alt_text)

    @admin.display(description=_("Markdown"))
    def snippet_column(self, obj):
        if not obj or not obj.pk:
            return "—"
        field_id = f"media-snippet-{obj.pk}"
        return format_html(
            '<input id="{}" class="copy-source media-snippet" readonly value="{}" aria-label="{}"> '
            '<button type="button" class="copy-button" data-copy="{}">{}</button>',
            field_id,
            obj.markdown_snippet,
            gettext("Markdown snippet"),
            field_id,
            gettext("Copy"),
        )

    @admin.display(description=_("size"))
    def dimensions(self, obj):
        return f"{obj.width} × {obj.height} px" if obj and obj.pk else "—"


class CategoryAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "parent")
    search_fields = ("name", "slug")
    prepopulated_fields = {"slug": ("name",)}


class AuthorProfileAdmin(admin.ModelAdmin):
    list_display = ("user", "display_name", "website", "comment_notifications", "email_language")
    search_fields = ("user__username", "display_name")

    def get_urls(self):
        return [
            path("me/", self.admin_site.admin_view(self.own_profile_view), name="posts_authorprofile_me"),
            *super().get_urls(),
        ]

    def own_profile_view(self, request):
        """Every staff user edits their own profile here: byline, and which emails they get."""
        profile, _created = AuthorProfile.objects.get_or_create(user=request.user)
        form = OwnProfileForm(request.POST or None, request.FILES or None, instance=profile)
        if request.method == "POST" and form.is_valid():
            form.save()
            self.message_user(request, gettext("Your profile is saved."))
            return HttpResponseRedirect(reverse("admin:posts_authorprofile_me"))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": gettext("My profile"),
            "form": form,
        }
        return TemplateResponse(
            request, "admin/posts/authorprofile/me.html", context, status=400 if form.errors else 200
        )


class RedirectAdmin(admin.ModelAdmin):
    list_display = ("old_path", "post", "category", "tag", "author", "target_url", "created_at")
    search_fields = ("old_path", "target_url", "post__title")
    raw_id_fields = ("post", "category", "tag", "author")
    list_select_related = ("post", "category", "tag", "author")


class ImportRecordAdmin(admin.ModelAdmin):
    list_display = ("source", "kind", "wp_id", "content_type", "object_id", "imported_at")
    list_filter = ("kind", "source")
    search_fields = ("wp_id", "object_id")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class MediaReferenceAdmin(admin.ModelAdmin):
    list_display = ("original_url", "title", "post", "uploaded_at")
    search_fields = ("original_url", "title", "caption")
    raw_id_fields = ("post",)
