"""Realignment: which records move to which territory when rules change or a plan goes live.

Business rules:
- A rule change or the activation of a planning model is previewed first:
  every move is computed and stored, nothing changes. The preview shows how
  many leads, accounts and open opportunities would move, from where to where,
  with a sample.
- Applying a preview makes exactly the stored moves (and saves the previewed
  rule edits / activates the model first), in batches, as a Celery job with
  progress. Each batch is one transaction that also records the checkpoint, so
  a failed job resumes where it stopped and never leaves a batch half-applied.
- Every moved record publishes `territory.assignment_changed`.
- Closed opportunities never move: providers do not offer them.

Territories import no other app: the apps that own records register a
provider in their AppConfig.ready() with `register_provider("leads", provider)`
(territories.providers says what a provider offers).
"""

from __future__ import annotations

import logging
from collections import Counter

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from salesapp.events import publish_many
from salesapp.jobs import JobKind, job_claim, job_heartbeat, job_send, register_job_kind
from salesapp.locks import rows_lock
from salesapp.models import User
from territories import services
from territories.matching import index_for_model
from territories.models import RealignmentJob, RealignmentMove, Territory, TerritoryModel

# The apps register their providers through this module (register_provider): realignment's public face.
from territories.providers import RealignmentProvider, providers, register_provider, unregister_provider  # noqa: F401

log = logging.getLogger(__name__)

SAMPLE_SIZE = 20


# --- preview ------------------------------------------------------------------------

def _overrides(job: RealignmentJob) -> dict[int, dict]:
    out = {}
    for stored in job.rule_changes or []:
        change = dict(stored)
        tid = change.pop("territory_id")
        out[int(tid)] = change
    return out


@transaction.atomic
def realignment_preview_start(*, actor, model: TerritoryModel, rule_changes: list[dict] | None = None,
                              batch_size: int = 500, auto_apply: bool = False) -> RealignmentJob:
    """Plan a realignment to `model`'s rules (with unsaved `rule_changes`); computed by a task.

    The previewed owner and parent picks are judged now, for the planner who makes them.
    """
    if model.state == TerritoryModel.State.ARCHIVED:
        raise ValidationError({"model": ["An archived territory model cannot be realigned to."]})
    if batch_size < 1:
        raise ValidationError({"batch_size": ["Must be at least 1."]})
    changes = []
    for i, given in enumerate(rule_changes or []):
        change = dict(given)
        tid = change.pop("territory_id", None) or change.pop("territory", None)
        territory = Territory.objects.filter(pk=tid, model=model).first()
        if territory is None:
            raise ValidationError({"changes": [f"Change {i + 1}: no territory {tid} in this model."]})
        unknown = set(change) - set(services.EDITABLE_FIELDS)
        if unknown:
            raise ValidationError({"changes": [f"Change {i + 1}: {sorted(unknown)[0]} is not a territory field."]})
        clean = services.territory_validate(_resolve(change), instance=territory)
        services.check_picks(actor=actor, clean=clean, instance=territory)
        changes.append({"territory_id": territory.pk, **_plain(clean)})
    job = RealignmentJob.objects.create(
        model=model, rule_changes=changes, created_by=actor,
        kind=RealignmentJob.Kind.REALIGN if model.state == TerritoryModel.State.ACTIVE else RealignmentJob.Kind.ACTIVATE,
        batch_size=batch_size, auto_apply=auto_apply, applied_by=actor if auto_apply else None,
    )
    job_send(_preview_task(), job.pk)
    return job


def _resolve(change: dict) -> dict:
    """Ids in a change (owner, parent) become objects for validation."""
    out = dict(change)
    if "parent" in out and out["parent"] is not None and not isinstance(out["parent"], Territory):
        out["parent"] = Territory.objects.filter(pk=out["parent"]).first()
    if "owner" in out and out["owner"] is not None and not isinstance(out["owner"], User):
        out["owner"] = User.objects.filter(pk=out["owner"]).first()
    return out


def _plain(clean: dict) -> dict:
    out = {}
    for k, v in clean.items():
        if hasattr(v, "pk"):
            out[f"{k}_id" if k == "parent" else k] = v.pk
        elif v is not None and not isinstance(v, (str, int, float, bool, list)):
            out[k] = str(v)
        else:
            out[k] = v
    if "parent" in clean and clean["parent"] is None:
        out["parent_id"] = None
        out.pop("parent", None)
    return out


def realignment_compute(job: RealignmentJob) -> RealignmentJob:
    """Compute and store the moves of a job; changes no record."""
    index = index_for_model(job.model_id, overrides=_overrides(job))
    job.moves.all().delete()
    totals: dict[str, dict] = {}
    flows: Counter = Counter()
    total = 0
    for key, provider in providers().items():
        candidates = moved = 0
        for batch in provider.iter_candidates(job.batch_size):
            rows = []
            for pk, attrs, current in batch:
                candidates += 1
                target = index.match_id(attrs)
                if target != current:
                    rows.append(RealignmentMove(
                        job=job, record_type=key, record_id=pk, label=str(attrs.get("label") or "")[:200],
                        from_territory_id=current, to_territory_id=target,
                    ))
                    flows[(key, current, target)] += 1
            RealignmentMove.objects.bulk_create(rows, batch_size=1000)
            moved += len(rows)
        totals[key] = {"label": provider.label, "candidates": candidates, "moves": moved}
        total += moved
    job.totals = totals
    job.flows = [
        {"record_type": k, "from_territory_id": f, "to_territory_id": t, "count": n}
        for (k, f, t), n in sorted(flows.items(), key=lambda x: (-x[1], str(x[0])))
    ]
    job.total = total
    job.status = RealignmentJob.Status.PREVIEWED
    job.save(update_fields=["totals", "flows", "total", "status", "updated_at"])
    return job


def realignment_preview_run(job_id: int) -> None:
    """Compute a preview (again from the start if its worker died); queue the apply when asked to."""
    if not job_claim("realignment-preview", job_id):
        return
    job = RealignmentJob.objects.get(pk=job_id)
    try:
        with job_heartbeat("realignment-preview", job_id), transaction.atomic():
            realignment_compute(job)
            if job.auto_apply:
                job.status = RealignmentJob.Status.QUEUED
                job.heartbeat_at = None
                job.runs = 0
                job.save(update_fields=["status", "heartbeat_at", "runs", "updated_at"])
                job_send(_apply_task(), job.pk)
    except Exception as exc:
        # Whatever broke, the planner sees the preview failed (status and error on the job), and the task fails.
        log.exception("realignment preview %s failed", job_id)
        _fail(job_id, f"preview failed: {type(exc).__name__}: {exc}")
        raise


def _apply_task():
    from territories.tasks import realignment_apply_task  # territories.tasks imports this module

    return realignment_apply_task


def _preview_task():
    from territories.tasks import realignment_preview_task  # territories.tasks imports this module

    return realignment_preview_task


def _fail(job_id: int, reason: str) -> None:
    RealignmentJob.objects.filter(pk=job_id).update(
        status=RealignmentJob.Status.FAILED, error=reason[:2000], heartbeat_at=None, updated_at=timezone.now())


def register_realignment_jobs() -> None:
    """Put previews and applies under the job watchdog: a dead worker's preview is computed again, an apply resumes
    from its checkpoint."""
    register_job_kind("realignment-preview", JobKind(
        model=RealignmentJob, waiting=(RealignmentJob.Status.PREVIEWING,), running=RealignmentJob.Status.PREVIEWING,
        queued_field="created_at", send=lambda pk: job_send(_preview_task(), pk),
        fail=lambda pk, reason: _fail(pk, f"preview failed: {reason}"),
    ))
    register_job_kind("realignment", JobKind(
        model=RealignmentJob, waiting=(RealignmentJob.Status.QUEUED,), running=RealignmentJob.Status.RUNNING,
        queued_field="updated_at", send=lambda pk: job_send(_apply_task(), pk), fail=_fail,
    ))


# --- apply --------------------------------------------------------------------------

@transaction.atomic
def realignment_apply(*, actor, job: RealignmentJob) -> RealignmentJob:
    """Start (or resume) applying a previewed job in the background."""
    job = rows_lock(RealignmentJob.objects.all()).get(pk=job.pk)
    # A job whose worker died is resumed by the job watchdog; a failed one is resumed here, from its checkpoint.
    if job.status not in (RealignmentJob.Status.PREVIEWED, RealignmentJob.Status.FAILED):
        raise ValidationError({"status": [f"A job that is {job.get_status_display().lower()} cannot be applied."]})
    if job.status == RealignmentJob.Status.FAILED and job.started_at is None:
        raise ValidationError({"status": ["The preview itself failed; start a new preview."]})
    if not job.rules_applied and job.model.state == TerritoryModel.State.ARCHIVED:
        raise ValidationError({"model": ["This territory model was archived since the preview."]})
    job.status = RealignmentJob.Status.QUEUED
    job.applied_by = actor
    job.error = ""
    job.heartbeat_at = None
    job.runs = 0
    job.save(update_fields=["status", "applied_by", "error", "heartbeat_at", "runs", "updated_at"])
    job_send(_apply_task(), job.pk)
    return job


def _commit_rules(job: RealignmentJob, actor) -> None:
    """Save the previewed rule edits and activate the model, once, with the checkpoint."""
    for stored in job.rule_changes or []:
        change = dict(stored)
        territory = Territory.objects.get(pk=change.pop("territory_id"))
        if "parent_id" in change:
            change["parent"] = change.pop("parent_id")
        services.territory_update(actor=actor, territory=territory, **_resolve(change))
    if job.model.state != TerritoryModel.State.ACTIVE:
        services.territory_model_activate_now(actor=actor, model=job.model)
    job.rules_applied = True
    job.save(update_fields=["rules_applied", "updated_at"])


def realignment_run(job_id: int) -> RealignmentJob:
    """Apply a queued job batch by batch; each batch and its checkpoint commit together."""
    if not job_claim("realignment", job_id):
        return RealignmentJob.objects.get(pk=job_id)
    job = RealignmentJob.objects.select_related("model", "applied_by").get(pk=job_id)
    actor = job.applied_by
    RealignmentJob.objects.filter(pk=job.pk).update(started_at=job.started_at or timezone.now(), updated_at=timezone.now())
    registry = providers()
    try:
        with job_heartbeat("realignment", job_id):
            _apply_batches(job, actor, registry)
    except Exception as exc:
        # Whatever broke (a provider, the database), the applied batches stay and the job is marked failed
        # with its error, shown on the job page and in the API, and resumable from its checkpoint.
        log.exception("realignment %s failed", job_id)
        _fail(job_id, f"{type(exc).__name__}: {exc}")
        return RealignmentJob.objects.get(pk=job_id)
    RealignmentJob.objects.filter(pk=job_id).update(status=RealignmentJob.Status.DONE, finished_at=timezone.now(),
                                                    heartbeat_at=None)
    return RealignmentJob.objects.get(pk=job_id)


def _apply_batches(job: RealignmentJob, actor, registry) -> None:
    """Commit the rules once, then each batch of moves with its events and the checkpoint, in one transaction."""
    if not job.rules_applied:
        with transaction.atomic():
            _commit_rules(job, actor)
    while True:
        with transaction.atomic():
            job = rows_lock(RealignmentJob.objects.all()).get(pk=job.pk)
            batch = list(job.moves.filter(applied=False, id__gt=job.checkpoint).order_by("id")[: job.batch_size])
            if not batch:
                return
            by_type: dict[str, list[RealignmentMove]] = {}
            for move in batch:
                by_type.setdefault(move.record_type, []).append(move)
            for key, moves in by_type.items():
                provider = registry.get(key)
                if provider is None:
                    raise RuntimeError(f"no realignment provider for {key}")
                provider.apply_moves([(m.record_id, m.to_territory_id) for m in moves], actor)
                publish_many("territory.assignment_changed", [{
                    "record_type": key, "record_id": m.record_id,
                    "from_territory_id": m.from_territory_id, "to_territory_id": m.to_territory_id,
                    "job_id": job.pk,
                } for m in moves], actor=actor)
            RealignmentMove.objects.filter(pk__in=[m.pk for m in batch]).update(applied=True)
            job.processed += len(batch)
            job.batches_done += 1
            job.checkpoint = batch[-1].pk
            job.save(update_fields=["processed", "batches_done", "checkpoint", "updated_at"])


def realignment_cancel(*, actor, job: RealignmentJob) -> RealignmentJob:
    """Drop a preview that was not applied."""
    if job.status not in (RealignmentJob.Status.PREVIEWED, RealignmentJob.Status.PREVIEWING):
        raise ValidationError({"status": ["Only a preview that was not applied can be cancelled."]})
    job.status = RealignmentJob.Status.CANCELLED
    job.save(update_fields=["status", "updated_at"])
    return job
