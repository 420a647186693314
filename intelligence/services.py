"""Intelligence writes: train and promote models, refresh scores, decide on recommendations."""

from __future__ import annotations

import logging
import math
import time
from datetime import UTC, datetime, timedelta

import numpy as np
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from intelligence import sources
from intelligence.datasets import scoring_set, training_set
from intelligence.evaluation import metrics, time_split
from intelligence.explain import phrase
from intelligence.models import Kind, Recommendation, RecordScore, ScoringModel
from intelligence.predictors import PREDICTORS, load, to_score
from intelligence.sources import LOST, WON

log = logging.getLogger(__name__)

SCORE_TTL = 180
MIN_PER_CLASS = 3  # below this a holdout cannot rank anything; not a promotion threshold


def score_cache_key(kind: str, record_id: int) -> str:
    """The seed's cache keys: deal:score:{opportunityId} and lead:score:{leadId}."""
    return f"{'deal' if kind == Kind.DEAL else 'lead'}:score:{record_id}"


# --- training and promotion -----------------------------------------------------

def _rules_proba(kind: str, ds, idx) -> np.ndarray:
    """The rule score on the holdout: stage probability for deals, the leads app's rules for leads."""
    if kind == Kind.DEAL:
        probs = {k: s["default_probability"] / 100 for k, s in sources.stages().items()}
        return np.array([probs.get(ds.vectors[i]["stage"], 0.1) for i in idx])
    return np.array([sources.lead_rule_score({"id": ds.ids[i], "score": 0})[0] / 100 for i in idx])


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
        list(ScoringModel.objects.select_for_update().filter(kind=kind).values_list("pk", flat=True))
        version = (ScoringModel.objects.filter(kind=kind).aggregate(v=Max("version"))["v"] or 0) + 1
        stored = {}
        for name, pred in sorted(candidates.items()):
            stored[name] = ScoringModel.objects.create(
                kind=kind, version=version, algorithm=name, metrics=results[name] | info,
                params=pred.params, blob=pred.dumps(), trained_by=actor if getattr(actor, "pk", None) else None,
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
        current = ScoringModel.objects.select_for_update().filter(kind=model.kind, is_active=True).first()
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
    from intelligence.tasks import scores_refresh_all_task

    scores_refresh_all_task.delay(kind)


# --- scoring --------------------------------------------------------------------

def _deal_rules(vectors, ds) -> tuple[np.ndarray, list[list[dict]]]:
    """Before any learned model: the stage's default probability, nudged by plain rules."""
    probs = {k: s["default_probability"] for k, s in sources.stages().items()}
    scores, factors = [], []
    for v in vectors:
        base = probs.get(v["stage"], 10)
        fs = [{"feature": "stage", "label": f"{phrase('stage', v['stage'])} ({base}% by default)",
               "direction": "up", "weight": round(base / 100, 3)}]
        score = base
        dsa = v["days_since_activity"]
        if math.isnan(dsa) or dsa > 30:
            score -= 10
            fs.append({"feature": "days_since_activity", "label": phrase("days_since_activity", dsa),
                       "direction": "down", "weight": -0.1})
        if not math.isnan(v["days_to_close"]) and v["days_to_close"] < 0:
            score -= 10
            fs.append({"feature": "days_to_close", "label": phrase("days_to_close", v["days_to_close"]),
                       "direction": "down", "weight": -0.1})
        if v["has_next_step"]:
            score += 5
            fs.append({"feature": "has_next_step", "label": "next step set", "direction": "up", "weight": 0.05})
        scores.append(max(0, min(100, score)))
        factors.append(fs)
    return np.array(scores), factors


def compute_scores(kind: str, ids=None) -> list[dict]:
    """Score open records (ids=None: all of them) with the active model, or the rules before one exists."""
    model = active_model(kind)
    pred = load(model) if model else None
    ds = scoring_set(kind, ids, median=(model.params or {}).get("median_amount") if model else None)
    if pred is not None:
        p, factors = pred.predict(ds.vectors)
        scores, name, version = to_score(p), model.algorithm, model.version
    elif kind == Kind.DEAL:
        (scores, factors), name, version = _deal_rules(ds.vectors, ds), "rules", None
    else:
        pairs = [sources.lead_rule_score(r) for r in ds.extra["rows"]]
        scores, factors = np.array([s for s, _ in pairs], dtype=int), [f for _, f in pairs]
        name, version = "rules", None
    out = [
        {"id": rid, "score": int(s), "model": name, "model_version": version, "factors": f}
        for rid, s, f in zip(ds.ids, scores, factors, strict=True)
    ]
    if ids is not None:  # closed records asked for by id: their outcome is the score
        seen = {r["id"] for r in out}
        for rid, won in _closed_outcomes(kind, [i for i in ids if i not in seen]).items():
            out.append({"id": rid, "score": 100 if won else 0, "model": "outcome", "model_version": None,
                        "factors": [{"feature": "outcome", "label": "deal won" if won else "closed without a win",
                                     "direction": "up" if won else "down", "weight": 0}]})
    return out


def _closed_outcomes(kind: str, ids) -> dict[int, bool]:
    if not ids:
        return {}
    if kind == Kind.DEAL:
        return {r["id"]: r["stage_id"] == WON for r in sources.deal_rows(ids=ids, stages=[WON, LOST])}
    rows = sources.lead_rows(ids=ids, statuses=["converted", "unqualified"])
    return {r["id"]: r["status"] == "converted" for r in rows}


def scores_refresh(*, kind: str, ids=None, actor=None) -> int:
    """Recompute scores, store them with their reasons, write them on the records and the cache."""
    results = compute_scores(kind, ids)
    if not results:
        return 0
    now = timezone.now()
    fk = "opportunity_id" if kind == Kind.DEAL else "lead_id"
    objs = [
        RecordScore(kind=kind, score=r["score"], model=r["model"], model_version=r["model_version"],
                    factors=r["factors"], scored_at=now, **{fk: r["id"]})
        for r in results
    ]
    with transaction.atomic():
        RecordScore.objects.bulk_create(
            objs, batch_size=2000, update_conflicts=True, unique_fields=[fk.removesuffix("_id")],
            update_fields=["score", "model", "model_version", "factors", "scored_at"],
        )
        values = {r["id"]: r["score"] for r in results if r["model"] != "outcome"}
        if kind == Kind.DEAL:
            sources.write_deal_scores(values, actor=actor)
        elif results[0]["model"] != "rules":  # the leads app keeps its own rule scores current
            from intelligence.scoring_hooks import leads_factors, model_label

            sources.write_lead_scores(values, actor=actor, details={
                r["id"]: (model_label(r["model"], r["model_version"]), leads_factors(r["factors"]))
                for r in results if r["model"] != "outcome"})
    cache.set_many({score_cache_key(kind, r["id"]): _public(r) for r in results}, SCORE_TTL)
    return len(results)


def _public(r: dict) -> dict:
    return {"score": r["score"], "model": r["model"], "model_version": r["model_version"], "factors": r["factors"]}


def score_read(kind: str, record_id: int) -> dict:
    """A record's score from the cache, else the stored score, else computed now (the caller checked access)."""
    key = score_cache_key(kind, record_id)
    hit = cache.get(key)
    if hit is not None:
        return hit
    fk = "opportunity_id" if kind == Kind.DEAL else "lead_id"
    row = RecordScore.objects.filter(**{fk: record_id}).values("score", "model", "model_version", "factors").first()
    if row is None:
        results = compute_scores(kind, [record_id])
        if not results:
            return {"score": None, "model": None, "model_version": None, "factors": []}
        row = _public(results[0])
    cache.set(key, row, SCORE_TTL)
    return row


def score_invalidate(kind: str, record_id) -> None:
    if record_id:
        cache.delete(score_cache_key(kind, record_id))


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
        recommendation.task_id = str(getattr(task, "pk", "") or (task.get("id") if isinstance(task, dict) else ""))
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


def elapsed_ms(start: float) -> float:
    return (time.perf_counter() - start) * 1000
