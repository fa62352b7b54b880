"""Predictions in the engine's shape: class probabilities ``(n, k)`` or values ``(n,)``,
checked (shape, finite, probabilities summing to 1), and blended with weights."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from automl_fin.engine._bag import Bag
from automl_fin.engine._floor import floored
from automl_fin.engine._prior_shift import shifted
from automl_fin.engine._staged import tag

__all__ = ["blend", "check_prediction", "predict"]


def predict(pipe: Any, X: pd.DataFrame, width: int) -> np.ndarray:
    """Class probabilities ``(n, k)`` for classification, values ``(n,)`` otherwise (a
    :class:`~automl_fin.engine._bag.Bag`: the mean of its fold models')."""
    if isinstance(pipe, Bag):
        return np.mean([predict(p, X, width) for p in pipe.pipes], axis=0)
    if width == 1:  # cut at zero where its target was never negative (:mod:`._floor`)
        return floored(pipe, np.asarray(pipe.predict(X), dtype=float))
    if hasattr(pipe[-1], "predict_proba"):
        proba = np.asarray(pipe.predict_proba(X), dtype=float)
        return shifted(pipe, in_class_order(proba, getattr(pipe[-1], "classes_", None), width))
    labels = np.asarray(pipe.predict(X), dtype=np.int64)  # hard labels as 0/1 probabilities
    return np.eye(width)[labels]


def _predicted(pipe: Any, X: pd.DataFrame, width: int, model: str) -> np.ndarray:
    """:func:`predict`, what it raises tagged with the spec whose code raised it (the
    member's model, or a preprocessor's step: :func:`~automl_fin.engine._pipeline.culprit`)."""
    from automl_fin.engine._pipeline import culprit
    from automl_fin.engine._staged import staged

    first = pipe.pipes[0] if isinstance(pipe, Bag) else pipe
    # the steps are looked up only when it raised (predict runs on every chunk of rows)
    return staged("predict", model, predict, pipe, X, width, blame=lambda e: culprit(first)(e))


def in_class_order(proba: np.ndarray, classes: Any, width: int) -> np.ndarray:
    """``proba``'s columns put at the classes they are of, as scikit-learn's convention
    reads them (column ``j`` is ``classes_[j]``): a model whose ``classes_`` are the
    codes ``0..k-1`` in another order was scored as if they were in order (ROC AUC
    0.22 for a good model), and one fitted without a class gets a column of zeros."""
    if classes is None or proba.ndim != 2:
        return proba
    codes = np.asarray(classes)
    if codes.shape != (proba.shape[1],) or not np.issubdtype(codes.dtype, np.integer):
        return proba
    if np.array_equal(codes, np.arange(width)) or len(set(codes.tolist())) != len(codes):
        return proba
    if codes.min() < 0 or codes.max() >= width:
        return proba
    out = np.zeros((len(proba), width))
    out[:, codes] = proba
    return out


def check_prediction(pred: np.ndarray, n: int, width: int, model: str) -> np.ndarray:
    """``pred`` in the expected shape; a wrong shape, a non-finite value or probabilities
    that do not sum to 1 raise, tagged as ``model``'s predict."""
    expected = (n, width) if width > 1 else (n,)
    if pred.ndim == 2 and width == 1 and pred.shape[1] == 1:
        pred = pred[:, 0]
    if pred.shape != expected:
        raise tag(
            ValueError(f"predictions have shape {pred.shape}, expected {expected}"),
            "predict",
            model,
        )
    if not np.all(np.isfinite(pred)):
        raise tag(ValueError("predictions contain NaN or infinite values"), "predict", model)
    if width > 1:  # class probabilities: in [0, 1], each row summing to 1
        low, high = float(pred.min()), float(pred.max())
        sums = pred.sum(axis=1)
        if low < -1e-6 or high > 1 + 1e-6 or not np.allclose(sums, 1.0, atol=1e-4):
            worst = float(sums[np.argmax(np.abs(sums - 1))])
            raise tag(
                ValueError(
                    f"class probabilities must lie in [0, 1] and sum to 1 per row; found "
                    f"values in [{low:.4g}, {high:.4g}], a row summing to {worst:.4g}"
                ),
                "predict",
                model,
            )
    return pred


def blend(
    pipes: list[Any],
    weights: list[float],
    X: pd.DataFrame,
    width: int,
    models: list[str],
    combine: Callable[[list[np.ndarray]], np.ndarray] | None = None,
    after: Callable[[np.ndarray], np.ndarray] | None = None,
) -> np.ndarray:
    """The weighted mean of the pipelines' checked predictions (probabilities or values),
    mapped by ``after`` when given (an ensemble's recalibration), or, given ``combine``
    (a stack's layer 2), what it makes of them in member order."""
    preds = [
        check_prediction(_predicted(pipe, X, width, model), len(X), width, model)
        for pipe, model in zip(pipes, models, strict=True)
    ]
    if combine is not None:
        return combine(preds)
    total = np.zeros((len(X), width) if width > 1 else len(X))
    for pred, weight in zip(preds, weights, strict=True):
        total += weight * pred
    total /= float(np.sum(weights))
    return total if after is None else after(total)
