"""The report's explanation of the whole predictor on the columns the user gave it.

* A Shapley summary (:func:`automl_fin.results._explain.explain_features`): the mean
  absolute contribution of each original column to the margin, and each row's
  contribution beside its value (a categorical column is one player, not its one-hot
  columns; every member of an ensemble or bag is in it).
* Partial dependence of the top columns: the mean predicted probability (or value) as
  one column is set to each value of a grid on the sampled rows, the others as they
  are; a monotone constraint a member was fitted with is named above its panel.

Both run on at most :data:`ROWS` training rows, fewer when predicting them would take
over :data:`SECONDS` (each bagged member's first fold model standing in for its bag, as
in the permutation figure).
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from automl_fin.plugin._specs import ColumnKind
from automl_fin.results._report_html import bars as bars_of
from automl_fin.results._report_html import figure, note

if TYPE_CHECKING:
    from automl_fin.engine._problem import Problem
    from automl_fin.results._predictor import Predictor

__all__ = ["explanation_parts"]

ROWS = 200  # rows explained
MIN_ROWS = 20  # rows explained at the least (none when even they would cost 4 x SECONDS)
SAMPLES = 16  # permutation pairs a row
SECONDS = 20.0  # what the predictions of the summary may take
MAX_COLUMNS = 200  # wider tables: the permutation figure only
TOP = 12  # columns in the summary
PD_COLUMNS = 4  # columns with a partial dependence panel
GRID = 12  # grid values a numeric panel


def explanation_parts(
    predictor: Predictor, light: Predictor, stand_in: str, problem: Problem
) -> list[str]:
    """The Shapley summary and the partial dependence panels (or a note saying why not);
    ``light`` is ``predictor`` with first fold models standing in for bags, ``stand_in``
    the caption's words for it."""
    from automl_fin.results._explain import explain_features

    ds = problem.dataset
    d = ds.X.shape[1]
    why = (
        "no background rows were saved with the predictor"
        if predictor.background is None or not len(predictor.background)
        else f"{d:,} columns (over {MAX_COLUMNS})"
        if d > MAX_COLUMNS
        else "no input columns"
        if not d
        else f"{len(ds.y)} rows (fewer than {MIN_ROWS})"
        if len(ds.y) < MIN_ROWS
        else ""
    )
    if why:
        return [note(f"Shapley summary and partial dependence left out: {why}.")]
    # one explained row costs SAMPLES * (d + 1) predictions, made in one call: timed so
    one = predictor.background.sample(SAMPLES * (d + 1), replace=True, random_state=0)
    light._blend(one.iloc[:2])  # a first call pays one-off costs (imports, caches)
    started = time.perf_counter()
    light._blend(one)
    affordable = int(SECONDS / max(time.perf_counter() - started, 1e-9))
    if affordable < MIN_ROWS // 4:  # MIN_ROWS would take over 4 x SECONDS
        why = (
            f"Shapley summary left out: explaining {MIN_ROWS} rows would take over "
            f"{4 * SECONDS:g} s with this predictor (use predictor.explain on chosen rows)."
        )
        return [note(why)]
    n = min(ROWS, len(ds.y), max(MIN_ROWS, affordable))  # a busy machine: still MIN_ROWS
    rng = np.random.default_rng(problem.recipe.seed)
    rows = np.sort(rng.choice(len(ds.y), n, replace=False))
    X = ds.X.iloc[rows].reset_index(drop=True)
    e = explain_features(light, X, top=0, samples=SAMPLES, seed=problem.recipe.seed)
    strength = e.contributions.abs().mean().sort_values(ascending=False)
    parts = [_summary(e, X, strength, n, stand_in)]
    texts = {c for c, kind in ds.kinds.items() if kind == ColumnKind.TEXT}  # no grid for prose
    shown = [c for c in strength.index if c not in texts][:PD_COLUMNS]
    if shown:
        parts.append(_dependence(light, X, shown, problem, e))
    return parts


def _summary(e: Any, X: pd.DataFrame, strength: pd.Series, n: int, stand_in: str) -> str:
    import matplotlib.pyplot as plt

    top = list(strength.index[:TOP])[::-1]
    fig, (left, dots) = plt.subplots(
        1, 2, figsize=(10, 0.32 * len(top) + 1.4), sharey=True, width_ratios=(1, 1.6)
    )
    bars_of(left, [str(c) for c in top], strength[top].to_numpy(), "#4878a8")
    left.set_xlabel("mean |contribution|")
    rng = np.random.default_rng(0)
    for i, column in enumerate(top):
        values = e.contributions[column].to_numpy()
        colour = _value_rank(X[column])
        jitter = rng.uniform(-0.28, 0.28, len(values))
        dots.scatter(
            values,
            i + jitter,
            c=colour,
            cmap="coolwarm",
            vmin=0,
            vmax=1,
            s=7,
            alpha=0.8,
            linewidths=0,
        )
    dots.axvline(0, color="grey", lw=0.8)
    dots.set_xlabel(f"contribution to the {e.units}")
    return figure(
        fig,
        "explanation",
        f"What moves the whole predictor's {e.units}, on {n} training rows: left, the mean "
        "size of each column's contribution; right, one dot a row, right of the line where "
        "the column pushed the row up, coloured by the column's value (blue low, red high; "
        "grey for categories). Each row's contributions add up to its margin minus the "
        f"mean margin of the sampled background rows (Shapley values, {SAMPLES} sampled orders a "
        f"row{stand_in}). predictor.explain gives them for any rows, with reason codes.",
    )


def _value_rank(col: pd.Series) -> Any:
    if _numeric(col):
        ranks = col.rank(pct=True).to_numpy(dtype=float, na_value=np.nan)
        return np.where(np.isnan(ranks), 0.5, ranks)
    return np.full(len(col), 0.5)  # the colour map's middle: grey


def _dependence(
    light: Predictor, X: pd.DataFrame, columns: list[str], problem: Problem, e: Any
) -> str:
    import matplotlib.pyplot as plt

    constraints = _monotone(light, problem)
    classes = problem.dataset.classes if problem.task.is_classification else None
    target = classes[-1] if classes is not None else None
    what = f"P({problem.dataset.target} = {target})" if classes is not None else "prediction"
    fig, axes = plt.subplots(
        1, len(columns), figsize=(2.7 * len(columns) + 0.6, 2.8), squeeze=False, sharey=True
    )
    for ax, column in zip(axes[0], columns, strict=True):
        grid = _grid(X[column])
        copies = pd.concat([X] * len(grid), ignore_index=True)
        values = np.repeat(np.asarray(grid, dtype=object), len(X))
        copies[column] = pd.Series(values, dtype=X[column].dtype)  # the column's own dtype
        raw = light._blend(copies)
        values = raw[:, -1] if raw.ndim == 2 else raw
        mean = values.reshape(len(grid), len(X)).mean(axis=1)
        if _numeric(X[column]):
            ax.plot(np.asarray(grid, dtype=float), mean, marker=".", color="#c44e52", lw=1.4)
        else:
            labels = [str(v)[:14] for v in grid]
            ax.plot(range(len(grid)), mean, "o", color="#c44e52")
            ax.set_xticks(range(len(grid)), labels, rotation=60, ha="right", fontsize=7)
        rule = constraints.get(str(column))
        ax.set_title(str(column) + (f"\n{rule}" if rule else ""), fontsize=8)
    axes[0][0].set_ylabel(what)
    said = "; ".join(f"{c}: {r}" for c, r in constraints.items() if c in columns)
    return figure(
        fig,
        "dependence",
        f"Partial dependence of the {len(columns)} columns that move the {e.units} most: "
        f"the mean {what} on the same {len(X)} rows when the column is set to each value "
        "and the other columns stay as they are. A rising line means higher values of the "
        "column raise it; the steepness shows how much."
        + (f" Monotone constraints the members were fitted with: {said}." if said else ""),
    )


def _grid(col: pd.Series) -> list[Any]:
    if _numeric(col):
        seen = col.dropna().to_numpy(dtype=float)
        if not len(seen):
            return [np.nan]
        values = np.unique(np.quantile(seen, np.linspace(0.05, 0.95, GRID)))
        if pd.api.types.is_integer_dtype(col):  # whole numbers stay whole
            values = np.unique(np.round(values)).astype(np.int64)
        return list(values)
    return list(col.value_counts(dropna=True).index[:10])


def _monotone(light: Predictor, problem: Problem) -> dict[str, str]:
    """``{column: "monotone increasing (xgboost)"}`` for the constraints in the recipe's
    ``model_options`` of the predictor's members."""
    found: dict[str, list[str]] = {}
    bound: dict[str, set[str]] = {}  # the members' models that carry it
    for member in light.members:
        options = problem.recipe.model_options.get(member.model, {})
        for column, sign in (options.get("monotone_constraints") or {}).items():
            if not int(sign):  # 0: no constraint
                continue
            word = "increasing" if int(sign) > 0 else "decreasing"
            found.setdefault(str(column), []).append(f"{word} ({member.model})")
            bound.setdefault(str(column), set()).add(member.model)
    models = {m.model for m in light.members}
    out = {}
    for column, words in found.items():
        free = sorted(models - bound[column])  # an ensemble of both is bound by neither
        out[column] = (
            "monotone "
            + ", ".join(sorted(set(words)))
            + (f"; not {', '.join(free)}, so not the predictor" if free else "")
        )
    return out


def _numeric(col: pd.Series) -> bool:
    """Numbers on a scale (a bool column is two categories)."""
    return pd.api.types.is_numeric_dtype(col) and not pd.api.types.is_bool_dtype(col)
