"""Dates written as text, read with one format per column.

``pd.to_datetime(..., format="mixed")`` reads every value on its own: in a column of
day-first dates it reads ``27/10/2019`` as 27 October but ``05/03/2019`` as 3 May, so
every date whose day is 12 or less silently gets the wrong month. :func:`parse_dates`
reads a column with the one format that reads the most of it (the formats pandas
guesses from its values, month first and day first, and a few common ones pandas does
not guess), so a column is read alike from its first row to its last, in the search and
on new rows (a fitted step keeps the format it found). Only a column that no single
format reads (95 % of its values) is read value by value.
"""

from __future__ import annotations

import warnings
from typing import Any

import pandas as pd
from pandas.tseries.api import guess_datetime_format

__all__ = ["MIXED", "date_format", "parse_dates", "to_datetime"]

MIXED = "mixed"  # pandas' value-by-value parsing: no single format reads the column
SAMPLE = 500  # distinct values a format is tried on
GUESSED_FROM = 20  # distinct values whose formats pandas is asked to guess
READS = 0.95  # share of the sample a format must read to be the column's
# formats pandas does not guess (two-digit years; months without a day: `Jan 1980`,
# pmdarima's wineind) or that read mixed precision (ISO 8601: dates with and without a
# time of day)
COMMON = (
    "%Y-%m-%d", "ISO8601", "%m/%d/%y", "%d/%m/%y", "%d.%m.%y", "%d-%m-%y", "%Y%m%d",
    "%b %Y", "%B %Y", "%b-%y", "%Y-%m", "%m/%Y",
)  # fmt: skip


def to_datetime(values: Any, **options: Any) -> Any:
    """``pd.to_datetime(values, **options)``; text with several UTC offsets (a US
    exchange's dates exported with their zone: ``-05:00`` in winter, ``-04:00`` in
    summer), which pandas refuses even with ``errors="coerce"``, read as the instants
    they are, in UTC without a zone (``1986-03-13 00:00:00-05:00`` is 05:00)."""
    try:
        return pd.to_datetime(values, **options)
    except ValueError as exc:
        if "Mixed timezones" not in str(exc) and "mixed time zones" not in str(exc).lower():
            raise
    stamps = pd.to_datetime(values, utc=True, **options)
    return (
        stamps.tz_convert(None)
        if isinstance(stamps, pd.DatetimeIndex)
        else (stamps.dt.tz_convert(None) if isinstance(stamps, pd.Series) else stamps)
    )


def date_format(values: Any) -> str:
    """The format (``strftime`` codes) that reads the most of ``values`` (text), ties to
    the month-first one (pandas' own reading); :data:`MIXED` when none reads 95 % of
    them. Values that are already dates, and empty columns, give :data:`MIXED`."""
    text = pd.Series(values).dropna()
    if text.empty or not pd.api.types.is_string_dtype(text):
        return MIXED
    sample = pd.Series(text.astype(str).str.strip().unique()[:SAMPLE])
    candidates: list[str] = []
    for value in sample[:GUESSED_FROM]:
        for dayfirst in (False, True):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                found = guess_datetime_format(value, dayfirst=dayfirst)
            if found and found not in candidates:
                candidates.append(found)
    candidates += [c for c in COMMON if c not in candidates]
    best, share = MIXED, 0.0
    for fmt in candidates:
        read = float(to_datetime(sample, format=fmt, errors="coerce").notna().mean())
        if read > share:
            best, share = fmt, read
    return best if share >= READS else MIXED


def parse_dates(values: Any, fmt: str | None = None) -> pd.Series:
    """``values`` as dates, read with ``fmt`` (default: :func:`date_format` of the
    values themselves); the few it cannot read (a time of day in some rows, new rows
    written another way) are read value by value, and those still unreadable become
    ``NaT``. Values that are already dates are returned as they are."""
    series = pd.Series(values)
    if pd.api.types.is_datetime64_any_dtype(series):
        return series
    fmt = fmt or date_format(series)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "could not infer format": MIXED is on purpose
        text = series.where(series.isna(), series.astype(str).str.strip())
        stamps = to_datetime(text, errors="coerce", format=fmt)
        other = stamps.isna() & text.notna()
        if fmt != MIXED and other.any():  # ISO 8601, else in the column's day-month order
            stamps[other] = to_datetime(text[other], errors="coerce", format="ISO8601")
            other = stamps.isna() & text.notna()
            dayfirst = -1 < fmt.find("%d") < fmt.find("%m")
            stamps[other] = to_datetime(
                text[other], errors="coerce", format=MIXED, dayfirst=dayfirst
            )
        return stamps
