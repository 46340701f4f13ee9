"""Peak memory of reading (and optionally dry-run importing) a large generated WXR file.

    DEBUG=1 python bench/wxr_memory.py --megabytes 50 [--import]

Writes a WordPress export of about the given size (posts with long bodies and comments) to a
temporary file, then reads it with wordpress.reader.read_wxr (or runs `import_wxr --dry-run` on it) and
prints one JSON line: file size, peak RSS before and after, and seconds taken. Peak RSS comes from
resource.getrusage, so run it in a fresh process (tests/test_wxr_memory.py does).
"""

from __future__ import annotations

import argparse
import io
import json
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sectorblog.settings")

HEADER = """<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:excerpt="http://wordpress.org/export/1.2/excerpt/"
 xmlns:content="http://purl.org/rss/1.0/modules/content/" xmlns:dc="http://purl.org/dc/elements/1.1/"
 xmlns:wp="http://wordpress.org/export/1.2/">
<channel><title>Big blog</title><link>https://big.example.org</link>
<wp:wxr_version>1.2</wp:wxr_version><wp:base_blog_url>https://big.example.org</wp:base_blog_url>
<wp:author><wp:author_id>1</wp:author_id><wp:author_login>writer</wp:author_login></wp:author>
<wp:category><wp:term_id>1</wp:term_id><wp:category_nicename>notes</wp:category_nicename><wp:cat_name>Notes</wp:cat_name></wp:category>
"""
PARAGRAPH = (
    "Water points need <strong>care</strong> after the drillers leave: a committee, a fee and "
    "a mechanic within a day's walk. Вода — ماء — 水 — 💧.\n"
)
COMMENT = """<wp:comment><wp:comment_id>{cid}</wp:comment_id>
<wp:comment_author>Reader {cid}</wp:comment_author>
<wp:comment_author_email>r{cid}@example.net</wp:comment_author_email>
<wp:comment_date_gmt>2020-01-02 10:00:00</wp:comment_date_gmt>
<wp:comment_content><![CDATA[Thanks for post {n}.]]></wp:comment_content>
<wp:comment_approved>1</wp:comment_approved>
<wp:comment_type></wp:comment_type><wp:comment_parent>{parent}</wp:comment_parent></wp:comment>
"""


def item(n: int, paragraphs: int) -> str:
    body = "\n".join(PARAGRAPH for _ in range(paragraphs))
    day = 1 + n % 28
    comments = COMMENT.format(cid=2 * n, n=n, parent=0) + COMMENT.format(cid=2 * n + 1, n=n, parent=2 * n)
    return f"""<item><title>Post {n}</title><link>https://big.example.org/2020/01/{day:02d}/post-{n}/</link>
<dc:creator>writer</dc:creator><content:encoded><![CDATA[{body}]]></content:encoded>
<excerpt:encoded><![CDATA[]]></excerpt:encoded><wp:post_id>{n}</wp:post_id>
<wp:post_date>2020-01-{day:02d} 10:00:00</wp:post_date>
<wp:post_date_gmt>2020-01-{day:02d} 10:00:00</wp:post_date_gmt>
<wp:comment_status>open</wp:comment_status><wp:ping_status>open</wp:ping_status><wp:post_name>post-{n}</wp:post_name>
<wp:status>publish</wp:status><wp:post_type>post</wp:post_type><wp:is_sticky>0</wp:is_sticky>
<category domain="category" nicename="notes"><![CDATA[Notes]]></category>
{comments}</item>
"""


def write_export(path: Path, megabytes: float, paragraphs: int = 25) -> int:
    target = int(megabytes * 1024 * 1024)
    n = 0
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(HEADER)
        while fh.tell() < target:
            n += 1
            fh.write(item(n, paragraphs))
        fh.write("</channel>\n</rss>\n")
    return n


def peak_rss_mb() -> float:
    # ru_maxrss is in kilobytes on Linux.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--megabytes", type=float, default=50)
    parser.add_argument("--import", dest="do_import", action="store_true", help="run import_wxr --dry-run")
    args = parser.parse_args()

    import django

    django.setup()
    from django.core.management import call_command

    from wordpress.reader import Item, read_wxr

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "big.xml"
        items = write_export(path, args.megabytes)
        size_mb = path.stat().st_size / 1024 / 1024
        before = peak_rss_mb()
        started = time.monotonic()
        if args.do_import:
            out = io.StringIO()
            call_command("import_wxr", str(path), "--dry-run", stdout=out)
            seen = items
        else:
            seen = sum(1 for record in read_wxr(path) if isinstance(record, Item))
        elapsed = time.monotonic() - started
        after = peak_rss_mb()
    print(
        json.dumps(
            {
                "mode": "import --dry-run" if args.do_import else "parse",
                "file_mb": round(size_mb, 1),
                "items": items,
                "items_read": seen,
                "peak_rss_before_mb": round(before, 1),
                "peak_rss_after_mb": round(after, 1),
                "peak_rss_growth_mb": round(after - before, 1),
                "seconds": round(elapsed, 1),
            }
        )
    )


if __name__ == "__main__":
    main()
