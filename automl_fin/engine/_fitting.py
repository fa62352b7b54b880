"""From a trial to fitted pipelines and checked predictions.

The search engine, the final test and (later) saved predictors share these steps: the
plan of a trial (sampled, rebuilt from a finished trial, or fixed for a baseline), the
trial's seed, a refit on all rows, and predictions in the engine's shape, checked.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import optuna
import pandas as pd

from automl_fin.engine._pipeline import Plan, build_pipeline, feature_info, sample_plan
from automl_fin.engine._trial_record import TrialRecord
from automl_fin.plugin._space import suggest
from automl_fin.plugin._specs import Monitor, holdout

if TYPE_CHECKING:
    from automl_fin.engine._problem import Problem
    from automl_fin.engine._recipes import Recipe

__all__ = [
    "FirstChoice",
    "blend",
    "check_prediction",
    "fit_trial",
    "members_of",
    "oof_of",
    "plan_of",
    "predict",
    "refit",
    "staged",
    "tag",
    "trial_seed",
]


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
        spec = p.baselines[baseline]
        return Plan(baseline, suggest(FirstChoice(), baseline, spec.space_for(p.context(seed))))  # type: ignore[arg-type]
    if isinstance(trial, optuna.trial.FrozenTrial):
        trial = optuna.trial.FixedTrial(trial.params)  # type: ignore[assignment]
    return sample_plan(
        trial,  # type: ignore[arg-type]
        p.models,
        p.preprocessors,
        kinds,
        p.context(seed),
        calibration=p.recipe.calibration,
    )


def refit(pipe: Any, spec: Any, p: Problem, rows: np.ndarray, *, seed: int) -> Any:
    """Fit ``pipe`` on ``rows`` of ``p``'s data. A monitored model stops
    early on a holdout of them (:func:`~automl_fin.plugin._specs.holdout`, scored by the
    recipe's metric) after the preprocessing is fitted on all of them."""
    X, y = p.dataset.X.iloc[rows], p.dataset.y[rows]
    if not spec.monitored:
        return pipe.fit(X, y)
    prep, model = pipe[0], pipe[-1]
    Xt = prep.fit_transform(X, y)
    names, kinds = feature_info(prep)
    tr, va = holdout(y, seed=seed, classify=p.task.is_classification)

    def score(pred: Any) -> float:
        return p.score(rows[tr], rows[va], np.asarray(pred, dtype=float))

    monitor = Monitor(
        feature_names=names,
        feature_kinds=kinds,
        X_valid=_rows(Xt, va),
        y_valid=y[va],
        score=score,
        direction=p.metric.direction,
        refit=True,
    )
    model.fit(_rows(Xt, tr), y[tr], monitor=monitor)
    return pipe


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
    pipe = build_pipeline(plan, p.all_models, p.preprocessors, p.dataset.kinds, ctx)
    return plan.model, refit(pipe, p.all_models[plan.model], p, rows, seed=seed)


def members_of(
    study: optuna.Study, trial: optuna.trial.FrozenTrial
) -> list[tuple[optuna.trial.FrozenTrial, float]]:
    """The trials behind a leaderboard row with their weights: an ensemble's members,
    or the trial itself with weight 1."""
    weights = TrialRecord.of(trial).members
    if not weights:
        return [(trial, 1.0)]
    by_number = {t.number: t for t in study.get_trials(deepcopy=False)}
    return [(by_number[int(n)], float(w)) for n, w in weights.items()]


def oof_of(
    study: optuna.Study, trial: optuna.trial.FrozenTrial, run_dir: Path | None = None
) -> np.ndarray | None:
    """The out-of-fold predictions of a leaderboard row (an ensemble: its members',
    blended with its weights), NaN on rows no fold predicted; ``None`` when a member's
    file is not readable here. A file is looked for where it was stored, then in
    ``run_dir/oof`` (a run folder that was moved)."""
    total: np.ndarray | None = None
    weights = 0.0
    for member, weight in members_of(study, trial):
        stored = TrialRecord.of(member).oof
        if not stored:
            return None
        file = Path(stored)
        if run_dir is not None and not file.is_file():
            file = Path(run_dir) / "oof" / file.name
        if not file.is_file():
            return None
        part = weight * np.load(file)
        total = part if total is None else total + part
        weights += weight
    return None if total is None else total / weights


def blend(
    pipes: list[Any], weights: list[float], X: pd.DataFrame, width: int, models: list[str]
) -> np.ndarray:
    """The weighted mean of the pipelines' checked predictions (probabilities or values)."""
    total = np.zeros((len(X), width) if width > 1 else len(X))
    for pipe, weight, model in zip(pipes, weights, models, strict=True):
        total += weight * check_prediction(predict(pipe, X, width), len(X), width, model)
    return total / float(np.sum(weights))


def trial_seed(recipe: Recipe, number: int) -> int:
    """The seed of trial ``number`` (models and their splits of one trial share it)."""
    return (recipe.seed * 1_000_003 + number) % (2**31 - 1)


def tag(exc: BaseException, stage: str, spec: str) -> BaseException:
    exc._automl_fin_stage = stage  # type: ignore[attr-defined]
    exc._automl_fin_spec = getattr(exc, "_automl_fin_spec", spec)  # type: ignore[attr-defined]
    return exc


def staged(stage: str, spec: str, fn: Any, *args: Any) -> Any:
    try:
        return fn(*args)
    except BaseException as exc:  # a plugin's SystemExit too; Ctrl-C is the user's
        if not isinstance(exc, KeyboardInterrupt):
            tag(exc, stage, spec)
        raise


def predict(pipe: Any, X: pd.DataFrame, width: int) -> np.ndarray:
    """Class probabilities ``(n, k)`` for classification, values ``(n,)`` otherwise."""
    if width == 1:
        return np.asarray(pipe.predict(X), dtype=float)
    if hasattr(pipe[-1], "predict_proba"):
        return np.asarray(pipe.predict_proba(X), dtype=float)
    labels = np.asarray(pipe.predict(X), dtype=np.int64)  # hard labels as 0/1 probabilities
    return np.eye(width)[labels]


def check_prediction(pred: np.ndarray, n: int, width: int, model: str) -> np.ndarray:
    expected = (n, width) if width > 1 else (n,)
    if pred.ndim == 2 and width == 1 and pred.shape[1] == 1:
        pred = pred[:, 0]
    if pred.shape != expected:
        raise tag(
            ValueError(f"predictions have shape {pred.shape}, expected {expected}"),
            "predict",
            model,
        )
    if not np.all(np.isfinite(pred)):
        raise tag(ValueError("predictions contain NaN or infinite values"), "predict", model)
    if width > 1:  # class probabilities: in [0, 1], each row summing to 1
        low, high = float(pred.min()), float(pred.max())
        sums = pred.sum(axis=1)
        if low < -1e-6 or high > 1 + 1e-6 or not np.allclose(sums, 1.0, atol=1e-4):
            worst = float(sums[np.argmax(np.abs(sums - 1))])
            raise tag(
                ValueError(
                    f"class probabilities must lie in [0, 1] and sum to 1 per row; found "
                    f"values in [{low:.4g}, {high:.4g}], a row summing to {worst:.4g}"
                ),
                "predict",
                model,
            )
    return pred
