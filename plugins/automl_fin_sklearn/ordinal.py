"""Ordinal classification by cumulative binary models (Frank & Hall, 2001).

For ordered classes ``0 < 1 < ... < K-1`` it fits ``K-1`` binary models of
``P(y > k)`` and turns them into class probabilities:
``P(0) = 1 - P(y > 0)``, ``P(k) = P(y > k-1) - P(y > k)``, ``P(K-1) = P(y > K-2)``
(negative differences, where two models disagree, are clipped and the rows renormalised).
Each binary model sees every row, so the rare top class borrows strength from the
ones next to it.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, clone

__all__ = ["OrdinalClassifier"]


class OrdinalClassifier(ClassifierMixin, BaseEstimator):
    """Cumulative binary models over ordered class indices (see the module)."""

    def __init__(self, estimator: Any = None) -> None:
        self.estimator = estimator

    def fit(self, X: Any, y: Any) -> OrdinalClassifier:
        y = np.asarray(y).astype(np.int64)
        self.classes_ = np.unique(y)
        if len(self.classes_) < 2:  # two: one binary model, P(y > 0)
            raise ValueError("ordinal classification needs at least two ordered classes")
        self.models_ = [
            clone(self.estimator).fit(X, (y > k).astype(int)) for k in self.classes_[:-1]
        ]
        return self

    def predict_proba(self, X: Any) -> np.ndarray:
        above = np.column_stack([m.predict_proba(X)[:, 1] for m in self.models_])
        above = np.minimum.accumulate(above, axis=1)  # P(y > k) can only fall with k
        n = len(above)
        upper = np.hstack([np.ones((n, 1)), above])
        lower = np.hstack([above, np.zeros((n, 1))])
        proba = np.clip(upper - lower, 1e-9, None)
        return proba / proba.sum(axis=1, keepdims=True)

    def predict(self, X: Any) -> np.ndarray:
        return self.classes_[self.predict_proba(X).argmax(axis=1)]
