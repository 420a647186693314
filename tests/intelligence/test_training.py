"""Training on a generated history with a known signal; versioned models; promotion; reasons."""

import pytest
from django.core.exceptions import ValidationError

from intelligence import services
from intelligence.features import DEAL_FEATURES
from intelligence.models import ScoringModel
from opportunities.models import Opportunity
from tests.intelligence.synthetic import generate_history

pytestmark = pytest.mark.django_db

FEATURE_NAMES = {f.name for f in DEAL_FEATURES}


@pytest.fixture
def history(rep, other_rep, manager):
    # 2,000 deals: the holdout's ten-bin calibration error has a noise floor of about 0.035 at 1,000 deals (0.03 to
    # 0.06 by seed and date), too close to the 0.05 gate; at 2,000 seeds 3, 4, 5 and 11 measured 0.016 to 0.034.
    return generate_history(owners=[rep, other_rep, manager], deals=2000, leads=0, seed=3)


def test_learned_model_beats_naive_bayes_on_the_time_holdout_and_both_are_recorded(
    history, admin_user, api, rep, django_capture_on_commit_callbacks
):
    # When the deal model is trained on the generated history
    with django_capture_on_commit_callbacks(execute=True):
        result = services.model_train(actor=admin_user, kind="deal")

    # Then LightGBM's holdout AUC is clearly above chance and above naive Bayes, and both are stored
    lgb = ScoringModel.objects.get(kind="deal", algorithm="lightgbm")
    nb = ScoringModel.objects.get(kind="deal", algorithm="naive_bayes")
    assert lgb.metrics["auc"] > 0.7
    assert lgb.metrics["auc"] > nb.metrics["auc"]
    assert lgb.metrics["compared"]["naive_bayes"] == nb.metrics["auc"]
    assert {"auc", "brier", "calibration", "calibration_error", "n_train", "n_holdout"} <= set(lgb.metrics)
    assert sum(b["count"] for b in lgb.metrics["calibration"]) == lgb.metrics["n_holdout"]
    # beside the point-in-time baselines on the same split, which it beats by the stated margin, calibrated
    baselines = lgb.metrics["baselines"]
    assert set(baselines) == {"rules", "naive_bayes"}
    assert all(lgb.metrics["auc"] >= b["auc"] + services.PROMOTION_MARGIN for b in baselines.values())
    assert all({"auc", "brier", "calibration_error"} <= set(b) for b in baselines.values())
    assert lgb.metrics["calibration_error"] <= 0.05
    # the holdout is newer than everything trained on
    assert lgb.metrics["holdout_from"] >= lgb.metrics["train_until"]
    lgb.refresh_from_db()
    assert result["promoted"] and lgb.is_active
    assert lgb.version != nb.version

    # And every open deal was re-scored in bulk by the promoted model, with reasons naming real features
    open_deals = Opportunity.objects.filter(stage__is_closed=False)
    assert open_deals.exists()
    for deal in open_deals:
        assert deal.score_model == lgb.label == f"LightGBM v{lgb.version}" and deal.deal_score is not None
        assert deal.score_factors and {f["factor"] for f in deal.score_factors} <= FEATURE_NAMES
        assert all(f["detail"] and f["points"] != 0 for f in deal.score_factors)
    # while the closed ones show their outcome, not a score
    assert not Opportunity.objects.filter(stage__is_closed=True).exclude(score_model="").exists()

    # And the API answers a visible deal's score with the model and at least three reasons
    deal = open_deals.filter(owner=rep).first()
    body = api.as_user(rep).get(f"/api/v1/opportunities/{deal.pk}/score/").json()
    assert body["model"] == lgb.label and body["score"] == deal.deal_score
    assert len(body["factors"]) >= 3
    assert 0 <= body["score"] <= 100

    # And training again on the same history does not replace the active model with one no better
    again = services.model_train(actor=admin_user, kind="deal")
    assert not again["promoted"]
    assert ScoringModel.objects.get(kind="deal", is_active=True).pk == lgb.pk


def test_promotion_refuses_a_worse_model(admin_user):
    # Given an active model with a holdout AUC of 0.80
    active = ScoringModel.objects.create(kind="deal", version=1, algorithm="lightgbm", is_active=True,
                                         metrics={"auc": 0.80, "brier": 0.15}, blob="")
    worse = ScoringModel.objects.create(kind="deal", version=2, algorithm="naive_bayes",
                                        metrics={"auc": 0.72, "brier": 0.19, "rules": {"auc": 0.6}}, blob="{}")
    # When the worse one is offered for promotion
    decision = services.model_promote_if_better(actor=admin_user, model=worse)
    # Then it is refused and the active model stays
    assert not decision["promoted"]
    assert "does not beat active v1" in decision["reason"]
    assert ScoringModel.objects.get(is_active=True).pk == active.pk
    assert ScoringModel.objects.get(pk=worse.pk).metrics["decision"] == decision["reason"]


def test_a_model_that_does_not_beat_the_rules_is_not_promoted(admin_user):
    weak = ScoringModel.objects.create(kind="lead", version=1, algorithm="naive_bayes",
                                       metrics={"auc": 0.55, "brier": 0.24, "rules": {"auc": 0.61}}, blob="{}")
    decision = services.model_promote_if_better(actor=admin_user, model=weak)
    assert not decision["promoted"]
    assert not ScoringModel.objects.filter(is_active=True).exists()


def test_too_few_outcomes_is_reported_and_scores_come_from_the_rules(admin_user, rep, api):
    from tests.intelligence.factories import OpportunityFactory

    deal = OpportunityFactory(owner=rep, stage_id="proposal")
    with pytest.raises(ValidationError) as exc:
        services.model_train(actor=admin_user, kind="deal")
    assert "Not enough deal outcomes" in exc.value.messages[0]
    services.scores_refresh(kind="deal")
    score = api.as_user(rep).get(f"/api/v1/opportunities/{deal.pk}/score/").json()
    assert score["model"] == "Rules v1"
    assert any(f["factor"] == "stage" and "in stage Proposal" in f["detail"] for f in score["factors"])


def test_training_runs_nightly_through_celery_beat():
    from django.conf import settings

    from salesapp.celery import app

    entry = settings.CELERY_BEAT_SCHEDULE["intelligence-train-nightly"]
    assert entry["task"] == "intelligence.tasks.models_train_nightly_task"
    assert entry["task"] in app.tasks
    assert "intelligence-train-nightly" in app.conf.beat_schedule
