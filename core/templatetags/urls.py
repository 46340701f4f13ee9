"""`{% url %}` with the argument-less links reversed once per process (a template builtin).

Every page's shell links home, search, subscribe and the privacy page with `{% url 'name' %}`:
about a dozen reverse() calls a page, the same every time. Django's own tag, except that a URL
name with no arguments is reversed once per URLconf, script prefix, current app (admin's
namespaces) and language (for i18n_patterns), then read from a dict. A name that does not reverse
is never kept: it fails, or gives "" to `as var`, every time, as before. Links with arguments go
through reverse() as before.
"""

from __future__ import annotations

from django import template
from django.conf import settings
from django.template.defaulttags import URLNode
from django.template.defaulttags import url as django_url
from django.urls import NoReverseMatch, get_script_prefix, get_urlconf, reverse
from django.utils.html import conditional_escape
from django.utils.translation import get_language

register = template.Library()
_reversed: dict[tuple, str] = {}


class ArgumentlessURLNode(URLNode):
    def render(self, context):
        if self.args or self.kwargs:
            return super().render(context)
        view_name = self.view_name.resolve(context)
        try:  # as URLNode finds it
            current_app = context.request.current_app
        except AttributeError:
            try:
                current_app = context.request.resolver_match.namespace
            except AttributeError:
                current_app = None
        where = (settings.ROOT_URLCONF, get_urlconf(), get_script_prefix(), get_language())
        key = (view_name, current_app, *where)
        url = _reversed.get(key)
        if url is None:
            try:
                url = _reversed[key] = reverse(view_name, current_app=current_app)
            except NoReverseMatch:
                if self.asvar is None:
                    raise
                url = ""
        if self.asvar:
            context[self.asvar] = url
            return ""
        return conditional_escape(url) if context.autoescape else url


@register.tag
def url(parser, token):
    """Django's {% url %} (the same syntax and errors), argument-less names reversed once."""
    node = django_url(parser, token)
    return ArgumentlessURLNode(node.view_name, node.args, node.kwargs, node.asvar)
