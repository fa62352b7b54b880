"""Prediction intervals of regression predictors: split-conformal on out-of-fold residuals.

Every row of the search was predicted once by a model that did not see it (the
out-of-fold predictions the search stores; for an ensemble, its members' blended). Their
absolute errors are the conformity scores: an interval of coverage ``c`` around a new
prediction is ± the ``ceil((n + 1) c)``-th smallest of the ``n`` scores (Vovk et al.
2005; Lei et al. 2018). The predictor itself is refitted on every row, so its errors are
if anything smaller than the out-of-fold ones: the coverage holds for rows drawn like the
training rows (no guarantee under drift), and the width is the same for every row.

Price forecasts get none: walk-forward residuals of overlapping horizons are not
exchangeable, so the guarantee would not hold.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["FILE", "METHOD", "conformity_scores", "half_width"]

FILE = "residuals.npy"  # the sorted conformity scores, in a saved predictor's folder
METHOD = "split-conformal on out-of-fold absolute residuals"


def conformity_scores(y: np.ndarray, oof: np.ndarray) -> np.ndarray:
    """The sorted absolute out-of-fold errors of the rows that have a prediction
    (rows held out of the search, e.g. the final test, have none: NaN)."""
    seen = np.isfinite(oof)
    return np.sort(np.abs(np.asarray(y, dtype=float)[seen] - oof[seen]))


def half_width(scores: np.ndarray, coverage: float) -> float:
    """Half the width of the interval of ``coverage`` (e.g. 0.9) from sorted conformity
    scores: their ``ceil((n + 1) coverage)``-th smallest."""
    if not 0 < coverage < 1:
        raise ValueError(f"coverage must be between 0 and 1 (e.g. 0.9), not {coverage}")
    n = len(scores)
    k = math.ceil(round((n + 1) * coverage, 6))  # 0.9 * 10 is 9, not 9.000000000000002
    if k > n:
        need = math.ceil(round(coverage / (1 - coverage), 6))  # the least n with k <= n
        raise ValueError(
            f"a {coverage:g} interval needs at least {need} out-of-fold rows; this predictor "
            f"has {n}: ask for a lower coverage"
        )
    return float(scores[k - 1])
