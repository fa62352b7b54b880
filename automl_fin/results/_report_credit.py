"""The report's sections for a binary credit score: what a risk manager signs off.

From the best row's out-of-fold probabilities of the positive (bad) class: the KS chart
and the CAP (Lorenz) curve with the Gini, the score-band table with calibration by band,
the cutoff table (approval rate against bad rate) and the confusion matrix at the KS
cutoff. The numbers come from :mod:`automl_fin.data._discrimination`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from automl_fin.data._discrimination import (
    confusion_at,
    cumulative,
    cutoffs,
    gini,
    ks,
    score_bands,
)
from automl_fin.results._report_html import figure, note, section, table

__all__ = ["credit_sections"]


def credit_sections(
    y: np.ndarray,
    score: np.ndarray,
    label: str,
    positive: str,
    decided: tuple[float, str] | None = None,
) -> list[str]:
    """The sections for out-of-fold ``score`` (P(``positive``)) of the rows ``y`` (1: the
    positive class); ``label`` names the row the scores come from. ``decided``: the
    predictor's own cutoff (a decision rule's: costs, a label metric) and what it costs
    or scores, whose counts are shown in place of the KS cutoff's."""
    if not (0 < int(np.sum(y)) < len(y)):
        return [section("Discrimination", note("the scored rows hold one class only"))]
    statistic, cutoff = ks(y, score)
    return [
        section("Discrimination", _discrimination(y, score, label, positive, statistic, cutoff)),
        section("Score bands", _bands(y, score, positive)),
        section("Cutoffs", _cutoffs(y, score, cutoff, statistic, positive, decided)),
    ]


def _discrimination(
    y: np.ndarray, score: np.ndarray, label: str, positive: str, statistic: float, cutoff: float
) -> str:
    import matplotlib.pyplot as plt

    curve = cumulative(y, score)
    coefficient = gini(y, score)
    fig, (left, right) = plt.subplots(1, 2, figsize=(9, 3.8))
    at = int(np.argmax(curve["bads"] - curve["goods"]))
    x = np.r_[0.0, curve["rows"]]
    left.plot(x, np.r_[0.0, curve["bads"]], color="#c44e52", lw=1.4, label=f"'{positive}' rows")
    left.plot(x, np.r_[0.0, curve["goods"]], color="#4878a8", lw=1.4, label="the others")
    row = curve["rows"].iloc[at]
    left.vlines(row, curve["goods"].iloc[at], curve["bads"].iloc[at], color="black", lw=1.2)
    left.annotate(
        f"KS {statistic:.3f}\nat score {cutoff:.3f}",
        (row, curve["bads"].iloc[at]),
        xytext=(8, -28),
        textcoords="offset points",
        fontsize=8,
    )
    left.set(
        xlabel="share of rows, riskiest score first", ylabel="cumulative share", title="KS chart"
    )
    left.legend(fontsize=7, loc="lower right")
    share = y.mean()
    right.plot(
        x,
        np.r_[0.0, curve["bads"]],
        color="#c44e52",
        lw=1.4,
        label=f"{label} (Gini {coefficient:.3f})",
    )
    right.plot([0, share, 1], [0, 1, 1], ls="--", color="grey", lw=1, label="perfect")
    right.plot([0, 1], [0, 1], ls=":", color="grey", lw=1, label="random")
    right.set(
        xlabel="share of rows declined, riskiest first",
        ylabel=f"share of all '{positive}' rows declined",
        title="CAP (Lorenz) curve",
    )
    right.legend(fontsize=7, loc="lower right")
    return figure(
        fig,
        "discrimination",
        f"Left: sorting the validation rows from the riskiest score down, the share of all "
        f"'{positive}' rows and of all others passed so far; the widest gap is the KS "
        f"statistic ({statistic:.3f}, at score {cutoff:.3f}). Right: the share of '{positive}' "
        f"rows caught when declining the riskiest rows first; the Gini ({coefficient:.3f}) "
        "is the area between this curve and the random diagonal, as a share of the perfect "
        "model's. Out-of-fold scores: rows the scoring model did not see, pooled over all "
        "folds (the leaderboard's KS or Gini is the mean of each fold's, so it differs).",
    )


def _bands(y: np.ndarray, score: np.ndarray, positive: str) -> str:
    bands = score_bands(y, score).reset_index()
    ranges = zip(bands["score_min"], bands["score_max"], strict=True)
    view = pd.DataFrame(
        {
            "band": bands["band"],
            "score range": [f"{a:.3f} to {b:.3f}" for a, b in ranges],
            "rows": bands["rows"],
            f"'{positive}' rows": bands["bads"],
            f"'{positive}' rate": bands["bad_rate"].map("{:.1%}".format),
            "predicted": bands["predicted"].map("{:.1%}".format),
            "captured": bands["captured"].map("{:.1%}".format),
            "odds": bands["odds"].map(lambda v: "∞" if not np.isfinite(v) else f"{v:.2f}:1"),
        }
    )
    worst, best = bands.iloc[0], bands.iloc[-1]
    return table(
        view,
        "bands",
        f"Validation rows in score bands (deciles where scores do not tie), band 1 the "
        f"riskiest. '{positive} rate' is the observed rate in the band and 'predicted' the "
        "mean predicted probability: close values mean calibrated scores. 'captured' is the "
        f"share of all '{positive}' rows in this band and the riskier ones; 'odds' counts "
        f"the other rows per '{positive}' row. Here band 1 has a rate of "
        f"{worst['bad_rate']:.1%} and band {int(best['band'])} of {best['bad_rate']:.1%}.",
    )


def _percent(value: float) -> str:
    return "-" if np.isnan(value) else f"{value:.1%}"


def _cutoffs(
    y: np.ndarray,
    score: np.ndarray,
    cutoff: float,
    statistic: float,
    positive: str,
    decided: tuple[float, str] | None,
) -> str:
    table_ = cutoffs(y, score).reset_index()
    view = pd.DataFrame(
        {
            "approve": table_["approval_rate"].map("{:.0%}".format),
            "cutoff (score below)": table_["cutoff"].map("{:.4f}".format),
            "approved": table_["approved"].map("{:.1%}".format),
            f"'{positive}' rate of the approved": table_["bad_rate"].map(_percent),
            f"'{positive}' declined": table_["bads_declined"].map("{:.1%}".format),
            "others declined": table_["goods_declined"].map("{:.1%}".format),
        }
    )
    at = cutoff if decided is None else decided[0]
    counts = confusion_at(y, score, at)
    counts.index = pd.Index([f"actual {positive}", "actual other"])
    declined = counts["declined"].sum() / len(y)
    where = (
        f"Counts at the KS cutoff (decline at score {cutoff:.4f} or above: {declined:.1%} of "
        f"the rows), where the '{positive}' and other rows are furthest apart (KS "
        f"{statistic:.3f}); a lender picks its own cutoff from the table above."
        if decided is None
        else f"Counts at the predictor's cutoff, the one predict labels by (decline at "
        f"score {at:.4f} or above: {declined:.1%} of the rows; {decided[1]}); the KS "
        f"cutoff, where the '{positive}' and other rows are furthest apart (KS "
        f"{statistic:.3f}), is {cutoff:.4f}."
    )
    return table(
        view,
        "cutoffs",
        f"What each approval rate would have meant on the validation rows: approving the "
        f"rows that score below the cutoff, the {positive} rate among them and the shares "
        f"of '{positive}' and other rows declined. Overall the {positive} rate is "
        f"{np.mean(y):.1%}.",
    ) + table(
        counts.reset_index(names=""),
        "confusion-at-cutoff",
        where,
    )
