"""Kernel Celery tasks: event delivery and the outbox sweeper."""

from celery import shared_task

from salesapp import events


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
