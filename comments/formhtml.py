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

Two parts:
- `FormRenderer`: Django's form renderer, with the templates the comment form's widgets, labels
  and error lists use written in Python. Django still decides every attribute and value (BoundField,
  the widgets' get_context()); only the drawing of that context changes. Any other template goes
  to the default renderer. CommentForm uses it (comments/forms.py).
- `form_fields_html(form, reply_to)`: _form_fields.html.

Everything is escaped as the templates escape it: conditional_escape() of each value, translated
interface text as {% translate %} and {% blocktranslate %} give it (a translated literal is not
escaped). Change the templates and this module together.
"""

from __future__ import annotations

from django.forms.renderers import BaseRenderer, get_default_renderer
from django.urls import reverse
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext

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
    """templates/comments/_form_fields.html: the comment form's fields, inside its <form>."""
    out = ["".join(str(field) for field in form.hidden_fields()), "\n"]
    if reply_to:
        note = gettext("Replying to %(name)s.") % {"name": escape(reply_to.user_name)}
        out.append(f'<p class="reply-note" id="reply-note" role="status">{note}</p>\n')
    else:
        out.append('<p class="reply-note" id="reply-note" role="status" hidden></p>\n')
    non_field_errors = form.non_field_errors()
    if non_field_errors:
        out.append(f'  <div class="error" role="alert">{escape(non_field_errors)}</div>\n')
    if form.user:
        signed_in = gettext("Commenting as %(name)s.") % {"name": escape(display_name(form.user))}
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
