"""The admin's forms: a post (its action comes from the button pressed), a library image (alt
text required, with a message that says why) and a writer's own profile."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.text import slugify
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from posts.admin.rights import (
    ACTION_DRAFT,
    ACTION_PUBLISH,
    ACTION_REVIEW,
    ACTION_SCHEDULE,
    ACTIONS,
    can_publish,
    slug_conflict,
)
from posts.models import AuthorProfile, MediaImage, Post, Tag

ALT_TEXT_REQUIRED = _(
    "Add alt text: describe the image for readers who cannot see it. The image is not uploaded without it."
)
MAX_NEW_TAGS = 10


def may_add_tags(user) -> bool:
    return user is not None and user.has_perm("posts.add_tag")


class PostAdminForm(forms.ModelForm):
    """Validates the submit button's action, publication rights, and slug-per-date uniqueness."""

    request_user = None  # set by PostAdmin.get_form

    new_tags = forms.CharField(
        label=_("New tags"),
        required=False,
        max_length=500,
        help_text=_("Separate tags with commas. Tags that already exist are reused."),
    )

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
        if "title" in self.fields:
            self.fields["title"].widget.attrs.update({"class": "vTextField desk-title"})
        if "featured_image" in self.fields:
            # Django draws a file field as a fieldset with a legend; the input itself needs a name.
            self.fields["featured_image"].widget.attrs["aria-label"] = str(
                self.fields["featured_image"].label
            )
        if "published_at" in self.fields:
            # The date and time typed here are read in the site's time zone: say which.
            self.fields["published_at"].help_text = "{} {}".format(
                self.fields["published_at"].help_text,
                gettext("Times are in the %(zone)s time zone.")
                % {"zone": timezone.get_current_timezone_name()},
            )
        if not may_add_tags(self.request_user):
            self.fields.pop("new_tags", None)

    def _post_clean(self):
        super()._post_clean()
        if self.errors:
            # Nothing is saved: show the post as it is stored, with its own buttons.
            self.instance.status = self._stored_status

    def _action(self) -> str | None:
        return next((a for a in ACTIONS if a in self.data), None)

    def clean_new_tags(self) -> list[str]:
        names = []
        for raw in self.cleaned_data.get("new_tags", "").split(","):
            name = " ".join(raw.split())[:100]
            if name and slugify(name, allow_unicode=True) and name.lower() not in {n.lower() for n in names}:
                names.append(name)
        if len(names) > MAX_NEW_TAGS:
            raise ValidationError(gettext("Add at most %(n)d new tags at a time.") % {"n": MAX_NEW_TAGS})
        return names

    def clean(self):
        cleaned = super().clean()
        post = self.instance
        publisher = self.request_user is not None and can_publish(self.request_user)
        published_at = cleaned.get("published_at", post.published_at) if publisher else post.published_at
        outcome = self._apply_action(post, publisher, published_at)
        if outcome is None:
            return cleaned
        status, published_at = outcome
        self._check_slug(cleaned.get("slug") or post.slug, published_at, post.pk)
        # Status is never a form field: it comes from the button, applied here so that the model's
        # own constraint validation (in _post_clean) sees the final values.
        post.status = status
        if publisher:
            cleaned["published_at"] = published_at
        return cleaned

    def _apply_action(self, post, publisher: bool, published_at):
        """(status, publication date) the pressed button asks for; None after a field error."""
        action = self._action()
        was_published = bool(post.pk) and post.status == Post.Status.PUBLISHED
        now = timezone.now()
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
                return None
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
        return status, published_at

    def _check_slug(self, slug, published_at, pk) -> None:
        clash = slug_conflict(slug=slug, published_at=published_at, exclude_pk=pk)
        if clash is None:
            return
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

    def save_new_tags(self, post: Post) -> list[Tag]:
        """Create (or reuse, by slug) the tags typed in "New tags" and add them to the post."""
        tags = []
        for name in self.cleaned_data.get("new_tags") or []:
            tag = Tag.objects.filter(slug=slugify(name, allow_unicode=True)).first() or Tag.objects.create(
                name=name, slug=slugify(name, allow_unicode=True)
            )
            tags.append(tag)
        if tags:
            post.tags.add(*tags)
        return tags


class MediaImageForm(forms.ModelForm):
    class Meta:
        model = MediaImage
        fields = ("image", "alt_text", "caption")
        error_messages = {"alt_text": {"required": ALT_TEXT_REQUIRED}}

    def clean_alt_text(self) -> str:
        alt = " ".join(self.cleaned_data.get("alt_text", "").split())
        if not alt:
            raise ValidationError(ALT_TEXT_REQUIRED, code="required")
        return alt


class OwnProfileForm(forms.ModelForm):
    class Meta:
        model = AuthorProfile
        fields = ("display_name", "bio", "website", "avatar", "email_language", "comment_notifications")
