"""What comments tells posts' lists: the public responses per post (posts/extensions.py)."""

from __future__ import annotations

import functools

from django.db.models import F, Func, IntegerField, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce

from comments.models import Comment


@functools.cache
def public_response_count(*, mentions: bool = False):
    """Public comments (or, with `mentions`, linkbacks) per post as a correlated subquery:
    evaluated for the listed page only, so the list can walk an index in order instead of
    joining and grouping every post. Cards show both: "3 comments · 2 mentions".

    Built once per process: annotate() resolves a copy and leaves this expression as it is. The
    count is a plain COUNT over the post's rows (no GROUP BY), one row whatever it finds."""
    linkbacks = Q(kind__in=Comment.LINKBACK_KINDS)
    per_post = (
        Comment.objects.filter(
            linkbacks if mentions else ~linkbacks,
            post=OuterRef("pk"),
            is_public=True,
            is_removed=False,
            is_spam=False,
        )
        .order_by()
        .annotate(n=Func(F("pk"), function="COUNT", output_field=IntegerField()))
        .values("n")
    )
    return Coalesce(Subquery(per_post, output_field=IntegerField()), 0)
