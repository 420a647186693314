"""Thin Celery tasks: realignment preview and apply (resumable)."""

from celery import shared_task

from territories import realignment


@shared_task(name="territories.realignment_preview_task", acks_late=True, reject_on_worker_lost=True)
def realignment_preview_task(job_id: int) -> None:
    realignment.realignment_preview_run(job_id)


@shared_task(name="territories.realignment_apply_task", acks_late=True, reject_on_worker_lost=True)
def realignment_apply_task(job_id: int) -> str:
    return realignment.realignment_run(job_id).status
