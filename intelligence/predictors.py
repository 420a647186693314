"""Loaded scoring models: predict probabilities and explain them, over many records at once.

A stored model carries the Platt scaling fitted on its holdout (`params["platt"]`), so what it answers is a
calibrated probability of winning; reasons stay the learner's own pushes and pulls.
"""

from __future__ import annotations

import math
import threading

import numpy as np

from intelligence.evaluation import platt_apply
from intelligence.explain import top_factors
from intelligence.features import FEATURES, build_vocab, to_matrix
from intelligence.naive_bayes import NaiveBayes

LGB_PARAMS = {
    "objective": "binary",
    "learning_rate": 0.08,
    "num_leaves": 15,
    "max_depth": 4,  # shallow trees keep pred_contrib (TreeSHAP, cost ~ depth squared) fast enough for bulk
    "min_data_in_leaf": 10,
    "feature_fraction": 0.9,
    "bagging_fraction": 0.9,
    "bagging_freq": 1,
    "lambda_l2": 1.0,
    "verbose": -1,
    "seed": 7,
    "deterministic": True,
    "num_threads": 1,
    "force_col_wise": True,
    "min_data_per_group": 5,
    "cat_smooth": 5,
}
LGB_ROUNDS = 80


class LightGBMPredictor:
    algorithm = "lightgbm"

    def __init__(self, kind: str, booster, params: dict):
        self.kind = kind
        self.booster = booster
        self.params = params
        self.names = [f.name for f in FEATURES[kind]]

    @classmethod
    def fit(cls, kind: str, vectors: list[dict], y: np.ndarray, extra_params: dict | None = None):
        import lightgbm as lgb

        vocab = build_vocab(kind, vectors)
        X = to_matrix(kind, vectors, vocab)
        cats = [j for j, f in enumerate(FEATURES[kind]) if f.categorical]
        data = lgb.Dataset(X, label=y, feature_name=[f.name for f in FEATURES[kind]], categorical_feature=cats,
                           free_raw_data=True)
        booster = lgb.train(LGB_PARAMS, data, num_boost_round=LGB_ROUNDS)
        return cls(kind, booster, {"vocab": vocab, **(extra_params or {})})

    def predict(self, vectors: list[dict], explain: bool = True, stage_labels: dict[str, str] | None = None):
        """Probabilities and, when `explain`, each row's reasons (deals need Stage's labels to say the stage)."""
        if not vectors:
            return np.zeros(0), []
        X = to_matrix(self.kind, vectors, self.params.get("vocab", {}))
        # One thread for a few rows (OpenMP start-up costs more than the work); both cores for bulk.
        threads = 1 if len(vectors) < 1000 else 0
        p = platt_apply(self.booster.predict(X, num_threads=threads), self.params.get("platt"))
        if not explain:
            return p, None
        contrib = self.booster.predict(X, pred_contrib=True, num_threads=threads)[:, :-1]  # last column is the bias
        return p, top_factors(self.names, contrib, vectors, stage_labels=stage_labels)

    def dumps(self) -> str:
        return self.booster.model_to_string()

    @classmethod
    def loads(cls, kind: str, blob: str, params: dict):
        import lightgbm as lgb

        return cls(kind, lgb.Booster(model_str=blob), params)


class NaiveBayesPredictor:
    algorithm = "naive_bayes"

    def __init__(self, kind: str, nb: NaiveBayes, params: dict):
        self.kind = kind
        self.nb = nb
        self.params = params
        self.names = [f.name for f in nb.fields]

    @classmethod
    def fit(cls, kind: str, vectors: list[dict], y: np.ndarray, extra_params: dict | None = None):
        return cls(kind, NaiveBayes(kind).fit(vectors, y), dict(extra_params or {}))

    def predict(self, vectors: list[dict], explain: bool = True, stage_labels: dict[str, str] | None = None):
        """Probabilities and, when `explain`, each row's reasons (deals need Stage's labels to say the stage)."""
        if not vectors:
            return np.zeros(0), []
        contrib, prior = self.nb.contributions(vectors)
        p = platt_apply(1.0 / (1.0 + np.exp(-(prior + contrib.sum(axis=1)))), self.params.get("platt"))
        return p, (top_factors(self.names, contrib, vectors, stage_labels=stage_labels) if explain else None)

    def dumps(self) -> str:
        return self.nb.dumps()

    @classmethod
    def loads(cls, kind: str, blob: str, params: dict):
        return cls(kind, NaiveBayes.loads(blob), params)


PREDICTORS = {"lightgbm": LightGBMPredictor, "naive_bayes": NaiveBayesPredictor}

_loaded: dict[tuple, object] = {}
_lock = threading.Lock()


def load(model) -> LightGBMPredictor | NaiveBayesPredictor:
    """The predictor for a ScoringModel row, parsed once per process."""
    key = (model.pk, model.kind, model.version, model.algorithm, model.trained_at)
    with _lock:
        pred = _loaded.get(key)
        if pred is None:
            pred = PREDICTORS[model.algorithm].loads(model.kind, model.blob, model.params or {})
            if len(_loaded) > 20:
                _loaded.clear()
            _loaded[key] = pred
        return pred


def to_score(p) -> np.ndarray:
    """Probabilities as 0-100 scores."""
    return np.clip(np.rint(np.asarray(p, dtype=float) * 100), 0, 100).astype(int)


def nan_to_none(v):
    return None if isinstance(v, float) and math.isnan(v) else v
