"""Intelligence reads, each for a user and through the access rule of the record it is about."""

from django.shortcuts import get_object_or_404

from intelligence import analytics, nba, services
from intelligence.models import Kind, Recommendation, ScoringModel
from leads import selectors as lead_selectors
from opportunities import selectors as opportunity_selectors


def score_get(*, user, kind: str, record_id: int, as_of=None) -> dict:
    """The score every page shows for a lead or deal: the one stored on the record, with the model that made it.

    A decided record shows what happened, never a prediction that could contradict it: a closed deal "won" or
    "lost" without a score; a converted lead its deal's state ("won", "lost", "deleted"), and while that deal
    is open, the deal's own score. With `as_of` (a past time) the record is scored as it stood then, by the
    active model (or the rules), whatever became of it since. 404 when the user may not see the record.
    """
    if kind == Kind.DEAL:
        record = opportunity_selectors.opportunity_get(user=user, pk=record_id)
        score, model, factors, outcome = record.deal_score, record.score_model, record.score_factors, record.outcome
    else:
        record = lead_selectors.lead_get(user=user, pk=record_id)
        score, model, factors, outcome = record.score, record.score_model, record.score_factors, record.outcome
    if as_of is not None:
        results = services.compute_scores(kind, [record_id], as_of=as_of, open_only=False)
        r = results[0]
        return {"score": r["score"], "model": r["model"], "factors": r["factors"], "outcome": "",
                "as_of": as_of}
    if kind == Kind.LEAD and outcome == "open":  # converted, its deal still open: the deal's score is the one
        deal = record.converted_opportunity
        return {"score": deal.deal_score, "model": deal.score_model, "factors": deal.score_factors,
                "outcome": outcome}
    if outcome:
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
