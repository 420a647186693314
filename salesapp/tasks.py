"""Kernel Celery tasks: event delivery, the outbox sweeper and reconciler, imports, re-encryption, the job
watchdog, data subject requests, the retention policies and the partitions made ahead."""

from celery import shared_task

from salesapp import events, jobs, partitions, privacy, retention


@shared_task(bind=True, name="salesapp.tasks.event_deliver_task", acks_late=True, reject_on_worker_lost=True,
             max_retries=None)
def event_deliver_task(self, event: dict, only: list[str] | None = None) -> list[str]:
    """Run the Celery-side consumers of one event (idempotently); retry with backoff while the database is gone."""
    try:
        return events.event_apply(event, only=only)
    except events.TRANSIENT_ERRORS as exc:
        if self.request.is_eager:
            raise
        raise self.retry(exc=exc, countdown=min(2 ** self.request.retries, 60)) from exc


@shared_task(name="salesapp.tasks.outbox_relay_task", acks_late=True, reject_on_worker_lost=True)
def outbox_relay_task(ids: list[str]) -> int:
    """Send a batch of events a request committed (too many to wait for in the request)."""
    return events.outbox_relay(ids)


@shared_task(name="salesapp.tasks.outbox_sweep_task")
def outbox_sweep_task() -> dict:
    """Resend outbox rows the requests could not send."""
    return events.outbox_sweep()


@shared_task(name="salesapp.tasks.outbox_reconcile_task")
def outbox_reconcile_task() -> dict:
    """Re-drive (event, consumer) pairs that never applied."""
    return events.outbox_reconcile()


@shared_task(name="salesapp.tasks.import_run_task", acks_late=True, reject_on_worker_lost=True)
def import_run_task(job_id: int) -> str:
    """Run (or resume) one CSV import job, recording progress and a heartbeat on the job."""
    from salesapp.imports import import_job_run  # imports queue this task: a real cycle

    return import_job_run(job_id).status


@shared_task(name="salesapp.tasks.reencryption_run_task", acks_late=True, reject_on_worker_lost=True)
def reencryption_run_task(job_id: int) -> str:
    """Run (or resume) one re-encryption job after a key rotation."""
    from salesapp.crypto import reencryption_job_run  # the job queues this task: a real cycle

    return reencryption_job_run(job_id).status


@shared_task(name="salesapp.tasks.jobs_watchdog_task")
def jobs_watchdog_task() -> dict:
    """Resume long jobs whose worker died and start queued jobs the broker never delivered."""
    return jobs.jobs_watchdog()


@shared_task(name="salesapp.tasks.privacy_request_run_task", acks_late=True, reject_on_worker_lost=True)
def privacy_request_run_task(request_id: int) -> str:
    """Run (or resume) one data subject request."""
    return privacy.privacy_request_run(request_id).status


@shared_task(name="salesapp.tasks.retention_run_task")
def retention_run_task(dry_run: bool = False) -> dict:
    """Apply the retention policies (daily, from beat); answers the report per policy."""
    return retention.retention_run(dry_run=dry_run).report


@shared_task(name="salesapp.tasks.partitions_ensure_task")
def partitions_ensure_task() -> list[str]:
    """Daily: make the coming quarters' partitions of the partitioned tables (PostgreSQL)."""
    return partitions.partitions_ensure()
