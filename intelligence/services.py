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
from intelligence.datasets import as_epoch, scoring_set, training_set
from intelligence.evaluation import auc, brier, calibrated_holdout, calibration_error, finite, metrics, time_split
from intelligence.explain import phrase, reason
from intelligence.models import Kind, Recommendation, RescoreRequest, ScoringModel
from intelligence.predictors import PREDICTORS, load, to_score
from intelligence.sources import Pipeline
from leads.scoring import rules_score_of
from leads.services import lead_scores_write
from opportunities.services.scores import opportunity_scores_write
from salesapp.celery import tasks_run_in_process
from salesapp.locks import rows_lock

log = logging.getLogger(__name__)

MIN_PER_CLASS = 20  # decided records of each outcome in each of the training and holdout periods
PROMOTION_MARGIN = 0.02  # holdout AUC a candidate must gain over every baseline and over the active model
MAX_CALIBRATION_ERROR = 0.05  # a promoted model's holdout calibration error (10 bins) is at most this
DEAL_RULES = "Rules v1"  # the label of the deal rule score, shown wherever the score is


# --- rule scores, point in time ----------------------------------------------------

def _when(t: float) -> datetime:
    return datetime.fromtimestamp(t, tz=UTC)


def _lead_rules(vectors: list[dict], times) -> tuple[list[int], list[list[dict]], list[str]]:
    """The leads app's rule score of each lead as it stood at its time (its fields and activities then)."""
    scores, factors, labels = [], [], []
    for v, t in zip(vectors, times, strict=True):
        inputs = v["rules_input"]
        last = inputs["last_activity_at"]
        result = rules_score_of(**(inputs | {"last_activity_at": _when(last) if last else None}), now=_when(t))
        scores.append(result.score)
        factors.append(result.factors)
        labels.append(result.model)
    return scores, factors, labels


def _deal_rules(vectors, pipeline: Pipeline) -> tuple[list[int], list[list[dict]]]:
    """Before any learned model: the stage's default probability, nudged by three plain rules that always say
    their part (recent activity, the close date, a next step)."""
    scores, factors = [], []
    for v in vectors:
        base = pipeline.probabilities[v["stage"]]
        fs = [{"factor": "stage", "points": base,
               "detail": f"{phrase('stage', v['stage'], pipeline.labels)} ({base}% by default)"}]
        dsa = v["days_since_activity"]
        fs.append(reason("days_since_activity", dsa, 5 if not math.isnan(dsa) and dsa <= 14 else -10))
        dtc = v["days_to_close"]
        fs.append(reason("days_to_close", dtc, -3 if math.isnan(dtc) else -10 if dtc < 0 else 3))
        fs.append(reason("has_next_step", v["has_next_step"], 5 if v["has_next_step"] else -5))
        scores.append(max(0, min(100, sum(f["points"] for f in fs))))
        factors.append(fs)
    return scores, factors


def _rules_proba(kind: str, ds, idx) -> np.ndarray:
    """The rule score on examples, each as of its own time: the baseline a learned model must beat."""
    vectors = [ds.vectors[i] for i in idx]
    if kind == Kind.DEAL:
        scores = _deal_rules(vectors, sources.pipeline())[0]
    else:
        scores = _lead_rules(vectors, ds.snapshot_at[idx])[0]
    return np.asarray(scores, dtype=float) / 100


# --- training and promotion -----------------------------------------------------

def active_model(kind: str) -> ScoringModel | None:
    return ScoringModel.objects.filter(kind=kind, is_active=True).first()


def _too_little_history(kind: str, ds, train_idx, test_idx) -> str | None:
    """Why the learned model cannot be trained yet, and how much more history it needs; None when it can."""
    needs = []
    for part, idx in (("training", train_idx), ("holdout", test_idx)):
        records = {}
        for i in idx:
            records[ds.ids[i]] = int(ds.y[i])
        won = sum(records.values())
        lost = len(records) - won
        if min(won, lost) < MIN_PER_CLASS:
            needs.append(f"the {part} period has {won} won and {lost} lost (needs {MIN_PER_CLASS} of each: "
                         f"{max(0, MIN_PER_CLASS - won)} more won, {max(0, MIN_PER_CLASS - lost)} more lost)")
    if not needs:
        return None
    total = len(set(ds.ids)) if len(ds.ids) else 0
    return (f"Not enough {kind} outcomes to learn from yet ({total} decided records): " + "; ".join(needs)
            + f". The newest quarter of outcomes is held out to test on, so about {4 * MIN_PER_CLASS} of each "
            "outcome are needed in all. Scores come from the rules until then.")


def model_train(*, actor=None, kind: str) -> dict:
    """Train naive Bayes and LightGBM on the outcomes known before a cut in time, test them on those known after,
    calibrate them there, and promote the best if it beats the baselines on that same holdout.

    Every candidate is stored as a version with its holdout report: AUC (within ages), Brier, calibration error
    and reliability table, beside the point-in-time rule score and naive Bayes baselines.
    """
    if kind not in Kind.values:
        raise ValidationError({"kind": f"Unknown kind {kind!r}; use deal or lead."})
    ds = training_set(kind)
    y = ds.y
    train_idx, test_idx = time_split(ds.known_at)
    problem = _too_little_history(kind, ds, train_idx, test_idx)
    if problem:
        raise ValidationError({"kind": problem})
    tv = [ds.vectors[i] for i in train_idx]
    hv = [ds.vectors[i] for i in test_idx]
    yh, ages, records = y[test_idx], ds.ages[test_idx], np.asarray(ds.ids)[test_idx]
    extra = {"median_amount": ds.median_amount}
    candidates = {name: cls.fit(kind, tv, y[train_idx], extra) for name, cls in PREDICTORS.items()}
    results = {}
    for name, pred in candidates.items():
        raw = pred.predict(hv, explain=False)[0]
        calibrated, platt = calibrated_holdout(raw, yh, records)
        pred.params["platt"] = list(platt)
        results[name] = metrics(yh, calibrated, ages) | {"auc": round(auc(yh, raw, ages), 4), "uncalibrated": {
            "brier": round(brier(yh, raw), 4), "calibration_error": round(calibration_error(yh, raw), 4)}}
    rules = metrics(yh, _rules_proba(kind, ds, test_idx), ages)
    compared = {name: r["auc"] for name, r in results.items()} | {"rules": rules["auc"]}
    info = {
        "n_train": int(len(train_idx)), "n_holdout": int(len(test_idx)),
        "records_train": len({ds.ids[i] for i in train_idx}), "records_holdout": len(set(records.tolist())),
        "won": int(y.sum()), "lost": int(len(y) - y.sum()),
        "train_until": _when(float(ds.known_at[train_idx].max())).isoformat(),
        "holdout_from": _when(float(ds.known_at[test_idx].min())).isoformat(),
        "holdout_to": _when(float(ds.known_at[test_idx].max())).isoformat(),
        "ages": sorted({int(a) for a in ds.ages}), "compared": compared, "rules": rules,
        "margin": PROMOTION_MARGIN, "max_calibration_error": MAX_CALIBRATION_ERROR,
    }
    with transaction.atomic():
        # Lock the kind's rows so two trainings cannot take the same version number.
        list(rows_lock(ScoringModel.objects.filter(kind=kind)).values_list("pk", flat=True))
        version = (ScoringModel.objects.filter(kind=kind).aggregate(v=Max("version"))["v"] or 0) + 1
        stored = {}
        for name, pred in sorted(candidates.items()):
            baselines = {"rules": rules} | ({"naive_bayes": results["naive_bayes"]} if name != "naive_bayes" else {})
            stored[name] = ScoringModel.objects.create(
                kind=kind, version=version, algorithm=name, trained_by=actor, params=pred.params, blob=pred.dumps(),
                metrics=results[name] | info | {"baselines": {k: _summary(v) for k, v in baselines.items()}},
            )
            version += 1
        best = max(stored.values(), key=lambda m: (m.metrics["auc"], -m.metrics["brier"]))
        decision = model_promote_if_better(actor=actor, model=best)
    return {
        "kind": kind,
        "models": [{"id": m.pk, "version": m.version, "algorithm": m.algorithm} | _summary(m.metrics)
                   for m in stored.values()],
        "baselines": {"rules": _summary(rules)},
        "compared": compared,
        "promoted": decision["promoted"],
        "decision": decision["reason"],
    }


def _summary(m: dict) -> dict:
    return {k: m.get(k) for k in ("auc", "auc_pooled", "brier", "calibration_error")}


def model_evaluate(*, model: ScoringModel, ids=None) -> dict:
    """A stored model's report on decided records (ids=None: all) seen at the training ages: n, AUC within
    ages, Brier, calibration error and reliability table, with the rule score's beside it."""
    ds = training_set(model.kind, ids)
    if not len(ds.ids):
        return {"n": 0}
    p = load(model).predict(ds.vectors, explain=False)[0]
    idx = np.arange(len(ds.ids))
    return {"n": len(ds.ids)} | metrics(ds.y, p, ds.ages) | {
        "rules": _summary(metrics(ds.y, _rules_proba(model.kind, ds, idx), ds.ages))}


def model_promote_if_better(*, actor=None, model: ScoringModel) -> dict:
    """Make `model` the active one only if its holdout AUC beats every baseline on the same split (the rule
    score, naive Bayes) and the active model by PROMOTION_MARGIN, and its calibration error is small enough."""
    with transaction.atomic():
        current = rows_lock(ScoringModel.objects.filter(kind=model.kind, is_active=True)).first()
        auc_ = model.metrics.get("auc")
        baselines = model.metrics.get("baselines") or {"rules": model.metrics.get("rules") or {}}
        ece = model.metrics.get("calibration_error")
        beaten = [(name, b["auc"]) for name, b in baselines.items()
                  if finite(b.get("auc")) and finite(auc_) and auc_ < b["auc"] + PROMOTION_MARGIN]
        promoted = False
        if auc_ is None or math.isnan(auc_):
            reason = f"v{model.version} has no holdout AUC; not promoted"
        elif beaten:
            name, other = beaten[0]
            label = "the rule score" if name == "rules" else name.replace("_", " ")
            reason = (f"v{model.version} (AUC {auc_:.3f}) does not beat {label} (AUC {other:.3f}) by "
                      f"{PROMOTION_MARGIN} on the same holdout")
        elif finite(ece) and ece > MAX_CALIBRATION_ERROR:
            reason = f"v{model.version} calibration error {ece:.3f} is above {MAX_CALIBRATION_ERROR}; not promoted"
        elif current is not None and current.pk != model.pk and auc_ < current.metrics.get("auc", 0) + PROMOTION_MARGIN:
            reason = (f"v{model.version} (AUC {auc_:.3f}) does not beat active v{current.version} "
                      f"(AUC {current.metrics.get('auc', 0):.3f}) by {PROMOTION_MARGIN}")
        else:
            if current is not None and current.pk != model.pk:
                ScoringModel.objects.filter(pk=current.pk).update(is_active=False)
            ScoringModel.objects.filter(pk=model.pk).update(is_active=True, promoted_at=timezone.now())
            model.is_active = True
            reason = f"v{model.version} ({model.get_algorithm_display()}, AUC {auc_:.3f}) promoted"
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

def compute_scores(kind: str, ids=None, *, as_of=None, open_only: bool = True) -> list[dict]:
    """Score records as they stood at `as_of` (default now) with the active model, or the rules before one exists.

    ids=None: every open record. Each result names the model that made it ("LightGBM v3", "Rules v1") and is a
    calibrated probability as 0-100. With open_only (bulk rescoring), decided records are left out: closed
    deals and converted leads show their outcome; a single record asked about as of a past time is scored
    whatever became of it since.
    """
    model = active_model(kind)
    now = as_epoch(as_of)
    ds = scoring_set(kind, ids, now=now, open_only=open_only,
                     median=model.params.get("median_amount") if model else None)
    pipeline = ds.extra["history"].pipeline
    if model is not None:
        p, factors = load(model).predict(ds.vectors, stage_labels=pipeline.labels)
        scores, labels = to_score(p), [model.label] * len(ds.ids)
    elif kind == Kind.DEAL:
        (scores, factors), labels = _deal_rules(ds.vectors, pipeline), [DEAL_RULES] * len(ds.ids)
    elif as_of is None:  # now: the leads app's own rule score, the one it writes itself on every change
        rules = sources.lead_rule_scores(ds.ids)
        scores, factors, labels = ([rules[i][n] for i in ds.ids] for n in range(3))
    else:
        scores, factors, labels = _lead_rules(ds.vectors, [now] * len(ds.ids))
    return [
        {"id": rid, "score": int(s), "model": label, "factors": f}
        for rid, s, f, label in zip(ds.ids, scores, factors, labels, strict=True)
    ]


def scores_refresh(*, kind: str, ids=None, actor=None, as_of=None) -> int:
    """Recompute open records' scores as of `as_of` (default now) and hand them to the app that owns the records,
    which writes, audits and publishes them. Returns how many records were scored.
    """
    results = compute_scores(kind, ids, as_of=as_of)
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
