"""The admin's Export screen: Editors download the site (or part of it) as a WordPress export."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.http import StreamingHttpResponse
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from posts.models import Category, PostAuthor
from wordpress.export import ExportFilter, wxr_chunks

EXPORT_PERMISSION = "posts.edit_others_posts"  # Editors (and superusers)


class ExportForm(forms.Form):
    status = forms.ChoiceField(
        label=_("Posts"),
        choices=[("all", _("All: drafts, in review and scheduled too")), ("published", _("Published only"))],
        initial="all",
    )
    author = forms.ModelChoiceField(
        label=_("Author"),
        queryset=get_user_model().objects.none(),
        required=False,
        empty_label=_("All authors"),
    )
    category = forms.ModelChoiceField(
        label=_("Category"), queryset=Category.objects.all(), required=False, empty_label=_("All categories")
    )
    start = forms.DateField(label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        credited = PostAuthor.objects.values("user_id")
        self.fields["author"].queryset = get_user_model().objects.filter(pk__in=credited).order_by("username")

    def clean(self):
        data = super().clean()
        if data.get("start") and data.get("end") and data["start"] > data["end"]:
            raise forms.ValidationError(gettext("“From” is after “To”."))
        return data


def export_screen(request):
    """GET: the form. POST: the WXR file, streamed as a download (never held in memory)."""
    if not request.user.has_perm(EXPORT_PERMISSION):
        raise PermissionDenied
    form = ExportForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        selection = ExportFilter(
            author=data["author"],
            category=data["category"],
            start=data["start"],
            end=data["end"],
            status=data["status"],
        )
        name = f"{slugify(settings.SITE_NAME) or 'site'}.wordpress.{timezone.localdate():%Y-%m-%d}.xml"
        response = StreamingHttpResponse(
            (chunk.encode() for chunk in wxr_chunks(selection)),
            content_type="application/rss+xml; charset=utf-8",
        )
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response
    context = {
        **admin.site.each_context(request),
        "title": gettext("Export"),
        "form": form,
    }
    return TemplateResponse(
        request, "admin/wordpress/export.html", context, status=400 if form.errors else 200
    )
