"""Extension points posts offers the apps above it. They register from their AppConfig.ready();
posts never imports them, nor looks their models up by name.

- **List annotations.** `list_annotation_register(name, factory)`: `factory()` returns a query
  expression that every post list (home, archives, taxonomy, author, search) annotates as
  `name`. comments registers `comment_count`, the public responses per post, so posts shows
  counts without knowing the comment model. An unregistered name is simply absent.
- **Post admin inlines.** `post_admin_inline_register(inline)`: the post admin's change form
  shows the inline after its own (`PostAdmin.get_inlines`). comments/linkbacks registers the
  outbound linkback attempts this way.
"""

from __future__ import annotations

from collections.abc import Callable

from django.contrib.admin.options import InlineModelAdmin
from django.db.models import Expression

_list_annotations: dict[str, Callable[[], Expression]] = {}
_post_admin_inlines: list[type[InlineModelAdmin]] = []


def list_annotation_register(name: str, factory: Callable[[], Expression]) -> None:
    _list_annotations[name] = factory


def list_annotations() -> dict[str, Expression]:
    """The expression per registered name, for `queryset.annotate(**list_annotations())`. A
    factory may hand out the same expression every time: annotate() resolves a copy of it."""
    return {name: factory() for name, factory in _list_annotations.items()}


def post_admin_inline_register(inline: type[InlineModelAdmin]) -> None:
    if inline not in _post_admin_inlines:
        _post_admin_inlines.append(inline)


def post_admin_inlines() -> list[type[InlineModelAdmin]]:
    return list(_post_admin_inlines)
