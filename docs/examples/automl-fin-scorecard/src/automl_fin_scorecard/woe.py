"""Weight-of-evidence binning as a scikit-learn transformer."""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin


class WoEBinner(TransformerMixin, BaseEstimator):
    """Quantile-bin each column, then map every bin to its weight of evidence.

    ``woe = ln((goods in bin + 0.5) / (goods + 0.5)) - ln((bads in bin + 0.5) / (bads + 0.5))``
    with ``y == 1`` the bad (positive) class; missing values get a bin of their own.
    """

    def __init__(self, n_bins: int = 5) -> None:
        self.n_bins = n_bins

    def fit(self, X: Any, y: Any) -> WoEBinner:
        X = np.asarray(X, dtype=float)
        y = np.asarray(y).astype(int)
        quantiles = np.linspace(0, 1, self.n_bins + 1)[1:-1]
        self.edges_ = [np.unique(np.nanquantile(col, quantiles)) for col in X.T]
        bins = self._bins(X)
        bad, good = y.sum(), (1 - y).sum()
        self.woe_ = []
        for j, edges in enumerate(self.edges_):
            n = len(edges) + 2  # bins, plus one for missing values
            bad_in = np.bincount(bins[:, j], weights=y, minlength=n)
            good_in = np.bincount(bins[:, j], weights=1 - y, minlength=n)
            self.woe_.append(
                np.log((good_in + 0.5) / (good + 0.5)) - np.log((bad_in + 0.5) / (bad + 0.5))
            )
        self.n_features_in_ = X.shape[1]
        return self

    def _bins(self, X: np.ndarray) -> np.ndarray:
        out = np.empty(X.shape, dtype=np.int64)
        for j, edges in enumerate(self.edges_):
            out[:, j] = np.where(
                np.isnan(X[:, j]), len(edges) + 1, np.searchsorted(edges, X[:, j], side="right")
            )
        return out

    def transform(self, X: Any) -> np.ndarray:
        X = np.asarray(X, dtype=float)
        bins = self._bins(X)
        return np.column_stack([w[bins[:, j]] for j, w in enumerate(self.woe_)])

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        names = (
            input_features
            if input_features is not None
            else [f"x{i}" for i in range(self.n_features_in_)]
        )
        return np.asarray([f"{n}_woe" for n in names], dtype=object)
