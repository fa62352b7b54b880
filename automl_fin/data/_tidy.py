"""Making a user's table sound before anything else reads it, and saying what changed.

- Infinite values in numeric columns are read as missing (no model takes them; every
  trial failed on "Input X contains infinity").
- A column of numbers with a few other values (``True``, a stray word: at least 95 %
  of its values are numbers) is numeric, those values missing; it was read as
  categorical, and models lost what it said. Missing markers (``n/a``, ``-``, ``?``, a
  spreadsheet's ``#DIV/0!``: :data:`MISSING_TOKENS`) are missing at any share.
  Numbers written with comma thousands separators or a leading currency sign
  (``5,850``, ``$42,000``) are numbers.
- Values so large that models which square or sum them overflow (above 1e100) are
  flagged, naming the column.
- Class labels of the target that differ only in surrounding spaces or letter case
  (``" Yes"``, ``"yes"``) are one class, spelt as most of its rows spell it.
- A DataFrame's shape is a table's (:mod:`automl_fin.data._shape`: names as text, dates
  in the row index as columns, prices by asset in rows). Pandas ``category`` columns
  pass as they are: the user stated their kind, and
  :func:`~automl_fin.data._table_facts.settle` reads them (digits stay codes).
- Columns of pandas types no model takes (periods, durations, Arrow columns, mixed
  types, ...) are read as :mod:`automl_fin.data._dtypes` says, as a predictor reads them.

Each change is one warning naming the source, the column and what was done.
"""

from __future__ import annotations

import numbers
import re
import warnings
from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd
from pandas.api import types as ptypes

from automl_fin.data._dates import nanosecond_dates
from automl_fin.data._dtypes import (
    CLOCK,
    DURATION,
    NUMERIC_SHARE,
    SAID,
    WRITTEN,
    plain_dtypes,
    written_as,
)
from automl_fin.data._shape import as_table

__all__ = [
    "MISSING_TOKENS",
    "as_labels",
    "code_named",
    "is_code",
    "is_marker",
    "name_words",
    "nullable_number",
    "numbers_in_text",
    "plain",
    "tidy",
    "with_column",
]

# a number written with thousands separators (comma, space, no-break space), a leading
# currency sign, a trailing percent sign (12.5% is 0.125) or brackets for a negative
# amount, as accounts write it ((1,234) is -1234)
_DIGITS = r"(?:\d{1,3}(?:[, \u00a0\u202f]\d{3})+|\d+)(?:\.\d+)?"
FORMATTED = rf"[-+]?[$€£¥]?{_DIGITS}(?: ?%)?|\([$€£¥]?{_DIGITS}\)"
# a number and a unit after it (70 kg, 543 m², 3.5 yrs): one unit in the whole column
UNITED = re.compile(r"(?P<number>[-+]?\d+(?:\.\d+)?) ?(?P<unit>[^\W\d_]{1,5}[²³]?)")
_MARKS = r"[,$€£¥%() \u00a0\u202f]"  # what a formatted number has and a plain one lacks
LONGEST_NUMBER = 40  # characters: a column whose values are longer holds no numbers
HUGE = 1e100  # values above this overflow squares and sums of squares
HUGE_TARGET = 1e150  # a target's errors squared and summed overflow past this
TINY_TARGET = 1e-150  # ... and vanish below this (every model, the baseline too, 0.000)
MISSING_TOKENS = frozenset(
    {"", "na", "n/a", "n.a.", "nan", "null", "none", "-", "--", "?", ".", "missing", "nil"}
    # a spreadsheet's errors where a formula found no value: missing, as #N/A is
    | {"#n/a", "#na", "#div/0!", "#value!", "#ref!", "#num!", "#name?", "#null!"}
)


def _say(source: str, text: str) -> None:
    warnings.warn(f"{source}: {text}", stacklevel=4)


def _shown(values: list[Any]) -> str:
    return ", ".join(map(repr, values[:3])) + (", ..." if len(values) > 3 else "")


# the last word of a column's name that says it holds codes, not quantities
CODE_WORDS = frozenset(
    {"code", "id", "key", "ticker", "symbol", "isin", "cusip", "sedol", "zip", "postcode",
     "zipcode", "branch", "account", "acct", "number", "no", "nr"}
)  # fmt: skip
CODE_SAMPLE = 2000  # values a code column is judged on


def name_words(name: object) -> list[str]:
    """The words of a column's name, lower case: ``loanID`` and ``loan_id`` are
    ``["loan", "id"]``, ``Customer-Key`` ``["customer", "key"]``, ``zip5`` ``["zip", "5"]``."""
    return [w.lower() for w in re.findall(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|\d+", str(name))]


def code_named(name: object) -> bool:
    """Whether column ``name``'s last word says it holds codes (:data:`CODE_WORDS`)."""
    words = [w for w in name_words(name) if w.isalpha()]
    return bool(words) and words[-1] in CODE_WORDS


def is_code(name: object, values: pd.Series) -> bool:
    """Whether column ``name`` holds codes written as digits with leading zeros, all of
    one width (``000001``, ZIP ``02134``), named as codes are (its last word: ``code``,
    ``id``, ``ticker``, ``zip`` ...): text, not numbers (read as numbers, a stock code
    ``000001`` came back from ``predict`` as ``1``, and two such series could be one)."""
    if not code_named(name):
        return False
    text = pd.Series(values.dropna().head(CODE_SAMPLE), dtype="str").str.strip()
    if text.empty or not text.str.fullmatch(r"[0-9]{3,}").all():
        return False
    return text.str.len().nunique() == 1 and bool(text.str.startswith("0").any())


def unit_of(text: pd.Series) -> str | None:
    """The one unit every value of ``text`` writes after its number (``70 kg``, ``543
    m²``): those columns were categories, one a distinct number, without a word; ``None``
    where a value has none, or the values more than one (``5 kg`` and ``3 lb`` are not
    one quantity)."""
    found = text.str.fullmatch(UNITED.pattern)
    if not len(text) or not found.all():
        return None
    units = text.str.extract(UNITED.pattern)["unit"].unique()
    return str(units[0]) if len(units) == 1 else None


def numbers_in_text(col: pd.Series, written: str | None = None) -> tuple[pd.Series, list[Any]]:
    """``col`` read as numbers (``5,850``, ``45 200``, ``$42,000.50``, ``12.5%`` as 0.125
    and ``(1,234)`` as -1234 too: see :data:`FORMATTED`; a time of day ``09:30`` as 9.5
    hours and a duration as pandas writes one, ``1 days 12:00:00``, as 1.5 days, as
    :mod:`~automl_fin.data._dtypes` reads their objects), and the distinct values that
    are not numbers (nor missing markers) and were read as missing. Each distinct value
    is read once (a million ``Yes``/``No`` took 2.0 s value by value).

    ``written``: how the column's training values were written, where new rows are read
    (a predictor's ``Schema.written``: a unit, ``"clock"``, ``"duration"``; ``""``: plain
    or formatted numbers): a value written otherwise is no number (``45k`` read as 45
    in a column of plain incomes, one row at a time, silently, a prober's find); a
    value in that unit is read whatever the other values are. ``None``: training,
    where each way is read where the whole column is written so."""
    codes, distinct = pd.factorize(col)  # missing values: code -1
    text = pd.Series(distinct, dtype=object).astype("str").str.strip()
    read = pd.to_numeric(text, errors="coerce")
    odd = read.isna()
    if odd.any():
        formatted = text[odd & text.str.fullmatch(FORMATTED)]
        if len(formatted):
            number = pd.to_numeric(formatted.str.replace(_MARKS, "", regex=True), errors="coerce")
            number = number.where(~formatted.str.startswith("("), -number)
            number = number.where(~formatted.str.endswith("%"), number / 100)
            read = read.where(~read.index.isin(formatted.index), number)
            odd = read.isna()
    # 70 kg: 70, in kg, where every value has that unit (a code 4A among codes 1 to 4 is
    # no 4 in amperes)
    unit = unit_of(text[odd]) if written is None and odd.all() else written
    if odd.any() and unit and unit not in ("clock", "duration"):
        united = text[odd].str.extract(UNITED.pattern)
        united = united[united["unit"] == unit]  # (new rows: only the unit training wrote)
        read = read.astype(float)
        read[united.index] = pd.to_numeric(united["number"], errors="coerce")
        odd = read.isna()
    if odd.any():  # times of day (09:30 is 9.5 hours) and durations (1 days 12:00:00: 1.5)
        clock = text[odd & text.str.fullmatch(CLOCK) & (written in (None, "clock"))]
        span = text[odd & text.str.fullmatch(DURATION) & (written in (None, "duration"))]
        if len(clock) or len(span):
            parts = clock.str.split(":", expand=True).astype(float).reindex(columns=[0, 1, 2])
            hours = parts[0] + parts[1] / 60 + parts[2].fillna(0) / 3600  # 09:30: no seconds
            days = pd.to_timedelta(span, errors="coerce") / pd.Timedelta(days=1)
            read = read.astype(float)
            read[hours.index], read[days.index] = hours, days
            odd = read.isna()
    strays = [v for v in distinct[odd.to_numpy()] if str(v).strip().lower() not in MISSING_TOKENS]
    if (codes >= 0).all() and not odd.any():  # integers stay integers
        return pd.Series(read.to_numpy()[codes], index=col.index), strays
    numbers = np.append(read.to_numpy(dtype=float, na_value=np.nan), np.nan)
    return pd.Series(numbers[codes], index=col.index), strays  # code -1: the NaN


SENTINELS = (-9, -99, -999, -9999, -99999, 99, 999, 9999, 99999, 999999)


def _sentinels(values: np.ndarray, names: list[Any], target: str | None) -> list[str]:
    """The columns of ``values`` (a block of numbers, rows by columns) whose least or
    greatest value is a code such as -999 or 9999 in 1 % of the rows or more (3 at
    least), ten times farther out than every other value: read as the number, a model
    learns it as one (a survey's -999 for "no answer" among incomes)."""
    if not len(values):
        return []
    found = []
    low, high = (
        np.nanmin(values, axis=0, initial=np.inf),
        np.nanmax(values, axis=0, initial=-np.inf),
    )
    for i in np.flatnonzero(np.isin(low, SENTINELS) | np.isin(high, SENTINELS)):
        if names[i] == target:
            continue
        col = values[:, i]
        for code in {low[i], high[i]} & set(SENTINELS):
            hits = col == code
            others = col[~hits & ~np.isnan(col)]
            far = others.size and (
                others.min() > code / 10 if code < 0 else others.max() < code / 10
            )
            if far and hits.sum() >= max(3, 0.01 * len(col)):
                found.append(f"{names[i]!r} ({int(hits.sum())} rows: {int(code)})")
    return found


def is_marker(col: pd.Series) -> np.ndarray:
    """Which values of ``col`` are missing markers at any share of a column of numbers
    (:data:`MISSING_TOKENS` but ``none``, which may be a count's zero or a category:
    ``reports`` of 0 written "none"), each distinct value read once."""
    codes, distinct = pd.factorize(col)
    marked = pd.Series(distinct, dtype=object).astype("str").str.strip().str.lower()
    return np.append(marked.isin(MISSING_TOKENS - {"none"}).to_numpy(), False)[codes]


def _number_objects(col: pd.Series) -> bool:
    """Whether ``col`` holds number objects, not text: ``decimal.Decimal`` as a
    database's NUMERIC columns (``pd.read_sql``) and Parquet's decimal columns arrive."""
    return bool(ptypes.is_object_dtype(col)) and all(
        isinstance(v, numbers.Number) for v in col.head(50)
    )


def _unread(text: pd.Series) -> bool:
    """Values that are numbers with a decimal comma (``45.200,00``, ``4,52``) or dates in
    several formats (half ``2013-06-07``, half ``07/06/2013``; ``May 26, 2018`` among
    them was a category without a word), which no reader here
    takes, so that each distinct value would be a category: 20 distinct values or more,
    nine in ten written so. A column of dates in one format is read as dates later."""
    from automl_fin.data._dataset import looks_like_datetime
    from automl_fin.data._dates import to_datetime

    sample = pd.Series(text.astype("str").str.strip().unique()[:500])
    if len(sample) < 20:
        return False
    comma = sample.str.fullmatch(r"[-+]?(?:\d{1,3}(?:\.\d{3})+|\d+),\d+").mean() >= 0.9
    if comma:
        return True
    # digits and separators only, or a year written whole among words (May 26, 2018):
    # text with numbers in it (10th, Jan 10, 10M) is no date to warn of
    dates = sample.str.fullmatch(r"[\d\s.:/-]+") | sample.str.contains(r"(?<!\d)\d{4}(?!\d)")
    if dates.mean() < 0.9:
        return False
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "could not infer format": value by value on purpose
        dated = to_datetime(sample, errors="coerce", format="mixed").notna().mean() >= 0.9
    return bool(dated) and not looks_like_datetime(sample)


def with_column(frame: pd.DataFrame, name: str, values: Any) -> pd.DataFrame:
    """A shallow copy of ``frame`` with column ``name`` set to ``values`` (not
    ``DataFrame.assign``, whose keyword arguments break on a column named ``self``)."""
    out = frame.copy(deep=False)
    out[name] = values
    return out


def tidy(
    frame: pd.DataFrame, source: str, target: str | None, skip: Iterable[str] = ()
) -> pd.DataFrame:
    """``frame`` with the changes above (a copy when anything changes), its columns of
    pandas types no model takes read as :func:`~automl_fin.data._dtypes.plain_dtypes`
    reads them; ``skip`` (the recipe's ``data.drop``: never shown to a model) as given."""
    frame = as_table(frame, source)
    left_out = set(skip)
    kept = [c for c in frame.columns if c not in left_out]
    frame = plain_dtypes(frame, source, columns=kept)
    out = frame
    inf, coerced, huge, written, unread, as_text, units = [], [], [], [], [], [], []
    sentinels: list[str] = []
    marked: list[str] = []
    ways = dict(frame.attrs.get(WRITTEN, {}))  # column -> how its numbers were written
    timed: dict[str, list[str]] = {}
    dtypes = frame.dtypes  # read once: a Series per column costs more than its check
    if left_out:
        dtypes = dtypes[[c not in left_out for c in dtypes.index]]
    numeric = [
        c for c, t in dtypes.items() if ptypes.is_numeric_dtype(t) and not ptypes.is_bool_dtype(t)
    ]
    done = set(numeric)
    # Parquet's Int64 / boolean / Float64 with <NA>: plain floats with NaN
    nullable = [c for c, t in dtypes.items() if c != target and nullable_number(t)]
    if nullable:
        out = frame.copy()
        for name in nullable:
            out[name] = frame[name].to_numpy(dtype=float, na_value=np.nan)
        done |= set(nullable)
    if numeric:  # one array for all numeric columns: a 10,000-column table in one pass
        values = frame[numeric].to_numpy(dtype=float, na_value=np.nan, copy=True)
        bad = np.isinf(values)
        counts = bad.sum(axis=0)
        values[bad] = np.nan
        largest = np.nanmax(np.abs(values), axis=0, initial=0.0)
        for i, name in enumerate(numeric):
            if counts[i]:
                inf.append(f"{name!r} ({int(counts[i])} rows)")
                out = out if out is not frame else frame.copy()
                out[name] = out[name].where(~bad[:, i])
            if name != target and largest[i] > HUGE:
                huge.append(f"{name!r} (up to {largest[i]:.3g})")
            elif name == target and (largest[i] > HUGE_TARGET or 0 < largest[i] < TINY_TARGET):
                _say(source, f"target '{name}' holds values of magnitude {largest[i]:.3g} at "
                     "most: squared errors overflow or vanish there, and every model would "
                     "score alike (inf, or 0); rescale it first (multiply by a power of "
                     "ten)")  # fmt: skip
        sentinels = _sentinels(values, numeric, target)
    for name, dtype in dtypes.items():
        if name in done or name == target:
            continue
        if ptypes.is_datetime64_any_dtype(dtype):
            found = nanosecond_dates(frame[name])
            if found is not None:  # (parse_dates reads them so too, at predict)
                out = out if out is not frame else frame.copy()
                out[name] = found
                first = int(frame[name].dropna().iloc[0].value)
                _say(source, f"column '{name}' holds dates within a second of 1970-01-01 whose "
                     f"nanoseconds write dates ({first} ...): read as those dates "
                     f"({found.min():%Y-%m-%d} to {found.max():%Y-%m-%d})")  # fmt: skip
            continue
        if not (ptypes.is_string_dtype(dtype) or ptypes.is_object_dtype(dtype)):
            continue
        col = frame[name]
        present = col.notna()
        if not present.any():
            continue
        if col[present].head(50).astype("str").str.len().median() > LONGEST_NUMBER:
            continue  # texts: no number (80,000-character reviews took 4 s to try)
        if is_code(name, col):
            continue  # codes with leading zeros (000001): text
        values, strays = numbers_in_text(col)
        # missing markers count for neither side: a column of numbers with 12 % "?"
        # was a category of each distinct number, unsaid
        counted = present & ~is_marker(col)
        share = values[counted].notna().mean() if counted.any() else 0.0
        if share < NUMERIC_SHARE:
            if _unread(col[present]):
                unread.append(f"{name!r} ({_shown(list(pd.unique(col[present])))})")
            continue
        out = out if out is not frame else frame.copy()
        out[name] = values
        odd = int((present & values.isna()).sum())
        if strays:
            coerced.append(f"{name!r} ({odd} rows: {_shown(strays)})")
            continue
        if odd:  # missing markers ("-", "n/a", "#DIV/0!"), any share of the column, also
            # beside amounts written "$1,234.00" (an accounting export's " - ": 24 % of
            # the rows made missing, unsaid)
            shown = _shown(list(pd.unique(col[present & values.isna()].astype("str"))))
            marked.append(f"{name!r} ({odd} row{'s' * (odd != 1)}: {shown})")
        if kind := written_as(col[present]):  # times of day, durations
            timed.setdefault(kind, []).append(repr(name))
            ways[str(name)] = kind
        elif unit := unit_of(pd.Series(pd.unique(col[present])).astype("str").str.strip()):
            units.append(f"{name!r} ({unit})")
            ways[str(name)] = unit
        elif col.astype("str").str.contains(_MARKS).any():
            written.append(repr(name))
        elif not odd and not _number_objects(col[present]):  # decimals (a database's
            as_text.append(repr(name))  # NUMERIC): numbers
    if inf:
        _say(source, f"infinite values in {', '.join(inf)} are read as missing")
    if numeric and sentinels:
        _say(
            source,
            f"column(s) {', '.join(sentinels)} hold a value far from all their others, as a "
            "code for a missing value is written: read as that number; blank it first where "
            "it means missing",
        )
    for kind, names in timed.items():
        _say(source, f"column(s) {', '.join(names)} {SAID[kind]}")
    if coerced:
        _say(
            source,
            f"column(s) {', '.join(coerced)} hold numbers with a few other values: read as "
            "numeric, those values as missing",
        )
    if marked:
        _say(
            source,
            f"column(s) {', '.join(marked)} hold numbers and missing markers: read as "
            "numeric, the markers as missing",
        )
    if as_text:
        _say(source, f"column(s) {', '.join(as_text)} hold numbers stored as text: read as numeric")
    if written:
        _say(
            source,
            f"column(s) {', '.join(written)} hold numbers written with thousands separators, "
            "a currency or percent sign or brackets (12.5% is 0.125, (1,234) is -1234): read "
            "as numeric",
        )
    if units:
        _say(
            source,
            f"column(s) {', '.join(units)} hold numbers written with a unit: read as the "
            "numbers, in that unit",
        )
    if unread:
        _say(
            source,
            f"column(s) {', '.join(unread)} hold numbers or dates in a form not read as such "
            "(a decimal comma, dates in several formats): each distinct value is a category; "
            "write them plainly first (45200.5; 2013-06-07)",
        )
    if huge:
        _say(
            source,
            f"column(s) {', '.join(huge)} hold values so large that models which square or "
            "sum them overflow; rescale them (e.g. a log) if such trials fail",
        )
    if target is not None and target in out.columns:
        labels = _one_spelling(out[target], source, target)
        if labels is not None:
            out = out if out is not frame else frame.copy()
            out[target] = labels
    if ways:  # (a copy: those columns were read anew) for the predictor's reading of new rows
        out.attrs[WRITTEN] = ways
    return out


def _one_spelling(y: pd.Series, source: str, target: str) -> pd.Series | None:
    """The target with labels that differ only in spaces or case made one, or None."""
    if not (ptypes.is_string_dtype(y) or ptypes.is_object_dtype(y)):
        return None
    labels = pd.Series(pd.unique(y.dropna()), dtype=object).astype("str")
    folded = labels.str.strip().str.casefold()
    if folded.nunique() == labels.nunique() and (labels.str.strip() == labels).all():
        return None  # decided on the distinct labels: a million rows' took 0.7 s
    text = y.dropna().astype("str")
    stripped = text.str.strip()
    keys = stripped.str.casefold()
    spelling = stripped.groupby(keys).agg(lambda s: s.value_counts().index[0])
    merged = sorted(
        {
            f"{', '.join(map(repr, sorted(g.unique())))} -> {spelling[k]!r}"
            for k, g in text.groupby(keys)
            if list(g.unique()) != [spelling[k]]  # 'yes ' alone is 'yes' too
        }
    )
    _say(
        source,
        f"target '{target}': labels are read without spaces around them, and labels that "
        "differ only in case are one class: " + "; ".join(merged),
    )
    return y.map(lambda v: v if pd.isna(v) else spelling[str(v).strip().casefold()])


def as_labels(col: pd.Series) -> pd.Series:
    """Values as text, a whole float written as an integer (``1.0`` -> ``1``): a column
    read with gaps (floats) and without (integers) gives the same labels, and so does a
    Categorical of numbers (its ``1.0`` was the text ``1.0``, a list's ``1``)."""
    if isinstance(col.dtype, pd.CategoricalDtype):
        numbers = col.cat.categories.dtype
        if pd.api.types.is_numeric_dtype(numbers) and not pd.api.types.is_bool_dtype(numbers):
            col = col.astype(numbers)
    if pd.api.types.is_numeric_dtype(col) and not pd.api.types.is_bool_dtype(col):
        values = col.astype(float)
        text = values.astype("string")
        whole = values.notna() & (values % 1 == 0)
        text[whole] = values[whole].astype("int64").astype("string")
        return text
    return col.astype("string")


def nullable_number(dtype: Any) -> bool:
    """A pandas nullable number or boolean dtype (``Int64``, ``Float64``, ``boolean``,
    Arrow's): its missing cells are ``pd.NA``, which no fitted imputer takes; read as
    floats with NaN wherever a model sees it."""
    return isinstance(dtype, pd.api.extensions.ExtensionDtype) and (
        ptypes.is_numeric_dtype(dtype) or ptypes.is_bool_dtype(dtype)
    )


def plain(value: Any) -> Any:
    """A numpy scalar as the Python value it holds (``5.0``, not ``np.float64(5.0)``)."""
    return value.item() if isinstance(value, np.generic) else value
