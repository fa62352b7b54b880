"""Price series to supervised rows: features from the past only, per entity.

A price table (a time column, a price column, optionally an entity column such as a
ticker) becomes one row per entity and forecast origin ``t``:

* target ``next_return``: the log return ``log(P[t+h] / P[t])`` over the horizon ``h``;
  with ``target: price`` the models still learn that return and their forecasts are
  converted back to the price level ``P[t] * exp(r)`` before scoring;
* ``ret_lag1 .. ret_lagK``: the last ``K`` one-step log returns, ``ret_lag1`` being the
  return into ``t`` (the ``<series>_lag<k>`` names the sequence model reads as a window);
* ``ret_mean<w>``, ``ret_vol<w>``, ``ret_mom<w>``: rolling mean and volatility of the
  returns and the log distance of the price from its ``w``-step average, all ending at ``t``;
* ``<column>_lag1 ..`` for exogenous columns, and the calendar (day of week, month) of ``t``.

Every feature of a row is a function of that entity's rows at or before ``t`` only, so
the features are the same whether they are computed on the whole history or inside a
fold; what is fitted (imputation, scaling, encoders, models) is fitted inside the fold
by the pipeline. :func:`check_no_lookahead` verifies the property for any feature
function by perturbing the future and comparing the past.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from automl_fin.data._dates import is_periods, read_times
from automl_fin.data._tidy import plain, with_column
from automl_fin.errors import DataError

if TYPE_CHECKING:
    from automl_fin.engine._recipes import SeriesConfig

__all__ = [
    "LookaheadError",
    "Supervised",
    "TargetScale",
    "check_no_lookahead",
    "known_prices",
    "supervise",
]

RETURN_TARGET = "next_return"
CALENDAR = ("day_of_week", "month")  # the calendar features, each made where the series'
STEP_UNDER = (pd.Timedelta(days=7), pd.Timedelta(days=300))  # median step is under this


class LookaheadError(AssertionError):
    """A feature changed when only later values of the series changed."""


@dataclass(frozen=True)
class TargetScale:
    """How the models' target (a log return) maps to what is scored and reported.

    ``base`` is the price at each row's forecast origin; with ``level`` the reported
    value is ``base * exp(return)`` (a price), otherwise the return itself.
    """

    base: np.ndarray
    level: bool

    def to_report(self, values: np.ndarray, rows: np.ndarray | slice = slice(None)) -> np.ndarray:
        """``values`` (log returns of ``rows``) in reported units."""
        values = np.asarray(values, dtype=float)
        return self.base[rows] * np.exp(values) if self.level else values

    def subset(self, rows: np.ndarray) -> TargetScale:
        """The scale of a subset of the rows."""
        return TargetScale(self.base[rows], self.level)


@dataclass
class Supervised:
    """A price table turned into training rows (see the module)."""

    frame: pd.DataFrame  # features, the entity (when given) and the target
    times: np.ndarray  # forecast origin of each row
    scale: TargetScale
    target: str = RETURN_TARGET


def known_prices(
    frame: pd.DataFrame,
    time: str,
    entity: str | None,
    cfg: SeriesConfig,
    source: str,
    *,
    whole_ids: bool = True,
) -> pd.DataFrame:
    """``frame`` without the rows whose price cell is empty, said in one warning (count
    and a first row): a market holiday in a calendar of weekdays (FRED's daily series
    leave it empty), or a price not known yet. Each return then spans the gap to the
    series' previous price, as on a trading-day calendar; a zero return filled in would
    be a day that did not trade. The rest is refused in one line naming the column and
    a row, at training and prediction alike: a column the recipe names and the table
    lacks, a price that is there but not a positive number, a time that is not a date,
    two rows for one time of a series."""
    _check_columns(frame, time, entity, cfg, source)
    if entity is not None and whole_ids:  # (a predictor saved before: as it was trained)
        frame = frame.assign(**{entity: series_labels(frame[entity])})
    empty = frame[cfg.price].isna()
    if empty.any():
        warnings.warn(_empty_prices(frame, empty, time, entity, cfg.price, source), stacklevel=3)
        frame = frame.loc[~empty]
    _check_prices(frame, time, entity, cfg, source)
    return frame


def series_labels(values: pd.Series) -> pd.Series:
    """The series names of an entity column: ids written as whole floats (``10107.0``:
    a column of ids with one empty cell turns float in pandas) as the integers they are
    (``"10107"``), at training and prediction alike; other values as they are. Read
    as written, new rows' ``10107.0`` were other series than training's ``10107``."""
    if pd.api.types.is_float_dtype(values):
        known = values.dropna()
        if known.empty or not np.all(np.mod(known.to_numpy(dtype=float), 1) == 0):
            return values
        return values.map(lambda v: v if pd.isna(v) else str(int(v)))
    if not pd.api.types.is_string_dtype(values) and not pd.api.types.is_object_dtype(values):
        return values
    text = values.dropna().astype("str")  # (new rows' ids, read as a category: "10107.0")
    if text.empty or not text.str.fullmatch(r"-?\d+(\.0+)?").all():
        return values
    return values.map(lambda v: v if pd.isna(v) else str(v).split(".")[0])


def _empty_prices(
    frame: pd.DataFrame, empty: pd.Series, time: str, entity: str | None, price: str, source: str
) -> str:
    """The warning for the rows of ``frame`` without a price: how many, and where. Rows
    inside a series are gaps a return spans; rows before a series' first price or after
    its last are not (a wide table's series over different years: VIX from 2014 beside a
    NASDAQ from 1999; today's price not known yet), and a series may have none at all."""
    n = int(empty.sum())
    head = f"{source}: {n} row{'s' if n != 1 else ''} of {len(frame)} without a price in '{price}'"
    series = frame[entity] if entity else pd.Series(0, index=frame.index)
    stamps = read_times(frame[time])  # as written: 01/03/2020 compared as a date
    known = stamps[~empty].groupby(series[~empty])
    first, last = series.map(known.min()), series.map(known.max())
    parts = {
        "none": empty & first.isna(),
        "before": empty & (stamps < first),
        "after": empty & (stamps > last),
    }
    inside = empty & ~parts["none"] & ~parts["before"] & ~parts["after"]
    gap = "each return spans the gap to the previous price (fill or drop them yourself to "
    gap += "choose otherwise)"

    def e_g(rows: pd.Series) -> str:
        return _where(frame.loc[rows].iloc[0], time, entity)

    if int(inside.sum()) == n:
        return f"{head} (e.g. {e_g(empty)}) left out: {gap}"
    said = []
    if parts["none"].any():
        which = series[parts["none"]].iloc[0] if entity else "the table"
        said.append(f"{int(parts['none'].sum())} in a series with no price at all (e.g. {which})")
    if parts["before"].any():
        most = series[parts["before"]].value_counts().index[0]  # the series begun latest
        begins = when_written(first[parts["before"] & (series == most)].iloc[0])
        said.append(f"{int(parts['before'].sum())} before "
                    + (f"their series' first price (e.g. {most}, first priced at {begins})"
                       if entity else f"the first price ({begins})"))  # fmt: skip
    if parts["after"].any():
        said.append(f"{int(parts['after'].sum())} after "
                    + ("their series' last price" if entity else "the last price")
                    + f" (e.g. {e_g(parts['after'])})")  # fmt: skip
    if inside.any():
        said.append(f"{int(inside.sum())} inside a series (e.g. {e_g(inside)}): {gap}")
    return f"{head} left out: " + ", ".join(said)


def run_command(recipe: str, source: str, target: str, time: str | None = None) -> str:
    """The command that runs ``recipe`` on ``source`` (a file) for ``target``, or the
    call (a DataFrame); ``time``: its ``data.time`` too."""
    import shlex

    if source.startswith("<"):  # a DataFrame, not a file
        times = f", overrides={{'data.time': {time!r}}}" if time else ""
        return f"search({recipe!r}, data=frame, target={target!r}{times})"
    times = f" --set data.time={shlex.quote(time)}" if time else ""
    return (f"automl-fin run {recipe} --data {shlex.quote(source)} --target "
            f"{shlex.quote(target)}{times}")  # fmt: skip


def _where(row: pd.Series, time: str, entity: str | None) -> str:
    """A row of a price table in words: ``MSFT at 2017-11-10``, or the date alone."""
    return f"{row[entity]} at {when_written(row[time])}" if entity else when_written(row[time])


def _check_columns(
    frame: pd.DataFrame, time: str, entity: str | None, cfg: SeriesConfig, source: str
) -> None:
    """Refuse a price table that lacks a column its recipe names."""
    for role, name in (
        ("data.time", time),
        ("data.series.price", cfg.price),
        ("data.entity", entity),
    ):
        if name is not None and name not in frame.columns:
            raise DataError(f"{source}: column '{name}' ({role}) is not in the data")
    for name in cfg.exogenous:
        if name not in frame.columns:
            raise DataError(f"{source}: column '{name}' (data.series.exogenous) is not in the data")


def _check_prices(
    frame: pd.DataFrame, time: str, entity: str | None, cfg: SeriesConfig, source: str
) -> None:
    """Refuse prices that are not all positive numbers, times that are not dates, and
    two rows for one time of a series (see :func:`known_prices`)."""
    price = pd.to_numeric(frame[cfg.price], errors="coerce")
    bad = price.isna() | (price <= 0)
    if bad.any():
        row = frame.loc[bad].iloc[0]
        auto = run_command("auto", source, cfg.price, time)
        known = price.dropna()
        below = float((known < 0).mean()) if len(known) else 0.0
        returns = 0.2 < below < 0.8  # both signs often: changes, not prices (% too)
        # below zero in many rows, all numbers: a quantity that may be (a spread, a rate),
        # not prices with a few bad rows to fix (a few zeros, a stray negative: as before)
        negative = int((known < 0).sum())
        quantity = not price.isna().any() and (
            negative >= max(3, 0.01 * len(known)) or (known <= 0).mean() >= 0.05
        )
        others = set(frame.columns) - {cfg.price, time, entity}
        way = (  # the other columns may explain it: a quantity over time
            f"; as a quantity over time from the other columns: {auto}"
            if others
            else " (nor any other from its own past alone)"
        )
        raise DataError(
            f"{source}: price column '{cfg.price}' has {int(bad.sum())} non-numeric "
            f"or non-positive values (e.g. {_where(row, time, entity)}: "
            f"{plain(row[cfg.price])!r}); log returns need positive prices: "
            + (
                f"'{cfg.price}' looks like returns ({below:.0%} below 0): give "
                # (Fama-French's 2.96 is 2.96 %: exp of a sum of such overflows)
                "price levels, e.g. 100 * exp(cumulative sum of log returns), or 100 * "
                "cumulative product of (1 + r / 100) for returns in percent"
                # (auto forecasts a number from other columns: a series alone it sends
                # back here, a prober's loop)
                + (
                    f"; or forecast them as a number from the other columns: {auto}"
                    if others
                    else ""
                )
                if returns
                else f"'{cfg.price}' goes to zero or below (a spread, a rate?), which the "
                f"price recipe does not forecast{way}"
                if quantity
                else "fix or drop those rows"
            )
        )
    if price.nunique() == 1:  # said of the returns, "target 'next_return' has a single value"
        raise DataError(
            f"{source}: price column '{cfg.price}' has a single value "
            f"({plain(price.iloc[0])!r}): its returns are all 0, nothing to forecast; check "
            "the column (data.series.price)"
        )
    stamps = read_times(frame[time])
    bad = stamps.isna()
    if bad.any():
        what = "no value" if is_periods(stamps) else "values that are not dates"
        raise DataError(
            f"{source}: time column '{time}' has {int(bad.sum())} {what} "
            f"(e.g. {plain(frame.loc[bad, time].iloc[0])!r}); fix or drop those rows"
        )
    keys = [entity, time] if entity else [time]
    dup = frame.duplicated(keys, keep=False)  # a time a series holds twice
    if dup.any():
        row = frame.loc[dup].iloc[0]
        who = f" for entity {row[entity]!r}" if entity else ""
        raise DataError(
            f"{source}: time column '{time}' has {int(dup.sum())} rows sharing a time{who} "
            f"(e.g. {when_written(row[time])}); keep one row per "
            f"{'entity and ' if entity else ''}time" + copies(frame, dup)
        )


def copies(frame: pd.DataFrame, shared: pd.Series) -> str:
    """What to add to an error about rows that share a time (``shared``) when each is an
    exact copy of another row: the table holds the same rows twice (a file appended to
    itself), not several series."""
    rows = frame.loc[shared]
    if rows.duplicated(keep=False).all():
        n = int(rows.duplicated().sum())
        return (
            f"; each of them is an exact copy of another ({n} cop{'y' if n == 1 else 'ies'}: "
            "the same rows twice?): "
            "drop the copies (pandas drop_duplicates)"
        )
    return ""


def series_features(
    frame: pd.DataFrame, *, time: str, entity: str | None, cfg: SeriesConfig
) -> pd.DataFrame:
    """The feature columns of ``frame`` (sorted by entity then time), same row index."""
    groups = frame[entity] if entity else pd.Series(0, index=frame.index)
    price = frame[cfg.price].astype(float)
    log_p = pd.Series(np.log(price.to_numpy()), index=frame.index)
    by = log_p.groupby(groups, sort=False)
    ret = log_p - by.shift(1)
    r_by = ret.groupby(groups, sort=False)
    out: dict[str, pd.Series] = {f"ret_lag{k}": r_by.shift(k - 1) for k in range(1, cfg.lags + 1)}
    for w in cfg.windows:
        out[f"ret_mean{w}"] = _rolling(ret, groups, w, "mean")
        out[f"ret_vol{w}"] = _rolling(ret, groups, w, "std")
        out[f"ret_mom{w}"] = log_p - _rolling(log_p, groups, w, "mean")
    for name in cfg.exogenous:
        col = pd.to_numeric(frame[name], errors="coerce").groupby(groups, sort=False)
        for k in range(1, cfg.exogenous_lags + 1):
            out[f"{name}_lag{k}"] = col.shift(k - 1)
    stamps = read_times(frame[time])
    parts = CALENDAR if cfg.calendar is True else cfg.calendar or []
    if parts and not is_periods(stamps):  # period numbers carry no calendar
        if "day_of_week" in parts:
            out["day_of_week"] = stamps.dt.day_of_week.astype(float)
        if "month" in parts:
            out["month"] = stamps.dt.month.astype(float)
    return pd.DataFrame(out, index=frame.index)


def calendar_parts(frame: pd.DataFrame, time: str, entity: str | None) -> list[str]:
    """The calendar features the spacing of the series' times supports: the day of the
    week where prices are under a week apart (the median step of a series), the month
    where under a year apart. Monthly closes got a ``day_of_week`` (the weekday of each
    1st: noise) and yearly ones a constant ``month``."""
    stamps = read_times(frame[time])
    if is_periods(stamps):
        return []
    step = usual_step(stamps, frame[entity] if entity else None)
    if pd.isna(step):
        return list(CALENDAR)
    return [p for p, most in zip(CALENDAR, STEP_UNDER, strict=True) if step < most]


def usual_step(stamps: Any, groups: Any = None) -> pd.Timedelta:
    """The median step between the times of a series (each of ``groups``' series its
    own steps, in time order); ``NaT`` with fewer than two times a series."""
    times = np.asarray(stamps, dtype="datetime64[ns]")
    keys = np.zeros(len(times)) if groups is None else np.asarray(groups)
    table = pd.DataFrame({"g": keys, "t": times}).sort_values(["g", "t"])
    return table.groupby("g")["t"].diff().median()


def _rolling(values: pd.Series, groups: pd.Series, window: int, how: str) -> pd.Series:
    rolled = values.groupby(groups, sort=False).rolling(window, min_periods=window)
    result = rolled.mean() if how == "mean" else rolled.std()
    return result.reset_index(level=0, drop=True).reindex(values.index)


def supervise(
    frame: pd.DataFrame,
    *,
    time: str,
    entity: str | None,
    cfg: SeriesConfig,
    source: str = "<DataFrame>",
    features: Callable[..., pd.DataFrame] = series_features,
    whole_ids: bool = True,
    fixed: bool = False,
) -> Supervised:
    """Turn a price table into supervised rows in time order (see the module); ``fixed``:
    ``cfg`` is a trained predictor's (its lags and windows are not advised to change).

    Rows without a full feature history (the first ``max(lags, windows)`` steps of each
    entity) or without a known target (the last ``horizon`` steps) are left out.
    """
    frame = known_prices(frame, time, entity, cfg, source, whole_ids=whole_ids)
    stamps = read_times(frame[time])
    frame = with_column(frame, time, stamps)
    keys = [entity, time] if entity else [time]
    frame = frame.sort_values(keys, kind="stable").reset_index(drop=True)
    feats = features(frame, time=time, entity=entity, cfg=cfg)
    groups = frame[entity] if entity else pd.Series(0, index=frame.index)
    log_p = np.log(frame[cfg.price].astype(float))
    future = log_p.groupby(groups, sort=False).shift(-cfg.horizon)
    target = future - log_p
    table = feats.copy()
    if entity:
        table.insert(0, entity, frame[entity].astype("str"))
    table[RETURN_TARGET] = target
    usable = feats.notna().all(axis=1) & target.notna()
    gaps = warn_gaps(frame[time], groups, source)
    entities = frame[entity] if entity else None
    warn_jumps(log_p.where(~gaps), groups, frame[time], entities, cfg.price, source)
    _warn_exogenous(feats, usable, target, cfg, frame[time], source)
    if not usable.any():
        longest = int(groups.value_counts().max()) if len(groups) else 0
        need = max([cfg.lags, *cfg.windows]) + 1 + cfg.horizon  # (features, then a target)
        room = min(5, longest - 1 - cfg.horizon)  # a window and lags these rows hold
        shorter = (
            f", or shorter windows and lags: --set 'data.series.windows=[{room}]' --set "
            f"data.series.lags={min(cfg.lags, room)}"
            if room >= 2 and not fixed
            else ""
        )
        raise DataError(
            f"{source}: no row has {cfg.lags} lags, the rolling windows {cfg.windows} and a "
            f"target {cfg.horizon} step{'s' if cfg.horizon != 1 else ''} ahead; the series is "
            f"too short for data.series ({longest:,} rows{' in the longest' * bool(entity)}; "
            f"give at least {need} rows per series{shorter})"
        )
    if entity:  # a series with too few rows has none left: said, never silently lost
        lost = sorted(set(frame[entity].astype(str)) - set(frame.loc[usable, entity].astype(str)))
        if lost:
            need = max([cfg.lags, *cfg.windows]) + cfg.horizon + 1
            shown = ", ".join(lost[:5]) + (f" and {len(lost) - 5} more" if len(lost) > 5 else "")
            warnings.warn(
                f"{source}: {len(lost)} series of '{entity}' ({shown}) "
                f"{'has' if len(lost) == 1 else 'have'} no row with "
                f"every feature and a target (the lags and windows need {need} rows, and "
                "every exogenous column a value): left out",
                stacklevel=3,
            )
    kept = usable.to_numpy()
    order = np.argsort(frame[time].to_numpy()[kept], kind="stable")
    rows = np.flatnonzero(kept)[order]
    price = frame[cfg.price].to_numpy(dtype=float)
    return Supervised(
        frame=table.iloc[rows].reset_index(drop=True),
        times=frame[time].to_numpy()[rows],
        scale=TargetScale(price[rows], level=cfg.target == "price"),
    )


GAP_STEPS = 10  # a step this many times a series' usual one is a gap in it
GAP_DAYS = 7  # ... and longer than this many days


def warn_gaps(stamps: pd.Series, groups: pd.Series, source: str) -> pd.Series:
    """Warn of the longest gap in the series (a step over :data:`GAP_STEPS` times its
    series' median step and over :data:`GAP_DAYS` days): its return, lags and windows
    span the gap as if it were one step (MSFT without 2012-01 to 2013-06: one "daily"
    return of 0.32, 17 standard deviations). Returns whether each row's step is one."""
    if is_periods(stamps):
        return pd.Series(False, index=stamps.index)
    steps = stamps.groupby(groups, sort=False).diff()
    usual = steps.groupby(groups, sort=False).transform("median")
    # and over a week: bars of minutes or hours skip nights and weekends by design
    wide = (steps > usual * GAP_STEPS) & (steps > pd.Timedelta(days=GAP_DAYS))
    if not wide.any():
        return wide
    at = int((steps / usual).where(wide).idxmax())
    after, before = stamps[at], stamps[at] - steps[at]
    warnings.warn(
        f"{source}: the prices skip {span_words(steps[at])} ({when_written(before)} to "
        f"{when_written(after)}; "
        f"the usual step is {span_words(usual[at])}), {int(wide.sum())} such gap(s) in all: "
        "the return across a gap, and lags and windows over it, are taken as one step; "
        "fill the missing rows, or start the data after the gap",
        stacklevel=4,
    )
    return wide


JUMP_LOG = 0.25  # a one-step log return this large (a 22 % fall, a 28 % rise) is a jump
JUMP_MOVES = 30.0  # ... at this many times its series' usual move
SPLIT_MOVES = 12.0  # ... or at this many where the prices' ratio is a split's
SPLITS = (2.0, 3.0, 4.0, 5.0, 8.0, 10.0, 20.0)  # 2:1, 3:1, ... (and reverse splits; not
# 3:2: a 33 % fall, as WTI fell in a day of 1991, 22 times its usual move)


def warn_jumps(
    log_p: pd.Series, groups: pd.Series, stamps: pd.Series, entities: pd.Series | None,
    price: str, source: str,
) -> None:  # fmt: skip
    """Warn of the largest one-step jump in the prices (``log_p`` missing after a gap,
    said by :func:`warn_gaps`): a log return of at least
    :data:`JUMP_LOG` at :data:`JUMP_MOVES` times its series' usual move (the median
    absolute return, scaled to a standard deviation), or at :data:`SPLIT_MOVES` times
    where the prices' ratio is within 5 % of a split's (2:1, 3:1, ...). A stock split read
    as a return (MSFT's prices halved on one day: a log return of -0.66, 61 times its
    usual move) is learnt as one, and its lags and windows carry it for weeks. Real
    moves are left: the VIX's 115 % rise of 2018 (12 times its usual move), WTI's 33 %
    fall of 1991 (22 times), the S&P 500's largest of 2000-2019 (14 times)."""
    returns = log_p.groupby(groups, sort=False).diff()
    usual = returns.abs().groupby(groups, sort=False).transform("median") * 1.4826
    size = returns.abs() / usual.where(usual > 0)
    ratio = np.exp(returns.abs().to_numpy())[:, None] / np.asarray(SPLITS)[None, :]
    split_like = pd.Series((np.abs(ratio - 1) <= 0.05).any(axis=1), index=returns.index)
    jumps = (returns.abs() >= JUMP_LOG) & (
        (size >= JUMP_MOVES) | ((size >= SPLIT_MOVES) & split_like)
    )
    if not jumps.any():
        return
    at = int(size.where(jumps).idxmax())
    change = float(np.expm1(returns[at]))
    before = stamps[at - 1] if at > 0 else stamps[at]
    whose = f" of {entities[at]}" if entities is not None else ""
    like = ""
    if split_like[at]:
        n = min(SPLITS, key=lambda c: abs(np.exp(abs(returns[at])) / c - 1))
        ways = (n, 1) if change < 0 else (1, n)
        like = f", as a {ways[0]:g}:{ways[1]:g} {'split' if change < 0 else 'reverse split'} is"
    warnings.warn(
        f"{source}: '{price}'{whose} {'falls' if change < 0 else 'rises'} by "
        f"{abs(change):.0%} in one step ({when_written(before)} to {when_written(stamps[at])}:"
        f" a log return of {returns[at]:+.2f}, {size[at]:.0f} times the series' usual "
        f"move{like}), {int(jumps.sum())} such jump(s) in all: a stock split or a data "
        "error is learnt as a return, and its lags and windows carry it; give split-adjusted "
        "prices (an adjusted close), or start the data after it",
        stacklevel=4,
    )


def span_words(step: pd.Timedelta) -> str:
    """A step in words: ``549 days``, ``1 day``, ``5 minutes``."""
    for unit, size in (("day", 86400.0), ("hour", 3600.0), ("minute", 60.0)):
        count = step.total_seconds() / size
        if count >= 1:
            return f"{count:.0f} {unit}{'' if round(count) == 1 else 's'}"
    return f"{step.total_seconds():g} seconds"


def _warn_exogenous(
    feats: pd.DataFrame,
    usable: pd.Series,
    target: pd.Series,
    cfg: SeriesConfig,
    stamps: pd.Series,
    source: str,
) -> None:
    """Warn when the exogenous columns' missing values leave out rows that the prices
    alone would keep (VIX from 2014 beside S&P 500 from 1999: 1,256 of 5,031 rows kept
    without a word), naming the column and how many rows."""
    if not cfg.exogenous:
        return
    made = {n: exogenous_lags(n, cfg) for n in cfg.exogenous}
    own = [c for c in feats.columns if not any(c in lags for lags in made.values())]
    priced = feats[own].notna().all(axis=1) & target.notna()
    lost = priced & ~usable
    if lost.sum() <= 0.05 * max(int(priced.sum()), 1):
        return
    gaps = {n: int((priced & feats[lags].isna().any(axis=1)).sum()) for n, lags in made.items()}
    worst = max(gaps, key=gaps.__getitem__)
    known = stamps[feats[made[worst][0]].notna()]
    first = f"its first is {when_written(known.min())}" if len(known) else "it has no value"
    warnings.warn(
        f"{source}: the exogenous column(s) leave out {int(lost.sum()):,} of the "
        f"{int(priced.sum()):,} rows the prices would give ('{worst}' has no value in "
        f"{gaps[worst]:,} of them; {first}); to keep them, drop it from "
        "data.series.exogenous or fill its values",
        stacklevel=4,
    )


def exogenous_lags(name: str, cfg: SeriesConfig) -> list[str]:
    """The feature columns made of exogenous column ``name``: its lags."""
    return [f"{name}_lag{k}" for k in range(1, cfg.exogenous_lags + 1)]


def check_no_lookahead(
    frame: pd.DataFrame,
    *,
    time: str,
    entity: str | None,
    cfg: SeriesConfig,
    features: Callable[..., pd.DataFrame] = series_features,
    cuts: int = 5,
    seed: int = 0,
) -> None:
    """Raise :class:`LookaheadError` when a feature at time ``t`` depends on data after ``t``.

    For several cut points, every value of the frame after the cut is scrambled (prices
    multiplied by random factors, exogenous columns shuffled); the features of the rows
    at or before the cut must not change.
    """
    rng = np.random.default_rng(seed)
    keys = [entity, time] if entity else [time]
    frame = frame.sort_values(keys, kind="stable").reset_index(drop=True)
    base = features(frame, time=time, entity=entity, cfg=cfg)
    stamps = read_times(frame[time]).to_numpy()
    unique = np.unique(stamps)
    for q in np.linspace(0.2, 0.8, cuts):
        cut = unique[int(q * (len(unique) - 1))]
        later = stamps > cut
        moved = frame.copy()
        moved.loc[later, cfg.price] = moved.loc[later, cfg.price] * rng.uniform(
            0.5, 2.0, later.sum()
        )
        for name in cfg.exogenous:
            moved.loc[later, name] = rng.permutation(moved.loc[later, name].to_numpy())
        again = features(moved, time=time, entity=entity, cfg=cfg)
        past = ~later
        for name in base.columns:
            a, b = base.loc[past, name].to_numpy(float), again.loc[past, name].to_numpy(float)
            if not np.allclose(a, b, equal_nan=True, rtol=1e-9, atol=1e-12):
                first = frame.loc[past, time].iloc[
                    int(np.argmax(~np.isclose(a, b, equal_nan=True)))
                ]
                raise LookaheadError(
                    f"feature '{name}' at {first} changed when only data after {cut} changed: "
                    "it looks into the future"
                )


def when_written(value: object) -> str:
    """A time as a user wrote it: the date alone at midnight."""
    stamp = pd.Timestamp(value) if isinstance(value, (pd.Timestamp, np.datetime64)) else None
    if stamp is not None and stamp == stamp.normalize():
        return str(stamp.date())
    return str(value)
