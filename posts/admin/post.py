"""The post admin: the writing screen, the list, and who sees and changes what.

Rights (see posts/roles.py): without `posts.edit_others_posts` a user sees and edits only posts
they co-author; without `posts.publish_post` a user can neither publish, schedule, unpublish nor
set the publication date, and cannot edit a published post. Status is never a form field: it is
set by the submit button pressed, so a forged `status=published` in a POST is simply ignored.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import Prefetch, Q
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from posts import preview
from posts.admin.actions import PostActionsMixin
from posts.admin.columns import PostColumnsMixin
from posts.admin.forms import PostAdminForm, may_add_tags
from posts.admin.rights import (
    ACTION_PUBLISH,
    ACTION_REVIEW,
    ACTION_SCHEDULE,
    ACTIONS,
    can_edit_others,
    can_publish,
    is_author_of,
    sends_back,
    status_label,
)
from posts.admin.views import PostViewsMixin
from posts.admin.widgets import MarkdownEditorWidget
from posts.extensions import post_admin_inlines
from posts.models import Post, PostAuthor, PostRevision, published_filter
from posts.revisions import revision_baseline, revision_record
from posts.workflow import post_decided, post_submitted

# Panels that apps above posts add below a post's change form (the newsletter's send log and
# "send a test to me", for one), so posts never imports them: callables (request, post) -> safe
# HTML, or "" for nothing. Registered from the other app's AppConfig.ready().
POST_PANELS: list = []


class PostAuthorInline(admin.TabularInline):
    """Ordered authors; only users who may edit others' posts (Editors) see and change it."""

    model = PostAuthor
    extra = 0
    fields = ("user", "position")
    autocomplete_fields = ()
    ordering = ("position", "id")

    def _allowed(self, request) -> bool:
        return can_edit_others(request.user)

    def has_view_permission(self, request, obj=None):
        return self._allowed(request)

    def has_add_permission(self, request, obj=None):
        return self._allowed(request)

    def has_change_permission(self, request, obj=None):
        return self._allowed(request)

    def has_delete_permission(self, request, obj=None):
        return self._allowed(request)


class StatusListFilter(admin.SimpleListFilter):
    title = _("status")
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return [
            ("draft", _("Draft")),
            ("review", _("In review")),
            ("scheduled", _("Scheduled")),
            ("published", _("Published")),
        ]

    def queryset(self, request, queryset):
        # "Scheduled" is a published status whose time has not come: the publication rule's other half.
        published = published_filter()
        filters = {
            "draft": Q(status=Post.Status.DRAFT),
            "review": Q(status=Post.Status.REVIEW),
            "scheduled": Q(status=Post.Status.PUBLISHED) & ~published,
            "published": published,
        }.get(self.value())
        return queryset.filter(filters) if filters is not None else queryset


class AuthoringMedia:
    # css/admin.css comes with every admin page (templates/admin/base_site.html).
    js = ["js/editor.js"]


# The writing screen's layout (templates/admin/posts/post/change_form.html): "pane-main" beside
# the sticky side panel ("pane-side"), "pane-below" under both (collapsed).
MAIN, SIDE, BELOW = "pane-main", "pane-side", "pane-below collapse"


class PostAdmin(PostColumnsMixin, PostActionsMixin, PostViewsMixin, admin.ModelAdmin):
    form = PostAdminForm
    inlines = [PostAuthorInline]
    list_display = (
        "title",
        "status_column",
        "authors_column",
        "language",
        "published_column",
        "updated_column",
    )
    list_display_links = ("title",)
    list_filter = (StatusListFilter, "authors", "categories", "tags", "language")
    date_hierarchy = "published_at"
    search_fields = ("title", "slug", "body")
    prepopulated_fields = {"slug": ("title",)}
    readonly_fields = ("status_column", "share_link", "translations_column", "revisions_column")
    actions = [
        "publish_selected",
        "send_back_selected",
        "unpublish_selected",
        "close_comments",
        "close_pings",
    ]
    list_per_page = 50
    Media = AuthoringMedia

    fieldsets = (
        (None, {"fields": ("title", "body", "excerpt", "slug"), "classes": [MAIN]}),
        (
            _("Publishing"),
            {
                "fields": ("status_column", "published_at", "language", "is_page", "featured"),
                "classes": [SIDE],
            },
        ),
        (_("Categories and tags"), {"fields": ("categories", "tags", "new_tags"), "classes": [SIDE]}),
        (_("Featured image"), {"fields": ("featured_image", "featured_image_alt"), "classes": [SIDE]}),
        (_("Discussion"), {"fields": ("allow_comments", "allow_pings"), "classes": [SIDE]}),
        (
            _("Sharing, translations and revisions"),
            {"fields": ("share_link", "translations_column", "revisions_column"), "classes": [SIDE]},
        ),
        (_("Trackbacks to send"), {"fields": ("trackback_urls",), "classes": [BELOW]}),
    )

    # --- who sees and changes what --------------------------------------------------------

    def get_queryset(self, request):
        qs = (
            super()
            .get_queryset(request)
            .prefetch_related(Prefetch("authorships", queryset=PostAuthor.objects.select_related("user")))
        )
        match = getattr(request, "resolver_match", None)
        if request.method == "GET" and match and match.url_name == "posts_post_changelist":
            # The list never shows the text; don't load 50 bodies to draw it.
            qs = qs.defer("body", "body_html", "search_text", "excerpt", "trackback_urls")
        if can_edit_others(request.user):
            return qs
        return qs.filter(pk__in=PostAuthor.objects.filter(user=request.user).values("post_id"))

    def _may_touch(self, request, obj) -> bool:
        if obj is None or can_edit_others(request.user):
            return True
        prefetched = getattr(obj, "_prefetched_objects_cache", {}).get("authorships")
        if prefetched is not None:
            return any(a.user_id == request.user.pk for a in prefetched)
        return is_author_of(request.user, obj)

    def has_view_permission(self, request, obj=None):
        return super().has_view_permission(request, obj) and self._may_touch(request, obj)

    def has_change_permission(self, request, obj=None):
        if not super().has_change_permission(request, obj):
            return False
        if obj is None:
            return True
        if not self._may_touch(request, obj):
            return False
        # Contributors write drafts; once a post is published only publishers may change it.
        return obj.status != Post.Status.PUBLISHED or can_publish(request.user)

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and self._may_touch(request, obj)

    def has_publish_permission(self, request) -> bool:
        return can_publish(request.user)

    def _get_obj_does_not_exist_redirect(self, request, opts, object_id):
        """Someone else's post, or one that is gone: say which, in words, and go to the list."""
        exists = str(object_id).isdigit() and Post.objects.filter(pk=int(object_id)).exists()
        if exists:
            message = gettext(
                "That post belongs to another writer, so you can't open it. "
                "Ask an editor if it needs your help."
            )
        else:
            message = gettext("That post doesn't exist any more; it may have been deleted.")
        self.message_user(request, message, level=messages.WARNING)
        return HttpResponseRedirect(reverse("admin:posts_post_changelist"))

    # --- the form -------------------------------------------------------------------------

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if not can_publish(request.user):
            fields += ["published_at", "featured"]
        return fields

    def get_fieldsets(self, request, obj=None):
        fieldsets = self.fieldsets
        if obj is None:
            # Sharing/translations/revisions only make sense once the post exists.
            fieldsets = [f for f in fieldsets if "share_link" not in f[1]["fields"]]
        if not may_add_tags(request.user):
            fieldsets = [
                (name, {**opts, "fields": tuple(f for f in opts["fields"] if f != "new_tags")})
                for name, opts in fieldsets
            ]
        return fieldsets

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        form.request_user = request.user
        if "body" in form.base_fields:
            form.base_fields["body"].widget = MarkdownEditorWidget(
                preview_url=reverse("admin:posts_post_preview"),
                upload_url=reverse("admin:posts_post_media_upload"),
                can_upload=request.user.has_perm("posts.add_mediaimage"),
            )
            form.base_fields["body"].strip = False
        return form

    def get_inlines(self, request, obj):
        # Inlines that apps above posts register (posts/extensions.py), after posts' own.
        return [*super().get_inlines(request, obj), *post_admin_inlines()]

    def get_inline_instances(self, request, obj=None):
        """Authors first; what other apps add (linkback attempts) below, collapsed."""
        inlines = super().get_inline_instances(request, obj)
        for inline in inlines:
            if not isinstance(inline, PostAuthorInline) and "collapse" not in (inline.classes or ()):
                inline.classes = [*(inline.classes or ()), "collapse"]
        return inlines

    def get_search_results(self, request, queryset, search_term):
        return super().get_search_results(request, queryset, search_term[:200])

    def get_urls(self):
        return [*self.desk_urls(), *super().get_urls()]

    # --- saving ---------------------------------------------------------------------------

    def save_model(self, request, obj, form, change):
        if change:
            revision_baseline(post=obj)
        super().save_model(request, obj, form, change)
        # Who hears about it (posts/workflow.py): editors of a submission, the other authors of
        # a publication or a scheduling.
        before = form._stored_status if change else None
        action = form._action()
        if action == ACTION_REVIEW and before != Post.Status.REVIEW:
            post_submitted(post=obj, by=request.user)
        elif action in (ACTION_PUBLISH, ACTION_SCHEDULE) and before != Post.Status.PUBLISHED:
            post_decided(post=obj, by=request.user, decision="scheduled" if obj.is_scheduled else "published")

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        post = form.instance
        if "new_tags" in form.fields:
            form.save_new_tags(post)
        if not post.authorships.exists():
            PostAuthor.objects.create(post=post, user=request.user, position=0)
        revision_record(post=post, user=request.user)
        PostRevision.objects.filter(post=post, author=request.user, is_autosave=True).delete()

    def response_add(self, request, obj, post_url_continue=None):
        self._status_message(request, obj)
        return super().response_add(request, obj, post_url_continue)

    def response_change(self, request, obj):
        self._status_message(request, obj)
        return super().response_change(request, obj)

    def _status_message(self, request, obj):
        if any(a in request.POST for a in ACTIONS):
            self.message_user(
                request,
                gettext("“%(title)s” is now %(status)s.") % {"title": obj, "status": status_label(obj)},
            )

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        context.update(
            can_publish=can_publish(request.user),
            is_published_post=bool(obj and obj.status == Post.Status.PUBLISHED),
            is_scheduled_post=bool(obj and obj.is_scheduled),
            preview_url=reverse("admin:posts_post_preview"),
            autosave_url=reverse("admin:posts_post_autosave", args=[obj.pk]) if obj else "",
            post_panels=[html for panel in POST_PANELS if obj for html in [panel(request, obj)] if html],
            # The editor's note stays in view while the post is back in draft.
            review_note=obj.review_notes.select_related("author").first()
            if obj and obj.status == Post.Status.DRAFT
            else None,
            can_send_back=bool(obj and obj.status == Post.Status.REVIEW and sends_back(request.user)),
            live_url=obj.get_absolute_url() if obj and obj.is_published else "",
        )
        return super().render_change_form(request, context, add, change, form_url, obj)

    def view_on_site(self, obj):
        """Live URL for a published post, a signed preview link (7 days) otherwise."""
        if obj.is_published:
            return obj.get_absolute_url()
        return preview.preview_url(obj)
