"""`{% fragment "name" part … %}…{% endfragment %}`: cache a block's HTML (core.cache.fragments).

The key is the content version, the language, the templates' digest, the name and the resolved
parts; the block is rendered and stored on a miss. Put only reader-independent markup inside;
a view sets `fragments_off` in the context for pages that must always render afresh (previews).
"""

from __future__ import annotations

from django import template
from django.utils.safestring import mark_safe

from core.cache import fragments

register = template.Library()


class FragmentNode(template.Node):
    def __init__(self, nodelist, name, parts):
        self.nodelist = nodelist
        self.name = name
        self.parts = parts

    def render(self, context) -> str:
        if not fragments.enabled(context.get("request")) or context.get("fragments_off"):
            return self.nodelist.render(context)
        key = fragments.fragment_key(self.name, [part.resolve(context) for part in self.parts])
        html = fragments.get(key)
        if html is None:
            html = self.nodelist.render(context)
            fragments.put(key, str(html), context.get("request"), html=html)
        return mark_safe(html)


@register.tag("fragment")
def do_fragment(parser, token):
    bits = token.split_contents()
    if len(bits) < 2 or bits[1][0] not in "\"'" or bits[1][-1] != bits[1][0]:
        raise template.TemplateSyntaxError('fragment takes a quoted name: {% fragment "name" part … %}')
    nodelist = parser.parse(("endfragment",))
    parser.delete_first_token()
    return FragmentNode(nodelist, bits[1][1:-1], [parser.compile_filter(bit) for bit in bits[2:]])
