"""Intelligence writes: train and promote models, refresh scores, decide on recommendations."""

from __future__ import annotations

import logging
import math
from datetime import UTC, datetime, timedelta

import numpy as np
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from intelligence import sources
from intelligence.datasets import scoring_set, training_set
from intelligence.evaluation import metrics, time_split
from intelligence.explain import phrase, reason
from intelligence.models import Kind, Recommendation, RescoreRequest, ScoringModel
from intelligence.predictors import PREDICTORS, load, to_score
from intelligence.sources import Pipeline
from leads.services import lead_scores_write
from opportunities.services.scores import opportunity_scores_write
from salesapp.celery import tasks_run_in_process
from salesapp.locks import rows_lock

log = logging.getLogger(__name__)

MIN_PER_CLASS = 3  # below this a holdout cannot rank anything; not a promotion threshold
DEAL_RULES = "Rules v1"  # the label of the deal rule score, shown wherever the score is


# --- training and promotion -----------------------------------------------------

def _rules_proba(kind: str, ds, idx) -> np.ndarray:
    """The rule score on the holdout: stage probability for deals, the leads app's rules for leads."""
    if kind == Kind.DEAL:
        probs = sources.pipeline().probabilities
        return np.array([probs[ds.vectors[i]["stage"]] / 100 for i in idx])
    rules = sources.lead_rule_scores([ds.ids[i] for i in idx])
    return np.array([rules[ds.ids[i]][0] / 100 for i in idx])


def active_model(kind: str) -> ScoringModel | None:
    return ScoringModel.objects.filter(kind=kind, is_active=True).first()


def model_train(*, actor=None, kind: str) -> dict:
    """Train naive Bayes and LightGBM on older outcomes, test both on the newest, promote the better if it wins.

    Both candidates are stored as versions with their holdout metrics and the
    other candidates' AUC; the stored model is the one the metrics describe.
    """
    if kind not in Kind.values:
        raise ValidationError({"kind": f"Unknown kind {kind!r}; use deal or lead."})
    ds = training_set(kind)
    y = ds.y
    won, lost = int(y.sum()) if len(y) else 0, int(len(y) - y.sum()) if len(y) else 0
    train_idx, test_idx = time_split(ds.outcome_at) if len(y) else (np.array([], int), np.array([], int))
    for part, idx in (("training", train_idx), ("holdout", test_idx)):
        if len(idx) == 0 or min(int(y[idx].sum()), int(len(idx) - y[idx].sum())) < MIN_PER_CLASS:
            raise ValidationError({"kind": (
                f"Not enough {kind} outcomes to learn from yet ({won} won, {lost} lost): the {part} period "
                f"needs at least {MIN_PER_CLASS} of each. Scores come from the rules until then.")})
    tv = [ds.vectors[i] for i in train_idx]
    hv = [ds.vectors[i] for i in test_idx]
    extra = {"median_amount": ds.median_amount}
    candidates = {name: cls.fit(kind, tv, y[train_idx], extra) for name, cls in PREDICTORS.items()}
    results = {name: metrics(y[test_idx], pred.predict(hv, explain=False)[0]) for name, pred in candidates.items()}
    rules = metrics(y[test_idx], _rules_proba(kind, ds, test_idx))
    compared = {name: r["auc"] for name, r in results.items()} | {"rules": rules["auc"]}
    info = {
        "n_train": int(len(train_idx)), "n_holdout": int(len(test_idx)), "won": won, "lost": lost,
        "train_until": datetime.fromtimestamp(float(ds.outcome_at[train_idx].max()), tz=UTC).isoformat(),
        "holdout_from": datetime.fromtimestamp(float(ds.outcome_at[test_idx].min()), tz=UTC).isoformat(),
        "holdout_to": datetime.fromtimestamp(float(ds.outcome_at[test_idx].max()), tz=UTC).isoformat(),
        "compared": compared,
        "rules": {"auc": rules["auc"], "brier": rules["brier"]},
    }
    with transaction.atomic():
        # Lock the kind's rows so two trainings cannot take the same version number.
        list(rows_lock(ScoringModel.objects.filter(kind=kind)).values_list("pk", flat=True))
        version = (ScoringModel.objects.filter(kind=kind).aggregate(v=Max("version"))["v"] or 0) + 1
        stored = {}
        for name, pred in sorted(candidates.items()):
            stored[name] = ScoringModel.objects.create(
                kind=kind, version=version, algorithm=name, metrics=results[name] | info,
                params=pred.params, blob=pred.dumps(), trained_by=actor,
            )
            version += 1
        best = max(stored.values(), key=lambda m: (m.metrics["auc"], -m.metrics["brier"]))
        decision = model_promote_if_better(actor=actor, model=best)
    return {
        "kind": kind,
        "models": [{"id": m.pk, "version": m.version, "algorithm": m.algorithm, "auc": m.metrics["auc"],
                    "brier": m.metrics["brier"]} for m in stored.values()],
        "compared": compared,
        "promoted": decision["promoted"],
        "decision": decision["reason"],
    }


def model_promote_if_better(*, actor=None, model: ScoringModel) -> dict:
    """Make `model` the active one only if its holdout AUC beats the active model's and the rules'."""
    with transaction.atomic():
        current = rows_lock(ScoringModel.objects.filter(kind=model.kind, is_active=True)).first()
        auc = model.metrics.get("auc")
        rules_auc = (model.metrics.get("rules") or {}).get("auc")
        if auc is None or math.isnan(auc):
            reason = f"v{model.version} has no holdout AUC; not promoted"
            promoted = False
        elif rules_auc is not None and not math.isnan(rules_auc) and auc <= rules_auc:
            reason = f"v{model.version} (AUC {auc:.3f}) does not beat the rule score (AUC {rules_auc:.3f})"
            promoted = False
        elif current is not None and current.pk != model.pk and auc <= current.metrics.get("auc", 0):
            reason = (f"v{model.version} (AUC {auc:.3f}) does not beat active v{current.version} "
                      f"(AUC {current.metrics.get('auc', 0):.3f})")
            promoted = False
        else:
            if current is not None and current.pk != model.pk:
                ScoringModel.objects.filter(pk=current.pk).update(is_active=False)
            ScoringModel.objects.filter(pk=model.pk).update(is_active=True, promoted_at=timezone.now())
            model.is_active = True
            reason = f"v{model.version} ({model.get_algorithm_display()}, AUC {auc:.3f}) promoted"
            promoted = True
            kind = model.kind
            transaction.on_commit(lambda: _rescore_all_later(kind))
        ScoringModel.objects.filter(pk=model.pk).update(
            metrics=model.metrics | {"decision": reason, "promoted": promoted}
        )
        model.metrics = model.metrics | {"decision": reason, "promoted": promoted}
    log.info("scoring model %s: %s", model, reason)
    return {"promoted": promoted, "reason": reason}


def _rescore_all_later(kind: str) -> None:
    from intelligence.tasks import scores_refresh_all_task  # tasks import this module: a real cycle

    scores_refresh_all_task.delay(kind)


# --- scoring --------------------------------------------------------------------

def _deal_rules(vectors, pipeline: Pipeline) -> tuple[list[int], list[list[dict]]]:
    """Before any learned model: the stage's default probability, nudged by plain rules."""
    scores, factors = [], []
    for v in vectors:
        base = pipeline.probabilities[v["stage"]]
        fs = [{"factor": "stage", "points": base,
               "detail": f"{phrase('stage', v['stage'], pipeline.labels)} ({base}% by default)"}]
        dsa = v["days_since_activity"]
        if math.isnan(dsa) or dsa > 30:
            fs.append(reason("days_since_activity", dsa, -10))
        if not math.isnan(v["days_to_close"]) and v["days_to_close"] < 0:
            fs.append(reason("days_to_close", v["days_to_close"], -10))
        if v["has_next_step"]:
            fs.append(reason("has_next_step", v["has_next_step"], 5))
        scores.append(max(0, min(100, sum(f["points"] for f in fs))))
        factors.append(fs)
    return scores, factors


def compute_scores(kind: str, ids=None) -> list[dict]:
    """Score open records (ids=None: all of them) with the active model, or the rules before one exists.

    Each result names the model that made it ("LightGBM v3", "Rules v1"). Decided records are left out:
    closed deals and converted leads show their outcome, unqualified leads keep their last score.
    """
    model = active_model(kind)
    ds = scoring_set(kind, ids, median=model.params.get("median_amount") if model else None)
    pipeline = ds.extra["history"].pipeline
    if model is not None:
        p, factors = load(model).predict(ds.vectors, stage_labels=pipeline.labels)
        scores, labels = to_score(p), [model.label] * len(ds.ids)
    elif kind == Kind.DEAL:
        (scores, factors), labels = _deal_rules(ds.vectors, pipeline), [DEAL_RULES] * len(ds.ids)
    else:
        rules = sources.lead_rule_scores(ds.ids)
        scores, factors, labels = ([rules[i][n] for i in ds.ids] for n in range(3))
    return [
        {"id": rid, "score": int(s), "model": label, "factors": f}
        for rid, s, f, label in zip(ds.ids, scores, factors, labels, strict=True)
    ]


def scores_refresh(*, kind: str, ids=None, actor=None) -> int:
    """Recompute scores and hand them to the app that owns the records, which writes, audits and publishes them.

    Returns how many records were scored.
    """
    results = compute_scores(kind, ids)
    scores = {r["id"]: {"score": r["score"], "model": r["model"], "factors": r["factors"]} for r in results}
    if kind == Kind.DEAL:
        opportunity_scores_write(actor=actor, scores=scores)
    else:
        lead_scores_write(actor=actor, scores=scores)
    return len(results)


def rescore_request(*, targets: list[tuple[str, int]]) -> None:
    """Ask for a rescore of records whose inputs changed; requests for one record coalesce into one row.

    The rescoring worker takes every waiting request each RESCORE_WINDOW_SECONDS (`rescore_flush`), so a record
    touched by ten events in a window is scored once. In process (no broker, no beat) the flush runs after commit.
    """
    RescoreRequest.objects.bulk_create([RescoreRequest(kind=k, record_id=rid) for k, rid in targets],
                                       ignore_conflicts=True)
    if tasks_run_in_process():
        transaction.on_commit(rescore_flush)


def rescore_flush(*, limit: int = 5000) -> int:
    """Rescore the records waiting for it, once each, kind by kind; answer how many were scored.

    Requests are taken with their rows locked (another flush skips them) and deleted in the transaction that
    writes the scores, so a failed rescore leaves its requests for the next flush.
    """
    scored = 0
    for kind in Kind.values:
        with transaction.atomic():
            taken = list(rows_lock(RescoreRequest.objects.filter(kind=kind), skip_locked=True)
                         .values_list("pk", "record_id")[:limit])
            if not taken:
                continue
            scored += scores_refresh(kind=kind, ids=sorted({rid for _, rid in taken}))
            RescoreRequest.objects.filter(pk__in=[pk for pk, _ in taken]).delete()
    return scored


# --- recommendations -------------------------------------------------------------

def recommendation_accept(*, actor, recommendation: Recommendation) -> Recommendation:
    """Accept advice: create its task through the activities app and remember the choice."""
    if recommendation.status != Recommendation.Status.OPEN:
        raise ValidationError({"status": f"This recommendation was already {recommendation.status}."})
    with transaction.atomic():
        task = sources.task_create(
            actor=actor, subject=recommendation.action, opportunity_id=recommendation.opportunity_id,
            lead_id=recommendation.lead_id, due_at=timezone.now() + timedelta(days=2),
        )
        recommendation.status = Recommendation.Status.ACCEPTED
        recommendation.decided_at = timezone.now()
        recommendation.decided_by = actor
        recommendation.task_id = str(task["id"])
        recommendation.save(update_fields=["status", "decided_at", "decided_by", "task_id"])
    return recommendation


def recommendation_dismiss(*, actor, recommendation: Recommendation) -> Recommendation:
    """Dismiss advice: it is not raised again for this record for a while, and ranks lower everywhere."""
    if recommendation.status != Recommendation.Status.OPEN:
        raise ValidationError({"status": f"This recommendation was already {recommendation.status}."})
    recommendation.status = Recommendation.Status.DISMISSED
    recommendation.decided_at = timezone.now()
    recommendation.decided_by = actor
    recommendation.save(update_fields=["status", "decided_at", "decided_by"])
    return recommendation
