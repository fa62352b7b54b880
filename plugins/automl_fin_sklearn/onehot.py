"""One-hot encoding bounded in total width, not only per column.

``max_categories`` bounds each categorical column (100 one-hot columns at most), but a
table of 300 categorical columns of 1,000 levels still made 30,000 dense columns: 6.7 GB
on 16,000 rows, and a logistic regression that did not finish one fold in 90 s (one of
2,000 such columns: 174,000 columns, 9.6 GB). :class:`OneHot` shares a width among the
columns, set by the rows at fit: :data:`MAX_CELLS` values at most, between
:data:`MIN_WIDTH` and :data:`MAX_WIDTH` columns, each categorical column keeping its
most frequent levels: as many as a common cap lets all fit, two at least (one and the
rest pooled; more than 1,000 categorical columns of two levels or more therefore
exceed :data:`MAX_WIDTH`).
"""

from __future__ import annotations

from typing import Any

from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.preprocessing import OneHotEncoder

__all__ = ["MAX_CELLS", "MAX_LEVELS", "MAX_WIDTH", "MIN_WIDTH", "OneHot"]

MAX_LEVELS = 100  # one-hot columns a categorical column makes at most (the rest pooled)
MAX_CELLS = 50_000_000  # values of the one-hot output (400 MB of floats) at most ...
MIN_WIDTH = 250  # ... but never fewer columns than this in all
MAX_WIDTH = 2_000  # nor more than this


class OneHot(TransformerMixin, BaseEstimator):
    """Dense one-hot columns of the most frequent levels (levels seen fewer than
    ``min_frequency`` times and those beyond the width pooled as one "infrequent"
    column); unseen levels go to it too, or nowhere where none was pooled."""

    def __init__(self, min_frequency: int = 1) -> None:
        self.min_frequency = min_frequency

    def fit(self, X: Any, y: Any = None) -> OneHot:
        import numpy as np
        import pandas as pd

        width = min(MAX_WIDTH, max(MIN_WIDTH, MAX_CELLS // max(X.shape[0], 1)))
        frame = X if isinstance(X, pd.DataFrame) else pd.DataFrame(np.asarray(X, dtype=object))
        levels = frame.nunique(dropna=False).to_numpy()
        # the most levels a column keeps such that all columns fit the width: a column
        # with fewer keeps all of its own, and what it leaves goes to the others (an even
        # share cut a 400-level ZIP column beside 60 yes/no flags to 32 levels)
        self.levels_ = 2
        for cap in range(MAX_LEVELS, 2, -1):
            if np.minimum(levels, cap).sum() <= width:
                self.levels_ = cap
                break
        self.encoder_ = OneHotEncoder(
            handle_unknown="infrequent_if_exist",
            min_frequency=self.min_frequency,
            max_categories=self.levels_,
            sparse_output=False,
        ).fit(X)
        self.n_features_in_ = self.encoder_.n_features_in_
        if hasattr(self.encoder_, "feature_names_in_"):
            self.feature_names_in_ = self.encoder_.feature_names_in_
        return self

    def transform(self, X: Any) -> Any:
        return self.encoder_.transform(X)

    def get_feature_names_out(self, input_features: Any = None) -> Any:
        return self.encoder_.get_feature_names_out(input_features)
