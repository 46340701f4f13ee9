"""The post editor: a Markdown textarea with a toolbar, a live preview beside it, a status line
(words, reading time, autosave state) and the media dialog (upload, paste, drag, or pick from
the library; alt text asked for before anything is inserted). Markup in
templates/admin/posts/post/editor.html, behaviour in static/js/editor.js (no build step)."""

from __future__ import annotations

from django import forms
from django.template.loader import render_to_string
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _

from core.markup import render_markdown
from posts.models import MediaImage

# (action, label, keyboard shortcut as aria-keyshortcuts spells it, the key the script listens for)
TOOLBAR = (
    ("heading", _("Heading"), "Control+Alt+H"),
    ("bold", _("Bold"), "Control+B"),
    ("italic", _("Italic"), "Control+I"),
    ("link", _("Link"), "Control+K"),
    ("quote", _("Quote"), "Control+Alt+Q"),
    ("list", _("Bulleted list"), "Control+Alt+L"),
    ("code", _("Format as code"), "Control+Alt+C"),
    ("image", _("Add an image"), "Control+Alt+M"),
    ("footnote", _("Footnote"), "Control+Alt+F"),
)
LIBRARY_PICKS = 12


class MarkdownEditorWidget(forms.Textarea):
    def __init__(self, attrs=None, preview_url: str = "", upload_url: str = "", can_upload: bool = False):
        super().__init__(attrs={"rows": 24, "class": "md-editor-input", **(attrs or {})})
        self.preview_url = preview_url
        self.upload_url = upload_url
        self.can_upload = can_upload

    def render(self, name, value, attrs=None, renderer=None):
        attrs = {**(attrs or {}), "aria-describedby": "md-editor-help md-editor-stats"}
        textarea = super().render(name, value, attrs, renderer)
        context = {
            "textarea": textarea,
            "preview_url": self.preview_url,
            "upload_url": self.upload_url,
            "can_upload": self.can_upload,
            "toolbar": TOOLBAR,
            # render_markdown() output is nh3-sanitized: the same HTML readers get.
            "initial_html": mark_safe(render_markdown(value or "", "post")),  # noqa: S308
            "images": MediaImage.objects.order_by("-uploaded_at", "-id")[:LIBRARY_PICKS],
        }
        return mark_safe(render_to_string("admin/posts/post/editor.html", context))  # noqa: S308
