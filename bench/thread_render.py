"""The comment thread rendered two ways, uncached, on the benchmark's 155-comment post:
comments/render.py (Python, what pages use) against templates/comments/thread/ (Django templates).

    .venv/bin/python bench/thread_render.py [--repeat 30] [--path /2026/11/23/a-long-discussion/]
    .venv/bin/python bench/thread_render.py --profile [--repeat 40] [--top 25]

Uses the database `make bench` seeds (DATABASE_URL or the bench default) with the settings it
gives gunicorn. Times only the rendering of one page of the thread and its mentions list (the
tree is fetched once), and prints the median and best of `--repeat` runs for each renderer.

With `--profile`, only the Python renderer runs, under cProfile, as a page render uses it (a fresh
ThreadWriter each time, the thread then the mentions): it prints the function calls per render,
which the busy machine's noise doesn't touch, then the entries with the most internal time.
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

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.profile_page import setup_django  # noqa: E402 (after the path is set)


def timed(fn, repeat: int) -> list[float]:
    runs = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        runs.append((time.perf_counter() - started) * 1000)
    return runs


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--path", default="", help="the post's path (default: the post with most comments)")
    parser.add_argument("--profile", action="store_true", help="cProfile the Python renderer")
    parser.add_argument("--top", type=int, default=25)
    args = parser.parse_args()
    setup_django()
    from django.db.models import Count
    from django.template.loader import render_to_string
    from django.test import RequestFactory
    from django.urls import resolve

    from comments import render
    from comments.thread import thread_page
    from posts.models import Post

    if args.path:
        post = Post.objects.get(slug=resolve(args.path).kwargs["slug"])
    else:
        post = Post.objects.annotate(n=Count("discussion")).order_by("-n").first()
    page = thread_page(post.pk, 1)
    request = RequestFactory().get(post.get_absolute_url())
    context = {"tree": page.tree, "mentions": page.mentions, "comments_open": True, "can_moderate": False}

    def python() -> str:
        writer = render.ThreadWriter(comments_open=True, can_moderate=False, request=request)
        return writer.thread(page.tree) + writer.mentions(page.mentions)

    def templates() -> str:
        return render_to_string("comments/thread/thread.html", context, request) + render_to_string(
            "comments/thread/mentions.html", context, request
        )

    python(), templates()  # warm the template loader and the translation catalogues
    if args.profile:
        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(args.repeat):
            python()
        profiler.disable()
        stats = pstats.Stats(profiler)
        print(
            f"{post.get_absolute_url()}: {args.repeat} renders, "
            f"{stats.total_calls / args.repeat:.0f} function calls and "
            f"{stats.total_tt / args.repeat * 1000:.2f} ms profiled per render"
        )
        fetching = cProfile.Profile()
        fetching.enable()
        for _ in range(args.repeat):
            thread_page(post.pk, 1)
        fetching.disable()
        fetched = pstats.Stats(fetching)
        print(
            f"  and thread_page() (its query, the tree, the avatars): "
            f"{fetched.total_calls / args.repeat:.0f} function calls and "
            f"{fetched.total_tt / args.repeat * 1000:.2f} ms profiled per call"
        )
        stats.sort_stats(os.environ.get("PROFILE_SORT", "tottime")).print_stats(args.top)
        return
    print(
        f"{post.get_absolute_url()}: {page.counts['comments']} comments, {page.counts['mentions']} mentions"
    )
    for name, fn in (("python (comments/render.py)", python), ("templates (comments/thread/)", templates)):
        runs = timed(fn, args.repeat)
        print(f"  {name:30} median {statistics.median(runs):7.2f} ms   best {min(runs):7.2f} ms")


if __name__ == "__main__":
    main()
