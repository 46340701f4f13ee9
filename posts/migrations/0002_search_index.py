"""A GIN index for full-text search on PostgreSQL, per post language (see posts/search.py)."""

from django.db import migrations

INDEX_SQL = (
    "CREATE INDEX IF NOT EXISTS post_search_gin ON posts_post USING gin ("
    "to_tsvector((CASE \"language\" WHEN 'es' THEN 'spanish'::regconfig "
    "WHEN 'fr' THEN 'french'::regconfig ELSE 'english'::regconfig END), \"search_text\"))"
)


def create_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(INDEX_SQL)


def drop_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP INDEX IF EXISTS post_search_gin")


class Migration(migrations.Migration):
    dependencies = [("posts", "0001_initial")]
    operations = [migrations.RunPython(create_index, drop_index, elidable=False)]
