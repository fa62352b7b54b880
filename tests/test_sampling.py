"""The study's pruner judges as Optuna's percentile pruner with one storage read per
trial; the sampler lies about running trials only where other processes may run them."""

from __future__ import annotations

from pathlib import Path

import optuna
import pytest

from automl_fin.recipes import load_recipe
from automl_fin.sampling import CompletedOnce, make_pruner, make_sampler


def test_the_pruner_judges_as_optunas_and_reads_completed_trials_once_per_trial(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(storage=f"sqlite:///{tmp_path / 's.db'}", direction="maximize")
    for i in range(8):  # eight completed trials with curves 0.i, 1.i, 2.i
        trial = study.ask()
        for step in range(3):
            trial.report(step + i / 10, step)
        study.tell(trial, 2 + i / 10)
    reads = []
    real = study.get_trials
    monkeypatch.setattr(study, "get_trials", lambda *a, **k: reads.append(k) or real(*a, **k))
    ours = CompletedOnce(75.0, n_startup_trials=5, n_min_trials=3)
    optunas = optuna.pruners.PercentilePruner(75.0, n_startup_trials=5, n_min_trials=3)
    for value in (0.05, 0.75):  # below, then above the 25th percentile of the curves
        trial = study.ask()
        verdicts = []
        for step in range(3):
            trial.report(step + value, step)
            frozen = study.get_trials(deepcopy=False)[-1]
            verdicts.append((ours.prune(study, frozen), optunas.prune(study, frozen)))
        assert all(a == b for a, b in verdicts), verdicts
        assert bool(verdicts[0][0]) == (value < 0.2)  # the low curve is pruned at once
        study.tell(trial, state=optuna.trial.TrialState.PRUNED)
    completed_reads = [k for k in reads if k.get("states") == (optuna.trial.TrialState.COMPLETE,)]
    # Optuna's pruner read them at each of its 6 questions, ours once for each of 2 trials
    assert len(completed_reads) == 6 + 2


def test_constant_liar_only_for_shared_searches_and_pruner_none() -> None:
    recipe = load_recipe("default")
    assert make_sampler(recipe, shared=True)._constant_liar
    assert not make_sampler(recipe, shared=False)._constant_liar
    assert isinstance(make_pruner(recipe), CompletedOnce)
    off = load_recipe("default", {"pruner": "none"})
    assert isinstance(make_pruner(off), optuna.pruners.NopPruner)
