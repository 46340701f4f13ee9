"""`manage.py queue_image_variants`: queue the worker to make the responsive copies of uploads
stored before it made them (author photos before posts/0013, featured and library images before
posts/0010), or of every upload with `--all`.

A command, not a data migration: the copies are made by the task worker, and a migration that
queued tasks would import today's task code into a frozen migration. Run it once after
`migrate`; running it again queues only what still has no copies recorded.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand
from django.db import transaction

from posts.models import AuthorProfile, MediaImage, Post
from posts.tasks import image_variants_make, image_variants_needed

KINDS = (
    ("avatar", AuthorProfile.objects.exclude(avatar="").only("avatar", "avatar_variants"), "author photos"),
    (
        "featured",
        Post.objects.exclude(featured_image="").only("featured_image", "featured_image_variants"),
        "featured images",
    ),
    ("library", MediaImage.objects.exclude(image="").only("image", "variants"), "media-library images"),
)


class Command(BaseCommand):
    help = (
        "Queue the task worker to make the WebP and resized copies of author photos, featured "
        "images and media-library images that have none recorded yet."
    )

    def add_arguments(self, parser):
        parser.add_argument("--all", action="store_true", help="queue every upload, made before or not")

    def handle(self, *args, **options):
        queued = 0
        for model, queryset, label in KINDS:
            rows = [row for row in queryset.all().iterator() if options["all"] or image_variants_needed(row)]
            with transaction.atomic():
                for row in rows:
                    image_variants_make.enqueue(model=model, pk=row.pk)
            self.stdout.write(f"{label}: {len(rows)} queued")
            queued += len(rows)
        self.stdout.write(f"{queued} queued in all; the worker (`manage.py worker`) makes the copies")
