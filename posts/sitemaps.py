"""sitemap.xml (sitemaps.org protocol 0.9): published posts, categories, tags and authors.

Each section is built from one query whatever its size; `lastmod` is the latest change to a
published post in it. Only what a reader can open is listed: the publication rule applies.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.sitemaps import Sitemap
from django.db.models import Max, Q
from django.urls import reverse

from posts.models import Category, Post, Tag, published_filter


class _SiteSitemap(Sitemap):
    """Locations use the configured public scheme (the domain comes from the Site row)."""

    def get_protocol(self, protocol=None):
        return settings.SITE_SCHEME

    def lastmod(self, item):
        return item.lastmod


class HomeSitemap(_SiteSitemap):
    changefreq = "daily"
    priority = 1.0

    def items(self):
        latest = Post.objects.published().filter(is_page=False).aggregate(lastmod=Max("updated_at"))
        return [{"name": "posts:home", "lastmod": latest["lastmod"]}]

    def location(self, item):
        return reverse(item["name"])

    def lastmod(self, item):
        return item["lastmod"]


class PostSitemap(_SiteSitemap):
    changefreq = "weekly"
    priority = 0.8

    def items(self):
        return list(
            Post.objects.published()
            .only("slug", "published_at", "created_at", "updated_at")
            .order_by("-published_at", "-id")
        )

    def lastmod(self, item):
        return item.updated_at


def _post_lastmod(prefix: str):
    return Max(f"{prefix}updated_at", filter=published_filter(prefix) & Q(**{f"{prefix}is_page": False}))


class CategorySitemap(_SiteSitemap):
    changefreq = "weekly"
    priority = 0.5

    def items(self):
        categories = list(Category.objects.annotate(lastmod=_post_lastmod("posts__")).order_by("name"))
        # A category page also lists its sub-categories' posts: carry their dates up the tree.
        by_id = {c.pk: c for c in categories}
        for cat in categories:
            seen, parent_id = {cat.pk}, cat.parent_id
            while cat.lastmod and parent_id in by_id and parent_id not in seen:
                parent = by_id[parent_id]
                if parent.lastmod is None or parent.lastmod < cat.lastmod:
                    parent.lastmod = cat.lastmod
                seen.add(parent_id)
                parent_id = parent.parent_id
        return [c for c in categories if c.lastmod is not None]


class TagSitemap(_SiteSitemap):
    changefreq = "weekly"
    priority = 0.4

    def items(self):
        return list(
            Tag.objects.annotate(lastmod=_post_lastmod("posts__"))
            .filter(lastmod__isnull=False)
            .order_by("name")
        )


class AuthorSitemap(_SiteSitemap):
    changefreq = "weekly"
    priority = 0.4

    def items(self):
        return list(
            get_user_model()
            .objects.annotate(lastmod=_post_lastmod("authorships__post__"))
            .filter(lastmod__isnull=False)
            .only("username")
            .order_by("username")
        )

    def location(self, item):
        return reverse("posts:author", kwargs={"username": item.get_username()})


SITEMAPS = {
    "home": HomeSitemap,
    "posts": PostSitemap,
    "categories": CategorySitemap,
    "tags": TagSitemap,
    "authors": AuthorSitemap,
}
