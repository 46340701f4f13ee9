"""WebSub publisher: tell the hub that our feeds changed when a post is published.

W3C WebSub §4 leaves the publish notification to the hub; the common form (used by the public
hubs) is a form POST of `hub.mode=publish` and `hub.url=<topic>`, once per changed feed. It goes
through the one outbound client (comments/linkbacks/fetch.py), from a task, after commit.
"""

from __future__ import annotations

import logging
from urllib.parse import urlencode

from django.conf import settings
from django.db.models.signals import post_save
from django.dispatch import receiver
from django.tasks import task
from django.urls import reverse
from django.utils import timezone

from comments.linkbacks.fetch import FetchError, fetch
from core.origin import absolute_url
from core.queue import on_commit_enqueue
from posts.importing import current_import
from posts.models import Post

logger = logging.getLogger(__name__)


def _absolute(path: str) -> str:
    return absolute_url(path)


def websub_topics(post: Post) -> list[str]:
    """Every feed a newly published post appears in: site, its categories, tags and authors."""
    topics = [reverse("feeds:site"), reverse("feeds:site-atom")]
    for category in post.categories.all():
        topics += [
            reverse("feeds:category", args=[category.slug]),
            reverse("feeds:category-atom", args=[category.slug]),
        ]
    for tag in post.tags.all():
        topics += [reverse("feeds:tag", args=[tag.slug]), reverse("feeds:tag-atom", args=[tag.slug])]
    for user in post.authors.all():
        name = user.get_username()
        topics += [reverse("feeds:author", args=[name]), reverse("feeds:author-atom", args=[name])]
    return [_absolute(path) for path in dict.fromkeys(topics)]


@task()
def websub_publish(post_id: int) -> int:
    """Ping the hub for each topic; returns how many pings the hub accepted (2xx)."""
    hub = settings.WEBSUB_HUB_URL
    post = Post.objects.published().filter(pk=post_id).first()
    if not hub or post is None:
        return 0
    accepted = 0
    for topic in websub_topics(post):
        body = urlencode({"hub.mode": "publish", "hub.url": topic}).encode()
        try:
            response = fetch(
                hub,
                method="POST",
                data=body,
                headers={"Content-Type": "application/x-www-form-urlencoded"},
            )
        except FetchError:
            logger.warning("WebSub hub did not answer for %s", topic)
            continue
        accepted += 200 <= response.status < 300
    return accepted


@receiver(post_save, sender=Post, dispatch_uid="feeds.websub.publish")
def queue_websub_ping(sender, instance: Post, raw: bool = False, **kwargs) -> None:
    if raw or not settings.WEBSUB_HUB_URL or instance.status != Post.Status.PUBLISHED:
        return
    if instance.published_at is None:
        return
    run_after = instance.published_at if instance.published_at > timezone.now() else None
    if run_after is None and current_import() is not None:
        return  # an imported post is old news: subscribers' readers had it from the old blog
    on_commit_enqueue(websub_publish, instance.pk, run_after=run_after)
