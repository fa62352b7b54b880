"""The study's pruner judges as Optuna's percentile pruner from one read of the study per
trial; the sampler lies about running trials only where other processes may run them."""

from __future__ import annotations

from pathlib import Path

import optuna
import sqlalchemy

from automl_fin.engine._recipes import load_recipe
from automl_fin.engine._sampling import CompletedOnce, make_pruner, make_sampler


def test_the_pruner_judges_as_optunas_from_one_read_of_the_study_per_trial(
    tmp_path: Path,
) -> None:
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    storage = optuna.storages.RDBStorage(f"sqlite:///{tmp_path / 's.db'}")
    study = optuna.create_study(storage=storage, direction="maximize")
    study_id = storage.get_study_id_from_name(study.study_name)
    for i in range(8):  # eight completed trials with curves 0.i, 1.i, 2.i
        trial = study.ask()
        for step in range(3):
            trial.report(step + i / 10, step)
        study.tell(trial, 2 + i / 10)
    reads = {"ours": 0, "optunas": 0, "": 0}
    who = [""]

    def counting(conn, cursor, statement, *args) -> None:  # type: ignore[no-untyped-def]
        text = " ".join(statement.lower().split())
        if text.startswith("select") and "from trials" in text and "trials.study_id" in text:
            reads[who[0]] += 1  # a read of the study's trials (not of one trial)

    sqlalchemy.event.listen(storage.engine, "before_cursor_execute", counting)
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
            frozen = storage.get_trial(
                storage.get_trial_id_from_study_id_trial_number(study_id, trial.number)
            )
            who[0] = "ours"
            mine = ours.prune(study, frozen)
            who[0] = "optunas"
            verdicts.append((mine, optunas.prune(study, frozen)))
            who[0] = ""
        assert all(a == b for a, b in verdicts), verdicts
        assert bool(verdicts[0][0]) == (value < 0.2)  # the low curve is pruned at once
        study.tell(trial, state=optuna.trial.TrialState.PRUNED)
    # Optuna's pruner read the study at each of its 6 questions; ours once per trial
    assert (reads["ours"], reads["optunas"]) == (2, 6), reads


def test_constant_liar_only_for_shared_searches_and_pruner_none() -> None:
    recipe = load_recipe("default")
    assert make_sampler(recipe, shared=True).constant_liar  # type: ignore[attr-defined]
    assert not make_sampler(recipe, shared=False).constant_liar  # type: ignore[attr-defined]
    assert isinstance(make_pruner(recipe), CompletedOnce)
    off = load_recipe("default", {"pruner": "none"})
    assert isinstance(make_pruner(off), optuna.pruners.NopPruner)
