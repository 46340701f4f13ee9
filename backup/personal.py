"""One person's data on request, for Editors in the admin: export it as JSON, or erase it.

- A commenter, by email: their comments and what other apps hold for the address (the same data
  the commenter's own privacy page shows; comments/privacy.py).
- An author, by account: the account, profile, posts credited to them, their comments. Erasing
  reassigns their posts to another author (never deletes a post), then deletes the account.

Each erase is logged as an `Erasure`.
"""

from __future__ import annotations

import hashlib

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django_comments_xtd.models import XtdComment

from backup.models import Erasure
from comments.models import Comment
from comments.privacy import comment_record, personal_data, personal_data_providers
from comments.services import privacy_delete
from posts.models import PostAuthor


def _digest(value: str) -> str:
    return hashlib.sha256(value.strip().lower().encode()).hexdigest()


def commenter_export(*, email: str) -> dict:
    return personal_data(email)


@transaction.atomic
def commenter_erase(*, email: str, by) -> Erasure:
    comments = privacy_delete(email=email)
    others = {p.key: p.delete(email) for p in personal_data_providers()}
    return Erasure.objects.create(
        subject=Erasure.Subject.COMMENTER,
        subject_digest=_digest(email),
        erased_by=by,
        summary={"comments": comments, **others},
    )


def _author_comments(user):
    query = Q(user=user)
    if user.email:
        query |= Q(user_email__iexact=user.email, kind=Comment.Kind.COMMENT)
    return Comment.objects.filter(query).select_related("post").order_by("submit_date")


def author_export(*, user) -> dict:
    profile = getattr(user, "profile", None)
    posts = PostAuthor.objects.filter(user=user).select_related("post").order_by("post__created_at")
    data = personal_data(user.email, comments=_author_comments(user)) if user.email else {}
    return {
        "format": "sectorblog-personal-data",
        "version": 1,
        "exported_at": timezone.now().isoformat(),
        "account": {
            "username": user.get_username(),
            "first_name": user.first_name,
            "last_name": user.last_name,
            "email": user.email,
            "date_joined": user.date_joined.isoformat(),
            "last_login": user.last_login.isoformat() if user.last_login else None,
            "groups": sorted(user.groups.values_list("name", flat=True)),
        },
        "profile": {
            "display_name": profile.display_name,
            "bio": profile.bio,
            "website": profile.website,
            "email_language": profile.email_language,
        }
        if profile
        else None,
        "posts": [
            {
                "title": a.post.title,
                "status": a.post.status,
                "url": a.post.get_absolute_url(),
                "position": a.position,
            }
            for a in posts
        ],
        "comments": data.get("comments") or [comment_record(c) for c in _author_comments(user)],
        "other": data.get("other", {}),
    }


@transaction.atomic
def author_erase(*, user, reassign_to, by) -> Erasure:
    """Hand every post of `user` to `reassign_to` (keeping the byline order), delete their
    comments and what other apps hold for their address, then the account itself."""
    if reassign_to is None or reassign_to.pk == user.pk:
        raise ValueError("posts must go to another author")
    moved = 0
    for authorship in PostAuthor.objects.select_for_update().filter(user=user):
        if PostAuthor.objects.filter(post_id=authorship.post_id, user=reassign_to).exists():
            authorship.delete()
        else:
            authorship.user = reassign_to
            authorship.save(update_fields=["user"])
        moved += 1
    comment_ids = list(_author_comments(user).values_list("pk", flat=True))
    XtdComment.objects.filter(pk__in=comment_ids).delete()
    others = {p.key: p.delete(user.email) for p in personal_data_providers()} if user.email else {}
    login = user.get_username()
    get_user_model().objects.filter(pk=user.pk).delete()
    return Erasure.objects.create(
        subject=Erasure.Subject.AUTHOR,
        subject_digest=_digest(login),
        erased_by=by,
        reassigned_to=reassign_to,
        summary={"posts_reassigned": moved, "comments": len(comment_ids), **others},
    )
