"""Who may do what to a post, and how its state reads to a person. Shared by the admin's form,
views and classes (posts/roles.py holds the groups)."""

from __future__ import annotations

from django.utils import timezone
from django.utils.translation import gettext

from posts.models import Post, PostAuthor
from posts.templatetags.blog import human_datetime

ACTION_DRAFT = "_save_draft"
ACTION_PUBLISH = "_publish"
ACTION_SCHEDULE = "_schedule"
ACTION_REVIEW = "_submit_review"
ACTIONS = (ACTION_DRAFT, ACTION_PUBLISH, ACTION_SCHEDULE, ACTION_REVIEW)


def can_publish(user) -> bool:
    return user.has_perm("posts.publish_post")


def can_edit_others(user) -> bool:
    return user.has_perm("posts.edit_others_posts")


def sends_back(user) -> bool:
    """Editors (publish and edit others' posts) return posts in review with a note."""
    return can_publish(user) and can_edit_others(user)


def is_author_of(user, post: Post) -> bool:
    return PostAuthor.objects.filter(post=post, user=user).exists()


def status_label(post: Post) -> str:
    """draft / in review / scheduled for <date> / published: what the list and the form show."""
    if post.is_scheduled:
        return gettext("scheduled for %(date)s") % {"date": human_datetime(post.published_at)}
    if post.status == Post.Status.PUBLISHED:
        return gettext("published")
    if post.status == Post.Status.REVIEW:
        return gettext("in review")
    return gettext("draft")


def slug_conflict(*, slug: str, published_at, exclude_pk=None) -> Post | None:
    """The post that already uses this slug on this publication date (constraint
    post_slug_unique_per_date), if any."""
    if not slug or published_at is None:
        return None
    day = timezone.localtime(published_at).date()
    qs = Post.objects.filter(slug=slug, published_at__date=day)
    if exclude_pk is not None:
        qs = qs.exclude(pk=exclude_pk)
    return qs.only("pk", "title").first()
