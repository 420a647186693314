"""The intelligence API: scores, recommendations, analytics, models and training, with access."""

import pytest

from intelligence import services
from intelligence.models import Recommendation, ScoringModel
from tests.intelligence.factories import ContactFactory, OpportunityFactory, days_ago, log_activity

pytestmark = pytest.mark.django_db


def test_score_of_a_deal_the_user_may_not_see_is_404(api, rep, other_rep):
    deal = OpportunityFactory(owner=other_rep)
    assert api.as_user(rep).get(f"/api/v1/opportunities/{deal.pk}/score/").status_code == 404
    assert api.as_user(other_rep).get(f"/api/v1/opportunities/{deal.pk}/score/").status_code == 200


def test_the_deal_score_api_answers_what_the_deal_itself_says(api, rep):
    # Given an open deal scored by the rules (before any model is trained)
    deal = OpportunityFactory(owner=rep, stage_id="negotiation")
    services.scores_refresh(kind="deal", ids=[deal.pk])
    client = api.as_user(rep)
    # When its score and the deal are read through the API
    score = client.get(f"/api/v1/opportunities/{deal.pk}/score/").json()
    record = client.get(f"/api/v1/opportunities/{deal.pk}/").json()
    # Then both say the same score, model and reasons
    assert score["model"] == "Rules v1" and score["score"] is not None and score["outcome"] == ""
    assert (record["deal_score"], record["score_model"], record["score_factors"], record["outcome"]) == (
        score["score"], score["model"], score["factors"], score["outcome"])


def test_recommendations_list_accept_and_dismiss(api, admin_user, rep, other_rep):
    deal = OpportunityFactory(owner=rep, next_step="", created_at=days_ago(40))
    deal.contacts.add(ContactFactory(account=deal.account))
    log_activity(admin_user, when=days_ago(35), opportunity=deal)
    client = api.as_user(rep)

    listed = client.get(f"/api/v1/recommendations/?opportunity={deal.pk}").json()
    codes = {r["code"]: r for r in listed}
    assert "no_recent_activity" in codes and "no_next_step" in codes
    assert "No activity for 35 days" in codes["no_recent_activity"]["reason"]

    accepted = client.post(f"/api/v1/recommendations/{codes['no_recent_activity']['id']}/accept/").json()
    assert accepted["status"] == "accepted" and accepted["task_id"]
    dismissed = client.post(f"/api/v1/recommendations/{codes['no_next_step']['id']}/dismiss/").json()
    assert dismissed["status"] == "dismissed"
    again = client.post(f"/api/v1/recommendations/{codes['no_next_step']['id']}/dismiss/")
    assert again.status_code == 400 and "status" in str(again.json())

    # someone who may not see the deal gets 404 on both the list and the actions
    outsider = api.as_user(other_rep)
    assert outsider.get(f"/api/v1/recommendations/?opportunity={deal.pk}").status_code == 404
    rec = Recommendation.objects.filter(opportunity=deal).first()
    assert outsider.post(f"/api/v1/recommendations/{rec.pk}/dismiss/").status_code == 404


def test_recommendations_need_one_record(api, rep):
    resp = api.as_user(rep).get("/api/v1/recommendations/")
    assert resp.status_code == 400 and "opportunity" in str(resp.json())


def test_models_list_and_train_permission(api, admin_user, rep):
    ScoringModel.objects.create(kind="deal", version=1, algorithm="naive_bayes", metrics={"auc": 0.7}, blob="{}")
    listed = api.as_user(rep).get("/api/v1/intelligence/models/").json()
    assert listed["results"][0]["version"] == 1 and "blob" not in listed["results"][0]
    # a rep may not train; an admin may (and is told why nothing was promoted when data is short)
    assert api.as_user(rep).post("/api/v1/intelligence/models/train/", {"kind": "deal"}).status_code == 403
    resp = api.as_user(admin_user).post("/api/v1/intelligence/models/train/", {"kind": "deal"})
    assert resp.status_code == 200
    assert resp.json()["promoted"] is False and "Not enough deal outcomes" in resp.json()["decision"]
    bad = api.as_user(admin_user).post("/api/v1/intelligence/models/train/", {"kind": "account"})
    assert bad.status_code == 400 and "kind" in str(bad.json())


def test_analytics_win_rate_by_rep_only_over_visible_deals(api, rep, other_rep, manager, django_capture_on_commit_callbacks):
    for stage in ("closed_won", "closed_won", "closed_lost"):
        OpportunityFactory(owner=rep, stage_id=stage, actual_close_date=days_ago(5).date())
    OpportunityFactory(owner=other_rep, stage_id="closed_lost", actual_close_date=days_ago(5).date())

    rows = api.as_user(manager).get("/api/v1/analytics/win_rate/?group_by=rep").json()["rows"]
    assert len(rows) == 1 and rows[0]["won"] == 2 and rows[0]["win_rate"] == pytest.approx(2 / 3, abs=1e-3)
    assert api.as_user(manager).get("/api/v1/analytics/nonsense/").status_code == 404
    assert api.as_user(manager).get("/api/v1/analytics/win_rate/?group_by=moon").status_code == 400
    for report in ("deal_size", "cycle_length", "velocity", "funnel", "time_in_stage", "slippage"):
        assert api.as_user(manager).get(f"/api/v1/analytics/{report}/?group_by=period").status_code == 200
