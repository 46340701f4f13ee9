"""Subscriptions: ask, confirm, manage, unsubscribe, bounce; and which posts go to whom.

Keyword-only, typed functions. Email is never sent inline: tasks do it after commit
(newsletter/tasks.py), and post mailings go through the ledger (newsletter/delivery.py).
"""

from __future__ import annotations

import uuid
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Literal

from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from core.origin import absolute_url
from newsletter.models import Delivery, DigestRun, DigestSchedule, Mailing, Subscriber
from posts.models import Category, Post

CONFIRM_SALT = "sectorblog.newsletter.confirm"
LINK_SALT = "sectorblog.newsletter.link"
LANGUAGE_CODES = tuple(code for code, _name in settings.LANGUAGES)


# --- Choices and signed links ---------------------------------------------------------------------


@dataclass
class Choices:
    """What a reader chose: carried in the confirmation link, stored once confirmed."""

    email: str
    post_languages: list[str]
    categories: list[int] | None = None  # None: all posts
    frequency: str = Subscriber.Frequency.IMMEDIATE
    content: str = Subscriber.Content.FULL
    language: str = "en"  # of the emails

    def clean(self) -> Choices:
        """The same choices, checked; raises ValidationError (a forged or stale link, say)."""
        email = self.email.strip()
        validate_email(email)
        if len(email) > 254:
            raise ValidationError("address too long")
        languages = sorted({code for code in self.post_languages if code in LANGUAGE_CODES})
        if not languages:
            raise ValidationError("no language")
        if self.frequency not in Subscriber.Frequency.values or self.content not in Subscriber.Content.values:
            raise ValidationError("unknown choice")
        categories = None
        if self.categories is not None:
            wanted = {int(pk) for pk in self.categories}
            categories = sorted(Category.objects.filter(pk__in=wanted).values_list("pk", flat=True))
            if not categories:
                raise ValidationError("no category")
        language = self.language if self.language in LANGUAGE_CODES else settings.LANGUAGE_CODE
        return Choices(email, languages, categories, self.frequency, self.content, language)

    @classmethod
    def of(cls, subscriber: Subscriber) -> Choices:
        categories = None if subscriber.all_categories else [c.pk for c in subscriber.categories.all()]
        return cls(
            subscriber.email,
            subscriber.languages,
            categories,
            subscriber.frequency,
            subscriber.content,
            subscriber.language,
        )


class LinkError(Exception):
    """A link that is forged, truncated, expired, or names a subscription that is gone."""

    def __init__(self, reason: Literal["invalid", "expired", "gone"]):
        super().__init__(reason)
        self.reason = reason


def _load(key: str, *, salt: str, max_age: int) -> dict:
    try:
        data = signing.loads(key, salt=salt, max_age=max_age)
    except signing.SignatureExpired as exc:
        raise LinkError("expired") from exc
    except signing.BadSignature as exc:
        raise LinkError("invalid") from exc
    if not isinstance(data, dict):
        raise LinkError("invalid")
    return data


def confirmation_key(*, choices: Choices) -> str:
    return signing.dumps(asdict(choices), salt=CONFIRM_SALT, compress=True)


def subscriber_key(*, subscriber: Subscriber) -> str:
    """The signed value in a subscriber's manage and unsubscribe links."""
    return signing.dumps({"s": subscriber.pk, "t": subscriber.token.hex[:16]}, salt=LINK_SALT)


def subscriber_links(*, subscriber: Subscriber) -> tuple[str, str]:
    """(manage URL, unsubscribe URL), absolute."""
    key = subscriber_key(subscriber=subscriber)
    return (
        absolute_url(reverse("newsletter:manage", args=[key])),
        absolute_url(reverse("newsletter:unsubscribe", args=[key])),
    )


def subscriber_from_key(*, key: str) -> Subscriber:
    """The subscriber a manage or unsubscribe link names. Raises LinkError."""
    data = _load(key, salt=LINK_SALT, max_age=settings.NEWSLETTER_LINK_MAX_AGE)
    if not isinstance(data.get("s"), int) or not isinstance(data.get("t"), str):
        raise LinkError("invalid")
    subscriber = Subscriber.objects.filter(pk=data["s"]).first()
    if subscriber is None or subscriber.token.hex[:16] != data["t"]:
        raise LinkError("gone")
    return subscriber


# --- Signing up ------------------------------------------------------------------------------------


def confirmation_choices(*, key: str) -> Choices:
    """The choices a confirmation link carries, checked. Raises LinkError."""
    data = _load(key, salt=CONFIRM_SALT, max_age=settings.NEWSLETTER_CONFIRM_MAX_AGE)
    try:
        return Choices(**data).clean()
    except (TypeError, ValueError, ValidationError) as exc:
        raise LinkError("invalid") from exc


def subscription_confirm(*, key: str) -> Subscriber:
    """Store (or update) the subscription a confirmation link carries. Following it twice is
    harmless. Raises LinkError."""
    choices = confirmation_choices(key=key)
    for _attempt in range(2):
        try:
            with transaction.atomic():
                subscriber = (
                    Subscriber.objects.select_for_update().filter(email__iexact=choices.email).first()
                )
                if subscriber is None:
                    subscriber = Subscriber(email=choices.email, confirmed_at=timezone.now())
                subscriber.state = Subscriber.State.ACTIVE
                subscriber.hard_bounces = 0
                subscriber.suspended_reason = ""
                _apply(subscriber, choices)
                return subscriber
        except IntegrityError:
            continue  # the same link followed twice at once: the other request stored it
    return Subscriber.objects.get(email__iexact=choices.email)


def _apply(subscriber: Subscriber, choices: Choices) -> None:
    subscriber.languages = choices.post_languages
    subscriber.all_categories = choices.categories is None
    subscriber.frequency = choices.frequency
    subscriber.content = choices.content
    subscriber.language = choices.language
    subscriber.save()
    subscriber.categories.set(choices.categories or [])


def subscriber_update(*, subscriber: Subscriber, choices: Choices) -> Subscriber:
    """Change what a subscriber receives (the address stays; changing it means subscribing it).
    Saving also restarts a suspended subscription: the link came through that mailbox."""
    choices = choices.clean()
    choices.email = subscriber.email
    subscriber.state = Subscriber.State.ACTIVE
    subscriber.hard_bounces = 0
    subscriber.suspended_reason = ""
    _apply(subscriber, choices)
    return subscriber


def subscriber_unsubscribe(*, subscriber: Subscriber) -> None:
    """Forget the subscription: its choices and its ledger rows go with it."""
    Subscriber.objects.filter(pk=subscriber.pk).delete()


# --- Bounces and complaints -------------------------------------------------------------------------


def subscriber_bounce(*, subscriber_id: int, reason: str) -> None:
    """A permanent (5xx) refusal: count it; the third suspends the address."""
    with transaction.atomic():
        subscriber = Subscriber.objects.select_for_update().filter(pk=subscriber_id).first()
        if subscriber is None:
            return
        subscriber.hard_bounces += 1
        subscriber.last_bounce = reason[:300]
        if subscriber.hard_bounces >= settings.NEWSLETTER_MAX_HARD_BOUNCES:
            subscriber.state = Subscriber.State.SUSPENDED
            subscriber.suspended_reason = f"{subscriber.hard_bounces} hard bounces"
        subscriber.save(update_fields=["hard_bounces", "last_bounce", "state", "suspended_reason"])


def subscriber_complaint(*, email: str) -> int:
    """A spam complaint (feedback loop, or reported to the admin): suspend at once."""
    return Subscriber.objects.filter(email__iexact=email.strip()).update(
        state=Subscriber.State.SUSPENDED, suspended_reason="complaint", updated_at=timezone.now()
    )


# --- Privacy (registered with the discussion's privacy page) ------------------------------------------


def subscriptions_by_email(*, email: str):
    return Subscriber.objects.filter(email__iexact=email.strip())


def subscriptions_delete(*, email: str) -> int:
    count = subscriptions_by_email(email=email).count()
    subscriptions_by_email(email=email).delete()
    return count


# --- Who gets which post --------------------------------------------------------------------------------


def post_category_ids(post: Post) -> set[int]:
    """The post's categories and all their ancestors: a subscriber to a parent category gets
    the posts of its sub-categories."""
    parents = dict(Category.objects.values_list("id", "parent_id"))
    found: set[int] = set()
    for category_id in post.categories.values_list("pk", flat=True):
        while category_id is not None and category_id not in found:
            found.add(category_id)
            category_id = parents.get(category_id)
    return found


def subscribers_for(*, post: Post, frequency: str, confirmed_before: datetime):
    """Active subscribers of this frequency whose languages and categories take this post."""
    return (
        Subscriber.objects.filter(
            state=Subscriber.State.ACTIVE,
            frequency=frequency,
            confirmed_at__lte=confirmed_before,
            post_languages__contains=f",{post.language},",
        )
        .filter(Q(all_categories=True) | Q(categories__in=post_category_ids(post)))
        .distinct()
    )


def post_is_newly_published(post: Post, *, now: datetime | None = None) -> bool:
    """Live, an article (not a page), and published within NEWSLETTER_SEND_WINDOW_HOURS: old or
    imported posts never go out by email."""
    now = now or timezone.now()
    window = timedelta(hours=settings.NEWSLETTER_SEND_WINDOW_HOURS)
    return post.is_published and not post.is_page and post.published_at >= now - window


def newly_published_posts(*, now: datetime | None = None):
    """Posts inside the send window with no mailing yet: the scheduler starts these."""
    now = now or timezone.now()
    window = timedelta(hours=settings.NEWSLETTER_SEND_WINDOW_HOURS)
    return Post.objects.published().filter(
        is_page=False, published_at__gte=now - window, newsletter_mailing__isnull=True
    )


def mailing_start(*, post_id: int) -> Mailing | None:
    """Create the post's mailing (once) and its ledger rows (idempotent), for the immediate
    subscribers confirmed before the mailing began. Running it again adds nobody twice, and a
    post published again later keeps its first mailing."""
    post = Post.objects.filter(pk=post_id).first()
    if post is None:
        return None
    mailing = Mailing.objects.filter(post=post).first()
    if mailing is None:
        if not post_is_newly_published(post):
            return None
        try:
            with transaction.atomic():
                mailing = Mailing.objects.create(post=post)
        except IntegrityError:  # another worker started it a moment ago
            mailing = Mailing.objects.get(post=post)
    if mailing.filled_at is None:
        ledger_fill(
            post=post,
            subscriber_ids=subscribers_for(
                post=post, frequency=Subscriber.Frequency.IMMEDIATE, confirmed_before=mailing.created_at
            ).values_list("pk", flat=True),
        )
        mailing.recipients = Delivery.objects.filter(post=post, digest__isnull=True).count()
        mailing.filled_at = timezone.now()
        Mailing.objects.filter(pk=mailing.pk).update(
            recipients=mailing.recipients, filled_at=mailing.filled_at
        )
    return mailing


def ledger_fill(*, post: Post, subscriber_ids, digest: DigestRun | None = None, chunk: int = 1000) -> int:
    """Insert a queued ledger row per subscriber, skipping those that exist (unique per
    subscriber and post). Returns how many ids were offered."""
    offered = 0
    batch: list[Delivery] = []
    for subscriber_id in subscriber_ids.iterator(chunk_size=chunk):
        batch.append(Delivery(subscriber_id=subscriber_id, post=post, digest=digest))
        if len(batch) >= chunk:
            Delivery.objects.bulk_create(batch, ignore_conflicts=True)
            offered += len(batch)
            batch = []
    if batch:
        Delivery.objects.bulk_create(batch, ignore_conflicts=True)
        offered += len(batch)
    return offered


# --- The weekly digest -------------------------------------------------------------------------------------


def digest_slot(*, now: datetime | None = None, schedule: DigestSchedule | None = None) -> datetime:
    """The latest scheduled digest time at or before `now`, in the site's time zone."""
    now = timezone.localtime(now or timezone.now())
    schedule = schedule or DigestSchedule.current()
    slot = now.replace(hour=schedule.hour, minute=0, second=0, microsecond=0)
    slot -= timedelta(days=(now.weekday() - schedule.weekday) % 7)
    if slot > now:
        slot -= timedelta(days=7)
    return slot


def digest_due(*, now: datetime | None = None) -> DigestRun | None:
    """The digest run to start now, created once per slot; None when it has started already or
    the slot is more than a day old (a worker that was down does not send last week's digest)."""
    now = now or timezone.now()
    slot = digest_slot(now=now)
    if now - slot > timedelta(days=1) or DigestRun.objects.filter(slot=slot).exists():
        return None
    try:
        with transaction.atomic():
            return DigestRun.objects.create(slot=slot)
    except IntegrityError:
        return None


def digest_posts(*, run: DigestRun):
    """The posts a digest may hold: articles published in the eight days up to its slot."""
    return (
        Post.objects.published()
        .filter(is_page=False, published_at__lte=run.slot, published_at__gt=run.slot - timedelta(days=8))
        .order_by("published_at")
    )


def digest_fill(*, run: DigestRun) -> int:
    """Ledger rows for every weekly subscriber and each post of the week they take and have not
    had yet (a post that already reached them, e.g. before they switched to weekly, is skipped)."""
    offered = 0
    for post in digest_posts(run=run):
        offered += ledger_fill(
            post=post,
            digest=run,
            subscriber_ids=subscribers_for(
                post=post, frequency=Subscriber.Frequency.WEEKLY, confirmed_before=post.published_at
            ).values_list("pk", flat=True),
        )
    DigestRun.objects.filter(pk=run.pk).update(
        recipients=Delivery.objects.filter(digest=run).values("subscriber_id").distinct().count(),
        filled_at=timezone.now(),
    )
    return offered


def new_claim() -> str:
    return uuid.uuid4().hex
