"""A linear SVM with Platt-scaled probabilities, calibrated on as many internal folds of
its training rows as its smallest class allows.

``CalibratedClassifierCV(cv=3)`` needs three rows of every class: a fold of Ecdat's
data breaches (classes of two rows, after ``validation.n_splits=2``, as the refusal of
five folds advised) failed every ``linear_svm`` trial ("Requesting 3-fold
cross-validation but provided less than 3 examples for at least one class"). Here the
internal folds are as many as the smallest class has rows, up to three; a class of one
row leaves no fold to calibrate on, and the sigmoid is fitted on the training rows
themselves (optimistic, the only scale there is).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.calibration import CalibratedClassifierCV
from sklearn.frozen import FrozenEstimator
from sklearn.svm import LinearSVC

__all__ = ["CalibratedLinearSVC"]

FOLDS = 3  # internal folds of the training rows the sigmoid is fitted on, at most


class CalibratedLinearSVC(ClassifierMixin, BaseEstimator):
    """``LinearSVC(C, class_weight)`` with sigmoid-calibrated probabilities (see the
    module)."""

    def __init__(
        self, C: float = 1.0, class_weight: Any = None, random_state: int | None = None
    ) -> None:
        self.C = C
        self.class_weight = class_weight
        self.random_state = random_state

    def fit(self, X: Any, y: Any) -> CalibratedLinearSVC:
        y = np.asarray(y)
        _, counts = np.unique(y, return_counts=True)
        svm = LinearSVC(C=self.C, class_weight=self.class_weight, random_state=self.random_state)
        folds = min(FOLDS, int(counts.min()))
        if folds >= 2:  # (three: as CalibratedClassifierCV(cv=3) was, row for row)
            self.model_ = CalibratedClassifierCV(svm, method="sigmoid", cv=folds).fit(X, y)
        else:  # a class of one row: no fold to calibrate on
            frozen = FrozenEstimator(svm.fit(X, y))
            self.model_ = CalibratedClassifierCV(frozen, method="sigmoid").fit(X, y)
        self.classes_ = self.model_.classes_
        return self

    def predict_proba(self, X: Any) -> np.ndarray:
        return self.model_.predict_proba(X)

    def predict(self, X: Any) -> np.ndarray:
        return self.model_.predict(X)
