"""Run one real django-tasks-db worker pass over the queued tasks.

On PostgreSQL the worker is a separate `manage.py db_worker --batch` process on the test
database (the test must be transactional so the rows are committed). SQLite test databases are
in memory and invisible to another process, so there the same management command runs in-process.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]


def run_worker() -> str:
    """Process every due task once; returns how it ran ("subprocess" or "in-process")."""
    if connection.vendor != "postgresql":
        print(
            "db_worker runs in-process: the SQLite test database is in memory, not shared with a subprocess"
        )
        call_command("db_worker", batch=True, reload=False, startup_delay=False, verbosity=0)
        return "in-process"
    db = connection.settings_dict
    url = f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "DB_POOL": "0",
        "DEBUG": "1",
        "TESTING": "1",
        "SITE_DOMAIN": settings.SITE_DOMAIN,
        "LINKBACK_ALLOWED_HOSTS": ",".join(settings.LINKBACK_ALLOWED_HOSTS),
        "LINKBACK_HOLD_FIRST_FROM_SOURCE": "1" if settings.LINKBACK_HOLD_FIRST_FROM_SOURCE else "0",
        "LINKBACK_ALLOWED_PORTS": ",".join(str(p) for p in settings.LINKBACK_ALLOWED_PORTS),
        "WEBSUB_HUB_URL": settings.WEBSUB_HUB_URL,
        # The site's content version, as a real worker shares it with the web processes: what
        # the worker stores shows on the next page the test's server answers.
        "PAGE_CACHE_VERSION_FILE": settings.PAGE_CACHE_VERSION_FILE,
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "db_worker", "--batch", "--no-reload", "--no-startup-delay", "-v", "0"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return "subprocess"
