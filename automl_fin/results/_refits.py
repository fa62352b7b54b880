"""A member's fitted pipeline after the search: its kept fold models or a refit, in time.

A bagging recipe predicts with each member's kept fold models (:mod:`automl_fin.engine._bag`).
Otherwise a member is refitted on all rows (the final test: on all search rows), which on
large data can take longer than the search: after a 240 s search of nycflights13's
240,000 rows, a logistic regression's refit took 201 s more (its one holdout fold had
taken 179 s), and the run 394 s in all. AutoGluon's and FLAML's time limits cover the
whole fit.

So under ``bagging: auto`` and a time budget, each step after the search that refits
(the final test, the predictor) has an :class:`Allowance`: a quarter of the budget,
at least :data:`FLOOR` seconds. A member whose refit its folds price past what is left
of it keeps the fold models the search fitted instead (a walk-forward search: its last
fold's, fitted on the most recent rows), as AutoGluon does without ``refit_full``; the
manifest's ``fit`` says so, with the price, and the predictor step warns. A refit costs
less than a fold model on rows it did not learn (flights: 0.7797 held-out ROC AUC refitted
on all rows, 0.7762 as the holdout's LightGBM), so a member that fits in the allowance
is refitted, as before. ``bagging: false`` refits regardless; ``true`` always bags.
"""

from __future__ import annotations

import math
import time
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np
    import optuna

    from automl_fin.engine._problem import Problem

__all__ = [
    "FLOOR",
    "REFIT_SAID",
    "SHARE",
    "Allowance",
    "RefitPriced",
    "describe_fit",
    "fitted_member",
    "searched_seconds",
]

SHARE = 0.25  # of a time budget: what a step's refits after the search may take
FLOOR = 5.0  # seconds a step's refits may take whatever the budget
REFIT_SAID = 30.0  # seconds a member's refit is likely to take from which it is said


class Allowance:
    """Seconds the refits of one step after the search may still take: a quarter of
    the study's time budget, at least :data:`FLOOR`; unbounded without a time budget or
    unless ``bagging`` is ``auto`` (``false`` asks for refits). The study's budget is
    this run's, or where the study was searched longer over earlier runs, the seconds
    its trials took (resumed for 2 s more, a study searched for 30 s swapped its refits
    on 194,144 rows for fold models, and its final test scores moved). ``say``: warn
    when a member keeps its fold models (the predictor's step; the final test's is in
    its scores)."""

    def __init__(self, problem: Problem, study: Any = None, *, say: bool = False) -> None:
        seconds = problem.recipe.budget.seconds
        bounded = problem.refits_bounded
        if bounded and study is not None:
            seconds = max(seconds, searched_seconds(study))  # type: ignore[type-var]
        self.total = max(FLOOR, SHARE * seconds) if bounded else math.inf  # type: ignore[operator]
        self.seconds = seconds
        self.spent = 0.0
        self.say = say

    def left(self) -> float:
        """Seconds still allowed."""
        return self.total - self.spent


def searched_seconds(study: Any) -> float:
    """The seconds the study's finished trials took, in all (a study searched over
    several runs: their budgets' sum, about)."""
    return sum(
        (t.datetime_complete - t.datetime_start).total_seconds()
        for t in study.get_trials(deepcopy=False)
        if t.datetime_complete is not None and t.datetime_start is not None
    )


class RefitPriced(Exception):
    """A member's refit is priced past the allowance, and no fold models stand in."""


def fitted_member(
    trial: optuna.trial.FrozenTrial,
    problem: Problem,
    rows: np.ndarray,
    run_dir: Any,
    allowance: Allowance | None = None,
    *,
    needed: bool = True,
) -> tuple[str, Any]:
    """The model name and fitted pipeline of a member trial: its kept fold models as a
    bag when the recipe bags (:mod:`automl_fin.engine._bag`), or when its refit on
    ``rows`` is priced past what ``allowance`` leaves and they were kept; else
    refitted on ``rows`` (its seconds spent from ``allowance``), unless not ``needed``
    (a final test's column of another model than the chosen row's): then
    :class:`RefitPriced` (extra trees' forest on 155,000 rows, too large to keep, was
    refitted for its own column: 26 s of a 30 s budget's final test)."""
    from automl_fin.engine._bag import fitted_under, load_bag
    from automl_fin.engine._fitting import fit_trial
    from automl_fin.engine._trial_record import TrialRecord

    folder = Path(run_dir) if run_dir else None
    record = TrialRecord.of(trial)
    likely = refit_seconds(record, problem, len(rows))
    past = allowance is not None and likely is not None and likely > allowance.left()
    bag = (
        load_bag(folder, trial.number, fitted_under(problem.registry))
        if problem.bagging or past
        else None
    )
    if bag is not None:
        if problem.bagging:
            return str(record.model), bag
        return str(record.model), _instead(bag, record, trial.number, problem, rows, likely,
                                           allowance)  # type: ignore[arg-type]  # fmt: skip
    if past and not needed:
        raise RefitPriced(
            f"not scored: its refit on {len(rows):,} rows is priced at ~{likely:.0f} s, past "
            f"the {max(allowance.left(), 0):.0f} s left of the {allowance.total:.0f} s allowed "  # type: ignore[union-attr]
            "after the search, and its fold models were not kept"
        )
    if likely is not None and likely >= REFIT_SAID:
        _say_long_refit(record, trial.number, problem, len(rows), likely)
    t0 = time.monotonic()
    try:
        return fit_trial(trial, problem, rows)
    finally:
        if allowance is not None:
            allowance.spent += time.monotonic() - t0


def refit_seconds(record: Any, problem: Problem, rows: int) -> float | None:
    """What a member's refit on ``rows`` is likely to take: its folds' mean fit time,
    grown with the rows; ``None`` when its folds were not timed."""
    if not record.fit_s or not record.fold_scores or not problem.splits:
        return None
    trained = len(problem.splits[0][0])
    return record.fit_s / len(record.fold_scores) * rows / max(trained, 1)


def _instead(
    bag: Any,
    record: Any,
    number: int,
    problem: Problem,
    rows: np.ndarray,
    likely: float,
    allowance: Allowance,
) -> Any:
    """The kept fold models standing in for a refit (walk-forward: the last fold's,
    fitted on the most recent rows; the earlier ones saw less and older), noted."""
    from automl_fin.engine._bag import Bag

    if problem.scheme == "walk_forward":
        bag = Bag(bag.pipes[-1:])
    last = max(record.folds or 1, 1) - 1 if problem.scheme == "walk_forward" else 0
    trained = len(problem.splits[last][0])  # (walk-forward: the last fold it ran)
    what = "its fold model" if len(bag) == 1 else f"its {len(bag)} fold models"
    bag.instead = (
        f"a refit on {len(rows):,} rows priced at ~{likely:.0f} s, past the "
        f"{allowance.left():.0f} s left of the {allowance.total:.0f} s allowed after a "
        f"search of {allowance.seconds:.0f} s"
    )
    if allowance.say:
        warnings.warn(
            f"{record.model}#{number} keeps {what} (fitted on {trained:,} rows): {bag.instead};"
            " --set bagging=false refits regardless",
            stacklevel=4,
        )
    return bag


def _say_long_refit(record: Any, number: int, problem: Problem, rows: int, likely: float) -> None:
    """Warn before a member's refit on all ``rows`` that its folds price at
    :data:`REFIT_SAID` seconds or more, and what keeps its fold models instead: after
    a 240 s search of nycflights13's 240,000 rows, a logistic regression's refit took
    201 s more, unsaid (its one holdout fold had taken 179 s)."""
    each = record.fit_s / len(record.fold_scores)
    trained = len(problem.splits[0][0])
    warnings.warn(
        f"refitting {record.model}#{number} on all {rows:,} rows: ~{likely:.0f} s (a fold "
        f"took {each:.0f} s on {trained:,}); --set bagging=true keeps its fold models "
        "instead, with no refit",
        stacklevel=4,
    )


def describe_fit(pipe: Any) -> str:
    """How a member was fitted, in words (the manifest's ``fit``)."""
    from automl_fin.engine._bag import Bag

    if isinstance(pipe, Bag):
        kept = "fold model" if len(pipe) == 1 else f"bag of {len(pipe)} fold models"
        return f"{kept}, not refitted: {pipe.instead}" if pipe.instead else kept
    return "refit on all rows"
