# Term counts kept in the database (posts.termcounts): the tables, and the triggers that mark
# them stale in the same transaction as every write that can change them, whatever sends it (the
# ORM, a bulk import, a backup restore, raw SQL, psql).

from django.db import migrations, models


def create_triggers(apps, schema_editor):
    # The trigger SQL lives with the code that reads the counts (posts/termcounts.py), which also
    # puts the triggers back after a later migration rebuilds a table (SQLite drops them then).
    from posts import termcounts

    termcounts.install_triggers(schema_editor.connection)


def drop_triggers(apps, schema_editor):
    connection = schema_editor.connection
    for table in ("posts_post", "posts_post_categories", "posts_post_tags", "posts_category", "posts_tag"):
        if connection.vendor == "postgresql":
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_termcounts ON {table}")
        elif connection.vendor == "sqlite":
            for event in ("insert", "delete", "update"):
                schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_termcounts_{event}")
    if connection.vendor == "postgresql":
        schema_editor.execute("DROP FUNCTION IF EXISTS posts_termcounts_stale()")


class Migration(migrations.Migration):

    dependencies = [
        ('posts', '0015_feed_state_index'),
    ]

    operations = [
        migrations.CreateModel(
            name='TermCountState',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('generation', models.BigIntegerField(default=1)),
                ('computed_generation', models.BigIntegerField(default=0)),
                ('computed_at', models.DateTimeField(blank=True, null=True)),
                ('valid_until', models.DateTimeField(blank=True, null=True)),
            ],
            options={
                'verbose_name': 'term count state',
                'verbose_name_plural': 'term count state',
            },
        ),
        migrations.CreateModel(
            name='TermCount',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('taxonomy', models.CharField(choices=[('c', 'category'), ('t', 'tag')], max_length=1, verbose_name='taxonomy')),
                ('term_id', models.BigIntegerField(verbose_name='term')),
                ('posts', models.PositiveIntegerField(verbose_name='visible posts')),
            ],
            options={
                'verbose_name': 'term count',
                'verbose_name_plural': 'term counts',
                'constraints': [models.UniqueConstraint(fields=('taxonomy', 'term_id'), name='termcount_term_uniq')],
            },
        ),
        migrations.RunPython(create_triggers, drop_triggers, elidable=False),
    ]
