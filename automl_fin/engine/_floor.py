"""Predictions of a regression target never negative in the rows a model was fitted on
(an amount, a price, a count) cut at zero.

A linear model on a skewed amount predicts below zero wherever its line dips: on AER
CreditCard's ``expenditure`` (zero for a quarter of the applicants) ridge regression's
folds held values down to -200, which every user clips before use, and which no metric
should score as the model's. Cutting at zero cannot raise any error on a row whose
target is not negative (``|y - max(p, 0)| <= |y - p|`` for ``y >= 0``), so the
out-of-fold predictions, the final test and the saved predictor all predict the cut
values, and a search ranks models by them. A target with a negative value in the rows
a pipeline was fitted on is left as the model predicts it; so are price series, whose
target is a log return (:class:`~automl_fin.data._dataset.TargetScale`).

The floor is an attribute of each fitted pipeline (as the prior-shift correction is,
:mod:`._prior_shift`): a predictor saved before it predicts as it did.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from automl_fin.plugin._specs import Task

if TYPE_CHECKING:
    from automl_fin.engine._problem import Problem

__all__ = ["floor_of", "floored", "mark_floor"]

ATTRIBUTE = "automl_fin_floor_"  # on a fitted pipeline: the least value it predicts


def floor_of(y: np.ndarray) -> float | None:
    """The least value a target never negative in ``y`` may be predicted (and its
    intervals reach): 0, else none."""
    y = np.asarray(y, dtype=float)
    return 0.0 if len(y) and float(np.nanmin(y)) >= 0 else None


def mark_floor(pipe: Any, p: Problem, y: np.ndarray) -> Any:
    """``pipe`` (fitted on targets ``y`` of ``p``) marked to predict no value below
    zero when ``y`` holds none; unchanged otherwise."""
    if p.task is Task.REGRESSION and p.dataset.scale is None:
        floor = floor_of(y)
        if floor is not None:
            setattr(pipe, ATTRIBUTE, floor)
    return pipe


def floored(pipe: Any, pred: np.ndarray) -> np.ndarray:
    """``pred``, values of ``pipe``, cut at its floor when :func:`mark_floor` set one."""
    floor = getattr(pipe, ATTRIBUTE, None)
    return pred if floor is None else np.maximum(pred, floor)
