"""`{% json_data value "element-id" %}`: Django's json_script with the page's CSP nonce, for the
data blocks allauth's passkey scripts read (every <script> on our pages carries the nonce)."""

from __future__ import annotations

from django import template
from django.utils.html import format_html, json_script
from django.utils.safestring import mark_safe

register = template.Library()


@register.simple_tag(takes_context=True)
def json_data(context, value, element_id: str):
    tag = json_script(value, element_id)
    nonce = context.get("csp_nonce")
    if not nonce:
        return tag
    return format_html(
        '<script id="{}" type="application/json" nonce="{}">{}</script>',
        element_id,
        nonce,
        # The JSON json_script escaped for a <script> body (slicing drops its safe mark).
        mark_safe(tag[tag.index(">") + 1 : -len("</script>")]),  # noqa: S308
    )
