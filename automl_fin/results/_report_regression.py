"""The report's tables for a regression (loan pricing): where the errors are.

Residuals by band of the predicted value (is the model biased for the cheapest or the
dearest loans?), and the coverage of the 90 % prediction interval on the final test rows
(the interval is split-conformal on the out-of-fold errors; held-out rows check it).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from automl_fin.data._discrimination import band_of
from automl_fin.results._final_test import final_scores
from automl_fin.results._report_html import note, table

if TYPE_CHECKING:
    from automl_fin.engine._problem import Problem

__all__ = ["regression_parts", "residual_bands"]

BANDS = 10


def residual_bands(y: np.ndarray, pred: np.ndarray, bands: int = BANDS) -> pd.DataFrame:
    """Rows cut at the predicted value's quantiles (band 1 the lowest): ``rows``,
    ``predicted`` and ``actual`` (means), ``residual`` (mean of actual minus predicted:
    above 0, the band is priced too low) and ``rmse`` within the band."""
    frame = pd.DataFrame({"band": band_of(pred, bands), "y": y, "pred": pred})
    frame["residual"] = frame["y"] - frame["pred"]
    frame["squared"] = frame["residual"] ** 2
    out = frame.groupby("band").agg(
        rows=("y", "size"),
        predicted=("pred", "mean"),
        actual=("y", "mean"),
        residual=("residual", "mean"),
        rmse=("squared", "mean"),
    )
    out["rmse"] = np.sqrt(out["rmse"])
    return out


def regression_parts(
    problem: Problem, y: np.ndarray, pred: np.ndarray, study: Any, best: Any
) -> str:
    """The residual-band table, and the final test's interval coverage in words."""
    bands = residual_bands(y, pred)
    worst = bands["residual"].abs().idxmax()
    target = problem.dataset.target
    parts = [
        table(
            bands.reset_index(),
            "residual-bands",
            f"Out-of-fold rows in bands of the predicted {target} (band 1 the lowest): the "
            "mean predicted and actual value, their mean difference (residual: above 0 the "
            "band is predicted too low) and the error within the band. The largest bias is "
            f"in band {worst} ({bands.loc[worst, 'residual']:+.4g}).",
        )
    ]
    scores, rows = final_scores(study, best)
    if "coverage_90" in scores:
        from automl_fin.results._intervals import BIN_ROWS, scale_model

        how = (
            "wider where they grow with the prediction"
            if scale_model(y, pred) is not None
            else "one width for every row: widths by prediction were not narrower on "
            f"average on these rows, or there were under {2 * BIN_ROWS} of them, so the "
            "rows predicted highest or lowest may be held less often"
        )
        parts.append(
            note(
                f"Prediction intervals: on the {rows} final test rows the 90 % "
                f"interval (mean width {scores['interval_width_90']:.4g}) held the actual "
                f"{target} for {scores['coverage_90']:.1%} of them (split-conformal on the "
                f"out-of-fold errors, {how}; predictor.predict_interval gives it for new "
                "rows)."
            )
        )
    return "".join(parts)
