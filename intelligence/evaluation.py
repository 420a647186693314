"""Holdout metrics: AUC, Brier score and a calibration table, on a split by time."""

from __future__ import annotations

import numpy as np


def time_split(outcome_at: np.ndarray, holdout: float = 0.25) -> tuple[np.ndarray, np.ndarray]:
    """Indices of the older outcomes (train) and the newest `holdout` share (test)."""
    order = np.argsort(outcome_at, kind="stable")
    cut = int(round(len(order) * (1 - holdout)))
    return order[:cut], order[cut:]


def auc(y: np.ndarray, p: np.ndarray) -> float:
    """Area under the ROC curve via the rank-sum statistic (ties share their rank)."""
    y = np.asarray(y)
    p = np.asarray(p, dtype=float)
    pos, neg = int(y.sum()), int(len(y) - y.sum())
    if pos == 0 or neg == 0:
        return float("nan")
    order = np.argsort(p, kind="mergesort")
    ranks = np.empty(len(p))
    sorted_p = p[order]
    i = 0
    while i < len(p):
        j = i
        while j + 1 < len(p) and sorted_p[j + 1] == sorted_p[i]:
            j += 1
        ranks[order[i : j + 1]] = (i + j) / 2.0 + 1
        i = j + 1
    return float((ranks[y == 1].sum() - pos * (pos + 1) / 2) / (pos * neg))


def brier(y: np.ndarray, p: np.ndarray) -> float:
    return float(np.mean((np.asarray(p, dtype=float) - np.asarray(y)) ** 2))


def calibration(y: np.ndarray, p: np.ndarray, bins: int = 10) -> list[dict]:
    """Per predicted-probability decile: how many, mean predicted, share actually won."""
    p = np.asarray(p, dtype=float)
    y = np.asarray(y)
    idx = np.minimum((p * bins).astype(int), bins - 1)
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


def metrics(y: np.ndarray, p: np.ndarray) -> dict:
    return {"auc": round(auc(y, p), 4), "brier": round(brier(y, p), 4), "calibration": calibration(y, p)}
