"""A running trial's writes are batched: stored whole and equal to Optuna's own writes,
in a few transactions, before the trial finishes or anything reads the study; a trial
finished elsewhere meanwhile is reported, not written over."""

from __future__ import annotations

import math
from pathlib import Path

import optuna
import pytest
from sqlalchemy import event

from automl_fin import trial_writes
from automl_fin.storage import open_storage

# study.ask() on a storage with heartbeats warns that Optuna's optimize loop is not used
pytestmark = pytest.mark.filterwarnings("ignore:Heartbeat of storage:UserWarning")


def _trial(study: optuna.Study, trial: optuna.Trial | None = None) -> optuna.Trial:
    """One trial's worth of writes: parameters, user attributes, a learning curve."""
    trial = trial or study.ask()
    trial.suggest_float("lr", 1e-4, 1.0, log=True)
    trial.suggest_int("depth", 1, 12)
    trial.suggest_categorical("model", ["hgb", "logreg", "xgboost"])
    trial.set_user_attr("model", "hgb")
    trial.set_user_attr("fold_scores", [0.71, 0.74, math.inf])
    trial.set_user_attr("model", "logreg")  # written twice: the last value is stored
    for step, value in enumerate([0.5, float("nan"), -math.inf, 0.75]):
        trial.report(value, step)
    return trial


def _stored(t: optuna.trial.FrozenTrial) -> tuple:
    steps = {k: "nan" if math.isnan(v) else v for k, v in t.intermediate_values.items()}
    return t.params, t.distributions, t.user_attrs, steps, t.state, t.value


def test_batched_trials_read_back_as_optunas_own_writes(tmp_path: Path) -> None:
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    ours = open_storage(f"sqlite:///{tmp_path / 'ours.db'}")
    assert isinstance(ours, trial_writes.BatchedRDBStorage)
    plain = optuna.storages.RDBStorage(f"sqlite:///{tmp_path / 'plain.db'}")
    stored = []
    for storage in (ours, plain):
        study = optuna.create_study(storage=storage, sampler=optuna.samplers.RandomSampler(0))
        for _ in range(3):  # later trials write parameters this process has seen before
            study.tell(_trial(study), 0.5)
        pruned = _trial(study)
        study.tell(pruned, state=optuna.trial.TrialState.PRUNED)
        reader = open_storage(storage.url, create=False)  # another process's view
        stored.append([_stored(t) for t in optuna.load_study(
            study_name=study.study_name, storage=reader).get_trials()])  # fmt: skip
    assert stored[0] == stored[1]
    assert stored[0][0][2] == {"model": "logreg", "fold_scores": [0.71, 0.74, math.inf]}


def test_a_trial_writes_in_a_few_transactions_and_is_seen_before_it_ends(
    tmp_path: Path,
) -> None:
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    storage = open_storage(f"sqlite:///{tmp_path / 'runs.db'}")
    study = optuna.create_study(storage=storage, sampler=optuna.samplers.RandomSampler(0))
    study.tell(_trial(study), 0.1)  # the first trial writes each new parameter through
    trial = study.ask()
    commits = []
    event.listen(storage.engine, "commit", lambda conn: commits.append(1))
    _trial(study, trial)  # 3 parameters, 3 attribute writes, 4 reported values
    assert len(commits) == 0  # all held
    reader = open_storage(storage.url, create=False)
    number = trial.number
    before = optuna.load_study(study_name=study.study_name, storage=reader).trials[number]
    assert before.params == {}
    storage.flush()  # what the objective does before fitting
    seen = optuna.load_study(study_name=study.study_name, storage=reader).trials[number]
    assert seen.params == trial.params and seen.user_attrs["model"] == "logreg"
    assert len(commits) == 1  # ten writes, one transaction
    trial.set_user_attr("fit_s", 0.25)
    study.tell(trial, 0.9)  # the held attribute is stored before the state changes
    done = optuna.load_study(study_name=study.study_name, storage=reader).trials[number]
    assert done.user_attrs["fit_s"] == 0.25 and done.value == 0.9


def test_held_writes_go_out_after_a_second_and_before_a_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    storage = open_storage(f"sqlite:///{tmp_path / 'runs.db'}")
    reader = open_storage(storage.url, create=False)
    study = optuna.create_study(storage=storage)
    trial = study.ask()
    trial.report(0.5, 0)
    assert reader.get_trial(trial._trial_id).intermediate_values == {}
    study.get_trials()  # a read in this process stores the held writes first
    assert reader.get_trial(trial._trial_id).intermediate_values == {0: 0.5}
    monkeypatch.setattr(trial_writes, "FLUSH_S", 0.0)  # a long fit: each report is due
    trial.report(0.6, 1)
    assert reader.get_trial(trial._trial_id).intermediate_values == {0: 0.5, 1: 0.6}


def test_a_trial_finished_elsewhere_is_not_written_over(tmp_path: Path) -> None:
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    storage = open_storage(f"sqlite:///{tmp_path / 'runs.db'}")
    study = optuna.create_study(storage=storage)
    trial = study.ask()
    trial.set_user_attr("model", "hgb")
    other = open_storage(storage.url, create=False)  # failed as stale by another process
    other.set_trial_state_values(trial._trial_id, optuna.trial.TrialState.FAIL)
    with pytest.warns(UserWarning, match="finished"):
        storage.flush()
    assert other.get_trial(trial._trial_id).user_attrs == {}
    trial.set_user_attr("model", "xgboost")
    with pytest.raises(optuna.exceptions.UpdateFinishedTrialError):
        storage.set_trial_state_values(trial._trial_id, optuna.trial.TrialState.COMPLETE, [1.0])
    assert other.get_trial(trial._trial_id).state == optuna.trial.TrialState.FAIL
