"""Celery tasks: thin wrappers that call services."""

from celery import shared_task

from opportunities import services


@shared_task(name="opportunities.tasks.forecast_snapshot_task")
def forecast_snapshot_task() -> int:
    """Weekly: snapshot every forecast roll-up for the current quarter and month."""
    return services.forecast_snapshot_take()
