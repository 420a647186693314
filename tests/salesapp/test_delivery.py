"""Delivery that never loses work, in process: failed consumers retried alone and dead-lettered, the reconciler,
the claiming sweeper, and long jobs resumed by the watchdog. The same paths through a real worker, RabbitMQ and
cut connections are in test_delivery_faults.py."""

from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from salesapp import events
from salesapp.celery import app as celery_app
from salesapp.jobs import jobs_watchdog
from salesapp.models import AppliedEvent, ConsumerFailure, ImportJob, OutboxEvent
from tests.leads.factories import LeadFactory


@pytest.fixture
def consumers():
    """Register test consumers on quota.updated; remove them afterwards."""
    added = []

    def add(key, fn):
        events.consumer(key, "quota.updated")(fn)
        added.append(key)

    yield add
    events._consumers["quota.updated"] = [c for c in events._consumers["quota.updated"] if c[0] not in added]


def _publish(name="quota.updated", **payload):
    with transaction.atomic():
        return events.publish(name, payload or {"quota_id": 1})


@pytest.mark.django_db(transaction=True)
def test_a_failing_consumer_is_retried_alone_then_dead_lettered_and_requeued(consumers, settings):
    settings.CONSUMER_MAX_ATTEMPTS = 3
    broken = {"on": True}
    applied = []

    def flaky(event):
        if broken["on"]:
            raise RuntimeError("the downstream system said no")
        applied.append(("flaky", event["id"]))

    consumers("test.flaky", flaky)
    consumers("test.steady", lambda e: applied.append(("steady", e["id"])))

    # Given an event whose first consumer fails
    event = _publish()
    # Then the other consumer was applied, and the failure is recorded with its error and a retry time
    assert applied == [("steady", str(event.id))]
    failure = ConsumerFailure.objects.get(event=event, consumer="test.flaky")
    assert (failure.status, failure.attempts) == ("retrying", 1)
    assert "the downstream system said no" in failure.last_error
    assert failure.next_attempt_at > timezone.now()
    assert OutboxEvent.objects.get(pk=event.pk).applied_at is None

    # When its retries (that consumer alone) keep failing, it is dead-lettered after CONSUMER_MAX_ATTEMPTS
    for _ in range(2):
        events.event_apply(events.event_dict(event), only=["test.flaky"])
    failure.refresh_from_db()
    assert (failure.status, failure.attempts) == ("dead", 3)
    assert applied == [("steady", str(event.id))], "the steady consumer is never applied twice"

    # And once the cause is fixed, the admin's requeue applies it, and the event is marked applied
    broken["on"] = False
    assert events.consumer_failures_requeue(ConsumerFailure.objects.filter(pk=failure.pk)) == 1
    assert applied == [("steady", str(event.id)), ("flaky", str(event.id))]
    assert not ConsumerFailure.objects.exists()
    assert OutboxEvent.objects.get(pk=event.pk).applied_at is not None


@pytest.mark.django_db(transaction=True)
def test_the_reconciler_redrives_pairs_that_never_applied_and_leaves_dead_ones(consumers, settings):
    applied = []
    consumers("test.one", lambda e: applied.append(("one", e["id"])))
    consumers("test.two", lambda e: applied.append(("two", e["id"])))
    long_ago = timezone.now() - timedelta(seconds=settings.CONSUMER_RECONCILE_AFTER_SECONDS + 60)
    # Given two events the broker lost after they were sent (no receipt at all), one of them with a dead pair
    lost = OutboxEvent.objects.create(name="quota.updated", payload={"quota_id": 1}, status="sent", sent_at=long_ago)
    half = OutboxEvent.objects.create(name="quota.updated", payload={"quota_id": 2}, status="sent", sent_at=long_ago)
    AppliedEvent.objects.create(consumer="test.one", event_id=half.pk)
    ConsumerFailure.objects.create(event=half, consumer="test.two", status="dead", attempts=10, last_error="boom")
    # And one sent a moment ago (its message may still be on the way)
    fresh = OutboxEvent.objects.create(name="quota.updated", payload={"quota_id": 3}, status="sent",
                                       sent_at=timezone.now())

    # When the reconciler runs
    report = events.outbox_reconcile()

    # Then the lost event reached both consumers, the dead pair waits for an admin, the fresh event is left alone
    assert sorted(applied) == [("one", str(lost.pk)), ("two", str(lost.pk))]
    assert report["redriven"] == 2 and report["dead"] == 1
    assert OutboxEvent.objects.get(pk=lost.pk).applied_at is not None
    assert OutboxEvent.objects.get(pk=half.pk).applied_at is None
    assert OutboxEvent.objects.get(pk=fresh.pk).applied_at is None
    # And a second run re-drives nothing
    assert events.outbox_reconcile()["redriven"] == 0
    assert len(applied) == 2


@pytest.mark.django_db(transaction=True)
def test_the_sweeper_leaves_fresh_rows_to_their_request_and_sends_each_due_row_once(consumers):
    applied = []
    consumers("test.count", lambda e: applied.append(e["id"]))
    # Given rows the requests could not send: two due, one still inside its request's grace period
    due = [OutboxEvent.objects.create(name="quota.updated", payload={"quota_id": i},
                                      next_attempt_at=timezone.now() - timedelta(seconds=1)) for i in range(2)]
    fresh = OutboxEvent.objects.create(name="quota.updated", payload={"quota_id": 9},
                                       next_attempt_at=timezone.now() + timedelta(seconds=30))
    # When two sweeps run
    first, second = events.outbox_sweep(batch=1), events.outbox_sweep()
    # Then the due rows were sent once each (in batches of one), the fresh one waits for its request
    assert (first["sent"], second["sent"]) == (2, 0)
    assert sorted(applied) == sorted(str(e.pk) for e in due)
    assert OutboxEvent.objects.get(pk=fresh.pk).status == "pending"


@pytest.mark.django_db(transaction=True)
def test_an_event_no_consumer_listens_to_is_applied_without_a_broker_message():
    event = _publish("quota.set", quota_id=1)
    row = OutboxEvent.objects.get(pk=event.pk)
    assert row.status == "sent" and row.applied_at is not None


@pytest.mark.django_db(transaction=True)
def test_rescore_requests_for_one_record_coalesce_into_one_rescore(rep):
    from intelligence.models import RescoreRequest
    from intelligence.services import rescore_flush, rescore_request

    lead = LeadFactory(assigned_to=rep)
    scored_before = OutboxEvent.objects.filter(name="lead.scored").count()
    celery_app.conf.task_always_eager = False  # as on a worker: requests wait for the flush
    try:
        for _ in range(5):
            with transaction.atomic():
                rescore_request(targets=[("lead", lead.pk)])
    finally:
        celery_app.conf.task_always_eager = True
    assert RescoreRequest.objects.filter(kind="lead", record_id=lead.pk).count() == 1
    assert rescore_flush() == 1
    assert not RescoreRequest.objects.exists()
    assert OutboxEvent.objects.filter(name="lead.scored").count() - scored_before <= 1


@pytest.fixture
def csv_job(admin_user):
    from salesapp import imports

    content = b"email,first_name,last_name,company\n" + b"".join(
        f"w{i}@watchdog.example,W{i},Dog,Watch Co\n".encode() for i in range(3))
    return imports.import_job_create(actor=admin_user, kind="leads", content=content)


@pytest.mark.django_db(transaction=True)
def test_an_import_queued_while_the_broker_was_down_is_started_by_the_watchdog(csv_job, settings):
    from leads.models import Lead

    ImportJob.objects.filter(pk=csv_job.pk).update(
        queued_at=timezone.now() - timedelta(seconds=settings.JOB_QUEUE_GRACE_SECONDS + 1))
    assert jobs_watchdog()["started"] == 1
    job = ImportJob.objects.get(pk=csv_job.pk)
    assert job.status == "succeeded" and job.created == 3
    assert Lead.objects.filter(last_name="Dog", company="Watch Co").count() == 3


@pytest.mark.django_db(transaction=True)
def test_a_redelivered_import_task_never_runs_a_live_job_twice_and_a_dead_one_resumes(csv_job):
    from leads.models import Lead
    from salesapp.imports import import_job_run

    # Given a job a live worker is running
    ImportJob.objects.filter(pk=csv_job.pk).update(status="running", heartbeat_at=timezone.now(), runs=1,
                                                   queued_at=timezone.now())
    # When its task is delivered again, nothing happens
    assert import_job_run(csv_job.pk).status == "running"
    assert not Lead.objects.filter(last_name="Dog", company="Watch Co").exists()
    # When that worker dies, the watchdog resumes the job and every row is written once
    ImportJob.objects.filter(pk=csv_job.pk).update(heartbeat_at=timezone.now() - timedelta(minutes=2))
    assert jobs_watchdog()["resumed"] == 1
    job = ImportJob.objects.get(pk=csv_job.pk)
    assert (job.status, job.created, job.runs) == ("succeeded", 3, 2)
    assert Lead.objects.filter(last_name="Dog", company="Watch Co").count() == 3


@pytest.mark.django_db(transaction=True)
def test_a_failed_import_is_retried_through_the_api(csv_job, admin_user, settings):
    from rest_framework.test import APIClient

    from leads.models import Lead

    ImportJob.objects.filter(pk=csv_job.pk).update(
        status="running", heartbeat_at=timezone.now() - timedelta(minutes=2), runs=settings.JOB_MAX_RUNS,
        queued_at=timezone.now())
    assert jobs_watchdog()["failed"] == 1
    failed = ImportJob.objects.get(pk=csv_job.pk)
    assert failed.status == "failed" and "stopped" in failed.message

    client = APIClient()
    client.force_authenticate(admin_user)
    response = client.post(f"/api/v1/imports/{csv_job.pk}/retry/")
    assert response.status_code == 202, response.content
    retry = ImportJob.objects.get(pk=response.json()["id"])
    assert retry.pk != failed.pk and retry.status == "succeeded" and retry.created == 3
    assert Lead.objects.filter(last_name="Dog", company="Watch Co").count() == 3


@pytest.mark.django_db(transaction=True)
def test_healthz_shows_what_waits_and_what_is_dead_lettered(client):
    event = OutboxEvent.objects.create(name="quota.updated", payload={"quota_id": 1}, status="sent",
                                       sent_at=timezone.now() - timedelta(minutes=3))
    ConsumerFailure.objects.create(event=event, consumer="test.gone", status="dead", attempts=10)
    OutboxEvent.objects.create(name="quota.updated", payload={"quota_id": 2})
    delivery = client.get("/healthz").json()["delivery"]
    assert delivery["outbox_pending"] == 1 and delivery["consumers_dead"] == 1
    assert delivery["consumer_lag_seconds"] == 0, "a dead-lettered pair is not lag: it waits for an admin"
