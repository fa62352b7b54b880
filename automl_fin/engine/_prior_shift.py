"""Probabilities of a model fitted with class weights, mapped back to the class
frequencies of the rows it was fitted on.

A classifier fitted with ``class_weight: balanced`` (weights inversely proportional to
each class's count, as scikit-learn, XGBoost, LightGBM and CatBoost offer it) estimates
class probabilities under equal priors: on ISLR Default (3.3 % defaults) a balanced
logistic regression puts a mean probability of 0.21 on default, the best balanced
CatBoost trial had a final-test log loss of 0.31 against 0.075 for logistic regression,
and an ensemble that took it as a member was the worst-calibrated system of the
comparison. The ranking is fine (ROC AUC is unchanged by the weights' shift), the
probabilities are not: a PD model must not overstate default sixfold.

The prior-shift correction (Saerens, Latinne & Decaestecker 2002) undoes it exactly for a
model that estimates ``p'(k|x) ∝ w_k p(k|x)`` when class ``k`` weighs ``w_k``:
``p(k|x) ∝ p'(k|x) / w_k``; with balanced weights ``w_k ∝ 1 / n_k`` that is
``p(k|x) ∝ p'(k|x) n_k``. The engine applies it to every prediction of such a fitted
pipeline (its out-of-fold predictions, its bag, its refit, a monitored model's learning
curve), so the members an ensemble averages share one scale. A plugin marks a reweighting
model by its parameters: ``class_weight`` ``balanced`` / ``balanced_subsample``, or
``scale_pos_weight`` (binary).

Not applied when the recipe's metric is scored on labels (accuracy, balanced accuracy,
macro-F1, QWK): labels are the arg-max of the probabilities, and there the weights are
what moves the decision toward the rare classes. Nor to a calibrated model: Platt's or
isotonic calibration is fitted on unweighted rows and already maps back.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

__all__ = ["BALANCED", "factors", "mark", "shift", "shifted"]

BALANCED = frozenset({"balanced", "balanced_subsample"})  # values of a ``class_weight``
ATTRIBUTE = "automl_fin_prior_shift_"  # on a fitted pipeline whose probabilities are shifted


def factors(
    params: Mapping[str, Any], calibration: str, labels_scored: bool, y: np.ndarray, width: int
) -> np.ndarray | None:
    """The per-class factors ``1 / w_k`` (scaled to sum to 1) that map back the
    probabilities of a model fitted on labels ``y`` with class weights ``w`` given by
    its ``params``: ``class_weight`` ``balanced`` (``w_k ∝ 1 / n_k``; a class missing
    from the training rows counts one, so that it keeps a small probability) and XGBoost's
    ``scale_pos_weight`` (binary: the positive class weighs that much). ``None`` when
    nothing is reweighted, the model is calibrated, or the metric is scored on labels."""
    if width < 2 or labels_scored or calibration != "none":
        return None
    out = np.ones(width)
    weight = params.get("class_weight")
    if isinstance(weight, str) and weight in BALANCED:
        counts = np.bincount(np.asarray(y, dtype=np.int64), minlength=width)[:width]
        out *= np.maximum(counts, 1.0)
    positive = params.get("scale_pos_weight")
    if width == 2 and isinstance(positive, int | float) and positive > 0:
        out[1] /= float(positive)
    if np.allclose(out, out[0]):
        return None
    return out / out.sum()


def mark(pipe: Any, found: np.ndarray | None) -> Any:
    """``pipe``, marked so that :func:`shifted` maps its probabilities by ``found``
    (:func:`factors`); unchanged for ``None``."""
    if found is not None:
        setattr(pipe, ATTRIBUTE, found)
    return pipe


def shifted(pipe: Any, proba: np.ndarray) -> np.ndarray:
    """``proba`` of ``pipe`` mapped back when it was :func:`mark`-ed."""
    return shift(proba, getattr(pipe, ATTRIBUTE, None))


def shift(proba: np.ndarray, found: np.ndarray | None) -> np.ndarray:
    """Class probabilities ``(n, k)`` of a reweighted model mapped back: each row times
    the :func:`factors` ``found``, renormalised (unchanged for ``None``)."""
    if found is None:
        return proba
    moved = np.asarray(proba, dtype=float) * found
    return moved / moved.sum(axis=1, keepdims=True)
