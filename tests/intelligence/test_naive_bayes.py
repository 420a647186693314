"""The naive Bayes frequency model: per-value counts, smoothing, likelihood-ratio reasons."""

import numpy as np

from intelligence.features import DEAL_FEATURES
from intelligence.naive_bayes import NaiveBayes
from intelligence.predictors import NaiveBayesPredictor


def _vec(source="web", stage="proposal", amount=1000.0, next_step=0.0):
    return {f.name: "" if f.categorical else 0.0 for f in DEAL_FEATURES} | {"amount": amount, "stage": stage, "employee_count": 100.0, "annual_revenue": 1e6, "industry": "Software",
            "source": source, "has_next_step": next_step}


def test_counts_and_smoothing_rank_a_winning_value_higher():
    # Given referrals won 8 of 10 and web leads 2 of 10
    vectors = [_vec("referral") for _ in range(10)] + [_vec("web") for _ in range(10)]
    y = np.array([1] * 8 + [0] * 2 + [1] * 2 + [0] * 8)
    nb = NaiveBayes("deal").fit(vectors, y)
    assert nb.counts["source"]["referral"] == [8, 2]
    p_ref, p_web, p_new = nb.predict_proba([_vec("referral"), _vec("web"), _vec("never seen")])
    # Then referral ranks above web, and an unseen value sits in between (smoothing, not zero)
    assert p_ref > p_new > p_web
    assert 0 < p_web < 1


def test_reasons_are_the_likelihood_ratios_in_plain_words():
    vectors = [_vec("referral") for _ in range(10)] + [_vec("web") for _ in range(10)]
    y = np.array([1] * 8 + [0] * 2 + [1] * 2 + [0] * 8)
    pred = NaiveBayesPredictor.fit("deal", vectors, y)
    _p, factors = pred.predict([_vec("referral")])
    assert factors[0][0] == {"factor": "source", "detail": "source referral", "points": factors[0][0]["points"]}
    assert factors[0][0]["points"] > 0  # pushes the score up
    restored = NaiveBayesPredictor.loads("deal", pred.dumps(), pred.params)
    assert np.allclose(restored.predict([_vec("web")], explain=False)[0], pred.predict([_vec("web")], explain=False)[0])
