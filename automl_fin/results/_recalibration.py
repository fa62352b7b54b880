"""An ensemble's probabilities put back on scale: Platt scaling of a binary blend.

Ensemble selection weighs its members by the recipe's metric. Under ROC AUC (ranks
only) a member that moves a few ranks is taken whatever its probabilities look like,
and a mean of probabilities is less sharp than each of them: on causaldata's mortgages
the chosen ensemble's held-out log loss was 0.5519 against 0.5451 for each of its tree
members. So the blend of a binary ensemble is mapped through ``sigmoid(slope * logit(p)
+ intercept)``, fitted by maximum likelihood on the blend's out-of-fold predictions
(0.5458 there). A positive slope keeps every row's order, so ROC AUC, Gini, KS and the
labels a decision rule draws from the recalibrated probabilities are those of the blend.
It is kept only when it lowers the out-of-fold log loss and its slope is positive; the
row, its out-of-fold predictions, the final test and the predictor all use it
(the manifest's ``recalibration``). Multi-class ensembles are left as blended.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

__all__ = ["MIN_ROWS", "Platt", "blend_combine", "fit_platt"]

EPS = 1e-6  # probabilities clipped to [EPS, 1 - EPS] before their log-odds
MIN_ROWS = 50  # out-of-fold rows needed (each class at least 5) to fit two numbers


@dataclass(frozen=True)
class Platt:
    """``sigmoid(slope * logit(p) + intercept)`` applied to the positive class."""

    slope: float
    intercept: float

    def apply(self, pred: np.ndarray) -> np.ndarray:
        """Recalibrated class probabilities ``(n, 2)`` from a blend's ``(n, 2)``."""
        z = self.slope * _logit(pred[:, 1]) + self.intercept
        q = 1.0 / (1.0 + np.exp(-z))
        return np.column_stack([1.0 - q, q])

    def to_json(self) -> dict[str, float]:
        """Plain JSON (the ensemble's row, the predictor's manifest)."""
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Platt:
        """The recalibration :meth:`to_json` wrote."""
        return cls(float(data["slope"]), float(data["intercept"]))


def fit_platt(pred: np.ndarray, y: np.ndarray) -> Platt | None:
    """The Platt scaling of a binary blend fitted on its out-of-fold rows (NaN rows
    left out), or ``None`` when too few rows, a slope that is not positive, or no gain
    in log loss."""
    p = np.asarray(pred, dtype=float)
    if p.ndim != 2 or p.shape[1] != 2:
        return None
    rows = ~np.isnan(p[:, 1])
    z, t = _logit(p[rows, 1]), np.asarray(y)[rows].astype(float)
    if len(t) < MIN_ROWS or min(t.sum(), len(t) - t.sum()) < 5:
        return None
    w = np.array([1.0, 0.0])  # slope, intercept: start at the identity
    X = np.column_stack([z, np.ones_like(z)])
    for _ in range(50):  # Newton's method on the log-likelihood (two unknowns)
        q = 1.0 / (1.0 + np.exp(-(X @ w)))
        grad = X.T @ (q - t)
        hess = (X * (q * (1 - q))[:, None]).T @ X + 1e-9 * np.eye(2)
        step = np.linalg.solve(hess, grad)
        w -= step
        if np.abs(step).max() < 1e-10:
            break
    fitted = Platt(float(w[0]), float(w[1]))
    if not (np.isfinite(w).all() and fitted.slope > 0):
        return None
    before, after = _log_loss(t, p[rows, 1]), _log_loss(t, fitted.apply(p[rows])[:, 1])
    return fitted if after < before else None


def blend_combine(
    weights: list[float], recalibration: dict[str, Any] | None
) -> Callable[[list[np.ndarray]], np.ndarray] | None:
    """The ``combine`` of a recalibrated ensemble (its members' predictions, in member
    order, averaged with ``weights``, then recalibrated), or ``None`` for a plain mean."""
    if not recalibration:
        return None
    platt, total = Platt.from_json(recalibration), float(np.sum(weights))

    def combine(preds: list[np.ndarray]) -> np.ndarray:
        mean = sum(w * p for w, p in zip(weights, preds, strict=True)) / total
        return platt.apply(np.asarray(mean, dtype=float))

    return combine


def _logit(p: np.ndarray) -> np.ndarray:
    q = np.clip(np.asarray(p, dtype=float), EPS, 1 - EPS)
    return np.log(q) - np.log1p(-q)


def _log_loss(t: np.ndarray, p: np.ndarray) -> float:
    q = np.clip(p, EPS, 1 - EPS)
    return float(-np.mean(t * np.log(q) + (1 - t) * np.log1p(-q)))
