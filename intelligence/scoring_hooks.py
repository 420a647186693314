"""Plug the learned lead scorer into the leads app's scorer registry (when it has one).

The leads app owns `score_lead(lead)` and the rule score; intelligence
registers a scorer that answers with the active learned model, or declines
(None) so the leads app falls back to its rules.
"""

import logging

log = logging.getLogger(__name__)


def learned_lead_score(lead):
    from intelligence.models import Kind
    from intelligence.services import active_model, compute_scores

    if lead is None or getattr(lead, "pk", None) is None or active_model(Kind.LEAD) is None:
        return None
    results = compute_scores(Kind.LEAD, [lead.pk])
    if not results or results[0]["model"] in ("rules", "outcome"):
        return None
    r = results[0]
    from leads.scoring import ScoreResult

    return ScoreResult(score=r["score"], model=model_label(r["model"], r["model_version"]),
                       factors=leads_factors(r["factors"]))


def model_label(model: str, version) -> str:
    return f"{model} v{version}" if version else model


def leads_factors(factors: list[dict]) -> list[dict]:
    """Our factors in the leads app's shape: {factor, points, detail}."""
    return [{"factor": f["feature"], "points": f["weight"], "detail": f["label"]} for f in factors]


def register() -> None:
    """Offer the learned lead model to the leads app's scorer registry."""
    from leads.scoring import register_scorer

    register_scorer("intelligence", learned_lead_score, priority=50)
