"""Emails of the review workflow (posts/workflow.py), run by the worker."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import get_user_model
from django.tasks import task
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.formats import date_format

from core.mail import templated_email
from core.origin import absolute_url
from posts.models import AuthorProfile, Post, ReviewNote
from posts.roles import editors


def email_language(user) -> str:
    """The language a user reads their emails in (their profile), else the site's."""
    profile = AuthorProfile.objects.filter(user=user).only("email_language").first()
    return (profile.email_language if profile else "") or settings.LANGUAGE_CODE


def _name(user) -> str:
    if user is None:
        return ""
    profile = AuthorProfile.objects.filter(user=user).first()
    return profile.name if profile else (user.get_full_name() or user.get_username())


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
