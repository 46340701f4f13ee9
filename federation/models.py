"""What federation stores: our actors' keys, the remote actors we know, followers, what we send
and to whom, what we received, reactions, and the moderation lists.

Local actors are the blog and each author with published posts. They are not rows of their own:
an `owner` string names one ("blog", or "user:<pk>"), see federation/actors.py.
"""

from __future__ import annotations

import uuid

from django.db import models
from django.utils.translation import gettext_lazy as _


class ActorKey(models.Model):
    """The RSA key pair of a local actor, made on first use (federation/keys.py)."""

    owner = models.CharField(_("actor"), max_length=40, unique=True)
    private_pem = models.TextField(editable=False)
    public_pem = models.TextField(_("public key"), editable=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("actor key")
        verbose_name_plural = _("actor keys")

    def __str__(self) -> str:
        return self.owner


class RemoteActor(models.Model):
    """An actor on another server, as its document last said (fetched through fetch.py)."""

    uri = models.URLField(_("actor ID"), max_length=2000, unique=True)
    domain = models.CharField(_("domain"), max_length=255, db_index=True)
    preferred_username = models.CharField(_("username"), max_length=200, blank=True)
    name = models.CharField(_("name"), max_length=200, blank=True)
    profile_url = models.URLField(_("profile"), max_length=2000, blank=True)
    inbox = models.URLField(_("inbox"), max_length=2000)
    shared_inbox = models.URLField(_("shared inbox"), max_length=2000, blank=True)
    key_id = models.CharField(_("key ID"), max_length=2000, db_index=True)
    public_key_pem = models.TextField(_("public key"))
    icon_url = models.URLField(_("avatar source"), max_length=2000, blank=True)
    # The avatar, copied to our storage (never hot-linked); empty until fetched.
    avatar = models.ImageField(_("avatar"), upload_to="fediverse/avatars/", blank=True)
    fetched_at = models.DateTimeField(_("fetched"))

    class Meta:
        verbose_name = _("remote actor")
        verbose_name_plural = _("remote actors")

    def __str__(self) -> str:
        return self.handle

    @property
    def handle(self) -> str:
        return f"@{self.preferred_username or '?'}@{self.domain}"

    @property
    def delivery_inbox(self) -> str:
        return self.shared_inbox or self.inbox


class Follower(models.Model):
    class State(models.TextChoices):
        PENDING = "pending", _("Waiting for approval")
        ACCEPTED = "accepted", _("Following")

    owner = models.CharField(_("followed actor"), max_length=40, db_index=True)
    actor = models.ForeignKey(
        RemoteActor, on_delete=models.CASCADE, related_name="follows", verbose_name=_("follower")
    )
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.ACCEPTED)
    follow_id = models.URLField(_("Follow activity"), max_length=2000, blank=True)
    created_at = models.DateTimeField(_("since"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("follower")
        verbose_name_plural = _("followers")
        ordering = ["-created_at"]
        constraints = [models.UniqueConstraint(fields=["owner", "actor"], name="follower_unique")]

    def __str__(self) -> str:
        return f"{self.actor} → {self.owner}"


class Activity(models.Model):
    """One activity we published (Create, Update, Delete, Accept…), kept as sent."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    owner = models.CharField(_("actor"), max_length=40, db_index=True)
    type = models.CharField(_("type"), max_length=20)
    object_id = models.URLField(_("object"), max_length=2000, blank=True, db_index=True)
    payload = models.JSONField(editable=False)
    public = models.BooleanField(_("public"), default=True, help_text=_("Listed in the actor's outbox."))
    created_at = models.DateTimeField(_("created"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("sent activity")
        verbose_name_plural = _("sent activities")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.type} {self.object_id}"


class Delivery(models.Model):
    """One activity to one inbox: followers sharing an inbox cost one delivery."""

    class State(models.TextChoices):
        PENDING = "pending", _("Pending")
        DELIVERED = "delivered", _("Delivered")
        FAILED = "failed", _("Gave up")
        SKIPPED = "skipped", _("Skipped (dead inbox)")

    activity = models.ForeignKey(Activity, on_delete=models.CASCADE, related_name="deliveries")
    inbox = models.URLField(_("inbox"), max_length=2000)
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"), null=True, blank=True, db_index=True)
    last_status = models.PositiveSmallIntegerField(_("last HTTP status"), null=True, blank=True)
    last_error = models.CharField(_("last error"), max_length=300, blank=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("delivery")
        verbose_name_plural = _("deliveries")
        constraints = [models.UniqueConstraint(fields=["activity", "inbox"], name="delivery_unique")]
        indexes = [models.Index(fields=["activity", "state"], name="delivery_activity_state_idx")]

    def __str__(self) -> str:
        return f"{self.activity} → {self.inbox}"


class InboxHealth(models.Model):
    """How a remote inbox has been answering: one that keeps failing is marked dead and skipped."""

    inbox = models.URLField(_("inbox"), max_length=2000, unique=True)
    host = models.CharField(_("host"), max_length=255, db_index=True)
    failing_since = models.DateTimeField(_("failing since"), null=True, blank=True)
    failures = models.PositiveIntegerField(_("failures in a row"), default=0)
    dead = models.BooleanField(_("dead"), default=False, db_index=True)
    last_success_at = models.DateTimeField(_("last success"), null=True, blank=True)

    class Meta:
        verbose_name = _("inbox health")
        verbose_name_plural = _("inbox health")

    def __str__(self) -> str:
        return self.inbox


class FederatedPost(models.Model):
    """What the fediverse was last told about a post: its Article was created, updated or deleted."""

    object_id = models.URLField(_("Article ID"), max_length=2000, unique=True)
    post = models.OneToOneField(
        "posts.Post", null=True, blank=True, on_delete=models.SET_NULL, related_name="federation"
    )
    content_hash = models.CharField(max_length=64, blank=True)
    deleted = models.BooleanField(default=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("federated post")
        verbose_name_plural = _("federated posts")

    def __str__(self) -> str:
        return self.object_id


class RemoteNote(models.Model):
    """A fediverse reply stored as a comment of kind "fediverse": its ActivityPub ID and sender."""

    object_id = models.URLField(_("Note ID"), max_length=2000, unique=True)
    comment = models.OneToOneField(
        "comments.Comment", on_delete=models.CASCADE, related_name="remote_note", verbose_name=_("comment")
    )
    actor = models.ForeignKey(RemoteActor, on_delete=models.CASCADE, related_name="notes")
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("fediverse reply")
        verbose_name_plural = _("fediverse replies")

    def __str__(self) -> str:
        return self.object_id


class FederatedAnswer(models.Model):
    """A local comment sent out as a Note (an author's answer to a fediverse reply)."""

    comment = models.OneToOneField("comments.Comment", on_delete=models.CASCADE, related_name="federated")
    owner = models.CharField(max_length=40)
    object_id = models.URLField(max_length=2000)
    recipients = models.JSONField(default=list)
    deleted = models.BooleanField(default=False)

    def __str__(self) -> str:
        return self.object_id


class Reaction(models.Model):
    """A Like or an Announce (boost) of a post. Never a comment."""

    class Kind(models.TextChoices):
        LIKE = "like", _("Like")
        ANNOUNCE = "announce", _("Boost")

    post = models.ForeignKey("posts.Post", on_delete=models.CASCADE, related_name="reactions")
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    actor = models.ForeignKey(RemoteActor, on_delete=models.CASCADE, related_name="reactions")
    activity_id = models.URLField(_("activity ID"), max_length=2000, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("reaction")
        verbose_name_plural = _("reactions")
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["post", "kind", "actor"], name="reaction_unique_per_actor")
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.actor}"


class DomainBlock(models.Model):
    """Nothing from this domain (or its subdomains) is accepted, and nothing is sent to it."""

    domain = models.CharField(_("domain"), max_length=255, unique=True)
    reason = models.CharField(_("reason"), max_length=500, blank=True)
    imported_from = models.CharField(_("imported from"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("blocked domain")
        verbose_name_plural = _("blocked domains")
        ordering = ["domain"]

    def __str__(self) -> str:
        return self.domain

    def save(self, *args, **kwargs):
        self.domain = self.domain.strip().lower().rstrip(".")
        super().save(*args, **kwargs)


class ActorBlock(models.Model):
    actor_uri = models.URLField(_("actor ID"), max_length=2000, unique=True)
    reason = models.CharField(_("reason"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("blocked actor")
        verbose_name_plural = _("blocked actors")

    def __str__(self) -> str:
        return self.actor_uri


class Report(models.Model):
    """A Flag received from another server: a report about one of our posts, comments or actors."""

    activity_id = models.URLField(_("activity ID"), max_length=2000, unique=True)
    reporter = models.ForeignKey(
        RemoteActor, null=True, blank=True, on_delete=models.SET_NULL, verbose_name=_("reported by")
    )
    domain = models.CharField(_("from server"), max_length=255)
    reported = models.JSONField(_("reported objects"), default=list)
    content = models.TextField(_("message"), blank=True)
    received_at = models.DateTimeField(_("received"), auto_now_add=True)
    resolved = models.BooleanField(_("resolved"), default=False)

    class Meta:
        verbose_name = _("report")
        verbose_name_plural = _("reports")
        ordering = ["resolved", "-received_at"]

    def __str__(self) -> str:
        return f"{self.domain}: {self.content[:60]}"


class InboxReceipt(models.Model):
    """Signatures and activity IDs already accepted: a replayed request is refused by the unique
    digest (across processes), a repeated activity changes nothing twice."""

    signature_digest = models.CharField(max_length=64, unique=True)
    activity_id = models.URLField(max_length=2000, db_index=True)
    received_at = models.DateTimeField(auto_now_add=True, db_index=True)

    def __str__(self) -> str:
        return self.activity_id


def owner_for_user(user) -> str:
    return f"user:{user.pk}"


BLOG_OWNER = "blog"
