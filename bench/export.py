"""Export and import at scale: wall time and peak RSS of export_wxr, import_wxr, export_site and
import_site on a 1,000-post site with 10,000 and then 50,000 comments (and their CPU time).

    python bench/export.py                                  # SQLite scratch databases under var/bench/
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/x python bench/export.py   # PostgreSQL scratch databases
    python bench/export.py --comments 10000,50000 --posts 1000 --skip wxr-import

Each size gets a new database: migrated, then seeded in bulk (posts with Markdown bodies, two
categories and tags each, threaded comments 3 deep spread over the posts, a pingback per post).
Each command then runs in a process of its own, and its peak RSS is that process's own
(`os.wait4`), so the figures are comparable between sizes: memory that stays flat from 10k to 50k
comments is what streaming promises. Imports go into a new, migrated database each. Prints a table
and writes it as JSON to var/bench/export-<UTC time>.json.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import secrets
import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable


def run(env: dict, *args: str) -> dict:
    """Run `manage.py args` in its own process: wall seconds and that process's peak RSS (MB)."""
    start = time.monotonic()
    proc = subprocess.Popen(
        [PY, "manage.py", *args], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    out_chunks = []
    # Read output while it runs (a full pipe would block the child), then reap it with wait4.
    for line in proc.stdout:
        out_chunks.append(line)
    err = proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    seconds = time.monotonic() - start
    if proc.returncode != 0:
        raise SystemExit(
            f"manage.py {' '.join(args)} failed:\n{b''.join(out_chunks).decode()}\n{err.decode()}"
        )
    return {
        "seconds": round(seconds, 1),
        # CPU time (user + system) of the process: comparable between runs on a shared machine,
        # where the wall time depends on what else runs.
        "cpu_seconds": round(usage.ru_utime + usage.ru_stime, 1),
        "peak_rss_mb": round(usage.ru_maxrss / 1024, 1),
    }


class Database:
    """A scratch database: a SQLite file in its own VAR_DIR, or a new PostgreSQL database."""

    def __init__(self, base_env: dict, workdir: Path, name: str):
        self.env = dict(base_env)
        self.var = workdir / name
        self.var.mkdir(parents=True, exist_ok=True)
        self.env["VAR_DIR"] = str(self.var)
        self.pg = ""
        url = base_env.get("DATABASE_URL", "")
        if url.startswith(("postgres://", "postgresql://")):
            parts = urlsplit(url)
            self.pg = f"sb_bench_export_{name}_{uuid.uuid4().hex[:6]}"
            self.admin = parts._replace(path="/postgres").geturl()
            self.env["DATABASE_URL"] = parts._replace(path="/" + self.pg).geturl()
            self._sql(f'CREATE DATABASE "{self.pg}"')
        else:
            self.env.pop("DATABASE_URL", None)

    def _sql(self, statement: str) -> None:
        import psycopg

        with psycopg.connect(self.admin, autocommit=True) as conn:
            conn.execute(statement)

    def migrate(self) -> None:
        subprocess.run([PY, "manage.py", "migrate", "--noinput", "-v0"], cwd=ROOT, env=self.env, check=True)

    def drop(self) -> None:
        if self.pg:
            self._sql(f'DROP DATABASE IF EXISTS "{self.pg}" WITH (FORCE)')


def seed(posts: int, comments: int) -> None:
    """Bulk rows, written table by table (comments are three tables: django_comments' row, xtd's
    and ours), so seeding 50,000 comments takes seconds, not the minutes one save() each would."""
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sectorblog.settings")
    sys.path.insert(0, str(ROOT))
    django.setup()
    from django.contrib.contenttypes.models import ContentType
    from django.contrib.sites.models import Site
    from django.db import transaction
    from django.utils import timezone
    from django_comments.models import Comment as BaseComment
    from django_comments_xtd.models import XtdComment

    from comments.models import Comment
    from core.markup import excerpt_text, render_markdown
    from posts.models import EXCERPT_WORDS, AuthorProfile, Category, Post, PostAuthor, Tag

    body = (
        "Note {n} from the field. We visited a small town and talked with the utility.\n\n## What we saw\n\n"
        "- Water runs four days a week.\n- Tariffs cover about half the running costs.\n\n"
        "Ask who pays for repairs before asking who built the system. " * 3
    )
    now = timezone.now().replace(microsecond=0)
    with transaction.atomic():
        from django.contrib.auth import get_user_model

        users = [
            get_user_model().objects.create(username=f"writer{i}", email=f"w{i}@example.org")
            for i in range(5)
        ]
        for user in users:
            AuthorProfile.objects.create(user=user, display_name=user.username.title())
        cats = [Category.objects.create(name=f"Topic {i}", slug=f"topic-{i}") for i in range(10)]
        tags = [Tag.objects.create(name=f"tag {i}", slug=f"tag-{i}") for i in range(30)]
        html = render_markdown(body.format(n=0), "post")
        rows = [
            Post(
                title=f"Field note {n}",
                slug=f"field-note-{n}",
                body=body.format(n=n),
                body_html=html,
                body_excerpt=excerpt_text(html, EXCERPT_WORDS),
                status=Post.Status.PUBLISHED,
                published_at=now - dt.timedelta(hours=n * 7),
                word_count=60,
                search_text=f"Field note {n}",
            )
            for n in range(posts)
        ]
        created = Post.objects.bulk_create(rows, batch_size=500)
        PostAuthor.objects.bulk_create(
            [PostAuthor(post=p, user=users[i % 5], position=0) for i, p in enumerate(created)],
            batch_size=1000,
        )
        Post.categories.through.objects.bulk_create(
            [
                Post.categories.through(post_id=p.pk, category_id=cats[i % 10].pk)
                for i, p in enumerate(created)
            ]
        )
        Post.tags.through.objects.bulk_create(
            [
                Post.tags.through(post_id=p.pk, tag_id=tags[(i + k) % 30].pk)
                for i, p in enumerate(created)
                for k in (0, 7)
            ]
        )
        ct = ContentType.objects.get_for_model(Post)
        site = Site.objects.get_current()
        per_post = max(1, comments // max(1, posts))
        objs = []
        pk = 0
        for index, post in enumerate(created):
            want = per_post + (1 if index < comments - per_post * posts else 0)
            thread_root = parent = None
            level = 0
            for k in range(want):
                pk += 1
                if k % 4 == 0 or level >= 3:
                    thread_root, parent, level = pk, pk, 0
                else:
                    parent, level = pk - 1, level + 1
                text = f"Comment {pk}. *Markdown* works, and so do [links](https://example.net/{pk})."
                objs.append(
                    Comment(
                        id=pk,
                        comment_ptr_id=pk,
                        xtdcomment_ptr_id=pk,
                        content_type_id=ct.pk,
                        object_pk=str(post.pk),
                        site_id=site.pk,
                        post_id=post.pk,
                        user_name=f"Reader {pk}",
                        user_email=f"reader{pk}@example.net",
                        user_url="",
                        comment=text,
                        body_html=f"<p>Comment {pk}. <em>Markdown</em> works.</p>",
                        submit_date=post.published_at + dt.timedelta(minutes=k + 1),
                        ip_address="192.0.2.1",
                        is_public=True,
                        is_removed=False,
                        thread_id=thread_root,
                        parent_id=parent,
                        level=level,
                        order=k + 1,
                        followup=False,
                        nested_count=0,
                        kind="comment",
                        duplicate_key=f"bench-{pk}",
                    )
                )
            if len(objs) >= 2000 or index == len(created) - 1:
                for model in (BaseComment, XtdComment, Comment):
                    fields = list(model._meta.local_concrete_fields)
                    for start in range(0, len(objs), 500):
                        model._base_manager._insert(objs[start : start + 500], fields=fields, raw=True)
                objs = []
        from django.core.management.color import no_style
        from django.db import connection

        with connection.cursor() as cursor:
            for sql in connection.ops.sequence_reset_sql(no_style(), [BaseComment, Post]):
                cursor.execute(sql)
    print(f"seeded {posts} posts, {pk} comments")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--posts", type=int, default=1000)
    parser.add_argument("--comments", default="10000,50000", help="comma-separated sizes")
    parser.add_argument("--skip", default="", help="comma-separated steps to skip: wxr-import, site-import")
    parser.add_argument(
        "--seed-only", nargs=2, type=int, metavar=("POSTS", "COMMENTS"), help=argparse.SUPPRESS
    )
    args = parser.parse_args()
    if args.seed_only:
        seed(*args.seed_only)
        return 0
    skip = set(filter(None, args.skip.split(",")))
    base_env = {k: v for k, v in os.environ.items() if k not in ("DEBUG", "VAR_DIR")}
    # Production mode: with DEBUG on, Django keeps the SQL of recent queries, which is not the product.
    base_env.update(
        DEBUG="0",
        SECRET_KEY="bench-export-" + secrets.token_hex(24),
        ALLOWED_HOSTS="127.0.0.1",
        PYTHONUNBUFFERED="1",
        LOG_LEVEL="WARNING",
    )
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    workdir = ROOT / "var" / "bench" / f"export-{stamp}"
    results = []
    kind = "PostgreSQL" if base_env.get("DATABASE_URL", "").startswith("postgres") else "SQLite"
    for size in (int(s) for s in args.comments.split(",")):
        source = Database(base_env, workdir, f"src{size}")
        try:
            source.migrate()
            subprocess.run(
                [PY, str(Path(__file__).resolve()), "--seed-only", str(args.posts), str(size)],
                cwd=ROOT,
                env=source.env,
                check=True,
            )
            row = {"database": kind, "posts": args.posts, "comments": size}
            xml = source.var / "site.xml"
            archive = source.var / "site.tar.gz"
            row["export_wxr"] = run(source.env, "export_wxr", "--output", str(xml))
            row["export_wxr"]["megabytes"] = round(xml.stat().st_size / 1e6, 1)
            row["export_site"] = run(source.env, "export_site", str(archive))
            row["export_site"]["megabytes"] = round(archive.stat().st_size / 1e6, 1)
            for step, path, key in (
                ("import_site", archive, "site-import"),
                ("import_wxr", xml, "wxr-import"),
            ):
                if key in skip:
                    continue
                target = Database(base_env, workdir, f"{step}{size}")
                try:
                    target.migrate()
                    row[step] = run(target.env, step, str(path))
                finally:
                    target.drop()
        finally:
            source.drop()
        results.append(row)
        print(json.dumps(row), flush=True)
    steps = ["export_wxr", "export_site", "import_site", "import_wxr"]
    print(f"\n{kind}, {args.posts} posts")
    print(f"{'comments':>9}  " + "  ".join(f"{s:>31}" for s in steps))
    for row in results:
        cells = [
            f"{c['seconds']:>7.1f} s ({c['cpu_seconds']:>6.1f} cpu) {c['peak_rss_mb']:>6.1f} MB"
            if (c := row.get(s))
            else f"{'skipped':>31}"
            for s in steps
        ]
        print(f"{row['comments']:>9}  " + "  ".join(cells))
    out = ROOT / "var" / "bench" / f"export-{stamp}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=1))
    print(f"\nwritten to {out.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
