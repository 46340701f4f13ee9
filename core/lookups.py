"""Out-of-range integers in lookups through a relation match nothing, as they do on plain columns.

Django answers `filter(id=10**30)` on an integer column with an empty result (the range check of
`IntegerFieldExact`), but a lookup through a foreign key or a one-to-one primary key skips that
check and hands the number to the database driver. SQLite's driver refuses integers beyond 64 bits
with OverflowError, so `/comments/c/99999999999999999999999/`, `?c=` on the comment views and a
tampered `reply_to` answered 500: comments are keyed by a chain of one-to-one parent links
(Comment -> XtdComment -> django_comments' Comment). This restores the check for every relation.
"""

from __future__ import annotations

from django.core.exceptions import EmptyResultSet, FieldError
from django.db.models import ForeignObject
from django.db.models.fields.related_lookups import RelatedExact


def _column_field(field):
    """The concrete column a relation ends at (following one-to-one parent links), or None."""
    for _hop in range(10):
        if not getattr(field, "is_relation", False):
            return field
        try:
            field = field.target_field
        except (AttributeError, FieldError):  # a multi-column relation
            return None
    return None


class RelatedExactInRange(RelatedExact):
    """`exact` through a relation, with the integer range check Django applies to columns."""

    def process_rhs(self, compiler, connection):
        value = self.rhs
        if isinstance(value, int) and not isinstance(value, bool):
            column = _column_field(self.lhs.output_field)
            try:
                low, high = connection.ops.integer_field_range(column.get_internal_type())
            except (AttributeError, KeyError):
                pass  # not an integer column: nothing to check
            else:
                if (low is not None and value < low) or (high is not None and value > high):
                    raise EmptyResultSet
        return super().process_rhs(compiler, connection)


def register() -> None:
    ForeignObject.register_lookup(RelatedExactInRange, lookup_name="exact")
