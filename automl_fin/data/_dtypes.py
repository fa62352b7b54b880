"""Columns of pandas types no model here takes, read as values of the types they do.

A DataFrame handed to :func:`automl_fin.search`, a predictor or the estimators may hold
what a CSV never does: ``Period`` and ``Interval`` values, durations, Arrow-backed columns
(``pd.read_parquet(dtype_backend="pyarrow")``, Polars' ``to_pandas``), the ``string``
dtype whose missing value is ``pd.NA``, bytes, cells of mixed types (``1``, ``"x"``,
``2.5``), lists and records. Each column is read the same way at training and on new
rows (:func:`plain_dtypes`), so a predictor gets what its models were fitted on (what
changes meaning is said at training, :data:`SAID`):

- a period is the time it starts (``2020Q1`` is 2020-01-01), an Arrow timestamp or date
  a pandas one, an Arrow string or dictionary column text;
- an interval is text (``(0, 1]``), as an interval category is;
- a duration is a number of days (1 day 12 hours is 1.5), a time of day a number of
  hours since midnight (09:30 is 9.5), number objects whose text is no number
  (``Fraction(1, 3)``) floats;
- bytes are text (UTF-8), and a column of mixed types (or of values of another type:
  ``UUID``) is text, each distinct value a category;
- complex numbers, lists and records are refused, naming the column and what to do.

Numbers, booleans, dates, text and categories pass untouched (the nullable ``Int64`` /
``boolean`` / Arrow numbers are read as floats by :func:`~automl_fin.data._tidy.tidy`).
"""

from __future__ import annotations

import datetime as dt
import decimal
import json
import math
import numbers
import warnings
from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd
from pandas.api import types as ptypes

from automl_fin.errors import DataError

__all__ = [
    "CLOCK",
    "DURATION",
    "NUMERIC_SHARE",
    "SAID",
    "nested",
    "plain_dtypes",
    "values_as_text",
    "written_as",
]

_NESTED = (list, tuple, dict, set, frozenset, np.ndarray)
_DATES = (dt.date, np.datetime64)  # datetime.datetime and pd.Timestamp are dates too
_PLAIN = (int, float, decimal.Decimal, np.number)  # numbers whose text reads as one
# a time of day and a duration as text (``to_csv`` writes ``datetime.time`` and
# ``Timedelta`` so): read as the hours and days their objects are
CLOCK = r"(?:[01]?\d|2[0-3]):[0-5]\d(?::[0-5]\d(?:\.\d+)?)?"
DURATION = r"-?\d+ days?(?: [+-]?\d{1,2}:[0-5]\d:[0-5]\d(?:\.\d+)?)?"
NUMERIC_SHARE = 0.95  # share of a text column's values that are numbers: then it is numeric
_DAY = pd.Timedelta(days=1)


def values_as_text(col: pd.Series, *, whole: bool = True) -> pd.Series:
    """``col``'s values as text (``str`` dtype), missing values kept missing, bytes as
    UTF-8 text: how a categorical column is read at training and on new rows alike.
    ``whole``: floats that are whole numbers are written as integers: codes (``5411``)
    read from a file with a blank cell are floats, and ``5411.0`` was an unknown
    category (a predictor saved before this reading passes ``False``: it may have learnt
    ``5411.0``)."""
    dtype = col.dtype
    values = dtype.categories if isinstance(dtype, pd.CategoricalDtype) else col
    ints = False
    if whole and isinstance(values.dtype, np.dtype) and values.dtype.kind == "f":  # not Arrow's
        finite = values[np.isfinite(values)]
        ints = bool(len(finite)) and bool((finite == np.round(finite)).all())
        ints = ints and float(np.abs(finite).max()) < 2**53

    def text(v: Any) -> Any:
        if _missing(v):
            return v
        if ints and isinstance(v, float) and math.isfinite(v):  # (inf stays "inf")
            v = int(v)
        return _text(v)

    return col.map(text).astype("str")


def nested(col: pd.Series) -> bool:
    """True when the column holds lists, arrays or records (nested Parquet, JSON)."""
    dtype = col.dtype
    if isinstance(dtype, pd.ArrowDtype):
        return dtype.pyarrow_dtype.num_fields > 0  # list, struct, map
    return ptypes.is_object_dtype(dtype) and any(issubclass(t, _NESTED) for t in _types(col))


def plain_dtypes(
    frame: pd.DataFrame, source: str, *, columns: Iterable[Any] | None = None, say: bool = True
) -> pd.DataFrame:
    """``frame`` (a shallow copy where anything changes) with ``columns`` (default: all)
    read as above; ``say``: warn of the changes a user should know of (at training, not
    again on every prediction). Raises :class:`DataError` for a column no reading fits."""
    out = frame
    said: dict[str, list[str]] = {kind: [] for kind in SAID}
    wanted = None if columns is None else set(columns)
    lists: list[str] = []  # columns of lists or records: all named in one refusal
    for name, dtype in frame.dtypes.items():  # items(): a 10,000-column table in ~5 ms
        if _plain(dtype) or (wanted is not None and name not in wanted):
            continue
        try:
            read = _read(frame[name], dtype, str(name), source)
        except _Nested:
            lists.append(str(name))
            continue
        if read is None:
            continue
        values, what = read
        out = out if out is not frame else frame.copy(deep=False)
        out[name] = values
        if what:
            kind, _, shown = what.partition(":")
            said[kind].append(f"{name!r}{shown}")
            if kind in ("clock", "duration"):  # how its numbers were written, for new rows
                out.attrs[WRITTEN] = {**out.attrs.get(WRITTEN, {}), str(name): kind}
    if len(lists) == 1:
        raise _nested(lists[0], source)
    if lists:  # (one a run: a table of two such columns took two runs to be told)
        named = ", ".join(map(repr, lists))
        raise DataError(
            f"{source}: column(s) {named} hold lists or records, not values; flatten each into "
            f"one column per field, or leave them out (data.drop: {json.dumps(lists)})"
        )
    if say:
        for kind, how in SAID.items():
            if said[kind]:
                warnings.warn(f"{source}: column(s) {', '.join(said[kind])} {how}", stacklevel=3)
    return out


WRITTEN = "written"  # a read frame's attrs key: column -> how its numbers were written

SAID = {
    "duration": "hold durations: read as numbers of days",
    "clock": "hold times of day: read as hours since midnight (09:30 is 9.5)",
    "text": "hold values that are not all numbers, text or dates: read as text, each "
    "distinct value a category",
}


def written_as(text: pd.Series) -> str | None:
    """``"clock"`` or ``"duration"`` where the first 50 values are written as times of
    day or durations (:data:`CLOCK`, :data:`DURATION`), else None: what to say of a
    text column read as numbers."""
    sample = text.head(50).astype("str").str.strip()
    for kind, pattern in (("clock", CLOCK), ("duration", DURATION)):
        if len(sample) and sample.str.fullmatch(pattern).all():
            return kind
    return None


def _plain(dtype: Any) -> bool:
    """Whether a column of ``dtype`` needs no reading here (checked per column: fast)."""
    if isinstance(dtype, np.dtype):
        return dtype.kind in "biufM"  # not durations, complex numbers, objects
    if isinstance(dtype, pd.ArrowDtype):
        return False
    if isinstance(dtype, pd.StringDtype):
        return dtype.na_value is not pd.NA  # pandas' `str`: missing is NaN already
    return not isinstance(dtype, (pd.PeriodDtype, pd.IntervalDtype))


def _read(col: pd.Series, dtype: Any, name: str, source: str) -> tuple[pd.Series, str] | None:
    """``col`` read as a plain type and what to say of it (a key of :data:`SAID`, with
    what to show after the column's name: ``text: (int, str)``), or None where it is
    one already."""
    if isinstance(dtype, pd.ArrowDtype):  # first: pandas' type checks raise on some
        return _arrow_values(col, dtype, name, source)
    if ptypes.is_complex_dtype(dtype):
        raise _complex(name, source)
    if isinstance(dtype, pd.PeriodDtype):
        return col.dt.to_timestamp(), ""
    if isinstance(dtype, pd.IntervalDtype):
        return values_as_text(col), ""
    if ptypes.is_timedelta64_dtype(dtype):
        return col / _DAY, "duration"
    if isinstance(dtype, pd.StringDtype):
        return col.astype("str"), ""
    if not ptypes.is_object_dtype(dtype):
        return None
    types = _types(col)
    if any(issubclass(t, _NESTED) for t in types):
        raise _nested(name, source)
    if any(issubclass(t, complex) for t in types):
        raise _complex(name, source)
    if types and all(issubclass(t, dt.time) for t in types):
        return _hours(col), "clock"
    if _one_kind(types):
        if any(issubclass(t, numbers.Number) and not issubclass(t, _PLAIN) for t in types):
            return pd.Series(col.to_numpy(dtype=float, na_value=np.nan), index=col.index), ""
        return None  # fractions (1/3) above: their text is no number
    text = values_as_text(col)
    if all(issubclass(t, (bytes, bytearray, str)) for t in types):
        return text, ""  # bytes: UTF-8 text
    if pd.to_numeric(text, errors="coerce").notna().sum() >= NUMERIC_SHARE * col.notna().sum():
        return text, ""  # numbers and a few words ("n/a"): tidy reads them as numbers, said
    return text, f"text: ({', '.join(sorted(t.__name__ for t in types))})"


def _hours(col: pd.Series) -> pd.Series:
    """Times of day (``datetime.time``) as hours since midnight (09:30 is 9.5)."""
    return col.map(
        lambda t: (
            t.hour + t.minute / 60 + (t.second + t.microsecond / 1e6) / 3600
            if isinstance(t, dt.time)
            else np.nan
        )
    ).astype(float)


def _arrow_values(
    col: pd.Series, dtype: pd.ArrowDtype, name: str, source: str
) -> tuple[pd.Series, str]:
    """An Arrow-backed column as its pandas equivalent (numbers and booleans nullable,
    as pandas' ``Int64`` / ``boolean``: a target keeps its labels). Told apart by
    pyarrow's own type tests: pandas' raise on some Arrow types (DuckDB's INTERVAL)."""
    from pyarrow import types as pat

    kind = dtype.pyarrow_dtype
    if nested(col):
        raise _nested(name, source)
    if pat.is_boolean(kind):
        return col.astype("boolean"), ""
    if pat.is_signed_integer(kind):
        return col.astype("Int64"), ""
    if pat.is_unsigned_integer(kind):
        return col.astype("UInt64"), ""
    if pat.is_floating(kind) or pat.is_decimal(kind):
        return pd.Series(col.to_numpy(dtype=float, na_value=np.nan), index=col.index), ""
    if pat.is_timestamp(kind) or pat.is_date(kind):
        return pd.to_datetime(col), ""
    if pat.is_duration(kind):
        return col.astype(dtype.numpy_dtype) / _DAY, "duration"
    if pat.is_time(kind):
        return _hours(col.astype(object)), "clock"
    if (
        pat.is_string(kind)
        or pat.is_large_string(kind)
        or (pat.is_dictionary(kind) and pat.is_string(kind.value_type))
    ):
        return col.astype("str"), ""  # one cast: value by value took 0.6 s a million
    return values_as_text(col), ""  # bytes (binary), dictionaries of numbers, the rest


def _one_kind(types: set[type]) -> bool:
    """Whether an object column's value types are one kind a reader here takes: text,
    numbers (``Decimal`` too), booleans or dates."""
    if all(issubclass(t, str) for t in types):  # numpy's str_ too; no values: nothing to read
        return True
    if all(issubclass(t, (bool, np.bool_)) for t in types):
        return True
    if all(issubclass(t, numbers.Number) and not issubclass(t, (bool, np.bool_)) for t in types):
        return True
    return all(issubclass(t, _DATES) for t in types)


def _types(col: pd.Series) -> set[type]:
    """The types of ``col``'s present values (one pass over the array, no per-value
    ``pd.isna``: a million values in ~0.05 s)."""
    values = col.to_numpy()
    present = values[col.notna().to_numpy()]
    return set(map(type, present))


def _missing(value: Any) -> bool:
    return not isinstance(value, _NESTED) and bool(pd.isna(value))


def _text(value: Any) -> str:
    if isinstance(value, (bytes, bytearray)):
        return bytes(value).decode("utf-8", errors="replace")
    return str(value)


def _complex(name: str, source: str) -> DataError:
    return DataError(
        f"{source}: column '{name}' holds complex numbers, which no model takes; give its "
        "real and imaginary parts (or modulus and angle) as two columns, or leave it out "
        f"(data.drop: [{json.dumps(name)}])"
    )


class _Nested(DataError):
    """A column of lists or records (:func:`plain_dtypes` names them all)."""


def _nested(name: str, source: str) -> DataError:
    return _Nested(
        f"{source}: column '{name}' holds lists or records, not values; flatten it into one "
        f"column per field, or leave it out (data.drop: [{json.dumps(name)}])"
    )
