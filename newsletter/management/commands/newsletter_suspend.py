"""`manage.py newsletter_suspend ADDRESS…`: suspend addresses that complained (a mailbox
provider's feedback-loop report, or a reader's email), as the admin's Suspend action does."""

from django.core.management.base import BaseCommand

from newsletter.services import subscriber_complaint


class Command(BaseCommand):
    help = "Suspend newsletter subscriptions of the given addresses (a spam complaint)."

    def add_arguments(self, parser):
        parser.add_argument("addresses", nargs="+")

    def handle(self, *args, addresses, **options):
        count = sum(subscriber_complaint(email=address) for address in addresses)
        self.stdout.write(f"suspended {count} subscription(s)")
