"""The study's sampler and pruner, with the fewest storage reads per trial.

Optuna's percentile pruner reads every completed trial from the storage each time a
trial asks it (about 6 ms with SQLite, a network round trip with PostgreSQL), and a
search asks it after every fold and every few learning-curve steps. Completed trials
never change, so :class:`CompletedOnce` reads them once per trial, at its first
question (``Study.get_trials``), and judges the trial's later steps against that read;
trials completed elsewhere while one runs are seen from the next.

TPE's "constant liar" (treat trials running elsewhere as bad, so parallel workers spread
out) re-reads all trials for every sampled parameter; a search that no other process
joins has no such trial, and samples identically without it, so it is on only for
workers and shared (non-SQLite) storages.

TPE draws from one random stream seeded once: processes started with the same seed
would draw the same configurations at the same moments. :class:`TrialSeededTPE` seeds
each trial's draws from the recipe's seed and the trial's number instead: processes
sampling at once hold different trial numbers, so they draw differently, and a
single-process run stays repeatable.

Model families share the budget before TPE concentrates it (``recipe.spread``): when a
model has had fewer than half its even share of the study's finished trials *and* of
their seconds, the next trial tries the model furthest below its share instead of TPE's
choice (both: a cheap model is not tried hundreds of times to catch up in seconds, nor an
expensive one a dozen times to catch up in trials). TPE alone puts
nearly every trial of a long search on the family that led early (106 of 150 on German
credit at 300 s, each a near copy of the last), so a family that needs a few tries to
shine never gets them. A model whose trial was stopped before its first fold for want
of budget, or failed, is left to TPE (forcing it again would only be stopped again).
Seconds count only when the budget is time alone: a trial budget is shared by trials,
and the choice then depends on no clock, so a seed repeats the run (with seconds, two
runs of 12 trials with one seed parted at the eighth).

A model that never works is left out (:func:`broken_models`): once
:data:`BROKEN_AFTER` of its trials failed by their own error and none completed or was
pruned, the sampler picks among the other models (TPE over them) and warns once. TPE
learns nothing from failed trials, and reads a choice it never saw completed as
promising: with a model that raises in every fit among four, 26 of a 40-trial search
went to it (a trial budget spent on errors; a time budget too when the failure comes
late, at a trial timeout or after a long fit).

A model whose fold no longer fits the time left (the search's objective measures it,
``Objective.too_slow``; the time left only shrinks) is left out the same way, for the
rest of the search. TPE reads its best completed trial as promising and asks for it
again: on PhraseBank at 600 s, after a 367 s fine-tuning fold, it asked three times in a
row, each trial was skipped, and the search ended at 445 s of 600 while logistic
regression folds took 1-2 s. A preprocessor whose first use no longer fits
(``Objective.slow_preps``: a sentence encoder not run yet, whose declared cost priced a
logistic regression's first fold at ~88 s of 60) is left out of its slot's choices
likewise, while another choice remains: three such trials in a row ended a text search
at 9 s of 60, "by the time budget", with TF-IDF folds of under a second.

Racing over folds (``recipe.racing``): after folds 2, 3, 5, 8 … (never the last) a trial
is compared split by split with the best completed trial on the same splits, and stops
when it is 95 % sure to end below it (:func:`lost_race`: a paired one-sided t bound, so
a trial that trails by less than the splits' noise goes on). The percentile pruner keeps
judging as well, each trial against the completed trials of its own model
(:func:`same_model`): it stops a model's worst quarter early, the race the hopeless rest.
"""

from __future__ import annotations

import math
import re
import warnings
from collections.abc import Callable, Collection, Container
from typing import TYPE_CHECKING, Any

import numpy as np
import optuna
from optuna.distributions import CategoricalDistribution
from optuna.trial import FrozenTrial, TrialState

from automl_fin.engine._trial_record import TrialRecord, is_baseline, is_candidate

if TYPE_CHECKING:
    from automl_fin.engine._recipes import Recipe

__all__ = [
    "BROKEN_AFTER",
    "PRUNER_STARTUP",
    "SPREAD",
    "CompletedOnce",
    "TrialSeededTPE",
    "broken_models",
    "completed",
    "lost_race",
    "make_pruner",
    "make_sampler",
    "same_model",
]

PRUNER_STARTUP = 5  # completed trials before the pruner may prune (its n_startup_trials)
RACE_CONFIDENCE = 0.95  # a trial stops when it is this sure to lose to the best one
SPREAD = 0.5  # share of its even share of finished trials below which a model is tried next
MODEL = "model"  # the trial parameter that names the model
PREP = "prep."  # the trial parameters that name a slot's preprocessor (prep.text.vectorize)
BROKEN_AFTER = 3  # failed trials (and no other) after which a model is left out


def completed(study: optuna.Study) -> list[FrozenTrial]:
    """The study's completed trials, read now."""
    return study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))


class _Completed:
    """The study as the pruner sees it within one trial: the completed trials as read
    at the trial's start; everything else is the study's."""

    def __init__(self, study: optuna.Study, completed: list[FrozenTrial]) -> None:
        self._study = study
        self._completed = completed

    def get_trials(
        self, deepcopy: bool = True, states: Container[TrialState] | None = None
    ) -> list[FrozenTrial]:
        if states is not None and list(states) == [TrialState.COMPLETE]:
            return self._completed
        return self._study.get_trials(deepcopy=deepcopy, states=states)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._study, name)


class CompletedOnce(optuna.pruners.PercentilePruner):
    """Optuna's percentile pruner judging a trial against the completed trials of its
    own model as read at the trial's first question (:func:`same_model`)."""

    def __init__(self, percentile: float, *, n_startup_trials: int, n_min_trials: int) -> None:
        super().__init__(percentile, n_startup_trials=n_startup_trials, n_min_trials=n_min_trials)
        self.startup = n_startup_trials
        # (study name, trial number) and its read
        self._read: tuple[tuple[str, int], list[FrozenTrial]] | None = None

    def prune(self, study: optuna.Study, trial: FrozenTrial) -> bool:
        read = self.completed(study, trial)
        step = trial.last_step
        nan = step is not None and math.isnan(trial.intermediate_values[step])
        if nan and len(read) >= self.startup:  # a NaN score: at once, as Optuna's does
            return True
        return super().prune(_Completed(study, same_model(read, trial)), trial)  # type: ignore[arg-type]

    def completed(
        self, study: optuna.Study, trial: FrozenTrial | optuna.Trial
    ) -> list[FrozenTrial]:
        """The completed trials as read at ``trial``'s first question (read once)."""
        key = (study.study_name, trial.number)
        if self._read is None or self._read[0] != key:
            self._read = (key, completed(study))
        return self._read[1]


def same_model(trials: list[FrozenTrial], trial: FrozenTrial) -> list[FrozenTrial]:
    """The ``trials`` of ``trial``'s model: the percentile pruner's peers.

    Judged against every completed trial, a model that TPE had not tuned was judged
    against the tuned trials of the one it had: on German credit at 300 s (LightGBM 96
    of 156 trials) CatBoost's trials were pruned at round 10 of their first fold
    against LightGBM's curves (learning curves of two models, with their own step
    sizes, are not comparable round for round), the MLP's after two of 15 folds;
    CatBoost completed one trial, the MLP none. Between models the race judges
    (:func:`lost_race`), on the splits' evidence (with ``racing: false``, nothing
    does). A model's trials are pruned by percentile once :data:`PRUNER_STARTUP` of its
    own trials completed; baselines (the prior, the random walk) are no one's peers.
    A trial that names no model (a one-model search) is that model's."""
    model = trial.params.get(MODEL)
    return [t for t in trials if t.params.get(MODEL) == model and not is_baseline(t)]


def lost_race(
    scores: list[float], rivals: list[FrozenTrial], sign: float, folds: int
) -> int | None:
    """The number of the trial a trial has lost the race to after its first folds, or
    ``None``: the best completed candidate scored on all ``folds`` splits is compared
    split by split with ``scores`` (the trial's first folds, same splits), and the trial
    has lost when even the upper end of a one-sided :data:`RACE_CONFIDENCE` Student-t
    interval of the mean difference is worse (it cannot be expected to win on the
    splits still to come). Never on fewer than two folds, nor on all of them."""
    from scipy.stats import t as student

    done = len(scores)
    if done < 2 or done >= folds:
        return None
    able = [
        r
        for r in rivals
        if is_candidate(r, ensemble=False) and len(TrialRecord.of(r).fold_scores) == folds
    ]
    if not able:
        return None
    best = max(able, key=lambda r: sign * float(r.value))  # type: ignore[arg-type]
    diff = sign * (np.asarray(scores) - np.asarray(TrialRecord.of(best).fold_scores[:done]))
    spread = float(np.std(diff, ddof=1)) / np.sqrt(done)
    upper = float(np.mean(diff)) + float(student.ppf(RACE_CONFIDENCE, done - 1)) * spread
    return best.number if upper < 0 else None


def make_pruner(recipe: Recipe) -> optuna.pruners.BasePruner:
    """The recipe's pruner: keep the top 75 % (``quartile``) or 50 % (``median``) of the
    trials that reached a step and prune the rest, or none."""
    if recipe.pruner == "none":
        return optuna.pruners.NopPruner()
    return CompletedOnce(
        75.0 if recipe.pruner == "quartile" else 50.0,
        n_startup_trials=PRUNER_STARTUP,
        n_min_trials=3,
    )


class TrialSeededTPE(optuna.samplers.BaseSampler):
    """Optuna's TPE sampler whose random draws for a trial are seeded by ``seed`` and
    the trial's number (a fresh TPE per trial; it keeps no state between trials but its
    random stream)."""

    def __init__(
        self, seed: int, *, constant_liar: bool = False, spread: bool = False, timed: bool = True
    ) -> None:
        self.seed = seed
        self.constant_liar = constant_liar  # trials running elsewhere count as bad
        self.spread = spread  # model families share the budget (see the module's docstring)
        self.timed = timed  # the budget is seconds: shares of seconds count too
        # the models whose fold no longer fits the time left, as the search's objective
        # measures them (engine._objective.Objective.too_slow): left out like broken ones
        self.too_slow: Callable[[], Collection[str]] = frozenset
        # the preprocessors whose first use no longer fits (Objective.slow_preps)
        self.slow_preps: Callable[[], Collection[str]] = frozenset
        self._number: int | None = None
        self._tpe = self._make(0)
        self._warned: set[str] = set()  # broken models already warned about

    def _make(self, number: int) -> optuna.samplers.TPESampler:
        seed = (self.seed * 1_000_003 + 7919 * number) % (2**32 - 1)
        return optuna.samplers.TPESampler(seed=seed, constant_liar=self.constant_liar)

    def before_trial(self, study: optuna.Study, trial: FrozenTrial) -> None:
        if trial.number != self._number:
            self._number, self._tpe = trial.number, self._make(trial.number)
        self._tpe.before_trial(study, trial)

    def infer_relative_search_space(self, study: optuna.Study, trial: FrozenTrial) -> Any:
        return self._tpe.infer_relative_search_space(study, trial)

    def sample_relative(self, study: optuna.Study, trial: FrozenTrial, space: Any) -> Any:
        params = self._tpe.sample_relative(study, trial, space)
        for name, value in list(params.items()):  # a preprocessor too slow now: another
            keep = self._fast_preps(study, name, space[name])
            if keep is not None and value not in keep.choices:
                params[name] = self.sample_independent(study, trial, name, space[name])
        if MODEL not in space:  # (Optuna 5's TPE is multivariate by default)
            return params
        trials = study.get_trials(deepcopy=False)
        healthy = self._healthy(trials, list(space[MODEL].choices))
        if MODEL in params and params[MODEL] not in healthy:  # TPE over the other models
            reduced = {**space, MODEL: CategoricalDistribution(healthy)}
            redrawn = self._draw(lambda: self._tpe.sample_relative(study, trial, reduced))
            params = redrawn or {**params, MODEL: self._any(healthy, trial)}
        behind = least_tried(trials, healthy, seconds=self.timed) if self.spread else None
        return params if behind is None else {**params, MODEL: behind}

    def sample_independent(
        self, study: optuna.Study, trial: FrozenTrial, name: str, distribution: Any
    ) -> Any:
        if name != MODEL:
            keep = self._fast_preps(study, name, distribution)
            if keep is None:
                return self._tpe.sample_independent(study, trial, name, distribution)
            pick = self._draw(lambda: self._tpe.sample_independent(study, trial, name, keep))
            return self._any(list(keep.choices), trial) if pick is None else pick
        trials = study.get_trials(deepcopy=False)
        healthy = self._healthy(trials, list(distribution.choices))
        behind = least_tried(trials, healthy, seconds=self.timed) if self.spread else None
        if behind is not None:
            return behind
        if len(healthy) == len(distribution.choices):
            return self._tpe.sample_independent(study, trial, name, distribution)
        reduced = CategoricalDistribution(healthy)
        pick = self._draw(lambda: self._tpe.sample_independent(study, trial, name, reduced))
        return self._any(healthy, trial) if pick is None else pick

    def _healthy(self, trials: list[FrozenTrial], choices: list[Any]) -> list[Any]:
        """``choices`` without the :func:`broken_models` (all of them when every one is
        broken: the search then ends saying why), each warned about once, and without
        the models :attr:`too_slow` for the time left (unless none would be left: the
        objective then stops the search)."""
        slow = set(self.too_slow())
        choices = [c for c in choices if c not in slow] or choices
        broken = self._broken(broken_models(trials, choices))
        return [c for c in choices if c not in broken] or choices

    def _broken(self, broken: dict[str, str]) -> dict[str, str]:
        """``broken`` (a choice -> its last error), each choice warned about once."""
        for choice, error in broken.items():
            if choice not in self._warned:
                self._warned.add(choice)
                warnings.warn(
                    f"{choice}: left out of the rest of this search after {BROKEN_AFTER} "
                    f"failed trials and none that completed; the last: {error[:300]}",
                    stacklevel=3,
                )
        return broken

    def _fast_preps(
        self, study: optuna.Study, name: str, distribution: Any
    ) -> CategoricalDistribution | None:
        """A preprocessor slot's choices without those :attr:`slow_preps` and those
        :func:`broken_models` names broken (``None`` when ``name`` is no such slot, none
        of its choices is left out, or all would be)."""
        if not name.startswith(PREP) or not isinstance(distribution, CategoricalDistribution):
            return None
        slow = set(self.slow_preps())
        trials = study.get_trials(deepcopy=False)
        slow |= set(self._broken(broken_models(trials, list(distribution.choices), name)))
        if not slow:
            return None
        keep = [c for c in distribution.choices if c not in slow]
        return (
            CategoricalDistribution(keep)
            if keep and len(keep) < len(distribution.choices)
            else None
        )

    @staticmethod
    def _draw(draw: Callable[[], Any]) -> Any:
        """TPE's draw over the models that work, or ``None`` when a trial of a left-out
        model is running elsewhere (the constant liar reads it, and TPE cannot place it
        among the fewer choices)."""
        try:
            return draw()
        except ValueError:
            return None

    def _any(self, choices: list[Any], trial: FrozenTrial) -> Any:
        """One of ``choices``, drawn from the trial's own seed."""
        rng = np.random.default_rng((self.seed, trial.number))
        return choices[int(rng.integers(len(choices)))]

    def after_trial(
        self, study: optuna.Study, trial: FrozenTrial, state: TrialState, values: Any
    ) -> None:
        self._tpe.after_trial(study, trial, state, values)

    def reseed_rng(self) -> None:
        self._tpe.reseed_rng()


def least_tried(
    trials: list[FrozenTrial], models: list[str], *, seconds: bool = True
) -> str | None:
    """The model furthest below :data:`SPREAD` of its even share of the finished
    (completed, pruned, failed) searched trials and (``seconds``) of their seconds, or
    ``None`` when none is below both. Models with a failed trial, or one stopped for
    want of budget before its first fold, are not pushed. Without ``seconds`` the
    choice depends on the trials' states and models only, so a seed repeats it."""
    from automl_fin.engine._trial_record import is_baseline

    done = [
        t
        for t in trials
        if t.state in (TrialState.COMPLETE, TrialState.PRUNED, TrialState.FAIL)
        and not is_baseline(t)
        and t.params.get(MODEL) in models
    ]
    counts = dict.fromkeys(models, 0)
    spent = dict.fromkeys(models, 0.0)
    blocked = set()
    for t in done:
        counts[t.params[MODEL]] += 1
        if seconds and t.datetime_start and t.datetime_complete:
            spent[t.params[MODEL]] += (t.datetime_complete - t.datetime_start).total_seconds()
        record = TrialRecord.of(t)
        unrun = (record.stopped or "").startswith("budget") and not record.fold_scores
        if t.state == TrialState.FAIL or unrun:
            blocked.add(t.params[MODEL])
    floor = SPREAD * len(done) / len(models)
    floor_s = SPREAD * sum(spent.values()) / len(models)
    behind = [
        m
        for m in models
        if m not in blocked and counts[m] < floor and (not seconds or spent[m] < floor_s)
    ]
    return min(behind, key=lambda m: (counts[m], models.index(m))) if behind else None


def broken_models(
    trials: list[FrozenTrial], models: list[Any], param: str = MODEL
) -> dict[str, str]:
    """The models (of ``models``) with :data:`BROKEN_AFTER` or more trials failed by
    their own error and none completed or pruned, each with its last error. With
    ``param`` a preprocessor slot, its choices alike, counting the failed trials whose
    error names the choice (a model's failure is not its steps'): a step that dropped a
    row in every trial took 118 of a 134-trial search, TPE reading a choice it never
    saw completed as promising."""
    from automl_fin.engine._trial_record import is_baseline

    failed: dict[str, int] = {}
    worked: set[str] = set()
    last: dict[str, str] = {}
    for t in trials:
        model = t.params.get(param)
        if model not in models or is_baseline(t):
            continue
        if t.state in (TrialState.COMPLETE, TrialState.PRUNED):
            worked.add(model)
        elif t.state == TrialState.FAIL and (error := TrialRecord.of(t).error):
            if param != MODEL and not re.match(rf"{re.escape(str(model))}\b", error):
                continue
            failed[model] = failed.get(model, 0) + 1
            last[model] = error
    return {m: last[m] for m, n in failed.items() if n >= BROKEN_AFTER and m not in worked}


def make_sampler(recipe: Recipe, *, shared: bool) -> optuna.samplers.BaseSampler:
    """TPE seeded by the recipe and each trial's number (:class:`TrialSeededTPE`);
    ``shared``: other processes may run trials at the same time (constant liar on);
    model families share the budget when the recipe's ``spread`` is on: its trials, and
    its seconds too when the budget is time alone (a trial budget is shared by trials
    only, so that a seed repeats the run: seconds differ from run to run)."""
    timed = recipe.budget.trials is None
    return TrialSeededTPE(recipe.seed, constant_liar=shared, spread=recipe.spread, timed=timed)
