"""gunicorn's application under `make bench`: the site's, behind the X-Bench-Nocache hook."""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")

from bench.hooks import NoCacheWSGI  # noqa: E402
from sectorblog.wsgi import application as site  # noqa: E402

application = NoCacheWSGI(site)
