"""Domain events: catalogue, transactional outbox, relay and idempotent consumers.

`publish(name, payload)` writes an OutboxEvent in the caller's transaction, so
an event exists if and only if the change committed. After commit it is handed
to in-process receivers (`on_event`) and relayed to RabbitMQ through Celery
with publisher confirms. What could not be sent stays pending; the sweeper
(`outbox_sweep`) retries it with exponential backoff and dead-letters it after
OUTBOX_MAX_ATTEMPTS. Celery-side consumers (`consumer`) apply each event id at
most once, recorded by an AppliedEvent receipt in the consumer's transaction.
"""

import logging
import time
import uuid
from collections import defaultdict
from collections.abc import Callable
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from salesapp.models import AppliedEvent, OutboxEvent

log = logging.getLogger(__name__)

# name -> required payload keys: every key a consumer reads. The one place payload schemas are declared. An event means exactly
# what its name says: `*.updated` carries `fields`, the names of the fields whose values changed (never
# empty); `*.stage_changed` only when the stage changed; `*.scored` when a score or its model changed.
CATALOGUE: dict[str, tuple[str, ...]] = {
    "lead.created": ("lead_id",),
    "lead.updated": ("lead_id", "fields"),
    "lead.deleted": ("lead_id",),
    "lead.qualified": ("lead_id",),
    "lead.assigned": ("lead_id", "assigned_to", "territory_id"),
    "lead.scored": ("lead_id", "score", "model"),
    "lead.converted": ("lead_id", "opportunity_id", "account_id", "contact_id"),
    "lead.merged": ("lead_id", "merged_lead_id"),
    "account.created": ("account_id", "owner_id"),
    "account.updated": ("account_id", "owner_id", "fields"),
    "account.deleted": ("account_id", "owner_id"),
    "contact.created": ("contact_id", "account_id"),
    "contact.updated": ("contact_id", "account_id", "fields"),
    "contact.deleted": ("contact_id", "account_id"),
    "opportunity.created": ("opportunity_id", "owner_id", "stage"),
    "opportunity.updated": ("opportunity_id", "owner_id", "territory_id", "stage", "actual_close_date", "fields"),
    "opportunity.deleted": ("opportunity_id", "owner_id", "territory_id", "stage", "actual_close_date"),
    "opportunity.stage_changed": ("opportunity_id", "from_stage", "to_stage"),
    "opportunity.scored": ("opportunity_id", "score", "model"),
    "opportunity.won": ("opportunity_id", "owner_id", "territory_id", "stage", "amount", "actual_close_date"),
    "opportunity.lost": ("opportunity_id", "owner_id", "territory_id", "stage", "actual_close_date"),
    "opportunity.reopened": ("opportunity_id", "owner_id", "territory_id", "stage", "actual_close_date"),
    "territory.created": ("territory_id",),
    "territory.updated": ("territory_id", "fields"),
    "territory.deleted": ("territory_id",),
    "territory.assignment_changed": ("record_type", "record_id", "from_territory_id", "to_territory_id"),
    "quota.set": ("quota_id",),
    "quota.updated": ("quota_id",),
    "quota.attained": ("quota_id", "attainment_percentage"),
    "activity.logged": ("activity_id", "type", "lead_id", "opportunity_id", "account_id", "user_id", "occurred_at",
                        "completed_at"),
    "activity.completed": ("activity_id", "type", "lead_id", "opportunity_id", "account_id", "user_id", "occurred_at",
                           "completed_at"),
    "activity.updated": ("activity_id", "type", "lead_id", "opportunity_id", "account_id", "user_id", "occurred_at",
                         "completed_at", "fields"),
    "activity.deleted": ("activity_id", "type", "lead_id", "opportunity_id", "account_id", "user_id", "occurred_at",
                         "completed_at"),
}


class UnknownEvent(ValueError):
    """An event name outside the catalogue, or a payload missing its keys."""


_receivers: dict[str, list[Callable[[dict], None]]] = defaultdict(list)
_consumers: dict[str, list[tuple[str, Callable[[dict], None]]]] = defaultdict(list)


def on_event(*names: str):
    """Register an in-process receiver, run synchronously after commit.

    Receivers get the event dict ({id, name, payload, created_at}). Use them for
    cache invalidation and denormalised counters: quick, local work.
    """

    def register(fn):
        for name in names:
            _check_name(name)
            if fn not in _receivers[name]:
                _receivers[name].append(fn)
        return fn

    return register


def consumer(key: str, *names: str):
    """Register an idempotent Celery-side consumer under a stable `key`.

    The consumer runs in its own transaction with an AppliedEvent receipt, so a
    redelivered event is applied once.
    """

    def register(fn):
        for name in names:
            _check_name(name)
            if all(k != key for k, _ in _consumers[name]):
                _consumers[name].append((key, fn))
        return fn

    return register


def _check_name(name: str) -> None:
    if name not in CATALOGUE:
        raise UnknownEvent(f"unknown event {name!r}")


def _check_payload(name: str, payload: dict) -> None:
    _check_name(name)
    missing = [k for k in CATALOGUE[name] if k not in payload]
    if missing:
        raise UnknownEvent(f"{name} payload lacks {', '.join(missing)}")
    if "fields" in CATALOGUE[name] and not payload["fields"]:
        raise UnknownEvent(f"{name} names no changed field; publish nothing when nothing changed")
    if name.endswith(".stage_changed") and payload["from_stage"] == payload["to_stage"]:
        raise UnknownEvent(f"{name} from {payload['from_stage']!r} to the same stage")


def publish(name: str, payload: dict, *, actor=None) -> OutboxEvent:
    """Record an event in the current transaction; deliver it after commit."""
    _check_payload(name, payload)
    event = OutboxEvent.objects.create(
        name=name, payload=payload, actor=actor if getattr(actor, "pk", None) else None
    )
    transaction.on_commit(lambda: _after_commit([event]))
    return event


def publish_many(name: str, payloads: list[dict], *, actor=None) -> list[OutboxEvent]:
    """Record one event per payload in the current transaction, in one insert; deliver them after commit.

    For bulk paths (a score refresh of every open deal): the same events as `publish` in a loop, written and
    marked sent in batches instead of a statement each.
    """
    for payload in payloads:
        _check_payload(name, payload)
    actor = actor if getattr(actor, "pk", None) else None
    events = OutboxEvent.objects.bulk_create(
        [OutboxEvent(name=name, payload=payload, actor=actor) for payload in payloads], batch_size=1000)
    if events:
        transaction.on_commit(lambda: _after_commit(events))
    return events


def event_dict(event: OutboxEvent) -> dict:
    """The plain form an event travels in: ids and values only."""
    return {
        "id": str(event.id),
        "name": event.name,
        "payload": event.payload,
        "created_at": event.created_at.isoformat(),
    }


def _after_commit(events: list[OutboxEvent]) -> None:
    for event in events:
        data = event_dict(event)
        for receiver in list(_receivers.get(event.name, ())):
            try:
                receiver(data)
            except Exception:  # a receiver's failure must not undo a committed change
                log.exception("in-process receiver %s failed for %s", receiver, event.name)
    relay_many(events)


_breaker = {"open_until": 0.0}


def relay(event: OutboxEvent, *, force: bool = False) -> bool:
    """Send one outbox row to the broker; mark it sent, or schedule a retry."""
    return relay_many([event], force=force) == 1


def relay_many(events: list[OutboxEvent], *, force: bool = False) -> int:
    """Send outbox rows to the broker in order; mark those sent (one UPDATE per thousand), answer how many.

    At the first failure that row gets a retry with backoff and the rest stay pending for the sweeper.
    After a failure the breaker stays open for OUTBOX_BREAKER_SECONDS: requests then leave their events
    pending for the sweeper (which forces a send) rather than each one waiting on a dead broker.
    """
    from salesapp.tasks import event_deliver_task

    sent: list = []
    try:
        for event in events:
            if not force and time.monotonic() < _breaker["open_until"]:
                break
            try:
                event_deliver_task.apply_async(args=[event_dict(event)], retry=False,
                                               headers={"event_name": event.name})
            except ConsumerFailed as exc:  # delivered in process (eager): the consumer failed, not the broker
                OutboxEvent.objects.filter(pk=event.pk).update(last_error=str(exc)[:2000])
            except Exception as exc:  # broker down or publish not confirmed
                _breaker["open_until"] = time.monotonic() + settings.OUTBOX_BREAKER_SECONDS
                _schedule_retry(event, exc)
                break
            _breaker["open_until"] = 0.0
            sent.append(event.pk)
    finally:
        now = timezone.now()
        for start in range(0, len(sent), 1000):
            OutboxEvent.objects.filter(pk__in=sent[start:start + 1000]).update(
                status=OutboxEvent.Status.SENT, sent_at=now)
    return len(sent)


def _schedule_retry(event: OutboxEvent, exc: Exception) -> None:
    attempts = event.attempts + 1
    dead = attempts >= settings.OUTBOX_MAX_ATTEMPTS
    delay = timedelta(seconds=min(settings.OUTBOX_BACKOFF_SECONDS * 2 ** (attempts - 1), 3600))
    OutboxEvent.objects.filter(pk=event.pk).update(
        attempts=attempts,
        status=OutboxEvent.Status.DEAD if dead else OutboxEvent.Status.PENDING,
        next_attempt_at=timezone.now() + delay,
        last_error=f"{type(exc).__name__}: {exc}"[:2000],
    )
    (log.error if dead else log.warning)("event %s %s not relayed (attempt %s): %s", event.name, event.id, attempts, exc)


def outbox_sweep(*, limit: int = 1000, now=None) -> dict:
    """Resend due pending events, oldest first; stop at the first broker failure."""
    now = now or timezone.now()
    # A row may be in its first relay right now; sending it twice is harmless
    # because consumers apply each event id once.
    due = list(
        OutboxEvent.objects.filter(status=OutboxEvent.Status.PENDING, next_attempt_at__lte=now).order_by("created_at")[
            :limit
        ]
    )
    sent = relay_many(due, force=True)
    return {"due": len(due), "sent": sent, "failed": int(sent < len(due))}


def outbox_requeue_dead() -> int:
    """Give dead-lettered events a fresh set of attempts (an admin action)."""
    return OutboxEvent.objects.filter(status=OutboxEvent.Status.DEAD).update(
        status=OutboxEvent.Status.PENDING, attempts=0, next_attempt_at=timezone.now()
    )


class ConsumerFailed(RuntimeError):
    """Some consumers of a delivered event raised; every other consumer was applied."""

    def __init__(self, event: dict, failed: list[str]):
        super().__init__(f"{event['name']} {event['id']}: consumers {', '.join(failed)} failed")
        self.failed = failed


def deliver(event: dict) -> list[str]:
    """Apply an event to every consumer that has not applied it yet; one failing consumer never blocks the others.

    Each consumer runs in its own transaction with its receipt, so a failed one leaves no receipt and is
    applied again when the event is redelivered; the ones that succeeded are not.
    """
    applied, failed = [], []
    event_id = uuid.UUID(event["id"])
    for key, fn in list(_consumers.get(event["name"], ())):
        try:
            with transaction.atomic():
                try:
                    with transaction.atomic():
                        AppliedEvent.objects.create(consumer=key, event_id=event_id)
                except IntegrityError:
                    continue  # already applied: a redelivery
                fn(event)
        except Exception:  # the consumer's own failure: recorded, and the next consumer still runs
            log.exception("consumer %s failed on %s %s", key, event["name"], event["id"])
            failed.append(key)
            continue
        applied.append(key)
    if failed:
        raise ConsumerFailed(event, failed)
    return applied
