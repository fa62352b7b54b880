"""A wide price table (a time column and one price column per asset) as one panel.

Closing prices of several assets are most often kept side by side: ``Date, DAX, SMI,
CAC, FTSE`` (R's ``EuStockMarkets``), ``Date, Brent, WTI`` (arch's ``crude``), a data
vendor's download of several tickers' closes. The price recipe forecasts a long table
(time, entity, price); ``data.series.columns`` names the price columns of a wide one,
and :func:`long_prices` stacks them into the columns :data:`SERIES` (the column's name)
and :data:`PRICE`, at training and on a predictor's new rows alike, so that every
series is forecast by one model that learns from all of them (a panel), each from its
own past. A date on which one asset did not trade (a holiday of its exchange) is a
missing price of that series only.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import pandas as pd
import pandas.api.types as ptypes

from automl_fin.errors import DataError

__all__ = ["PRICE", "SERIES", "long_prices"]

SERIES = "series"  # the entity column of a stacked wide table: the price column's name
PRICE = "price"  # its price column


def _prices(col: pd.Series) -> bool:
    """Whether ``col`` looks like an asset's prices: numbers, all above zero, not row
    numbers (a change, a spread or an index column a file kept is none)."""
    if not ptypes.is_numeric_dtype(col) or ptypes.is_bool_dtype(col):
        return False
    known = col.dropna()
    if known.empty or not (known > 0).all():
        return False
    counting = ptypes.is_integer_dtype(known) and (known.diff().dropna() == 1).all()
    return not counting


def long_prices(
    frame: pd.DataFrame, time: str, columns: Sequence[str], source: str, *, new: bool = False
) -> pd.DataFrame:
    """``frame``'s ``time`` column and its price ``columns`` stacked into rows of
    ``time``, :data:`SERIES` (the column's name) and :data:`PRICE`, series by series;
    a missing column, or one that holds no numbers, is refused by name. On ``new``
    rows (a predictor's) a missing column is a series not forecast, and a column of
    numbers that is not one of ``columns`` (an asset added since) is not forecast
    either: each said, as a long table's series are (one missing refused the file, a
    new one was left out without a word)."""
    names = [str(c) for c in frame.columns]
    missing = [c for c in columns if c not in names]
    if new and missing and len(missing) < len(columns):
        warnings.warn(
            f"{source}: no column {', '.join(map(repr, missing))} of the training's price "
            "columns (data.series.columns): no forecast for them, forecast for the others",
            stacklevel=4,
        )
        columns = [c for c in columns if c in names]
    elif missing:
        raise DataError(
            f"{source}: no column {', '.join(map(repr, missing))} (data.series.columns, "
            f"the price columns of a wide table); columns: {', '.join(names[:30])}"
        )
    added = [c for c in names if new and c != time and c not in columns and _prices(frame[c])]
    if added:
        warnings.warn(
            f"{source}: column(s) {', '.join(map(repr, added))} hold numbers but are not "
            f"among the training's price columns ({', '.join(columns)}): not forecast "
            "(a predictor forecasts the series its data.series.columns listed)",
            stacklevel=4,
        )
    if time in columns:
        raise DataError(
            f"{source}: '{time}' is the time column and in data.series.columns; list the "
            "price columns only"
        )
    no_prices = [
        c
        for c in columns
        if not ptypes.is_numeric_dtype(frame[c]) or ptypes.is_bool_dtype(frame[c])
    ]
    if no_prices:
        bad = no_prices[0]
        raise DataError(
            f"{source}: column '{bad}' of data.series.columns holds no prices (e.g. "
            f"{frame[bad].dropna().iloc[0]!r} is not a number); list the price columns only"
        )
    taken = [c for c in (SERIES, PRICE) if c in names]
    if taken:
        raise DataError(
            f"{source}: a wide price table is read as columns '{SERIES}' and '{PRICE}', "
            f"and it already has a column '{taken[0]}'; rename it"
        )
    stacked = frame.melt(
        id_vars=[time], value_vars=list(columns), var_name=SERIES, value_name=PRICE
    )
    stacked[SERIES] = stacked[SERIES].astype("str")
    return stacked.reset_index(drop=True)
