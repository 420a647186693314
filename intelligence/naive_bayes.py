"""A naive Bayes frequency model over field values, after the idea of Odoo's predictive lead scoring.

For each field value it counts the won and lost outcomes; a record's odds are
the prior odds times, per field, the smoothed likelihood ratio
P(value | won) / P(value | lost). Numbers are put into quantile buckets
learned at training. Each ratio doubles as a reason: which values pushed the
score up and which pulled it down.
"""

from __future__ import annotations

import json
import math

import numpy as np

from intelligence.features import FEATURES

ALPHA = 1.0
MISSING = "missing"


class NaiveBayes:
    """Per-value won/lost counts with Laplace smoothing."""

    def __init__(self, kind: str, counts=None, edges=None, totals=(0, 0)):
        self.kind = kind
        self.fields = [f for f in FEATURES[kind] if f.nb]
        self.counts: dict[str, dict[str, list[int]]] = counts or {}
        self.edges: dict[str, list[float]] = edges or {}
        self.totals = list(totals)

    # values -> tokens ----------------------------------------------------------
    def _token(self, name: str, value) -> str:
        if name in self.edges:
            if value is None or (isinstance(value, float) and math.isnan(value)):
                return MISSING
            return f"b{int(np.searchsorted(self.edges[name], float(value), side='right'))}"
        return str(value) if value not in (None, "") else MISSING

    def fit(self, vectors: list[dict], y: np.ndarray) -> NaiveBayes:
        for f in self.fields:
            if not f.categorical:
                col = np.array([v[f.name] for v in vectors], dtype=float)
                col = col[~np.isnan(col)]
                distinct = np.unique(col)
                if len(distinct) <= 6:
                    self.edges[f.name] = [float(x) for x in distinct[1:]]
                else:
                    self.edges[f.name] = sorted({float(x) for x in np.quantile(col, [0.2, 0.4, 0.6, 0.8])})
        self.counts = {f.name: {} for f in self.fields}
        for v, label in zip(vectors, y, strict=True):
            for f in self.fields:
                cell = self.counts[f.name].setdefault(self._token(f.name, v[f.name]), [0, 0])
                cell[0 if label else 1] += 1
        self.totals = [int(np.sum(y)), int(len(y) - np.sum(y))]
        return self

    def _tables(self):
        won, lost = self.totals
        tables = {}
        for f in self.fields:
            cells = self.counts.get(f.name, {})
            k = len(cells) + 1  # one slot for values never seen
            tables[f.name] = (
                {tok: math.log((w + ALPHA) / (won + ALPHA * k)) - math.log((lo + ALPHA) / (lost + ALPHA * k))
                 for tok, (w, lo) in cells.items()},
                math.log(ALPHA / (won + ALPHA * k)) - math.log(ALPHA / (lost + ALPHA * k)),
            )
        return tables

    def contributions(self, vectors: list[dict]) -> tuple[np.ndarray, float]:
        """Per record and field, the log likelihood ratio; plus the prior log odds."""
        won, lost = self.totals
        prior = math.log((won + ALPHA) / (lost + ALPHA))
        tables = self._tables()
        out = np.zeros((len(vectors), len(self.fields)))
        for j, f in enumerate(self.fields):
            table, unseen = tables[f.name]
            out[:, j] = [table.get(self._token(f.name, v[f.name]), unseen) for v in vectors]
        return out, prior

    def predict_proba(self, vectors: list[dict]) -> np.ndarray:
        contrib, prior = self.contributions(vectors)
        return 1.0 / (1.0 + np.exp(-(prior + contrib.sum(axis=1))))

    def dumps(self) -> str:
        return json.dumps({"kind": self.kind, "counts": self.counts, "edges": self.edges, "totals": self.totals})

    @classmethod
    def loads(cls, blob: str) -> NaiveBayes:
        data = json.loads(blob)
        return cls(data["kind"], data["counts"], data["edges"], data["totals"])
