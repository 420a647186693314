"""The outbox against the real RabbitMQ, with the broker cut off and restored.

A TCP proxy of the test's own (tests.faults) stands between Celery and RabbitMQ so
the test can make the broker unreachable and bring it back without stopping the
shared server.
"""

import uuid

import pytest
from django.conf import settings
from django.db import transaction
from kombu import Connection, Queue

from salesapp import events
from salesapp.models import OutboxEvent

pytestmark = [
    pytest.mark.rabbitmq,
    pytest.mark.skipif(not settings.CELERY_BROKER_URL, reason="CELERY_BROKER_URL is not set (embedded mode)"),
]


@pytest.fixture(autouse=True)
def _quota_set_listened():
    """Only events some consumer listens to travel through the broker: give quota.set one for these tests."""
    events.consumer("test.listener", "quota.set")(lambda event: None)
    yield
    events._consumers["quota.set"] = [c for c in events._consumers["quota.set"] if c[0] != "test.listener"]


def _queued_events():
    """Take every message off the events queue; yield the event each carries."""
    with Connection(settings.CELERY_BROKER_URL) as conn:
        queue = Queue("events").bind(conn.channel())
        queue.declare()
        while (message := queue.get(no_ack=True)) is not None:
            args, _kwargs, _embed = message.decode()  # Celery task protocol 2
            yield args[0]


def _drain_event_ids(wanted: set[str]) -> set[str]:
    """The ids among `wanted` that reached the broker."""
    return {event["id"] for event in _queued_events() if event["id"] in wanted}


@pytest.mark.django_db(transaction=True)
def test_events_published_while_broker_is_down_are_delivered_when_it_returns(proxied_broker, settings):
    settings.OUTBOX_BACKOFF_SECONDS = 0
    settings.OUTBOX_GRACE_SECONDS = 0
    settings.OUTBOX_BREAKER_SECONDS = 0
    proxied_broker.stop()

    ids = set()
    for i in range(200):
        with transaction.atomic():
            ids.add(str(events.publish("quota.set", {"quota_id": i}).id))

    pending = OutboxEvent.objects.filter(pk__in=ids, status=OutboxEvent.Status.PENDING)
    assert pending.count() == 200, "nothing may be lost or marked sent while the broker is down"

    proxied_broker.start()
    rounds = 0
    while OutboxEvent.objects.filter(pk__in=ids, status=OutboxEvent.Status.PENDING).exists() and rounds < 5:
        events.outbox_sweep()
        rounds += 1
    assert OutboxEvent.objects.filter(pk__in=ids, status=OutboxEvent.Status.SENT).count() == 200
    assert _drain_event_ids(ids) == ids


@pytest.mark.django_db(transaction=True)
def test_event_of_rolled_back_transaction_never_reaches_the_broker(proxied_broker):
    with pytest.raises(RuntimeError), transaction.atomic():
        event = events.publish("quota.set", {"quota_id": 1})
        raise RuntimeError("rolled back")
    with transaction.atomic():
        kept = events.publish("quota.set", {"quota_id": 2})
    found = _drain_event_ids({str(event.id), str(kept.id)})
    assert found == {str(kept.id)}


@pytest.mark.django_db(transaction=True)
def test_redelivered_broker_message_is_applied_once(proxied_broker):
    applied = []
    events.consumer("test.rabbit", "quota.updated")(lambda e: applied.append(e["id"]))
    try:
        with transaction.atomic():
            event = events.publish("quota.updated", {"quota_id": 3})
        events.relay(event)  # a second send: the broker now holds it twice
        seen = 0
        for queued in list(_queued_events()):
            if queued["id"] == str(event.id):
                seen += 1
                events.deliver(queued)
        assert seen == 2
        assert applied == [str(event.id)]
    finally:
        events._consumers["quota.updated"] = [c for c in events._consumers["quota.updated"] if c[0] != "test.rabbit"]
    assert uuid.UUID(applied[0]) == event.id


@pytest.mark.django_db(transaction=True)
def test_a_commit_of_many_events_hands_them_to_a_worker_in_one_message(proxied_broker):
    with transaction.atomic():
        published = events.publish_many("quota.set", [{"quota_id": i} for i in range(events.RELAY_INLINE_MAX + 30)])
    in_order = [str(e.id) for e in published]
    ids = set(in_order)

    with Connection(settings.CELERY_BROKER_URL) as conn:
        queue = Queue("events").bind(conn.channel())
        queue.declare()
        messages = []
        while (message := queue.get(no_ack=True)) is not None:
            messages.append((message.headers["task"], message.decode()[0][0]))
    assert messages == [("salesapp.tasks.outbox_relay_task", in_order)]
    assert OutboxEvent.objects.filter(pk__in=ids, status=OutboxEvent.Status.PENDING).count() == len(ids)

    assert events.outbox_relay(list(ids)) == len(ids)  # what the worker runs
    assert _drain_event_ids(ids) == ids
    assert not OutboxEvent.objects.filter(pk__in=ids, status=OutboxEvent.Status.PENDING).exists()
