"""The study's pruner judges as Optuna's percentile pruner from the trial's snapshot of
the study (at most one storage read per trial, none when the sampler read it); the
sampler lies about running trials only where other processes may run them."""

from __future__ import annotations

from pathlib import Path

import optuna
import pytest

from automl_fin.recipes import load_recipe
from automl_fin.sampling import CompletedOnce, make_pruner, make_sampler


def test_the_pruner_judges_as_optunas_from_one_read_of_the_study_per_trial(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(storage=f"sqlite:///{tmp_path / 's.db'}", direction="maximize")
    for i in range(8):  # eight completed trials with curves 0.i, 1.i, 2.i
        trial = study.ask()
        for step in range(3):
            trial.report(step + i / 10, step)
        study.tell(trial, 2 + i / 10)
    reads = {"ours": 0, "optunas": 0, "": 0}
    storage = study._storage
    real = storage.get_all_trials
    who = [""]

    def counting(*args, **kwargs):  # type: ignore[no-untyped-def]
        reads[who[0]] += 1
        return real(*args, **kwargs)

    monkeypatch.setattr(storage, "get_all_trials", counting)
    ours = CompletedOnce(75.0, n_startup_trials=5, n_min_trials=3)
    optunas = optuna.pruners.PercentilePruner(75.0, n_startup_trials=5, n_min_trials=3)
    # TPE reads the study at a trial's first suggestion (its snapshot); random sampling not
    for sampler, value in [(optuna.samplers.TPESampler(seed=0, n_startup_trials=1), 0.05),
                           (optuna.samplers.RandomSampler(seed=0), 0.75)]:  # fmt: skip
        study.sampler = sampler  # the low curve, then one above the 25th percentile
        trial = study.ask()
        trial.suggest_float("x", 0.0, 1.0)
        verdicts = []
        for step in range(3):
            trial.report(step + value, step)
            frozen = trial._get_latest_trial()
            who[0] = "ours"
            mine = ours.prune(study, frozen)
            who[0] = "optunas"
            verdicts.append((mine, optunas.prune(study, frozen)))
            who[0] = ""
        assert all(a == b for a, b in verdicts), verdicts
        assert bool(verdicts[0][0]) == (value < 0.2)  # the low curve is pruned at once
        study.tell(trial, state=optuna.trial.TrialState.PRUNED)
    # Optuna's pruner read the study at each of its 6 questions; ours took TPE's snapshot,
    # and read it once in the trial that random sampling started
    assert (reads["ours"], reads["optunas"]) == (1, 6), reads


def test_constant_liar_only_for_shared_searches_and_pruner_none() -> None:
    recipe = load_recipe("default")
    assert make_sampler(recipe, shared=True).constant_liar  # type: ignore[attr-defined]
    assert not make_sampler(recipe, shared=False).constant_liar  # type: ignore[attr-defined]
    assert isinstance(make_pruner(recipe), CompletedOnce)
    off = load_recipe("default", {"pruner": "none"})
    assert isinstance(make_pruner(off), optuna.pruners.NopPruner)
