"""The admin's Personal data screen (Editors): export or erase one person's data."""

from __future__ import annotations

import json

from django import forms
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from backup import personal

PERMISSION = "posts.edit_others_posts"  # Editors (and superusers)


CONFIRM_LABEL = _("Erasing cannot be undone; I have checked it is the right person")


def _check_confirmed(form) -> None:
    if form.data.get("action") == "erase" and not form.cleaned_data.get("confirm"):
        form.add_error("confirm", gettext("Tick the box to confirm the erase."))


class CommenterForm(forms.Form):
    email = forms.EmailField(label=_("Commenter's email address"))
    confirm = forms.BooleanField(label=CONFIRM_LABEL, required=False)

    def clean(self):
        data = super().clean()
        _check_confirmed(self)
        return data


class AuthorForm(forms.Form):
    user = forms.ModelChoiceField(label=_("Author account"), queryset=get_user_model().objects.none())
    reassign_to = forms.ModelChoiceField(
        label=_("Give their posts to"), queryset=get_user_model().objects.none(), required=False
    )
    confirm = forms.BooleanField(label=CONFIRM_LABEL, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        users = get_user_model().objects.order_by("username")
        self.fields["user"].queryset = users
        self.fields["reassign_to"].queryset = users.filter(is_active=True)

    def clean(self):
        data = super().clean()
        _check_confirmed(self)
        if self.data.get("action") == "erase":
            target = data.get("reassign_to")
            if target is None:
                self.add_error("reassign_to", gettext("Choose the author who takes over the posts."))
            elif data.get("user") is not None and target.pk == data["user"].pk:
                self.add_error("reassign_to", gettext("Choose another author than the one erased."))
        return data


def _download(data: dict, name: str) -> HttpResponse:
    response = HttpResponse(
        json.dumps(data, indent=1, ensure_ascii=False), content_type="application/json; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


def personal_data_screen(request):
    if not request.user.has_perm(PERMISSION):
        raise PermissionDenied
    commenter = CommenterForm(request.POST if request.POST.get("who") == "commenter" else None, prefix="c")
    author = AuthorForm(request.POST if request.POST.get("who") == "author" else None, prefix="a")
    action = request.POST.get("action")
    if request.method == "POST" and commenter.is_bound and commenter.is_valid():
        email = commenter.cleaned_data["email"]
        if action == "export":
            return _download(personal.commenter_export(email=email), "personal-data.json")
        if action == "erase":
            erasure = personal.commenter_erase(email=email, by=request.user)
            messages.success(
                request,
                gettext("Erased the data of %(email)s: %(n)d comments and %(other)d other items.")
                % {
                    "email": email,
                    "n": erasure.summary["comments"],
                    "other": sum(v for k, v in erasure.summary.items() if k != "comments"),
                },
            )
            return HttpResponseRedirect(reverse("backup:personal-data"))
    if request.method == "POST" and author.is_bound and author.is_valid():
        user = author.cleaned_data["user"]
        if action == "export":
            return _download(personal.author_export(user=user), f"personal-data-{user.get_username()}.json")
        if action == "erase":
            if user.is_superuser and not request.user.is_superuser:
                raise PermissionDenied
            target = author.cleaned_data["reassign_to"]
            login = user.get_username()
            erasure = personal.author_erase(user=user, reassign_to=target, by=request.user)
            messages.success(
                request,
                gettext("Erased the account %(login)s; %(n)d posts now belong to %(target)s.")
                % {"login": login, "n": erasure.summary["posts_reassigned"], "target": target.get_username()},
            )
            return HttpResponseRedirect(reverse("backup:personal-data"))
    invalid = request.method == "POST" and (commenter.is_bound or author.is_bound)
    context = {
        **admin.site.each_context(request),
        "title": gettext("Personal data"),
        "commenter": commenter,
        "author": author,
    }
    return TemplateResponse(
        request, "admin/backup/personal_data.html", context, status=400 if invalid else 200
    )
