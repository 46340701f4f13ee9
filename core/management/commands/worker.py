"""`manage.py worker`: the task worker (django-tasks-db's db_worker) plus a heartbeat and a
small periodic scheduler.

The heartbeat goes into the shared cache every few seconds so /healthz can report the worker.
Periodic tasks (settings.PERIODIC_TASKS: dotted task path -> interval in seconds) are enqueued by
whichever worker first takes a cache lock for that interval, so several workers don't multiply them.
"""

from __future__ import annotations

import logging
import threading
import time

from django.conf import settings
from django.core.cache import cache
from django.utils.module_loading import import_string
from django_tasks_db.management.commands.db_worker import Command as DbWorkerCommand

from core.health import WORKER_HEARTBEAT_KEY

logger = logging.getLogger(__name__)
HEARTBEAT_SECONDS = 10


def beat_once() -> None:
    cache.set(WORKER_HEARTBEAT_KEY, time.time(), 300)
    for path, interval in settings.PERIODIC_TASKS.items():
        slot = int(time.time() // interval)
        if cache.add(f"sectorblog:periodic:{path}:{slot}", 1, interval + 60):
            try:
                import_string(path).enqueue()
            except Exception:
                logger.exception("could not enqueue periodic task %s", path)


def _heartbeat_loop(stop: threading.Event) -> None:
    while not stop.is_set():
        try:
            beat_once()
        except Exception:
            logger.exception("worker heartbeat failed")
        stop.wait(HEARTBEAT_SECONDS)


class Command(DbWorkerCommand):
    help = "Run the background task worker, with a heartbeat and periodic tasks."

    def handle(self, *args, **options):
        stop = threading.Event()
        thread = threading.Thread(target=_heartbeat_loop, args=(stop,), daemon=True, name="heartbeat")
        thread.start()
        try:
            return super().handle(*args, **options)
        finally:
            stop.set()
