"""Intelligence reads, each for a user and through the access rule of the record it is about."""

from django.http import Http404

from intelligence import analytics, nba, sources
from intelligence.models import Kind, Recommendation, ScoringModel
from intelligence.services import score_read


def record_visible(user, kind: str, record_id) -> bool:
    qs = sources.opportunities_visible(user) if kind == Kind.DEAL else sources.leads_visible(user)
    try:
        return qs.filter(pk=int(record_id)).exists()
    except (TypeError, ValueError):
        return False


def score_get(*, user, kind: str, record_id: int) -> dict:
    """A record's score, model, version and reasons; 404 when the user may not see the record."""
    if not record_visible(user, kind, record_id):
        raise Http404
    return score_read(kind, int(record_id))


def recommendation_list(*, user, kind: str, record_id: int) -> list[Recommendation]:
    """Open advice for one record, ranked (refreshed against its situation now)."""
    if not record_visible(user, kind, record_id):
        raise Http404
    return nba.recommendations_sync(kind, int(record_id))


def recommendation_get(*, user, pk) -> Recommendation:
    rec = Recommendation.objects.restrict(user).filter(pk=pk).first()
    if rec is None:
        raise Http404
    return rec


def model_list(*, kind: str | None = None):
    qs = ScoringModel.objects.defer("blob").order_by("kind", "-version")
    return qs.filter(kind=kind) if kind else qs


def analytics_report(*, user, report: str, group_by: str = "rep") -> dict:
    return analytics.report(user, report, group_by)
