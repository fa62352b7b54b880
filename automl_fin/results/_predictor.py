"""A fitted predictor: the refitted pipeline(s) of a leaderboard row and its input schema.

:class:`Predictor` checks new data against the :class:`Schema` it was trained with
(every column present, each of its kind), then blends its members' predictions with
their ensemble weights. A price predictor takes the price table itself and forecasts
the next step(s) of each series from its latest window.
"""

from __future__ import annotations

import contextlib
import os
import re
import threading
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from pandas.api import types as ptypes

from automl_fin.data._dates import is_periods, parse_dates
from automl_fin.data._dtypes import CLOCK, plain_dtypes, values_as_text
from automl_fin.data._shape import as_data, as_table
from automl_fin.data._tidy import (
    FORMATTED,
    MISSING_TOKENS,
    UNITED,
    nullable_number,
    numbers_in_text,
    plain,
)
from automl_fin.errors import ArtifactError, DataError, PluginError
from automl_fin.plugin._specs import ColumnKind, Task

if TYPE_CHECKING:
    from automl_fin.engine._problem import Problem
    from automl_fin.results._decision import Rule
    from automl_fin.results._explain import Explanation

__all__ = ["Member", "Predictor", "Schema"]


@dataclass
class Member:
    """One refitted pipeline and its weight in the blend."""

    trial: int
    model: str
    weight: float
    pipeline: Any


WAYS = {"": "plain numbers", "clock": "times of day", "duration": "durations"}
WORDED = ("str", "object", "cat")  # training dtypes of a category not written in numbers
SMALL_BATCH = 10_000  # rows from which a prediction uses more than one thread


_CONTROLLER: list[Any] = []  # (modules loaded when it was made, its ThreadpoolController)
_HELD: list[Any] = [0, None]  # predictions in flight under the limit, and the limit
_HOLD = threading.Lock()


@contextlib.contextmanager
def _one_thread() -> Iterator[None]:
    """threadpoolctl's limit of the native libraries to one thread, through a controller
    made again only when modules were imported since (a library loads with its module):
    making one reads every loaded library, 3 ms a prediction, where explaining a row or
    the report's importances predict hundreds of times. The limit is the process's:
    set by the first of predictions in flight together (threads), restored by the last
    (each saving and restoring its own left the process at one thread for good)."""
    import sys

    from threadpoolctl import ThreadpoolController

    with _HOLD:
        if not _HELD[0]:
            if not _CONTROLLER or _CONTROLLER[0] != len(sys.modules):
                _CONTROLLER[:] = [len(sys.modules), ThreadpoolController()]
            _HELD[1] = _CONTROLLER[1].limit(limits=1)
        _HELD[0] += 1
    try:
        yield
    finally:
        with _HOLD:
            _HELD[0] -= 1
            if not _HELD[0]:
                _HELD[1].restore_original_limits()
                _HELD[1] = None


def _key(name: object) -> str:
    """A column name without case, accents, outer spaces and the marks that join its
    words."""
    import unicodedata

    plain = "".join(
        c for c in unicodedata.normalize("NFKD", str(name)) if not unicodedata.combining(c)
    )
    return re.sub(r"[\s_.\-]+", "", plain.strip().casefold())


def _alike(missing: list[str], extra: list[Any]) -> dict[str, Any]:
    """For each missing column, the one extra column named alike (``Limit`` and
    ``limit``, ``loan amount`` and ``loan_amount``, ``bälance`` and ``balance``), else
    the one spelt nearly so (``balanse``), where there is exactly one."""
    import difflib

    keys: dict[str, list[Any]] = {}
    for name in extra:
        keys.setdefault(_key(name), []).append(name)
    found = {m: keys[_key(m)][0] for m in missing if len(keys.get(_key(m), [])) == 1}
    if len(missing) > FUZZY_NAMES or len(extra) > FUZZY_NAMES:
        return found  # (a wide table's other header: no pairs by spelling, seconds each)
    taken = set(found.values())
    for m in missing:  # spelt nearly so, the same digits (income_2019 is no income_2018)
        digits = re.sub(r"\D", "", _key(m))
        if m in found or len(_key(m)) - len(digits) < 4:  # x1000, V1000: numbers' names
            continue
        near = [k for k in difflib.get_close_matches(_key(m), keys, 3, 0.8)
                if re.sub(r"\D", "", k) == digits and len(keys[k]) == 1]  # fmt: skip
        if near and keys[near[0]][0] not in taken:
            found[m] = keys[near[0]][0]
            taken.add(found[m])
    return {m: found[m] for m in missing if m in found}  # in the missing columns' order


FUZZY_NAMES = 50  # columns missing or extra beyond which no rename is guessed by spelling


def _same_text(frame: pd.DataFrame, missing: list[str]) -> pd.DataFrame:
    """``frame`` with each column whose name is one of ``missing`` in another Unicode
    form (``âge`` composed, or as ``a`` and a combining accent: a macOS file name, a
    copy through another tool) named as ``missing`` writes it: the same text, which
    looked identical in "missing column(s) 'âge'"."""
    import unicodedata

    def nfc(name: object) -> str:
        return unicodedata.normalize("NFC", str(name))

    wanted = {nfc(m): m for m in missing}
    names = {c: wanted[nfc(c)] for c in frame.columns if c not in missing and nfc(c) in wanted}
    return frame.rename(columns=names) if names else frame


@dataclass
class Schema:
    """What a predictor needs as input and what it predicts.

    Attributes:
        columns: input column -> kind (``numeric``, ``categorical``, ``text``,
            ``datetime``); for a price series the raw table's time, price, entity and
            exogenous columns.
        dtypes: the training dtype of each input column.
        features: the model's feature columns in order (equal to ``columns`` except for
            price series, whose features are computed from the table).
        ids: id columns of the training data; echoed in prediction tables when present.
        target, task, classes: what is predicted (``classes`` in probability order).
        series: the recipe's ``data.series`` with ``time`` and ``entity`` (price only).
        whole: categories written as whole floats (``5411.0``) are read as the integers
            they are (a predictor saved before that reading: ``False``, as it learnt).
        decimal: the decimal mark of training's ``;``-separated file (``None``: none),
            which new files' numbers are read in where their values do not say.
        widths: the categorical columns written as digit codes of one width with
            leading zeros (``007``, ZIP ``02134``; :func:`code_widths`): their width,
            which new rows' shorter codes are padded to (``pd.read_csv`` reads them as
            the numbers 7 and 2134).
        rare: classes training left out with their rows, too rare for its validation;
            never predicted (their rows are left out of an evaluation, said).
        written: how training wrote the numbers of its numeric columns that were not
            plain (a unit ``kg``, ``clock``, ``duration``); new rows' values are read
            only so (``45k`` in a column of plain incomes is refused, not read as 45).
            ``None``: a predictor saved before (each way read, as before).
    """

    columns: dict[str, ColumnKind]
    dtypes: dict[str, str]
    features: list[str]
    target: str
    task: Task
    classes: list[Any] = field(default_factory=list)
    ids: list[str] = field(default_factory=list)
    series: dict[str, Any] | None = None
    whole: bool = True
    decimal: str | None = None
    widths: dict[str, int] = field(default_factory=dict)
    rare: list[Any] = field(default_factory=list)
    written: dict[str, str] | None = field(default_factory=dict)

    @classmethod
    def of(cls, problem: Problem) -> Schema:
        """The schema of ``problem``'s data."""
        ds = problem.dataset
        cfg = problem.recipe.data
        features = [str(c) for c in ds.X.columns]
        if cfg.series is not None:
            assert cfg.time is not None
            s = cfg.series
            periods = ds.times is not None and is_periods(ds.times)  # numbers: 1, 2, 3
            columns = {
                cfg.time: ColumnKind.NUMERIC if periods else ColumnKind.DATETIME,
                s.price: ColumnKind.NUMERIC,
            }
            if cfg.entity:
                columns[cfg.entity] = ColumnKind.CATEGORICAL
            columns |= {name: ColumnKind.NUMERIC for name in s.exogenous}
            dtypes = {cfg.time: "float64" if periods else "datetime64"}
            series = {
                **s.model_dump(mode="json"),
                "time": cfg.time,
                "entity": cfg.entity,
                "ids": "whole",  # (ids as whole floats read as integers, data._timeseries)
                "step_s": None if periods else _seconds(ds.times, ds.X, cfg.entity),
            }
        else:
            columns = dict(ds.kinds)
            dtypes = {str(c): str(ds.X[c].dtype) for c in ds.X.columns}
            series = None
        categorical = [c for c, k in columns.items() if k is ColumnKind.CATEGORICAL]
        return cls(
            columns={str(c): ColumnKind(k) for c, k in columns.items()},
            dtypes=dtypes,
            features=features,
            target=ds.target,
            task=ds.task,
            classes=list(ds.classes),
            ids=[c for c, why in ds.dropped.items() if why == "id column"],
            series=series,
            decimal=ds.decimal,
            widths=code_widths(ds.X[[c for c in categorical if c in ds.X]]),
            rare=list(ds.rare_classes),
            written={c: w for c, w in ds.written.items() if c in columns},
        )

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict (the ``schema`` of a manifest)."""
        return {
            "columns": [
                {"name": c, "kind": str(k), "dtype": self.dtypes.get(c, "")}
                | ({"width": self.widths[c]} if c in self.widths else {})
                for c, k in self.columns.items()
            ],
            "features": self.features,
            "target": self.target,
            "task": str(self.task),
            "classes": [plain(c) for c in self.classes],
            "ids": self.ids,
            "series": self.series,
            "codes": "whole" if self.whole else "as written",
            "decimal": self.decimal,
            "written": self.written,
        } | ({"rare_classes": [plain(c) for c in self.rare]} if self.rare else {})

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Schema:
        """The inverse of :meth:`to_json`."""
        return cls(
            columns={c["name"]: ColumnKind(c["kind"]) for c in data["columns"]},
            dtypes={c["name"]: c.get("dtype", "") for c in data["columns"]},
            features=list(data["features"]),
            target=data["target"],
            task=Task(data["task"]),
            classes=list(data.get("classes", [])),
            ids=list(data.get("ids", [])),
            series=data.get("series"),
            whole=data.get("codes") == "whole",
            decimal=data.get("decimal"),
            widths={c["name"]: c["width"] for c in data["columns"] if c.get("width")},
            rare=list(data.get("rare_classes", [])),
            written=data.get("written"),
        )

    def text_columns(self) -> list[str]:
        """The input columns training read as text (text, and categories that were not
        numbers), and the id columns echoed beside the predictions: a file's new rows
        read them as written (digits alone read as numbers were ``2016.0`` to a text
        model trained on ``2016``; an id ``000123`` came back as ``123``, joined to no
        row). None of a price table: its series ids are read as training read them
        (:func:`series_labels`)."""
        if self.series is not None:
            return []
        return [
            name
            for name, kind in self.columns.items()
            if kind is ColumnKind.TEXT
            or (kind is ColumnKind.CATEGORICAL and self.dtypes.get(name, "").startswith(WORDED))
        ] + [name for name in self.ids if name not in self.columns]

    def series_parts(self) -> tuple[str, str | None, Any, bool]:
        """A price schema's time and entity columns, its series config, and whether
        ids written as whole floats are read as integers (a predictor saved before
        that reading keeps its ids as written)."""
        from automl_fin.engine._recipes import SeriesConfig

        s = dict(self.series or {})
        time, entity = s.pop("time"), s.pop("entity")
        whole = s.pop("ids", None) == "whole"
        s.pop("step_s", None)
        return time, entity, SeriesConfig(**s), whole

    def check_spacing(self, frame: pd.DataFrame, source: str) -> None:
        """Warn when the rows of a price table are spaced unlike the training rows
        (more than twice or under half their usual step): the lags and windows count
        rows, so a daily predictor given monthly closes forecast "one step ahead" from
        features it never learnt from, without a word. A gap in them is warned of as
        training warns of one (15 months missing from monthly prices moved a forecast
        by 30 %, unsaid: their usual step was still a month)."""
        from automl_fin.data._timeseries import span_words, warn_gaps, warn_jumps

        trained = (self.series or {}).get("step_s")
        time, entity, cfg, _ = self.series_parts()
        if time in frame and len(frame) > 2:
            rows = frame.sort_values([entity, time] if entity else [time], kind="stable")
            rows = rows.reset_index(drop=True)
            groups = rows[entity] if entity else pd.Series(0, index=rows.index)
            gaps = warn_gaps(rows[time], groups, source)
            if cfg.price in rows:  # (a price missing or not above 0: no return, said later)
                price = pd.to_numeric(rows[cfg.price], errors="coerce")
                log_p = np.log(price.where(price > 0)).where(~gaps)
                entities = rows[entity] if entity else None
                warn_jumps(log_p, groups, rows[time], entities, cfg.price, source)
        if not trained or time not in frame or is_periods(frame[time]):
            return
        now = _seconds(frame[time], frame, entity)
        if not now:
            return
        ratio = now / float(trained)
        if ratio > 2 or ratio < 0.5:
            words = [span_words(pd.Timedelta(seconds=v)) for v in (now, float(trained))]
            warnings.warn(
                f"{source}: rows about {words[0]} apart, where the "
                f"predictor was trained on rows {words[1]} apart: its lags "
                "and windows count rows, so these forecasts rest on features it never "
                "learnt from; give rows spaced as the training rows were",
                stacklevel=5,
            )

    def check(self, frame: pd.DataFrame, source: str = "data") -> pd.DataFrame:
        """``frame``'s input columns, each converted to its training kind; a
        :class:`DataError` names a missing column or one that is not of its kind. A
        time written in parts (``data.series.time_parts``) is read as one date, and a
        wide price table (``data.series.columns``) stacked, as training did."""
        series = self.series or {}
        if series.get("time_parts"):
            from automl_fin.data._time_parts import compose_time

            frame = compose_time(frame, series["time_parts"], series["time"], source)
        if series.get("columns"):
            from automl_fin.data._wide_prices import long_prices

            frame = long_prices(frame, series["time"], series["columns"], source, new=True)
        missing = [c for c in self.columns if c not in frame.columns]
        if missing:  # the same name in another Unicode form (NFD's 'a' + combining accent)
            frame = _same_text(frame, missing)
            missing = [c for c in self.columns if c not in frame.columns]
        if missing:
            alike = _alike(missing, [c for c in frame.columns if c not in self.columns])
            said = "; ".join(f"{theirs!r} for {ours!r}" for ours, theirs in alike.items())
            # a price series' lags of its exogenous columns need the latest rows' values
            empty = (
                "with the values of the rows to forecast from"
                if series
                else "(empty values are allowed: they are filled in as the training rows' were)"
            )
            raise DataError(
                f"{source}: missing column(s) {', '.join(map(repr, missing))} that the "
                f"predictor was trained with; add them {empty}"
                + (f"; rename the columns named alike ({said})" if alike else "")
            )
        frame = plain_dtypes(frame, source, columns=self.columns, say=False)  # as training
        dtypes = frame.dtypes  # once: a Series per column costs ~1 ms on a wide table
        plain = [  # numbers already: checked as one block (10,000 columns: 4 s -> 0.1 s)
            name
            for name, kind in self.columns.items()
            if kind is ColumnKind.NUMERIC
            and not isinstance(dtypes[name], pd.api.extensions.ExtensionDtype)
            and ptypes.is_numeric_dtype(dtypes[name])
            and not ptypes.is_bool_dtype(dtypes[name])
        ]
        block = _finite(frame[plain], source) if plain else None
        done = set(plain)
        whole = self.whole and (self.series is None or self.series_parts()[3])
        out = {
            name: _padded(
                _convert(
                    frame[name],
                    kind,
                    self.dtypes.get(name, ""),
                    name,
                    source,
                    whole,
                    None if self.written is None else self.written.get(name, ""),
                ),
                self.widths.get(name),
            )
            for name, kind in self.columns.items()
            if name not in done
        }
        rest = pd.DataFrame(out, index=frame.index)
        if block is None:
            return rest
        return pd.concat([block, rest], axis=1)[list(self.columns)]


def code_widths(X: pd.DataFrame) -> dict[str, int]:
    """The columns of ``X`` (categorical, as text) whose values are all digits, of one
    width of 2 or more, some with a leading zero: codes (``007``, ZIP ``02134``), and
    their width."""
    widths = {}
    for name in X.columns:
        col = X[name]
        if not ptypes.is_string_dtype(col) or ptypes.is_object_dtype(col):
            continue
        text = pd.Series(col.dropna().unique(), dtype="str")
        lengths = text.str.len()
        if text.empty or lengths.nunique() != 1 or int(lengths.iloc[0]) < 2:
            continue
        if text.str.fullmatch(r"[0-9]+").all() and text.str.startswith("0").any():
            widths[str(name)] = int(lengths.iloc[0])
    return widths


def _padded(col: pd.Series, width: int | None) -> pd.Series:
    """A code column's values padded with leading zeros to training's ``width`` where
    they are shorter digits (a new row's ``7`` for training's ``007``: ``pd.read_csv``
    reads the codes as numbers, and each was an unknown category)."""
    if not width or not ptypes.is_string_dtype(col):
        return col
    short = col.str.fullmatch(rf"[0-9]{{1,{width - 1}}}").fillna(False).astype(bool)
    return col.where(~short, col.str.zfill(width)) if short.any() else col


def _finite(block: pd.DataFrame, source: str) -> pd.DataFrame:
    """Numeric columns with infinite values read as missing, each said (as :func:`_convert`)."""
    infinite = np.isinf(block.to_numpy(dtype=float, na_value=np.nan))
    if not infinite.any():
        return block
    for i in np.flatnonzero(infinite.any(axis=0)):
        warnings.warn(
            f"{source}: infinite values in '{block.columns[i]}' ({int(infinite[:, i].sum())} "
            "rows) are read as missing",
            stacklevel=4,
        )
    return block.mask(infinite)


def _refuse_booleans(
    frame: pd.DataFrame, schema: Schema, reference: dict[str, Any] | None, source: str
) -> None:
    """Refuse True/False in a column whose training values were numbers other than 0
    and 1 (their least and greatest say so; a reference saved before they were kept:
    the deciles): ages read as 1 and 0 without a word, and a count of 0 to 14 whose
    deciles are 0 and 1. A column of 0/1 (a boolean training read as numbers:
    nullable, Arrow) takes them."""
    columns = (reference or {}).get("columns") or {}
    dtypes = frame.dtypes  # once: only True/False columns are looked at (10,000 columns)
    maybe = [ptypes.is_bool_dtype(d) or ptypes.is_object_dtype(d) for d in dtypes]
    for name in dtypes.index[maybe]:
        col = frame[name]
        edges = (columns.get(name) or {}).get("edges") or []
        if schema.columns.get(name) is not ColumnKind.NUMERIC or not edges:
            continue
        if not (ptypes.is_bool_dtype(col) or _booleans_with_blanks(col)):
            continue
        span = (columns.get(name) or {}).get("range")  # (a reference saved before: none)
        low, high = span if span else (edges[0], edges[-1])
        if low < 0 or high > 1:
            raise DataError(
                f"{source}: column '{name}' must be numeric (its training values were "
                f"numbers from {low:g} to {high:g}{'' if span else ' at the deciles'}); found "
                f"{plain(col.dropna().iloc[0])!r} in {int(col.notna().sum())} row(s); fix or "
                "blank those values"
            )


def _warn_percents(
    frame: pd.DataFrame, schema: Schema, reference: dict[str, Any] | None, source: str
) -> None:
    """Warn of numbers written with a percent sign (``45%``, read as 0.45) in a column
    whose training values were not fractions (the training rows' deciles reach past 1):
    income written ``45000%`` became 450 without a word."""
    columns = (reference or {}).get("columns") or {}
    dtypes = frame.dtypes
    for name in dtypes.index[[ptypes.is_string_dtype(d) for d in dtypes]]:
        edges = (columns.get(name) or {}).get("edges") or []
        if schema.columns.get(name) is not ColumnKind.NUMERIC or not edges:
            continue
        if max(abs(edges[0]), abs(edges[-1])) <= 1:
            continue
        text = frame[name].dropna().astype("str").str.strip()
        marked = text[text.str.fullmatch(FORMATTED) & text.str.endswith("%")]  # as read
        if len(marked):
            warnings.warn(
                f"{source}: column '{name}' holds {len(marked)} value(s) written with a "
                f"percent sign ({marked.iloc[0]!r}), read as fractions (45% is 0.45), where "
                f"its training values were not fractions ({edges[0]:g} to {edges[-1]:g} at "
                "the deciles); if the sign is not meant as a share, write the numbers "
                "without it",
                stacklevel=4,
            )


def _booleans_with_blanks(col: pd.Series) -> bool:
    """Whether ``col`` holds Python booleans and missing values only (pandas reads a
    True/False column with an empty cell as objects)."""
    if not ptypes.is_object_dtype(col):
        return False
    present = col.dropna()
    return len(present) > 0 and all(isinstance(v, (bool, np.bool_)) for v in present)


def _convert(
    col: pd.Series,
    kind: ColumnKind,
    dtype: str,
    name: str,
    source: str,
    whole: bool = True,
    written: str | None = None,
) -> pd.Series:
    """``col`` of new rows read as training read its column (``written``: how
    training wrote its numbers, :attr:`Schema.written`)."""

    def refuse(bad: pd.Series, what: str) -> DataError:
        first = plain(col[bad].iloc[0])
        shown = str(first).strip()
        fix = "fix or blank those values"
        if written is not None and (UNITED.fullmatch(shown) or re.fullmatch(CLOCK, shown)):
            way = WAYS.get(written, f"written in {written!r}")
            fix = f"training's were {way}: write them so, or blank them"
        return DataError(
            f"{source}: column '{name}' must be {what} (it was {kind} in training); "
            f"found {first!r} in {int(bad.sum())} row(s); {fix}"
        )

    numeric = kind is ColumnKind.NUMERIC or (
        kind is ColumnKind.CATEGORICAL and dtype and not dtype.startswith(WORDED)
    )
    if numeric:
        if nullable_number(col.dtype):  # Int64 / boolean with <NA>, as training read them
            return pd.Series(col.to_numpy(dtype=float, na_value=np.nan), index=col.index)
        if ptypes.is_bool_dtype(col):
            return col.astype(float)
        if _booleans_with_blanks(col):  # a CSV's True/False column with an empty cell
            return col.where(col.notna(), np.nan).astype(float)
        if ptypes.is_numeric_dtype(col):  # numbers already: no marker to read
            return _finite(col.to_frame(name), source)[name]
        values = numbers_in_text(col, written)[0]
        text = col.astype("str").str.strip()
        marker = text.str.lower().isin(MISSING_TOKENS)
        marked = marker & col.notna() & (text != "")
        if marked.any():  # said, as training says them ("n/a" was missing, unsaid)
            shown = ", ".join(map(repr, pd.unique(col[marked].astype("str"))[:5]))
            warnings.warn(
                f"{source}: column '{name}' ({int(marked.sum())} row"
                f"{'s' * (int(marked.sum()) != 1)}: {shown}) holds missing markers: read as "
                "missing",
                stacklevel=4,
            )
        bad = values.isna() & col.notna() & ~marker
        if bad.any() and kind is ColumnKind.CATEGORICAL:  # codes: a new one is no error
            shown = ", ".join(map(repr, pd.unique(col[bad])[:5]))
            warnings.warn(
                f"{source}: column '{name}' held category codes that were numbers in "
                f"training; {shown} ({int(bad.sum())} row(s)) read as missing",
                stacklevel=4,
            )
        elif bad.any():
            raise refuse(bad, "numeric")
        return _finite(values.to_frame(name), source)[name]
    if kind is ColumnKind.DATETIME:
        if ptypes.is_datetime64_any_dtype(col):
            return parse_dates(col)  # (months stored as nanoseconds: the months)
        # one format for the column, as training read its own (19891124, Ecdat's 800102,
        # 1990 Q1), value by value only where none reads it
        stamps = parse_dates(col)
        bad = stamps.isna() & col.notna() & (col.astype("str").str.strip() != "")
        if bad.any():
            raise refuse(bad, "dates")
        return stamps if dtype.startswith("datetime") else col
    if ptypes.is_string_dtype(col) and not ptypes.is_object_dtype(col):
        return col
    return values_as_text(col, whole=whole)


def _plugin_raised(exc: BaseException, plugins: dict[str, str]) -> str | None:
    """``"spec (provider) raised in stage: Type: text"`` where a third-party plugin's
    spec raised ``exc`` (tagged by :func:`~automl_fin.engine._staged.staged`), as a
    search's trial says it; ``None`` for automl-fin's own specs (their traceback is
    wanted) or an untagged error."""
    from automl_fin.plugin._registry import OWN_DISTRIBUTION

    spec = getattr(exc, "_automl_fin_spec", None)
    provider = plugins.get(spec) if isinstance(spec, str) else None
    if not provider or provider.split(" ", 1)[0] == OWN_DISTRIBUTION:
        return None
    stage = getattr(exc, "_automl_fin_stage", "predict")
    # its notes too: the step at fault says what it did (a preprocessor's other columns)
    text = " ".join("; ".join([str(exc), *getattr(exc, "__notes__", [])]).split())[:600]
    return f"{spec} ({provider}) raised in {stage}: {type(exc).__name__}: {text}"


class Predictor:
    """Refitted pipeline(s) of a leaderboard row; see :func:`automl_fin.load`.

    ``predict`` returns class labels (classification; under a label metric chosen by the
    predictor's decision rule, :attr:`rule`) or values; ``predict_proba`` the class
    probabilities as a DataFrame with one column per class; ``predict_interval``
    (regression) prediction intervals of a given coverage; ``predict_frame`` the table
    ``automl-fin predict`` writes (id columns, prediction, probabilities or interval).
    ``evaluate``, ``feature_importance`` and ``stability`` judge it on new rows.
    ``scores``: the sorted out-of-fold absolute errors behind the intervals;
    ``reference``: the training rows' bins behind the stability check
    (:mod:`automl_fin.results._stability`); ``background``: training rows that
    ``explain`` measures contributions against (:mod:`automl_fin.results._explain`).
    """

    def __init__(
        self,
        members: list[Member],
        schema: Schema,
        manifest: dict[str, Any],
        *,
        scores: np.ndarray | None = None,
        reference: dict[str, Any] | None = None,
        background: pd.DataFrame | None = None,
        trained: np.ndarray | None = None,
    ) -> None:
        self.members = members
        self.schema = schema
        self.manifest = manifest
        self.scores = scores
        self.reference = reference
        self.background = background
        self.trained = trained  # a hash of each training row (results._seen)
        self.path: Path | None = None

    def __repr__(self) -> str:
        """The row it was saved from (``ensemble of logreg#1 + hgb#4``, ``stack of ...``
        or one trial), whether a decision rule labels it, and its score."""
        what = " + ".join(f"{m.model}#{m.trial}" for m in self.members)
        row = str(self.manifest.get("best", {}).get("model", ""))
        if row in ("ensemble", "stack"):
            what = f"{row} of {what}"
        if self.rule is not None:  # the labels are not the arg-max: its score rests on it
            what += " + decision rule"
        metric = self.manifest.get("metric", {})
        target = f"'{self.schema.target}'"
        if self.schema.series is not None:  # "next_return" whatever it forecasts: said
            from automl_fin.engine._recipes import forecast_words

            target = forecast_words(self.schema.series)
        return (
            f"Predictor({self.schema.task} {target}: {what}; "
            f"{metric.get('name')} {metric.get('score', float('nan')):.4f})"
        )

    @property
    def width(self) -> int:
        return len(self.schema.classes) if self.schema.task.is_classification else 1

    @property
    def rule(self) -> Rule | None:
        """The decision rule that picks labels from the probabilities under a label
        metric (:mod:`automl_fin.results._decision`); ``None``: the arg-max."""
        from automl_fin.results._decision import Rule

        return Rule.from_json(self.manifest.get("decision"))

    def _labels(self, proba: np.ndarray) -> pd.Series:
        """Class labels of probabilities ``proba`` under the predictor's rule, typed as
        the labels are (int64 for 1/2/3, str for text), for predict and predict_frame
        alike (predict_frame's were objects)."""
        from automl_fin.results._decision import decide

        if not len(proba):  # no rows: typed as the labels are all the same
            return pd.Series(self.schema.classes).infer_objects().iloc[:0]
        labels = np.asarray(self.schema.classes, dtype=object)[decide(proba, self.rule)]
        return pd.Series(labels).infer_objects()

    def _features(
        self, data: pd.DataFrame | str | Path, source: str | None = None, keep: Sequence[str] = ()
    ) -> tuple[pd.DataFrame, pd.DataFrame]:
        """The model's feature rows and the (checked) input rows they came from;
        ``source``: how messages name ``data``, a frame read from a file by the caller;
        ``keep``: columns carried through, read from a file as written (an input column
        as training read it)."""
        frame, named = _frame(data, self.schema, keep)
        source = source or named
        _refuse_booleans(frame, self.schema, self.reference, source)
        _warn_percents(frame, self.schema, self.reference, source)
        checked = self.schema.check(frame, source)
        if self.schema.series is None:
            X = checked[self.schema.features]
            self._warn_constant(frame, source)
            if self.reference is not None:
                from automl_fin.results._stability import unseen, unseen_words

                if said := unseen(self.reference, X):
                    warnings.warn(
                        f"{source}: values no training row held, each read as an unknown "
                        f"category (a new one, or one spelt another way): {said}",
                        stacklevel=3,
                    )
                if said := unseen_words(self.reference, X):
                    warnings.warn(
                        f"{source}: texts none of whose words a training text held, so no "
                        "model learnt from them (a word-count model, TF-IDF, predicts each "
                        f"as it would an empty text): {said}",
                        stacklevel=3,
                    )
            blank = X.isna()
            for name, kind in self.schema.columns.items():  # a text of spaces: no words
                if kind is ColumnKind.TEXT and name in X:
                    blank[name] |= X[name].astype("str").str.strip().eq("").to_numpy()
            empty = blank.all(axis=1).to_numpy()
            if empty.any():
                first = frame.index[np.argmax(empty)]
                warnings.warn(
                    f"{source}: {int(empty.sum())} row(s) (the first: index {first}) have no "
                    "value in any feature column; each gets the same prediction, the "
                    "model's answer for an empty row",
                    stacklevel=3,
                )
            return X, frame
        X, origin = _latest_window(checked, self.schema, source)
        self._warn_new_series(origin, source)
        return X, origin

    def _warn_constant(self, frame: pd.DataFrame, source: str) -> None:
        """Warn where new rows hold other values in a column left out of training for
        holding one value there (``branch`` all NYC: no model learnt what LA changes)."""
        constant = (self.manifest.get("training") or {}).get("constant") or {}
        moved = []
        for name, value in constant.items():
            if name in frame.columns:
                seen = frame[name].dropna()
                number = pd.to_numeric(pd.Series([value]), errors="coerce").iloc[0]
                if ptypes.is_numeric_dtype(seen) and pd.notna(number):  # 7 read as 7.0
                    other = seen[seen.astype(float) != float(number)]
                else:
                    other = seen[seen.astype("str") != value]
                if len(other):
                    moved.append(f"'{name}' ({len(other)} rows, e.g. {other.iloc[0]!r}; "
                                 f"training: {value!r})")  # fmt: skip
        if moved:
            warnings.warn(
                f"{source}: column(s) {', '.join(moved)} held one value in every training "
                "row and are no input of the model: rows of other values are predicted as "
                "if they held it",
                stacklevel=4,
            )

    def _warn_known_origins(self, origin: pd.DataFrame, source: str) -> None:
        """Say which forecasts start from an origin the predictor was trained on (up to
        its last: their outcomes are known; ``evaluate`` said so, ``predict`` did not)."""
        from automl_fin.results._seen import stamp_text

        until = (self.manifest.get("training") or {}).get("until")
        old = _known_origins(origin, self.schema, until)
        if old:
            more = f" and {len(old) - 5} more" if len(old) > 5 else ""
            warnings.warn(
                f"{source}: the forecast of {', '.join(old[:5])}{more} starts from an origin "
                f"the predictor was trained on (up to {stamp_text(until)}): its outcome is known "
                "already; pass rows up to the latest time to forecast ahead",
                stacklevel=4,
            )

    def _warn_new_series(self, rows: pd.DataFrame, source: str) -> None:
        """Warn about series of a price table's ``rows`` it was not trained on."""
        from automl_fin.results._seen import warn_new_series

        entity = (self.schema.series or {}).get("entity")
        if entity:
            known = (self.manifest.get("training") or {}).get("series")
            warn_new_series(known, rows[entity], source, entity)

    def _blend(self, X: pd.DataFrame) -> np.ndarray:
        from automl_fin.engine._predictions import blend
        from automl_fin.errors import AutomlFinError
        from automl_fin.results._artifacts import version_changes
        from automl_fin.results._recalibration import mapping
        from automl_fin.results._stacking import Stacker

        if not len(X):  # no rows: no prediction (scikit-learn refuses 0 samples)
            classes = len(self.schema.classes) if self.schema.task.is_classification else 0
            return np.empty((0, classes) if classes else 0)
        # a small batch on one thread: a bag of 15 histogram-boosting models forked
        # OpenMP threads for every tree of one row, 1.06 s a row (p95 5.6 s on a busy
        # host) against 0.16 s (ISLR Default's predictor); large batches use every core
        one = _one_thread() if len(X) < SMALL_BATCH else contextlib.nullcontext()
        try:
            with one:
                return blend(
                    [m.pipeline for m in self.members],
                    [m.weight for m in self.members],
                    X.reset_index(drop=True),
                    self.width,
                    [m.model for m in self.members],
                    Stacker.combine_of(self.manifest.get("stacker")),  # a stack's layer 2
                    mapping(self.manifest.get("recalibration")),  # an ensemble's, on its mean
                )
        except (AutomlFinError, MemoryError):
            raise
        except Exception as exc:  # under other versions than it was saved with: said so
            differ = version_changes(self.manifest.get("versions") or {})
            said = _plugin_raised(exc, self.manifest.get("plugins") or {})
            if said and not differ:  # a third-party plugin's code: named, as in a search
                raise PluginError(
                    f"predictor {self.path or 'in memory'} failed to predict: {said}; fix "
                    "the plugin, or run the study without that model (--debug shows the "
                    "traceback)"
                ) from exc
            if not differ:  # (the same versions: a bug, its traceback is wanted)
                raise
            text = " ".join(str(exc).split())[:200]
            raise ArtifactError(
                f"predictor {self.path or 'in memory'} failed to predict ({type(exc).__name__}: "
                f"{text}); it was saved with other package versions ({'; '.join(differ)}), "
                "the likely cause: install those, or run the study again to save it anew "
                "(--debug shows the traceback)"
            ) from exc

    def _watch(
        self, X: pd.DataFrame, raw: np.ndarray, source: str, *, say_seen: bool = True
    ) -> pd.DataFrame | None:
        """The stability table of these rows (``MIN_ROWS`` or more, a saved reference,
        not a price series), with a :class:`ShiftWarning` above the shift line. Where
        the score shifted and the rows are mostly the training rows, their scores are
        fitted ones, not a shift (the training table given to ``predict`` warned of a
        score PSI of 2.29, a helper's find): the score is left out of the warning, and
        (``say_seen``) a :class:`~automl_fin.results._seen.SeenWarning` says so."""
        from automl_fin.results import _stability as st

        if self.reference is None or self.schema.series is not None or len(X) < st.MIN_ROWS:
            return None
        table = st.stability_table(self.reference, X, self._score(raw))
        score = table["column"] == st.SCORE
        shifted = bool((table.loc[score, "psi"] > st.SHIFT).any())
        if shifted and self.trained is not None:  # (rows hashed only then)
            from automl_fin.results._seen import SeenWarning, many_seen, repeated_share, seen

            learnt = seen(self.trained, X)
            if many_seen(learnt, len(X), repeated_share(self.manifest)):
                st.warn_shift(table[~score], source, len(X))
                if say_seen:
                    warnings.warn(
                        f"{source}: {learnt} of the {len(X)} rows ({learnt / len(X):.0%}) are "
                        "rows the predictor was trained on: their predictions are fitted to "
                        "them (the score's shift from the training rows' is theirs), not what "
                        "new rows get",
                        SeenWarning,
                        stacklevel=3,
                    )
                return table
        st.warn_shift(table, source, len(X))
        return table

    def stability(self, data: pd.DataFrame | str | Path) -> pd.DataFrame:
        """Population stability index (PSI) of the score and of each numeric and
        categorical column between the training rows and ``data``: columns ``column``
        (``(score)`` first), ``kind``, ``psi``, ``shift`` (stable below 0.1, moderate,
        significant above 0.25). See :mod:`automl_fin.results._stability`."""
        from automl_fin.results import _stability as st

        if self.schema.series is not None:
            raise ArtifactError("stability: price series drift by design; there is no check")
        if self.reference is None:
            raise ArtifactError(
                "stability: this predictor was saved without training bins (before the "
                "check existed); run the search again to save them"
            )
        X, _ = self._features(data)
        if not len(X):  # the shares of no rows: every bin 0, a "significant" shift
            raise DataError(
                f"stability: {_frame_source(data)} has no rows to compare with the "
                "training rows' shares"
            )
        return st.stability_table(self.reference, X, self._score(self._blend(X)))

    def _score(self, raw: np.ndarray) -> np.ndarray:
        """The stability check's score of predictions ``raw``, labelled as the saved
        reference's rows were (:func:`~automl_fin.results._stability.score_rule`)."""
        from automl_fin.results import _stability as st

        rule = st.score_rule(self.reference or {}, self.rule)
        return st.score_of(raw, self.schema.task, self.schema.classes, rule)

    def evaluate(self, data: pd.DataFrame | str | Path) -> pd.DataFrame:
        """Every metric of the recipe (the search metric first) on labelled rows
        ``data`` (the target column included): one row a metric, columns ``direction``,
        ``predictor`` and ``prior`` (the training class shares or mean, the baseline any
        model must beat). ``attrs["rows"]``: how many rows were scored. A price
        predictor takes a price table: a forecast from every origin with a known
        outcome, scored beside the ``random_walk`` (``attrs["origins"]``: first, last)."""
        from automl_fin.results._evaluation import evaluate

        return evaluate(self, data)

    def feature_importance(
        self, data: pd.DataFrame | str | Path, *, repeats: int = 5, seed: int = 0
    ) -> pd.DataFrame:
        """Permutation importance of each original input column on labelled rows
        ``data`` (give held-out rows: on training rows it measures memory, not skill):
        how much the search metric worsens when the column's values are shuffled, over
        ``repeats`` shuffles. Columns ``importance`` (mean loss; near 0 or below: the
        column does not help), ``stddev``, ``ci_low`` / ``ci_high`` (95 % t interval),
        ``p_value`` (one-sided, importance > 0) and ``n``; the most important first."""
        from automl_fin.results._evaluation import feature_importance

        return feature_importance(self, data, repeats=repeats, seed=seed)

    def explain(
        self,
        data: pd.DataFrame | str | Path,
        *,
        top: int = 3,
        outcome: Any = None,
        samples: int = 32,
        seed: int = 0,
    ) -> Explanation:
        """Contributions of each input column to each row's margin, for the whole
        predictor (ensemble, bags and stack included), and the row's ``top`` reason
        codes. The margin is the log-odds of ``outcome`` (default: the positive class of
        a binary task, the last class of a multiclass one) or the predicted value;
        ``samples`` column orders (each paired with a background row) estimate the
        Shapley values, which sum to ``margin - base`` exactly for every row. See
        :mod:`automl_fin.results._explain`."""
        from automl_fin.results._explain import explain

        return explain(self, data, top=top, outcome=outcome, samples=samples, seed=seed)

    def predict_proba(self, data: pd.DataFrame | str | Path) -> pd.DataFrame:
        """Class probabilities of each row of ``data`` (columns: the classes)."""
        if not self.schema.task.is_classification:
            raise TypeError(f"a {self.schema.task} predictor has no predict_proba; use predict")
        X, frame = self._features(data)
        proba = self._blend(X)
        self._watch(X, proba, _frame_source(data))
        return pd.DataFrame(proba, index=frame.index, columns=pd.Index(self.schema.classes))

    def predict(self, data: pd.DataFrame | str | Path) -> pd.Series:
        """Predicted class labels, or values (indexed like ``data``); for a price series
        one forecast per series from its latest window, in the recipe's target units,
        indexed by entity (or by the origin time for a single series)."""
        if self.schema.series is not None:
            table = self.predict_frame(data)
            unit = (
                "forecast_price"
                if self.schema.series.get("target") == "price"
                else ("forecast_return")
            )
            key = self.schema.series.get("entity") or "origin"  # one forecast per series
            return table.set_index(key)[unit]  # named for what it holds: a price or a return
        X, frame = self._features(data)
        raw = self._blend(X)
        self._watch(X, raw, _frame_source(data))
        if self.schema.task.is_classification:
            return self._labels(raw).set_axis(frame.index).rename(self.schema.target)
        return pd.Series(raw, index=frame.index, name=self.schema.target)

    def interval_half_width(self, coverage: float = 0.9) -> float:
        """Half the width of the prediction interval of ``coverage`` (split-conformal on
        the best row's out-of-fold errors, see :mod:`automl_fin.results._intervals`):
        every row's where the intervals have one width; where they widen with the
        prediction (``manifest["interval"]["scale"]``), a typical row's (at the median
        of the error scales): :meth:`predict_interval` gives each row's bounds."""
        scale = (self.manifest.get("interval") or {}).get("scale")
        typical = float(np.median(scale["scales"])) if scale else 1.0
        return self._factor(coverage) * typical

    def _factor(self, coverage: float) -> float:
        """The conformity scores' quantile for ``coverage``: the half-width itself, or
        where the intervals widen, the multiple of each row's error scale."""
        from automl_fin.results._intervals import half_width

        if self.schema.task.is_classification:
            why = (
                "a classification predictor has none; its probabilities are the "
                "proba_<class> columns (predict_proba)"
            )
        elif self.schema.series is not None:
            why = "price forecasts have none: walk-forward errors are not exchangeable"
        elif self.scores is None:
            why = (self.manifest.get("interval") or {}).get("why") or "saved without them"
        else:
            try:
                return half_width(self.scores, coverage)
            except ValueError as exc:
                why = str(exc)
        raise ArtifactError(f"prediction intervals: {why}")

    def predict_interval(
        self, data: pd.DataFrame | str | Path, coverage: float = 0.9
    ) -> pd.DataFrame:
        """Predictions with intervals that hold the true value with probability
        ``coverage`` for rows drawn like the training rows: columns ``prediction``,
        ``lower``, ``upper`` (indexed like ``data``)."""
        factor = self._factor(coverage)
        X, frame = self._features(data)
        raw = self._blend(X)
        lower, upper = self._bounds(raw, factor)
        return pd.DataFrame({"prediction": raw, "lower": lower, "upper": upper}, index=frame.index)

    def _bounds(self, raw: np.ndarray, factor: float) -> tuple[np.ndarray, np.ndarray]:
        """The intervals' bounds: ``factor`` (:meth:`_factor`) times the error's scale
        at each prediction, cut at zero for a target never negative in training
        (manifest ``interval.floor``), with a warning counting the predictions below it
        (their intervals, cut there, do not hold them)."""
        from automl_fin.results._intervals import bounds, scale_at

        facts = self.manifest.get("interval") or {}
        floor = facts.get("floor")
        below = int((raw < floor).sum()) if floor is not None else 0
        if below:
            warnings.warn(
                f"{below} of {len(raw)} predictions are below {floor:g}, which "
                f"'{self.schema.target}' never was in training: their intervals are cut at "
                f"{floor:g} and do not hold them; read such a prediction as {floor:g}",
                stacklevel=3,
            )
        return bounds(raw, factor * scale_at(facts.get("scale"), raw), floor)

    def predict_frame(
        self,
        data: pd.DataFrame | str | Path,
        *,
        keep: Sequence[str] = (),
        interval: float | None = None,
        explain: int = 0,
        outcome: Any = None,
    ) -> pd.DataFrame:
        """The prediction table: the input's id columns (when present) and the ``keep``
        columns of the input, carried through row for row (e.g. a ``loan_id`` training
        never saw), then ``prediction`` and, for classification, ``proba_<class>`` per
        class; for regression with ``interval`` (a coverage, e.g. 0.9) ``lower`` and
        ``upper``. For a price series: entity, origin time, horizon, ``forecast_return``
        and ``forecast_price`` (one row per series: ``keep`` does not apply).
        Indexed like ``data``'s rows (a file's: 0, 1, ...).
        ``explain=k`` adds ``reason_1`` … ``reason_k``, each row's reason codes (see
        :meth:`explain`; ``outcome``: the class whose score they raised, by default the
        positive or last one). ``attrs["stability"]``: the rows' stability table (see
        :meth:`stability`), when there are ``MIN_ROWS`` (100) rows or more."""
        width = None if interval is None else self._factor(interval)
        if self.schema.series is not None and (explain or keep):
            why = "has no per-column inputs" if explain else "has one row per series, not per row"
            raise (ArtifactError if explain else DataError)(
                f"{'--explain' if explain else '--keep'}: a price forecast {why}"
            )
        X, frame = self._features(data, keep=keep)
        missing = [c for c in keep if c not in frame.columns]
        if missing:
            raise DataError(
                f"--keep: no column {', '.join(map(repr, missing))} in the data; columns: "
                f"{', '.join(map(str, frame.columns[:30]))}"
            )
        ids = list(dict.fromkeys([*(c for c in self.schema.ids if c in frame.columns), *keep]))
        # a carried column would be overwritten by the table's own, silently
        clash = [c for c in ids if c in self._output_names(width is not None, explain)]
        if clash and self.schema.series is None:
            what = "--keep: the data's column" if clash[0] in keep else "the id column"
            raise DataError(
                f"{what} {clash[0]!r} has the name of a column the prediction table "
                f"writes; rename it in the data (e.g. {clash[0]}_before)"
            )
        raw = self._blend(X)
        if self.schema.series is not None:
            self._warn_known_origins(frame, _frame_source(data))
            return _forecast_table(frame, raw, self.schema)
        stability = self._watch(X, raw, _frame_source(data))
        # indexed like the input rows, as predict is: joined back onto them, row for row
        out = frame[ids].copy() if ids else pd.DataFrame(index=frame.index)
        if self.schema.task.is_classification:
            out["prediction"] = self._labels(raw).set_axis(frame.index)
            for i, c in enumerate(self.schema.classes):
                out[f"proba_{c}"] = raw[:, i]
        else:
            out["prediction"] = raw
            if width is not None:
                out["lower"], out["upper"] = self._bounds(raw, width)
        if explain:
            from automl_fin.results._explain import explain_features

            explained = explain_features(self, X, top=explain, samples=None, outcome=outcome)
            for name in explained.reasons.columns:
                out[name] = explained.reasons[name].to_numpy()
            out.attrs["reasons"] = explained.units  # what they raised: said by the CLI
        if stability is not None:  # plain records: pd.concat compares attrs with ==
            out.attrs["stability"] = stability.to_dict(orient="records")
        return out

    def _output_names(self, interval: bool, explain: int) -> set[str]:
        """The columns :meth:`predict_frame` writes after the carried ones."""
        names = {"prediction", *(f"reason_{i + 1}" for i in range(explain))}
        if self.schema.task.is_classification:
            return names | {f"proba_{c}" for c in self.schema.classes}
        return names | ({"lower", "upper"} if interval else set())


def _frame_source(data: Any) -> str:
    """How warnings name ``data``: a file by its path, a frame (or a Polars table, a
    Series) as ``data``, never by its printed contents."""
    return str(data) if isinstance(data, (str, os.PathLike)) else "data"


def _frame(
    data: pd.DataFrame | str | Path, schema: Schema, keep: Sequence[str] = ()
) -> tuple[pd.DataFrame, str]:
    """``data`` as a table and how warnings name it; a file read as training read its
    own: text columns as written (:meth:`Schema.text_columns`, and the ``keep`` columns
    that are no input: a loan id with a blank cell was ``1.2345678901234568e+16``,
    17-digit ids one float apart made equal), a ``;``-separated one's
    numbers in training's decimal mark where its values do not say. A Series whose
    index holds every input column is one row (``X.iloc[0]``; it was read as one column,
    "missing column(s)" naming the columns it held)."""
    if (
        isinstance(data, pd.Series)
        and schema.series is None
        and set(schema.columns) <= set(map(str, data.index))
    ):
        data = data.to_frame().T.infer_objects()
    data, source = as_data(data, none=False), _frame_source(data)
    if not isinstance(data, pd.DataFrame):
        from automl_fin.data._dataset import read_table

        # (a Parquet file's two-level names too)
        try:
            text = [*schema.text_columns(), *(c for c in keep if c not in schema.columns)]
            data = read_table(data, text=text, decimal=schema.decimal)
        except DataError as exc:  # a header and no row (no new loan today): no prediction,
            if "has no data rows" not in str(exc):  # as for a frame of no rows
                raise
            data = read_table(data, header_only=True)
    return as_table(data, source, say=False), source


def _latest_window(
    checked: pd.DataFrame, schema: Schema, source: str
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Features of each series' latest time step (its forecast origin)."""
    from automl_fin.data._timeseries import known_prices, series_features

    time, entity, cfg, whole = schema.series_parts()
    if not len(checked):  # (a KeyError of row -1 where no series names its rows)
        raise DataError(
            f"{source}: no rows; a forecast needs each series' latest prices, as many rows "
            "as its longest lag or window"
        )
    checked = known_prices(checked, time, entity, cfg, source, whole_ids=whole)  # as trained
    schema.check_spacing(checked, source)
    keys = [entity, time] if entity else [time]
    frame = checked.sort_values(keys, kind="stable").reset_index(drop=True)
    feats = series_features(frame, time=time, entity=entity, cfg=cfg)
    last = frame.groupby(entity, sort=True).tail(1).index if entity else pd.Index([len(frame) - 1])
    X = feats.loc[last]
    if entity:
        X.insert(0, entity, frame.loc[last, entity].astype("str"))
        _warn_stale(frame, last, time, entity, source)
    incomplete = X.isna().any(axis=1)
    if incomplete.any():
        why = _incomplete(frame, X, X.index[incomplete][0], time, entity, cfg, source)
        if incomplete.all() or not entity:
            raise DataError(why)
        # as training leaves a series too short for the features out: the others are
        # forecast (one new listing refused every ticker's forecast)
        left = [str(v) for v in frame.loc[X.index[incomplete], entity]]
        more = f" and {len(left) - 5} more" if len(left) > 5 else ""
        warnings.warn(
            f"{source}: no forecast for {', '.join(left[:5])}{more}, forecast for the "
            f"other series; the first: {why.removeprefix(f'{source}: ')}",
            stacklevel=5,
        )
        X, last = X[~incomplete], last[~incomplete.to_numpy()]
    return X[schema.features], frame.loc[last]


STALE_STEPS = 5  # a series whose latest row is this many steps behind the others' is said


def _seconds(times: Any, frame: pd.DataFrame, entity: str | None) -> float | None:
    """The usual step of the series' ``times`` in seconds (each series its own steps,
    :func:`~automl_fin.data._timeseries.usual_step`), or ``None``."""
    from automl_fin.data._timeseries import usual_step

    if times is None or len(times) < 3:
        return None
    step = usual_step(times, frame[entity] if entity else None)
    return None if pd.isna(step) else float(step.total_seconds())


def _warn_stale(frame: pd.DataFrame, last: pd.Index, time: str, entity: str, source: str) -> None:
    """Say which series' latest row is more than :data:`STALE_STEPS` typical steps behind
    the latest of the others: its forecast is from then (NASDAQ to 2018-12-31 beside
    MSFT to 2017-11-10 forecast MSFT from 2017 without a word; the bundled ``equities``
    panel is such a table)."""
    from automl_fin.data._timeseries import when_written

    step = frame.groupby(entity, sort=False)[time].diff().median()
    origins = frame.loc[last, time]
    if len(origins) < 2 or pd.isna(step) or not step:
        return
    behind = origins < origins.max() - STALE_STEPS * step
    if behind.any():
        names = [
            f"{frame.loc[i, entity]} ({when_written(frame.loc[i, time])})"
            for i in origins.index[behind]
        ]
        more = f" and {len(names) - 5} more" if len(names) > 5 else ""
        warnings.warn(
            f"{source}: the latest rows of {', '.join(names[:5])}{more} are more than "
            f"{STALE_STEPS} steps behind the other series' ({when_written(origins.max())}): "
            "each is forecast from its own latest row; add its recent rows, or leave it out",
            stacklevel=6,
        )


def _incomplete(
    frame: pd.DataFrame,
    X: pd.DataFrame,
    row: Any,
    time: str,
    entity: str | None,
    cfg: Any,
    source: str,
) -> str:
    """Why the features of ``row`` (a series' latest) are incomplete: a value they are
    made of is empty (an exogenous column), or the series is too short for them."""
    who = frame.loc[row, entity] if entity else "the series"
    need = max([cfg.lags, *cfg.windows]) + 1
    held = int((frame[entity] == who).sum()) if entity else len(frame)
    if held >= need:  # history enough: a value the features are made of is empty
        empty = [str(c) for c in X.columns if pd.isna(X.loc[row, c])]
        more = f" and {len(empty) - 5} more" if len(empty) > 5 else ""
        whose = f"{who}'s latest row" if entity else "the latest row"
        return (
            f"{source}: {whose} ({frame.loc[row, time]}) has no value for the features "
            f"{', '.join(map(repr, empty[:5]))}{more}: a value they are made of is empty at "
            "or shortly before that time; fill it in, or leave the rows after the last "
            "complete one out"
        )
    return (
        f"{source}: {who} has too little history at its latest time for the features "
        f"(lags {cfg.lags}, windows {cfg.windows}); give at least {need} rows per series"
    )


def _known_origins(origin: pd.DataFrame, schema: Schema, until: Any) -> list[str]:
    """The series (or ``the series``) forecast from an origin no later than ``until``, the
    last origin the predictor was trained on, where every series' is (rows of the past:
    their outcomes are known already). Only the latest of all series' trained origins is
    kept, so a panel whose series end on different days (one a day before the others:
    its latest row was no trained origin) is not judged series by series."""
    from automl_fin.results._seen import naive_times, time_bound

    s = schema.series or {}
    if until is None:
        return []
    old = np.asarray(naive_times(origin[s["time"]]) <= time_bound(until))
    if not old.all():
        return []
    entity = s.get("entity")
    return [str(v) for v in origin.loc[old, entity]] if entity else ["the series"]


def _forecast_table(origin: pd.DataFrame, raw: np.ndarray, schema: Schema) -> pd.DataFrame:
    s = schema.series or {}
    out = pd.DataFrame(index=range(len(origin)))
    if s.get("entity"):
        out[s["entity"]] = origin[s["entity"]].to_numpy()
    out["origin"] = origin[s["time"]].to_numpy()
    out["horizon"] = int(s.get("horizon", 1))
    out["forecast_return"] = raw
    out["forecast_price"] = origin[s["price"]].to_numpy(dtype=float) * np.exp(raw)
    return out
