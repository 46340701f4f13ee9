"""Tags in the admin. Authors add them (here or from the post screen's "New tags"); Editors rename,
delete and merge them. Merging moves every post of the merged tags to the one kept, deletes the
others, and keeps their old addresses answering with a 301 to the kept tag."""

from __future__ import annotations

from django.contrib import admin
from django.db import transaction
from django.db.models import Count
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from posts.models import Post, Redirect, Tag
from posts.oldurls import normalize_path


@transaction.atomic
def tags_merge(*, keep: Tag, merged: list[Tag]) -> int:
    """Move the posts of `merged` to `keep`, delete `merged`, redirect their URLs. Returns how many
    posts gained the kept tag."""
    merged = [t for t in merged if t.pk != keep.pk]
    through = Post.tags.through
    post_ids = set(through.objects.filter(tag__in=merged).values_list("post_id", flat=True))
    already = set(through.objects.filter(tag=keep, post_id__in=post_ids).values_list("post_id", flat=True))
    for post in Post.objects.filter(pk__in=post_ids - already):
        post.tags.add(keep)  # through the manager: m2m signals renew cached pages
    for tag in merged:
        path = normalize_path(tag.get_absolute_url())
        Redirect.objects.filter(tag=tag).update(tag=keep)
        tag.delete()
        if path:
            Redirect.objects.update_or_create(
                old_path=path,
                defaults={"tag": keep, "post": None, "category": None, "author": None, "target_url": ""},
            )
    return len(post_ids - already)


class TagAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "post_count")
    search_fields = ("name", "slug")
    prepopulated_fields = {"slug": ("name",)}
    actions = ["merge_selected"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(posts_total=Count("posts", distinct=True))

    @admin.display(description=_("posts"), ordering="posts_total")
    def post_count(self, obj):
        return obj.posts_total

    def has_merge_permission(self, request) -> bool:
        return request.user.has_perm("posts.change_tag") and request.user.has_perm("posts.delete_tag")

    @admin.action(description=_("Merge selected tags"), permissions=["merge"])
    def merge_selected(self, request, queryset):
        tags = list(queryset.order_by("-posts_total", "name"))
        if len(tags) < 2:
            self.message_user(request, gettext("Choose at least two tags to merge."), level="warning")
            return None
        keep = next((t for t in tags if str(t.pk) == request.POST.get("keep")), None)
        if keep is None:
            return self._merge_page(request, tags)
        tags_merge(keep=keep, merged=tags)
        self.message_user(
            request,
            ngettext(
                "Merged %(n)d tag into “%(tag)s”.",
                "Merged %(n)d tags into “%(tag)s”.",
                len(tags) - 1,
            )
            % {"n": len(tags) - 1, "tag": keep.name},
        )
        return HttpResponseRedirect(reverse("admin:posts_tag_changelist"))

    def _merge_page(self, request, tags):
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": gettext("Merge tags"),
            "tags": tags,
            "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "admin/posts/tag/merge.html", context)
