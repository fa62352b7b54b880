"""Rows a predictor learnt from, recognised among the rows it is evaluated on.

Scored on its own training rows a predictor looks far better than it is (a LightGBM bag
on AER CreditCard: ROC AUC 1.000 on its 1,000 training rows), and nothing said so. A
saved predictor keeps one 64-bit hash of each training row (``training_rows.npy``: 8
bytes a row); :func:`seen` counts the evaluated rows whose hash is among them, and
:meth:`Predictor.evaluate` warns with the count. A row is hashed on its feature values
as the predictor reads them (numbers as floats, everything else as text), so the same
row read from a CSV file again is recognised; a row with any value changed is not. On a
table whose rows repeat one another (a few categorical columns), new rows match training
rows too: the warning is given only beyond twice the training rows' own share of
repeats, plus 5 %.

A price predictor keeps the names of the series it learnt from (``training.series``);
:func:`warn_new_series` names the ones it is asked to forecast that it never saw.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np
import pandas as pd

from automl_fin.data._dates import is_periods, to_datetime

__all__ = [
    "FILE",
    "SERIES_KEPT",
    "SeenWarning",
    "many_seen",
    "naive_times",
    "repeated_share",
    "row_hashes",
    "seen",
    "series_names",
    "stamp_text",
    "time_bound",
    "time_stamp",
    "warn_new_series",
    "warn_seen",
    "written_as",
]

FILE = "training_rows.npy"
SERIES_KEPT = 10_000  # a manifest names at most this many series


class SeenWarning(UserWarning):
    """Rows being evaluated are rows the predictor was trained on."""


def row_hashes(X: pd.DataFrame) -> np.ndarray:
    """One sorted-ready uint64 hash per row of ``X`` (its index left out)."""
    plain = {}
    for name in X.columns:
        col = X[name].reset_index(drop=True)
        if pd.api.types.is_numeric_dtype(col):  # booleans as 0.0 / 1.0, as new rows read
            plain[str(name)] = pd.to_numeric(col, errors="coerce").astype("float64")
        else:
            plain[str(name)] = col.astype("object").where(col.notna(), None).astype(str)
    frame = pd.DataFrame(plain)
    return pd.util.hash_pandas_object(frame, index=False).to_numpy(dtype=np.uint64)


def seen(known: np.ndarray, X: pd.DataFrame) -> int:
    """How many rows of ``X`` are among the training rows hashed in ``known``."""
    return int(np.isin(row_hashes(X), known, assume_unique=False).sum())


def repeated_share(manifest: dict[str, Any]) -> float:
    """The share of a predictor's training rows whose features repeat another's (from
    its ``manifest``; 0 where not said)."""
    return float((manifest.get("training") or {}).get("repeated_rows", 0.0))


def many_seen(count: int, rows: int, repeated: float) -> bool:
    """Whether ``count`` of ``rows`` matching training rows are more than chance: beyond
    twice the share ``repeated`` of training rows that repeat another's features, plus
    5 % (new rows of such a table match training rows too)."""
    return count > (2 * repeated + 0.05) * rows


def warn_seen(count: int, rows: int, source: str, what: str, repeated: float | None = None) -> None:
    """Warn that ``count`` of ``rows`` evaluated rows were trained on, when there are
    any; given the share ``repeated`` of training rows that repeat another's features,
    only where :func:`many_seen`."""
    if count and (repeated is None or many_seen(count, rows, repeated)):
        warnings.warn(
            f"{source}: {count} of the {rows} rows ({count / rows:.0%}) {what}: their "
            "scores are optimistic, not an estimate of new rows; evaluate on rows the "
            "predictor never saw",
            SeenWarning,
            stacklevel=4,
        )


def stamp_text(stamp: Any) -> str:
    """A stored time stamp (:func:`time_stamp`) as said in a line: a date without its
    clock where it has none (a quarterly series' "up to 2001-01-01T00:00:00")."""
    return str(stamp).removesuffix("T00:00:00")


def naive_times(times: Any) -> pd.Index:
    """``times`` without a time zone (the time written in them where they had one, as
    training read them): comparable with the ISO stamp of a predictor's last training
    origin whatever the table wrote; period numbers (a time axis of numbers) as they are."""
    series = pd.Series(times)
    if is_periods(series):
        return pd.Index(series.to_numpy())
    return pd.DatetimeIndex(to_datetime(series))


def time_stamp(value: Any) -> str | float:
    """A time of :func:`naive_times` as a manifest keeps it: an ISO stamp, or the
    period number (a whole one as an int)."""
    if not is_periods(pd.Series([value])):
        return pd.Timestamp(value).isoformat()
    number = float(value)
    return int(number) if number.is_integer() else number


def time_bound(stamp: str | float) -> Any:
    """The inverse of :func:`time_stamp`, comparable with :func:`naive_times`."""
    return stamp if isinstance(stamp, int | float) else pd.Timestamp(stamp)


def series_names(values: Any) -> list[str] | None:
    """The sorted distinct series names of ``values`` as a manifest keeps them;
    ``None`` beyond :data:`SERIES_KEPT` of them."""
    names = sorted(pd.Series(values).dropna().astype(str).unique().tolist())
    return names if len(names) <= SERIES_KEPT else None


def written_as(known: Iterable[Any]) -> Callable[[object], str | None]:
    """A lookup of how training wrote a value that differs from one of ``known`` only in
    case, outer spaces and a number's leading zeros (``'msft'`` -> ``'MSFT'``, ``'25'`` ->
    ``'025'``); None for a value written no such way or alike to two."""

    def key(value: object) -> str:
        text = str(value).strip().casefold()
        return text.lstrip("0") or "0" if text.isdigit() else text

    keys: dict[str, list[str]] = {}
    for value in known:
        keys.setdefault(key(value), []).append(str(value))

    def lookup(value: object) -> str | None:
        like = keys.get(key(value), [])
        return like[0] if len(like) == 1 and like[0] != str(value) else None

    return lookup


def warn_new_series(known: list[str] | None, values: pd.Series, source: str, entity: str) -> None:
    """Warn about the series of ``values`` (one name per forecast) that are not among
    the ``known`` series the predictor was trained on (nothing when it kept none), with
    the training spelling of a name that differs only in case or outer spaces."""
    if not known:
        return
    names = values.dropna().astype(str)
    new = sorted(set(names) - set(known))
    if not new:
        return
    like = written_as(known)
    named = [f"{n!r}" + (f" (training wrote {w!r})" if (w := like(n)) else "") for n in new[:5]]
    shown = ", ".join(named) + (f" and {len(new) - 5} more" if len(new) > 5 else "")
    warnings.warn(
        f"{source}: {len(new)} of the {names.nunique()} series of '{entity}' had no row in "
        f"training ({shown}); each is forecast as a series the model does not know, from "
        "its own window and what it learnt of the others; train on it to forecast it as "
        "one of its own",
        stacklevel=4,
    )
