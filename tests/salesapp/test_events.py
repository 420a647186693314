"""The outbox: events exist iff their change committed, and none is lost."""

import uuid

import pytest
from django.db import transaction

from salesapp import events
from salesapp.models import AppliedEvent, OutboxEvent


@pytest.fixture
def recorder():
    seen = []

    def receive(event):
        seen.append(event)

    events._receivers["quota.set"].append(receive)
    yield seen
    events._receivers["quota.set"].remove(receive)


@pytest.mark.django_db(transaction=True)
def test_event_published_in_committed_transaction_reaches_receivers(recorder):
    with transaction.atomic():
        event = events.publish("quota.set", {"quota_id": 7})
        assert recorder == []  # not before commit
    assert [e["id"] for e in recorder] == [str(event.id)]
    assert recorder[0]["payload"] == {"quota_id": 7}
    assert OutboxEvent.objects.get(pk=event.pk).status == OutboxEvent.Status.SENT


@pytest.mark.django_db(transaction=True)
def test_event_in_rolled_back_transaction_is_never_delivered(recorder):
    with pytest.raises(RuntimeError), transaction.atomic():
        events.publish("quota.set", {"quota_id": 8})
        raise RuntimeError("the change failed")
    assert recorder == []
    assert not OutboxEvent.objects.exists()


@pytest.mark.django_db
def test_unknown_event_or_missing_payload_key_is_refused():
    with pytest.raises(events.UnknownEvent, match="unknown event"):
        events.publish("lead.exploded", {})
    with pytest.raises(events.UnknownEvent, match="quota_id"):
        events.publish("quota.set", {})


@pytest.mark.django_db
def test_redelivered_event_is_applied_once():
    applied = []
    events.consumer("test.counter", "quota.updated")(lambda e: applied.append(e["id"]))
    event = {"id": str(uuid.uuid4()), "name": "quota.updated", "payload": {"quota_id": 1}, "created_at": ""}
    try:
        assert events.deliver(event) == ["test.counter"]
        assert events.deliver(event) == []
    finally:
        events._consumers["quota.updated"] = [c for c in events._consumers["quota.updated"] if c[0] != "test.counter"]
    assert applied == [event["id"]]
    assert AppliedEvent.objects.filter(consumer="test.counter").count() == 1


@pytest.mark.django_db
def test_failed_relay_backs_off_and_dead_letters(settings):
    settings.OUTBOX_MAX_ATTEMPTS = 2
    event = OutboxEvent.objects.create(name="quota.set", payload={"quota_id": 1})
    events._schedule_retry(event, ConnectionError("broker down"))
    event.refresh_from_db()
    assert (event.status, event.attempts) == ("pending", 1)
    assert "broker down" in event.last_error
    events._schedule_retry(event, ConnectionError("still down"))
    event.refresh_from_db()
    assert (event.status, event.attempts) == ("dead", 2)
    assert events.outbox_requeue_dead() == 1
