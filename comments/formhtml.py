"""The comment form's HTML, written directly in Python.

The same markup lives, readable, in templates/comments/_form_fields.html, and Django's own widget,
label and error-list templates draw its fields; tests/test_comment_form_render.py checks that both
give the same HTML (blank, with errors and the values kept after a failed post, replying, signed
in; in every language). Pages use this module because the form is drawn on every post page with
open comments, and a render from scratch ran seventeen small templates for it (a widget or label
each, through Django's form renderer). A blank form for the benchmark's post, built and drawn,
median of 200 renders on the 2-core machine beside other work (2026-12-07, load average near 5):

    python (comments/formhtml.py)                  0.48 ms
    templates (_form_fields.html, Django's own)    4.99 ms

Three parts:
- `FormRenderer`: Django's form renderer, with the templates the comment form's widgets, labels
  and error lists use written in Python. Django still decides every attribute and value (BoundField,
  the widgets' get_context()); only the drawing of that context changes. Any other template goes
  to the default renderer. CommentForm uses it (comments/forms.py).
- `form_fields_html(form, reply_to)`: _form_fields.html, drawn through the form's BoundFields.
- `comment_form_html(form, reply_to)`: what pages call. A blank form (a post page's `BlankForm`,
  or a view's unbound CommentForm) is drawn from a layout made once per process for each kind of
  form (language, signed in, replying, follow-up choice, "remember" ticked): the HTML of a real
  form with markers for the per-request values, cut at them. No form, BoundField or widget is
  built per request; tests/test_comment_form_layout.py holds it byte-equal to form_fields_html().
  Blank, for the benchmark's post (cProfile call counts; unprofiled median of 200 renders, 2-core
  machine, load average near 2, 2026-12-07):

      CommentForm + form_fields_html()          5,041 calls   0.533 ms
      comment_form_html(BlankForm)                158 calls   0.015 ms

  Any other form (bound, with errors) goes to form_fields_html(). `form_opening_html()` is the
  <form> tag of templates/comments/_form.html, made once per language in the same way.

Everything is escaped as the templates escape it: conditional_escape() of each value, translated
interface text as {% translate %} and {% blocktranslate %} give it (a translated literal is not
escaped). Change the templates and this module together.
"""

from __future__ import annotations

import functools
import re
import types

from django.core.signals import setting_changed
from django.dispatch import receiver
from django.forms.renderers import BaseRenderer, get_default_renderer
from django.urls import get_script_prefix, reverse
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language, gettext

from posts.article import escape
from posts.models import display_name


def _attrs(attrs: dict) -> str:
    """django/forms/widgets/attrs.html and django/forms/attrs.html."""
    parts = []
    for name, value in attrs.items():
        if value is False:
            continue
        if value is True:
            parts.append(f" {escape(name)}")
        else:
            parts.append(f' {escape(name)}="{escape(value)}"')
    return "".join(parts)


def _input(widget: dict) -> str:
    """django/forms/widgets/input.html (and text, email, url, hidden, checkbox, … which include it)."""
    value = widget["value"]
    shown = "" if value is None else f' value="{escape(value)}"'
    kind, name = escape(widget["type"]), escape(widget["name"])
    return f'<input type="{kind}" name="{name}"{shown}{_attrs(widget["attrs"])}>'


def _textarea(widget: dict) -> str:
    value = widget["value"]
    return (
        f'<textarea name="{escape(widget["name"])}"{_attrs(widget["attrs"])}>\n'
        f"{escape(value) if value else ''}</textarea>"
    )


def _input_option(option: dict) -> str:
    """django/forms/widgets/input_option.html as radio_option.html includes it (with the newlines
    the included files end with)."""
    if not option["wrap_label"]:
        return f"{_input(option)}\n\n"
    target = option["attrs"].get("id")
    label_for = f' for="{escape(target)}"' if target else ""
    return f"<label{label_for}>{_input(option)}\n {escape(option['label'])}</label>\n\n"


def _multiple_input(widget: dict) -> str | None:
    """django/forms/widgets/multiple_input.html (radio.html, checkbox_select.html)."""
    attrs = widget["attrs"]
    target = attrs.get("id")
    parts = ["<div"]
    if target:
        parts.append(f' id="{escape(target)}"')
    if attrs.get("class"):
        parts.append(f' class="{escape(attrs["class"])}"')
    parts.append(">")
    for group, options, _index in widget["optgroups"]:
        if group:
            parts.append(f"\n  <div><label>{escape(group)}</label>")
        for option in options:
            if option["template_name"] not in _OPTION_TEMPLATES:
                return None  # an option template not written here: the renderer draws it all
            parts.append(f"<div>\n    {_input_option(option)}</div>")
        if group:
            parts.append("\n  </div>")
    parts.append("\n</div>")
    return "".join(parts)


def _label(context: dict) -> str:
    """django/forms/label.html."""
    if not context["use_tag"]:
        return escape(context["label"])
    tag = escape(context["tag"])
    return f"<{tag}{_attrs(context['attrs'])}>{escape(context['label'])}</{tag}>"


def _error_list(context: dict) -> str:
    """django/forms/errors/list/ul.html (default.html includes it)."""
    errors = context["errors"]
    if not errors:
        return ""
    field_id = getattr(errors, "field_id", None)
    ident = f' id="{escape(field_id)}_error"' if field_id else ""
    items = "".join(f"<li>{escape(error)}</li>" for error in errors)
    return f'<ul class="{escape(context["error_class"])}"{ident}>{items}</ul>'


_INPUT_TEMPLATES = frozenset(
    f"django/forms/widgets/{name}.html"
    for name in ("input", "text", "email", "url", "hidden", "checkbox", "number", "password", "search", "tel")
)
_OPTION_TEMPLATES = frozenset(
    {"django/forms/widgets/radio_option.html", "django/forms/widgets/input_option.html"}
)
_WIDGET_WRITERS = {
    **dict.fromkeys(_INPUT_TEMPLATES, _input),
    "django/forms/widgets/textarea.html": _textarea,
    "django/forms/widgets/radio.html": _multiple_input,
}
_OTHER_WRITERS = {
    "django/forms/label.html": _label,
    "django/forms/errors/list/default.html": _error_list,
    "django/forms/errors/list/ul.html": _error_list,
}


class FormRenderer(BaseRenderer):
    """Django's default form renderer, with the templates listed above written in Python (what
    `render()` returns for them is the template's output, stripped, as BaseRenderer gives it)."""

    def render(self, template_name, context, request=None):
        write = _WIDGET_WRITERS.get(template_name)
        if write is not None:
            html_ = write(context["widget"])
            if html_ is not None:
                return html_
        else:
            write = _OTHER_WRITERS.get(template_name)
            if write is not None:
                return write(context)
        return get_default_renderer().render(template_name, context, request)

    def get_template(self, template_name):
        return get_default_renderer().get_template(template_name)


def _field_errors(field) -> str:
    return "".join(f"{escape(error)} " for error in field.errors)


def form_fields_html(form, reply_to=None) -> SafeString:
    """templates/comments/_form_fields.html: the comment form's fields, inside its <form>, drawn
    through the form's BoundFields (any form: bound, with errors, or blank)."""
    return _fields_html(
        form,
        reply_name=reply_to.user_name if reply_to else None,
        user_name=display_name(form.user) if form.user else None,
    )


def _fields_html(form, *, reply_name, user_name) -> SafeString:
    """form_fields_html() with the two names the form does not carry already looked up (the
    commenter's whose comment is answered, the signed-in user's): None where there is none."""
    out = ["".join(str(field) for field in form.hidden_fields()), "\n"]
    if reply_name is not None:
        note = gettext("Replying to %(name)s.") % {"name": escape(reply_name)}
        out.append(f'<p class="reply-note" id="reply-note" role="status">{note}</p>\n')
    else:
        out.append('<p class="reply-note" id="reply-note" role="status" hidden></p>\n')
    non_field_errors = form.non_field_errors()
    if non_field_errors:
        out.append(f'  <div class="error" role="alert">{escape(non_field_errors)}</div>\n')
    if user_name is not None:
        signed_in = gettext("Commenting as %(name)s.") % {"name": escape(user_name)}
        out.append(f'  <p class="signed-in">{signed_in}</p>\n')
    for field in form.visible_fields():
        name = field.name
        errors = field.errors
        if name == "honeypot":
            out.append(
                f'    <p class="visually-hidden" aria-hidden="true">{escape(field.label_tag())} '
                f'<input type="text" name="honeypot" id="{escape(field.auto_id)}" tabindex="-1" '
                'autocomplete="off"></p>\n'
            )
            continue
        error_html = (
            f'        <p class="error" id="{escape(field.auto_id)}_error">{_field_errors(field)}</p>\n'
            if errors
            else ""
        )
        has_error = " has-error" if errors else ""
        if name == "followup":
            out.append(
                f'    <fieldset class="field field-followup{has_error}">\n'
                f"      <legend>{escape(field.label)}</legend>\n"
                f"      {escape(field)}\n{error_html}    </fieldset>\n"
            )
            continue
        if name == "remember":
            drawn = f"{escape(field)} {escape(field.label_tag())}"
        else:
            drawn = f"{escape(field.label_tag())} {escape(field)}"
        help_html = (
            f'        <p class="help" id="{escape(field.auto_id)}_helptext">{escape(field.help_text)}</p>\n'
            if field.help_text
            else ""
        )
        out.append(
            f'    <div class="field field-{escape(name)}{has_error}">\n      {drawn}\n'
            f"{help_html}{error_html}    </div>\n"
        )
    out.append(
        '<p class="form-actions">\n'
        f'  <button type="submit">{gettext("Post comment")}</button>\n'
        f'  <a class="cancel-reply" href="#respond" hidden>{gettext("Cancel reply")}</a>\n'
        "</p>\n"
        f'<p class="privacy-note"><a href="{escape(reverse("comments:privacy"))}">'
        f"{gettext('See or delete your comments')}</a></p>\n"
    )
    return mark_safe("".join(out))  # noqa: S308 (every value above is escaped)


# --- A blank form, laid out once -------------------------------------------------------------------
#
# A post page draws the form blank (no errors, nothing typed, at most a few prefilled values), and
# everything in that HTML but a dozen values is the same on every page in a language: attribute
# order, ids, ARIA attributes, maxlengths, required flags, labels and help texts, the privacy link.
# So the first blank form of each kind (language, signed in or not, replying or not, which
# follow-up choice and whether "remember" is ticked) is built as a real CommentForm whose
# per-request values are markers, drawn by _fields_html() like any form, and cut at the markers.
# Later forms of that kind are the pieces joined with their own values, escaped as the widgets
# escape them: no form, BoundField or widget per request. Any value that a marker cannot stand
# for (a callable, a checkbox value other than True or False, an unknown field) takes the full
# path above, as a bound form (one with errors after a failed post) always does.

_MARK = "\ue000{}\ue001"  # Unicode private-use characters: nothing escapes or translates them
_MARKED = re.compile(r'( value=")?\ue000(\w+)\ue001(")?')
# The per-request values, by field: the security fields, the reply target, what the commenter
# typed or a remembered commenter's cookie filled in (name, email and website are hidden inputs
# for a signed-in user).
_SECURITY_VALUES = ("content_type", "object_pk", "timestamp", "security_hash")
_INPUT_VALUES = (*_SECURITY_VALUES, "reply_to", "name", "email", "url")
_TEXT_VALUES = ("comment",)
_KNOWN_INITIAL = frozenset((*_INPUT_VALUES, *_TEXT_VALUES, "followup", "remember"))
_NO_CHOICE = "\ue002"  # a follow-up value that is none of the choices: no radio button checked


class BlankForm:
    """What a post page's discussion gives its form template instead of a CommentForm: the form's
    target, user and initial values, drawn by comment_form_html() from the laid-out form without
    building one. It is never bound."""

    is_bound = False

    def __init__(self, target_object, *, user=None, initial=None):
        self.target_object = target_object
        self.user = user if user is not None and user.is_authenticated else None
        self.initial = initial or {}


class _Layout:
    """A blank form's HTML, cut where its per-request values go: pieces[0], value 0, pieces[1], …
    Each slot is (name, how): "attr" for an input's value attribute (absent when empty), "text"
    for a textarea's content, "name" for a person's name in a sentence."""

    __slots__ = ("pieces", "slots")

    def __init__(self, pieces: list[str], slots: list[tuple[str, str]]):
        self.pieces = pieces
        self.slots = slots

    def fill(self, values: dict) -> str:
        pieces = self.pieces
        out = [pieces[0]]
        for index, (name, how) in enumerate(self.slots, 1):
            value = values.get(name)
            if how == "name":
                out.append(escape(value))
            else:
                # Widget.format_value(): an empty value is no value at all.
                shown = None if value == "" or value is None else str(value)
                if how == "attr":
                    out.append("" if shown is None else f' value="{escape(shown)}"')
                else:
                    out.append(escape(shown) if shown else "")
            out.append(pieces[index])
        return "".join(out)


_layouts: dict[tuple, _Layout | SafeString | None] = {}


@receiver(setting_changed)
def _forget_layouts(**_signal_kwargs) -> None:
    """Labels, help texts, limits and links come from settings: a change lays the form out anew."""
    _layouts.clear()


def form_opening_html() -> SafeString:
    """The comment form's <form> tag, as templates/comments/_form.html wrote it (its action from
    reverse(), the reply note's sentence for the page's script): once per language."""
    key = ("opening", get_language(), get_script_prefix())
    html_ = _layouts.get(key)
    if html_ is None:
        # As {% blocktranslate with name='{name}' %}: the translated sentence as it is, the
        # placeholder escaped (it has nothing to escape).
        replying = gettext("Replying to %(name)s.") % {"name": "{name}"}
        html_ = _layouts[key] = mark_safe(  # noqa: S308 (the link is escaped, the sentence is the catalogue's)
            f'<form class="comment-form" id="comment-form" method="post" '
            f'action="{escape(reverse("comments:post"))}" novalidate data-replying="{replying}">'
        )
    return html_


def comment_form_html(form, reply_to=None) -> SafeString:
    """The comment form's fields: a blank form from its layout, any other through its fields."""
    from comments.forms import CommentForm  # comments/forms.py imports this module's renderer

    if isinstance(form, BlankForm):
        security = None
    elif form.is_bound or type(form) is not CommentForm:
        return form_fields_html(form, reply_to)
    else:
        security = form.initial  # a view's blank form (the reply page): its own security values
    html_ = _blank_html(form.target_object, form.user, form.initial, reply_to, security)
    if html_ is None:
        # The form's own BoundFields draw it, as they would with errors.
        if isinstance(form, BlankForm):
            form = _real_form(form.target_object, form.user, form.initial)
        return form_fields_html(form, reply_to)
    return html_


def _real_form(target_object, user, initial):
    from comments.forms import CommentForm  # comments/forms.py imports this module's renderer

    return CommentForm(target_object, user=user, initial=dict(initial))


def _blank_html(target_object, user, initial, reply_to, security) -> SafeString | None:
    """A blank form from its layout, or None when the values are ones the layout can't take."""
    if not initial.keys() <= _KNOWN_INITIAL:
        return None
    for value in initial.values():
        if value is not None and not isinstance(value, (str, int)):
            return None  # a callable, a date…: BoundField would make something else of it
    signed_in = user is not None
    followup = initial.get("followup")
    if followup is None:
        followup = ""  # ChoiceWidget.format_value(None): the blank choice ("No emails")
    elif not isinstance(followup, str):
        return None
    if followup not in _followup_values():
        followup = _NO_CHOICE  # typed by anyone (an expired form's post): one kind for them all
    remember = initial.get("remember")
    if signed_in:
        remember = False  # a signed-in user's form has no such box
    elif not (remember is None or remember is True or remember is False or remember == ""):
        return None  # CheckboxInput would tick it (0, 1) or show it as a value ("on")
    key = (get_language(), get_script_prefix(), signed_in, reply_to is not None, followup, remember is True)
    try:
        layout = _layouts[key]
    except KeyError:
        layout = _layouts[key] = _lay_out(target_object, key)
    if layout is None:
        return None
    values = dict(initial)
    if security is None:
        security = _security_data(target_object)
    for name in _SECURITY_VALUES:
        values[name] = security[name]
    values.setdefault("reply_to", 0)  # xtd's reply_to field: IntegerField(initial=0)
    if reply_to is not None:
        values["reply_name"] = reply_to.user_name
    if signed_in:
        values["user_name"] = display_name(user)
    return mark_safe(layout.fill(values))  # noqa: S308 (the layout is drawn HTML, every value escaped)


@functools.cache
def _followup_values() -> frozenset[str]:
    """The follow-up choices' values, as the radio buttons show them."""
    from comments.forms import FOLLOWUP_CHOICES

    return frozenset(str(value) for value, _label in FOLLOWUP_CHOICES)


def _security_data(target_object) -> dict:
    """django_comments' security fields for a form on target_object (its generate_security_data(),
    which reads nothing but the target, the clock and the secret key)."""
    from comments.forms import CommentForm

    bare = CommentForm.__new__(CommentForm)
    bare.target_object = target_object
    return bare.generate_security_data()


def _lay_out(target_object, key) -> _Layout | None:
    """Build one kind of blank form with markers for its values and cut it at them; None when a
    marker does not come out exactly once where expected (the full path draws that kind)."""
    _language, _prefix, signed_in, replying, followup, remember = key
    initial = {name: _MARK.format(name) for name in (*_INPUT_VALUES, *_TEXT_VALUES)}
    initial["followup"] = followup  # a choice's value, or _NO_CHOICE
    if remember:
        initial["remember"] = True
    user = types.SimpleNamespace(is_authenticated=True) if signed_in else None
    form = _real_form(target_object, user, initial)
    if form.fields["reply_to"].initial != 0 or any(
        field.initial is not None for name, field in form.fields.items() if name != "reply_to"
    ):
        return None  # a field with its own default: the values dict would miss it
    for name in _SECURITY_VALUES:
        form.initial[name] = _MARK.format(name)
    html_ = _fields_html(
        form,
        reply_name=_MARK.format("reply_name") if replying else None,
        user_name=_MARK.format("user_name") if signed_in else None,
    )
    expected = dict.fromkeys(_INPUT_VALUES, "attr")
    expected.update((name, "text") for name in _TEXT_VALUES)
    if replying:
        expected["reply_name"] = "name"
    if signed_in:
        expected["user_name"] = "name"
    pieces, slots, start = [], [], 0
    for match in _MARKED.finditer(html_):
        as_attr, name, closing = match.group(1), match.group(2), match.group(3)
        how = "attr" if as_attr and closing else "text" if not (as_attr or closing) else None
        if how is not None and expected.get(name) == "name":
            how = "name"
        if how is None or expected.pop(name, None) != how:
            return None
        pieces.append(html_[start : match.start()])
        slots.append((name, how))
        start = match.end()
    pieces.append(html_[start:])
    if expected or any("\ue000" in piece or "\ue001" in piece for piece in pieces):
        return None
    return _Layout(pieces, slots)
