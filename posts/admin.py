"""The authoring admin: posts with roles, a Markdown editor with live preview, scheduling,
revisions, translations and the media library.

Rights (see posts/roles.py): without `posts.edit_others_posts` a user sees and edits only posts
they co-author; without `posts.publish_post` a user can neither publish, schedule, unpublish nor
set the publication date, and cannot edit a published post. Status is never a form field: it is
set by the submit button pressed, so a forged `status=published` in a POST is simply ignored.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Prefetch
from django.http import Http404, HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from core.markup import render_markdown
from core.origin import absolute_url
from posts import preview
from posts.extensions import post_admin_inlines
from posts.models import (
    AuthorProfile,
    Category,
    ImportRecord,
    MediaImage,
    MediaReference,
    Post,
    PostAuthor,
    PostRevision,
    Redirect,
    Tag,
)
from posts.revisions import (
    autosave_store,
    revision_baseline,
    revision_history,
    revision_record,
    revision_restore,
)
from posts.templatetags.blog import human_datetime
from posts.translations import missing_languages, post_translate
from posts.workflow import post_decided, post_send_back, post_submitted

ACTION_DRAFT = "_save_draft"
ACTION_PUBLISH = "_publish"
ACTION_SCHEDULE = "_schedule"
ACTION_REVIEW = "_submit_review"
ACTIONS = (ACTION_DRAFT, ACTION_PUBLISH, ACTION_SCHEDULE, ACTION_REVIEW)

# Panels that apps above posts add below a post's change form (the newsletter's send log and
# "send a test to me", for one), so posts never imports them: callables (request, post) -> safe
# HTML, or "" for nothing. Registered from the other app's AppConfig.ready().
POST_PANELS: list = []


def can_publish(user) -> bool:
    return user.has_perm("posts.publish_post")


def can_edit_others(user) -> bool:
    return user.has_perm("posts.edit_others_posts")


def is_author_of(user, post: Post) -> bool:
    return PostAuthor.objects.filter(post=post, user=user).exists()


def status_label(post: Post) -> str:
    """draft / in review / scheduled for <date> / published: what the list and the form show."""
    if post.is_scheduled:
        return gettext("scheduled for %(date)s") % {"date": human_datetime(post.published_at)}
    if post.status == Post.Status.PUBLISHED:
        return gettext("published")
    if post.status == Post.Status.REVIEW:
        return gettext("in review")
    return gettext("draft")


def slug_conflict(*, slug: str, published_at, exclude_pk=None) -> Post | None:
    """The post that already uses this slug on this publication date (constraint
    post_slug_unique_per_date), if any."""
    if not slug or published_at is None:
        return None
    day = timezone.localtime(published_at).date()
    qs = Post.objects.filter(slug=slug, published_at__date=day)
    if exclude_pk is not None:
        qs = qs.exclude(pk=exclude_pk)
    return qs.only("pk", "title").first()


class MarkdownEditorWidget(forms.Textarea):
    """A textarea with a live preview pane beside it (below it on narrow screens)."""

    def __init__(self, attrs=None, preview_url: str = ""):
        super().__init__(attrs={"rows": 24, "class": "md-editor-input", **(attrs or {})})
        self.preview_url = preview_url

    def render(self, name, value, attrs=None, renderer=None):
        textarea = super().render(name, value, attrs, renderer)
        initial_html = render_markdown(value or "", "post")
        return format_html(
            '<div class="md-editor" id="md-editor" data-preview-url="{}">'
            '<div class="md-editor-pane">{}{}</div>'
            '<section class="md-preview-pane" aria-labelledby="post-preview-heading">'
            '<h3 id="post-preview-heading">{}</h3>'
            '<div id="post-preview" class="md-preview" aria-live="polite">{}</div>'
            "</section></div>",
            self.preview_url,
            textarea,
            self._media_picker(),
            gettext("Preview"),
            # render_markdown() output is nh3-sanitized: the same HTML readers get.
            mark_safe(initial_html),  # noqa: S308
        )

    def _media_picker(self):
        """Recent library images, each with its Markdown snippet and an Insert button (JS)."""
        images = list(MediaImage.objects.order_by("-uploaded_at", "-id")[:12])
        if not images:
            return ""
        items = format_html_join(
            "",
            '<li><img src="{}" alt="{}"><input class="media-snippet" readonly value="{}" aria-label="{}">'
            '<button type="button" class="insert-snippet" data-snippet="{}">{}</button></li>',
            (
                (
                    image.image.url,
                    image.alt_text,
                    image.markdown_snippet,
                    gettext("Markdown snippet"),
                    image.markdown_snippet,
                    gettext("Insert"),
                )
                for image in images
            ),
        )
        return format_html(
            '<details class="media-insert" id="media-insert"><summary>{}</summary><ul>{}</ul></details>',
            gettext("Insert an image from the library"),
            items,
        )


class PostAdminForm(forms.ModelForm):
    """Validates the submit button's action, publication rights, and slug-per-date uniqueness."""

    request_user = None  # set by PostAdmin.get_form

    class Meta:
        model = Post
        fields = [
            "title",
            "slug",
            "body",
            "excerpt",
            "published_at",
            "language",
            "is_page",
            "featured",
            "categories",
            "tags",
            "allow_comments",
            "allow_pings",
            "trackback_urls",
            "featured_image",
            "featured_image_alt",
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._stored_status = self.instance.status
        if "published_at" in self.fields:
            # The date and time typed here are read in the site's time zone: say which.
            self.fields["published_at"].help_text = "{} {}".format(
                self.fields["published_at"].help_text,
                gettext("Times are in the %(zone)s time zone.")
                % {"zone": timezone.get_current_timezone_name()},
            )

    def _post_clean(self):
        super()._post_clean()
        if self.errors:
            # Nothing is saved: show the post as it is stored, with its own buttons.
            self.instance.status = self._stored_status

    def _action(self) -> str | None:
        return next((a for a in ACTIONS if a in self.data), None)

    def clean(self):
        cleaned = super().clean()
        user = self.request_user
        post = self.instance
        action = self._action()
        was_published = bool(post.pk) and post.status == Post.Status.PUBLISHED
        now = timezone.now()
        publisher = user is not None and can_publish(user)
        published_at = cleaned.get("published_at", post.published_at) if publisher else post.published_at
        status = post.status or Post.Status.DRAFT

        if action in (ACTION_PUBLISH, ACTION_SCHEDULE) and not publisher:
            raise ValidationError(gettext("You do not have the right to publish posts."), code="forbidden")
        if action == ACTION_PUBLISH:
            status = Post.Status.PUBLISHED
            if not (was_published and post.published_at and post.published_at <= now):
                published_at = now
        elif action == ACTION_SCHEDULE:
            if published_at is None or published_at <= now:
                self.add_error(
                    "published_at", gettext("To schedule, set a publication date and time in the future.")
                )
                return cleaned
            status = Post.Status.PUBLISHED
        elif action == ACTION_DRAFT:
            if was_published and not publisher:
                raise ValidationError(gettext("You cannot unpublish posts."), code="forbidden")
            status = Post.Status.DRAFT
        elif action == ACTION_REVIEW:
            if was_published:
                raise ValidationError(
                    gettext("This post is published; unpublish it before submitting it for review."),
                    code="published",
                )
            status = Post.Status.REVIEW

        slug = cleaned.get("slug") or post.slug
        clash = slug_conflict(slug=slug, published_at=published_at, exclude_pk=post.pk)
        if clash is not None:
            self.add_error(
                "slug",
                gettext(
                    "Another post (“%(title)s”) already uses this slug on %(date)s. "
                    "Choose a different slug or date."
                )
                % {
                    "title": clash.title,
                    "date": date_format(timezone.localtime(published_at).date(), "DATE_FORMAT"),
                },
            )
        # Status is never a form field: it comes from the button, applied here so that the model's
        # own constraint validation (in _post_clean) sees the final values.
        post.status = status
        if publisher:
            cleaned["published_at"] = published_at
        return cleaned


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
        now = timezone.now()
        value = self.value()
        if value == "draft":
            return queryset.filter(status=Post.Status.DRAFT)
        if value == "review":
            return queryset.filter(status=Post.Status.REVIEW)
        if value == "scheduled":
            return queryset.filter(status=Post.Status.PUBLISHED, published_at__gt=now)
        if value == "published":
            return queryset.filter(status=Post.Status.PUBLISHED, published_at__lte=now)
        return queryset


class AuthoringMedia:
    css = {"all": ["css/admin.css"]}
    js = ["js/editor.js"]


@admin.register(Post)
class PostAdmin(admin.ModelAdmin):
    form = PostAdminForm
    inlines = [PostAuthorInline]

    def get_inlines(self, request, obj):
        # Inlines that apps above posts register (posts/extensions.py), after posts' own.
        return [*super().get_inlines(request, obj), *post_admin_inlines()]

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
        (None, {"fields": ("title", "slug", "body", "excerpt")}),
        (
            _("Publishing"),
            {"fields": ("status_column", "published_at", "language", "is_page", "featured")},
        ),
        (_("Categories and tags"), {"fields": ("categories", "tags")}),
        (_("Discussion"), {"fields": ("allow_comments", "allow_pings", "trackback_urls")}),
        (_("Featured image"), {"fields": ("featured_image", "featured_image_alt")}),
        (
            _("Sharing, translations and revisions"),
            {"fields": ("share_link", "translations_column", "revisions_column")},
        ),
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

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if not can_publish(request.user):
            fields += ["published_at", "featured"]
        return fields

    def get_fieldsets(self, request, obj=None):
        if obj is None:
            # Sharing/translations/revisions only make sense once the post exists.
            return self.fieldsets[:-1]
        return self.fieldsets

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        form.request_user = request.user
        if "body" in form.base_fields:
            form.base_fields["body"].widget = MarkdownEditorWidget(
                preview_url=reverse("admin:posts_post_preview")
            )
            form.base_fields["body"].strip = False
        return form

    def get_search_results(self, request, queryset, search_term):
        return super().get_search_results(request, queryset, search_term[:200])

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
            preview_url=reverse("admin:posts_post_preview"),
            autosave_url=reverse("admin:posts_post_autosave", args=[obj.pk]) if obj else "",
            post_panels=[html for panel in POST_PANELS if obj for html in [panel(request, obj)] if html],
            # The editor's note stays in view while the post is back in draft.
            review_note=obj.review_notes.select_related("author").first()
            if obj and obj.status == Post.Status.DRAFT
            else None,
            can_send_back=bool(obj and obj.status == Post.Status.REVIEW and self._sends_back(request)),
        )
        return super().render_change_form(request, context, add, change, form_url, obj)

    # --- columns and read-only fields -----------------------------------------------------

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
        url = self._absolute(preview.preview_url(obj))
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

    def _absolute(self, path_: str) -> str:
        return absolute_url(path_)

    def view_on_site(self, obj):
        """Live URL for a published post, a signed preview link (7 days) otherwise."""
        if obj.is_published:
            return obj.get_absolute_url()
        return preview.preview_url(obj)

    # --- bulk actions ---------------------------------------------------------------------

    def _changeable(self, request, queryset):
        return [p for p in queryset if self.has_change_permission(request, p)]

    @admin.action(description=_("Publish selected posts now"), permissions=["publish"])
    def publish_selected(self, request, queryset):
        done, clashes = 0, []
        now = timezone.now()
        for post in self._changeable(request, queryset):
            if post.status == Post.Status.PUBLISHED:
                continue
            when = now
            if slug_conflict(slug=post.slug, published_at=when, exclude_pk=post.pk):
                clashes.append(post.title)
                continue
            post.status, post.published_at = Post.Status.PUBLISHED, when
            try:
                with transaction.atomic():
                    post.save(update_fields=["status", "published_at", "updated_at"])
            except IntegrityError:
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

    def _bulk_update(self, request, queryset, *, skip, **changes) -> int:
        """Save each permitted post (not a queryset .update()), so post_save handlers such as
        cache invalidation and linkback queues see the change."""
        count = 0
        for post in self._changeable(request, queryset):
            if skip(post):
                continue
            for field_name, value in changes.items():
                setattr(post, field_name, value)
            post.save(update_fields=[*changes, "updated_at"])
            count += 1
        return count

    def _sends_back(self, request) -> bool:
        return can_publish(request.user) and can_edit_others(request.user)

    def has_send_back_permission(self, request) -> bool:
        return self._sends_back(request)

    @admin.action(description=_("Send back with a note"), permissions=["send_back"])
    def send_back_selected(self, request, queryset):
        """Editors return posts in review to their authors as drafts, with a note they see."""
        posts = [p for p in self._changeable(request, queryset) if p.status == Post.Status.REVIEW]
        return self._send_back(request, posts)

    def send_back_view(self, request, pk):
        post = self._get_post(request, pk, change=True)
        if not self._sends_back(request):
            raise PermissionDenied
        return self._send_back(request, [post] if post.status == Post.Status.REVIEW else [])

    def _send_back(self, request, posts):
        if not posts:
            self.message_user(
                request, gettext("Only posts in review can be sent back."), level=messages.WARNING
            )
            return HttpResponseRedirect(reverse("admin:posts_post_changelist"))
        note = request.POST.get("note", "").strip() if "note" in request.POST else None
        error = ""
        if note is not None:
            if not note:
                error = gettext("Write a note: it tells the author what to change.")
            elif len(note) > 5000:
                error = gettext("Keep the note under 5,000 characters.")
            else:
                for post in posts:
                    post_send_back(post=post, by=request.user, note=note)
                self.message_user(
                    request,
                    ngettext(
                        "Sent %(n)d post back to its author.",
                        "Sent %(n)d posts back to their authors.",
                        len(posts),
                    )
                    % {"n": len(posts)},
                )
                if len(posts) == 1:
                    return HttpResponseRedirect(reverse("admin:posts_post_change", args=[posts[0].pk]))
                return HttpResponseRedirect(reverse("admin:posts_post_changelist"))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": gettext("Send back with a note"),
            "posts": posts,
            "note": note or "",
            "error": error,
            "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(
            request, "admin/posts/post/send_back.html", context, status=400 if error else 200
        )

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

    # --- extra admin views ----------------------------------------------------------------

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("preview/", wrap(preview.render_preview), name="posts_post_preview"),
            path("<int:pk>/autosave/", wrap(self.autosave_view), name="posts_post_autosave"),
            path("<int:pk>/revisions/", wrap(self.revisions_view), name="posts_post_revisions"),
            path(
                "<int:pk>/revisions/<int:revision_pk>/restore/",
                wrap(self.restore_view),
                name="posts_post_restore",
            ),
            path("<int:pk>/translate/", wrap(self.translate_view), name="posts_post_translate"),
            path("<int:pk>/send-back/", wrap(self.send_back_view), name="posts_post_send_back"),
            *super().get_urls(),
        ]

    def _get_post(self, request, pk, *, change: bool) -> Post:
        post = get_object_or_404(Post, pk=pk)
        allowed = (
            self.has_change_permission(request, post) if change else self.has_view_permission(request, post)
        )
        if not allowed:
            raise PermissionDenied
        return post

    def autosave_view(self, request, pk):
        """Keep the editor's unsaved title and body in this user's autosave slot (JSON)."""
        if request.method != "POST":
            return JsonResponse({"error": gettext("Use POST.")}, status=405)
        post = self._get_post(request, pk, change=True)
        if preview.rate_limited(user=request.user, bucket="autosave"):
            return JsonResponse({"error": gettext("Too many autosaves; wait a minute.")}, status=429)
        title = request.POST.get("title", "")[:300]
        body = request.POST.get("body", "")
        if len(body) > preview.MAX_PREVIEW_CHARS:
            return JsonResponse({"error": gettext("The text is too long.")}, status=413)
        slot = autosave_store(post=post, user=request.user, title=title, body=body)
        return JsonResponse({"saved_at": slot.created_at.isoformat()})

    def revisions_view(self, request, pk):
        post = self._get_post(request, pk, change=False)
        autosave = PostRevision.objects.filter(post=post, author=request.user, is_autosave=True).first()
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": gettext("Revisions of “%(title)s”") % {"title": post.title},
            "post": post,
            "history": revision_history(post),
            "autosave": autosave,
            "can_restore": self.has_change_permission(request, post),
        }
        return TemplateResponse(request, "admin/posts/post/revisions.html", context)

    def restore_view(self, request, pk, revision_pk):
        if request.method != "POST":
            return HttpResponseRedirect(reverse("admin:posts_post_revisions", args=[pk]))
        post = self._get_post(request, pk, change=True)
        revision = PostRevision.objects.filter(post=post, pk=revision_pk).first()
        if revision is None:
            raise Http404(gettext("No such revision."))
        revision_restore(post=post, revision=revision, user=request.user)
        self.message_user(
            request,
            gettext("Restored the revision saved %(when)s.") % {"when": human_datetime(revision.created_at)},
        )
        return HttpResponseRedirect(reverse("admin:posts_post_change", args=[post.pk]))

    def translate_view(self, request, pk):
        post = self._get_post(request, pk, change=False)
        if not self.has_add_permission(request):
            raise PermissionDenied
        choices = missing_languages(post)
        error = ""
        if request.method == "POST":
            language = request.POST.get("language", "")
            if language in {code for code, _label in choices}:
                copy = post_translate(post=post, language=language, user=request.user)
                self.message_user(
                    request,
                    gettext("Created a %(language)s draft; translate it and save.")
                    % {"language": copy.get_language_display()},
                )
                return HttpResponseRedirect(reverse("admin:posts_post_change", args=[copy.pk]))
            error = gettext("Choose a language this post has no translation in yet.")
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": gettext("Add a translation of “%(title)s”") % {"title": post.title},
            "post": post,
            "choices": choices,
            "error": error,
        }
        return TemplateResponse(
            request, "admin/posts/post/translate.html", context, status=400 if error else 200
        )


class MediaImageForm(forms.ModelForm):
    class Meta:
        model = MediaImage
        fields = ("image", "alt_text", "caption")


@admin.register(MediaImage)
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

    def has_change_permission(self, request, obj=None):
        if not super().has_change_permission(request, obj):
            return False
        return obj is None or can_edit_others(request.user) or obj.uploaded_by_id == request.user.pk

    def has_delete_permission(self, request, obj=None):
        if not super().has_delete_permission(request, obj):
            return False
        return obj is None or can_edit_others(request.user) or obj.uploaded_by_id == request.user.pk

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


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "parent")
    search_fields = ("name", "slug")
    prepopulated_fields = {"slug": ("name",)}


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin):
    list_display = ("name", "slug")
    search_fields = ("name", "slug")
    prepopulated_fields = {"slug": ("name",)}


class OwnProfileForm(forms.ModelForm):
    class Meta:
        model = AuthorProfile
        fields = ("display_name", "bio", "website", "avatar", "email_language", "comment_notifications")


@admin.register(AuthorProfile)
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


# --- WordPress import records: old URLs, provenance and attachments (see wordpress/importer.py) ---------


@admin.register(Redirect)
class RedirectAdmin(admin.ModelAdmin):
    list_display = ("old_path", "post", "category", "tag", "author", "target_url", "created_at")
    search_fields = ("old_path", "target_url", "post__title")
    raw_id_fields = ("post", "category", "tag", "author")
    list_select_related = ("post", "category", "tag", "author")


@admin.register(ImportRecord)
class ImportRecordAdmin(admin.ModelAdmin):
    list_display = ("source", "kind", "wp_id", "content_type", "object_id", "imported_at")
    list_filter = ("kind", "source")
    search_fields = ("wp_id", "object_id")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(MediaReference)
class MediaReferenceAdmin(admin.ModelAdmin):
    list_display = ("original_url", "title", "post", "uploaded_at")
    search_fields = ("original_url", "title", "caption")
    raw_id_fields = ("post",)
