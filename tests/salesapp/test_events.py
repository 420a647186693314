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


@pytest.mark.django_db(transaction=True)
def test_a_bulk_publish_delivers_every_event_after_commit_and_marks_them_sent(recorder):
    with transaction.atomic():
        published = events.publish_many("quota.set", [{"quota_id": i} for i in (1, 2, 3)])
        with pytest.raises(events.UnknownEvent, match="quota_id"):
            events.publish_many("quota.set", [{"quota_id": 4}, {}])
        assert recorder == []  # not before commit
    assert [e["payload"]["quota_id"] for e in recorder] == [1, 2, 3]
    statuses = OutboxEvent.objects.filter(pk__in=[e.pk for e in published]).values_list("status", flat=True)
    assert list(statuses) == [OutboxEvent.Status.SENT] * 3


@pytest.mark.django_db
def test_events_that_do_not_mean_their_name_are_refused():
    with pytest.raises(events.UnknownEvent, match="names no changed field"):
        events.publish("lead.updated", {"lead_id": 1, "fields": []})
    with pytest.raises(events.UnknownEvent, match="same stage"):
        events.publish("opportunity.stage_changed", {"opportunity_id": 1, "from_stage": "proposal",
                                                     "to_stage": "proposal"})


@pytest.mark.django_db
def test_a_failing_consumer_never_blocks_the_others_and_is_applied_on_redelivery():
    # Given two consumers of one event, the first of which fails once
    applied, attempts = [], []

    def flaky(event):
        attempts.append(event["id"])
        if len(attempts) == 1:
            raise RuntimeError("downstream hiccup")
        applied.append(("flaky", event["id"]))

    events.consumer("test.flaky", "quota.updated")(flaky)
    events.consumer("test.steady", "quota.updated")(lambda e: applied.append(("steady", e["id"])))
    event = {"id": str(uuid.uuid4()), "name": "quota.updated", "payload": {"quota_id": 1}, "created_at": ""}
    try:
        # When it is delivered, the failure is reported and the other consumer is applied all the same
        with pytest.raises(events.ConsumerFailed, match="test.flaky"):
            events.deliver(event)
        assert applied == [("steady", event["id"])]
        assert not AppliedEvent.objects.filter(consumer="test.flaky").exists()
        # And a redelivery applies only the consumer that failed
        assert events.deliver(event) == ["test.flaky"]
    finally:
        events._consumers["quota.updated"] = [c for c in events._consumers["quota.updated"]
                                              if c[0] not in ("test.flaky", "test.steady")]
    assert applied == [("steady", event["id"]), ("flaky", event["id"])]


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
