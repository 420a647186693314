"""Plug the learned lead model into the leads app's scorer registry.

The leads app owns `score_lead(lead)` and the rule score; intelligence
registers a scorer that answers with the active learned model. Before a lead
model is trained (or for a lead not saved yet, which has no history to read)
it declines, and the leads app's rules answer: the lead's stored score always
names the model that made it.
"""

from intelligence.models import Kind
from intelligence.services import active_model, compute_scores
from leads.scoring import ScoreResult, register_scorer


def learned_lead_score(lead) -> ScoreResult | None:
    if lead.pk is None or active_model(Kind.LEAD) is None:
        return None
    results = compute_scores(Kind.LEAD, [lead.pk])
    if not results:  # a converted or unqualified lead is not scored: it shows its outcome
        return None
    r = results[0]
    return ScoreResult(score=r["score"], model=r["model"], factors=r["factors"])


def register() -> None:
    """Offer the learned lead model to the leads app's scorer registry."""
    register_scorer("intelligence", learned_lead_score, priority=50)
