"""The leakage test: on a history whose outcome is a coin toss but whose lost leads are decided later than won
ones, no model may rank better than chance, on its holdout or on records decided after it was trained, even
when the outcome is planted in a field written after the decision."""

from datetime import timedelta

import pytest
from django.db.models import Max
from django.utils import timezone

from intelligence import services
from intelligence.models import ScoringModel
from leads.models import Lead
from tests.intelligence.synthetic import generate_null_lead_history

pytestmark = pytest.mark.django_db

CHANCE, TOLERANCE = 0.5, 0.03


@pytest.mark.parametrize("plant", [False, True], ids=["random outcome", "outcome planted after the decision"])
def test_when_an_outcome_arrives_is_not_learned_as_what_predicts_it(admin_user, rep, other_rep, plant):
    # Given two years of leads, won ones decided within days and lost ones weeks later, the outcome random
    earlier = timezone.now() - timedelta(days=520)
    generate_null_lead_history(owners=[rep, other_rep], leads=5000, seed=11, now=earlier, plant=plant)

    if plant:  # the planted field, read as it is now, names every outcome
        assert Lead.objects.filter(industry__startswith="Won-").count() == Lead.objects.filter(
            status="converted").count() > 1000
    # When the lead models are trained on it
    services.model_train(actor=admin_user, kind="lead")

    # Then every candidate is at chance on its holdout
    trained = list(ScoringModel.objects.filter(kind="lead"))
    assert {m.algorithm for m in trained} == {"lightgbm", "naive_bayes"}
    for model in trained:
        assert abs(model.metrics["auc"] - CHANCE) <= TOLERANCE, (model.algorithm, model.metrics["auc"])

    # And on leads created and decided after it was trained
    last_trained_on = Lead.objects.aggregate(m=Max("pk"))["m"]
    generate_null_lead_history(owners=[rep, other_rep], leads=2500, seed=12, plant=plant)
    later = list(Lead.objects.filter(pk__gt=last_trained_on).values_list("pk", flat=True))
    for model in trained:
        result = services.model_evaluate(model=model, ids=later)
        assert result["n"] > 5000
        assert abs(result["auc"] - CHANCE) <= TOLERANCE, (model.algorithm, result["auc"])
