"""A DataFrame's shape read as a table's, as a file gives one, at training and on new rows.

- A Series is the table of one column it is, a Polars or Arrow table the pandas one it
  reads as; what is no path nor table is refused.
- Column names are text (``0``, ``1`` of a frame made from an array are ``"0"``,
  ``"1"``); a name given twice, or two that would be one text, are refused.
- Prices downloaded for several assets, columns of two levels (field, asset) as
  ``yfinance.download`` and ``pd.concat`` of a dict of price frames give them
  (``('Close', 'AAPL')``), are stacked: one row per time and asset, the asset in a
  column, the fields (``Open`` ... ``Volume``) columns (``reset_index``'s ``('Date',
  '')`` a column again). Other columns of several levels (an aggregation's
  ``('Close', 'mean')`` too) are named by their parts joined by ``_`` (``applicant_age``).
- A row index of dates (``DatetimeIndex``, ``PeriodIndex``, a level of dates in a
  ``MultiIndex``) is read as columns; other indexes are no data.

What changes the table (stacking, the index read) is said at training.
"""

from __future__ import annotations

import os
import warnings
from typing import Any

import pandas as pd
from pandas.api import types as ptypes

from automl_fin.errors import DataError

__all__ = ["as_data", "as_table", "index_as_columns", "named_as_text"]

# what a price download names its fields (any case; `_` as a space)
PRICE_FIELDS = frozenset(
    {"open", "high", "low", "close", "adj close", "adjclose", "adjusted close", "price",
     "volume", "vwap", "dividends", "stock splits", "capital gains", "trades"}
)  # fmt: skip


def as_data(data: Any, *, none: bool = True) -> Any:
    """What the API reads as data: a path or a DataFrame as given, a Series as the table
    of one column it is (named ``value`` when unnamed: a price series with its dates as
    the index), a table of the Arrow stream interface (a Polars DataFrame, a pyarrow
    Table) as the pandas one ``pd.DataFrame.from_arrow`` reads, ``None`` where ``none``
    (the recipe's own data); anything else refused in one line (an array crashed with
    "The truth value of an array ... is ambiguous")."""
    if isinstance(data, pd.Series):
        return data.to_frame(name=str(data.name) if data.name is not None else "value")
    if isinstance(data, (str, os.PathLike, pd.DataFrame)) or (data is None and none):
        return data
    if hasattr(data, "__arrow_c_stream__"):  # Polars, a pyarrow Table, DuckDB's results
        try:
            return pd.DataFrame.from_arrow(data)
        except (TypeError, ValueError):  # a column (a Polars Series), not a table
            pass  # pyarrow's ArrowInvalid is a ValueError
    raise DataError(
        f"data: a CSV, TSV or Parquet path, a pandas DataFrame or Series or an Arrow table "
        f"(Polars, pyarrow) is read; got {type(data).__name__} (make it a pd.DataFrame "
        "with named columns first)"
    )


def as_table(frame: pd.DataFrame, source: str, *, say: bool = True) -> pd.DataFrame:
    """``frame`` as the table a file of it would be (above); ``say``: warn of what
    changed its shape (at training, not on every prediction)."""
    return index_as_columns(
        named_as_text(by_asset(frame, source, say=say), source), source, say=say
    )


def by_asset(frame: pd.DataFrame, source: str, *, say: bool = True) -> pd.DataFrame:
    """Prices of several assets in columns of two levels, one of them price fields, as
    one row per time and asset (the asset in a column named as its level, else
    ``ticker``); any other frame as it is."""
    columns = frame.columns
    if not isinstance(columns, pd.MultiIndex) or columns.nlevels != 2:
        return frame
    # a column with one part empty is a row label put back by reset_index: ('Date', '')
    labels = [c for c in columns if "" in (str(c[0]), str(c[1]))]
    rest = [c for c in columns if c not in labels]
    fields = [_all_fields(pd.Index([c[i] for c in rest])) for i in (0, 1)]
    if fields[0] == fields[1]:  # neither level, or both: no asset level to stack
        return frame
    asset = 1 if fields[0] else 0
    if {str(c[asset]) for c in rest} <= _AGGREGATES:  # .agg({"Close": ["last", "mean"]})
        return frame
    if labels:
        frame = frame.set_index(labels)
        frame.index = frame.index.set_names([str(c[0]) or str(c[1]) for c in labels])
        frame.columns = pd.MultiIndex.from_tuples(rest, names=columns.names)
    name = columns.names[asset]
    name = str(name) if name is not None else "ticker"
    long = frame.stack(level=asset)
    long.index = long.index.set_names(name, level=long.index.nlevels - 1)
    long = long.reset_index(level=-1)  # the asset a column, the dates the index
    if labels:  # the labels back as the columns they were
        long = long.reset_index(level=list(range(len(labels))))
    long.columns.name = None
    assets = list(pd.unique(frame.columns.get_level_values(asset)))
    if say:
        warnings.warn(
            f"{source}: columns of prices by asset ({', '.join(map(repr, map(str, assets[:4])))}"
            f"{', ...' if len(assets) > 4 else ''}): read as one row per time and asset, the "
            f"asset in column {name!r}",
            stacklevel=3,
        )
    return long


# what pandas names the columns of an aggregation (``resample(...).agg([...])``): no assets
_AGGREGATES = frozenset(
    {"first", "last", "mean", "median", "sum", "min", "max", "std", "var", "sem", "count",
     "size", "nunique", "prod", "skew", "kurt", "ohlc"}
)  # fmt: skip


def _all_fields(values: pd.Index) -> bool:
    names = {str(v).strip().lower().replace("_", " ") for v in values}
    return bool(names) and names <= PRICE_FIELDS


def named_as_text(frame: pd.DataFrame, source: str) -> pd.DataFrame:
    """``frame`` with its column names as text (``0``, ``1`` of a frame made from an array
    are ``"0"``, ``"1"``; columns of several levels that are no prices by asset, as
    ``pd.concat`` of a dict of frames makes them, their parts joined by ``_``:
    ``applicant_age``), as a predictor's schema and every file format name them; two
    names that would be one text, or a name given twice, are refused."""
    if all(isinstance(c, str) for c in frame.columns):
        if frame.columns.has_duplicates:  # pd.concat(axis=1) of frames sharing a column
            twice = sorted(set(frame.columns[frame.columns.duplicated()]))
            raise DataError(
                f"{source} has duplicate column names ({', '.join(map(repr, twice))}); give "
                "every column a unique name"
            )
        return frame
    if isinstance(frame.columns, pd.MultiIndex):
        names = ["_".join(str(p) for p in c if str(p) != "") for c in frame.columns]
    else:
        names = [str(c) for c in frame.columns]
    if len(set(names)) < len(names):
        twice = sorted({n for n in names if names.count(n) > 1})
        raise DataError(
            f"{source}: column names {', '.join(map(repr, twice))} appear twice once written "
            "as text (e.g. 1 and '1'); rename one"
        )
    return frame.set_axis(names, axis=1)


def index_as_columns(frame: pd.DataFrame, source: str, *, say: bool = True) -> pd.DataFrame:
    """``frame`` with a row index of dates (a ``DatetimeIndex`` or ``PeriodIndex``, as a
    price download or ``resample`` leaves them; a level of dates in a ``MultiIndex``:
    ``(date, ticker)``) as columns before its own, named as the index names them (an
    unnamed date level ``date``, another ``level_<i>``); the index itself is kept, so that
    predictions line up with the rows. ``say``: warn at training. Any other index (row
    numbers, an index whose name a column has) is left as it is: it is no data."""
    index = frame.index
    levels = [index.get_level_values(i) for i in range(index.nlevels)]
    dated = [
        ptypes.is_datetime64_any_dtype(v) or isinstance(v.dtype, pd.PeriodDtype) for v in levels
    ]
    if not any(dated):
        return frame
    taken = set(map(str, frame.columns))
    if {str(n) for n in index.names if n is not None} & taken:
        return frame  # set_index(..., drop=False): the columns are there already
    names = [  # an unnamed level: a name no column has (a column 'date' of other values)
        str(n) if n is not None else _free("date" if d else f"level_{i}", taken)
        for i, (n, d) in enumerate(zip(index.names, dated, strict=True))
    ]
    out = frame.rename_axis([None] * index.nlevels)  # a name shared with a column: ambiguous
    for i, (name, level) in enumerate(zip(names, levels, strict=True)):
        out.insert(i, name, level.to_numpy() if not dated[i] else level)
    if say:
        holds = "dates" if len(names) == 1 else f"dates ({names[dated.index(True)]!r}) and more"
        warnings.warn(
            f"{source}: the row index holds {holds}: read as column(s) "
            f"{', '.join(map(repr, names))}",
            stacklevel=3,
        )
    return out


def _free(name: str, taken: set[str]) -> str:
    """``name``, or ``index_<name>`` (``index_<name>_2``, ...) where a column has it."""
    if name not in taken:
        return name
    candidate, n = f"index_{name}", 2
    while candidate in taken:
        candidate, n = f"index_{name}_{n}", n + 1
    return candidate
