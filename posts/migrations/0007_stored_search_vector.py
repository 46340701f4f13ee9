"""A stored tsvector column for search on PostgreSQL (see posts/search.py).

Migration 0002 indexed an expression: matching used the GIN index, but ranking had to run
to_tsvector() again on every matching post, which made a common word cost a scan of the table.
A generated column keeps each post's vector, computed by PostgreSQL whenever the text or the
language changes; the GIN index moves to it. SQLite has no full-text search here: nothing to do.
"""

from django.db import migrations

CONFIG = (
    "(CASE \"language\" WHEN 'es' THEN 'spanish'::regconfig "
    "WHEN 'fr' THEN 'french'::regconfig ELSE 'english'::regconfig END)"
)
FORWARD = [
    f'ALTER TABLE posts_post ADD COLUMN search_vector tsvector GENERATED ALWAYS AS (to_tsvector({CONFIG}, "search_text")) STORED',
    "CREATE INDEX post_search_vector_gin ON posts_post USING gin (search_vector)",
    "DROP INDEX IF EXISTS post_search_gin",
]
BACKWARD = [
    "CREATE INDEX IF NOT EXISTS post_search_gin ON posts_post USING gin "
    f'(to_tsvector({CONFIG}, "search_text"))',
    "ALTER TABLE posts_post DROP COLUMN IF EXISTS search_vector",
]


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for sql in FORWARD:
            schema_editor.execute(sql)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for sql in BACKWARD:
            schema_editor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [("posts", "0006_i18n_labels")]
    operations = [migrations.RunPython(forward, backward, elidable=False)]
