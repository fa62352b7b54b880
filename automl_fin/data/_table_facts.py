"""Facts a recipe states about one table, settled against the table at hand.

A recipe describes a task (metric, validation, space, budget) and, for its bundled data,
facts about one table: its positive class, its class names, derived, dropped and typed
columns, its time, price and entity columns. When ``--data`` replaces the recipe's own
data those facts are *hints* (:func:`loosened`): each applies where the new table has it
and is otherwise inferred, or left out with a warning. A fact the user restates
(``--target``, ``--set data.positive_class=...``) stays binding, and so does every fact
when the data is the recipe's own.

:func:`settle` returns the recipe as it applies to the table, every inferred fact written
in, so a run reopened on the same data resolves the same way without inferring again,
and the notes the run summary shows (what was inferred, and how to change it).
"""

from __future__ import annotations

import difflib
import numbers
import shlex
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
from pandas.api import types as ptypes

from automl_fin.data._dataset import infer_kinds, looks_like_datetime
from automl_fin.data._dtypes import values_as_text
from automl_fin.data._tidy import numbers_in_text, plain, with_column
from automl_fin.data._timeseries import calendar_parts, copies
from automl_fin.errors import DataError, RecipeError
from automl_fin.plugin._specs import ColumnKind, Task

if TYPE_CHECKING:
    from automl_fin.engine._recipes import Recipe

__all__ = [
    "FACTS",
    "Settled",
    "check_column_options",
    "infer_positive",
    "loosened",
    "period_count",
    "settle",
]

# recipe fields that describe one table rather than the task
FACTS = (
    "data.positive_class",
    "data.classes",
    "data.derive",
    "data.drop",
    "data.columns",
    "data.time",
    "data.entity",
    "data.series.price",
    "data.series.exogenous",
    "model_options",  # the options of a model that name columns (ModelSpec.column_options)
)
# labels that conventionally mark the event a credit model predicts (lower case)
POSITIVE = (
    "1", "true", "yes", "y", "t", "bad", "default", "defaulted", "denied", "deny",
    "delinquent", "charged off", "charged_off", "fraud", "churn", "positive", "event",
)  # fmt: skip
PRICE_NAMES = ("adj_close", "adjusted_close", "adj_price", "close", "price")
TIME_NAMES = ("date", "datetime", "timestamp", "time", "day")
PERIOD_NAMES = ("t", "period", "step")  # a numeric time column that counts periods


@dataclass
class Settled:
    """A recipe settled against one table: the recipe as applied, the table with its
    derived columns, and what was inferred (one note each)."""

    recipe: Recipe
    frame: pd.DataFrame
    source: str
    notes: list[str] = field(default_factory=list)


def loosened(
    recipe: Recipe, data: str | Path | pd.DataFrame | None, explicit: Iterable[str]
) -> frozenset[str]:
    """The facts of ``recipe`` that are only hints for ``data``: all of :data:`FACTS`
    when ``data`` (or ``data.path`` / ``data.dataset`` among ``explicit``) replaces the
    recipe's own data, but those the user set (``explicit`` dotted keys, a section
    naming all its fields); none when ``data`` is the recipe's."""
    own = recipe.data.dataset or recipe.data.path
    said = list(explicit)
    # --set data.path=FILE is --data FILE spelt another way (its facts were binding:
    # "data.positive_class 'bad' is not a value of 'card'"), from a batch's own entry too
    swapped = data is None and any(k in ("data.path", "data.dataset") for k in said)
    if (data is None and not swapped) or not own:
        return frozenset()
    same_file = not isinstance(data, pd.DataFrame) and recipe.data.path and not recipe.data.dataset
    if (
        data is not None
        and same_file
        and Path(data).resolve() == Path(str(recipe.data.path)).resolve()
    ):
        return frozenset()
    return frozenset(f for f in FACTS if not any(f == k or f.startswith(k + ".") for k in said))


def settle(recipe: Recipe, frame: pd.DataFrame, source: str, soft: frozenset[str]) -> Settled:
    """Apply ``recipe``'s table facts to ``frame``: hints (``soft``) that do not fit
    are replaced by inference, binding facts that do not fit are refused (one line)."""
    out = Settled(recipe.model_copy(deep=True), frame, source)
    cfg = out.recipe.data
    _stated_categories(out)
    _derive(out, source, soft)
    _columns(out, source, soft)
    if cfg.series is not None:
        _series(out, source, soft)
        return out
    if cfg.time and cfg.time not in out.frame.columns and "data.time" in soft:
        _warn(source, f"has no time column '{cfg.time}' (data.time): rows are not in time order")
        cfg.time = None
    _time_axis(out, source)
    if cfg.target and cfg.target in out.frame.columns:
        _target_facts(out, source, soft)
    return out


def check_column_options(
    recipe: Recipe,
    kinds: Mapping[str, ColumnKind],
    models: Mapping[str, Any],
    soft: frozenset[str],
    source: str,
    notes: list[str] | None = None,
) -> None:
    """Model options that name columns (``ModelSpec.column_options`` of ``models``) and
    name one the data lacks: refused in one line, or, when they are hints (``soft``),
    left out of ``recipe`` (the settled copy), said on an inferred line (``notes``) or
    in a warning. ``monotone_constraints``
    on a column that is not numeric (``kinds``: the feature columns' kinds) is refused:
    after encoding it is no longer one feature, so every trial would fail on it."""
    have = set(map(str, kinds))
    for model, options in recipe.model_options.items():
        spec = models.get(model)
        for option in getattr(spec, "column_options", ()):
            named = options.get(option)
            if not isinstance(named, Mapping):
                continue
            where = f"model_options.{model}.{option}"
            if option == "monotone_constraints":
                named = options[option] = _numeric_only(recipe, where, named, kinds, soft, notes)
            missing = [str(c) for c in named if str(c) not in have]
            if not missing:
                continue
            if "model_options" not in soft:
                near = difflib.get_close_matches(missing[0], sorted(have), n=3)
                raise RecipeError(
                    recipe.source,
                    where,
                    f"no column {', '.join(map(repr, missing))} in the data"
                    + (f" (nearest: {', '.join(near)})" if near else "")
                    + "; name a column of the data or remove the entry",
                )
            options[option] = {c: v for c, v in named.items() if str(c) not in missing}
            said = f"has no column {', '.join(missing)}: left out of {where}"
            if notes is None:
                _warn(source, said)
            else:  # the recipe's hints for its own table: an inferred line
                notes.append(f"this table {said}")


def _numeric_only(
    recipe: Recipe,
    where: str,
    named: Mapping[str, Any],
    kinds: Mapping[str, ColumnKind],
    soft: frozenset[str],
    notes: list[str] | None,
) -> dict[str, Any]:
    """``named`` without the monotone constraints on columns of the data that are not
    numeric where they are the recipe's hints for its own table (``pricing``'s
    ``term`` of Lending Club, written ``36 months`` in another export: said on an
    inferred line), or with none (0); a user's own is refused, with a way that works
    (the mapping given whole: a derived column's constraint beside it was refused
    again, the recipe's entry still there)."""
    kept = {}
    for column, sign in named.items():
        kind = kinds.get(str(column))
        if kind is None or kind is ColumnKind.NUMERIC:
            kept[column] = sign
        elif "model_options" in soft and notes is not None:
            notes.append(f"this table's '{column}' is {kind}: left out of {where}")
        elif sign:  # (0 constrains nothing: no reason to refuse it)
            others = ", ".join(f"{c}: {v}" for c, v in named.items() if c != column)
            raise RecipeError(
                recipe.source,
                where,
                f"column '{column}' is {kind}, and monotone constraints apply to numeric "
                f"columns only; give the constraints without it, whole: --set "
                f"'{where}={{{others}}}' (a column mapped to numbers, data.derive: "
                f"{{{column}_n: {{source: {column}, map: {{...: 0, ...: 1}}}}}}, may be one)",
            )
    return kept


def _warn(source: str, text: str) -> None:
    warnings.warn(f"{source} {text}", stacklevel=4)


def _stated_categories(out: Settled) -> None:
    """Pandas ``category`` columns (a DataFrame's, a Parquet file's dictionary columns)
    as text, as a predictor reads new rows of a categorical column. Their kind is the
    table's word: categories of digits (merchant codes 5411, NAICS, ZIP codes, flight
    numbers) are codes, written into ``data.columns`` as categorical; read as text they
    were numbers (scaled: ROC AUC 0.51 where one-hot scored 0.90) or years. A kind the
    recipe gives wins (numeric: the codes read as numbers)."""
    cfg, frame = out.recipe.data, out.frame
    stated = [c for c, t in frame.dtypes.items()
              if c != cfg.target and isinstance(t, pd.CategoricalDtype)]  # fmt: skip
    series = cfg.series
    roles = {cfg.time, cfg.entity, *(cfg.drop or [])} | (  # what the table's shape names
        {series.price, *series.exogenous, *(series.columns or []), *(series.time_parts or [])}
        if series is not None
        else set()
    )
    coded = []
    for name in stated:
        text = values_as_text(frame[name])
        given = cfg.columns.get(name)
        numbers = text.dropna().str.fullmatch(r"[+-]?\d+(?:\.\d+)?").all()
        if given is ColumnKind.NUMERIC or (given is None and name in roles and numbers):
            text = numbers_in_text(text)[0]  # (a time of period numbers, as it was read)
        elif given is None and name not in roles and numbers:  # codes, not quantities
            read = infer_kinds(text.to_frame(name)).get(name)
            if read is not ColumnKind.ID:  # (read as dates, or as numbers, before)
                cfg.columns[name] = ColumnKind.CATEGORICAL
                coded.append(name)
        out.frame = frame = with_column(frame, name, text)  # words: dates, text, categories
    if coded:
        out.notes.append(
            f"pandas categories {_short(coded)} hold numbers: read as categories (codes), "
            "not quantities; --set data.columns.NAME=numeric reads one as numbers"
        )


def _derive(out: Settled, source: str, soft: frozenset[str]) -> None:
    """``data.derive``: each rule adds its column (every value of the source mapped).
    A rule that does not fit the table is refused, or, as a hint (``soft``: a recipe's
    rule for its own table, on yours), left out with a warning: its source column is
    missing or holds values it does not map, the table has a column of the rule's name
    already (``risk_tier``'s ``tier`` from ``grade`` replaced a table's own ``tier``
    target without a word), or its source is the target (a feature made of the target:
    ``--target grade`` trained on a ``tier`` that new rows could not give)."""
    cfg = out.recipe.data
    kept = {}
    for name, rule in cfg.derive.items():
        values = out.frame[rule.source].astype("str") if rule.source in out.frame else None
        unmapped = [] if values is None else sorted(set(values.dropna()) - set(rule.map))
        where, why, fix = f"data.derive.{name}", "", ""
        if values is None:
            where, why = f"{where}.source", f"column '{rule.source}' is not in {source}"
        elif name in out.frame.columns:
            why = f"{source} has a column '{name}' already"
            fix = "; give the derived column another name"
        elif rule.source == cfg.target:
            why = f"its source '{rule.source}' is the target (a feature made of it gives it away)"
            fix = "; derive from another column"
        elif unmapped:
            shown = ", ".join(map(repr, unmapped[:5]))
            where, why = f"{where}.map", f"no value for {shown} of column '{rule.source}'"
            fix = "; map every value"
        if why and "data.derive" not in soft:
            raise RecipeError(out.recipe.source, where, why + fix)
        if why and values is None:  # the recipe's rule for its own table: a hint, noted
            out.notes.append(
                f"the recipe's data.derive.{name} reads '{rule.source}', which this table "
                "lacks: left out"
            )
        elif why:
            _warn(source, f"does not fit data.derive.{name}, a rule for the recipe's own "
                          f"table: left out ({why.removeprefix(f'{source} ')})")  # fmt: skip
        if why:
            continue
        assert values is not None
        out.frame = with_column(out.frame, name, values.map(rule.map))
        kept[name] = rule
    cfg.derive = kept


def _columns(out: Settled, source: str, soft: frozenset[str]) -> None:
    """``data.drop`` and ``data.columns`` name columns; on another table a missing one
    is a warning (the checks of a binding list stay with :class:`Dataset`)."""
    cfg = out.recipe.data
    present = set(map(str, out.frame.columns))
    if "data.drop" in soft and cfg.target in cfg.drop:  # the recipe's list; the target is asked
        cfg.drop = [n for n in cfg.drop if n != cfg.target]
    for key in ("drop", "columns"):
        names = list(getattr(cfg, key))
        missing = [n for n in names if n not in present]
        found = [n for n in names if n in present and n != cfg.target]
        if key == "drop" and found and "data.drop" in soft:  # a table's own columns, said
            said = (
                "the recipe's list for its own table, leaves out; --set 'data.drop=[]' keeps them"
            )
            _warn(source, f"has column(s) {_short(found)} that data.drop, {said}")
        if missing and f"data.{key}" in soft:  # the recipe's list for its own table: noted
            out.notes.append(
                f"the recipe's data.{key} names {_short(missing)}, which this table lacks: left out"
            )
            value = getattr(cfg, key)
            kept = (
                [n for n in value if n in present]
                if key == "drop"
                else {n: k for n, k in value.items() if n in present}
            )
            setattr(cfg, key, kept)


def _target_facts(out: Settled, source: str, soft: frozenset[str]) -> None:
    """Classes, their order and the positive class, from the target's values."""
    from automl_fin.data._dataset import as_written

    recipe, cfg = out.recipe, out.recipe.data
    column = out.frame[cfg.target]
    y = as_written(column.dropna()) if column.isna().any() else column.dropna()
    observed = sorted(y.unique().tolist(), key=str)
    if recipe.task == Task.REGRESSION or len(observed) < 2:
        return
    dtype = out.frame[cfg.target].dtype
    if (
        isinstance(dtype, pd.CategoricalDtype)
        and dtype.ordered
        and (cfg.classes is None or "data.classes" in soft)
    ):  # the table states the order: a pandas ordered Categorical
        seen = set(observed)
        cfg.classes = [plain(c) for c in dtype.categories if c in seen]
        # an order stated and more than two classes: the ordinal models and QWK (auto
        # read the order and searched as if there were none), unless the recipe says
        ordinal = len(cfg.classes) > 2 and "ordered" not in cfg.model_fields_set
        cfg.ordered = cfg.ordered or ordinal
        out.notes.append(
            f"classes {' < '.join(map(str, cfg.classes))} of '{cfg.target}' in the order of "
            "its ordered categories" + (" (ordinal models searched)" if ordinal else "")
        )
    listed = {str(c) for c in cfg.classes or ()}
    folded = {str(v).strip().casefold(): v for v in observed}
    if (
        cfg.classes is not None
        and "data.classes" in soft
        and listed != set(map(str, observed))
        and {str(c).strip().casefold() for c in cfg.classes} == set(folded)
        and len(folded) == len(observed)
    ):  # Low/Medium/High for the recipe's low/medium/high: its order, the data's spelling
        cfg.classes = [plain(folded[str(c).strip().casefold()]) for c in cfg.classes]
        out.notes.append(
            f"classes {' < '.join(map(str, cfg.classes))} of '{cfg.target}' in the recipe's "
            "order (its labels differ only in case or spaces)"
        )
        listed = {str(c) for c in cfg.classes}
    if cfg.classes is not None and "data.classes" in soft and listed != set(map(str, observed)):
        out.notes.append(
            f"classes {_short(sorted(observed, key=_by_value))} come from '{cfg.target}' "
            "(not the recipe's "
            f"{_short(cfg.classes)})"
        )
        cfg.classes = None
    if (
        recipe.task == "auto"
        and cfg.classes is None
        and "ordered" not in cfg.model_fields_set
        and _scale(observed)
    ):  # ratings, letter grades, low/medium/high from a CSV: their order is the scale's
        cfg.ordered = True  # (only an ordered Categorical was read in order)
        _order(out, observed, source, soft)
        out.notes[-1] += "; ordinal models and qwk searched (unordered: --set data.ordered=false)"
    if cfg.ordered and cfg.classes is None:
        _order(out, observed, source, soft)
    binary = recipe.task == Task.BINARY or (recipe.task == "auto" and len(observed) == 2)
    if not binary or len(observed) != 2:
        return
    if cfg.positive_class is not None:
        if "data.positive_class" not in soft or any(_same(v, cfg.positive_class) for v in observed):
            cfg.positive_class = next(
                (plain(v) for v in observed if _same(v, cfg.positive_class)), cfg.positive_class
            )
            return  # binding: Dataset names the values when it is not one of them
        hint = cfg.positive_class
    else:
        hint = None
        if cfg.classes is not None:
            return  # listed classes: the last one is the positive class
    label, why = infer_positive(y)
    cfg.positive_class = plain(label)
    other = next(v for v in observed if not _same(v, label))
    instead = "" if hint is None else f"the recipe's {hint!r} is not a value of '{cfg.target}'; "
    out.notes.append(
        f"positive class {label!r} of '{cfg.target}' ({instead}{why}); to predict "
        f"{other!r} instead: --set {_shell_arg(f'data.positive_class={_typed(other)}')}"
    )


def infer_positive(y: pd.Series) -> tuple[Any, str]:
    """The positive class of a two-valued target, and why: the one conventional
    positive label (1, true, yes, bad, default, denied, ...) if exactly one value is
    one, else the minority class (on a tie, the value sorting last). Codes 1 and 2 are
    R's factor codes: the second, the event (German credit's original 2 = bad, 700 of
    its 1,000 rows coded 1 = good; survival's 2 = dead), not 1; 1 is a positive label
    beside 0 (or -1) only."""
    values = sorted(y.dropna().unique().tolist(), key=str)
    written = {_label(v).strip().lower() for v in values}
    if written == {"1", "2"}:
        return next(v for v in values if _label(v).strip() == "2"), (
            "codes 1 and 2: the second, as R codes an event"
        )
    usual = [v for v in values if _label(v).strip().lower() in POSITIVE]
    if written - {"1"} - {"0", "-1"} and "1" in written:  # 1 beside 3, 5: a count
        usual = [v for v in usual if _label(v).strip() != "1"]
    if len(usual) == 1:
        return usual[0], "a conventional positive label"
    counts = y.astype("str").value_counts()
    label = min(reversed(values), key=lambda v: counts[str(v)])
    share = counts[str(label)] / counts.sum()
    return label, f"the minority class, {share:.0%} of rows"


def _scale(observed: list[Any]) -> bool:
    """Whether three or more class labels write a known scale (``_class_order``) that is
    a grading: letters only from ``A`` within ``A ... G`` (a lender's grades, a school's;
    compass points N/E/S/W, the 26 letters of a letter-recognition table or status codes
    P/D/C are names, not grades), nor labels that number themselves (``region 1``)."""
    from automl_fin.data._class_order import NUMBERED, scale_order

    known = scale_order(observed)
    if known is None or known[1] in NUMBERED:
        return False
    if known[1] in ("letter grades", "sub-grades"):
        letters = {str(v).strip()[0] for v in observed}
        return "A" in letters and letters <= set("ABCDEFG")
    return True


def _order(out: Settled, observed: list[Any], source: str, soft: frozenset[str]) -> None:
    """``data.ordered`` without listed classes: numbers order themselves, and so do
    labels of a known scale (ratings, letter grades, low/medium/high: ``_class_order``);
    labels of unknown order make the classes plain (a hint) or are refused."""
    from automl_fin.data._class_order import scale_order

    cfg = out.recipe.data
    numeric = pd.to_numeric(pd.Series([str(v) for v in observed]), errors="coerce")
    if numeric.notna().all():
        ordered = [observed[i] for i in numeric.sort_values(kind="stable").index]
        cfg.classes = [plain(v) for v in ordered]
        out.notes.append(f"classes ordered by value: {' < '.join(map(str, ordered))}")
        return
    known = scale_order(observed)
    if known is not None:
        cfg.classes = [plain(v) for v in known[0]]
        out.notes.append(
            f"classes of '{cfg.target}' ordered as {known[1]}: "
            f"{' < '.join(map(str, cfg.classes))}; if that is wrong, list them lowest first: "
            "--set 'data.classes=[LOWEST, ..., HIGHEST]'"
        )
        return
    if "data.classes" not in soft:
        raise RecipeError(
            out.recipe.source,
            "data.ordered",
            "ordered classes need their order: list them in data.classes, lowest first",
        )
    cfg.ordered = False
    out.recipe.metrics = [m for m in out.recipe.metrics if m != "qwk"]
    _warn(
        source,
        f"the order of the classes {_short(observed)} of '{cfg.target}' is unknown: ordinal "
        "models and qwk are left out; to offer them, list these labels lowest first: "
        "--set 'data.classes=[LOWEST, ..., HIGHEST]' (in Python: an ordered Categorical)",
    )


def _series(out: Settled, source: str, soft: frozenset[str]) -> None:
    """A price table: its time, price and entity columns, each inferred when not given
    (or, as a hint, not in the table) and unambiguous; ``data.target`` names the price."""
    cfg = out.recipe.data
    assert cfg.series is not None
    frame, names = out.frame, [str(c) for c in out.frame.columns]
    inferred = []
    if cfg.target is not None and cfg.target in names:  # --target COL: the price to forecast
        if cfg.series.price not in (None, cfg.target) and "data.series.price" not in soft:
            raise RecipeError(
                out.recipe.source,
                "data.target",
                f"names '{cfg.target}' but data.series.price is '{cfg.series.price}'; with "
                "data.series the target is the price's return: give one of them",
            )
        cfg.series.price, cfg.target = cfg.target, None
    if not cfg.series.time_parts and (cfg.time is None or cfg.time not in names):
        cfg.series.time_parts = _time_parts_if_no_dates(frame, cfg.time, soft)
    if cfg.series.time_parts:
        _compose_time(out, source)
        frame, names = out.frame, [str(c) for c in out.frame.columns]
    if cfg.time is None or (cfg.time not in names and "data.time" in soft):
        cfg.time = _infer_time(frame, source)
        inferred.append(f"time '{cfg.time}'")
    if cfg.series.columns:
        _stack_wide(out, source, soft)
        frame, names = out.frame, [str(c) for c in out.frame.columns]
    if cfg.series.price is None or (cfg.series.price not in names and "data.series.price" in soft):
        cfg.series.price = _infer_price(frame, source, exclude={cfg.time, cfg.entity})
        inferred.append(f"price '{cfg.series.price}'")
    if cfg.entity is not None and cfg.entity not in names and "data.entity" in soft:
        cfg.entity = None
    if cfg.entity is None and frame[cfg.time].duplicated().any():
        cfg.entity = _infer_entity(frame, source, cfg.time)
        inferred.append(f"entity '{cfg.entity}'")
    if "data.series.exogenous" in soft:
        missing = [c for c in cfg.series.exogenous if c not in names]
        if missing:
            _warn(source, f"has no column {_short(missing)} (data.series.exogenous); left out")
            cfg.series.exogenous = [c for c in cfg.series.exogenous if c in names]
    if inferred:
        out.notes.append(
            f"columns inferred: {', '.join(inferred)}; to change: --set data.time=COL, "
            "data.series.price=COL (or --target COL), data.entity=COL"
        )
    _time_axis(out, source)
    if cfg.series.calendar is True:  # fixed for the run and its predictor's new rows
        cfg.series.calendar = calendar_parts(out.frame, cfg.time, cfg.entity)
        if len(cfg.series.calendar) == 1:
            out.notes.append(
                "calendar feature: month only (the prices are a week or more apart: the "
                "day of the week would be the same, or nearly, on every row)"
            )
        elif not cfg.series.calendar and not ptypes.is_numeric_dtype(out.frame[cfg.time]):
            out.notes.append("no calendar feature (the prices are a year or more apart)")
    roles = {cfg.time, cfg.entity, cfg.series.price, *cfg.series.exogenous}
    unused = [c for c in names if c not in roles and ptypes.is_numeric_dtype(frame[c])]
    if unused:  # row numbers and other identifiers are no series
        unused = [c for c, k in infer_kinds(frame[unused]).items() if k is not ColumnKind.ID]
    if unused and "data.series.exogenous" in soft:  # another table's other series
        listed = ", ".join(unused[:8]) + (", ..." if len(unused) > 8 else "")
        out.notes.append(
            f"numeric columns not used: {_short(unused)}; the features come from the past "
            f"of '{cfg.series.price}' alone: to use them, --set 'data.series.exogenous="
            f"[{listed}]' (their lags become features)"
        )


def _time_parts_if_no_dates(
    frame: pd.DataFrame, time: str | None, soft: frozenset[str]
) -> list[str]:
    """The columns that write the time in parts (year, month, ...), where no time column
    is given (or the recipe's is not in the table) and no column holds dates."""
    from automl_fin.data._time_parts import find_time_parts

    if time is not None and "data.time" not in soft:
        return []  # the time column named is missing: said by the time check
    try:
        _infer_time(frame, "")
    except DataError:  # no single column is the time
        return find_time_parts(frame) or []
    return []


def _compose_time(out: Settled, source: str) -> None:
    """The time written in parts (``data.series.time_parts``) read as one date column,
    named by ``data.time`` where that is not a column of the table, else ``date``."""
    from automl_fin.data._time_parts import compose_time

    cfg = out.recipe.data
    assert cfg.series is not None
    parts, names = cfg.series.time_parts, [str(c) for c in out.frame.columns]
    if cfg.time is None or cfg.time in names:
        cfg.time = next(n for n in ("date", "time", "period_start") if n not in names)
    out.frame = compose_time(out.frame, parts, cfg.time, source)
    out.notes.append(
        f"time {', '.join(map(repr, parts))} read as one date column '{cfg.time}' "
        f"({out.frame[cfg.time].iloc[0]:%Y-%m-%d} ... {out.frame[cfg.time].iloc[-1]:%Y-%m-%d}); "
        f"to name the time another way: --set 'data.series.time_parts=[...]' or data.time=COL"
    )


def _stack_wide(out: Settled, source: str, soft: frozenset[str]) -> None:
    """A wide price table (``data.series.columns``: one price column per asset) stacked
    into one panel of series (:func:`~automl_fin.data._wide_prices.long_prices`); a
    price, entity or exogenous column named besides it is refused by its field (a run's
    recipe, settled so, is settled again to the same)."""
    from automl_fin.data._wide_prices import PRICE, SERIES, long_prices

    cfg = out.recipe.data
    assert cfg.series is not None and cfg.time is not None
    columns = cfg.series.columns
    names = [str(c) for c in out.frame.columns]
    named = {
        "data.series.price": cfg.series.price in names and "data.series.price" not in soft,
        "data.entity": cfg.entity not in (None, SERIES) and "data.entity" not in soft,
        "data.series.exogenous": bool(cfg.series.exogenous) and "data.series.exogenous" not in soft,
    }
    for name, given in named.items():
        if given:
            raise RecipeError(
                out.recipe.source,
                name,
                "is set, and data.series.columns reads a wide table (one price column per "
                "series, no other): give one of them",
            )
    out.frame = long_prices(out.frame, cfg.time, columns, source)
    cfg.entity, cfg.series.price, cfg.series.exogenous = SERIES, PRICE, []
    out.notes.append(
        f"a wide table: {_short(list(columns))} are {len(columns)} series, forecast as one "
        f"panel (read as columns '{SERIES}' and '{PRICE}')"
    )


def _time_axis(out: Settled, source: str) -> None:
    """A time column of numbers: dates where all of them write one in their digits
    (Ecdat's ``800102``; turned into dates here, once, so that new rows are read as
    these were), else period numbers (``1, 2, 3``; an R series' ``1991.496``), which
    order the rows and carry no calendar. Each said in a note."""
    from automl_fin.data._dates import dates_written_as, is_periods

    cfg = out.recipe.data
    when = out.frame[cfg.time] if cfg.time and cfg.time in out.frame.columns else None
    if when is None or not is_periods(when) or not when.notna().any():
        return
    first = when.dropna().iloc[[0, -1]]
    found = dates_written_as(when)
    if found is not None:
        dates, how = found
        clock = (
            "%Y-%m-%d"
            if (dates.dropna() == dates.dropna().dt.normalize()).all()
            else "%Y-%m-%d %H:%M"
        )
        out.frame = with_column(out.frame, cfg.time, dates)
        out.notes.append(
            f"time '{cfg.time}' holds numbers, read as dates ({how}): "
            + " ... ".join(f"{plain(v)} -> {dates[i]:{clock}}" for i, v in first.items())
            + "; if that is wrong, give the dates as text (e.g. 1980-01-02)"
        )
        return
    calendar = cfg.series is not None and cfg.series.calendar
    out.notes.append(
        f"time '{cfg.time}' holds period numbers ({plain(first.iloc[0])} ... "
        f"{plain(first.iloc[-1])}), not dates: they put the rows in time order"
        + (", without calendar features" if calendar else "")
        + "; if they are dates, give them as text (e.g. 1980-01-02)"
    )


def _infer_time(frame: pd.DataFrame, source: str) -> str:
    dated = [
        str(c)
        for c in frame.columns
        if ptypes.is_datetime64_any_dtype(frame[c])
        or (not ptypes.is_numeric_dtype(frame[c]) and looks_like_datetime(frame[c]))
    ]
    named = [c for c in dated if c.strip().lower() in TIME_NAMES]
    if len(dated) == 1 or len(named) == 1:
        return dated[0] if len(dated) == 1 else named[0]
    if not dated:  # a column named as a time whose dates are written several ways (ISO,
        # US, "02 Jan 1980" by turns: no one format reads 95 %), read value by value
        mixed = [str(c) for c in frame.columns if _dates_by_value(str(c), frame[c])]
        if len(mixed) == 1:
            return mixed[0]
    counted = [str(c) for c in frame.columns if _counts_up(frame[c])]
    stamped: list[str] = []
    if not dated:  # a series without dates, e.g. an R time series: a column counting periods
        periods = [c for c in counted if c.strip().lower() in TIME_NAMES + PERIOD_NAMES]
        if len(periods) == 1:
            return periods[0]
        from automl_fin.data._dates import dates_written_as

        stamped = [c for c in counted if _time_word(c) and dates_written_as(frame[c]) is not None]
        if len(stamped) == 1:  # an exchange's open_time: Unix milliseconds
            return stamped[0]
    hint = ""
    if len(stamped) > 1:  # a bar's open_time and close_time
        hint = f" ({_short(stamped)} hold Unix times or dates written as numbers)"
    elif not dated and counted:
        hint = (
            f" (dates, or numbers that count the periods in time order: {_short(counted)} count up)"
        )
    raise DataError(
        f"{source}: which column is the time? "
        + (f"several look like dates: {_short(dated)}" if dated else "no column holds dates")
        + f"; pass --set data.time=COLUMN{hint}"
    )


def _dates_by_value(name: str, values: pd.Series) -> bool:
    """Whether column ``name`` is named as a time (:data:`TIME_NAMES`) and 95 % of its
    values read as dates one by one (:func:`~automl_fin.data._dates.parse_dates`)."""
    from automl_fin.data._dates import parse_dates

    if name.strip().lower() not in TIME_NAMES or ptypes.is_numeric_dtype(values):
        return False
    known = values.dropna()
    if not len(known) or parse_dates(known.head(1000)).notna().mean() < 0.95:
        return False  # (a sample first: a million stamps read one by one take seconds)
    return bool(parse_dates(known).notna().mean() >= 0.95)


# words for a time a column's name may hold beside TIME_NAMES: a Fama-French table's
# `month` of yyyymm numbers was refused as "no column holds dates"
TIME_WORDS = {"ts", "epoch", "month", "week", "quarter", "year", "yyyymm", "yyyymmdd", "ym"}


def _time_word(name: str) -> bool:
    """Whether a column's name holds a word for a time (``open_time``, ``tradeDate``,
    ``ts``, ``month``), not only is one."""
    import re

    words = re.sub(r"([a-z])([A-Z])", r"\1 \2", name).lower()
    return bool(set(re.findall(r"[a-z]+", words)) & {*TIME_NAMES, *TIME_WORDS})


def period_count(name: str, values: pd.Series) -> bool:
    """Whether column ``name`` is a time axis of period numbers: named as a time or a
    period (``time``, ``t``, ``period``, ``trade_day``) and rising from row to row (fpp2's
    ``goog``: ``time`` 1 ... 1000), or falling (a file written newest first: it was
    validated on shuffled folds)."""
    named = _time_word(name) or _norm(name) in PERIOD_NAMES
    return bool(named) and (_counts_up(values) or _counts_up(-pd.to_numeric(values)))


def _counts_up(values: pd.Series) -> bool:
    """Whether ``values`` are numbers that rise from row to row, with none missing (a
    period count, or the row numbers a file was written with)."""
    from automl_fin.data._dates import is_periods

    if not is_periods(values) or len(values) < 2 or values.isna().any():
        return False
    return bool((values.diff().iloc[1:] > 0).all())


def _norm(name: str) -> str:
    return "_".join(str(name).strip().lower().replace("-", " ").split())


def _infer_price(frame: pd.DataFrame, source: str, exclude: set[str | None]) -> str:
    numeric = [
        str(c)
        for c in frame.columns
        if c not in exclude
        and ptypes.is_numeric_dtype(frame[c])
        and not ptypes.is_bool_dtype(frame[c])
    ]
    by_name = {_norm(c): c for c in numeric}
    for wanted in PRICE_NAMES:
        if wanted in by_name:
            return by_name[wanted]
    if len(numeric) == 1:
        return numeric[0]
    values = [c for c, k in infer_kinds(frame[numeric]).items() if k is not ColumnKind.ID]
    prices = [c for c in values if not (frame[c] <= 0).any()]  # a change or a rate: no price
    wide = (
        f", or forecast each as a series of one panel: --set 'data.series.columns=["
        f"{', '.join(prices[:8])}{', ...' if len(prices) > 8 else ''}]'"
        if len(prices) > 1
        else ""
    )
    others = [c for c in values if c not in prices]
    raise DataError(
        f"{source}: which column is the price? none is named {', '.join(PRICE_NAMES)}; "
        f"numeric columns: {_short(numeric)}; pass --target COLUMN{wide}"
        + (f" (not {_short(others)}: values of 0 or less are no prices)" if others and wide else "")
    )


NEARLY_UNIQUE = 0.01  # a series column's share of rows that may repeat a time (copies)


def _infer_entity(frame: pd.DataFrame, source: str, time: str) -> str:
    """Rows share a time: the one text column whose values repeat (an id per series)
    and never repeat within a time; else the one that repeats within a time on at most
    1 % of rows (a row pasted twice, or revised: the series' own check then names it,
    where "no text column tells them apart" was said of a ticker column)."""
    candidates, nearly = [], []
    for name in frame.columns:
        col = frame[name]
        if name == time or ptypes.is_numeric_dtype(col) or ptypes.is_datetime64_any_dtype(col):
            continue
        n = col.nunique()
        if 2 <= n <= max(2, len(frame) // 2):
            twice = int(frame.duplicated([name, time]).sum())
            if not twice:
                candidates.append(str(name))
            elif twice <= NEARLY_UNIQUE * len(frame):
                nearly.append(str(name))
    if len(candidates) == 1:
        return candidates[0]
    if not candidates and len(nearly) == 1:
        return nearly[0]
    shared = frame.duplicated(time, keep=False)
    first = frame.loc[shared, time].iloc[0]
    if not candidates and (twice := copies(frame, shared)):  # rows pasted twice
        raise DataError(
            f"{source}: {int(shared.sum())} rows share a time in '{time}' with another row "
            f"(e.g. {first}){twice}"
        )
    if not candidates and shared.mean() < 0.5:  # most times once: one series, a few twice
        raise DataError(
            f"{source}: {int(shared.sum())} rows share a time in '{time}' with another row "
            f"(e.g. {first}) and no text column tells series apart: keep one row per time, "
            "or name the column of the series with --set data.entity=COLUMN"
        )
    numbered = [] if candidates else _numbered_series(frame, time)
    raise DataError(
        f"{source}: several rows share a time in '{time}', so the table holds several "
        "series; "
        + (f"which column names them? one of {_short(candidates)}" if candidates else
           f"no text column tells them apart, the numbers of {_short(numbered)} do" if numbered
           else "no text column tells them apart")
        + "; pass --set data.entity=COLUMN"
    )  # fmt: skip


def _numbered_series(frame: pd.DataFrame, time: str) -> list[str]:
    """Columns of whole numbers that could name the series (CRSP's ``permno``): values
    that repeat, never within a time. Said, not taken: a column of counts may do so by
    chance."""
    found = []
    for name in frame.columns:
        col = frame[name]
        if name == time or not ptypes.is_numeric_dtype(col) or ptypes.is_bool_dtype(col):
            continue
        if col.isna().any() or not (col % 1 == 0).all():
            continue
        repeats = 2 <= col.nunique() <= max(2, len(frame) // 2)
        if repeats and not frame.duplicated([name, time]).any():
            found.append(str(name))
    return found


def _label(value: Any) -> str:
    """``value`` as a label: a whole float as the integer it is (``1.0`` -> ``"1"``: a
    column of 0/1 read with one empty cell is floats), as :func:`~._tidy.as_labels`."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _same(value: Any, label: Any) -> bool:
    """``value`` of the data is the label the user wrote: ``1`` and ``"1"`` (and ``1.0``,
    from a column with a gap); ``True`` and ``"true"``, ``"yes"`` or ``"on"`` (YAML and
    CSV spell booleans their own ways)."""
    if str(value) == str(label) or _label(value) == _label(label):
        return True
    if isinstance(label, bool) or isinstance(value, bool):
        flag, other = (label, value) if isinstance(label, bool) else (value, label)
        return str(other).strip().lower() in _BOOL_WORDS[bool(flag)]
    return False


_BOOL_WORDS = {
    True: ("true", "yes", "y", "on", "t", "1"),
    False: ("false", "no", "n", "off", "f", "0"),
}


def _typed(value: Any) -> str:
    """``value`` as typed after ``--set KEY=`` (quoted where YAML reads another type)."""
    text = str(value)
    return f"'{text}'" if text.strip().lower() in ("true", "false", "null", "~", "") else text


def _shell_arg(arg: str) -> str:
    """``arg`` as it is pasted into a shell: as is, else in double quotes where nothing
    in it means something there (``"data.positive_class=won't default"``), else as
    :func:`shlex.quote` writes it."""
    if shlex.quote(arg) == arg:
        return arg
    return f'"{arg}"' if not set(arg) & set('"$`\\!') else shlex.quote(arg)


def _by_value(v: Any) -> tuple[int, float, str]:
    """Numbers by value, then text as written (a note listed grades 1, 10, 2, 20, 5)."""
    number = isinstance(v, numbers.Real) and not isinstance(v, bool)
    return (0, float(v), "") if number else (1, 0.0, str(v))


def _short(values: Iterable[Any], most: int = 8) -> str:
    items = list(values)
    shown = ", ".join(map(repr, items[:most]))
    return f"[{shown}{', ...' if len(items) > most else ''}]"
