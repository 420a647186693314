"""The lead model: trained on lead outcomes, plugged into the leads app's scorer, served by the API."""

import pytest

from intelligence import services
from intelligence.models import ScoringModel
from leads.models import Lead
from tests.intelligence.synthetic import generate_history

pytestmark = pytest.mark.django_db


def test_lead_model_trains_on_outcomes_and_scores_through_the_leads_scorer(
    admin_user, rep, other_rep, api, django_capture_on_commit_callbacks
):
    from leads.scoring import score_lead

    generate_history(owners=[rep, other_rep], deals=0, leads=360, seed=5)
    with django_capture_on_commit_callbacks(execute=True):
        result = services.model_train(actor=admin_user, kind="lead")
    lgb = ScoringModel.objects.get(kind="lead", algorithm="lightgbm")
    assert lgb.metrics["auc"] > 0.55 and "naive_bayes" in lgb.metrics["baselines"]
    services.scores_refresh(kind="lead")
    open_lead = Lead.objects.filter(status__in=["new", "contacted"], assigned_to=rep).first()
    body = api.as_user(rep).get(f"/api/v1/leads/{open_lead.pk}/score/").json()
    open_lead.refresh_from_db()
    assert (open_lead.score, open_lead.score_model) == (body["score"], body["model"])
    if result["promoted"]:
        active = ScoringModel.objects.get(kind="lead", is_active=True)
        assert body["model"] == active.label
        assert score_lead(open_lead).model == active.label
    else:
        assert body["model"] == "Rules v1"
    assert api.as_user(other_rep).get(f"/api/v1/leads/{open_lead.pk}/score/").status_code == 404
