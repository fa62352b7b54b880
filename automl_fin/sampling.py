"""The study's sampler and pruner, with the fewest storage reads per trial.

Optuna's percentile pruner reads every completed trial from the storage each time a
trial asks it (about 6 ms with SQLite, a network round trip with PostgreSQL), and a
search asks it after every fold and every few learning-curve steps. Completed trials
never change, so :class:`CompletedOnce` reads them once per trial; trials completed
elsewhere while one runs are seen from the next. TPE's "constant liar" (treat trials
running elsewhere as bad, so parallel workers spread out) re-reads all trials for every
sampled parameter; a search that no other process joins has no such trial, and samples
identically without it, so it is on only for workers and shared (non-SQLite) storages.
"""

from __future__ import annotations

from collections.abc import Container
from typing import TYPE_CHECKING, Any

import optuna
from optuna.trial import FrozenTrial, TrialState

if TYPE_CHECKING:
    from automl_fin.recipes import Recipe

__all__ = ["PRUNER_STARTUP", "CompletedOnce", "make_pruner", "make_sampler"]

PRUNER_STARTUP = 5  # completed trials before the pruner may prune (its n_startup_trials)


class _Completed:
    """The study as the pruner sees it within one trial: the completed trials as read
    at the trial's first question; everything else is the study's."""

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
    """Optuna's percentile pruner reading the completed trials once per trial."""

    def __init__(self, percentile: float, **kwargs: Any) -> None:
        super().__init__(percentile, **kwargs)
        self._seen: tuple[int, list[FrozenTrial]] | None = None

    def prune(self, study: optuna.Study, trial: FrozenTrial) -> bool:
        if self._seen is None or self._seen[0] != trial.number:
            done = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
            self._seen = (trial.number, done)
        return super().prune(_Completed(study, self._seen[1]), trial)  # type: ignore[arg-type]


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


def make_sampler(recipe: Recipe, *, shared: bool) -> optuna.samplers.BaseSampler:
    """TPE seeded by the recipe; ``shared``: other processes may run trials at the
    same time (constant liar on)."""
    return optuna.samplers.TPESampler(seed=recipe.seed, constant_liar=shared)
