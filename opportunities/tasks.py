"""Celery tasks: thin wrappers that call services."""

from celery import shared_task

from opportunities.services import archive, forecasts


@shared_task(name="opportunities.tasks.forecast_snapshot_task")
def forecast_snapshot_task() -> int:
    """Weekly: snapshot every forecast roll-up for the current quarter and month."""
    return forecasts.forecast_snapshot_take()


@shared_task(name="opportunities.tasks.opportunity_archive_task")
def opportunity_archive_task(job_id: int) -> int | None:
    """Run (or resume) an archive job of closed deals."""
    job = archive.archive_job_run(job_id=job_id)
    return job.processed if job else None


@shared_task(name="opportunities.tasks.opportunity_archive_schedule_task")
def opportunity_archive_schedule_task() -> int | None:
    """Nightly: start archiving the closed deals past ARCHIVE_AFTER_DAYS."""
    job = archive.archive_job_schedule()
    return job.pk if job else None
