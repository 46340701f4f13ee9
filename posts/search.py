"""Post search: PostgreSQL full-text search per post language, with a SQLite fallback.

On PostgreSQL each post is matched and ranked with its own language's text-search configuration
(english, spanish or french), so "learning" finds "learned" and "aprendizaje" finds the Spanish
post; the GIN index of migration 0002 backs the match. Snippets come from `ts_headline`. On SQLite
every word must appear in the title, excerpt or body, and snippets are cut in Python.
"""

from __future__ import annotations

import re

from django.db import connection
from django.db.models import Q, QuerySet
from django.db.models.expressions import RawSQL
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

MAX_QUERY_CHARS = 200
SNIPPET_WORDS = 30
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")

# Each post is searched with its own language's text-search configuration. The same expression
# backs the GIN index created in posts' migrations, so PostgreSQL can use it.
CONFIG_SQL = (
    "(CASE \"posts_post\".\"language\" WHEN 'es' THEN 'spanish'::regconfig "
    "WHEN 'fr' THEN 'french'::regconfig ELSE 'english'::regconfig END)"
)
VECTOR_SQL = f'to_tsvector({CONFIG_SQL}, "posts_post"."search_text")'
QUERY_SQL = f"websearch_to_tsquery({CONFIG_SQL}, %s)"

# The match is one branch per language, each with a constant configuration on the query side:
# "vector @@ websearch_to_tsquery('spanish', q)" can use the GIN index, while a configuration
# that depends on the row would force a scan of every post.
_LANGUAGE_CONFIGS = [("= 'es'", "spanish"), ("= 'fr'", "french"), ("NOT IN ('es', 'fr')", "english")]
MATCH_SQL = (
    "("
    + " OR ".join(
        f"({VECTOR_SQL} @@ websearch_to_tsquery('{config}'::regconfig, %s)"
        f' AND "posts_post"."language" {condition})'
        for condition, config in _LANGUAGE_CONFIGS
    )
    + ")"
)

# Highlight markers from the Unicode private-use area: the headline text is HTML-escaped first,
# then only these markers become <mark> elements, so post text can never inject markup.
_START, _STOP = "\ue000", "\ue001"
_HEADLINE_OPTIONS = (
    f"StartSel={_START}, StopSel={_STOP}, MaxWords={SNIPPET_WORDS}, MinWords=12, "
    'MaxFragments=2, FragmentDelimiter=" … "'
)


def clean_query(q: str) -> str:
    """Normalise user input: no control characters, collapsed spaces, at most 200 characters
    (cut at a word boundary when it is longer)."""
    q = _CONTROL.sub(" ", q or "").replace(_START, " ").replace(_STOP, " ")
    q = re.sub(r"\s+", " ", q).strip()
    if len(q) > MAX_QUERY_CHARS:
        # Cut at a word boundary: half a word would match nothing on PostgreSQL.
        cut = q[: MAX_QUERY_CHARS + 1]
        q = cut.rsplit(" ", 1)[0] if " " in cut else cut[:MAX_QUERY_CHARS]
    return q.strip()


def _is_postgresql() -> bool:
    return connection.vendor == "postgresql"


def search_posts(queryset: QuerySet, q: str) -> QuerySet:
    """Posts matching every word of `q`, best first (by rank on PostgreSQL, by date otherwise)."""
    q = clean_query(q)
    if not q:
        return queryset.none()
    if _is_postgresql():
        return (
            queryset.annotate(search_rank=RawSQL(f"ts_rank({VECTOR_SQL}, {QUERY_SQL})", (q,)))
            .extra(where=[MATCH_SQL], params=[q] * len(_LANGUAGE_CONFIGS))
            .order_by("-search_rank", "-published_at", "-id")
        )
    condition = Q()
    for word in q.split()[:10]:
        condition &= Q(search_text__icontains=word)
    return queryset.filter(condition).order_by("-published_at", "-id")


def attach_snippets(posts: list, q: str) -> None:
    """Set `post.search_snippet` (safe HTML with <mark>) on one page of results, in one query."""
    if not posts:
        return
    from posts.models import Post

    ids = [post.pk for post in posts]
    if _is_postgresql():
        rows = dict(
            Post.objects.filter(pk__in=ids)
            .annotate(
                headline=RawSQL(
                    f'ts_headline({CONFIG_SQL}, "posts_post"."search_text", {QUERY_SQL}, %s)',
                    (q, _HEADLINE_OPTIONS),
                )
            )
            .values_list("pk", "headline")
        )
    else:
        texts = dict(Post.objects.filter(pk__in=ids).values_list("pk", "search_text"))
        rows = {pk: _python_headline(text, q) for pk, text in texts.items()}
    for post in posts:
        post.search_snippet = _marked_html(rows.get(post.pk, ""))


def _python_headline(text: str, q: str) -> str:
    """A window of words around the first match, with matches wrapped in the markers."""
    text = text.replace(_START, "").replace(_STOP, "")
    words = [w for w in q.split()[:10] if w]
    if not words:
        return ""
    pattern = re.compile("|".join(re.escape(w) for w in words), re.IGNORECASE)
    found = pattern.search(text)
    tokens = text.split()
    if found is None:
        return " ".join(tokens[:SNIPPET_WORDS])
    first = len(text[: found.start()].split())
    start = max(0, first - SNIPPET_WORDS // 3)
    window = " ".join(tokens[start : start + SNIPPET_WORDS])
    marked = pattern.sub(lambda m: f"{_START}{m.group(0)}{_STOP}", window)
    return ("… " if start else "") + marked + (" …" if start + SNIPPET_WORDS < len(tokens) else "")


def _marked_html(headline: str) -> SafeString:
    """Escape a headline's text and turn the markers into <mark> elements."""
    pieces = []
    inside = False
    for part in re.split(f"({_START}|{_STOP})", headline or ""):
        if part == _START:
            inside = True
        elif part == _STOP:
            inside = False
        elif part:
            pieces.append(format_html("<mark>{}</mark>", part) if inside else part)
    return format_html_join("", "{}", ((piece,) for piece in pieces))
