"""The comment form: xtd's form (security hash, timestamp, honeypot) plus our limits and checks.

- The text is capped at COMMENTS_MAX_CHARS before anything renders it.
- `reply_to` must name a visible comment on the same post (XTD-NOTES trap 3) that xtd can store
  a reply to (trap 2). Either failure is a REPLY_ERROR, answered with 400 by the view, with
  nothing stored. A reply keeps the comment it answers as its parent at any depth; how deep a
  thread is drawn is the renderer's business (COMMENTS_MAX_THREAD_LEVEL, comments/thread.py).
- Signed-in users don't type a name or email: their account gives them.
- Fields with errors point at their messages with aria-describedby.
"""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.validators import MaxLengthValidator
from django.utils import timezone, translation
from django.utils.formats import number_format
from django.utils.translation import gettext_lazy as _
from django_comments_xtd.forms import XtdCommentForm

from comments.formhtml import FormRenderer
from comments.models import Comment
from core.guards import client_ip
from posts.models import display_name

REPLY_ERROR = "bad_reply"


class FollowupField(forms.ChoiceField):
    """No emails, replies to my comment, or the whole discussion. A bare "on" (the old checkbox,
    still in a form a reader left open) means the whole discussion."""

    def to_python(self, value):
        value = super().to_python(value)
        return Comment.Followup.ALL if value in ("on", "1", "true", "True") else value


FOLLOWUP_CHOICES = [
    ("", _("No emails")),
    (Comment.Followup.REPLIES, _("Email me replies to my comment")),
    (Comment.Followup.ALL, _("Email me every new comment on this post")),
]


def _grouped(number: int) -> str:
    """A count with the active language's digit grouping: 5,000 / 5.000 / 5 000."""
    return number_format(number, force_grouping=True)


class CommentForm(XtdCommentForm):
    # Django's form renderer, with the widget, label and error-list templates this form uses
    # written in Python: the same HTML (tests/test_comment_form_render.py).
    default_renderer = FormRenderer()

    def __init__(self, target_object, *args, user=None, **kwargs):
        self.user = user if user is not None and user.is_authenticated else None
        self.reply_target: Comment | None = None
        super().__init__(target_object, *args, **kwargs)
        self.fields["comment"].max_length = settings.COMMENTS_MAX_CHARS
        # clean_comment() gives the one, clearer length message.
        self.fields["comment"].validators = [
            v for v in self.fields["comment"].validators if not isinstance(v, MaxLengthValidator)
        ]
        self.fields["comment"].label = _("Comment")
        self.fields["comment"].help_text = _(
            "Markdown: *emphasis*, **strong**, [links](https://…), lists, > quotes, `code` and "
            "``` code blocks. Up to %(max)s characters."
        ) % {"max": _grouped(settings.COMMENTS_MAX_CHARS)}
        self.fields["name"].label = _("Name")
        self.fields["email"].label = _("Email")
        self.fields["email"].help_text = _("Never shown. Used to confirm your comment.")
        self.fields["url"].label = _("Website (optional)")
        self.fields["followup"] = FollowupField(
            label=_("Follow-up emails"), choices=FOLLOWUP_CHOICES, required=False, widget=forms.RadioSelect
        )
        self.fields["email"].widget.input_type = "email"
        self.fields["url"].widget.input_type = "url"
        if self.user is None:
            # Opt-in: name, email and website stay in this browser for the form (comments/commenter.py).
            self.fields["remember"] = forms.BooleanField(
                label=_("Remember my name, email and website on this browser"), required=False
            )
            self.fields["remember"].label_suffix = ""  # the label follows its checkbox: no colon
        for name in ("name", "email", "url", "comment"):
            self.fields[name].widget.attrs.pop("class", None)
            self.fields[name].widget.attrs.pop("placeholder", None)
        self.fields["comment"].widget.attrs.update(rows="6")
        self.fields["name"].widget.attrs.update(autocomplete="name", maxlength="50")
        self.fields["email"].widget.attrs.update(autocomplete="email")
        self.fields["url"].widget.attrs.update(autocomplete="url")
        if self.user is not None:
            for name in ("name", "email", "url"):
                self.fields[name].required = False
                self.fields[name].widget = forms.HiddenInput()

    # -- validation ------------------------------------------------------------------------------

    def clean_comment(self):
        text = self.data.get("comment", "") or ""
        # Checked on the raw text, before anything is rendered.
        if len(text) > settings.COMMENTS_MAX_CHARS:
            raise forms.ValidationError(
                _("Please keep comments under %(max)s characters (this one has %(n)s).")
                % {"max": _grouped(settings.COMMENTS_MAX_CHARS), "n": _grouped(len(text))},
                code="max_length",
            )
        text = self.cleaned_data.get("comment", "")
        if not text.strip():
            raise forms.ValidationError(_("Please write a comment."), code="required")
        return text

    def clean_url(self):
        url = self.cleaned_data.get("url", "")
        if url and not url.lower().startswith(("http://", "https://")):
            raise forms.ValidationError(_("Enter a web address starting with http:// or https://."))
        return url

    def clean_reply_to(self):
        value = self.cleaned_data.get("reply_to") or 0
        if value == 0:
            return 0
        target = (
            Comment.norel_objects.filter(pk=value, is_public=True, is_removed=False, is_spam=False)
            .only("pk", "parent_id", "level", "post_id", "content_type_id", "object_pk")
            .first()
        )
        post_ct = ContentType.objects.get_for_model(self.target_object)
        if (
            target is None
            or target.content_type_id != post_ct.pk
            or str(target.object_pk) != str(self.target_object.pk)
        ):
            raise forms.ValidationError(_("That comment is not part of this discussion."), code=REPLY_ERROR)
        if target.level >= settings.COMMENTS_XTD_MAX_THREAD_LEVEL:
            # xtd refuses to store a reply this deep, and would leave a half-saved row (trap 2).
            raise forms.ValidationError(_("That comment cannot take replies."), code=REPLY_ERROR)
        self.reply_target = target
        return value

    def clean(self):
        cleaned = super().clean()
        if self.user is not None:
            cleaned["name"] = display_name(self.user)[:50]
            cleaned["email"] = self.user.email
            cleaned["url"] = ""
        return cleaned

    def has_reply_error(self) -> bool:
        return any(e.code == REPLY_ERROR for e in self.errors.as_data().get("reply_to", []))

    def full_clean(self):
        super().full_clean()
        # Tie each field to its help and error messages for screen readers.
        for name, field in self.fields.items():
            bound = self[name]
            ids = []
            if field.help_text:
                ids.append(f"{bound.auto_id}_helptext")
            if bound.errors:
                ids.append(f"{bound.auto_id}_error")
            if ids:
                field.widget.attrs["aria-describedby"] = " ".join(ids)

    # -- building the comment ----------------------------------------------------------------------

    def build_comment(self, *, request) -> Comment:
        """An unsaved Comment from the valid form and the request (IP, agent, language)."""
        data = self.cleaned_data
        post = self.target_object
        return Comment(
            content_type=ContentType.objects.get_for_model(post),
            object_pk=str(post.pk),
            post=post,
            site_id=settings.SITE_ID,
            user=self.user,
            user_name=data["name"],
            user_email=data["email"],
            user_url=data["url"],
            comment=data["comment"],
            submit_date=timezone.now(),
            parent_id=data["reply_to"],
            followup=bool(data["followup"]),
            followup_scope=data["followup"] or Comment.Followup.ALL,
            ip_address=client_ip(request),
            user_agent=request.headers.get("User-Agent", "")[:300],
            language=translation.get_language() or settings.LANGUAGE_CODE,
            kind=Comment.Kind.COMMENT,
            is_public=False,
        )
