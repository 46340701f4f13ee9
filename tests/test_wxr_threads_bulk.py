"""import_wxr writes a first import's comment threads in bulk (comments/bulk.py): the threads must
come out exactly as saving the comments one by one would have left them, and the number of
statements must not grow with the number of comments."""

from __future__ import annotations

import io
import random

from bs4 import BeautifulSoup
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import connection

from comments.models import Comment
from posts.models import ImportRecord, Post, Redirect
from tests.factories import PostFactory, make_comment

HEADER = """<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/"
 xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:wp="http://wordpress.org/export/1.2/">
<channel><title>Threads</title><link>https://threads.example.org</link>
<wp:wxr_version>1.2</wp:wxr_version><wp:base_blog_url>https://threads.example.org</wp:base_blog_url>
<wp:author><wp:author_id>1</wp:author_id><wp:author_login>ines</wp:author_login></wp:author>
"""
COMMENT = """<wp:comment><wp:comment_id>{cid}</wp:comment_id>
<wp:comment_author>Reader {cid}</wp:comment_author>
<wp:comment_author_email>r{cid}@example.net</wp:comment_author_email>
<wp:comment_author_url>{url}</wp:comment_author_url>
<wp:comment_date_gmt>2024-05-01 {hour:02d}:{minute:02d}:00</wp:comment_date_gmt>
<wp:comment_content><![CDATA[Reply *{cid}*]]></wp:comment_content>
<wp:comment_approved>{approved}</wp:comment_approved><wp:comment_type>{type}</wp:comment_type><wp:comment_parent>{parent}</wp:comment_parent></wp:comment>
"""


def thread(count: int, seed: int = 7) -> list[dict]:
    """`count` comments in one post: a few top-level ones, replies at every depth (some past
    COMMENTS_MAX_THREAD_LEVEL), some held or spam, and two pingbacks from one source (the
    second is a repeat). Listed out of order, as WordPress lists them (by ID)."""
    rng = random.Random(seed)
    comments = []
    for cid in range(1, count + 1):
        parent = 0 if cid == 1 or rng.random() < 0.2 else rng.randint(max(1, cid - 6), cid - 1)
        comments.append(
            {
                "cid": cid,
                "parent": parent,
                "minute": rng.randint(0, 59),
                "hour": 10 + cid % 10,
                "approved": rng.choice(["1", "1", "1", "0", "spam"]),
                "type": "",
                "url": "",
            }
        )
    for cid in (count + 1, count + 2):
        comments.append(
            {"cid": cid, "parent": 0, "minute": cid % 60, "hour": 9, "approved": "1"}
            | {"type": "pingback", "url": "https://elsewhere.example.net/a-post/"}
        )
    rng.shuffle(comments)
    return comments


def export(path, comments: list[dict]) -> None:
    body = "".join(COMMENT.format(**c) for c in comments)
    path.write_text(
        HEADER
        + f"""<item><title>A long discussion</title><link>https://threads.example.org/2024/05/01/talk/</link>
<dc:creator>ines</dc:creator><content:encoded><![CDATA[Talk to us.]]></content:encoded>
<wp:post_id>5</wp:post_id><wp:post_date_gmt>2024-05-01 08:00:00</wp:post_date_gmt>
<wp:post_name>talk</wp:post_name>
<wp:status>publish</wp:status><wp:post_type>post</wp:post_type><wp:comment_status>open</wp:comment_status>
{body}</item></channel></rss>""",
        encoding="utf-8",
    )


def run_import(path) -> str:
    out = io.StringIO()
    call_command("import_wxr", str(path), stdout=out)
    return out.getvalue()


def shape(post) -> list[tuple]:
    """The thread as the page draws it: in thread order, each comment's text, depth, where its
    thread starts and what it answers (by text), how many replies hang below it, its state."""
    rows = list(Comment.objects.filter(post=post).order_by("thread_id", "order"))
    text = {c.pk: c.comment for c in rows}
    return [
        (
            c.comment,
            c.kind,
            c.level,
            text[c.thread_id],
            text[c.parent_id],
            c.nested_count,
            c.is_public,
            c.is_spam,
        )
        for c in rows
    ]


def test_bulk_threads_equal_one_save_per_comment(db, tmp_path, client):
    comments = thread(120)
    export(tmp_path / "talk.xml", comments)
    out = run_import(tmp_path / "talk.xml")
    assert "pingback 122 from 'https://elsewhere.example.net/a-post/' repeats an earlier one" in out
    imported = Post.objects.get(slug="talk")

    # The same comments saved one at a time, in the order the importer walks them, on another post.
    by_id = {c["cid"]: c for c in comments}
    reference = PostFactory(slug="reference")
    saved: dict[int, Comment] = {}
    for record in Comment.objects.filter(post=imported).order_by("thread_id", "order"):
        wp_id = int(ImportRecord.objects.get(kind="comment", object_id=str(record.pk)).wp_id)
        parent = by_id[wp_id]["parent"]
        saved[wp_id] = make_comment(
            reference,
            parent=saved.get(parent),
            kind=record.kind,
            comment=record.comment,
            source_url=record.source_url,
            excerpt=record.excerpt,
            is_public=record.is_public,
            is_spam=record.is_spam,
            submit_date=record.submit_date,
        )
    assert shape(imported) == shape(reference)
    assert len(shape(imported)) == 121
    assert Comment.objects.filter(post=imported).exclude(body_html="").count() == 121

    # And the page draws the two threads alike.
    def drawn(post):
        page = BeautifulSoup(client.get(post.get_absolute_url()).content, "html.parser")
        return [
            (li.find(class_="comment-body").get_text(" ", strip=True), len(li.find_parents("li")))
            for li in page.select("li[id^=c]")
        ]

    assert drawn(imported) and drawn(imported) == drawn(reference)


def test_statements_do_not_grow_with_the_number_of_comments(db, tmp_path):
    counts = []

    def count(statements):
        def wrapper(execute, sql, *args):
            statements.append(sql)
            return execute(sql, *args)

        return wrapper

    for size in (10, 10, 300):  # the first run warms Django's caches (content types, the site)
        path = tmp_path / f"talk{size}.xml"
        export(path, thread(size, seed=size))
        statements = []
        # Counted as they run: the importer empties Django's debug query log as it goes.
        with connection.execute_wrapper(count(statements)):
            run_import(path)
        counts.append(len(statements))
        Post.objects.all().delete()
        ImportRecord.objects.all().delete()
        Redirect.objects.all().delete()
        get_user_model().objects.all().delete()
    assert counts[1] == counts[2], counts


def test_a_second_run_adds_a_new_reply_under_its_imported_parent(db, tmp_path):
    comments = thread(30)
    export(tmp_path / "talk.xml", comments)
    run_import(tmp_path / "talk.xml")
    first = next(c for c in comments if c["type"] == "" and c["parent"] == 0)
    late = {
        "cid": 500,
        "parent": first["cid"],
        "minute": 59,
        "hour": 23,
        "approved": "1",
        "type": "",
        "url": "",
    }
    export(tmp_path / "talk.xml", [*comments, late])
    run_import(tmp_path / "talk.xml")
    post = Post.objects.get(slug="talk")
    reply = Comment.objects.get(post=post, user_name="Reader 500")
    parent = Comment.objects.get(post=post, user_name=f"Reader {first['cid']}")
    assert reply.parent_id == parent.pk and reply.level == parent.level + 1
    # Placed after the parent's other replies, before the next branch: thread order stays whole.
    rows = list(Comment.objects.filter(thread_id=parent.thread_id).order_by("order"))
    assert [c.order for c in rows] == list(range(1, len(rows) + 1))
    below = rows[rows.index(parent) + 1 : rows.index(reply)]
    assert all(c.level > parent.level for c in below)
