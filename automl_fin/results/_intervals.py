"""Prediction intervals of regression predictors: split-conformal on out-of-fold residuals.

Every row of the search was predicted once by a model that did not see it (the
out-of-fold predictions the search stores; for an ensemble, its members' blended). Their
absolute errors are the conformity scores: an interval of coverage ``c`` around a new
prediction is ± the ``ceil((n + 1) c)``-th smallest of the ``n`` scores (Vovk et al.
2005; Lei et al. 2018). The predictor itself is refitted on every row, so its errors are
if anything smaller than the out-of-fold ones: the coverage holds for rows drawn like the
training rows (no guarantee under drift).

Errors often grow with what is predicted (a diamond of $20,000 is priced to within
thousands, one of $500 to within tens): the same width for every row was far too wide
for the one and too narrow for the other. Where the search has :data:`BIN_ROWS` rows or
more for two bins, each absolute error is first divided by the mean absolute error of
the out-of-fold predictions near its own (up to :data:`MAX_BINS` bins of the sorted
predictions, read between their medians; at least :data:`FLOOR` of the overall mean),
and an interval is ± the score's quantile times the scale at the new prediction
(normalised conformal prediction, Papadopoulos et al. 2008; Lei et al. 2018, 5.2). The
scaled intervals are kept only where they are narrower on average on the out-of-fold
rows than the same-width ones (:func:`scale_model`); a predictor saved without a scale
keeps the same width for every row.

A target that was never negative in the rows a predictor was fitted on (an amount, a
price, a balance; the final test's check: the search rows) gets intervals cut at zero:
``[max(0, p - w), max(0, p + w)]``. Cutting off values the target cannot take keeps the
coverage and only narrows the band; a target that can be negative but was not in any
training row loses coverage below zero. The predictions themselves are cut at zero
too (:mod:`automl_fin.engine._floor`); a predictor saved before they were may predict
below zero, and its band ``[0, max(0, p + w)]`` may not hold such a prediction (said).

Price forecasts get none: walk-forward residuals of overlapping horizons are not
exchangeable, so the guarantee would not hold.
"""

from __future__ import annotations

import math

import numpy as np

from automl_fin.engine._floor import floor_of  # (the predictions' floor too)

__all__ = [
    "FILE",
    "METHOD",
    "SCALED",
    "bounds",
    "conformity_scores",
    "floor_of",
    "half_width",
    "scale_at",
    "scale_model",
]

FILE = "residuals.npy"  # the sorted conformity scores, in a saved predictor's folder
METHOD = "split-conformal on out-of-fold absolute residuals"
SCALED = f"{METHOD}, each divided by the mean error of out-of-fold predictions near its own"
BIN_ROWS = 100  # out-of-fold rows a bin of the error's scale holds at least
MAX_BINS = 10
FLOOR = 0.05  # the least scale, as a share of the mean absolute error
COVERAGE = 0.9  # the coverage at which scaled and same-width intervals are compared


def _errors(y: np.ndarray, oof: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    seen = np.isfinite(oof)
    return oof[seen], np.abs(np.asarray(y, dtype=float)[seen] - oof[seen])


def scale_model(y: np.ndarray, oof: np.ndarray) -> dict[str, list[float]] | None:
    """How the out-of-fold error grows with the prediction: ``{"centers", "scales"}``,
    the median prediction and the mean absolute error of each bin of the sorted
    predictions (:data:`BIN_ROWS` rows or more each, at most :data:`MAX_BINS`), or
    ``None`` where there are too few rows for two bins or the scaled intervals would
    not be narrower on average at :data:`COVERAGE` than the same-width ones."""
    pred, err = _errors(y, oof)
    bins = min(MAX_BINS, len(pred) // BIN_ROWS)
    mean = float(np.mean(err)) if len(err) else 0.0
    if bins < 2 or not mean > 0:
        return None
    parts = np.array_split(np.argsort(pred, kind="stable"), bins)
    centers = np.array([np.median(pred[i]) for i in parts])
    scales = np.maximum([np.mean(err[i]) for i in parts], FLOOR * mean)
    centers, where = np.unique(centers, return_inverse=True)  # predictions of few values
    scales = np.bincount(where, scales) / np.bincount(where)
    if len(centers) < 2:
        return None
    model = {"centers": centers.tolist(), "scales": scales.tolist()}
    scale = scale_at(model, pred)
    scaled = half_width(np.sort(err / scale), COVERAGE) * float(np.mean(scale))
    return model if scaled < half_width(np.sort(err), COVERAGE) else None


def scale_at(model: dict[str, list[float]] | None, pred: np.ndarray) -> np.ndarray:
    """The error's scale at each of ``pred`` (ones without a ``model``): the bins'
    scales read linearly between their centers, flat beyond them."""
    pred = np.asarray(pred, dtype=float)
    if not model:
        return np.ones_like(pred)
    return np.interp(pred, model["centers"], model["scales"])


def conformity_scores(
    y: np.ndarray, oof: np.ndarray, model: dict[str, list[float]] | None = None
) -> np.ndarray:
    """The sorted absolute out-of-fold errors of the rows that have a prediction
    (rows held out of the search, e.g. the final test, have none: NaN), each divided by
    the error's scale at its prediction when there is a ``model``."""
    pred, err = _errors(y, oof)
    return np.sort(err / scale_at(model, pred))


def half_width(scores: np.ndarray, coverage: float) -> float:
    """Half the width of the interval of ``coverage`` (e.g. 0.9) from sorted conformity
    scores: their ``ceil((n + 1) coverage)``-th smallest."""
    if isinstance(coverage, bool) or not isinstance(coverage, int | float) or not 0 < coverage < 1:
        # (the text "0.9" raised a bare TypeError from the comparison)
        raise ValueError(f"coverage must be a number between 0 and 1 (e.g. 0.9), not {coverage!r}")
    n = len(scores)
    k = math.ceil(round((n + 1) * coverage, 6))  # 0.9 * 10 is 9, not 9.000000000000002
    if k > n:
        need = math.ceil(round(coverage / (1 - coverage), 6))  # the least n with k <= n
        raise ValueError(
            f"a {coverage:g} interval needs at least {need} out-of-fold rows; this predictor "
            f"has {n}: ask for a lower coverage"
        )
    return float(scores[k - 1])


def bounds(
    pred: np.ndarray, width: float | np.ndarray, floor: float | None
) -> tuple[np.ndarray, np.ndarray]:
    """The ``(lower, upper)`` bounds of intervals of half-width ``width`` (one, or one a
    row) around ``pred``, cut at ``floor`` when there is one."""
    lower, upper = pred - width, pred + width
    if floor is not None:
        lower, upper = np.maximum(lower, floor), np.maximum(upper, floor)
    return lower, upper
