"""Emails of the review workflow (posts/workflow.py), run by the worker."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.tasks import task
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.formats import date_format

from core.mail import templated_email
from core.origin import absolute_url
from posts import images, termcounts
from posts.models import AuthorProfile, MediaImage, Post, ReviewNote, display_name
from posts.roles import editors


def email_language(user) -> str:
    """The language a user reads their emails in (their profile), else the site's."""
    profile = AuthorProfile.objects.filter(user=user).only("email_language").first()
    return (profile.email_language if profile else "") or settings.LANGUAGE_CODE


def _name(user) -> str:
    return display_name(user)


@task
def notify_editors_of_review(post_id: int, by_id: int | None) -> int:
    post = Post.objects.filter(pk=post_id).first()
    if post is None or post.status != Post.Status.REVIEW:
        return 0
    by = get_user_model().objects.filter(pk=by_id).first()
    edit_url = absolute_url(reverse("admin:posts_post_change", args=[post.pk]))
    sent = 0
    for editor in editors().exclude(pk=by_id):
        templated_email(
            to=editor.email,
            language=email_language(editor),
            subject_template="posts/email/review_subject.txt",
            body_template="posts/email/review_body.txt",
            context={"post": post, "by": _name(by), "edit_url": edit_url},
        ).send()
        sent += 1
    return sent


@task
def notify_authors_of_decision(post_id: int, by_id: int | None, decision: str, note_id: int | None) -> int:
    post = Post.objects.filter(pk=post_id).first()
    if post is None:
        return 0
    by = get_user_model().objects.filter(pk=by_id).first()
    note = ReviewNote.objects.filter(pk=note_id).first() if note_id else None
    authors = get_user_model().objects.filter(authorships__post=post).exclude(email="")
    if by_id is not None:
        authors = authors.exclude(pk=by_id)
    sent = 0
    for author in authors:
        language = email_language(author)
        with translation.override(language):
            when = (
                date_format(timezone.localtime(post.published_at), "DATETIME_FORMAT")
                if post.published_at
                else ""
            )
        templated_email(
            to=author.email,
            language=language,
            subject_template=f"posts/email/{decision}_subject.txt",
            body_template=f"posts/email/{decision}_body.txt",
            context={
                "post": post,
                "by": _name(by),
                "note": note.note if note else "",
                "when": when,
                "post_url": absolute_url(post.get_absolute_url()),
                "edit_url": absolute_url(reverse("admin:posts_post_change", args=[post.pk])),
            },
        ).send()
        sent += 1
    return sent


# --- responsive images ---------------------------------------------------------------------------


@task
def image_variants_make(*, model: str, pk: int) -> str:
    """Make the narrower and WebP copies of a media-library image ("library") or of a post's
    featured image ("featured"), or the square copies of an author photo ("avatar"), and record
    them; posts showing a library image are rendered again so their bodies list the new copies.
    Returns "made", "unreadable" or "gone"."""
    if model == "avatar":
        return _photo_variants_make(pk)
    if model == "library":
        row = MediaImage.objects.filter(pk=pk).first()
        name = row.image.name if row else ""
    else:
        row = Post.objects.filter(pk=pk).only("featured_image").first()
        name = row.featured_image.name if row else ""
    if not name:
        return "gone"
    info = images.make_variants(name)
    # An image that can't be read is recorded too, so saving its row again does not retry it.
    meta = images.meta_of(name, info) if info else {"name": name}
    if model == "library":
        MediaImage.objects.filter(pk=pk, image=name).update(variants=meta)
        for post in Post.objects.filter(body__contains=row.image.url):
            post.save()
    else:
        Post.objects.filter(pk=pk, featured_image=name).update(featured_image_variants=meta)
    return "made" if info else "unreadable"


def _photo_variants_make(pk: int) -> str:
    name = AuthorProfile.objects.filter(pk=pk).values_list("avatar", flat=True).first()
    if not name:
        return "gone"
    info = images.make_photo_variants(name)
    meta = images.photo_meta_of(name, info) if info else {"name": name}
    # Recorded only if the photo is still the one made from; the write renews the page cache.
    AuthorProfile.objects.filter(pk=pk, avatar=name).update(avatar_variants=meta)
    return "made" if info else "unreadable"


def _image_and_meta(instance) -> tuple[str, str, dict]:
    """(task model name, stored file name, recorded variants) of a row that holds an upload."""
    if isinstance(instance, MediaImage):
        return "library", instance.image.name, instance.variants
    if isinstance(instance, AuthorProfile):
        return "avatar", instance.avatar.name, instance.avatar_variants
    return "featured", instance.featured_image.name, instance.featured_image_variants


def image_variants_needed(instance) -> bool:
    """Whether the row's upload has no variants recorded for it (made or found unreadable)."""
    _model, name, meta = _image_and_meta(instance)
    return bool(name) and (meta or {}).get("name") != name


def image_variants_queue(sender, instance, **kwargs) -> None:
    """post_save: a new upload (library image, featured image, author photo) gets its copies made
    by the worker after the transaction commits."""
    if image_variants_needed(instance):
        model, pk = _image_and_meta(instance)[0], instance.pk
        transaction.on_commit(lambda: image_variants_make.enqueue(model=model, pk=pk))


@task
def term_counts_refresh() -> bool:
    """Count the categories' and tags' visible posts again when a scheduled post goes live (no
    write marks the stored counts stale then; they say until when they hold): posts.termcounts.
    Queued for that time by the refresh that saw the post scheduled; True if it stored counts."""
    return termcounts.refresh()
