"""From a trial to a fitted pipeline.

The search engine, the final test and saved predictors share these steps: the plan of a
trial (sampled, rebuilt from a finished trial, or fixed for a baseline), the trial's
seed, and a refit on given rows.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
import optuna

from automl_fin.data._validation import split_rows
from automl_fin.engine._floor import mark_floor
from automl_fin.engine._pipeline import Plan, build_pipeline, feature_info, sample_plan
from automl_fin.engine._prior_shift import mark, shift
from automl_fin.engine._trial_record import TrialRecord
from automl_fin.errors import BudgetStop
from automl_fin.plugin._budget import budget_checked
from automl_fin.plugin._space import suggest
from automl_fin.plugin._specs import HOLDOUT, Monitor, holdout

if TYPE_CHECKING:
    from automl_fin.engine._problem import Problem
    from automl_fin.engine._recipes import Recipe

__all__ = ["FirstChoice", "fit_trial", "plan_of", "refit", "trial_seed"]


class FirstChoice:
    """Stands in for a trial where nothing is searched: the ``fixed`` value of a
    parameter when given, else the first option (the lower bound of a range)."""

    def __init__(self, fixed: Mapping[str, Any] | None = None) -> None:
        self.fixed = dict(fixed or {})

    def suggest_categorical(self, name: str, choices: Any) -> Any:
        return self.fixed.get(name, choices[0])

    def suggest_float(self, name: str, low: float, high: float, **kw: Any) -> float:
        return self.fixed.get(name, low)

    def suggest_int(self, name: str, low: int, high: int, **kw: Any) -> int:
        return self.fixed.get(name, low)


def plan_of(trial: optuna.Trial | optuna.trial.FrozenTrial, problem: Problem, seed: int) -> Plan:
    """The pipeline plan of ``trial``: sampled for a live trial, rebuilt for a finished
    one, fixed (first choices, no preprocessing) for a baseline."""
    p = problem
    kinds = set(p.dataset.kinds.values())
    baseline = TrialRecord.of(trial).baseline
    if baseline:  # a reference model ignores the features: no preprocessing to pay for
        spec = p.spec(baseline)
        return Plan(baseline, suggest(FirstChoice(), baseline, spec.space_for(p.context(seed))))  # type: ignore[arg-type]
    models = p.models
    if isinstance(trial, optuna.trial.FrozenTrial):
        ran = TrialRecord.of(trial).model  # its own model, searched today or not
        models = {ran: p.spec(ran)} if ran else models
        trial = optuna.trial.FixedTrial(trial.params)  # type: ignore[assignment]
    return sample_plan(
        trial,  # type: ignore[arg-type]
        models,
        p.preprocessors,
        kinds,
        p.context(seed),
        calibration=p.recipe.calibration,
        fixed=p.recipe.model_options,
    )


def refit(
    pipe: Any,
    spec: Any,
    p: Problem,
    rows: np.ndarray,
    *,
    seed: int,
    prior_shift: np.ndarray | None,
    passes: float | None = None,
    on_pass: Callable[[float], None] | None = None,
) -> Any:
    """Fit ``pipe`` on ``rows`` of ``p``'s data. A monitored model stops
    early on a holdout of them (:func:`refit_holdout`, scored by the
    recipe's metric) after the preprocessing is fitted on all of them. Any model is
    stopped at ``passes`` (where the budget stopped its trial's fold: the fit the trial
    was scored on) by :class:`~automl_fin.errors.BudgetStop`, from ``Monitor.check`` or
    :func:`~automl_fin.check_budget`; ``on_pass(done)`` is told of each check. With
    ``prior_shift`` (:meth:`Problem.prior_shift`), its probabilities are mapped back by
    it."""
    X, y = p.dataset.X.iloc[rows], p.dataset.y[rows]

    def check(done: float) -> None:
        if on_pass is not None:
            on_pass(done)
        if passes is not None and done >= passes:
            raise BudgetStop(f"refit stopped at step {passes:g}, as its trial's fold was", passes)

    if not spec.monitored:  # a model fitting in steps checks through check_budget
        with budget_checked(check):
            return mark_floor(mark(pipe.fit(X, y), prior_shift), p, y)
    prep, model = pipe[0], pipe[-1]
    Xt = prep.fit_transform(X, y)
    names, kinds = feature_info(prep)
    tr, va = refit_holdout(p, rows, seed=seed)

    def score(pred: Any) -> float:
        return p.score(rows[tr], rows[va], shift(np.asarray(pred, dtype=float), prior_shift))

    monitor = Monitor(
        feature_names=names,
        feature_kinds=kinds,
        X_valid=_rows(Xt, va),
        y_valid=y[va],
        score=score,
        direction=p.metric.direction,
        metric=p.metric.name,
        check=check,
        refit=True,
    )
    model.fit(_rows(Xt, tr), y[tr], monitor=monitor)
    return mark_floor(mark(pipe, prior_shift), p, y)


def refit_holdout(p: Problem, rows: np.ndarray, *, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Positions in ``rows`` of a refit's training part and of the holdout a monitored
    model stops early on: of rows in time order (a price series, ``data.time``,
    walk-forward), the latest :data:`~automl_fin.plugin._specs.HOLDOUT` of the time
    steps, the ``horizon - 1 + embargo`` steps before them in neither part, as the
    folds are cut; else :func:`~automl_fin.plugin._specs.holdout`'s shuffled rows. A
    shuffled holdout of a series put neighbouring days (overlapping targets, other
    assets on the same date) on both sides: LightGBM's refit on two indices grew 682
    trees where its walk-forward folds stopped at 1 to 11, and forecast 32 % worse than
    the random walk on the final test."""
    times = p.dataset.times
    if times is None and p.scheme == "walk_forward":
        times = np.arange(len(p.dataset.y))  # rows in time order, one step each
    y = p.dataset.y[rows]
    if times is not None:
        horizon = p.recipe.data.series.horizon if p.recipe.data.series else 1
        purge = horizon - 1 + p.recipe.validation.embargo
        for gap in (purge, 0):  # few time steps: the last ones held out, unpurged
            tr, va = split_rows(y, HOLDOUT, times=np.asarray(times)[rows], purge=gap)
            if len(tr) >= max(2, len(rows) // 2) and len(va):
                return tr, va
    return holdout(y, seed=seed, classify=p.task.is_classification)


def _rows(X: Any, idx: np.ndarray) -> Any:
    """Rows ``idx`` of an array, sparse matrix or frame."""
    return X.iloc[idx] if hasattr(X, "iloc") else X[idx]


def fit_trial(
    trial: optuna.trial.FrozenTrial, problem: Problem, rows: np.ndarray
) -> tuple[str, Any]:
    """The model name and the pipeline of a finished ``trial``, refitted on ``rows``."""
    p = problem
    seed = trial_seed(p.recipe, trial.number)
    plan = plan_of(trial, p, seed)
    ctx = p.context(seed, model=plan.model, n_rows=len(rows))
    spec = p.spec(plan.model)
    pipe = build_pipeline(plan, {plan.model: spec}, p.preprocessors, p.dataset.kinds, ctx)
    shifted = p.prior_shift(plan, rows)
    passes = TrialRecord.of(trial).budget_passes
    return plan.model, refit(pipe, spec, p, rows, seed=seed, prior_shift=shifted, passes=passes)


def trial_seed(recipe: Recipe, number: int) -> int:
    """The seed of trial ``number`` (models and their splits of one trial share it)."""
    return (recipe.seed * 1_000_003 + number) % (2**31 - 1)
