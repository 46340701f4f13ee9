"""An import is a move, not a publication: it notifies nobody (issue item 9).

The far side runs for real: two loopback peers, the old blog the export came from and another
blog its posts link to, record every request; the real task worker (`db_worker`) runs the queue.
"""

from __future__ import annotations

import io
from pathlib import Path
from urllib.parse import parse_qs

import pytest
from django.core import mail
from django.core.management import call_command
from django_tasks_db.models import DBTaskResult

from comments.models import LinkbackAttempt
from posts.models import Post
from tests.interop.loopback import LoopbackHTTP, Reply
from tests.interop.worker import run_worker

WXR = """<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:excerpt="http://wordpress.org/export/1.2/excerpt/"
  xmlns:content="http://purl.org/rss/1.0/modules/content/" xmlns:wfw="http://wellformedweb.org/CommentAPI/"
  xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:wp="http://wordpress.org/export/1.2/">
<channel>
  <title>Old water blog</title>
  <link>{old}</link>
  <wp:wxr_version>1.2</wp:wxr_version>
  <wp:base_site_url>{old}</wp:base_site_url>
  <wp:base_blog_url>{old}</wp:base_blog_url>
  <wp:author><wp:author_id>3</wp:author_id><wp:author_login>wanjiru</wp:author_login>
    <wp:author_email>wanjiru@example.org</wp:author_email></wp:author>
  <item>
    <title>Wells that last</title>
    <link>{old}/2023/05/02/wells-that-last/</link>
    <dc:creator>wanjiru</dc:creator>
    <content:encoded><![CDATA[As we said in <a href="{old}/2022/01/10/first-well/">our first post</a>,
the <a href="{far}/report/">district report</a> is worth reading.]]></content:encoded>
    <wp:post_id>11</wp:post_id>
    <wp:post_date_gmt>2023-05-02 08:00:00</wp:post_date_gmt>
    <wp:post_name>wells-that-last</wp:post_name>
    <wp:status>publish</wp:status>
    <wp:post_type>post</wp:post_type>
    <wp:comment_status>open</wp:comment_status>
    <wp:ping_status>open</wp:ping_status>
    <wp:comment>
      <wp:comment_id>40</wp:comment_id><wp:comment_author>Ama</wp:comment_author>
      <wp:comment_author_email>ama@example.net</wp:comment_author_email>
      <wp:comment_date_gmt>2023-05-03 09:00:00</wp:comment_date_gmt>
      <wp:comment_content>Thanks, useful.</wp:comment_content>
      <wp:comment_approved>1</wp:comment_approved><wp:comment_parent>0</wp:comment_parent>
    </wp:comment>
    <wp:comment>
      <wp:comment_id>41</wp:comment_id><wp:comment_author>Kofi</wp:comment_author>
      <wp:comment_author_email>kofi@example.net</wp:comment_author_email>
      <wp:comment_date_gmt>2023-05-04 09:00:00</wp:comment_date_gmt>
      <wp:comment_content>Agreed with Ama.</wp:comment_content>
      <wp:comment_approved>0</wp:comment_approved><wp:comment_parent>40</wp:comment_parent>
    </wp:comment>
  </item>
  <item>
    <title>First well</title>
    <link>{old}/2022/01/10/first-well/</link>
    <dc:creator>wanjiru</dc:creator>
    <content:encoded><![CDATA[See <a href="{far}/borehole/">the borehole notes</a>.]]></content:encoded>
    <wp:post_id>10</wp:post_id>
    <wp:post_date_gmt>2022-01-10 08:00:00</wp:post_date_gmt>
    <wp:post_name>first-well</wp:post_name>
    <wp:status>publish</wp:status>
    <wp:post_type>post</wp:post_type>
  </item>
</channel>
</rss>
"""

WEBMENTION_PAGE = b"<html><head><link rel='webmention' href='/endpoint'></head><body>a page</body></html>"


@pytest.fixture
def peers(settings):
    settings.SITE_DOMAIN = "testserver"
    with LoopbackHTTP() as old, LoopbackHTTP() as far:
        settings.LINKBACK_ALLOWED_HOSTS = [old.host, far.host]
        settings.WEBSUB_HUB_URL = far.url("/hub")
        for peer in (old, far):
            # Every page advertises Webmention and Pingback, as a WordPress blog does.
            peer.routes["/endpoint"] = Reply(202, b"accepted")
            peer.routes["/hub"] = Reply(204)
            for path in ("/2022/01/10/first-well/", "/report/", "/borehole/", "/new/"):
                peer.routes[path] = Reply(
                    body=WEBMENTION_PAGE, headers=[("X-Pingback", peer.url("/xmlrpc.php"))]
                )
        yield old, far


def _mentioned(peer) -> list[str]:
    return [parse_qs(r.body.decode())["target"][0] for r in peer.requests if r.path == "/endpoint"]


@pytest.mark.django_db(transaction=True)
def test_import_sends_nothing_and_a_later_edit_notifies_only_the_links_it_adds(peers, tmp_path):
    old, far = peers
    export = Path(tmp_path) / "old-blog.xml"
    export.write_text(WXR.format(old=f"http://{old.host}", far=f"http://{far.host}"))
    out = io.StringIO()
    call_command("import_wxr", str(export), stdout=out)
    summary = out.getvalue()

    # Nothing was queued: no linkback send, no WebSub ping, no email.
    assert list(DBTaskResult.objects.values_list("task_path", flat=True)) == []
    print("worker ran", run_worker())
    assert old.requests == [] and far.requests == []
    assert mail.outbox == []
    assert "Nothing was sent" in summary
    assert "3 links in 2 published posts recorded as already notified" in summary

    # The author sees why those links were not notified.
    post = Post.objects.get(slug="wells-that-last")
    known = LinkbackAttempt.objects.filter(post=post)
    assert {(a.target_url, a.outcome) for a in known} == {
        (old.url("/2022/01/10/first-well/"), "known"),
        (far.url("/report/"), "known"),
    }

    # An edit adds a link and drops one: only the added link is notified; the dropped one was
    # never notified, so there is nothing to withdraw.
    post.body = f"Read [the district report]({far.url('/report/')}) and [the new one]({far.url('/new/')})."
    post.save()
    print("worker ran", run_worker())
    assert old.requests == []
    assert _mentioned(far) == [far.url("/new/")]
    linked_pages = {r.path for r in far.requests} - {"/endpoint", "/hub"}
    assert linked_pages == {"/new/"}
    assert LinkbackAttempt.objects.get(post=post, target_url=far.url("/new/")).outcome == "success"
