"""import_wxr(export_wxr(site)) into an empty database gives the same site: posts, pages, slugs,
dates, authors, taxonomy, comment threads, types and approval states, redirects, rendered HTML
and Markdown source. Runs on SQLite and on PostgreSQL (DATABASE_URL)."""

from __future__ import annotations

import io

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.utils.html import escape
from django_comments_xtd.models import XtdComment

from comments.models import Comment
from posts.models import AuthorProfile, Category, ImportRecord, Post, Redirect, Tag
from tests.richsite import build_rich_site

pytestmark = pytest.mark.django_db


def _second(when):
    return when.replace(microsecond=0) if when else None


def snapshot() -> dict:
    """The site by natural keys, at WXR's precision (dates to the second)."""
    posts = {}
    for post in Post.objects.prefetch_related("categories", "tags", "authorships__user"):
        key = (post.slug, post.is_page)
        posts[key] = {
            "title": post.title,
            "body": post.body,
            "body_html": post.body_html,
            "excerpt": post.excerpt,
            "status": post.status,
            "published_at": _second(post.published_at),
            "language": post.language,
            "translation_group": post.translation_group,
            "allow_comments": post.allow_comments,
            "allow_pings": post.allow_pings,
            "featured": post.featured,
            "authors": [a.user.username for a in post.authorships.all()],
            "categories": sorted(c.slug for c in post.categories.all()),
            "tags": sorted(t.slug for t in post.tags.all()),
            "url": post.get_absolute_url(),
        }
    comments = {}
    by_pk = {c.pk: c for c in Comment.objects.select_related("post")}

    def ckey(c):
        return (c.post.slug, c.kind, c.user_name, _second(c.submit_date))

    for c in by_pk.values():
        parent = by_pk.get(c.parent_id) if c.parent_id != c.pk else None
        comments[ckey(c)] = {
            "parent": ckey(parent) if parent else None,
            "level": c.level,
            "email": c.user_email,
            "url": c.user_url,
            "ip": c.ip_address,
            "text": c.comment,
            "html": c.body_html,
            "public": c.is_public,
            "spam": c.is_spam,
            "removed": c.is_removed,
            "source": c.source_url,
            "source_title": c.source_title,
            "excerpt": c.excerpt,
            "handle": c.author_handle,
            "user": c.user.username if c.user_id else None,
        }
    return {
        "posts": posts,
        "comments": comments,
        "categories": {
            c.slug: (c.name, c.description, c.parent.slug if c.parent else None)
            for c in Category.objects.select_related("parent")
        },
        "tags": {t.slug: (t.name, t.description) for t in Tag.objects.filter(posts__isnull=False).distinct()},
        "redirects": {r.old_path: r.post.slug for r in Redirect.objects.filter(post__isnull=False)},
        "authors": {
            u.username: (u.email, u.first_name, u.last_name)
            for u in get_user_model().objects.filter(authorships__isnull=False).distinct()
        },
    }


def wipe() -> None:
    XtdComment.objects.all().delete()
    Post.objects.all().delete()
    Category.objects.all().delete()
    Tag.objects.all().delete()
    Redirect.objects.all().delete()
    ImportRecord.objects.all().delete()
    AuthorProfile.objects.all().delete()
    get_user_model().objects.all().delete()


def test_round_trip(tmp_path, client):
    site = build_rich_site()
    # Characters XML 1.0 forbids cannot travel (tests/test_export_wxr.py shows they are counted).
    site["second"].body = "Control characters dropped.\n"
    site["second"].save()
    before = snapshot()
    statuses = {key: client.get(post["url"]).status_code for key, post in before["posts"].items()}
    assert sorted(statuses.values()).count(200) == 4  # published posts and the page; the rest 404
    path = tmp_path / "site.xml"
    call_command("export_wxr", "--output", str(path), stdout=io.StringIO())
    wipe()
    assert Post.objects.count() == Comment.objects.count() == 0
    call_command("import_wxr", str(path), stdout=io.StringIO())
    after = snapshot()
    assert after["posts"] == before["posts"]
    assert after["comments"] == before["comments"]
    assert after["categories"] == before["categories"]
    assert after["tags"] == before["tags"]
    assert after["authors"] == before["authors"]
    # Every redirect is kept (the import adds the old ?p= links of the exported site besides).
    assert before["redirects"].items() <= after["redirects"].items()
    assert len(before["comments"]) == 13 and len(before["posts"]) == 7
    # The same URLs answer the same way, and the public ones show the same title.
    for key, post in after["posts"].items():
        response = client.get(post["url"])
        assert response.status_code == statuses[key], key
        if response.status_code == 200:
            assert escape(post["title"]) in response.content.decode()
