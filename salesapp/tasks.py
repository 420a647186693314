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
