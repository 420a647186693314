"""Intelligence reads, each for a user and through the access rule of the record it is about."""

from django.shortcuts import get_object_or_404

from intelligence import analytics, nba
from intelligence.models import Kind, Recommendation, ScoringModel
from leads import selectors as lead_selectors
from opportunities import selectors as opportunity_selectors


def score_get(*, user, kind: str, record_id: int) -> dict:
    """The score every page shows for a lead or deal: the one stored on the record, with the model that made it.

    `outcome` is set for a decided record, which shows it instead of a score: a closed deal's "won" or "lost",
    a converted lead's deal state ("open", "won", "lost", "deleted"). 404 when the user may not see the record.
    """
    if kind == Kind.DEAL:
        deal = opportunity_selectors.opportunity_get(user=user, pk=record_id)
        score, model, factors, outcome = deal.deal_score, deal.score_model, deal.score_factors, deal.outcome
    else:
        lead = lead_selectors.lead_get(user=user, pk=record_id)
        score, model, factors, outcome = lead.score, lead.score_model, lead.score_factors, lead.outcome
    if outcome:  # a decided record shows what happened, not a prediction of it
        return {"score": None, "model": None, "factors": [], "outcome": outcome}
    return {"score": score, "model": model, "factors": factors, "outcome": outcome}


def recommendation_list(*, user, kind: str, record_id: int) -> list[Recommendation]:
    """Open advice for one record the user may see, ranked (refreshed against its situation now); 404 otherwise."""
    if kind == Kind.DEAL:
        opportunity_selectors.opportunity_get(user=user, pk=record_id)
    else:
        lead_selectors.lead_get(user=user, pk=record_id)
    return nba.recommendations_sync(kind, record_id)


def recommendation_get(*, user, pk) -> Recommendation:
    """One piece of advice about a record the user may see; 404 otherwise."""
    return get_object_or_404(Recommendation.objects.restrict(user), pk=pk)


def model_list(*, user, kind: str | None = None):
    """Scoring model versions (not records of anyone: whoever may read analytics sees them all)."""
    qs = ScoringModel.objects.defer("blob").order_by("kind", "-version")
    return qs.filter(kind=kind) if kind else qs


def analytics_report(*, user, report: str, group_by: str = "rep") -> dict:
    return analytics.report(user, report, group_by)
