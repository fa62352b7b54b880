"""Running a study's trials from one or many processes, with a budget they share.

A trial budget (``budget.trials``) is the number of trials the *study* gets, whoever
runs them: before running, a process tops the study up to that many trials with
Optuna's own queue of WAITING trials (``enqueue_trial``), then every process pops queued
trials until none is left. Popping is Optuna's atomic WAITING -> RUNNING change in the
storage, so two machines on one PostgreSQL study never run a trial twice, and the study
ends with exactly the budgeted count. A trial that a dead process left RUNNING is failed
by its stale heartbeat (``fail_stale_trials``) and does not count: the next process to
top the study up queues a replacement. Without a trial budget (``budget.seconds`` only)
each process asks for new trials until its own deadline.
"""

from __future__ import annotations

import contextlib
import threading
import time
import warnings
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import optuna
from optuna.trial import TrialState

__all__ = ["counted", "fail_stale", "reserve", "run_trials", "wait_for_running"]

POLL_S = 1.0

Objective = Callable[[optuna.Trial], float]
Callback = Callable[[optuna.Study, optuna.trial.FrozenTrial], None]


def counted(trial: optuna.trial.FrozenTrial) -> bool:
    """Whether a finished trial uses up budget: completed, pruned, or failed by its own
    error (a trial failed because its process died does not)."""
    if trial.user_attrs.get("members"):  # the ensemble row, added after a search
        return False
    if trial.state in (TrialState.COMPLETE, TrialState.PRUNED):
        return True
    return trial.state == TrialState.FAIL and "error" in trial.user_attrs


def held(study: optuna.Study) -> int:
    """The trials that use up budget: counted ones, and those running or queued."""
    live = (TrialState.WAITING, TrialState.RUNNING)
    return sum(1 for t in study.get_trials(deepcopy=False) if counted(t) or t.state in live)


def reserve(study: optuna.Study, total: int) -> int:
    """Queue empty trials until the study holds ``total`` counted, running or queued
    ones; returns how many were queued. Trials added after the search (the ensemble row)
    do not count. Trials left RUNNING by a dead process are failed first (when their
    heartbeat is stale), so that their budget is queued again."""
    fail_stale(study)
    missing = max(total - held(study), 0)
    for _ in range(missing):
        study.enqueue_trial({}, user_attrs={"slot": True})
    return missing


def run_trials(
    study: optuna.Study,
    storage: optuna.storages.BaseStorage,
    objective: Objective,
    *,
    deadline: float = float("inf"),
    queued_only: bool = True,
    catch: tuple[type[BaseException], ...] = (),
    callbacks: Sequence[Callback] = (),
    should_stop: Callable[[], bool] = lambda: False,
) -> int:
    """Run trials of ``study`` (opened on ``storage``) until the queue is empty
    (``queued_only``; otherwise new trials are asked for), ``deadline``
    (``time.monotonic()``) or ``should_stop()``; returns how many this process ran.
    ``catch``: exceptions that fail a trial without stopping the loop."""
    study_id = storage.get_study_id_from_name(study.study_name)
    ran = 0
    while not should_stop() and time.monotonic() < deadline:
        fail_stale(study)
        trial = _pop(study, storage, study_id)
        if trial is None:
            if queued_only:
                break
            with warnings.catch_warnings():  # our loop records the heartbeats itself
                warnings.filterwarnings("ignore", message="Heartbeat of storage")
                trial = study.ask()
        ran += 1
        trial_id = storage.get_trial_id_from_study_id_trial_number(study_id, trial.number)
        with _heartbeat(storage, trial_id):
            state, value = _run(objective, trial, catch)
        frozen = study.tell(trial, value, state=state, skip_if_finished=True)
        for callback in callbacks:
            callback(study, frozen)
    return ran


def fail_stale(study: optuna.Study) -> None:
    """Fail the study's RUNNING trials whose heartbeat is stale (their process died)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        optuna.storages.fail_stale_trials(study)


def wait_for_running(study: optuna.Study, status: Callable[[str], None] = print) -> None:
    """Wait until no trial of the study is RUNNING (other machines' trials finish; a dead
    one's are failed once their heartbeat is stale)."""
    while True:
        fail_stale(study)
        running = study.get_trials(deepcopy=False, states=(TrialState.RUNNING,))
        if not running:
            return
        status(f"waiting for {len(running)} trial(s) running elsewhere")
        time.sleep(POLL_S)


def _pop(study: optuna.Study, storage: Any, study_id: int) -> optuna.Trial | None:
    """Take the first queued trial no other process has taken (Optuna's own queue)."""
    for t in study.get_trials(deepcopy=False, states=(TrialState.WAITING,)):
        trial_id = storage.get_trial_id_from_study_id_trial_number(study_id, t.number)
        try:
            if storage.set_trial_state_values(trial_id, state=TrialState.RUNNING):
                return optuna.Trial(study, trial_id)
        except optuna.exceptions.UpdateFinishedTrialError:
            continue
    return None


def _run(
    objective: Objective, trial: optuna.Trial, catch: tuple[type[BaseException], ...]
) -> tuple[TrialState, float | None]:
    try:
        return TrialState.COMPLETE, float(objective(trial))
    except optuna.TrialPruned:
        return TrialState.PRUNED, None
    except catch:
        return TrialState.FAIL, None
    except BaseException:  # interrupted: the trial is failed (and not counted), then stop
        trial.study.tell(trial, state=TrialState.FAIL, skip_if_finished=True)
        raise


@contextlib.contextmanager
def _heartbeat(storage: Any, trial_id: int) -> Iterator[None]:
    """Record the trial's heartbeat while it runs (RDB storages with heartbeats on), so
    that a process that dies leaves a trial the others can fail as stale."""
    interval = getattr(storage, "get_heartbeat_interval", lambda: None)()
    if not interval:
        yield
        return
    stop = threading.Event()

    def beat() -> None:
        while True:
            with contextlib.suppress(Exception):  # a missed beat is not fatal
                storage.record_heartbeat(trial_id)
            if stop.wait(interval):
                return

    thread = threading.Thread(target=beat, name=f"heartbeat-{trial_id}", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()
