"""Background work for the newsletter, run by `manage.py worker`.

- `start_mailing` when a post goes live (on save, or found by `tick` when a scheduled post's time
  comes), then `deliver_post` batches until the ledger has no due row left;
- `tick`, every NEWSLETTER_TICK_SECONDS from the worker's scheduler (PERIODIC_TASKS): starts the
  mailings of newly-live posts and the weekly digest when its slot comes, resumes mailings whose
  batches stopped (a worker restarted), and fails rows a dead worker left half-sent;
- the confirmation and manage-link emails.

Every task may run twice, or on two workers at once: the ledger's unique rows and claims make
the second run find nothing to send.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.tasks import task
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext

from core.origin import absolute_url
from core.queue import enqueue_later
from newsletter import delivery, emails, services
from newsletter.models import Delivery, DigestRun, Mailing, Subscriber
from newsletter.services import Choices, confirmation_key
from posts.models import Post

ACTIVE_WINDOW = timedelta(minutes=2)


@task
def send_confirmation(email: str, language: str, key: str) -> str:
    """The double opt-in email: one signed link that stores the subscription."""
    url = absolute_url(reverse("newsletter:confirm", args=[key]))
    emails.transactional(
        to=email,
        language=language,
        template="confirm",
        context={"confirm_url": url, "days": max(1, settings.NEWSLETTER_CONFIRM_MAX_AGE // 86400)},
    ).send()
    return "sent"


@task
def send_manage_link(email: str, language: str) -> str:
    """A fresh manage link, only to an address that is subscribed."""
    subscriber = services.subscriptions_by_email(email=email).first()
    if subscriber is None:
        return "not subscribed"
    manage_url, unsubscribe_url = services.subscriber_links(subscriber=subscriber)
    emails.transactional(
        to=subscriber.email,
        language=subscriber.language or language,
        template="manage",
        context={"manage_url": manage_url, "unsubscribe_url": unsubscribe_url},
    ).send()
    return "sent"


# --- Post mailings ------------------------------------------------------------------------------------


@task
def start_mailing(post_id: int) -> int:
    """Create the post's ledger rows (once) and start NEWSLETTER_PARALLEL batch chains."""
    mailing = services.mailing_start(post_id=post_id)
    if mailing is None:
        return 0
    if delivery.has_due(Delivery.objects.filter(post_id=post_id, digest__isnull=True)):
        for _chain in range(max(1, settings.NEWSLETTER_PARALLEL)):
            deliver_post.enqueue(post_id)
    return mailing.recipients


@task
def deliver_post(post_id: int) -> dict:
    """Send one batch of a post's mailing, then queue the next while rows are due."""
    report = delivery.post_batch_send(post_id=post_id)
    if report is None:
        return {"paused": "the post is not live"}
    _continue(
        deliver_post,
        post_id,
        rows=Delivery.objects.filter(post_id=post_id, digest__isnull=True),
        worked=report.handled > 0,
    )
    return report.as_dict()


def _continue(chain, key: int, *, rows, worked: bool) -> None:
    """Queue the chain's next batch now if rows are due and this batch did work, or once the
    earliest backed-off row is due."""
    if worked and delivery.has_due(rows):
        chain.enqueue(key)
        return
    when = delivery.next_due(rows)
    if when is not None and when > timezone.now():
        enqueue_later(chain, when, key)


# --- Digests ---------------------------------------------------------------------------------------------


@task
def start_digest(run_id: int) -> int:
    run = DigestRun.objects.filter(pk=run_id).first()
    if run is None:
        return 0
    if run.filled_at is None:
        services.digest_fill(run=run)
    for _chain in range(max(1, settings.NEWSLETTER_PARALLEL)):
        deliver_digest.enqueue(run_id)
    return DigestRun.objects.get(pk=run_id).recipients


@task
def deliver_digest(run_id: int) -> dict:
    report = delivery.digest_batch_send(run_id=run_id)
    _continue(
        deliver_digest, run_id, rows=Delivery.objects.filter(digest_id=run_id), worked=report.handled > 0
    )
    return report.as_dict()


# --- The scheduler's tick ---------------------------------------------------------------------------------


def _idle(rows) -> bool:
    """Due rows wait and no worker has claimed any of these rows lately."""
    recent = timezone.now() - ACTIVE_WINDOW
    return delivery.has_due(rows) and not rows.filter(claimed_at__gte=recent).exists()


@task
def tick() -> dict:
    """Start what is due, resume what stopped, sweep what died (idempotent; several may run)."""
    started = []
    for post_id in services.newly_published_posts().values_list("pk", flat=True):
        start_mailing.enqueue(post_id)
        started.append(post_id)
    run = services.digest_due()
    if run is not None:
        start_digest.enqueue(run.pk)
    resumed = 0
    since = timezone.now() - timedelta(days=8)
    # A start task that stopped halfway (a worker restarted) fills the rest of its ledger.
    stalled = timezone.now() - ACTIVE_WINDOW
    for post_id in Mailing.objects.filter(filled_at__isnull=True, created_at__lt=stalled).values_list(
        "post_id", flat=True
    ):
        start_mailing.enqueue(post_id)
    for run_id in DigestRun.objects.filter(filled_at__isnull=True, created_at__lt=stalled).values_list(
        "pk", flat=True
    ):
        start_digest.enqueue(run_id)
    for mailing in Mailing.objects.filter(created_at__gte=since).only("post_id"):
        if _idle(Delivery.objects.filter(post_id=mailing.post_id, digest__isnull=True)):
            deliver_post.enqueue(mailing.post_id)
            resumed += 1
    for run_id in DigestRun.objects.filter(created_at__gte=since).values_list("pk", flat=True):
        if _idle(Delivery.objects.filter(digest_id=run_id)):
            deliver_digest.enqueue(run_id)
            resumed += 1
    swept = delivery.stale_sweep(older_than=timedelta(minutes=settings.NEWSLETTER_STALE_MINUTES))
    return {"started": started, "digest": run.pk if run else None, "resumed": resumed, "swept": swept}


@task
def send_test(post_id: int, email: str, language: str, content: str) -> str:
    """The admin's "send a test to me": the post's email as a subscriber would get it, to one
    address, outside the ledger (the post need not be published)."""

    post = Post.objects.filter(pk=post_id).first()
    if post is None:
        return "no such post"
    rendered = emails.render_post(post, language=language, full=content == Subscriber.Content.FULL)
    sample = absolute_url(reverse("newsletter:subscribe"))
    with translation.override(language):
        prefix = gettext("[Test]")
    rendered.subject = f"{prefix} {rendered.subject}"
    rendered.message(to=email, manage_url=sample, unsubscribe_url=sample).send()
    return "sent"


# --- Queued from the subscribe and manage pages (newsletter/views.py) -------------------------------


def subscription_request(*, choices: Choices) -> None:
    """Email a signed confirmation link (double opt-in). Nothing is stored until it is followed,
    and the answer is the same whether or not the address is already subscribed."""
    choices = choices.clean()
    key = confirmation_key(choices=choices)
    transaction.on_commit(lambda: send_confirmation.enqueue(choices.email, choices.language, key))


def manage_link_request(*, email: str, language: str) -> None:
    """Email a fresh manage link if the address is subscribed (the answer never says)."""
    address = email.strip()
    transaction.on_commit(lambda: send_manage_link.enqueue(address, language))
