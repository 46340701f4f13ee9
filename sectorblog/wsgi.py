"""WSGI entry point for gunicorn: `gunicorn sectorblog.wsgi` (settings in gunicorn.conf.py).

Django's application is wrapped by core.cache.fastpath, which answers anonymous page-cache hits
without running the middleware (FAST_PATH=0 turns it off), and by sectorblog.gcsettle, which
takes the process's long-lived objects out of the garbage collector's full passes.
"""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sectorblog.settings")
application = get_wsgi_application()

from core.cache.fastpath import FastPath  # noqa: E402
from sectorblog import gcsettle  # noqa: E402 (needs the settings loaded above)

application = gcsettle.SettleAfter(FastPath(application))
gcsettle.warm_up()
gcsettle.settle("start-up")
