"""Comment feeds (RSS 2.0 and Atom 1.0): all comments on the site, and one post's comments.

Reader comments and linkbacks (pingbacks, trackbacks, webmentions) both appear; a linkback's
title says which kind it is and it carries the kind as a <category>. Only comments a reader can
see are included: public, not removed, not spam, on a published post. The feeds reuse the
framework in `feeds.framework` (XML hygiene, conditional GET, cache headers, absolute URLs).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.db.models import Count, Max, QuerySet
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _

from comments.models import Comment
from feeds.framework import FEED_ITEMS, AtomMixin, SiteFeed, absolutize_html
from feeds.posts import post_url_maker, published_post_for_date
from posts.models import Post, published_filter


def visible_comments() -> QuerySet[Comment]:
    """Comments a reader may see, on published posts only."""
    return Comment.objects.filter(published_filter("post__"), is_public=True, is_removed=False, is_spam=False)


def _title(comment: Comment) -> str:
    names = {"post": comment.post.title, "name": _author_name(comment)}
    if comment.kind == Comment.Kind.PINGBACK:
        return _("Pingback on %(post)s by %(name)s") % names
    if comment.kind == Comment.Kind.TRACKBACK:
        return _("Trackback on %(post)s by %(name)s") % names
    if comment.kind == Comment.Kind.WEBMENTION:
        return _("Webmention on %(post)s by %(name)s") % names
    return _("Comment on %(post)s by %(name)s") % names


def _author_name(comment: Comment) -> str:
    if comment.is_linkback:
        return comment.source_title or comment.user_name or comment.source_url
    return comment.user_name or _("Anonymous")


def _author_uri(comment: Comment) -> str:
    url = comment.source_url if comment.is_linkback else comment.user_url
    return url if url and url.lower().startswith(("http://", "https://")) else ""


class CommentFeed(SiteFeed):
    """The latest visible comments and linkbacks on the whole site."""

    def get_object(self, request, **kwargs):
        return None

    def comment_queryset(self, obj) -> QuerySet[Comment]:
        queryset = visible_comments()
        if self.lang:
            queryset = queryset.filter(post__language=self.lang)
        return queryset

    def feed_state(self, obj) -> tuple[str, None]:
        state = self.comment_queryset(obj).aggregate(
            count=Count("pk"), newest=Max("submit_date"), last_id=Max("pk")
        )
        # No date of the items tells when an old comment was approved or removed: Last-Modified
        # is when content last changed (feeds.framework.last_modified).
        return f"{state['count']}|{state['newest']}|{state['last_id']}", None

    def items(self, obj):
        return (
            self.comment_queryset(obj)
            .select_related("post")
            # An item names its post and links to it: nothing of the post's text is read.
            .defer(
                "post__body",
                "post__body_html",
                "post__body_excerpt",
                "post__excerpt",
                "post__search_text",
                "post__trackback_urls",
                "post__featured_image_variants",
            )
            .order_by("-submit_date", "-pk")[:FEED_ITEMS]
        )

    def feed_url(self, obj) -> str:
        return reverse("feeds:comments")

    def link(self, obj) -> str:
        return reverse("posts:home")

    def title(self, obj) -> str:
        return _("Comments on %(site)s") % {"site": settings.SITE_NAME}

    def description(self, obj) -> str:
        return _("The latest comments and mentions on %(site)s") % {"site": settings.SITE_NAME}

    def item_title(self, comment: Comment) -> str:
        return _title(comment)

    def post_link(self, post: Post) -> str:
        """absolute_url(post.get_absolute_url()), written once per post and request from one
        reversed permalink (feeds.posts.post_url_maker)."""
        links = self.__dict__.get("_post_links")
        if links is None:
            links = self._post_links = {"url": post_url_maker()}
        if post.pk not in links:
            links[post.pk] = links["url"](post.published_at, post.slug)
        return links[post.pk]

    def item_link(self, comment: Comment) -> str:
        return f"{self.post_link(comment.post)}#c{comment.pk}"

    def item_description(self, comment: Comment) -> str:
        body = absolutize_html(comment.body_html, self.post_link(comment.post))
        if comment.is_linkback and _author_uri(comment):
            label = comment.get_kind_display()
            body += format_html(
                '<p>{}: <a href="{}">{}</a></p>',
                label,
                comment.source_url,
                comment.source_title or comment.source_url,
            )
        return body

    def item_pubdate(self, comment: Comment) -> dt.datetime:
        return comment.submit_date

    def item_updateddate(self, comment: Comment) -> dt.datetime:
        return comment.submit_date

    def item_categories(self, comment: Comment) -> list[str]:
        return [str(comment.get_kind_display())] if comment.is_linkback else []

    def item_extra_kwargs(self, comment: Comment) -> dict[str, Any]:
        return {
            "authors": [{"name": _author_name(comment), "uri": _author_uri(comment)}],
            "content": self.item_description(comment),
        }

    def item_entry(self, comment: Comment) -> dict[str, Any]:
        """The framework's entry (feeds.framework.SiteFeed.item_entry) built with direct calls,
        and the description, which is also the content, made once."""
        link = self.item_link(comment)  # absolute already
        description = self.item_description(comment)
        return {
            "title": self.item_title(comment),
            "link": link,
            "description": description,
            "unique_id": link,
            "unique_id_is_permalink": True,
            "pubdate": self.item_pubdate(comment),
            "updateddate": self.item_updateddate(comment),
            "categories": self.item_categories(comment),
            "authors": [{"name": _author_name(comment), "uri": _author_uri(comment)}],
            "content": description,
        }


class CommentAtomFeed(AtomMixin, CommentFeed):
    pass


class PostCommentFeed(CommentFeed):
    """One post's visible comments and linkbacks; the feed language is the post's."""

    accepts_language = False

    def get_object(self, request, *, year: int, month: int, day: int, slug: str) -> Post:
        return published_post_for_date(year=year, month=month, day=day, slug=slug)

    def comment_queryset(self, post: Post) -> QuerySet[Comment]:
        return visible_comments().filter(post=post)

    def items(self, post: Post):
        # Every item belongs to `post`: reuse it rather than joining it in again.
        comments = list(self.comment_queryset(post).order_by("-submit_date", "-pk")[:FEED_ITEMS])
        for comment in comments:
            comment.post = post
        return comments

    def feed_language(self, post: Post) -> str:
        return post.language

    def discussion_shown(self, post: Post) -> tuple:
        return (post.pk,)

    def feed_url(self, post: Post) -> str:
        return post.get_absolute_url() + "feed/"

    def link(self, post: Post) -> str:
        return post.get_absolute_url()

    def title(self, post: Post) -> str:
        return _("Comments on “%(title)s”") % {"title": post.title}

    def description(self, post: Post) -> str:
        return _("Comments and mentions of “%(title)s” on %(site)s") % {
            "title": post.title,
            "site": settings.SITE_NAME,
        }


class PostCommentAtomFeed(AtomMixin, PostCommentFeed):
    pass
