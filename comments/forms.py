"""The comment form: xtd's form plus our limits and checks (see XTD-NOTES traps 2 and 3)."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _
from django_comments_xtd.forms import XtdCommentForm


class CommentForm(XtdCommentForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["comment"].max_length = settings.COMMENT_MAX_LENGTH
        self.fields["comment"].help_text = _(
            "Markdown: *emphasis*, **strong**, [links](https://…), lists, > quotes, `code`."
        )
        for name in ("name", "email", "url", "comment"):
            self.fields[name].widget.attrs.pop("class", None)

    def clean_comment(self):
        text = self.cleaned_data.get("comment", "")
        if len(text) > settings.COMMENT_MAX_LENGTH:
            raise forms.ValidationError(
                _("Please keep comments under %(max)d characters.") % {"max": settings.COMMENT_MAX_LENGTH}
            )
        return text
