"""Domain events: catalogue, transactional outbox, relay and idempotent consumers.

`publish(name, payload)` writes an OutboxEvent in the caller's transaction, so
an event exists if and only if the change committed. After commit it is handed
to in-process receivers (`on_event`) and relayed to RabbitMQ through Celery
with publisher confirms; an event no Celery-side consumer listens to is marked
sent and applied without a broker message.

What the request could not send stays pending. Fresh rows belong to the
request's own send for OUTBOX_GRACE_SECONDS; after that the sweeper claims due
rows (FOR UPDATE SKIP LOCKED, then a claim that moves them out of the due set)
so no row is ever sent by two senders at once, and drains them in batches.

Each consumer of an event runs in its own transaction with an AppliedEvent
receipt, so a redelivered event is applied once per consumer, and one failing
consumer never skips another. A failed (event, consumer) pair is retried alone
with exponential backoff and dead-lettered after CONSUMER_MAX_ATTEMPTS
(ConsumerFailure, visible and requeueable in the admin). The reconciler
compares sent events with their receipts and re-drives any pair that never
applied, whatever was lost on the way (a dead worker, a failed retry publish).
"""

import logging
import time
import uuid
from collections import defaultdict
from collections.abc import Callable
from contextlib import contextmanager
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, InterfaceError, OperationalError, connection, transaction
from django.db.models import Q
from django.utils import timezone
from kombu.exceptions import OperationalError as BrokerError

from salesapp.celery import tasks_run_in_process
from salesapp.locks import rows_lock
from salesapp.logs import current_request_id, request_id_var
from salesapp.models import AppliedEvent, ConsumerFailure, OutboxEvent

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
    # One per written batch of an import of history (not one per row): the ids written.
    "lead.imported": ("lead_ids",),
    "account.created": ("account_id", "owner_id"),
    "account.updated": ("account_id", "owner_id", "fields"),
    "account.deleted": ("account_id", "owner_id"),
    "saved_view.created": ("saved_view_id", "user_id", "list_key"),
    "saved_view.updated": ("saved_view_id", "user_id", "list_key"),
    "saved_view.deleted": ("saved_view_id", "user_id", "list_key"),
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
    "opportunity.archived": ("opportunity_id", "owner_id", "territory_id", "stage", "actual_close_date"),
    "opportunity.restored": ("opportunity_id", "owner_id", "territory_id", "stage", "actual_close_date"),
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
    # One per written batch of an import: the records the activities touched, with the latest time on each.
    # An import job wrote its rows: the kinds it carried and how many records it created and updated.
    "import.finished": ("job_id", "kinds", "created", "updated"),
    # lead_counts: [lead id, activities added, latest time]; *_last: [id, latest time].
    "activity.imported": ("activity_ids", "lead_ids", "lead_counts", "opportunity_last", "account_last", "user_ids"),
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
        name=name, payload=payload, actor=actor if getattr(actor, "pk", None) else None,
        next_attempt_at=_grace_end(), request_id=current_request_id(),
    )
    transaction.on_commit(lambda: _after_commit([event]))
    return event


def publish_many(name: str, payloads: list[dict], *, actor=None) -> list[OutboxEvent]:
    """Record one event per payload in the current transaction, in one insert; deliver them after commit.

    For bulk paths (a score refresh of every open deal): the same events as `publish` in a loop, written and
    marked sent in batches instead of a statement each.
    """
    return publish_all([(name, payload) for payload in payloads], actor=actor)


def publish_all(named: list[tuple[str, dict]], *, actor=None) -> list[OutboxEvent]:
    """Record events of any names (a stage move and the update that came with it), in order, in one insert."""
    for name, payload in named:
        _check_payload(name, payload)
    actor = actor if getattr(actor, "pk", None) else None
    due, request_id = _grace_end(), current_request_id()
    events = OutboxEvent.objects.bulk_create(
        [OutboxEvent(name=name, payload=payload, actor=actor, next_attempt_at=due, request_id=request_id)
         for name, payload in named],
        batch_size=1000)
    if events:
        transaction.on_commit(lambda: _after_commit(events))
    return events


def _grace_end():
    """Until then a fresh row belongs to its request's own after-commit send; the sweeper leaves it alone."""
    return timezone.now() + timedelta(seconds=settings.OUTBOX_GRACE_SECONDS)


def event_dict(event: OutboxEvent) -> dict:
    """The plain form an event travels in: ids and values only, and the id of the request that caused it."""
    return {
        "id": str(event.id),
        "name": event.name,
        "payload": event.payload,
        "created_at": event.created_at.isoformat(),
        "request_id": event.request_id,
    }


def consumer_keys(name: str) -> list[str]:
    """The Celery-side consumers of an event name, in registration order."""
    return [key for key, _ in _consumers.get(name, ())]


def consumer_event_names() -> dict[str, list[str]]:
    """Each Celery-side consumer with the event names it applies."""
    names: dict[str, list[str]] = defaultdict(list)
    for name, consumers in _consumers.items():
        for key, _ in consumers:
            names[key].append(name)
    return dict(names)

# A commit that published more events than this (a recompute that took many quotas past 100%) hands them
# to a worker in one message instead of waiting for one publisher confirm per event in the request.
RELAY_INLINE_MAX = 20


def _after_commit(events: list[OutboxEvent]) -> None:
    for event in events:
        data = event_dict(event)
        for receiver in list(_receivers.get(event.name, ())):
            try:
                receiver(data)
            except Exception:  # a receiver's failure must not undo a committed change
                log.exception("in-process receiver %s failed for %s", receiver, event.name)
    if len(events) > RELAY_INLINE_MAX and not tasks_run_in_process():
        _relay_in_worker(events)
    else:
        relay_many(events)


def _relay_in_worker(events: list[OutboxEvent]) -> None:
    """Queue one relay of these rows; if the broker refuses even that, they stay pending for the sweeper."""
    from salesapp.tasks import outbox_relay_task  # the task module imports this one

    try:
        outbox_relay_task.apply_async(args=[[str(e.pk) for e in events]], retry=False)
    except Exception as exc:  # broker down or publish not confirmed: reported, and the sweeper sends them later
        _breaker["open_until"] = time.monotonic() + settings.OUTBOX_BREAKER_SECONDS
        log.error("could not hand %d events to a worker, left to the sweeper: %s", len(events), exc)


def outbox_relay(ids: list[str]) -> int:
    """Send the rows a request handed over that are still pending (in their grace period the sweeper leaves them)."""
    rows = list(OutboxEvent.objects.filter(pk__in=ids, status=OutboxEvent.Status.PENDING).order_by("created_at"))
    return relay_many(rows, force=True)


# Errors of the database or the broker, not of a consumer's logic: worth retrying as they are.
TRANSIENT_ERRORS = (OperationalError, InterfaceError, BrokerError, ConnectionError, TimeoutError)

_breaker = {"open_until": 0.0}


def relay(event: OutboxEvent, *, force: bool = False) -> bool:
    """Send one outbox row to the broker; mark it sent, or schedule a retry."""
    return relay_many([event], force=force) == 1


def relay_many(events: list[OutboxEvent], *, force: bool = False) -> int:
    """Send outbox rows to the broker in order; mark those sent (one UPDATE per thousand), answer how many.

    Rows of events no consumer listens to are marked sent and applied without a message. At the first
    failure that row gets a retry with backoff and the rest wait as long. After a failure the breaker stays
    open for OUTBOX_BREAKER_SECONDS: requests then leave their events to the sweeper (which forces a send)
    rather than each one waiting on a dead broker.
    """
    from salesapp.tasks import event_deliver_task  # the task module imports this one

    silent = [e.pk for e in events if not _consumers.get(e.name)]
    sent: list = []
    try:
        for event in events:
            if not _consumers.get(event.name):
                continue
            if not force and time.monotonic() < _breaker["open_until"]:
                _leave_to_sweeper([e.pk for e in events[events.index(event):]])
                break
            try:
                event_deliver_task.apply_async(args=[event_dict(event)], retry=False,
                                               headers={"event_name": event.name})
            except Exception as exc:  # broker down, publish not confirmed, or (eager) the database
                _breaker["open_until"] = time.monotonic() + settings.OUTBOX_BREAKER_SECONDS
                _schedule_retry(event, exc, rest=[e.pk for e in events[events.index(event) + 1:]])
                break
            _breaker["open_until"] = 0.0
            sent.append(event.pk)
    finally:
        now = timezone.now()
        for start in range(0, len(silent), 1000):
            OutboxEvent.objects.filter(pk__in=silent[start:start + 1000]).update(
                status=OutboxEvent.Status.SENT, sent_at=now, applied_at=now)
        for start in range(0, len(sent), 1000):
            OutboxEvent.objects.filter(pk__in=sent[start:start + 1000]).update(
                status=OutboxEvent.Status.SENT, sent_at=now)
    return len(sent) + len(silent)


def _backoff(attempts: int, base: float, cap: float = 3600) -> timedelta:
    return timedelta(seconds=min(base * 2 ** max(attempts - 1, 0), cap))


def _schedule_retry(event: OutboxEvent, exc: Exception, rest: list | None = None) -> None:
    attempts = event.attempts + 1
    dead = attempts >= settings.OUTBOX_MAX_ATTEMPTS
    retry_at = timezone.now() + _backoff(attempts, settings.OUTBOX_BACKOFF_SECONDS)
    OutboxEvent.objects.filter(pk=event.pk).update(
        attempts=attempts,
        status=OutboxEvent.Status.DEAD if dead else OutboxEvent.Status.PENDING,
        next_attempt_at=retry_at,
        last_error=f"{type(exc).__name__}: {exc}"[:2000],
    )
    _leave_to_sweeper(rest or [])
    (log.error if dead else log.warning)("event %s %s not relayed (attempt %s): %s", event.name, event.id, attempts, exc)


def _leave_to_sweeper(pks: list) -> None:
    """Rows not tried because the broker is failing: no attempt counted; the sweeper may take them once the
    breaker closes, so a backlog drains as soon as the broker is back rather than after each row's own wait."""
    due = timezone.now() + timedelta(seconds=settings.OUTBOX_BREAKER_SECONDS)
    for start in range(0, len(pks), 1000):
        OutboxEvent.objects.filter(pk__in=pks[start:start + 1000], status=OutboxEvent.Status.PENDING).update(
            next_attempt_at=due)


@contextmanager
def _only_sweeper():
    """Sweeps never overlap: on PostgreSQL a session advisory lock (released if the worker dies).

    Elsewhere (SQLite, one process) writes are serialised anyway and the claim alone keeps rows apart.
    """
    if connection.vendor != "postgresql":
        yield True
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [OUTBOX_SWEEP_LOCK])
        held = cursor.fetchone()[0]
    try:
        yield held
    finally:
        if held:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s)", [OUTBOX_SWEEP_LOCK])


OUTBOX_SWEEP_LOCK = 7_400_001


def _claim_due(limit: int) -> list[OutboxEvent]:
    """Take up to `limit` due pending rows that no other sender holds, and hold them for OUTBOX_CLAIM_SECONDS."""
    now = timezone.now()
    with transaction.atomic():
        # A queue claim skips held rows, so it cannot deadlock: oldest first rather than in key order.
        ids = list(
            rows_lock(OutboxEvent.objects.filter(status=OutboxEvent.Status.PENDING, next_attempt_at__lte=now),
                      skip_locked=True)
            .order_by("next_attempt_at", "created_at").values_list("pk", flat=True)[:limit]
        )
        OutboxEvent.objects.filter(pk__in=ids).update(
            next_attempt_at=now + timedelta(seconds=settings.OUTBOX_CLAIM_SECONDS))
    return list(OutboxEvent.objects.filter(pk__in=ids).order_by("created_at"))


def outbox_sweep(*, batch: int = 500, budget_seconds: float | None = None) -> dict:
    """Send the due pending events the requests could not, batch after batch, until none is due.

    Stops at the first broker failure (the failed row backs off) or when the time budget is spent; a
    sweep that finds another running answers at once.
    """
    budget = settings.OUTBOX_SWEEP_BUDGET_SECONDS if budget_seconds is None else budget_seconds
    deadline = time.monotonic() + budget
    due = sent = 0
    with _only_sweeper() as held:
        if not held:
            return {"due": 0, "sent": 0, "failed": 0, "skipped": 1}
        while time.monotonic() < deadline:
            rows = _claim_due(batch)
            if not rows:
                break
            due += len(rows)
            done = relay_many(rows, force=True)
            sent += done
            if done < len(rows):
                break
    return {"due": due, "sent": sent, "failed": int(sent < due), "skipped": 0}


def outbox_requeue_dead() -> int:
    """Give dead-lettered events a fresh set of attempts (an admin action)."""
    return OutboxEvent.objects.filter(status=OutboxEvent.Status.DEAD).update(
        status=OutboxEvent.Status.PENDING, attempts=0, next_attempt_at=timezone.now()
    )


class ConsumerFailed(RuntimeError):
    """Some consumers of a delivered event raised; every other consumer was applied."""

    def __init__(self, event: dict, errors: dict[str, Exception]):
        super().__init__(f"{event['name']} {event['id']}: consumers {', '.join(errors)} failed")
        self.failed = list(errors)
        self.errors = errors


def deliver(event: dict, *, only: list[str] | None = None) -> list[str]:
    """Apply an event to every consumer (or those in `only`) that has not applied it yet.

    Each consumer runs in its own transaction with its receipt, so a failed one leaves no receipt and is
    applied again when the event is redelivered; the ones that succeeded are not. One failing consumer never
    blocks the others: the failures are raised together (ConsumerFailed) after every consumer ran.
    """
    with _logged_as(event):
        return _deliver(event, only)


@contextmanager
def _logged_as(event: dict):
    """Consumers' log lines carry the id of the request that caused the event."""
    token = request_id_var.set(event.get("request_id") or current_request_id())
    try:
        yield
    finally:
        request_id_var.reset(token)


def _deliver(event: dict, only: list[str] | None) -> list[str]:
    applied, errors = [], {}
    event_id = uuid.UUID(event["id"])
    for key, fn in list(_consumers.get(event["name"], ())):
        if only is not None and key not in only:
            continue
        try:
            with transaction.atomic():
                try:
                    with transaction.atomic():
                        AppliedEvent.objects.create(consumer=key, event_id=event_id)
                except IntegrityError:
                    continue  # already applied: a redelivery
                fn(event)
                ConsumerFailure.objects.filter(event_id=event_id, consumer=key).delete()
        except Exception as exc:  # the consumer's own failure: recorded, and the next consumer still runs
            log.warning("consumer %s failed on %s %s: %s", key, event["name"], event["id"], exc,
                        exc_info=not isinstance(exc, TRANSIENT_ERRORS))
            errors[key] = exc
            continue
        applied.append(key)
    if errors:
        raise ConsumerFailed(event, errors)
    return applied


def event_apply(event: dict, *, only: list[str] | None = None) -> list[str]:
    """Deliver an event from the broker: failed consumers are recorded and retried alone, with backoff.

    When every consumer holds a receipt the outbox row is marked applied. A failure that cannot even be
    recorded (the database is gone) propagates, so the task retries the whole delivery.
    """
    try:
        applied = deliver(event, only=only)
    except ConsumerFailed as failed:
        retries = [(key, _failure_record(event, key, exc)) for key, exc in failed.errors.items()]
        for key, delay in retries:
            if delay is not None:
                _consumer_retry_send(event, key, delay)
        return []
    if only is None:  # every consumer now holds a receipt
        OutboxEvent.objects.filter(pk=event["id"], applied_at__isnull=True).update(applied_at=timezone.now())
    else:
        _applied_check(event)
    return applied


def _applied_check(event: dict) -> None:
    """After a partial delivery: mark the row applied when every consumer now holds a receipt."""
    keys = consumer_keys(event["name"])
    if AppliedEvent.objects.filter(event_id=event["id"], consumer__in=keys).count() == len(keys):
        OutboxEvent.objects.filter(pk=event["id"], applied_at__isnull=True).update(applied_at=timezone.now())


def _failure_record(event: dict, key: str, exc: Exception) -> timedelta | None:
    """Count a failed attempt of one consumer; answer when to retry it, or None once it is dead-lettered."""
    now = timezone.now()
    error = f"{type(exc).__name__}: {exc}"[:2000]
    with transaction.atomic():
        failure, _ = rows_lock(ConsumerFailure.objects.all()).get_or_create(
            event_id=event["id"], consumer=key, defaults={"first_failed_at": now})
        failure.attempts += 1
        failure.last_error = error
        failure.last_failed_at = now
        delay = _backoff(failure.attempts, settings.CONSUMER_BACKOFF_SECONDS, settings.CONSUMER_BACKOFF_CAP_SECONDS)
        if failure.attempts >= settings.CONSUMER_MAX_ATTEMPTS:
            failure.status = ConsumerFailure.Status.DEAD
            log.error("consumer %s dead-lettered on %s %s after %s attempts: %s", key, event["name"], event["id"],
                      failure.attempts, error)
        failure.next_attempt_at = now + delay
        failure.save()
    return None if failure.status == ConsumerFailure.Status.DEAD else delay


def _consumer_retry_send(event: dict, key: str, delay: timedelta) -> None:
    """Ask the broker to retry one consumer later; if it cannot be asked, the reconciler will."""
    from salesapp.tasks import event_deliver_task  # the task module imports this one

    if tasks_run_in_process():
        return  # in process a countdown is not honoured: the reconciler or the admin's requeue retries it
    try:
        event_deliver_task.apply_async(args=[event], kwargs={"only": [key]}, countdown=delay.total_seconds(),
                                       retry=False)
    except Exception as exc:  # the broker is down: the failure row stays due for the reconciler
        log.warning("retry of %s on %s %s left to the reconciler: %s", key, event["name"], event["id"], exc)


def consumer_failures_requeue(failures) -> int:
    """Give dead-lettered or stuck (event, consumer) pairs a fresh set of attempts and send them now (admin)."""
    rows = list(failures.select_related("event"))
    ConsumerFailure.objects.filter(pk__in=[f.pk for f in rows]).update(
        status=ConsumerFailure.Status.RETRYING, attempts=0, next_attempt_at=timezone.now())
    for failure in rows:
        _redrive(event_dict(failure.event), [failure.consumer])
    return len(rows)


def _redrive(event: dict, keys: list[str]) -> None:
    from salesapp.tasks import event_deliver_task  # the task module imports this one

    event_deliver_task.apply_async(args=[event], kwargs={"only": keys}, retry=False)


def outbox_reconcile(*, limit: int = 2000) -> dict:
    """Re-drive every (event, consumer) pair that never applied: compare sent events with their receipts.

    An event sent more than CONSUMER_RECONCILE_AFTER_SECONDS ago that lacks a consumer's receipt is sent
    again for that consumer alone, unless the pair is dead-lettered or its own retry is not yet overdue.
    Events whose consumers all hold receipts are marked applied. Receipts keep a re-drive harmless.
    """
    now = timezone.now()
    grace = timedelta(seconds=settings.CONSUMER_RECONCILE_AFTER_SECONDS)
    rows = list(
        OutboxEvent.objects.filter(status=OutboxEvent.Status.SENT, applied_at__isnull=True, sent_at__lt=now - grace)
        .order_by("sent_at")[:limit]
    )
    ids = [row.pk for row in rows]
    receipts = defaultdict(set)
    for event_id, key in AppliedEvent.objects.filter(event_id__in=ids).values_list("event_id", "consumer"):
        receipts[event_id].add(key)
    failures = {(f.event_id, f.consumer): f for f in ConsumerFailure.objects.filter(event_id__in=ids)}
    complete, redriven, dead = [], 0, 0
    for row in rows:
        missing = [key for key in consumer_keys(row.name) if key not in receipts[row.pk]]
        if not missing:
            complete.append(row.pk)
            continue
        due = []
        for key in missing:
            failure = failures.get((row.pk, key))
            if failure is None:
                due.append(key)
            elif failure.status == ConsumerFailure.Status.DEAD:
                dead += 1
            elif failure.next_attempt_at + grace < now:
                due.append(key)
        if not due:
            continue
        # Mark the re-drive, so the next run waits for it instead of sending it again.
        for key in due:
            ConsumerFailure.objects.update_or_create(
                event_id=row.pk, consumer=key,
                defaults={"next_attempt_at": now, "last_failed_at": now},
                create_defaults={"next_attempt_at": now, "last_error": "never applied; re-driven by the reconciler"},
            )
        _redrive(event_dict(row), due)
        redriven += len(due)
    OutboxEvent.objects.filter(pk__in=complete).update(applied_at=now)
    return {"checked": len(rows), "redriven": redriven, "applied": len(complete), "dead": dead}


def consumer_lag_seconds() -> float:
    """Age of the oldest sent event some consumer has not applied (0 when none), for health and metrics."""
    oldest = (OutboxEvent.objects.filter(status=OutboxEvent.Status.SENT, applied_at__isnull=True)
              .exclude(Q(failures__status=ConsumerFailure.Status.DEAD)).order_by("sent_at")
              .values_list("sent_at", flat=True).first())
    return (timezone.now() - oldest).total_seconds() if oldest else 0.0
