"""Keep the garbage collector's full passes short in a serving process.

CPython's cycle collector sometimes walks every tracked object: Django, the project's modules,
compiled templates, URL patterns, translation catalogues. Under load, `make bench` caught those
full passes in each gunicorn worker taking 60-95 ms every 10-20 s, during which the worker
answers nobody. Almost all of those objects live as long as the process, so walking them finds
nothing.

`gc.freeze()` moves every object alive at that moment out of the collector's generations: it
still frees them by reference counting, but no pass walks them again. The serving process does it
twice:
1. when the WSGI module loads, after importing the URL configuration (and with it every view)
   and loading the template engines (`settle()`);
2. once after its first `AFTER_REQUESTS` requests (`SettleAfter`), when the templates, catalogues
   and caches that first requests build have been made.
Afterwards full passes walk only what was made since: 0.3-3 ms in the same benchmark.

Only what is still reachable at the moment of a freeze is kept; the `gc.collect()` just before
frees the rest. A frozen object that later becomes part of unreachable cyclic garbage is not
reclaimed, which is why this runs at start-up and once soon after, never on a timer.
"""

from __future__ import annotations

import gc
import logging
import threading
import time

logger = logging.getLogger(__name__)

AFTER_REQUESTS = 1000


def warm_up() -> None:
    """Import what the first request would import anyway: the URLconf and its views, templates."""
    from django.template import engines
    from django.urls import get_resolver

    get_resolver().url_patterns  # noqa: B018 (imports every URLconf and view module)
    for backend in engines.all():
        engine = getattr(backend, "engine", None)  # Django's template engine behind the backend
        if engine is not None:
            engine.template_loaders  # noqa: B018 (builds the cached loader)


def settle(reason: str) -> None:
    started = time.perf_counter()
    gc.collect()
    gc.freeze()
    logger.info(
        "gc settled (%s): %d objects frozen in %.1f ms",
        reason,
        gc.get_freeze_count(),
        (time.perf_counter() - started) * 1000,
    )


class SettleAfter:
    """WSGI wrapper: freezes what survived the first `after` requests, once."""

    def __init__(self, app, after: int = AFTER_REQUESTS):
        self.app = app
        self.remaining = after
        self.lock = threading.Lock()

    def __call__(self, environ, start_response):
        if self.remaining > 0:
            with self.lock:
                self.remaining -= 1
                due = self.remaining == 0
            if due:
                settle(f"after the first {AFTER_REQUESTS} requests")
        return self.app(environ, start_response)
