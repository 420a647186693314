"""Archival of closed deals: out of every working query, openable read-only, restorable.

A closed deal whose actual close date is older than ARCHIVE_AFTER_DAYS (default two years) is archived:
it gets `archived_at`, and `Opportunity.objects` (what every list, search, board, forecast and export
starts from) leaves it out; its stage history, activities and audit entries stay attached to it by their
keys and go with it. Restoring clears `archived_at` and brings it back with all of them.

Why a state and not archive tables or a schema: activities, audit entries, scores and quotas refer to deals
by id across apps; moving rows to other tables would mean copying and deleting every app's rows (each app
writes only its own) and re-keying them on restore, with foreign keys dropped in between. A state keeps every
key whole, makes archive and restore one indexed update, and the live working set stays small through the
manager's filter. Analytics and forecast accuracy read `Opportunity.everything`, so they keep counting them.

Archiving runs as a resumable job (ArchiveJob, under salesapp.jobs' watchdog): batches in id order, each in
one transaction with the job's checkpoint, so a job whose worker died resumes after the last batch done.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from opportunities.models import ArchiveJob, Opportunity
from opportunities.selectors import closed_stage_keys
from salesapp.audit import audit_bulk
from salesapp.events import publish
from salesapp.guards import require_permission
from salesapp.jobs import JobKind, job_claim, job_heartbeat, job_send, register_job_kind
from salesapp.locks import rows_lock

ARCHIVE_BATCH = 500
JOB_KIND = "opportunity-archive"


def _payload(opp: Opportunity) -> dict:
    return {"opportunity_id": opp.pk, "owner_id": opp.owner_id, "territory_id": opp.territory_id,
            "stage": opp.stage_id,
            "actual_close_date": opp.actual_close_date.isoformat() if opp.actual_close_date else None}


def archive_cutoff(today: dt.date | None = None) -> dt.date:
    """Deals closed before this date are old enough for the archive."""
    return (today or timezone.localdate()) - dt.timedelta(days=settings.ARCHIVE_AFTER_DAYS)


def _candidates(closed_before: dt.date):
    """Live closed deals closed before the date (stage keys, not a join: rows_lock reads no joined row)."""
    return Opportunity.objects.filter(stage_id__in=closed_stage_keys(), actual_close_date__lt=closed_before)


@transaction.atomic
def archive_job_start(*, actor, closed_before: dt.date | None = None) -> ArchiveJob:
    """Queue the archival of closed deals closed before `closed_before` (default: ARCHIVE_AFTER_DAYS ago).

    Admins and sales managers (opportunity:delete: it takes deals out of everyone's lists).
    """
    require_permission(actor, "opportunity:delete")
    cutoff = closed_before or archive_cutoff()
    if cutoff > timezone.localdate():
        raise ValidationError({"closed_before": ["Only deals closed in the past can be archived."]})
    return _job_queue(actor=actor, closed_before=cutoff)


@transaction.atomic
def archive_job_schedule() -> ArchiveJob | None:
    """Nightly (beat): archive the deals past ARCHIVE_AFTER_DAYS, by the system, unless a job is queued or
    running already (it will reach them)."""
    if ArchiveJob.objects.filter(status__in=(ArchiveJob.Status.QUEUED, ArchiveJob.Status.RUNNING)).exists():
        return None
    return _job_queue(actor=None, closed_before=archive_cutoff())


def _job_queue(*, actor, closed_before: dt.date) -> ArchiveJob:
    job = ArchiveJob.objects.create(closed_before=closed_before, created_by=actor,
                                    total=_candidates(closed_before).count())
    job_send(_run_task(), job.pk)
    return job


def _archive_batch(job: ArchiveJob) -> int:
    """Archive the next batch after the checkpoint, in one transaction with the checkpoint; answers how many."""
    with transaction.atomic():
        job = rows_lock(ArchiveJob.objects.all()).get(pk=job.pk)
        deals = list(rows_lock(_candidates(job.closed_before).filter(pk__gt=job.last_id))[:ARCHIVE_BATCH])
        if not deals:
            return 0
        now = timezone.now()
        Opportunity.objects.filter(pk__in=[d.pk for d in deals]).update(archived_at=now, updated_at=now)
        audit_bulk(Opportunity, {d.pk: {"archived_at": ["None", now.isoformat()]} for d in deals},
                   actor=job.created_by)
        for deal in deals:
            publish("opportunity.archived", _payload(deal), actor=job.created_by)
        ArchiveJob.objects.filter(pk=job.pk).update(
            processed=job.processed + len(deals), last_id=deals[-1].pk, updated_at=now, heartbeat_at=now)
        return len(deals)


def archive_job_run(*, job_id: int) -> ArchiveJob | None:
    """Run (or resume) an archive job to its end; None when another worker holds it or it is over."""
    if not job_claim(JOB_KIND, job_id):
        return None
    with job_heartbeat(JOB_KIND, job_id):
        job = ArchiveJob.objects.get(pk=job_id)
        while _archive_batch(job):
            job.refresh_from_db()
    now = timezone.now()
    ArchiveJob.objects.filter(pk=job_id).update(status=ArchiveJob.Status.DONE, finished_at=now, updated_at=now,
                                                heartbeat_at=None)
    return ArchiveJob.objects.get(pk=job_id)


@transaction.atomic
def opportunity_restore(*, actor, opportunity: Opportunity) -> Opportunity:
    """Bring an archived deal back into lists and search, with its history, activities and audit."""
    require_permission(actor, "opportunity:delete")
    opp = rows_lock(Opportunity.everything.all()).get(pk=opportunity.pk)
    if opp.archived_at is None:
        raise ValidationError({"archived_at": ["This deal is not archived."]})
    opp.archived_at = None
    opp.save(update_fields=["archived_at", "updated_at"])  # audited by django-auditlog's signal
    publish("opportunity.restored", _payload(opp), actor=actor)
    return opp


def _run_task():
    from opportunities.tasks import opportunity_archive_task  # opportunities.tasks imports this module

    return opportunity_archive_task


def _fail(job_id: int, reason: str) -> None:
    ArchiveJob.objects.filter(pk=job_id).update(status=ArchiveJob.Status.FAILED, error=reason[:2000],
                                                heartbeat_at=None, updated_at=timezone.now())


def register_archive_jobs() -> None:
    """Put archive jobs under the job watchdog: a dead worker's job resumes from its checkpoint."""
    register_job_kind(JOB_KIND, JobKind(
        model=ArchiveJob, waiting=(ArchiveJob.Status.QUEUED,), running=ArchiveJob.Status.RUNNING,
        queued_field="created_at", send=lambda pk: job_send(_run_task(), pk), fail=_fail,
    ))
