"""Forests grown a batch of trees at a time, the search's budget checked between batches.

scikit-learn's ``warm_start`` adds trees to a fitted forest, drawing each new tree's
seed as a single fit would, so a forest grown in batches is the forest one ``fit``
gives, tree for tree, however the batches fall. Between batches :func:`automl_fin.check_budget` lets
the search stop it: where the fold may keep what was fitted (its trial's last fold)
the forest ends with the trees grown so far and is scored with them, instead of being
cut by the budget's timer with nothing kept (an extra-trees fold of nycflights13 ran
234 s of a 300 s search and was thrown away).
"""

from __future__ import annotations

import os
import time
import warnings
from typing import Any

from sklearn.ensemble import (
    ExtraTreesClassifier,
    ExtraTreesRegressor,
    RandomForestClassifier,
    RandomForestRegressor,
)

from automl_fin import BudgetStop, check_budget

__all__ = ["BATCH_SECONDS", "FORESTS"]

BATCH_SECONDS = 0.25  # a batch's time: a budget's end waits for at most about that


class _InBatches:
    """Mixed into a scikit-learn forest: :meth:`fit` grows it in batches."""

    n_estimators: int
    n_jobs: int | None
    estimators_: list[Any]

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> Any:
        """Grow the forest in batches of about :data:`BATCH_SECONDS` (sized by the pace
        of the batches before; the trees do not depend on it), checking the budget
        between them; stopped by it, the forest keeps the trees grown
        (``len(estimators_)`` below ``n_estimators``)."""
        planned = self.n_estimators
        jobs = self.n_jobs if self.n_jobs and self.n_jobs > 0 else os.cpu_count() or 1
        size, grown = jobs, 0  # the first batch: a tree a thread
        try:
            with warnings.catch_warnings():  # the same rows each batch: the presets hold
                warnings.filterwarnings("ignore", message="class_weight presets")
                while grown < planned:
                    started = time.perf_counter()
                    size = min(size, planned - grown)
                    self.set_params(n_estimators=grown + size, warm_start=grown > 0)  # type: ignore[attr-defined]
                    super().fit(X, y, sample_weight=sample_weight)  # type: ignore[misc]
                    grown += size
                    if grown < planned:
                        check_budget(float(grown))
                    each = (time.perf_counter() - started) / size
                    size = max(jobs, min(4 * size, int(BATCH_SECONDS / max(each, 1e-9))))
        except BudgetStop as stop:  # the trees grown so far are the forest
            if stop.keep is not None:  # a refit: as many as its trial's fold kept
                del self.estimators_[max(int(stop.keep), 1) :]
        finally:
            self.set_params(n_estimators=planned, warm_start=False)  # type: ignore[attr-defined]
        return self


class BatchedRandomForestClassifier(_InBatches, RandomForestClassifier):
    """:class:`~sklearn.ensemble.RandomForestClassifier` grown in batches."""


class BatchedRandomForestRegressor(_InBatches, RandomForestRegressor):
    """:class:`~sklearn.ensemble.RandomForestRegressor` grown in batches."""


class BatchedExtraTreesClassifier(_InBatches, ExtraTreesClassifier):
    """:class:`~sklearn.ensemble.ExtraTreesClassifier` grown in batches."""


class BatchedExtraTreesRegressor(_InBatches, ExtraTreesRegressor):
    """:class:`~sklearn.ensemble.ExtraTreesRegressor` grown in batches."""


FORESTS: dict[tuple[str, bool], type] = {
    ("RandomForest", True): BatchedRandomForestClassifier,
    ("RandomForest", False): BatchedRandomForestRegressor,
    ("ExtraTrees", True): BatchedExtraTreesClassifier,
    ("ExtraTrees", False): BatchedExtraTreesRegressor,
}
