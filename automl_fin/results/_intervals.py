"""Prediction intervals of regression predictors: split-conformal on out-of-fold residuals.

Every row of the search was predicted once by a model that did not see it (the
out-of-fold predictions the search stores; for an ensemble, its members' blended). Their
absolute errors are the conformity scores: an interval of coverage ``c`` around a new
prediction is ± the ``ceil((n + 1) c)``-th smallest of the ``n`` scores (Vovk et al.
2005; Lei et al. 2018). The predictor itself is refitted on every row, so its errors are
if anything smaller than the out-of-fold ones: the coverage holds for rows drawn like the
training rows (no guarantee under drift), and the width is the same for every row.

A target that was never negative in the rows a predictor was fitted on (an amount, a
price, a balance; the final test's check: the search rows) gets intervals cut at zero:
``[max(0, p - w), max(0, p + w)]``. Cutting off values the target cannot take keeps the
coverage and only narrows the band; a target that can be negative but was not in any
training row loses coverage below zero. The predictions themselves are left as the
model made them: a linear model's below zero gets the band ``[0, max(0, p + w)]``,
which may not hold it.

Price forecasts get none: walk-forward residuals of overlapping horizons are not
exchangeable, so the guarantee would not hold.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["FILE", "METHOD", "bounds", "conformity_scores", "floor_of", "half_width"]

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


def floor_of(y: np.ndarray) -> float | None:
    """The least value intervals may reach: 0 for a target never negative in ``y``,
    else none."""
    y = np.asarray(y, dtype=float)
    return 0.0 if len(y) and float(np.nanmin(y)) >= 0 else None


def bounds(pred: np.ndarray, width: float, floor: float | None) -> tuple[np.ndarray, np.ndarray]:
    """The ``(lower, upper)`` bounds of intervals of half-width ``width`` around ``pred``,
    cut at ``floor`` when there is one."""
    lower, upper = pred - width, pred + width
    if floor is not None:
        lower, upper = np.maximum(lower, floor), np.maximum(upper, floor)
    return lower, upper
