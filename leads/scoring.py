"""Lead scoring behind one interface: `score_lead(lead) -> ScoreResult(score, model, factors)`.

The rule-based scorer is always there. Other apps (intelligence) add learned
scorers with `register_scorer(name, fn, priority=...)` in their `ready()`; the
scorer with the highest priority that gives an answer wins, so a learned model
that is not trained yet returns None and the rules answer instead.

A score is 0-100: fit (industry, company size, revenue, title seniority) up
to 60 points, engagement (activities, how recent the last one is) up to 40.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal

from django.utils import timezone


@dataclass(frozen=True)
class ScoreResult:
    """A score 0-100, the name of the model that gave it, and why (list of {factor, points, detail})."""

    score: int
    model: str
    factors: list = field(default_factory=list)


Scorer = Callable[[object], "ScoreResult | None"]
_scorers: list[tuple[int, str, Scorer]] = []

RULES = "Rules v1"  # the label of the rule score, shown wherever the score is

TARGET_INDUSTRIES = {
    "technology": 20, "software": 20, "saas": 20, "financial services": 16, "finance": 16, "healthcare": 14,
    "manufacturing": 12, "telecommunications": 12, "professional services": 10, "retail": 8, "education": 6,
}
SENIORITY = [
    (("chief", "ceo", "cto", "cfo", "coo", "cio", "cmo", "founder", "owner", "president"), 15, "C-level or founder"),
    (("vp", "vice president", "head of", "svp", "evp"), 12, "VP or head of"),
    (("director",), 9, "director"),
    (("manager", "lead"), 5, "manager"),
]


def register_scorer(name: str, scorer: Scorer, *, priority: int = 10) -> None:
    """Add a scorer; higher priority is asked first. The rules have priority 0."""
    global _scorers
    _scorers = [s for s in _scorers if s[1] != name]
    _scorers.append((priority, name, scorer))
    _scorers.sort(key=lambda s: -s[0])


def unregister_scorer(name: str) -> None:
    global _scorers
    _scorers = [s for s in _scorers if s[1] != name]


def scorers() -> list[str]:
    return [name for _, name, _ in _scorers]


def score_lead(lead) -> ScoreResult:
    """The lead's score from the best scorer that answers."""
    for _, _name, scorer in _scorers:
        result = scorer(lead)
        if result is not None:
            return ScoreResult(max(0, min(100, int(round(result.score)))), result.model, list(result.factors))
    return rules_score(lead)


def _factor(name: str, points: int, detail: str) -> dict:
    return {"factor": name, "points": points, "detail": detail}


def rules_score(lead, *, now=None) -> ScoreResult:
    """Fit plus engagement of a lead as it is now, by fixed rules anyone can read."""
    return rules_score_of(industry=lead.industry, employee_count=lead.employee_count,
                          annual_revenue=lead.annual_revenue, title=lead.title, activity_count=lead.activity_count,
                          last_activity_at=lead.last_activity_at, now=now or timezone.now())


def rules_score_of(*, industry, employee_count, annual_revenue, title, activity_count, last_activity_at,
                   now) -> ScoreResult:
    """The rule score from a lead's values at one moment (now, or as of a past time for a point-in-time score).

    Every rule says its part, matched or not, so a score always comes with its fit and engagement reasons.
    """
    factors = []
    key = (industry or "").strip().lower()
    if key in TARGET_INDUSTRIES:
        factors.append(_factor("industry", TARGET_INDUSTRIES[key], f"target industry {industry}"))
    else:
        factors.append(_factor("industry", 0, f"industry {industry} is not a target" if industry else "industry unknown"))
    if employee_count:
        points = 15 if employee_count >= 1000 else 11 if employee_count >= 200 else 7 if employee_count >= 50 else 3
        factors.append(_factor("company size", points, f"{employee_count} employees"))
    else:
        factors.append(_factor("company size", 0, "company size unknown"))
    revenue = Decimal(annual_revenue) if annual_revenue is not None else None
    if revenue:
        points = 10 if revenue >= 100_000_000 else 7 if revenue >= 10_000_000 else 4 if revenue >= 1_000_000 else 1
        factors.append(_factor("revenue", points, f"annual revenue {revenue:,.0f}"))
    lowered = (title or "").lower()
    for words, points, label in SENIORITY:
        if any(w in lowered for w in words):
            factors.append(_factor("seniority", points, f"title {title!r}: {label}"))
            break
    else:
        factors.append(_factor("seniority", 0, f"title {title!r}: not a buyer's seniority" if title else "no title"))
    count = activity_count or 0
    factors.append(_factor("activities", min(20, 4 * count), f"{count} activities logged" if count
                           else "no activity logged yet"))
    if last_activity_at:
        age = now - last_activity_at
        points = 20 if age <= timedelta(days=7) else 12 if age <= timedelta(days=30) else 5 if age <= timedelta(days=90) else 0
        factors.append(_factor("recency", points, f"last activity {age.days} days ago"))
    fit = min(60, sum(f["points"] for f in factors if f["factor"] not in ("activities", "recency")))
    engagement = min(40, sum(f["points"] for f in factors if f["factor"] in ("activities", "recency")))
    return ScoreResult(min(100, fit + engagement), RULES, factors)
