"""WSGI entry point for gunicorn: `gunicorn sectorblog.wsgi`.

Django's application is wrapped by sectorblog.fastpath, which answers anonymous page-cache hits
without running the middleware (FAST_PATH=0 turns it off).
"""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sectorblog.settings")
application = get_wsgi_application()

from sectorblog.fastpath import FastPath  # noqa: E402 (needs the settings loaded above)

application = FastPath(application)
