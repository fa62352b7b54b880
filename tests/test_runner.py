"""The study's trial budget: queued one trial at a time, never exceeded, even when two
processes queue at the same moment or another takes the last of it meanwhile."""

from __future__ import annotations

from pathlib import Path

import optuna
import pytest
from optuna.trial import TrialState

from automl_fin.leaderboard import Leaderboard
from automl_fin.runner import counted, remaining, run_trials
from automl_fin.storage import open_storage


def _study(tmp_path: Path) -> tuple[optuna.Study, optuna.storages.BaseStorage]:
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    storage = open_storage(f"sqlite:///{tmp_path / 'runs.db'}")
    study = optuna.create_study(storage=storage, sampler=optuna.samplers.RandomSampler(0))
    return study, storage


def test_the_budget_is_queued_one_trial_at_a_time(tmp_path: Path) -> None:
    study, storage = _study(tmp_path)
    waiting = []

    def objective(trial: optuna.Trial) -> float:
        waiting.append(len(study.get_trials(states=(TrialState.WAITING,))))
        return trial.suggest_float("x", 0.0, 1.0)

    assert run_trials(study, storage, objective, budget=6) == 6
    assert waiting == [0] * 6  # not the whole budget queued up front
    assert run_trials(study, storage, objective, budget=6) == 0  # the budget is the study's
    trials = study.get_trials()
    assert len(trials) == 6 and all(t.state == TrialState.COMPLETE for t in trials)


def test_two_processes_queueing_at_once_leave_exactly_the_budget(tmp_path: Path) -> None:
    study, storage = _study(tmp_path)

    def objective(trial: optuna.Trial) -> float:
        return trial.suggest_float("x", 0.0, 1.0)

    run_trials(study, storage, objective, budget=3)
    # two processes both saw 3 of a budget of 4 and each queued a trial
    for _ in range(2):
        study.enqueue_trial({}, user_attrs={"slot": True})
    assert run_trials(study, storage, objective, budget=4) == 1
    trials = study.get_trials()
    assert sum(counted(t) for t in trials) == 4 and remaining(study, 4) == 0
    surplus = [t for t in trials if t.user_attrs.get("surplus")]
    assert [(t.number, t.state, t.params) for t in surplus] == [(4, TrialState.FAIL, {})]
    board = Leaderboard(storage.url).query(study=study.study_name)
    assert sorted(board["trial"]) == [0, 1, 2, 3]  # the unrun surplus trial is left out


@pytest.mark.filterwarnings("ignore:Heartbeat of storage:UserWarning")
def test_a_trial_created_after_another_process_took_the_last_of_the_budget_never_runs(
    tmp_path: Path,
) -> None:
    study, storage = _study(tmp_path)
    reader = open_storage(storage.url, create=False)
    other = optuna.load_study(study_name=study.study_name, storage=reader)

    def objective(trial: optuna.Trial) -> float:
        if trial.number == 1:  # meanwhile another process runs the budget's last trial
            theirs = other.ask()
            other.tell(theirs, theirs.suggest_float("x", 0.0, 1.0))
        return trial.suggest_float("x", 0.0, 1.0)

    # alone on the study after its first trial, this process creates its next trials
    # running; the one created after the other process's trial would be a fourth
    assert run_trials(study, storage, objective, budget=3) == 2
    trials = study.get_trials()
    assert sum(counted(t) for t in trials) == 3
    surplus = [(t.number, t.state, t.params) for t in trials if t.user_attrs.get("surplus")]
    assert surplus == [(3, TrialState.FAIL, {})]
