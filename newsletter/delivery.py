"""Sending the ledger's rows: claim a batch, send it over one SMTP connection, record each answer.

Claiming moves rows from queued to sending under a claim token, in one short transaction that
skips rows another worker holds (SELECT … FOR UPDATE SKIP LOCKED on PostgreSQL; SQLite's write
transactions are serial anyway). A row is sent only by the worker whose claim it carries, and
only once: a row left in "sending" by a worker that died is not sent again (it is marked failed
by the sweep), because the mail server may already have accepted it.

SMTP answers (RFC 5321 §4.2.1): 2xx sent; 4xx (and a dropped connection) is temporary, so the
row is queued again with exponential backoff until NEWSLETTER_MAX_ATTEMPTS; 5xx is permanent, the
row is marked bounced and the address counts a hard bounce (three suspend it).
"""

from __future__ import annotations

import logging
import smtplib
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.core.mail import mailers
from django.db import connection, transaction
from django.db.models import Min, Q
from django.utils import timezone

from newsletter import emails, services
from newsletter.models import Delivery, Subscriber
from newsletter.throttle import rate_wait
from posts.models import Post

logger = logging.getLogger(__name__)


@dataclass
class SendReport:
    sent: int = 0
    retry: int = 0
    failed: int = 0
    bounced: int = 0
    errors: list[str] = field(default_factory=list)

    @property
    def handled(self) -> int:
        return self.sent + self.retry + self.failed + self.bounced

    def as_dict(self) -> dict:
        return {"sent": self.sent, "retry": self.retry, "failed": self.failed, "bounced": self.bounced}


@dataclass
class Answer:
    outcome: str  # "sent", "temporary", "permanent"
    reason: str = ""


class Outbox:
    """One connection to the outgoing server for a whole batch, reopened if it drops."""

    def __init__(self):
        self.connection = mailers.default

    def __enter__(self) -> Outbox:
        return self

    def __exit__(self, *exc) -> None:
        try:
            self.connection.close()
        except Exception:  # closing a broken connection must not hide the batch's outcome
            logger.warning("closing the SMTP connection failed", exc_info=True)

    def send(self, message) -> Answer:
        rate_wait(bucket="newsletter-smtp", per_second=settings.NEWSLETTER_SEND_RATE)
        try:
            if self.connection.open() is None:  # a backend that failed silently
                return Answer("temporary", "could not connect")
            sent = self.connection.send_messages([message])
        except smtplib.SMTPRecipientsRefused as exc:
            code, text = next(iter(exc.recipients.values()))
            return _classify(code, text)
        except smtplib.SMTPSenderRefused as exc:
            # Our sender address refused: the server's or our configuration, not the reader's.
            return Answer("temporary", _reason(exc.smtp_code, exc.smtp_error))
        except smtplib.SMTPResponseException as exc:
            self._reset()
            return _classify(exc.smtp_code, exc.smtp_error)
        except (smtplib.SMTPException, OSError) as exc:  # dropped or refused connection, timeout
            self._reset()
            return Answer("temporary", str(exc)[:300] or exc.__class__.__name__)
        return Answer("sent") if sent else Answer("temporary", "not accepted")

    def _reset(self) -> None:
        try:
            self.connection.close()
        except Exception:
            self.connection.connection = None


def _reason(code: int, text) -> str:
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    return f"{code} {text}"[:300]


def _classify(code: int, text) -> Answer:
    if 500 <= code < 600:
        return Answer("permanent", _reason(code, text))
    return Answer("temporary", _reason(code, text))


# --- Claiming -------------------------------------------------------------------------------------------


def _due() -> Q:
    return Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=timezone.now())


def deliveries_claim(*, rows, limit: int) -> tuple[str, list[Delivery]]:
    """Move up to `limit` due queued rows of `rows` to sending under a new claim token."""
    claim = services.new_claim()
    with transaction.atomic():
        candidates = rows.filter(_due(), state=Delivery.State.QUEUED).order_by("pk")
        if connection.features.has_select_for_update_skip_locked:
            candidates = candidates.select_for_update(skip_locked=True)
        ids = list(candidates.values_list("pk", flat=True)[:limit])
        if not ids:
            return claim, []
        Delivery.objects.filter(pk__in=ids, state=Delivery.State.QUEUED).update(
            state=Delivery.State.SENDING, claim=claim, claimed_at=timezone.now()
        )
    claimed = list(Delivery.objects.filter(claim=claim).select_related("subscriber").order_by("pk"))
    return claim, claimed


def digest_claim(*, run_id: int, limit: int) -> tuple[str, list[Delivery]]:
    """Claim every due queued row of up to `limit` subscribers of a digest, whole subscribers at a
    time (their rows make one email), by locking those subscribers' rows first."""
    claim = services.new_claim()
    with transaction.atomic():
        waiting = Subscriber.objects.filter(
            pk__in=Delivery.objects.filter(_due(), digest_id=run_id, state=Delivery.State.QUEUED).values(
                "subscriber_id"
            )
        ).order_by("pk")
        if connection.features.has_select_for_update_skip_locked:
            waiting = waiting.select_for_update(skip_locked=True)
        subscriber_ids = list(waiting.values_list("pk", flat=True)[:limit])
        if not subscriber_ids:
            return claim, []
        Delivery.objects.filter(
            digest_id=run_id, subscriber_id__in=subscriber_ids, state=Delivery.State.QUEUED
        ).update(state=Delivery.State.SENDING, claim=claim, claimed_at=timezone.now())
    claimed = list(
        Delivery.objects.filter(claim=claim)
        .select_related("subscriber", "post")
        .order_by("post__published_at")
    )
    return claim, claimed


def next_due(rows):
    """When the earliest waiting (backed-off) row of `rows` is due, or None."""
    return rows.filter(state=Delivery.State.QUEUED).aggregate(at=Min("next_attempt_at"))["at"]


def has_due(rows) -> bool:
    return rows.filter(_due(), state=Delivery.State.QUEUED).exists()


# --- Recording outcomes ---------------------------------------------------------------------------------


def _record(claim: str, outcomes: dict[str, list[tuple[int, Delivery, Answer]]], report: SendReport) -> None:
    """Write each row's outcome; bulk for the common case (sent)."""
    now = timezone.now()
    sent_ids = [d.pk for _sid, d, _a in outcomes["sent"]]
    if sent_ids:
        Delivery.objects.filter(pk__in=sent_ids, claim=claim).update(
            state=Delivery.State.SENT, sent_at=now, error="", attempts=1
        )
        report.sent += len(sent_ids)
    for _sid, delivery, answer in outcomes["temporary"]:
        attempts = delivery.attempts + 1
        if attempts >= settings.NEWSLETTER_MAX_ATTEMPTS:
            state, when = Delivery.State.FAILED, None
            report.failed += 1
        else:
            state = Delivery.State.QUEUED
            when = now + timedelta(seconds=settings.NEWSLETTER_RETRY_BASE_SECONDS * 2 ** (attempts - 1))
            report.retry += 1
        Delivery.objects.filter(pk=delivery.pk, claim=claim).update(
            state=state, attempts=attempts, next_attempt_at=when, error=answer.reason, claim=""
        )
        report.errors.append(answer.reason)
    bounced_subscribers = set()
    for subscriber_id, delivery, answer in outcomes["permanent"]:
        Delivery.objects.filter(pk=delivery.pk, claim=claim).update(
            state=Delivery.State.BOUNCED, attempts=delivery.attempts + 1, error=answer.reason
        )
        report.bounced += 1
        report.errors.append(answer.reason)
        if subscriber_id not in bounced_subscribers:  # a digest refused once is one bounce
            bounced_subscribers.add(subscriber_id)
            services.subscriber_bounce(subscriber_id=subscriber_id, reason=answer.reason)


def release(*, claim: str) -> int:
    """Put claimed rows back in the queue untouched (the post was unpublished meanwhile)."""
    return Delivery.objects.filter(claim=claim, state=Delivery.State.SENDING).update(
        state=Delivery.State.QUEUED, claim="", claimed_at=None
    )


# --- Batches --------------------------------------------------------------------------------------------


def post_batch_send(*, post_id: int, limit: int | None = None) -> SendReport | None:
    """Claim and send one batch of a post's mailing. None when the post is no longer live (the
    rows wait in the queue until it is published again)."""
    report = SendReport()
    post = Post.objects.published().filter(pk=post_id).prefetch_related("authorships__user__profile").first()
    rows = Delivery.objects.filter(post_id=post_id, digest__isnull=True)
    if post is None:
        return None
    claim, claimed = deliveries_claim(rows=rows, limit=limit or settings.NEWSLETTER_BATCH_SIZE)
    if not claimed:
        return report
    rendered: dict[tuple[str, bool], emails.Rendered] = {}
    outcomes: dict[str, list] = defaultdict(list)
    with Outbox() as outbox:
        for delivery in claimed:
            subscriber = delivery.subscriber
            variant = (subscriber.language, subscriber.content == Subscriber.Content.FULL)
            if variant not in rendered:
                rendered[variant] = emails.render_post(post, language=variant[0], full=variant[1])
            manage_url, unsubscribe_url = services.subscriber_links(subscriber=subscriber)
            message = rendered[variant].message(
                to=subscriber.email, manage_url=manage_url, unsubscribe_url=unsubscribe_url
            )
            answer = outbox.send(message)
            outcomes[answer.outcome].append((subscriber.pk, delivery, answer))
    _record(claim, outcomes, report)
    return report


def digest_batch_send(*, run_id: int, limit: int | None = None) -> SendReport:
    """Claim a batch of a digest's subscribers and send each one email listing their posts."""
    report = SendReport()
    claim, claimed = digest_claim(run_id=run_id, limit=limit or settings.NEWSLETTER_BATCH_SIZE)
    if not claimed:
        return report
    by_subscriber: dict[int, list[Delivery]] = defaultdict(list)
    for delivery in claimed:
        by_subscriber[delivery.subscriber_id].append(delivery)
    outcomes: dict[str, list] = defaultdict(list)
    live = set(
        Post.objects.published().filter(pk__in={d.post_id for d in claimed}).values_list("pk", flat=True)
    )
    with Outbox() as outbox:
        for subscriber_id, rows in by_subscriber.items():
            subscriber = rows[0].subscriber
            posts = [d.post for d in rows if d.post_id in live]
            if not posts:  # every post of theirs was unpublished: nothing to say this week
                Delivery.objects.filter(pk__in=[d.pk for d in rows]).update(
                    state=Delivery.State.FAILED, error="unpublished before the digest", claim=""
                )
                continue
            rendered = emails.render_digest(
                posts, language=subscriber.language, full=subscriber.content == Subscriber.Content.FULL
            )
            manage_url, unsubscribe_url = services.subscriber_links(subscriber=subscriber)
            answer = outbox.send(
                rendered.message(to=subscriber.email, manage_url=manage_url, unsubscribe_url=unsubscribe_url)
            )
            for delivery in rows:
                outcomes[answer.outcome].append((subscriber_id, delivery, answer))
    _record(claim, outcomes, report)
    return report


def stale_sweep(*, older_than: timedelta) -> int:
    """Rows a worker claimed and never finished (it died mid-batch): failed, not resent, since
    the server may have accepted them."""
    return Delivery.objects.filter(
        state=Delivery.State.SENDING, claimed_at__lt=timezone.now() - older_than
    ).update(state=Delivery.State.FAILED, error="interrupted while sending; not resent to avoid a duplicate")
