"""The sign-up form and the preferences form (the same choices, without the address).

Every choice has a default, so the one-field form in the sidebar and under each post (just the
address) subscribes to all posts, in the page's language, as they are published, in full.
"""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from newsletter.models import Subscriber
from newsletter.services import Choices
from posts.models import Category

ALL, SOME = "all", "some"


class PreferencesForm(forms.Form):
    scope = forms.ChoiceField(
        label=_("Which posts"),
        choices=[(ALL, _("All posts")), (SOME, _("Only these categories:"))],
        widget=forms.RadioSelect,
        required=False,
    )
    categories = forms.ModelMultipleChoiceField(
        label=_("Categories"),
        queryset=Category.objects.order_by("name"),
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    post_languages = forms.MultipleChoiceField(
        label=_("Posts in"),
        choices=settings.LANGUAGES,
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    frequency = forms.ChoiceField(
        label=_("How often"), choices=Subscriber.Frequency.choices, widget=forms.RadioSelect, required=False
    )
    content = forms.ChoiceField(
        label=_("What each email holds"),
        choices=Subscriber.Content.choices,
        widget=forms.RadioSelect,
        required=False,
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        language = translation.get_language() or settings.LANGUAGE_CODE
        self.fields["scope"].initial = ALL
        self.fields["post_languages"].initial = [language[:2]]
        self.fields["frequency"].initial = Subscriber.Frequency.IMMEDIATE
        self.fields["content"].initial = Subscriber.Content.FULL

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("scope") == SOME and not cleaned.get("categories"):
            self.add_error("categories", _("Choose at least one category, or all posts."))
        return cleaned

    def choices(self, *, email: str) -> Choices:
        data = self.cleaned_data
        language = (translation.get_language() or settings.LANGUAGE_CODE)[:2]
        return Choices(
            email=email,
            post_languages=data.get("post_languages") or [language],
            categories=[c.pk for c in data["categories"]] if data.get("scope") == SOME else None,
            frequency=data.get("frequency") or Subscriber.Frequency.IMMEDIATE,
            content=data.get("content") or Subscriber.Content.FULL,
            language=language,
        )

    @classmethod
    def for_subscriber(cls, subscriber: Subscriber, data=None) -> PreferencesForm:
        form = cls(data)
        if data is None:
            form.initial = {
                "scope": ALL if subscriber.all_categories else SOME,
                "categories": list(subscriber.categories.all()),
                "post_languages": subscriber.languages,
                "frequency": subscriber.frequency,
                "content": subscriber.content,
            }
        return form


class AddressForm(forms.Form):
    email = forms.EmailField(label=_("Your email address"), max_length=254)
    # A field people never see and bots fill in.
    website = forms.CharField(required=False, label=_("Leave this field empty"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["email"].widget.attrs.update(autocomplete="email", maxlength="254")
        self.fields["website"].widget.attrs.update(tabindex="-1", autocomplete="off")

    def is_bot(self) -> bool:
        return bool(self.data.get("website"))


class SubscribeForm(AddressForm, PreferencesForm):
    field_order = ["email", "scope", "categories", "post_languages", "frequency", "content", "website"]
