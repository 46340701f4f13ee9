"""Translations: sibling posts in other languages share a `translation_group`."""

from __future__ import annotations

from django.db import transaction
from django.utils.text import slugify

from posts.models import Post, PostAuthor


def missing_languages(post: Post) -> list[tuple[str, str]]:
    """Languages of Post.Language that have no post yet in this post's translation group."""
    taken = set(
        Post.objects.filter(translation_group=post.translation_group).values_list("language", flat=True)
    )
    return [(code, label) for code, label in Post.Language.choices if code not in taken]


@transaction.atomic
def post_translate(*, post: Post, language: str, user) -> Post:
    """Create a draft copy of `post` in `language` in the same group, with its categories and tags.

    The copy keeps the original's authors (and adds `user`), so whoever asked for it can edit it.
    """
    if language not in Post.Language.values:
        raise ValueError(f"unknown language {language!r}")
    if Post.objects.filter(translation_group=post.translation_group, language=language).exists():
        raise ValueError(f"a {language} translation already exists")
    copy = Post.objects.create(
        title=post.title,
        slug=(slugify(f"{post.slug}-{language}", allow_unicode=True))[:200],
        body=post.body,
        excerpt=post.excerpt,
        status=Post.Status.DRAFT,
        published_at=None,
        language=language,
        translation_group=post.translation_group,
        is_page=post.is_page,
        allow_comments=post.allow_comments,
        allow_pings=post.allow_pings,
        featured_image=post.featured_image,
        featured_image_alt=post.featured_image_alt,
    )
    copy.categories.set(post.categories.all())
    copy.tags.set(post.tags.all())
    user_ids = list(post.authorships.order_by("position", "id").values_list("user_id", flat=True))
    if user.pk not in user_ids:
        user_ids.append(user.pk)
    PostAuthor.objects.bulk_create(
        PostAuthor(post=copy, user_id=uid, position=pos) for pos, uid in enumerate(user_ids)
    )
    return copy
