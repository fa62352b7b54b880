"""The study's trial budget: queued one trial at a time, never exceeded, even when two
processes queue at the same moment or another takes the last of it meanwhile."""

from __future__ import annotations

from pathlib import Path

import optuna
import pandas as pd
import pytest
from optuna.trial import TrialState

from automl_fin.engine._runner import remaining, run_trials
from automl_fin.engine._trial_record import counts_toward_budget as counted
from automl_fin.results._leaderboard import Leaderboard
from automl_fin.storage._storage import open_storage


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


DIES_THE_MOMENT_A_TRIAL_RUNS = """
import os, sys
import optuna
from automl_fin.engine._runner import run_trials
from automl_fin.storage._storage import open_storage

storage = open_storage(sys.argv[1])
study = optuna.load_study(study_name="s", storage=storage)
create, set_state = storage.create_new_trial, storage.set_trial_state_values

def created(study_id, template_trial=None):  # killed the instant a trial is running
    trial_id = create(study_id, template_trial)
    if storage.get_trial(trial_id).state.name == "RUNNING":
        os._exit(9)
    return trial_id

def changed(trial_id, state, values=None):
    done = set_state(trial_id, state, values)
    if done and state.name == "RUNNING":
        os._exit(9)
    return done

storage.create_new_trial, storage.set_trial_state_values = created, changed
run_trials(study, storage, lambda trial: 1.0, budget=None if sys.argv[2] == "none" else 3)
"""


@pytest.mark.parametrize("budget", ["none", "3"])
def test_a_process_killed_the_instant_its_trial_runs_leaves_a_trial_failed_as_stale(
    tmp_path: Path, budget: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A trial must never be RUNNING without a heartbeat: Optuna leaves such a trial
    running for good, and a search waiting for the trials running elsewhere (the end of
    a search) would wait forever."""
    import subprocess
    import sys
    import threading

    from automl_fin.engine._runner import wait_for_running
    from automl_fin.storage._storage import HEARTBEAT_ENV

    monkeypatch.setenv(HEARTBEAT_ENV, "1")
    url = f"sqlite:///{tmp_path / 'runs.db'}"
    study = optuna.create_study(study_name="s", storage=open_storage(url))
    killed = subprocess.run([sys.executable, "-c", DIES_THE_MOMENT_A_TRIAL_RUNS, url, budget],
                            env={**__import__("os").environ, HEARTBEAT_ENV: "1"})  # fmt: skip
    assert killed.returncode == 9
    (trial,) = study.get_trials()
    assert trial.state == TrialState.RUNNING
    waiter = threading.Thread(target=wait_for_running, args=(study, lambda _: None), daemon=True)
    waiter.start()
    waiter.join(30)  # three missed beats, then failed
    assert not waiter.is_alive()
    assert study.get_trials()[0].state == TrialState.FAIL


def test_processes_with_the_same_seed_draw_differently_and_each_draw_repeats() -> None:
    from automl_fin.engine._sampling import TrialSeededTPE

    def draw(number_of_trials_before: int) -> dict[str, float]:
        study = optuna.create_study(sampler=TrialSeededTPE(7))
        for _ in range(number_of_trials_before):  # other processes' trials, still running
            study.enqueue_trial({"x": 0.5, "y": 1})
            study.ask()
        trial = study.ask()
        return {"x": trial.suggest_float("x", 0, 1), "y": trial.suggest_int("y", 0, 100)}

    # three processes, one seed, sampling at once: trials 0, 1 and 2 draw three configs
    draws = [draw(n) for n in range(3)]
    assert len({tuple(d.items()) for d in draws}) == 3
    assert draws == [draw(n) for n in range(3)]  # and each is repeatable
    plain = [optuna.create_study(sampler=optuna.samplers.TPESampler(seed=7)) for _ in range(3)]
    same = {plain[i].ask().suggest_float("x", 0, 1) for i in range(3)}
    assert len(same) == 1  # what one TPE stream per process did: the same draw three times


SLEEPS_IN_ITS_TRIAL = """
import sys, time
from sklearn.base import BaseEstimator, ClassifierMixin
from automl_fin import ModelSpec, Task, hookimpl, search
from automl_fin.plugin._registry import Registry

class Sleeps(ClassifierMixin, BaseEstimator):
    def fit(self, X, y):
        time.sleep(10_000)

class Plugin:
    @hookimpl
    def register_models(self, register):
        register(ModelSpec(name="sleeps", tasks={Task.BINARY}, build=lambda p, c: Sleeps()))

search("default", storage=sys.argv[1], study="s", trials=3, runs_dir=sys.argv[2],
       registry=Registry(plugins={"sleeps": Plugin()}),
       overrides={"models": ["sleeps"], "baselines": [], "calibration": ["none"],
                  "report": False})
"""


def test_a_trial_whose_process_is_gone_from_this_machine_is_failed_at_once(
    tmp_path: Path,
) -> None:
    """A ``kill -9``'d search left its trial RUNNING until three heartbeats (30 s) were
    missed: a killed batch resumed waited that long at the end of each search it had
    left running. A trial whose process ran on this machine and is gone is failed at
    once; one of a live process, or recorded on another machine (another boot or PID
    namespace: its pid means nothing here), waits for its heartbeat as before."""
    import os
    import signal
    import subprocess
    import sys
    import time

    from automl_fin.engine._runner import fail_stale
    from automl_fin.engine._trial_record import RECORD, TrialRecord

    url = f"sqlite:///{tmp_path / 'runs.db'}"
    proc = subprocess.Popen([sys.executable, "-c", SLEEPS_IN_ITS_TRIAL, url, str(tmp_path)])
    storage = study = None
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None:  # its trial running, recorded
        time.sleep(0.2)
        try:
            storage = storage or open_storage(url, create=False)
            study = optuna.load_study(study_name="s", storage=storage)
        except Exception:
            continue
        running = study.get_trials(states=(TrialState.RUNNING,))
        if running and TrialRecord.of(running[0]).process:
            break
    assert study is not None and storage is not None
    (trial,) = study.get_trials(states=(TrialState.RUNNING,))
    rec = TrialRecord.of(trial)
    assert rec.process == f"{__import__('socket').gethostname()}:{proc.pid}" and rec.machine
    fail_stale(study)  # alive: kept running
    assert study.get_trials()[trial.number].state == TrialState.RUNNING

    def running_row() -> pd.Series:
        board = Leaderboard(url).query(study="s", state="RUNNING")
        return board[board["trial"] == trial.number].iloc[0]

    assert pd.isna(running_row()["error"])
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    killed = time.monotonic()
    # a reader says so before any search fails it (it showed RUNNING, without a word)
    assert running_row()["error"] == (
        f"its process ({rec.process}) has ended (kill -9, out of memory, a crash); the trial "
        "is failed when the search is resumed"
    )
    trial_id = storage.get_trial_id_from_study_id_trial_number(
        storage.get_study_id_from_name("s"), trial.number
    )
    stored = dict(trial.user_attrs[RECORD])
    storage.set_trial_user_attr(trial_id, RECORD, {**stored, "machine": "another boot"})
    fail_stale(study)  # recorded elsewhere: its heartbeat decides
    assert study.get_trials()[trial.number].state == TrialState.RUNNING
    storage.set_trial_user_attr(trial_id, RECORD, stored)
    fail_stale(study)
    assert study.get_trials()[trial.number].state == TrialState.FAIL
    assert time.monotonic() - killed < 5  # not the heartbeat's 30 s
    board = Leaderboard(url).query(study="s", state="FAIL")
    row = board[board["trial"] == trial.number].iloc[0]
    assert row["error"] == (
        f"its process ({rec.process}) ended before it did (kill -9, out of memory, a crash); "
        "not counted"
    )
    assert pd.isna(row["duration_s"])  # when it ended is not known (not when it was found)
    assert pd.isna(row["finished"])  # (finished - started had given it a duration)
