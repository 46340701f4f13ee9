"""Create (once) the demo admin account for `make run`, and print its login.

The password is random, generated on first run and kept in var/demo-admin.txt (never committed),
so the same login keeps working on later runs.
"""

import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

from core.origin import absolute_url
from posts.models import AuthorProfile

USERNAME = "admin"


class Command(BaseCommand):
    help = "Create the demo admin account if it does not exist, and print its login."

    def handle(self, *args, **options):
        User = get_user_model()
        password_file = settings.VAR_DIR / "demo-admin.txt"
        user = User.objects.filter(username=USERNAME).first()
        if user is None or not password_file.exists():
            password = secrets.token_urlsafe(12)
            if user is None:
                user = User.objects.create_superuser(USERNAME, "admin@example.org", password)
                AuthorProfile.objects.get_or_create(user=user, defaults={"display_name": "Site admin"})
            else:
                user.set_password(password)
                user.save(update_fields=["password"])
            password_file.write_text(password + "\n")
            password_file.chmod(0o600)
        password = password_file.read_text().strip()
        # The public origin (SITE_DOMAIN, or the HOST and PORT `make run` serves on).
        self.stdout.write(
            self.style.SUCCESS(
                f"Admin login: {absolute_url('/admin/')}  user {USERNAME}  password {password}\n"
                f"The site: {absolute_url('/')}"
            )
        )
