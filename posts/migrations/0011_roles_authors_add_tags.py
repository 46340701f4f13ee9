"""Authors may add tags (posts/roles.py): bring existing role groups in step."""

from django.db import migrations


def sync_roles(apps, schema_editor):
    from posts.roles import roles_sync

    roles_sync(apps=apps)


class Migration(migrations.Migration):
    dependencies = [("posts", "0010_image_variants")]

    operations = [migrations.RunPython(sync_roles, migrations.RunPython.noop, elidable=True)]
