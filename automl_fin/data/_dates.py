"""Dates written as text, read with one format per column.

``pd.to_datetime(..., format="mixed")`` reads every value on its own: in a column of
day-first dates it reads ``27/10/2019`` as 27 October but ``05/03/2019`` as 3 May, so
every date whose day is 12 or less silently gets the wrong month. :func:`parse_dates`
reads a column with the one format that reads the most of it (the formats pandas
guesses from its values, month first and day first, and a few common ones pandas does
not guess), so a column is read alike from its first row to its last, in the search and
on new rows (a fitted step keeps the format it found). Only a column that no single
format reads (95 % of its values) is read value by value.

Whole numbers are dates only when all of them write one in the digits of one format
(:func:`numeric_dates`: ``19750103``, Ecdat's ``800102``, a year ``1990``), or count
time from an epoch: Unix time in seconds, milliseconds, micro- or nanoseconds, from
1980 to 2100 (a market-data or crypto exchange's export), and, in a column named for
dates, a spreadsheet's day numbers (Excel's ``41290`` for 16 January 2013, saved
without a date format). A time column of other numbers (``1, 2, ... 1860``, an R
series' ``1991.496``) is a time axis of period numbers (:func:`read_times`): rows are
ordered and validated walk-forward by them, and no calendar is read from them
(before, ``1000 ... 1860`` were read as the years 1000 to 1860 and ``1 ... 999``
refused, in one column).
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd
from pandas.tseries.api import guess_datetime_format

__all__ = [
    "MIXED",
    "date_format",
    "dates_written_as",
    "is_periods",
    "numeric_dates",
    "parse_dates",
    "read_times",
    "to_datetime",
    "written_clock",
]

MIXED = "mixed"  # pandas' value-by-value parsing: no single format reads the column
SAMPLE = 500  # distinct values a format is tried on
GUESSED_FROM = 20  # distinct values whose formats pandas is asked to guess
READS = 0.95  # share of the sample a format must read to be the column's
# whole numbers that write dates, by their number of digits
DIGIT_DATES = {8: ("%Y%m%d",), 6: ("%y%m%d", "%Y%m"), 4: ("%Y",)}
DIGIT_YEARS = (1800, 2100)  # the years a four-digit year of these digits may write
# numbers that count time from an epoch, read as dates where all of them fall from 1980
# to 2100 in one unit: Unix time (UTC) in seconds ... nanoseconds (the ranges do not
# meet: 3.2e8 to 4.1e9 s, 3.2e11 to 4.1e12 ms, ...); and spreadsheet day numbers
# (Excel's and LibreOffice's, day 1 = 31 December 1899) in a column named for dates
EPOCH_FROM, EPOCH_TO = pd.Timestamp("1980-01-01"), pd.Timestamp("2100-01-01")
UNIX_UNITS = {"s": "seconds", "ms": "milliseconds", "us": "microseconds", "ns": "nanoseconds"}
SPREADSHEET_DAY_ZERO = pd.Timestamp("1899-12-30")
DATE_WORDS = ("date", "day")  # a column name that says it holds dates
# period notations no strftime format reads, each read as its period's first day: a
# quarter (`1990Q1`, R's yearqtr `1990 Q1`, Stata's `1990q1`, `1990-Q1`, `Q1 1990`) and a
# month as statistics offices write it (`1990M01`, `1990m1`); these names stand for
# them wherever a format goes (a fitted date step keeps them for new rows)
QUARTERS = "quarter"
MONTH_CODES = "month-code"
WEEKS = "iso-week"  # `1991 W06`, `1991-W06` (fpp3's tsibble yearweek): the week's Monday
NOTATIONS = {
    QUARTERS: r"(?:(\d{4})\s*[-/ ]?\s*[Qq]([1-4])|[Qq]([1-4])\s*[-/ ]?\s*(\d{4}))",
    MONTH_CODES: r"(\d{4})\s*[-/ ]?\s*[Mm](0?[1-9]|1[0-2])",
    WEEKS: r"(\d{4})\s*[-/ ]?\s*[Ww](0?[1-9]|[1-4]\d|5[0-3])",
}
# formats pandas does not guess (two-digit years; months without a day: `Jan 1980`,
# pmdarima's wineind) or that read mixed precision (ISO 8601: dates with and without a
# time of day)
COMMON = (
    "%Y-%m-%d", "ISO8601", "%m/%d/%y", "%d/%m/%y", "%d.%m.%y", "%d-%m-%y", "%Y%m%d",
    "%b %Y", "%B %Y", "%b-%y", "%b-%Y", "%Y-%m", "%m/%Y", QUARTERS, MONTH_CODES,
    # a day, a month's name, a two-digit year: Oracle's and Excel's 08-Jan-99
    "%d-%b-%y", "%d %b %y", "%d/%b/%y", "%d-%B-%y",
    *(BOUNDED := (
        # year first, as R's yearmonth writes it (fpp3's `1939 Jan`: a monthly series was
        # a category to auto, shuffled), and a month's number before its year; read as
        # dates only within DIGIT_YEARS (codes `07-5521` and ranges `1-1000` are no dates)
        "%Y %b", "%Y %B", "%Y-%b", "%Y%b", "%b. %Y", "%m-%Y", WEEKS,
    )),
)  # fmt: skip


def to_datetime(values: Any, **options: Any) -> Any:
    """``pd.to_datetime(values, **options)``, with dates that carry a UTC offset or a
    zone read as the time written in them (:func:`written_clock`): ``2013-01-16
    00:00:00+01:00`` is 16 January at midnight, not 23:00 on the 15th. Text with several
    offsets (a European exchange's export: ``+01:00`` in winter, ``+02:00`` in summer),
    which pandas refuses even with ``errors="coerce"``, is read the same way."""
    if options.get("format") in NOTATIONS:
        return _notation(values, options["format"])
    try:
        stamps = pd.to_datetime(values, **options)
    except ValueError as exc:
        if "Mixed timezones" not in str(exc) and "mixed time zones" not in str(exc).lower():
            raise
        return written_clock(pd.to_datetime(values, utc=True, **options), values)
    return written_clock(stamps)  # one zone: no offset to read back from the text


def _notation(values: Any, name: str) -> pd.Series:
    """``values`` written in the period notation ``name`` (:data:`NOTATIONS`) as the
    first day of each period; ``NaT`` where a value is not written so."""
    text = pd.Series(values).astype("str").str.strip()
    parts = text.str.extract(f"^{NOTATIONS[name]}$").astype(float)
    if name == QUARTERS:  # year first or quarter first
        year, month = parts[0].fillna(parts[3]), 3 * parts[1].fillna(parts[2]) - 2
    elif name == WEEKS:  # ISO 8601's week of its year (week 1 holds the first Thursday)
        written = parts[0].map("{:.0f}".format) + "-W" + parts[1].map("{:02.0f}".format)
        return pd.to_datetime(written + "-1", format="%G-W%V-%u", errors="coerce").set_axis(
            text.index
        )
    else:
        year, month = parts[0], parts[1]
    return pd.to_datetime(
        pd.DataFrame({"year": year, "month": month, "day": 1}), errors="coerce"
    ).set_axis(text.index)


def written_clock(stamps: Any, text: Any = None) -> Any:
    """Dates with a zone (``stamps``: a Series, an index or one value) as the time of day
    written in them, without the zone, so that a date keeps its calendar day east of UTC
    as west of it and a column reads alike whatever its offsets. ``stamps`` in UTC that
    pandas read from ``text`` of several offsets get each value's own offset back from
    its text. Where the written times would put two instants in another order, or make
    them equal (times of day across the hour a clock sets back), the column is read as
    the instants in UTC instead, so that time order and distinct rows hold. Dates
    without a zone are returned as they are."""
    if isinstance(stamps, pd.Timestamp):
        return stamps.tz_localize(None) if stamps.tz is not None else stamps
    series = stamps if isinstance(stamps, pd.Series) else pd.Series(stamps)
    if not isinstance(series.dtype, pd.DatetimeTZDtype):
        return stamps
    instants = series.dt.tz_convert("UTC").dt.tz_localize(None)
    if text is None or str(series.dt.tz) != "UTC":
        wall = series.dt.tz_localize(None)
    else:  # several offsets, read in UTC: each value's own, from its text
        wall = instants + _offsets(pd.Series(text).to_numpy())
    if not _same_order(instants.to_numpy(), wall.to_numpy()):
        wall = instants
    if isinstance(stamps, pd.Series):
        return wall
    return pd.DatetimeIndex(wall.to_numpy(), name=getattr(stamps, "name", None))


def _offsets(text: Any) -> pd.TimedeltaIndex:
    """The UTC offset written at the end of each value (``+01:00``, ``-0500``, ``Z``);
    zero where none is written or the value is not text."""
    parts = pd.Series(text, dtype="str").str.extract(r"([+-])(\d\d):?(\d\d)\s*$")
    minutes = parts[1].astype(float) * 60 + parts[2].astype(float)
    signed = minutes.where(parts[0] != "-", -minutes).fillna(0.0)
    return pd.to_timedelta(signed.to_numpy(), unit="min")


def _same_order(instants: Any, wall: Any) -> bool:
    """Whether ``wall`` orders the values as ``instants`` do and keeps distinct instants
    distinct (missing values aside)."""
    known = ~(pd.isna(instants) | pd.isna(wall))
    order = np.argsort(instants[known], kind="stable")
    a, w = instants[known][order], wall[known][order]
    steps_a, steps_w = np.diff(a), np.diff(w)
    zero = np.timedelta64(0, "ns")
    return bool(np.all((steps_w > zero) | ((steps_w == zero) & (steps_a == zero))))


def date_format(values: Any) -> str:
    """The format (``strftime`` codes) that reads the most of ``values`` (text); of
    several that read as many, the one whose dates are clearly the most regular (day-first
    ``01/11/2017`` of a monthly series), else the month-first one (pandas' own reading);
    :data:`MIXED` when none reads 95 % of them. Values that are already dates, and empty
    columns, give :data:`MIXED`."""
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
    best, share, tied = MIXED, 0.0, []
    for fmt in candidates:
        stamps = to_datetime(sample, format=fmt, errors="coerce")
        if fmt in BOUNDED:
            stamps = stamps.where(stamps.dt.year.between(*DIGIT_YEARS))
        read = float(stamps.notna().mean())
        if read > share:
            best, share, tied = fmt, read, [(fmt, stamps)]
        elif read == share and read > 0:
            tied.append((fmt, stamps))
    if share < READS:
        return MIXED
    # both the month-first and the day-first reading read every value (days 1 to 12):
    # the clearly more regular dates win (months a month apart), else the month-first
    # (a monthly series stamped 01/11/2017, 1 November, was read as 11 January: its
    # rows out of time order, its returns and folds made of them)
    irregular = _irregularity(tied[0][1].dropna())
    for fmt, stamps in tied[1:]:
        other = _irregularity(stamps.dropna())
        if other < 0.5 * irregular:
            best, irregular = fmt, other
    return best


def numeric_dates(values: Any) -> pd.Series | None:
    """Numbers that write dates, as dates (:func:`dates_written_as`), missing values
    kept missing; ``None`` when they are not all such dates (period numbers: ``1, 2,
    3``, ``1991.496``) or hold no value."""
    found = dates_written_as(values)
    return None if found is None else found[0]


def dates_written_as(values: Any) -> tuple[pd.Series, str] | None:
    """Numbers that write dates, as dates, and how they were written: all of them
    whole numbers of one length that :data:`DIGIT_DATES` reads (``19750103``;
    ``800102``; ``199001``, January 1990; ``1990``, the first of January); else all of
    them Unix time in one unit from 1980 to 2100 (:data:`UNIX_UNITS`; read in UTC);
    else, where ``values`` is a Series named for dates (:data:`DATE_WORDS`), all of them
    spreadsheet day numbers of those years (``41290``; a fraction is the time of day).
    ``None`` when they are not all such dates or hold no value."""
    series = pd.Series(values)
    if not is_periods(series):
        return None
    numbers = pd.to_numeric(series, errors="coerce").astype(float)
    known = numbers.dropna()
    if known.empty or not np.all(np.isfinite(known)):
        return None
    read = _digit_dates(known)
    if read is None:
        read = _counted_dates(known, str(series.name or ""))
    if read is None:
        return None
    stamps, how = read
    out = pd.Series(pd.NaT, index=series.index, dtype=stamps.dtype, name=series.name)
    out[known.index] = stamps
    return out, how


def _digit_dates(known: pd.Series) -> tuple[pd.Series, str] | None:
    """``known`` (no missing value) as the dates their digits write, or ``None``. Six
    digits are a day (``800102``, yymmdd) or a month (``199001``, yyyymm: Fama-French's
    and CRSP's monthly files); where both read every value (the months of 2001 to 2012:
    ``200101`` is also 1 January 2020) the reading whose steps between dates are the
    clearly more regular wins (months a month apart, not days a day apart with a jump
    at each "month"), else the day."""
    if not np.all(known == np.floor(known)) or (known < 0).any():
        return None
    text = known.astype(np.int64).astype(str)
    lengths = text.str.len().unique()
    if len(lengths) != 1 or int(lengths[0]) not in DIGIT_DATES:
        return None
    found: list[tuple[float, pd.Series, str]] = []
    for fmt in DIGIT_DATES[int(lengths[0])]:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            read = pd.to_datetime(text, format=fmt, errors="coerce")
        if read.isna().any() or ("%Y" in fmt and not read.dt.year.between(*DIGIT_YEARS).all()):
            continue
        found.append((_irregularity(read), read, f"digits of {fmt}"))
    if not found:
        return None
    best = found[0]  # another reading only where it is clearly the more regular
    for other in found[1:]:
        if other[0] < 0.5 * best[0]:
            best = other
    return best[1], best[2]


def _irregularity(stamps: pd.Series) -> float:
    """How unequal the steps between the distinct dates are (their coefficient of
    variation; 0 for fewer than three dates)."""
    steps = np.diff(np.sort(stamps.unique())).astype("timedelta64[s]").astype(float)
    if len(steps) < 2 or steps.mean() == 0:
        return 0.0
    return float(steps.std() / steps.mean())


def _counted_dates(known: pd.Series, name: str) -> tuple[pd.Series, str] | None:
    """``known`` (no missing value) as Unix times or spreadsheet day numbers of the
    years :data:`EPOCH_FROM` to :data:`EPOCH_TO`, or ``None``."""
    low, high = float(known.min()), float(known.max())
    for unit, words in UNIX_UNITS.items():
        first, last = (t.value / pd.Timedelta(1, unit).value for t in (EPOCH_FROM, EPOCH_TO))
        if first <= low and high < last:
            stamps = pd.to_datetime(known, unit=unit).dt.round("us" if unit != "ns" else "ns")
            return stamps, f"Unix time in {words}, UTC"
    days = [(t - SPREADSHEET_DAY_ZERO) / pd.Timedelta(1, "D") for t in (EPOCH_FROM, EPOCH_TO)]
    named = any(word in name.casefold() for word in DATE_WORDS)
    if named and days[0] <= low and high < days[1]:
        stamps = pd.to_datetime(known, unit="D", origin=SPREADSHEET_DAY_ZERO).dt.round("s")
        return stamps, "spreadsheet day numbers, as Excel counts them"
    return None


def is_periods(values: Any) -> bool:
    """Whether a time column (or a time axis :func:`read_times` read) holds numbers
    (period numbers, or digits that still have to be read as dates), not dates."""
    dtype = pd.Series(values).dtype
    return pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype)


def read_times(values: Any) -> pd.Series:
    """A time column as a time axis: dates (:func:`parse_dates`; ``NaT`` where a value
    is not one), or, for a column of numbers, the numbers themselves: period numbers
    (``1, 2, 3``), which order the rows and carry no calendar. Numbers that write
    dates (:func:`numeric_dates`) are turned into dates once, when the table is
    settled, so that new rows are read as the training rows were."""
    series = pd.Series(values)
    if is_periods(series):
        return pd.to_numeric(series)
    return parse_dates(series)


def nanosecond_dates(stamps: pd.Series) -> pd.Series | None:
    """The dates ``stamps`` hold in their nanoseconds, where every one lies within a
    second of 1970-01-01 and those numbers write dates (:func:`numeric_dates`), else
    ``None``: arch's Fama-French loader stores its months ``192607`` so, and 92 years
    of months ran as a series spanning 1970-01-01 alone (its calendar left out)."""
    if isinstance(stamps.dtype, pd.DatetimeTZDtype):  # instants with a zone: real ones
        return None
    known = stamps.dropna()
    if known.empty or not known.between(EPOCH, EPOCH + pd.Timedelta(seconds=1)).all():
        return None
    nanos = pd.Series(stamps.to_numpy(dtype="datetime64[ns]").astype("int64"), index=stamps.index)
    found = numeric_dates(nanos.where(stamps.notna()))
    return None if found is None else found.rename(stamps.name)


EPOCH = pd.Timestamp("1970-01-01")


def parse_dates(values: Any, fmt: str | None = None) -> pd.Series:
    """``values`` as dates, read with ``fmt`` (default: :func:`date_format` of the
    values themselves); the few it cannot read (a time of day in some rows, new rows
    written another way) are read value by value, and those still unreadable become
    ``NaT``. Values that are already dates are returned as they are (dates with a zone
    as the time written in them, :func:`written_clock`); numbers are dates only where
    they all write one in their digits (:func:`numeric_dates`), else all ``NaT``."""
    series = pd.Series(values)
    if pd.api.types.is_datetime64_any_dtype(series):
        stamps = written_clock(series)
        found = nanosecond_dates(stamps)  # (said where the table is read: tidy)
        return stamps if found is None else found
    if fmt in (None, MIXED) and is_periods(series):  # a format of text reads no number
        found = numeric_dates(series)
        if found is None:  # not dates: none is read (1000 alone is no year among 1 ... 1860)
            found = pd.Series(pd.NaT, index=series.index, dtype="datetime64[ns]")
        return found.rename(series.name)
    fmt = fmt or date_format(series)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "could not infer format": MIXED is on purpose
        text = series.where(series.isna(), series.astype(str).str.strip())
        stamps = to_datetime(text, errors="coerce", format=fmt)
        other = stamps.isna() & text.notna()
        if fmt != MIXED and other.any():  # ISO 8601, else in the column's day-month order
            stamps[other] = to_datetime(text[other], errors="coerce", format="ISO8601")
            other = stamps.isna() & text.notna()
            # values written another way than the format (new rows of a predictor fitted
            # on ISO dates, written 05/02/2016 and 27/10/2016): their own format, where
            # one reads them, in their own day-month order (05/02 was read 2 May)
            own = date_format(text[other]) if other.sum() > 1 else MIXED
            if own != MIXED:
                stamps[other] = to_datetime(text[other], errors="coerce", format=own)
                other = stamps.isna() & text.notna()
            order = own if own != MIXED else fmt
            dayfirst = -1 < order.find("%d") < order.find("%m")
            stamps[other] = to_datetime(
                text[other], errors="coerce", format=MIXED, dayfirst=dayfirst
            )
        # a value without a digit is no date: read value by value, a month's name alone
        # ("JAN") was 1 January of the year 1
        stamps[text.notna() & ~text.astype(str).str.contains(r"\d", regex=True)] = pd.NaT
    found = nanosecond_dates(stamps)  # a frame of such dates written to CSV, as text
    if found is None:
        return stamps
    said = (
        f"dates{f' of {series.name!r}' if series.name is not None else ''} lie within a "
        f"second of 1970-01-01, their nanoseconds writing dates ({series.dropna().iloc[0]} "
        f"...): read as those dates ({found.min():%Y-%m-%d} to {found.max():%Y-%m-%d})"
    )
    if said not in _SAID:  # once a process (the column is read at each of its steps)
        _SAID.add(said)
        warnings.warn(said, stacklevel=2)
    return found


_SAID: set[str] = set()
