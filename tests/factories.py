"""factory_boy factories for the models tests create most."""

from __future__ import annotations

import datetime as dt

import factory
from django.contrib.auth import get_user_model
from django.utils import timezone

from posts.models import AuthorProfile, Category, Post, PostAuthor, Tag


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.org")
    is_staff = True

    @factory.post_generation
    def profile(obj, create, extracted, **kwargs):
        if create:
            AuthorProfile.objects.get_or_create(
                user=obj, defaults={"display_name": f"{obj.first_name} {obj.last_name}".strip()}
            )


class CategoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Category
        django_get_or_create = ("slug",)

    name = factory.Sequence(lambda n: f"Category {n}")
    slug = factory.Sequence(lambda n: f"category-{n}")


class TagFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Tag
        django_get_or_create = ("slug",)

    name = factory.Sequence(lambda n: f"tag {n}")
    slug = factory.Sequence(lambda n: f"tag-{n}")


class PostFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Post
        skip_postgeneration_save = True

    title = factory.Sequence(lambda n: f"Lessons from the field, part {n}")
    slug = factory.Sequence(lambda n: f"lessons-from-the-field-{n}")
    body = "We visited three towns.\n\n## What we saw\n\n- pumps\n- kiosks\n"
    status = Post.Status.PUBLISHED
    published_at = factory.LazyFunction(lambda: timezone.now() - dt.timedelta(days=1))

    @factory.post_generation
    def authors(obj, create, extracted, **kwargs):
        if not create:
            return
        users = extracted or [UserFactory()]
        for position, user in enumerate(users):
            PostAuthor.objects.create(post=obj, user=user, position=position)

    @factory.post_generation
    def categories(obj, create, extracted, **kwargs):
        if create and extracted:
            obj.categories.set(extracted)

    @factory.post_generation
    def tags(obj, create, extracted, **kwargs):
        if create and extracted:
            obj.tags.set(extracted)


def make_comment(post, *, parent=None, kind="comment", when=None, **fields):
    """Store a comment (or linkback) on a post as the site would: public unless told otherwise."""
    from django.contrib.contenttypes.models import ContentType
    from django.contrib.sites.models import Site

    from comments.models import Comment

    values = dict(
        user_name="Reader",
        user_email="reader@example.net",
        comment="A thoughtful reply.",
        is_public=True,
        submit_date=when or timezone.now() - dt.timedelta(minutes=5),
    )
    values.update(fields)
    if parent is not None:
        values["parent_id"] = parent.pk
    values.setdefault("parent_id", 0)
    comment = Comment(
        content_type=ContentType.objects.get_for_model(post),
        object_pk=str(post.pk),
        site=Site.objects.get_current(),
        kind=kind,
        **values,
    )
    comment.save()
    return comment


def commit_term_counts() -> None:
    """Count the chrome's term counts again, as committing the data a test made does in production
    (posts.termcounts.refresh_after_commit): inside a test's transaction, on_commit never runs,
    so pages would count live, one statement more than a running site pays."""
    from posts import termcounts

    termcounts.refresh()
