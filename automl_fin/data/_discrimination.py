"""How well a binary score separates the bads from the goods: the credit validator's tables.

``y`` is 1 for the positive class (the bad outcome, e.g. default) and 0 otherwise;
``score`` is the predicted probability of the positive class, so a higher score is
riskier. Rows at or above a cutoff are *declined*, the others *approved*.

* :func:`cumulative`: at every distinct score (riskiest first), the shares of all bads,
  of all goods and of all rows at or above it: the KS chart and the CAP (Lorenz) curve.
* :func:`ks`: the Kolmogorov-Smirnov statistic (largest gap between the two cumulative
  shares) and the score where it is reached.
* :func:`gini`: the accuracy ratio of the CAP curve, ``2 * AUC - 1`` (ties count half).
* :func:`score_bands`: rows cut into score bands (deciles), riskiest first, with rows,
  bads, bad rate, mean predicted probability (calibration by band), the share of all
  bads captured down to the band, and the odds (goods per bad).
* :func:`cutoffs`: for a list of approval rates, the cutoff that approves them and the
  bad rate among the approved, the share of bads and of goods declined.
* :func:`confusion_at`: the 2 x 2 counts of a cutoff.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

__all__ = ["band_of", "confusion_at", "cumulative", "cutoffs", "gini", "ks", "score_bands"]

APPROVAL_RATES = (0.5, 0.6, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95)


def band_of(values: np.ndarray, bands: int) -> np.ndarray:
    """Each value's band, 1 to at most ``bands``, cut at the quantiles of ``values`` (band
    1 the lowest; fewer bands where values tie, one when they are all equal; numbered
    without a gap)."""
    cut = pd.qcut(np.asarray(values, dtype=float), bands, labels=False, duplicates="drop")
    codes = np.asarray(cut, dtype=float)
    codes = np.where(np.isnan(codes), 0, codes).astype(int)
    # numbered as they hold rows: a bin between tied edges can hold none (bands 1, 2, 4, 5)
    return np.unique(codes, return_inverse=True)[1].reshape(codes.shape) + 1


def _checked(y: np.ndarray, score: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    y, score = np.asarray(y, dtype=float), np.asarray(score, dtype=float)
    if y.shape != score.shape or y.ndim != 1:
        raise ValueError(f"y and score must be vectors of one length: {y.shape}, {score.shape}")
    if not np.isin(y, (0.0, 1.0)).all():
        raise ValueError("y must hold 0 (good) and 1 (bad) only")
    if not (0 < y.sum() < len(y)):
        raise ValueError("y needs both bads and goods")
    return y, score


def cumulative(y: np.ndarray, score: np.ndarray) -> pd.DataFrame:
    """One row per distinct score, riskiest first: ``score`` and the shares of all bads
    (``bads``), all goods (``goods``) and all rows (``rows``) scored at or above it."""
    y, score = _checked(y, score)
    order = np.argsort(-score, kind="stable")
    s, t = score[order], y[order]
    last = np.r_[np.flatnonzero(np.diff(s)), len(s) - 1]  # the end of each run of ties
    return pd.DataFrame(
        {
            "score": s[last],
            "bads": np.cumsum(t)[last] / t.sum(),
            "goods": np.cumsum(1 - t)[last] / (1 - t).sum(),
            "rows": (last + 1) / len(s),
        }
    )


def ks(y: np.ndarray, score: np.ndarray) -> tuple[float, float]:
    """The KS statistic and the score at which the bads' and goods' cumulative shares
    are furthest apart (decline at or above it)."""
    curve = cumulative(y, score)
    gap = (curve["bads"] - curve["goods"]).to_numpy()
    at = int(np.argmax(gap))
    return float(gap[at]), float(curve["score"].iloc[at])


def gini(y: np.ndarray, score: np.ndarray) -> float:
    """The accuracy ratio of the CAP curve (Gini), ``2 * AUC - 1``; tied scores count half."""
    curve = cumulative(y, score)
    goods = np.r_[0.0, curve["goods"].to_numpy()]
    bads = np.r_[0.0, curve["bads"].to_numpy()]
    auc = float(np.sum(np.diff(goods) * (bads[1:] + bads[:-1]) / 2))  # trapezoids: ties half
    return 2 * auc - 1


def score_bands(y: np.ndarray, score: np.ndarray, bands: int = 10) -> pd.DataFrame:
    """Rows cut at the score's quantiles into at most ``bands`` bands (fewer where scores
    tie), band 1 the riskiest: ``score_min``, ``score_max``, ``rows``, ``bads``,
    ``bad_rate``, ``predicted`` (mean score: calibration by band), ``captured`` (share of
    all bads in this band and the riskier ones) and ``odds`` (goods per bad)."""
    y, score = _checked(y, score)
    frame = pd.DataFrame({"band": band_of(-score, bands), "y": y, "score": score})
    table = frame.groupby("band").agg(
        score_min=("score", "min"),
        score_max=("score", "max"),
        rows=("y", "size"),
        bads=("y", "sum"),
        predicted=("score", "mean"),
    )
    table["bads"] = table["bads"].astype(int)
    table["bad_rate"] = table["bads"] / table["rows"]
    table["captured"] = table["bads"].cumsum() / y.sum()
    goods = table["rows"] - table["bads"]
    table["odds"] = np.where(table["bads"] > 0, goods / table["bads"].clip(lower=1), np.inf)
    columns = ["score_min", "score_max", "rows", "bads", "bad_rate", "predicted", "captured"]
    return table[[*columns, "odds"]]


def cutoffs(
    y: np.ndarray, score: np.ndarray, approval_rates: Sequence[float] = APPROVAL_RATES
) -> pd.DataFrame:
    """For each approval rate (below 1), the cutoff: the score of the first row
    declined when the ``rate * n`` lowest scores are approved; rows below it are
    approved (ties at the cutoff are declined, so ``approved``, the share approved, can
    fall short of the rate), ``bad_rate`` among them (NaN when none is),
    ``bads_declined`` and ``goods_declined`` (shares of all bads and of all goods)."""
    y, score = _checked(y, score)
    ranked = np.sort(score)
    rows = []
    for rate in approval_rates:
        if not 0 < rate < 1:
            raise ValueError(f"approval rate {rate}: give rates between 0 and 1")
        cutoff = float(ranked[min(round(rate * len(ranked)), len(ranked) - 1)])
        approved = score < cutoff
        rows.append(
            {
                "approval_rate": rate,
                "cutoff": cutoff,
                "approved": float(approved.mean()),
                "bad_rate": float(y[approved].mean()) if approved.any() else float("nan"),
                "bads_declined": float(y[~approved].sum() / y.sum()),
                "goods_declined": float((1 - y[~approved]).sum() / (1 - y).sum()),
            }
        )
    return pd.DataFrame(rows).set_index("approval_rate")


def confusion_at(y: np.ndarray, score: np.ndarray, cutoff: float) -> pd.DataFrame:
    """Counts of actual bads and goods (rows) declined (score at or above ``cutoff``)
    and approved (columns)."""
    y, score = _checked(y, score)
    declined = score >= cutoff
    bad = y == 1
    return pd.DataFrame(
        [
            [int((bad & declined).sum()), int((bad & ~declined).sum())],
            [int((~bad & declined).sum()), int((~bad & ~declined).sum())],
        ],
        index=pd.Index(["bad", "good"], name="actual"),
        columns=pd.Index(["declined", "approved"]),
    )
