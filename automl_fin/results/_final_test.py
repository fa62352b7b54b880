"""The final test: rows held out of the search, scored once after it.

``validation.final_test`` keeps the latest time steps (or a stratified share) out of the
search. Afterwards the best trial, the best trial of each model and every baseline are
refitted on all search rows and scored on those rows once; forecasts also get a
Diebold-Mariano p-value against the random walk, other regressions the share of the
test rows inside the row's 90 % prediction interval (``coverage_90``, see
:mod:`automl_fin.results._intervals`) and its width. Under a label metric each row's
labels come from its decision rule (:mod:`automl_fin.results._decision`), as its
predictor's would. The scores are stored on the study (``final_test``; the rules beside
them, ``rules``), where the leaderboard finds them (``test:<metric>`` columns).
"""

from __future__ import annotations

import zipfile
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import optuna
from threadpoolctl import threadpool_limits

from automl_fin.engine._bag import Bag
from automl_fin.engine._predictions import blend
from automl_fin.engine._problem import Problem
from automl_fin.engine._trial_record import TrialRecord, is_baseline
from automl_fin.plugin._specs import Task
from automl_fin.results._decision import rule_of
from automl_fin.results._ensemble import rows_of
from automl_fin.results._intervals import (
    bounds,
    conformity_scores,
    floor_of,
    half_width,
    scale_at,
    scale_model,
)
from automl_fin.results._members import members_of, oof_of
from automl_fin.results._reality_check import chosen_row
from automl_fin.results._recalibration import mapping
from automl_fin.results._refits import Allowance, fitted_member
from automl_fin.results._stacking import Stacker

__all__ = ["PREDICTIONS", "final_predictions", "final_scores", "final_test"]

PREDICTIONS = "final_test.npz"  # each scored row's predictions of the final test rows


def final_test(
    study: optuna.Study, problem: Problem, run_dir: Path | None = None
) -> dict[str, Any]:
    """Refit the best trial, the best of each model (an ensemble from its members'
    refits; a trial whose fit the budget stopped only as the best or a member) and
    every baseline on all search rows (a bagging recipe, or a refit priced past what a
    time budget allows, :mod:`automl_fin.results._refits`: the trials' kept fold models,
    fitted on search rows only), score them once on the held-out final
    test rows, and store the scores on the study (``final_test``: trial number ->
    metrics)."""
    p = problem
    done = [t for t in rows_of(study) if t.state.name == "COMPLETE"]
    picked: dict[str, optuna.trial.FrozenTrial] = {}
    ranked = sorted(done, key=lambda t: -p.metric.sign * float(t.value))  # type: ignore[arg-type]
    for t in ranked:
        record = TrialRecord.of(t)
        # a fit the budget stopped is refitted only as the best row (or a member of
        # it): refitting it for its model's column would run the cut fit again, after
        # the budget (extra trees on nycflights13: the final test 81 s -> 338 s)
        if record.budget_passes is None or t is ranked[0]:
            picked.setdefault(str(record.model), t)
    train, test = p.search_rows, p.test_rows
    X, y = p.dataset.X, p.dataset.y
    width = p.width
    scores: dict[str, Any] = {}
    rules: dict[str, Any] = {}  # the rows' decision rules (label metrics)
    predictions: dict[str, np.ndarray] = {}
    # each row's members; a refit is kept while a later row still uses it (a forest
    # refitted on 262,816 flights took GBs: two of them held to the end, 9.2 GB)
    rows = list(picked.values())
    uses = Counter(m.number for t in rows for m, _ in _members(study, t))
    bags: set[bool] = set()  # whether each refit was a bag of fold models
    with threadpool_limits(limits=p.recipe.n_jobs if p.recipe.n_jobs > 0 else None):
        fitted: dict[int, tuple[str, Any]] = {}  # an ensemble reuses its members' refits
        allowance = Allowance(p, study)  # refits priced past it: kept fold models instead
        best = chosen_row(study, p)
        chosen = None if best is None else best.number
        for t in rows:
            try:
                parts = members_of(study, t)
                for member, _ in parts:
                    if member.number not in fitted:  # (another model's column: optional)
                        needed = t.number == chosen or is_baseline(t)
                        fitted[member.number] = fitted_member(
                            member, p, train, run_dir, allowance, needed=needed
                        )
                models, pipes = zip(*(fitted[m.number] for m, _ in parts), strict=True)
                weights = [w for _, w in parts]
                record = TrialRecord.of(t)
                combine = Stacker.combine_of(record.stacker)
                after = mapping(record.recalibration)  # an ensemble's, on its mean
                pred = blend(
                    list(pipes), weights, X.iloc[test], width, list(models), combine, after
                )
                model = str(TrialRecord.of(t).model)
                rule = rule_of(study, p, t, run_dir)
                if rule is not None:
                    rules[str(t.number)] = rule.to_json()
                decision = None if rule is None else rule.factors
                scored = p.scores(train, test, pred, decision=decision)
                scores[str(t.number)] = {"model": model, **scored}
                predictions[f"trial_{t.number}"] = pred
                if p.dataset.scale is not None:  # a price series: against the walk (not
                    if model != "random_walk":  # itself); its predictors give no interval
                        scores[str(t.number)]["p_vs_random_walk"] = _dm_pvalue(p, test, pred)
                elif p.task == Task.REGRESSION:
                    scores[str(t.number)] |= _interval_check(p, study, t, test, pred, run_dir)
            except Exception as exc:  # a refit that fails is reported, not fatal
                scores[str(t.number)] = {
                    "model": str(TrialRecord.of(t).model),
                    "error": str(exc)[:500],
                }
            finally:
                for member, _ in _members(study, t):
                    uses[member.number] -= 1
                    if uses[member.number] <= 0 and member.number in fitted:
                        bags.add(isinstance(fitted.pop(member.number)[1], Bag))
    if run_dir is not None:  # the report draws them; an old file never stands in
        if predictions:  # replaced whole: a reader (or a kill) meets the old or the new
            from automl_fin.storage._storage import atomic_write

            atomic_write(run_dir / PREDICTIONS, lambda fh: np.savez(fh, rows=test, **predictions))
        else:
            (run_dir / PREDICTIONS).unlink(missing_ok=True)
    info: dict[str, Any] = {"rows": len(test), "trials": scores}
    bags |= {isinstance(pipe, Bag) for _, pipe in fitted.values()}  # none left, normally
    info["members"] = "bags" if bags == {True} else "refits" if bags == {False} else "both"
    if rules:
        info["rules"] = rules
    if p.dataset.scale is not None:  # the "always up" reference for directional accuracy
        info["up_share"] = float(np.mean(y[test] > 0))
    study.set_user_attr("final_test", info)
    return info


def _members(
    study: optuna.Study, trial: optuna.trial.FrozenTrial
) -> list[tuple[optuna.trial.FrozenTrial, float]]:
    """:func:`members_of`, or none where it fails (the row's own try reports why)."""
    try:
        return members_of(study, trial)
    except Exception:
        return []


def _interval_check(
    p: Problem,
    study: optuna.Study,
    trial: optuna.trial.FrozenTrial,
    rows: Any,
    pred: Any,
    run_dir: Path | None,
) -> dict[str, float]:
    """How often the row's 90 % prediction interval (split-conformal on its out-of-fold
    errors, as its predictor's) holds the final test truth, and the interval's width."""
    oof = oof_of(study, trial, run_dir)
    if oof is None:
        return {}
    scale = scale_model(p.dataset.y, oof)
    try:
        width = half_width(conformity_scores(p.dataset.y, oof, scale), 0.9)
    except ValueError:  # too few out-of-fold rows for a 90 % interval
        return {}
    width = width * scale_at(scale, pred)
    lower, upper = bounds(pred, width, floor_of(p.dataset.y[p.search_rows]))
    truth = p.dataset.y[rows]
    inside = (lower <= truth) & (truth <= upper)
    width_90 = float(np.mean(upper - lower))  # less than 2 x width where cut at zero
    return {"coverage_90": float(np.mean(inside)), "interval_width_90": width_90}


def _dm_pvalue(p: Problem, rows: np.ndarray, pred: np.ndarray) -> float:
    """One-sided Diebold-Mariano p-value (squared error) that the forecast beats the
    random walk on ``rows`` (a panel's rows as one loss difference per date); large
    values mean no edge beyond noise."""
    from scipy.stats import norm

    from automl_fin.results._reality_check import panel_times, per_time

    scale = p.dataset.scale
    assert scale is not None
    truth = scale.to_report(p.dataset.y[rows], rows)
    walk = scale.to_report(np.zeros(len(rows)), rows)
    d = (truth - walk) ** 2 - (truth - scale.to_report(pred, rows)) ** 2
    d = per_time(d, panel_times(p, rows))  # a panel's dates, not rows
    # long-run variance with the autocovariances an h-step horizon brings (Newey-West)
    horizon = p.recipe.data.series.horizon if p.recipe.data.series else 1
    centred = d - d.mean()
    var = float(centred @ centred) / len(d)
    for lag in range(1, horizon):
        var += 2 * (1 - lag / horizon) * float(centred[lag:] @ centred[:-lag]) / len(d)
    if var <= 0:
        return 0.5
    return float(norm.sf(np.mean(d) / np.sqrt(var / len(d))))


def final_predictions(run_dir: Path, trial: int) -> tuple[np.ndarray, np.ndarray] | None:
    """The final test rows and ``trial``'s predictions of them, when the run saved them."""
    try:
        with np.load(run_dir / PREDICTIONS, allow_pickle=False) as saved:
            return saved["rows"], saved[f"trial_{trial}"]
    except (OSError, KeyError, ValueError, zipfile.BadZipFile):
        return None


def final_scores(study: optuna.Study, trial: Any) -> tuple[dict[str, Any], Any]:
    """``trial``'s final test scores (empty when there are none, or its refit failed)
    and how many rows they rest on."""
    info = study.user_attrs.get("final_test") or {}
    scores = (info.get("trials") or {}).get(str(trial.number), {}) if trial is not None else {}
    return ({} if "error" in scores else scores), info.get("rows")
