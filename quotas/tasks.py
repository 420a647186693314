"""Quota Celery tasks."""

from celery import shared_task

from quotas import attainment

RECOMPUTE_SCHEDULE = {
    "quotas-recompute": {"task": "quotas.tasks.quotas_recompute_task", "schedule": 3600.0},
}


@shared_task(name="quotas.tasks.quotas_recompute_task")
def quotas_recompute_task() -> dict:
    """Re-measure every quota from the source records (the hourly safety net behind the events)."""
    result = attainment.quotas_recompute()
    return {"quotas": result["quotas"], "changed": result["changed"], "attained": len(result["attained"])}
