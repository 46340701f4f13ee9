"""Profile the site chrome alone, every cache off: `bench/profile_chrome.py [--lang es]`.

Renders `posts/base_posts.html` with an empty content block (header, main nav, sidebar widgets,
footer: what every public page draws around its content) on the benchmark database, as
bench/profile_page.py does a whole page, and prints the median, the SQL with times and the
functions with the most cumulative time (PROFILE_SORT=tottime for own time).
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.profile_page import setup_django  # noqa: E402

CHROME = '{% extends "posts/base_posts.html" %}{% block content %}{% endblock %}'


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=50)
    parser.add_argument("--top", type=int, default=30)
    parser.add_argument("--lang", default="en")
    args = parser.parse_args()
    setup_django()
    from django.contrib.auth.models import AnonymousUser
    from django.db import connection
    from django.template import engines
    from django.test import RequestFactory
    from django.test.utils import CaptureQueriesContext
    from django.urls import resolve
    from django.utils import translation

    from core.cache.policy import BYPASS

    template = engines["django"].from_string(CHROME)

    def render() -> str:
        request = RequestFactory().get("/", **{BYPASS: "all"})
        request.user = AnonymousUser()
        request.resolver_match = resolve("/")
        return template.render({}, request)

    translation.activate(args.lang)
    render()
    timings, cpu = [], []
    for _ in range(args.repeat):
        started, started_cpu = time.perf_counter(), time.process_time()
        render()
        timings.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - started_cpu) * 1000)
    timings.sort()
    cpu.sort()
    # CPU time is this process's own work (Python, the driver): steadier than wall time on a
    # shared machine, and blind to the database's side (see the SQL times below).
    print(
        f"chrome, {args.repeat} renders: median {statistics.median(timings):.2f} ms,"
        f" best {timings[0]:.2f} ms; this process's CPU median {statistics.median(cpu):.2f} ms,"
        f" best {cpu[0]:.2f} ms"
    )
    with CaptureQueriesContext(connection) as queries:
        render()
    print(f"{len(queries)} queries")
    for q in queries:
        print(f"  {float(q['time']) * 1000:7.1f} ms  {q['sql'][:160]}")
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(args.repeat):
        render()
    profiler.disable()
    pstats.Stats(profiler).sort_stats(os.environ.get("PROFILE_SORT", "cumulative")).print_stats(args.top)


if __name__ == "__main__":
    main()
