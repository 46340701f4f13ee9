"""The discussion: one comment model for reader comments and linkbacks, plus linkback records.

`Comment` extends django-comments-xtd's `XtdComment` (multi-table) with a `kind`, the fields a
linkback needs, and `body_html` rendered once on save.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from urllib.parse import urlsplit

from django.conf import settings
from django.db import models, transaction
from django.urls import reverse
from django.utils.html import escape
from django.utils.translation import gettext_lazy as _
from django_comments.managers import CommentManager
from django_comments_xtd.models import XtdComment, XtdCommentManager

from core.cache import deps
from core.markup import plain_text, render_markdown, sanitize
from posts.models import Post

_SPAN_TAG = re.compile(r"</?span\b[^>]*>")


def remote_html(raw_html: str) -> str:
    """A fediverse reply's HTML for the thread: the comment profile's tags only, and mentions and
    hashtags as plain links (their h-card and hashtag spans dropped, so no styling hooks or
    hidden text from the sender survive). Idempotent."""
    return _SPAN_TAG.sub("", sanitize(raw_html or "", "comment"))


class DiscussionQuerySet(models.QuerySet):
    """Updates and deletes of comments say which posts' discussions they change, so that only
    the pages showing those are renewed (core.cache.deps); one query finds the posts."""

    def _posts(self) -> list:
        return list(self.order_by().values_list("post_id", flat=True).distinct())

    def update(self, **kwargs):
        with deps.changing(*self._posts()):
            return super().update(**kwargs)

    update.alters_data = True

    def delete(self):
        with deps.changing(*self._posts()):
            return super().delete()

    delete.alters_data = True
    delete.queryset_only = True


class Comment(XtdComment):
    # An explicit parent link: the default reverse accessor "comment" clashes with the
    # inherited text field of the same name.
    xtdcomment_ptr = models.OneToOneField(
        XtdComment,
        on_delete=models.CASCADE,
        parent_link=True,
        primary_key=True,
        related_name="sectorblog_comment",
    )

    class Kind(models.TextChoices):
        COMMENT = "comment", _("Comment")
        PINGBACK = "pingback", _("Pingback")
        TRACKBACK = "trackback", _("Trackback")
        WEBMENTION = "webmention", _("Webmention")
        # A reply from another server of the fediverse (ActivityPub), stored by the federation
        # app through comments.services.remote_reply_store(); shown like a reader's comment.
        FEDIVERSE = "fediverse", _("Fediverse reply")

    LINKBACK_KINDS = (Kind.PINGBACK, Kind.TRACKBACK, Kind.WEBMENTION)

    # xtd's managers, whose updates and deletes name the posts they change (DiscussionQuerySet).
    objects = XtdCommentManager.from_queryset(DiscussionQuerySet)()
    norel_objects = CommentManager.from_queryset(DiscussionQuerySet)()

    post = models.ForeignKey(
        "posts.Post",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="discussion",
        verbose_name=_("post"),
        help_text=_("The post this comment belongs to (mirrors content_type/object_pk)."),
    )
    kind = models.CharField(
        _("kind"), max_length=12, choices=Kind.choices, default=Kind.COMMENT, db_index=True
    )
    body_html = models.TextField(editable=False, blank=True)
    source_url = models.URLField(_("source URL"), max_length=2000, blank=True)
    source_title = models.CharField(_("source title"), max_length=300, blank=True)
    excerpt = models.TextField(_("excerpt"), blank=True)
    author_avatar_url = models.URLField(_("author avatar"), max_length=2000, blank=True)
    # A linkback's site icon, copied to our own storage (comments/linkbacks/icons.py).
    source_icon = models.CharField(
        _("source site icon"), max_length=300, blank=True, default="", db_default="", editable=False
    )
    # The writer's handle on another network (fediverse replies: "@ana@example.social").
    # db_default: rows inserted by raw SQL (benchmark seeding) need not name it.
    author_handle = models.CharField(
        _("author handle"), max_length=300, blank=True, default="", db_default=""
    )
    is_spam = models.BooleanField(_("spam"), default=False, db_index=True)
    is_internal = models.BooleanField(
        _("internal"), default=False, help_text=_("A linkback from another post on this site.")
    )
    # A digest of (object, email, text) for reader comments: a unique key that refuses an
    # identical duplicate even under concurrent POSTs. Empty for linkbacks.
    duplicate_key = models.CharField(max_length=64, blank=True, editable=False)
    verified_at = models.DateTimeField(_("last verified"), null=True, blank=True)
    # Discussion workflow state beyond xtd's is_public/is_removed (see comments/services.py).
    awaiting_confirmation = models.BooleanField(
        _("awaiting email confirmation"), default=False, db_index=True
    )
    needs_spam_check = models.BooleanField(
        _("spam check pending"),
        default=False,
        help_text=_("The spam service failed; a task checks again later."),
    )
    hold_reason = models.CharField(_("why held"), max_length=200, blank=True)

    class Followup(models.TextChoices):
        REPLIES = "replies", _("Replies to my comment")
        ALL = "all", _("The whole discussion")

    # With xtd's `followup` on: which new comments the commenter hears about.
    followup_scope = models.CharField(
        _("follow-up emails for"),
        max_length=8,
        choices=Followup.choices,
        default=Followup.ALL,
        db_default=Followup.ALL,  # rows inserted in bulk by SQL (benchmarks, tests) follow it all
        blank=True,
    )
    language = models.CharField(_("language"), max_length=10, blank=True)
    user_agent = models.CharField(_("user agent"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("comment")
        verbose_name_plural = _("comments")
        permissions = [("can_moderate", _("Can moderate comments"))]
        constraints = [
            models.UniqueConstraint(
                fields=["post", "source_url"],
                condition=~models.Q(kind="comment"),
                name="linkback_unique_source_target",
            ),
            models.UniqueConstraint(
                fields=["duplicate_key"],
                condition=~models.Q(duplicate_key=""),
                name="comment_unique_duplicate_key",
            ),
        ]
        indexes = [
            models.Index(fields=["kind", "source_url"], name="linkback_source_idx"),
            # The lists' counts per post (comments/counts.py) read what they filter on and the
            # id they check visibility by from the index, not the rows.
            models.Index(fields=["post", "kind", "is_spam", "xtdcomment_ptr"], name="comment_post_kind_idx"),
        ]

    def get_absolute_url(self, anchor_pattern: str = "#c%(id)s") -> str:
        # A stable permalink that finds the right page of a long, paginated thread.
        return reverse("comments:permalink", args=[self.pk])

    # xtd's and django_comments' versions reverse URL names of theirs that the site does not
    # include (sectorblog/urls.py); these name the site's own views.
    def get_reply_url(self) -> str:
        return reverse("comments:reply", args=[self.pk])

    def get_content_object_url(self) -> str:
        return reverse("comments:content-object", args=[self.content_type_id, self.object_pk])

    @property
    def safe_user_url(self) -> str:
        """The commenter's website, only when it is a plain http(s) URL (never javascript: etc.)."""
        return self.user_url if self.user_url.lower().startswith(("http://", "https://")) else ""

    @property
    def safe_source_url(self) -> str:
        return self.source_url if self.source_url.lower().startswith(("http://", "https://")) else ""

    @property
    def source_host(self) -> str:
        return urlsplit(self.safe_source_url).hostname or ""

    @property
    def source_site(self) -> str:
        """The name a linkback is shown under: the sending site's (or its author's) name as
        received, else the source's host."""
        return self.user_name or self.source_host

    @property
    def is_linkback(self) -> bool:
        return self.kind in self.LINKBACK_KINDS

    @property
    def is_remote_reply(self) -> bool:
        return self.kind == self.Kind.FEDIVERSE

    @property
    def moderation_text(self) -> str:
        """The text hold rules and spam checks read: the Markdown a reader typed, a linkback's
        excerpt, or a fediverse reply's text without its markup."""
        if self.is_linkback:
            return self.excerpt
        if self.is_remote_reply:
            return plain_text(self.render_body())
        return self.comment

    @staticmethod
    def make_duplicate_key(*, content_type_id: int, object_pk: str, email: str, text: str) -> str:
        raw = f"{content_type_id}\x1f{object_pk}\x1f{email.strip().lower()}\x1f{text.strip()}"
        return hashlib.sha256(raw.encode()).hexdigest()

    def render_body(self) -> str:
        if self.is_linkback:
            return f"<p>[…] {escape(self.excerpt)} […]</p>" if self.excerpt else ""
        if self.is_remote_reply:
            return remote_html(self.comment)
        return render_markdown(self.comment, "comment")

    def save(self, *args, **kwargs):
        if (
            self.post_id is None
            and self.content_type_id
            and self.object_pk
            and self.content_type.model_class() is Post
        ):
            self.post_id = int(self.object_pk)
        self.body_html = self.render_body()
        if self.kind == self.Kind.COMMENT and not self.duplicate_key and self.content_type_id:
            self.duplicate_key = self.make_duplicate_key(
                content_type_id=self.content_type_id,
                object_pk=str(self.object_pk),
                email=self.user_email or "",
                text=self.comment,
            )
        # Every statement of the save (xtd's thread numbering too) changes this post's discussion.
        with deps.changing(self.post_id):
            self._save(*args, **kwargs)

    save.alters_data = True

    def delete(self, *args, **kwargs):
        with deps.changing(self.post_id):
            return super().delete(*args, **kwargs)

    delete.alters_data = True

    def _save(self, *args, **kwargs):
        if self.pk is None and self.parent_id:
            # xtd computes `order` with read-then-update; concurrent replies to one thread got
            # the same order. Lock the thread's root row so replies are numbered one at a time.
            with transaction.atomic():
                parent = XtdComment.norel_objects.only("thread_id").get(pk=self.parent_id)
                list(
                    XtdComment.norel_objects.select_for_update()
                    .filter(pk=parent.thread_id)
                    .values_list("pk", flat=True)
                )
                super().save(*args, **kwargs)
            return
        super().save(*args, **kwargs)


class LinkbackAttempt(models.Model):
    """One outbound notification of a linked page: what was tried, and what came back."""

    class Protocol(models.TextChoices):
        WEBMENTION = "webmention", "Webmention"
        PINGBACK = "pingback", "Pingback"
        TRACKBACK = "trackback", "TrackBack"
        INTERNAL = "internal", _("Internal")
        NONE = "none", _("No endpoint")

    class Outcome(models.TextChoices):
        PENDING = "pending", _("Pending")
        SUCCESS = "success", _("Success")
        RETRY = "retry", _("Will retry")
        FAILED = "failed", _("Failed")
        NO_ENDPOINT = "no_endpoint", _("No endpoint")
        # Linked before the post was imported: the old blog notified it; nothing is sent.
        KNOWN = "known", _("Not sent: linked before the import")

    post = models.ForeignKey(
        "posts.Post", on_delete=models.CASCADE, related_name="linkback_attempts", verbose_name=_("post")
    )
    target_url = models.URLField(_("target"), max_length=2000)
    protocol = models.CharField(_("protocol"), max_length=12, choices=Protocol.choices, default=Protocol.NONE)
    endpoint = models.URLField(_("endpoint"), max_length=2000, blank=True)
    removed = models.BooleanField(
        _("removed link"), default=False, help_text=_("Sent because the link was removed from the post.")
    )
    http_status = models.PositiveSmallIntegerField(_("HTTP status"), null=True, blank=True)
    fault_code = models.IntegerField(_("fault code"), null=True, blank=True)
    message = models.CharField(_("message"), max_length=500, blank=True)
    outcome = models.CharField(_("outcome"), max_length=12, choices=Outcome.choices, default=Outcome.PENDING)
    tries = models.PositiveSmallIntegerField(_("tries"), default=0)
    content_hash = models.CharField(_("content hash"), max_length=64, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    attempted_at = models.DateTimeField(_("attempted at"), null=True, blank=True)
    next_retry_at = models.DateTimeField(_("next retry at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("linkback attempt")
        verbose_name_plural = _("linkback attempts")
        constraints = [
            models.UniqueConstraint(fields=["post", "target_url"], name="linkback_attempt_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.get_protocol_display()} → {self.target_url} ({self.get_outcome_display()})"


class IncomingWebmention(models.Model):
    """A received Webmention request and its verification status (the status URL shows it)."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        ACCEPTED = "accepted", _("Accepted")
        REJECTED = "rejected", _("Rejected")

    token = models.UUIDField(_("token"), default=uuid.uuid4, unique=True, editable=False)
    source = models.URLField(_("source"), max_length=2000)
    target = models.URLField(_("target"), max_length=2000)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING)
    reason = models.CharField(_("reason"), max_length=300, blank=True)
    comment = models.ForeignKey(
        Comment, null=True, blank=True, on_delete=models.SET_NULL, verbose_name=_("comment")
    )
    remote_ip = models.GenericIPAddressField(_("remote IP address"), null=True, blank=True)
    created_at = models.DateTimeField(_("received"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("incoming webmention")
        verbose_name_plural = _("incoming webmentions")

    def __str__(self) -> str:
        return f"{self.source} → {self.target} ({self.get_status_display()})"


class AuthorNotice(models.Model):
    """A comment a post's author is to hear about. Notices for one author and post are sent
    together, at most one email per NOTIFY_AUTHOR_WINDOW (comments/services.py)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="comment_notices",
        verbose_name=_("user"),
    )
    post = models.ForeignKey("posts.Post", on_delete=models.CASCADE, related_name="+", verbose_name=_("post"))
    comment = models.ForeignKey(
        Comment, on_delete=models.CASCADE, related_name="+", verbose_name=_("comment")
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)

    class Meta:
        verbose_name = _("author notice")
        verbose_name_plural = _("author notices")
        constraints = [models.UniqueConstraint(fields=["user", "comment"], name="author_notice_once")]
        indexes = [models.Index(fields=["user", "post", "sent_at"], name="author_notice_pending_idx")]

    def __str__(self) -> str:
        return f"{self.user} ← {self.comment_id}"
