from django.db import migrations, models

from core.markup import excerpt_text

# posts.models.EXCERPT_WORDS when this migration was written (a migration keeps its own copy).
EXCERPT_WORDS = 55


def fill_body_excerpt(apps, schema_editor):
    """Derive the stored excerpt of every existing post from its body_html, as Post.save() does."""
    Post = apps.get_model("posts", "Post")
    batch = []
    for post in Post.objects.only("pk", "body_html").order_by("pk").iterator(chunk_size=500):
        post.body_excerpt = excerpt_text(post.body_html, EXCERPT_WORDS)
        batch.append(post)
        if len(batch) == 500:
            Post.objects.bulk_update(batch, ["body_excerpt"])
            batch = []
    if batch:
        Post.objects.bulk_update(batch, ["body_excerpt"])


class Migration(migrations.Migration):
    dependencies = [
        ("posts", "0013_avatar_variants"),
    ]

    operations = [
        migrations.AddField(
            model_name="post",
            name="body_excerpt",
            field=models.TextField(blank=True, db_default="", default="", editable=False),
        ),
        migrations.RunPython(fill_body_excerpt, migrations.RunPython.noop, elidable=True),
    ]
