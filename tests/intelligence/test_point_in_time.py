"""Scores as of a time, decided records showing their outcome, and cold-start rule scores that explain
themselves."""

import re
from datetime import timedelta

import pytest
from django.urls import reverse

from intelligence import services
from intelligence.features import AGE_CAP
from intelligence.models import ScoringModel
from tests.intelligence.factories import OpportunityFactory, days_ago, log_activity
from tests.intelligence.synthetic import generate_history
from tests.leads.factories import LeadFactory

pytestmark = pytest.mark.django_db


def _iso(when) -> str:
    return when.isoformat().replace("+00:00", "Z")


def _old_lead(admin_user, rep):
    """An imported lead: created 400 days ago, three calls in its first week, one a year later; still open."""
    created = days_ago(400)
    lead = LeadFactory(assigned_to=rep, status="contacted", created_at=created, industry="Software",
                       employee_count=300, title="VP Sales")
    for day in (1, 2, 5, 300):
        log_activity(admin_user, when=created + timedelta(days=day), type="call", lead=lead)
    return lead, created


def test_a_lead_scored_as_of_two_weeks_after_creation_is_scored_as_it_stood_then(api, admin_user, rep):
    # Given an imported lead with three calls in its first week and one much later
    lead, created = _old_lead(admin_user, rep)
    client = api.as_user(rep)
    # When its score is asked as of 14 days after it was created (no model trained yet: the rules answer)
    body = client.get(f"/api/v1/leads/{lead.pk}/score/?as_of={_iso(created + timedelta(days=14))}").json()
    # Then only what had happened by then counts: three calls, the last nine days before
    details = [f["detail"] for f in body["factors"]]
    assert "3 activities logged" in details and "last activity 9 days ago" in details
    assert body["model"] == "Rules v1" and len(body["factors"]) >= 3
    # And as of now the later call counts too
    now = client.get(f"/api/v1/leads/{lead.pk}/score/?as_of={_iso(days_ago(0.01))}").json()
    assert "4 activities logged" in [f["detail"] for f in now["factors"]]
    # And a time that is not a time, or in the future, is a 400 naming the field
    bad = client.get(f"/api/v1/leads/{lead.pk}/score/?as_of=yesterday")
    assert bad.status_code == 400 and "as_of" in bad.content.decode()
    assert client.get(f"/api/v1/leads/{lead.pk}/score/?as_of={_iso(days_ago(-2))}").status_code == 400


def test_a_learned_model_never_names_an_age_beyond_what_training_saw(api, admin_user, rep, other_rep):
    # Given a lead model trained on the generated history, made active
    generate_history(owners=[rep, other_rep], deals=0, leads=360, seed=5)
    services.model_train(actor=admin_user, kind="lead")
    model = ScoringModel.objects.get(kind="lead", algorithm="lightgbm")
    ScoringModel.objects.filter(kind="lead").update(is_active=False)
    ScoringModel.objects.filter(pk=model.pk).update(is_active=True)
    lead, created = _old_lead(admin_user, rep)
    # When the 400-day-old lead is scored now and as of two weeks after creation
    client = api.as_user(rep)
    for when in (days_ago(0.01), created + timedelta(days=14)):
        body = client.get(f"/api/v1/leads/{lead.pk}/score/?as_of={_iso(when)}").json()
        # Then it is a probability from the model, and no reason speaks of more days than training saw
        assert body["model"] == model.label and 0 <= body["score"] <= 100
        days = [int(n) for f in body["factors"] for n in re.findall(r"(\d+) days?", f["detail"])]
        assert all(d <= AGE_CAP["lead"] for d in days), body["factors"]


def test_a_converted_lead_shows_its_deals_outcome_never_a_contradicting_score(api, client, rep):
    # Given a lead converted into a deal that was lost, with a high score left from before
    lost = OpportunityFactory(owner=rep, stage_id="closed_lost")
    lead = LeadFactory(assigned_to=rep, status="converted", converted_opportunity=lost, score=100,
                       score_model="Rules v1")
    # Then it shows "lost" and no score, on the API and on the panel
    body = api.as_user(rep).get(f"/api/v1/leads/{lead.pk}/score/").json()
    assert body["outcome"] == "lost" and body["score"] is None
    client.force_login(rep)
    html = client.get(reverse("intelligence:panel", args=["lead", lead.pk])).content.decode()
    assert 'data-testid="score-value"' not in html and "100" not in html

    # Given another converted lead whose deal is still open: it shows the deal's own score
    open_deal = OpportunityFactory(owner=rep, stage_id="proposal")
    services.scores_refresh(kind="deal", ids=[open_deal.pk])
    open_deal.refresh_from_db()
    other = LeadFactory(assigned_to=rep, status="converted", converted_opportunity=open_deal, score=5,
                        score_model="Rules v1")
    body = api.as_user(rep).get(f"/api/v1/leads/{other.pk}/score/").json()
    assert (body["outcome"], body["score"], body["model"]) == ("open", open_deal.deal_score, open_deal.score_model)


def test_a_fresh_installs_deal_score_names_its_model_version_and_three_factors(api, rep):
    deal = OpportunityFactory(owner=rep, stage_id="qualification", next_step="")
    services.scores_refresh(kind="deal", ids=[deal.pk])
    body = api.as_user(rep).get(f"/api/v1/opportunities/{deal.pk}/score/").json()
    assert body["model"] == "Rules v1"
    assert len([f for f in body["factors"] if f["points"] != 0]) >= 3
    assert all(f["detail"] for f in body["factors"])


def test_bulk_rescoring_as_of_a_past_time_sees_only_what_had_happened(admin_user, rep):
    # Given a deal with one call five days ago
    deal = OpportunityFactory(owner=rep, stage_id="proposal", created_at=days_ago(60))
    log_activity(admin_user, when=days_ago(5), type="call", opportunity=deal)
    # When every open deal is rescored as of ten days ago, then as of now
    services.scores_refresh(kind="deal", as_of=days_ago(10))
    deal.refresh_from_db()
    then = {f["factor"]: f for f in deal.score_factors}["days_since_activity"]
    services.scores_refresh(kind="deal")
    deal.refresh_from_db()
    now = {f["factor"]: f for f in deal.score_factors}["days_since_activity"]
    # Then the call did not count ten days ago and does now
    assert (then["points"], then["detail"]) == (-10, "no activity logged yet")
    assert now["points"] == 5
