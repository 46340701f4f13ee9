"""Post search: PostgreSQL full-text search per post language, with a SQLite fallback."""

from __future__ import annotations

import re

from django.db import connection
from django.db.models import Q, QuerySet
from django.db.models.expressions import RawSQL

MAX_QUERY_CHARS = 200
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")

# Each post is searched with its own language's text-search configuration. The same expression
# backs the GIN index created in posts' migrations, so PostgreSQL can use it.
CONFIG_SQL = (
    "(CASE \"posts_post\".\"language\" WHEN 'es' THEN 'spanish'::regconfig "
    "WHEN 'fr' THEN 'french'::regconfig ELSE 'english'::regconfig END)"
)
VECTOR_SQL = f'to_tsvector({CONFIG_SQL}, "posts_post"."search_text")'


def clean_query(q: str) -> str:
    """Normalise user input: no control characters, collapsed spaces, at most 200 characters."""
    q = _CONTROL.sub(" ", q or "")
    return re.sub(r"\s+", " ", q).strip()[:MAX_QUERY_CHARS]


def search_posts(queryset: QuerySet, q: str) -> QuerySet:
    q = clean_query(q)
    if not q:
        return queryset.none()
    if connection.vendor == "postgresql":
        query_sql = f"websearch_to_tsquery({CONFIG_SQL}, %s)"
        return (
            queryset.annotate(search_rank=RawSQL(f"ts_rank({VECTOR_SQL}, {query_sql})", (q,)))
            .extra(where=[f"{VECTOR_SQL} @@ {query_sql}"], params=[q])
            .order_by("-search_rank", "-published_at")
        )
    condition = Q()
    for word in q.split()[:10]:
        condition &= Q(search_text__icontains=word)
    return queryset.filter(condition)
