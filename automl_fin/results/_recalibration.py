"""An ensemble's probabilities put back on scale: Platt scaling of a binary blend.

Ensemble selection weighs its members by the recipe's metric. Under ROC AUC (ranks
only) a member that moves a few ranks is taken whatever its probabilities look like,
and a mean of probabilities is flatter than each of them: on causaldata's mortgages
the chosen ensemble's held-out log loss was 0.5519 against 0.5451 for each of its tree
members. So the blend of a binary ensemble is mapped through ``sigmoid(slope * logit(p)
+ intercept)``, fitted by maximum likelihood on the blend's out-of-fold predictions
(Platt's targets, smoothed by one row of each class, so that rows one value separates
cannot drive the slope to infinity): 0.5458 there. A positive slope keeps the rows'
order (up to floating-point ties within 1e-15 of 0 or 1), so ROC AUC, Gini, KS and the
labels a decision rule draws are those of the blend. It is kept only when it lowers
the log loss *cross-fitted* (five seeded parts of the rows, each mapped by a fit on the
other four: a fit scored on its own rows always looks better) and does not lower the
recipe's metric; the row, its out-of-fold predictions, the final test and the predictor
then use the fit on all rows (the manifest's ``recalibration``). Multi-class ensembles
and stacks are left as they are.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from scipy.special import expit

__all__ = ["MIN_ROWS", "Platt", "fit_platt", "mapping"]

EPS = 1e-15  # probabilities clipped to [EPS, 1 - EPS] before their log-odds
MIN_ROWS = 50  # out-of-fold rows needed (each class at least 5) to fit two numbers
PARTS = 5  # the cross-fit that decides whether the map is kept


@dataclass(frozen=True)
class Platt:
    """``sigmoid(slope * logit(p) + intercept)`` applied to the positive class."""

    slope: float
    intercept: float

    def apply(self, pred: np.ndarray) -> np.ndarray:
        """Recalibrated class probabilities ``(n, 2)`` from a blend's ``(n, 2)``."""
        z = self.slope * _logit(pred[:, 1]) + self.intercept
        return np.column_stack([expit(-z), expit(z)])

    def to_json(self) -> dict[str, float]:
        """Plain JSON (the ensemble's row, the predictor's manifest)."""
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Platt:
        """The recalibration :meth:`to_json` wrote."""
        return cls(float(data["slope"]), float(data["intercept"]))


def fit_platt(
    pred: np.ndarray,
    y: np.ndarray,
    *,
    seed: int = 0,
    keep: Callable[[np.ndarray], bool] | None = None,
) -> Platt | None:
    """The Platt scaling of a binary blend fitted on its out-of-fold rows (NaN rows left
    out), or ``None``: too few rows, a slope that is not positive, no gain in log loss
    cross-fitted on :data:`PARTS` seeded parts of the rows, or ``keep(recalibrated)``
    false (the recipe's metric would be lower)."""
    p = np.asarray(pred, dtype=float)
    if p.ndim != 2 or p.shape[1] != 2:
        return None
    rows = np.flatnonzero(~np.isnan(p[:, 1]))
    z, t = _logit(p[rows, 1]), np.asarray(y)[rows].astype(float)
    if len(t) < MIN_ROWS or min(t.sum(), len(t) - t.sum()) < 5:
        return None
    fitted = _fit(z, t)
    if fitted is None:
        return None
    part = np.random.default_rng(seed).permutation(len(t)) % PARTS
    crossed = np.empty(len(t))
    for k in range(PARTS):
        inside = part == k
        other = _fit(z[~inside], t[~inside])
        if other is None:
            return None
        crossed[inside] = expit(other.slope * z[inside] + other.intercept)
    if _log_loss(t, crossed) >= _log_loss(t, p[rows, 1]):
        return None
    if keep is not None and not keep(fitted.apply(p)):
        return None
    return fitted


def _fit(z: np.ndarray, t: np.ndarray) -> Platt | None:
    """Slope and intercept of ``sigmoid(slope * z + intercept)`` by Newton's method on
    Platt's smoothed targets; ``None`` unless the slope is positive and finite."""
    positives = t.sum()
    hi, lo = (positives + 1) / (positives + 2), 1 / (len(t) - positives + 2)
    target = np.where(t > 0.5, hi, lo)
    w = np.array([1.0, 0.0])  # slope, intercept: start at the identity
    X = np.column_stack([z, np.ones_like(z)])
    for _ in range(100):
        q = expit(X @ w)
        hess = (X * (q * (1 - q))[:, None]).T @ X + 1e-9 * np.eye(2)
        step = np.linalg.solve(hess, X.T @ (q - target))
        w -= step
        if not np.isfinite(w).all() or np.abs(step).max() < 1e-10:
            break
    if not (np.isfinite(w).all() and w[0] > 0):
        return None
    return Platt(float(w[0]), float(w[1]))


def mapping(recalibration: dict[str, Any] | None) -> Callable[[np.ndarray], np.ndarray] | None:
    """The map of a stored ``recalibration`` (a row's, a manifest's), or ``None``."""
    return Platt.from_json(recalibration).apply if recalibration else None


def _logit(p: np.ndarray) -> np.ndarray:
    q = np.clip(np.asarray(p, dtype=float), EPS, 1 - EPS)
    return np.log(q) - np.log1p(-q)


def _log_loss(t: np.ndarray, p: np.ndarray) -> float:
    q = np.clip(p, EPS, 1 - EPS)
    return float(-np.mean(t * np.log(q) + (1 - t) * np.log1p(-q)))
