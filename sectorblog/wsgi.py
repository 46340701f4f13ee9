"""WSGI entry point for gunicorn: `gunicorn sectorblog.wsgi`."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sectorblog.settings")
application = get_wsgi_application()
