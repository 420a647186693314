"""Thin Celery tasks: training, score refreshes."""

from datetime import datetime

from celery import shared_task
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError

from intelligence import services
from intelligence.models import Kind


@shared_task(name="intelligence.tasks.model_train_task", acks_late=True, reject_on_worker_lost=True)
def model_train_task(kind: str, actor_id: int | None = None) -> dict:
    """Train and maybe promote the `kind` model (on demand and nightly); too little history is a decision, not a failure."""
    actor = get_user_model().objects.filter(pk=actor_id).first() if actor_id else None
    try:
        return services.model_train(actor=actor, kind=kind)
    except ValidationError as exc:
        return {"kind": kind, "promoted": False, "decision": "; ".join(exc.messages)}


@shared_task(name="intelligence.tasks.models_train_nightly_task")
def models_train_nightly_task() -> list[dict]:
    return [model_train_task(kind) for kind in Kind.values]


@shared_task(name="intelligence.tasks.rescore_flush_task")
def rescore_flush_task() -> int:
    """Re-score, once each, the records whose inputs changed since the last flush."""
    return services.rescore_flush()


@shared_task(name="intelligence.tasks.scores_refresh_all_task", acks_late=True, reject_on_worker_lost=True)
def scores_refresh_all_task(kind: str, as_of: str | None = None) -> int:
    """Re-score every open record of a kind (after a promotion), as of now or an ISO time."""
    return services.scores_refresh(kind=kind, as_of=datetime.fromisoformat(as_of) if as_of else None)
