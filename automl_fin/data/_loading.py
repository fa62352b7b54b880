"""A recipe's table, read and settled: the ``Dataset`` a search runs on.

The data comes from ``--data`` (a path or a DataFrame), the recipe's ``data.path`` or a
bundled data set; it is tidied (:mod:`automl_fin.data._tidy`), the recipe's table facts are
settled against it (:mod:`automl_fin.data._table_facts`), and it is split into features and
target, or turned into supervised forecast rows for a price series
(:mod:`automl_fin.data._timeseries`).
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from automl_fin import datasets
from automl_fin.data._aggregate_rows import without_aggregates
from automl_fin.data._dataset import Dataset, LeakError, read_table
from automl_fin.data._dates import is_periods, read_times
from automl_fin.data._dtypes import WRITTEN
from automl_fin.data._table_facts import Settled, settle
from automl_fin.data._tidy import plain, tidy
from automl_fin.data._timeseries import exogenous_lags, run_command, supervise
from automl_fin.errors import DataError, RecipeError
from automl_fin.plugin._specs import ColumnKind, Task

if TYPE_CHECKING:
    from automl_fin.engine._recipes import Recipe, SeriesConfig

__all__ = ["dataset_of", "load_data", "settle_data"]


def load_data(
    recipe: Recipe, data: str | Path | pd.DataFrame | None, soft: frozenset[str] = frozenset()
) -> Dataset:
    """Read the recipe's data (or ``data``) and split it into features and target."""
    settled = settle_data(recipe, data, soft)
    return dataset_of(settled.recipe, settled.frame, settled.source)


def settle_data(
    recipe: Recipe, data: str | Path | pd.DataFrame | None, soft: frozenset[str] = frozenset()
) -> Settled:
    """Read the recipe's data (or ``data``), settle the recipe's table facts against it
    (``soft``: those that are only hints, see :mod:`automl_fin.data._table_facts`)."""
    cfg = recipe.data
    if isinstance(data, pd.DataFrame):
        frame, source = data, "<DataFrame>"
    elif data is not None or cfg.path:
        source = str(data or cfg.path)
        frame = read_table(source, decimal=cfg.decimal, decimal_from="data.decimal sets")
    elif cfg.dataset:
        frame, source = datasets.load(cfg.dataset), f"bundled:{cfg.dataset}"
    else:
        raise RecipeError(
            recipe.source, "data.path", "the recipe names no data; pass --data FILE --target COL"
        )
    if not cfg.series and not cfg.target:
        raise RecipeError(
            recipe.source, "data.target", "no target column; set it or pass --target COLUMN"
        )
    tidied = tidy(frame, source, cfg.target, cfg.drop)
    settled = settle(recipe, tidied, source, soft)
    settled.frame.attrs["decimal"] = frame.attrs.get("decimal")  # (dataset_of's)
    settled.frame.attrs[WRITTEN] = tidied.attrs.get(WRITTEN, {})
    return settled


def dataset_of(recipe: Recipe, frame: pd.DataFrame, source: str) -> Dataset:
    """Split a settled table into features and target (a price table into forecast rows)."""
    split = _series_dataset if recipe.data.series else _table_dataset
    dataset = split(recipe, frame, source)
    dataset.decimal = frame.attrs.get("decimal")  # a ';' file's mark, for its predictor
    dataset.written = dict(frame.attrs.get(WRITTEN, {}))  # numbers with a unit, for its predictor
    return dataset


def _table_dataset(recipe: Recipe, frame: pd.DataFrame, source: str) -> Dataset:
    """A table's features and target."""
    cfg = recipe.data
    assert cfg.target is not None
    drop = list(cfg.drop)
    times = None
    frame = without_aggregates(frame, source)  # before the times, which follow the rows
    if cfg.time:
        if cfg.time not in frame.columns:
            raise DataError(f"{source}: time column '{cfg.time}' (data.time) is not in the data")
        stamps = read_times(frame[cfg.time])
        if stamps.isna().any():
            bad = frame.loc[stamps.isna(), cfg.time].iloc[0]
            what = "empty values" if is_periods(stamps) else "values that are not dates"
            raise DataError(
                f"{source}: time column '{cfg.time}' has {what} (e.g. {plain(bad)!r}); "
                "fix or drop those rows"
            )
        order = np.argsort(stamps.to_numpy(), kind="stable")
        frame, times = frame.iloc[order], stamps.to_numpy()[order]
        drop.append(cfg.time)
    try:
        dataset = Dataset.from_frame(
            frame,
            target=cfg.target,
            task=None if recipe.task == "auto" else Task(recipe.task),
            source=source,
            kinds=cfg.columns,
            drop=drop,
            positive_class=cfg.positive_class,
            classes=cfg.classes,
            totals=False,
        )
    except DataError as exc:
        if not cfg.time or "no feature columns left" not in str(exc):
            raise
        how = run_command("price", source, cfg.target)
        raise DataError(
            f"{source}: no feature columns left besides target '{cfg.target}' and time "
            f"'{cfg.time}': a series alone is forecast from its own past by the price "
            f"recipe: {how}"
        ) from None
    if times is not None:
        dataset.times = times[frame[cfg.target].notna().to_numpy()]
    return dataset


WARM_UP = 0.25  # share of a table's rows that its lags and windows may take unsaid


def _warn_warm_up(given: int, kept: int, series: SeriesConfig, source: str) -> None:
    """Warn, in one line, where the lags, the rolling windows and the horizon leave
    out over :data:`WARM_UP` of the rows: statsmodels' quarterly macrodata, 170 rows,
    trained on 109 without a word (the 60-step window: 15 years; a helper's find)."""
    if not given or given - kept <= WARM_UP * given:
        return
    longest = max([series.lags, *series.windows])
    if series.lags >= max(series.windows):  # the lags reach furthest back: fewer of them
        hint = f"; fewer lags keep more: --set data.series.lags={max(1, series.lags // 2)}"
    else:
        shorter = [w for w in series.windows if w < longest] or [max(2, longest // 2)]
        hint = f"; shorter windows keep more: --set 'data.series.windows={shorter}'"
    warnings.warn(
        f"{source}: {given - kept} of its {given} rows ({(given - kept) / given:.0%}) train "
        f"nothing: they warm up the lags and rolling windows (the longest {longest} steps) "
        f"or have no target {series.horizon} step{'s' * (series.horizon != 1)} ahead{hint}",
        stacklevel=4,
    )


def _series_dataset(recipe: Recipe, frame: pd.DataFrame, source: str) -> Dataset:
    """A price table to supervised forecast rows (:func:`automl_fin.data._timeseries.supervise`)."""
    cfg = recipe.data
    assert cfg.series is not None
    if not cfg.time:
        raise RecipeError(recipe.source, "data.time", "data.series needs the time column")
    if recipe.task not in ("auto", Task.REGRESSION):
        raise RecipeError(recipe.source, "task", "data.series forecasts need task 'regression'")
    sup = supervise(frame, time=cfg.time, entity=cfg.entity, cfg=cfg.series, source=source)
    price = cfg.series.price  # rows with a price (those without are said apart)
    given = pd.to_numeric(frame[price], errors="coerce").notna().sum() if price in frame else 0
    _warn_warm_up(int(given) or len(frame), len(sup.frame), cfg.series, source)
    if cfg.target not in (None, sup.target):
        raise RecipeError(
            recipe.source,
            "data.target",
            f"'{cfg.target}' is not a column of {source}; with data.series, data.target "
            f"(--target) names the price column, or is the computed '{sup.target}'",
        )
    kinds = dict(cfg.columns)
    if cfg.entity:
        kinds.setdefault(cfg.entity, ColumnKind.CATEGORICAL)
    try:
        dataset = Dataset.from_frame(
            sup.frame, target=sup.target, task=Task.REGRESSION, source=source, kinds=kinds,
            returns=True, totals=False,
        )  # fmt: skip
    except LeakError as exc:  # a feature made of an exogenous column: not one to drop
        made = [n for n in cfg.series.exogenous if exc.column in exogenous_lags(n, cfg.series)]
        if not made:
            raise
        raise DataError(
            f"{source}: exogenous column '{made[0]}' gives the forecast away (its lag "
            f"'{exc.column}': {exc.how}); if it is known only with the outcome, take it out "
            "of data.series.exogenous"
        ) from None
    dataset.times, dataset.scale = sup.times, sup.scale
    _warn_telling_exogenous(dataset, cfg.series, source)
    return dataset


TELLING = 0.5  # correlation of an exogenous lag with the forecast return said to leak it


def _warn_telling_exogenous(dataset: Dataset, series: SeriesConfig, source: str) -> None:
    """Warn of an exogenous column whose lag moves with the forecast return (|r| of
    :data:`TELLING` or more): the S&P 500's next return plus noise, an exogenous
    column, scored out-of-sample R² 0.9998 against the random walk without a word (an
    exact copy was refused; a near one passed). A lagged price or return of another
    market correlates with the next return by a few hundredths."""
    lags = {c: n for n in series.exogenous for c in exogenous_lags(n, series) if c in dataset.X}
    if not lags:
        return
    block = dataset.X[list(lags)].apply(pd.to_numeric, errors="coerce")
    r = block.corrwith(pd.Series(dataset.y, index=block.index)).abs()
    telling = r[r >= TELLING].sort_values(ascending=False)
    if telling.empty:
        return
    column = str(telling.index[0])
    own = dataset.X.drop(columns=list(lags)).select_dtypes("number")
    best = own.corrwith(pd.Series(dataset.y, index=own.index)).abs().max() if own.size else 0.0
    warnings.warn(
        f"{source}: exogenous column '{lags[column]}' moves with the forecast "
        f"'{dataset.target}' (its lag '{column}': correlation {telling.iloc[0]:.4f}, "
        f"{telling.iloc[0] ** 2:.1%} of its variance alone, where the series' own past "
        f"explains at most {float(np.nan_to_num(best)) ** 2:.1%}): a column known only with "
        "the outcome leaks it, and the scores are not what a forecast will get; take it "
        "out of data.series.exogenous unless it is known before",
        stacklevel=4,
    )
