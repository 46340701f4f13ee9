"""The serving process: gunicorn's settings (gunicorn.conf.py) and the garbage-collector settling
in sectorblog/wsgi.py. Their effect on latency is measured by `make bench`, not here; these tests
check that an operator gets the documented settings, overrides and errors, and that the WSGI
application still answers once its objects are frozen."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
GUNICORN = Path(sys.executable).parent / "gunicorn"
OVERRIDES = ("WEB_CONCURRENCY", "GUNICORN_THREADS", "GUNICORN_MAX_REQUESTS", "GUNICORN_CMD_ARGS")


def print_config(**env: str) -> subprocess.CompletedProcess:
    """`gunicorn --print-config sectorblog.wsgi`, started from the project root as in production."""
    clean = {k: v for k, v in os.environ.items() if k not in OVERRIDES}
    return subprocess.run(
        [str(GUNICORN), "--print-config", "sectorblog.wsgi"],
        cwd=ROOT,
        env={**clean, "DEBUG": "1", **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def settings_of(result: subprocess.CompletedProcess) -> dict[str, str]:
    assert result.returncode == 0, result.stderr
    found = {}
    for line in result.stdout.splitlines():
        name, sep, value = line.partition("=")
        if sep:
            found[name.strip()] = value.strip()
    return found


def test_gunicorn_reads_the_projects_settings_by_default():
    conf = settings_of(print_config())
    assert conf["workers"] == str(len(os.sched_getaffinity(0)) + 1)
    assert conf["threads"] == "1"
    assert conf["worker_class"] == "sync"  # accepts only when free: connections spread evenly
    assert conf["timeout"] == "30"
    assert conf["max_requests"] == "200000"
    assert conf["max_requests_jitter"] == "20000"


def test_environment_overrides_workers_threads_and_recycling():
    conf = settings_of(print_config(WEB_CONCURRENCY="5", GUNICORN_THREADS="3", GUNICORN_MAX_REQUESTS="0"))
    assert (conf["workers"], conf["threads"], conf["worker_class"]) == ("5", "3", "gthread")
    assert (conf["max_requests"], conf["max_requests_jitter"]) == ("0", "0")


@pytest.mark.parametrize(
    ("name", "value"),
    [("WEB_CONCURRENCY", "lots"), ("GUNICORN_THREADS", "-2"), ("GUNICORN_MAX_REQUESTS", "1e5")],
)
def test_a_bad_setting_stops_gunicorn_with_a_message_naming_it(name, value):
    result = print_config(**{name: value})
    assert result.returncode != 0
    assert name in result.stderr and repr(value) in result.stderr


def test_the_wsgi_application_freezes_long_lived_objects_and_keeps_answering(tmp_path):
    """Importing sectorblog.wsgi settles the collector once; the first 1,000 requests later it
    settles again, once; every request is answered throughout."""
    script = textwrap.dedent(
        """
        import gc, io, json, logging, sys
        log = io.StringIO()
        import sectorblog.wsgi as wsgi
        handler = logging.StreamHandler(log)
        gcsettle_log = logging.getLogger("sectorblog.gcsettle")
        gcsettle_log.addHandler(handler)
        gcsettle_log.setLevel(logging.INFO)
        frozen_at_start = gc.get_freeze_count()
        statuses = set()
        def start_response(status, headers, exc_info=None):
            statuses.add(status)
        settled_at = []
        for n in range(1, 1201):
            environ = {
                "REQUEST_METHOD": "GET", "PATH_INFO": "/healthz", "SERVER_NAME": "127.0.0.1",
                "SERVER_PORT": "80", "HTTP_HOST": "127.0.0.1", "wsgi.url_scheme": "http",
                "wsgi.input": io.BytesIO(), "wsgi.errors": sys.stderr,
            }
            b"".join(wsgi.application(environ, start_response))
            settled_at += [n] * (log.getvalue().count("gc settled") - len(settled_at))
        print(json.dumps({"frozen": frozen_at_start, "statuses": sorted(statuses),
                          "settled_at": settled_at, "log": log.getvalue()}))
        """
    )
    env = {
        **os.environ,
        "DEBUG": "1",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "VAR_DIR": str(tmp_path),
        "ALLOWED_HOSTS": "127.0.0.1",
    }
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    found = json.loads(result.stdout.strip().splitlines()[-1])
    assert found["frozen"] > 20_000  # Django, the project's modules, URL patterns, templates
    assert found["statuses"] == ["200 OK"]
    assert found["settled_at"] == [1000]  # once, on the 1,000th request, never again
    assert "after the first 1000 requests" in found["log"]


@pytest.mark.parametrize(("value", "expected"), [(None, 1000), ("50", 50)])
def test_the_local_memory_cache_holds_the_configured_number_of_entries(tmp_path, value, expected):
    """Without Redis each process keeps pages and fragments in local memory; Django's default of
    300 entries would cull a site's pages after a few hundred. LOCAL_CACHE_MAX_ENTRIES sets it."""
    script = textwrap.dedent(
        """
        import django
        django.setup()
        from django.core.cache import cache
        for n in range(1500):
            cache.set(f"k{n}", n)
        print(cache._max_entries, len(cache._cache))
        """
    )
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "LOCAL_CACHE_MAX_ENTRIES")}
    env.update(DEBUG="1", VAR_DIR=str(tmp_path), DJANGO_SETTINGS_MODULE="sectorblog.settings")
    if value is not None:
        env["LOCAL_CACHE_MAX_ENTRIES"] = value
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    max_entries, held = map(int, result.stdout.split()[-2:])
    assert max_entries == expected
    assert expected * 2 // 3 - 1 <= held <= expected  # full, or just culled by a third
