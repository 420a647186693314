"""Kernel Celery tasks: event delivery, the outbox sweeper, imports and the data-access purge."""

from celery import shared_task

from salesapp import access_log, events


@shared_task(name="salesapp.tasks.event_deliver_task", acks_late=True)
def event_deliver_task(event: dict) -> list[str]:
    """Run the Celery-side consumers of one event (idempotently)."""
    return events.deliver(event)


@shared_task(name="salesapp.tasks.outbox_sweep_task")
def outbox_sweep_task() -> dict:
    """Resend outbox rows the relay could not send."""
    return events.outbox_sweep()


@shared_task(name="salesapp.tasks.import_run_task", acks_late=True)
def import_run_task(job_id: int) -> str:
    """Run one CSV import job (validate, then write), recording progress on the job."""
    from salesapp.imports import import_job_run

    return import_job_run(job_id).status


@shared_task(name="salesapp.tasks.data_access_purge_task")
def data_access_purge_task() -> int:
    """Delete data-access entries past their retention (DATA_ACCESS_RETENTION_DAYS)."""
    return access_log.data_access_purge()
