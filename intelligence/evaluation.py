"""Holdout metrics on a split by time: AUC, Brier score, calibration error and a reliability table; Platt scaling.

Examples are records seen at fixed ages. AUC compares only examples of the same age ("at 14 days, does the
model rank the open leads that went on to win above those that did not?"): pooled over ages, how long records
stay open would pass for skill, since records still open at 60 days are mostly the ones that will be lost.
"""

from __future__ import annotations

import math

import numpy as np

BINS = 10


def time_split(known_at: np.ndarray, holdout: float = 0.25) -> tuple[np.ndarray, np.ndarray]:
    """Train on examples whose label was known by the cut, test on those known after it (never both).

    The cut is the time by which (1 - holdout) of the labels were known; examples of one record share its
    label time, so a record is never on both sides.
    """
    if len(known_at) == 0:
        return np.array([], int), np.array([], int)
    cut = float(np.quantile(known_at, 1 - holdout, method="lower"))
    return np.flatnonzero(known_at <= cut), np.flatnonzero(known_at > cut)


def _ranks(p: np.ndarray) -> np.ndarray:
    """1-based ranks, ties sharing their mean rank."""
    order = np.argsort(p, kind="mergesort")
    sorted_p = p[order]
    ranks = np.empty(len(p))
    i = 0
    while i < len(p):
        j = i
        while j + 1 < len(p) and sorted_p[j + 1] == sorted_p[i]:
            j += 1
        ranks[order[i : j + 1]] = (i + j) / 2.0 + 1
        i = j + 1
    return ranks


def _pairs(y: np.ndarray, p: np.ndarray) -> tuple[float, int]:
    """Correctly ordered (won above lost) pairs, ties counting half, and the number of pairs."""
    pos, neg = int(y.sum()), int(len(y) - y.sum())
    if pos == 0 or neg == 0:
        return 0.0, 0
    ranks = _ranks(p)
    return float(ranks[y == 1].sum() - pos * (pos + 1) / 2), pos * neg


def auc(y: np.ndarray, p: np.ndarray, strata: np.ndarray | None = None) -> float:
    """Area under the ROC curve (rank-sum); with `strata`, over pairs within the same stratum only."""
    y, p = np.asarray(y), np.asarray(p, dtype=float)
    groups = [np.arange(len(y))] if strata is None else [np.flatnonzero(strata == s) for s in np.unique(strata)]
    good = total = 0.0
    for g in groups:
        a, n = _pairs(y[g], p[g])
        good, total = good + a, total + n
    return float(good / total) if total else float("nan")


def brier(y: np.ndarray, p: np.ndarray) -> float:
    return float(np.mean((np.asarray(p, dtype=float) - np.asarray(y)) ** 2))


def _bin_index(p: np.ndarray, bins: int) -> np.ndarray:
    return np.minimum((p * bins).astype(int), bins - 1)


def calibration(y: np.ndarray, p: np.ndarray, bins: int = BINS) -> list[dict]:
    """The reliability table: per tenth of predicted probability, how many, mean predicted, share actually won."""
    p, y = np.asarray(p, dtype=float), np.asarray(y)
    idx = _bin_index(p, bins)
    rows = []
    for b in range(bins):
        mask = idx == b
        n = int(mask.sum())
        if n:
            rows.append({
                "bin": f"{b / bins:.1f}-{(b + 1) / bins:.1f}", "count": n,
                "mean_predicted": round(float(p[mask].mean()), 4), "observed_rate": round(float(y[mask].mean()), 4),
            })
    return rows


def calibration_error(y: np.ndarray, p: np.ndarray, bins: int = BINS) -> float:
    """Expected calibration error: the count-weighted gap between predicted and observed rate over 10 bins."""
    p, y = np.asarray(p, dtype=float), np.asarray(y)
    if len(p) == 0:
        return float("nan")
    idx = _bin_index(p, bins)
    return float(sum(abs(p[idx == b].mean() - y[idx == b].mean()) * (idx == b).sum()
                     for b in range(bins) if (idx == b).any()) / len(p))


def metrics(y: np.ndarray, p: np.ndarray, strata: np.ndarray | None = None) -> dict:
    """AUC (within ages when `strata` are the ages), pooled AUC, Brier, calibration error and reliability table."""
    return {
        "auc": round(auc(y, p, strata), 4), "auc_pooled": round(auc(y, p), 4), "brier": round(brier(y, p), 4),
        "calibration_error": round(calibration_error(y, p), 4), "calibration": calibration(y, p),
    }


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(np.asarray(p, dtype=float), 1e-6, 1 - 1e-6)
    return np.log(p / (1 - p))


def platt_fit(p: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Platt scaling: a, b with sigmoid(a * logit(p) + b) matching the outcomes (a lightly regularised
    one-feature logistic regression, stable even when the raw scores are extreme)."""
    from sklearn.linear_model import LogisticRegression  # heavy import, needed only when a model is trained

    fit = LogisticRegression(C=10.0).fit(_logit(p).reshape(-1, 1), np.asarray(y, dtype=int))
    return float(fit.coef_[0][0]), float(fit.intercept_[0])


def platt_apply(p: np.ndarray, ab) -> np.ndarray:
    if not ab:
        return np.asarray(p, dtype=float)
    a, b = ab
    return 1 / (1 + np.exp(-(a * _logit(p) + b)))


def calibrated_holdout(p: np.ndarray, y: np.ndarray, records: np.ndarray) -> tuple[np.ndarray, tuple[float, float]]:
    """Probabilities on the holdout calibrated out of fold (two folds by record, so no example is calibrated on
    itself), and the scaling fitted on the whole holdout that scores will use."""
    fold = np.asarray(records) % 2
    out = np.empty(len(p))
    for k in (0, 1):
        fit, use = fold != k, fold == k
        if use.any():
            out[use] = platt_apply(p[use], platt_fit(p[fit], y[fit]) if fit.any() and len(set(y[fit])) > 1 else None)
    return out, platt_fit(p, y)


def finite(v: float) -> bool:
    return v is not None and not math.isnan(v)
