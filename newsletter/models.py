"""Subscribers, the delivery ledger, and the weekly digest's schedule.

A `Subscriber` row exists only once its address is confirmed (double opt-in): until then the
choices travel inside the signed confirmation link, so a flood of sign-ups stores nothing.
Unsubscribing deletes the row, its choices and its ledger rows.

`Delivery` is the ledger: one row per (subscriber, post), unique, created before anything is sent
and moved queued → sending → sent (or failed, bounced) by whichever worker claims it. That unique
row is what makes a post reach each subscriber exactly once, whatever the number of workers,
retries, or times the post is unpublished and published again.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _


class Subscriber(models.Model):
    class State(models.TextChoices):
        ACTIVE = "active", _("Active")
        SUSPENDED = "suspended", _("Suspended")

    class Frequency(models.TextChoices):
        IMMEDIATE = "immediate", _("Each post as it is published")
        WEEKLY = "weekly", _("A weekly digest")

    class Content(models.TextChoices):
        FULL = "full", _("The full post")
        EXCERPT = "excerpt", _("An excerpt with a link")

    email = models.EmailField(_("email address"), max_length=254)
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.ACTIVE)
    frequency = models.CharField(
        _("frequency"), max_length=10, choices=Frequency.choices, default=Frequency.IMMEDIATE
    )
    content = models.CharField(_("content"), max_length=10, choices=Content.choices, default=Content.FULL)
    language = models.CharField(
        _("language of the emails"), max_length=10, choices=settings.LANGUAGES, default="en"
    )
    # The post languages this reader reads, stored as ",en,fr," so that one `contains` lookup
    # matches a language on SQLite and PostgreSQL alike.
    post_languages = models.CharField(_("post languages"), max_length=100, default=",en,")
    all_categories = models.BooleanField(_("all posts"), default=True)
    categories = models.ManyToManyField(
        "posts.Category", blank=True, related_name="newsletter_subscribers", verbose_name=_("categories")
    )
    # Bound into every signed link: a link made for an earlier subscription of the same address
    # (unsubscribed, then subscribed again) names a row that no longer exists.
    token = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    hard_bounces = models.PositiveSmallIntegerField(_("hard bounces"), default=0)
    last_bounce = models.CharField(_("last bounce"), max_length=300, blank=True)
    suspended_reason = models.CharField(_("why suspended"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("subscribed"), auto_now_add=True)
    confirmed_at = models.DateTimeField(_("confirmed"))
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("subscriber")
        verbose_name_plural = _("subscribers")
        constraints = [models.UniqueConstraint(Lower("email"), name="newsletter_subscriber_email_unique")]
        indexes = [models.Index(fields=["state", "frequency"], name="newsletter_sub_state_idx")]

    def __str__(self) -> str:
        return self.email

    @property
    def languages(self) -> list[str]:
        return [code for code in self.post_languages.split(",") if code]

    @languages.setter
    def languages(self, codes) -> None:
        self.post_languages = "," + ",".join(sorted(set(codes))) + ","


class Mailing(models.Model):
    """One post sent to the immediate subscribers: created once per post, never again."""

    post = models.OneToOneField(
        "posts.Post", on_delete=models.CASCADE, related_name="newsletter_mailing", verbose_name=_("post")
    )
    created_at = models.DateTimeField(_("started"), auto_now_add=True)
    # Set once every ledger row exists; until then (a worker stopped halfway) the start task and
    # the scheduler's tick fill it again, which adds only the rows that are missing.
    filled_at = models.DateTimeField(null=True, blank=True, editable=False)
    recipients = models.PositiveIntegerField(_("recipients"), default=0)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("post mailing")
        verbose_name_plural = _("post mailings")

    def __str__(self) -> str:
        return str(self.post)


class DigestRun(models.Model):
    """One weekly digest, for one scheduled slot; the unique slot makes it start once."""

    slot = models.DateTimeField(_("scheduled for"), unique=True)
    created_at = models.DateTimeField(_("started"), auto_now_add=True)
    filled_at = models.DateTimeField(null=True, blank=True, editable=False)  # as Mailing.filled_at
    recipients = models.PositiveIntegerField(_("recipients"), default=0)

    class Meta:
        ordering = ["-slot"]
        verbose_name = _("digest")
        verbose_name_plural = _("digests")

    def __str__(self) -> str:
        return f"{self.slot:%Y-%m-%d %H:%M}"


class Delivery(models.Model):
    """The ledger: this post, for this subscriber, and what became of it."""

    class State(models.TextChoices):
        QUEUED = "queued", _("Queued")
        SENDING = "sending", _("Sending")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")
        BOUNCED = "bounced", _("Bounced")

    subscriber = models.ForeignKey(
        Subscriber, on_delete=models.CASCADE, related_name="deliveries", verbose_name=_("subscriber")
    )
    post = models.ForeignKey(
        "posts.Post", on_delete=models.CASCADE, related_name="newsletter_deliveries", verbose_name=_("post")
    )
    digest = models.ForeignKey(
        DigestRun,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="deliveries",
        verbose_name=_("digest"),
    )
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.QUEUED)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"), null=True, blank=True)
    claim = models.CharField(max_length=32, blank=True, editable=False)
    claimed_at = models.DateTimeField(null=True, blank=True, editable=False)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    error = models.CharField(_("reason"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("queued"), auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("delivery")
        verbose_name_plural = _("deliveries")
        constraints = [
            models.UniqueConstraint(fields=["subscriber", "post"], name="newsletter_delivery_once"),
        ]
        indexes = [
            models.Index(fields=["post", "state"], name="newsletter_delivery_post_idx"),
            models.Index(fields=["digest", "state"], name="newsletter_delivery_digest_idx"),
            models.Index(fields=["claim"], name="newsletter_delivery_claim_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.post} → {self.subscriber}"


class DigestSchedule(models.Model):
    """When the weekly digest goes out (one row, edited in the admin)."""

    class Weekday(models.IntegerChoices):
        MONDAY = 0, _("Monday")
        TUESDAY = 1, _("Tuesday")
        WEDNESDAY = 2, _("Wednesday")
        THURSDAY = 3, _("Thursday")
        FRIDAY = 4, _("Friday")
        SATURDAY = 5, _("Saturday")
        SUNDAY = 6, _("Sunday")

    weekday = models.PositiveSmallIntegerField(_("day"), choices=Weekday.choices, default=Weekday.MONDAY)
    hour = models.PositiveSmallIntegerField(
        _("hour"),
        default=8,
        choices=[(h, f"{h:02d}:00") for h in range(24)],
        help_text=_("In the site's time zone."),
    )

    class Meta:
        verbose_name = _("digest schedule")
        verbose_name_plural = _("digest schedule")

    def __str__(self) -> str:
        return f"{self.get_weekday_display()} {self.hour:02d}:00"

    @classmethod
    def current(cls) -> DigestSchedule:
        schedule, _created = cls.objects.get_or_create(pk=1)
        return schedule
