"""Give an actor a new key pair and tell its followers' servers (Update of the actor).

    manage.py federation_rotate_key blog
    manage.py federation_rotate_key <author username>

Servers that cached the old key fail to verify our next request, fetch the actor again and find
the new key; the Update also tells them at once.
"""

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from federation.actors import actor_by_username
from federation.delivery import actor_update_send
from federation.keys import key_rotate


class Command(BaseCommand):
    help = "Replace an actor's key pair (blog or an author's username) and announce it."

    def add_arguments(self, parser):
        parser.add_argument("actor", help='"blog" or the username of an author')

    def handle(self, *args, actor, **options):
        local = actor_by_username(actor)
        if local is None:
            raise CommandError(f"No actor named {actor!r} (authors need a published post).")
        with transaction.atomic():
            key_rotate(owner=local.owner)
            queued = actor_update_send(actor=local)
        self.stdout.write(f"New key for {local.handle}; Update queued for {queued} inboxes.")
