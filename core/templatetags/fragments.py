"""`{% fragment "name" part … %}…{% endfragment %}`: cache a block's HTML (core.cache.fragments).

`{% shows_discussion post.pk %}` inside a block says which posts' discussions it shows, and
`{% shows_discussion %}` that it shows none; the block is then kept when a comment lands on any
other post (core.cache.deps).

The key is the content version, the language, the templates' digest, the name and the resolved
parts; the block is rendered and stored on a miss. Put only reader-independent markup inside;
a view sets `fragments_off` in the context for pages that must always render afresh (previews).

Why not Django's `{% cache %}` with the content version as a vary-on argument: it would key the
block the same way, but it
- stores whatever the block rendered, a visitor's CSP nonce or CSRF field included, and serves it
  to the next visitor (a broken script policy, another visitor's form token); this tag stores
  nothing that carries either (core.cache.fragments.is_shareable);
- turns a cache outage into a 500, where this tag renders the block (a cache outage costs a
  render, never the page);
- would need the version, deploy digest and public origin passed in by every template, where
  this tag adds them to every key itself, and steps aside for previews (`fragments_off`) and
  for a request that asked every cache to (core.cache.policy.BYPASS).
"""

from __future__ import annotations

from django import template
from django.utils.safestring import mark_safe

from core.cache import deps, fragments

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
            with deps.recording() as recorder:
                html = self.nodelist.render(context)
            fragments.put(key, str(html), context.get("request"), html=html, recorder=recorder)
        return mark_safe(html)


@register.tag("fragment")
def do_fragment(parser, token):
    bits = token.split_contents()
    if len(bits) < 2 or bits[1][0] not in "\"'" or bits[1][-1] != bits[1][0]:
        raise template.TemplateSyntaxError('fragment takes a quoted name: {% fragment "name" part … %}')
    nodelist = parser.parse(("endfragment",))
    parser.delete_first_token()
    return FragmentNode(nodelist, bits[1][1:-1], [parser.compile_filter(bit) for bit in bits[2:]])


@register.simple_tag
def shows_discussion(*post_ids) -> str:
    """`{% shows_discussion post.pk … %}`: the page or fragment being rendered shows these posts'
    discussions (a count, a thread), and no other; `{% shows_discussion %}` says it shows none
    beyond what its parts say. Without it, a fragment is renewed by any comment on any post
    (core.cache.deps)."""
    if post_ids:
        deps.discussion(*post_ids)
    else:
        deps.declare()
    return ""
