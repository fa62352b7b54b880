"""A time written across columns (``year``, ``month``, ``day``) read as one date column.

Statistics offices and many exported tables keep a monthly or quarterly series as
``year, month, value`` or ``year, quarter, value``, and a daily one as ``year, month,
day, value``: no column holds a date, and the price recipe refused the table ("which
column is the time?"). ``data.series.time_parts`` names those columns, year first
(inferred when no column holds dates and the table has a ``year`` column with a
``month`` or ``quarter`` one, and a ``day`` one if any); :func:`compose_time` reads them
as one date per row (a quarter as its first month, no day as the first), at training and
on a predictor's new rows alike, and the parts themselves are left out (the calendar
features come from the date).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import pandas.api.types as ptypes

from automl_fin.data._tidy import plain
from automl_fin.errors import DataError

__all__ = ["compose_time", "find_time_parts"]

# names of each part (any case, spaces as `_`), in the order the parts are listed
YEAR, MONTH, QUARTER, DAY = ("year", "yr"), ("month", "mon", "mo"), ("quarter", "qtr"), ("day",)
RANGES = {"year": (1800, 2200), "month": (1, 12), "quarter": (1, 4), "day": (1, 31)}


def _role(name: str) -> str | None:
    key = "_".join(str(name).strip().lower().split())
    for role, names in (("year", YEAR), ("month", MONTH), ("quarter", QUARTER), ("day", DAY)):
        if key in names:
            return role
    return None


def find_time_parts(frame: pd.DataFrame) -> list[str] | None:
    """The columns of ``frame`` that write its time in parts, year first: one numeric
    column named year, one named month or quarter, and one named day where the month is
    given; ``None`` where the table has no such columns (or several of one part)."""
    roles: dict[str, list[str]] = {}
    for name in frame.columns:
        role = _role(str(name))
        if role and ptypes.is_numeric_dtype(frame[name]) and not ptypes.is_bool_dtype(frame[name]):
            roles.setdefault(role, []).append(str(name))
    if any(len(v) > 1 for v in roles.values()) or "year" not in roles:
        return None
    if "month" in roles:
        return [roles["year"][0], roles["month"][0], *roles.get("day", [])]
    if "quarter" in roles and "day" not in roles:
        return [roles["year"][0], roles["quarter"][0]]
    return None


def compose_time(frame: pd.DataFrame, parts: Sequence[str], name: str, source: str) -> pd.DataFrame:
    """``frame`` with the date its ``parts`` columns write (year; month or quarter;
    day) in column ``name``, the parts left out; a part missing, not a whole number in
    its range, or a day its month lacks is refused by row."""
    missing = [p for p in parts if p not in frame.columns]
    if missing:
        raise DataError(
            f"{source}: no column {', '.join(map(repr, missing))} (data.series.time_parts, "
            "the columns that write the time)"
        )
    if not 2 <= len(parts) <= 3 or (len(parts) == 3 and _role(parts[1]) == "quarter"):
        raise DataError(
            f"{source}: data.series.time_parts lists {list(parts)}: give the year column, "
            "then the month (or quarter) column, then the day column if any"
        )
    roles = ["year", "quarter" if _role(parts[1]) == "quarter" else "month", "day"]
    values = {
        role: pd.to_numeric(frame[p], errors="coerce")
        for role, p in zip(roles, parts, strict=False)
    }
    bad = np.zeros(len(frame), dtype=bool)
    for role, v in values.items():
        low, high = RANGES[role]
        bad |= (v.isna() | (v != v.round()) | (v < low) | (v > high)).to_numpy()
    month = values.get("month", 3 * values.get("quarter", pd.Series(1, index=frame.index)) - 2)
    day = values.get("day", pd.Series(1, index=frame.index))
    keep = pd.Series(~bad, index=frame.index)
    fields = {"year": values["year"], "month": month, "day": day}
    stamps = pd.to_datetime(
        pd.DataFrame({k: v.where(keep) for k, v in fields.items()}), errors="coerce"
    )
    bad |= stamps.isna().to_numpy()
    if bad.any():
        row = int(np.argmax(bad))
        written = ", ".join(f"{p}={plain(frame[p].iloc[row])}" for p in parts)
        raise DataError(
            f"{source}: row {row + 1} writes no date in {', '.join(map(repr, parts))} "
            f"({written}); fix or drop it"
        )
    out = frame.drop(columns=list(parts))
    out.insert(0, name, stamps.to_numpy())
    return out
