"""The post admin's list columns and read-only fields (a mixin of PostAdmin)."""

from __future__ import annotations

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from core.origin import absolute_url
from posts import preview
from posts.admin.rights import status_label
from posts.models import Post
from posts.templatetags.blog import human_datetime


class PostColumnsMixin:
    @admin.display(description=_("status"), ordering="status")
    def status_column(self, obj):
        if obj is None or obj.pk is None:
            return gettext("draft")
        return format_html(
            '<span class="post-status post-status-{}">{}</span>', obj.status, status_label(obj)
        )

    @admin.display(description=_("publication date"), ordering="published_at")
    def published_column(self, obj):
        return human_datetime(obj.published_at) or "-"

    @admin.display(description=_("updated"), ordering="updated_at")
    def updated_column(self, obj):
        return human_datetime(obj.updated_at)

    @admin.display(description=_("authors"))
    def authors_column(self, obj):
        return ", ".join(a.user.get_username() for a in obj.authorships.all())

    @admin.display(description=_("share link"))
    def share_link(self, obj):
        if obj is None or obj.pk is None:
            return "—"
        if obj.is_published:
            url = obj.get_absolute_url()
            return format_html('<a id="post-live-link" href="{}">{}</a>', url, url)
        url = absolute_url(preview.preview_url(obj))
        return format_html(
            '<input id="post-share-link" class="copy-source vTextField" readonly value="{}" '
            'aria-label="{}"> '
            '<button type="button" class="copy-button" data-copy="post-share-link">{}</button>'
            '<div class="help">{}</div>',
            url,
            gettext("Preview link"),
            gettext("Copy"),
            gettext("Anyone with this link can read the unpublished post for 7 days."),
        )

    @admin.display(description=_("translations"))
    def translations_column(self, obj):
        if obj is None or obj.pk is None:
            return "—"
        siblings = (
            Post.objects.filter(translation_group=obj.translation_group)
            .exclude(pk=obj.pk)
            .only("title", "language", "status", "published_at")
        )
        items = format_html_join(
            "",
            '<li><a href="{}" lang="{}">{} ({})</a> · {}</li>',
            (
                (
                    reverse("admin:posts_post_change", args=[s.pk]),
                    s.language,
                    s.title,
                    s.get_language_display(),
                    status_label(s),
                )
                for s in siblings
            ),
        )
        add_link = format_html(
            '<a id="post-add-translation" href="{}">{}</a>',
            reverse("admin:posts_post_translate", args=[obj.pk]),
            gettext("Add translation"),
        )
        return format_html('<ul id="post-translations" class="translations">{}</ul>{}', items, add_link)

    @admin.display(description=_("revisions"))
    def revisions_column(self, obj):
        if obj is None or obj.pk is None:
            return "—"
        count = obj.revisions.filter(is_autosave=False).count()
        return format_html(
            '<a id="post-revisions-link" href="{}">{}</a>',
            reverse("admin:posts_post_revisions", args=[obj.pk]),
            gettext("%(count)d saved revisions: see the changes or restore one") % {"count": count},
        )
