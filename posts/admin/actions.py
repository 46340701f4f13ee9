"""The post list's bulk actions (a mixin of PostAdmin). Each post is saved on its own, not with a
queryset .update(), so post_save handlers (cache renewal, linkback queues) see the change."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from posts.admin.rights import slug_conflict
from posts.models import Post
from posts.workflow import post_decided


class PostActionsMixin:
    def _changeable(self, request, queryset):
        return [p for p in queryset if self.has_change_permission(request, p)]

    @admin.action(description=_("Publish selected posts now"), permissions=["publish"])
    def publish_selected(self, request, queryset):
        done, clashes = 0, []
        now = timezone.now()
        for post in self._changeable(request, queryset):
            if post.status == Post.Status.PUBLISHED:
                continue
            if not self._publish_one(post, now):
                clashes.append(post.title)
                continue
            post_decided(post=post, by=request.user, decision="published")
            done += 1
        self.message_user(request, gettext("Published %(n)d posts.") % {"n": done})
        if clashes:
            self.message_user(
                request,
                gettext("Not published, their slug is taken today: %(titles)s")
                % {"titles": ", ".join(clashes)},
                level=messages.WARNING,
            )

    @staticmethod
    def _publish_one(post, when) -> bool:
        if slug_conflict(slug=post.slug, published_at=when, exclude_pk=post.pk):
            return False
        post.status, post.published_at = Post.Status.PUBLISHED, when
        try:
            with transaction.atomic():
                post.save(update_fields=["status", "published_at", "updated_at"])
        except IntegrityError:
            return False
        return True

    def _bulk_update(self, request, queryset, *, skip, **changes) -> int:
        count = 0
        for post in self._changeable(request, queryset):
            if skip(post):
                continue
            for field_name, value in changes.items():
                setattr(post, field_name, value)
            post.save(update_fields=[*changes, "updated_at"])
            count += 1
        return count

    @admin.action(description=_("Send back with a note"), permissions=["send_back"])
    def send_back_selected(self, request, queryset):
        """Editors return posts in review to their authors as drafts, with a note they see."""
        posts = [p for p in self._changeable(request, queryset) if p.status == Post.Status.REVIEW]
        return self._send_back(request, posts)

    @admin.action(description=_("Unpublish selected posts to draft"), permissions=["publish"])
    def unpublish_selected(self, request, queryset):
        n = self._bulk_update(
            request, queryset, skip=lambda p: p.status == Post.Status.DRAFT, status=Post.Status.DRAFT
        )
        self.message_user(request, gettext("Moved %(n)d posts to draft.") % {"n": n})

    @admin.action(description=_("Close comments on selected posts"), permissions=["change"])
    def close_comments(self, request, queryset):
        n = self._bulk_update(request, queryset, skip=lambda p: not p.allow_comments, allow_comments=False)
        self.message_user(request, gettext("Closed comments on %(n)d posts.") % {"n": n})

    @admin.action(description=_("Close pings on selected posts"), permissions=["change"])
    def close_pings(self, request, queryset):
        n = self._bulk_update(request, queryset, skip=lambda p: not p.allow_pings, allow_pings=False)
        self.message_user(request, gettext("Closed pings on %(n)d posts.") % {"n": n})
