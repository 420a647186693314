"""Reasons in plain words: a feature and its value as a person would say it.

A reason is stored the way the leads app stores its rule reasons, so every
page shows one shape: {factor, points, detail}, points > 0 pushing the score up.
"""

from __future__ import annotations

import math

import numpy as np

SENIORITY_WORDS = {0: "no seniority in the title", 1: "a manager-level title", 2: "a director-level title",
                   3: "a VP-level title", 4: "a C-level title"}


def _missing(v) -> bool:
    return v is None or v == "" or (isinstance(v, float) and math.isnan(v))


def _n(v, word: str) -> str:
    v = int(round(v))
    return f"{v} {word}{'' if v == 1 else 's'}"


def _money(v) -> str:
    if v >= 1_000_000:
        return f"{v / 1_000_000:.1f}M"
    if v >= 1_000:
        return f"{v / 1_000:.0f}k"
    return f"{v:.0f}"


def phrase(name: str, value, stage_labels: dict[str, str] | None = None) -> str:
    """Say what a feature's value means, e.g. days_since_activity=21 -> "no activity for 21 days".

    `stage_labels` (key -> label, from Stage) is needed to say a deal's stage.
    """
    if name == "days_since_activity":
        return "no activity logged yet" if _missing(value) else (
            "activity today" if value < 1 else f"last activity {_n(value, 'day')} ago" if value <= 7
            else f"no activity for {_n(value, 'day')}")
    if _missing(value):
        return {
            "amount": "no amount set", "amount_ratio": "no amount set", "days_to_close": "no expected close date",
            "lead_score": "not from a scored lead", "employee_count": "company size unknown",
            "annual_revenue": "company revenue unknown", "industry": "industry unknown", "source": "source unknown",
            "country": "country unknown",
        }.get(name, f"{name.replace('_', ' ')} unknown")
    words = {
        "amount": lambda v: f"amount {_money(v)}",
        "amount_ratio": lambda v: f"amount {v:.1f}x the median deal",
        "stage": lambda v: f"in stage {stage_labels[v]}",
        "days_in_stage": lambda v: f"{_n(v, 'day')} in the current stage",
        "age_days": lambda v: f"open for {_n(v, 'day')}",
        "days_to_close": lambda v: (f"close date passed {_n(-v, 'day')} ago" if v < 0
                                    else f"expected to close in {_n(v, 'day')}"),
        "close_date_pushes": lambda v: "close date never pushed" if v == 0 else f"close date pushed {_n(v, 'time')}",
        "activities_total": lambda v: _n(v, "activity").replace("activitys", "activities"),
        "calls": lambda v: _n(v, "call"),
        "emails": lambda v: _n(v, "email"),
        "meetings": lambda v: _n(v, "meeting"),
        "demos": lambda v: _n(v, "demo"),
        "activities_last_14d": lambda v: f"{_n(v, 'activity').replace('activitys', 'activities')} in the last 14 days",
        "contacts_engaged": lambda v: "only one contact engaged" if v == 1 else f"{_n(v, 'contact')} engaged",
        "contacts_on_deal": lambda v: f"{_n(v, 'contact')} on the deal",
        "employee_count": lambda v: f"{int(v):,} employees",
        "annual_revenue": lambda v: f"company revenue {_money(v)}",
        "industry": lambda v: f"industry {v}",
        "source": lambda v: f"source {v}",
        "country": lambda v: f"country {v}",
        "lead_score": lambda v: f"lead score {int(v)}",
        "owner_win_rate": lambda v: f"owner wins {v * 100:.0f}% of deals",
        "has_next_step": lambda v: "next step set" if v else "no next step set",
        "seniority": lambda v: SENIORITY_WORDS.get(int(v), "senior title"),
        "has_phone": lambda v: "phone number given" if v else "no phone number",
        "has_company": lambda v: "company given" if v else "no company given",
        "inbound": lambda v: f"{_n(v, 'inbound touch')}".replace("touchs", "touches"),
        "outbound": lambda v: f"{_n(v, 'outbound touch')}".replace("touchs", "touches"),
        "first_3d_activities": lambda v: f"{_n(v, 'activity').replace('activitys', 'activities')} in the first 3 days",
    }
    fn = words.get(name)
    return fn(value) if fn else f"{name.replace('_', ' ')} {value}"


def reason(name: str, value, points: float, stage_labels: dict[str, str] | None = None) -> dict:
    """One stored reason: the feature, its pull on the score, and what it means in words."""
    return {"factor": name, "points": points, "detail": phrase(name, value, stage_labels)}


def top_factors(names: list[str], contrib: np.ndarray, vectors: list[dict], k: int = 3,
                stage_labels: dict[str, str] | None = None) -> list[list[dict]]:
    """Per row, the k strongest pushes up and k strongest pulls down, strongest first; a pull that rounds to
    nothing (under 0.0005) is no reason and is left out."""
    out = []
    order = np.argsort(contrib, axis=1)  # ascending: most negative first
    points = np.round(contrib.astype(float), 3)
    for i, vec in enumerate(vectors):
        row = points[i]
        ups = [j for j in order[i][::-1][:k] if row[j] > 0]
        downs = [j for j in order[i][:k] if row[j] < 0]
        out.append([reason(names[j], vec.get(names[j]), float(row[j]), stage_labels) for j in ups + downs])
    return out
