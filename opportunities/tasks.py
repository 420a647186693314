"""Celery tasks: thin wrappers that call services."""

from celery import shared_task

from opportunities.services import forecasts


@shared_task(name="opportunities.tasks.forecast_snapshot_task")
def forecast_snapshot_task() -> int:
    """Weekly: snapshot every forecast roll-up for the current quarter and month."""
    return forecasts.forecast_snapshot_take()
