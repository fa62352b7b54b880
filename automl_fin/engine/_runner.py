"""Running a study's trials from one or many processes, with a budget they share.

A trial budget (``budget.trials``) is the number of trials the *study* gets, whoever
runs them. A process takes the study's first queued (WAITING) trial (baselines,
portfolio and ``enqueue`` entries), with Optuna's atomic WAITING -> RUNNING change in
the storage, so two machines on one PostgreSQL study never run a trial twice; when none
is queued and the study holds fewer than the budget, it creates a new trial and claims
it. A trial is within the budget when fewer than the budget of the study's counted,
running or queued trials come before it (by number, which the storage hands out
atomically): two processes that create trials at the same moment near the end may make
one too many, and the later one is failed unrun (user attribute ``surplus``, left out
of the leaderboard), so the study ends with exactly the budgeted count. Nothing is
queued ahead (every read of the study loads all its unfinished trials again: queueing
the whole budget up front made each read of a 200-trial search cost 20 ms instead of 2).
A trial that a dead process left RUNNING is failed by its stale heartbeat
(``fail_stale_trials``), or at once where that process ran on this machine and is gone
(:mod:`~automl_fin.engine._process`), and does not count: the next trial taken
replaces it. Without a trial budget (``budget.seconds`` only) each process asks for new
trials until its own deadline.
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

from automl_fin.engine._interrupts import check as check_interrupt
from automl_fin.engine._process import ended_here
from automl_fin.engine._trial_record import TrialRecord, holds_budget
from automl_fin.errors import Terminated

__all__ = ["fail_stale", "held", "remaining", "run_trials", "wait_for_running"]

POLL_S = 0.1  # first pause while waiting for trials running elsewhere
MAX_POLL_S = 2.0
STALE_CHECK_S = 5.0  # a search looks for dead processes' trials at most this often

Objective = Callable[[optuna.Trial], float]
Callback = Callable[[optuna.Study, optuna.trial.FrozenTrial], None]


def held(study: optuna.Study) -> int:
    """The trials that use up budget: counted ones, and those running or queued."""
    return sum(1 for t in study.get_trials(deepcopy=False) if holds_budget(t))


def remaining(study: optuna.Study, total: int) -> int:
    """How many more trials a budget of ``total`` allows: trials left RUNNING by a dead
    process are failed first (when their heartbeat is stale), so their budget is free."""
    fail_stale(study)
    return max(total - held(study), 0)


def run_trials(
    study: optuna.Study,
    storage: optuna.storages.BaseStorage,
    objective: Objective,
    *,
    deadline: float = float("inf"),
    budget: int | None = None,
    catch: tuple[type[BaseException], ...] = (),
    callbacks: Sequence[Callback] = (),
    should_stop: Callable[[], bool] = lambda: False,
    give_up: Callable[[], bool] = lambda: False,
) -> int:
    """Run trials of ``study`` (opened on ``storage``) until the study holds ``budget``
    trials (without one: queued trials first, then new ones asked for), ``deadline``
    (``time.monotonic()``) or ``should_stop()``; returns how many this process ran.
    ``catch``: exceptions that fail a trial without stopping the loop; ``give_up()``,
    asked once a trial is taken: true, it is failed unrun (surplus) and the loop ends."""
    study_id = storage.get_study_id_from_name(study.study_name)
    ran, alone, checked = 0, False, -STALE_CHECK_S
    while not should_stop() and time.monotonic() < deadline:
        check_interrupt()  # a Ctrl-C Python dropped stops the loop before a trial is taken
        if time.monotonic() - checked >= STALE_CHECK_S:  # stale after 3 missed beats
            fail_stale(study)
            checked = time.monotonic()
        trial, trial_id, alone = _pop(study, storage, study_id, budget, alone=alone)
        if trial is None:
            if budget is not None:
                break
            trial, trial_id, _ = _create(study, storage, study_id, None)  # no cap: a new one
            if trial is None:  # another process took it first
                continue
        if give_up():  # checked again once the trial is RUNNING: a run that ended just
            _surplus(storage, trial_id)  # now waits for running trials, not for this one
            break
        ran += 1
        with _heartbeat(storage, trial_id):
            state, value = _run(objective, trial, catch)
        frozen = study.tell(trial, value, state=state, skip_if_finished=True)
        for callback in callbacks:
            callback(study, frozen)
    return ran


def fail_stale(study: optuna.Study) -> None:
    """Fail the study's RUNNING trials whose process died: gone from this machine
    (:func:`~automl_fin.engine._process.ended_here`: at once), or with a stale heartbeat."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        optuna.storages.fail_stale_trials(study)
    for t in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        rec = TrialRecord.of(t)
        if ended_here(rec.process, rec.machine):
            study.tell(t.number, state=TrialState.FAIL, skip_if_finished=True)


def wait_for_running(study: optuna.Study, status: Callable[[str], None] = print) -> None:
    """Wait until no trial of the study is RUNNING (other machines' trials finish; a dead
    one's are failed once their heartbeat is stale). Polled every :data:`POLL_S` at
    first (the last trials of a shared budget end together), less often as it lasts."""
    pause = POLL_S
    while True:
        fail_stale(study)
        running = study.get_trials(deepcopy=False, states=(TrialState.RUNNING,))
        if not running:
            return
        status(f"waiting for {len(running)} trial(s) running elsewhere")
        time.sleep(pause)
        pause = min(pause * 1.5, MAX_POLL_S)


Taken = tuple[optuna.Trial | None, int, bool]  # the trial, its storage id, alone


def _pop(
    study: optuna.Study, storage: Any, study_id: int, budget: int | None, *, alone: bool
) -> Taken:
    """Take the first queued trial within the budget that no other process has taken;
    when none is queued and the budget has room, create one (:func:`_create`: failed
    unrun as surplus if other processes filled the budget meanwhile). Also returns
    whether this process looked alone on the study with room left in the budget: then
    the next call (``alone``) creates its trial at once, without reading the queue."""
    if alone:
        taken = _create(study, storage, study_id, budget)
        if taken[0] is not None:
            return taken
    trial, trial_id, alone, room = _take(study, storage, study_id, budget)
    if trial is None and budget is not None and room:  # nothing queued: a new one, its
        return _create(study, storage, study_id, budget)  # place in the budget checked
    return trial, trial_id, alone


def _create(study: optuna.Study, storage: Any, study_id: int, budget: int | None) -> Taken:
    """A new running trial, or None (failed unrun as surplus) when other processes
    filled the budget meanwhile (or took it first). It is created waiting and set
    running only after its first heartbeat (see :func:`_claim`)."""
    waiting = optuna.trial.create_trial(state=TrialState.WAITING)
    trial_id = storage.create_new_trial(study_id, template_trial=waiting)
    with contextlib.suppress(optuna.exceptions.UpdateFinishedTrialError):
        if not _claim(storage, trial_id):
            return None, trial_id, False
    trials = study.get_trials(deepcopy=False)
    number = storage.get_trial_number_from_id(trial_id)
    ahead = sum(holds_budget(t) for t in trials if t.number < number)
    if budget is not None and ahead >= budget:
        with contextlib.suppress(optuna.exceptions.UpdateFinishedTrialError):
            _surplus(storage, trial_id)
        return None, trial_id, False
    return _started(study, trials, number, trial_id, budget)


def _take(
    study: optuna.Study, storage: Any, study_id: int, budget: int | None
) -> tuple[optuna.Trial | None, int, bool, bool]:
    """The first queued trial within the budget, taken (or None); whether this process
    looks alone on the study; whether the budget has room (when none was taken)."""
    trials = study.get_trials(deepcopy=False)
    before, dropped = 0, set()  # trials holding budget ahead; queued ones failed here
    for t in trials:
        if t.state == TrialState.WAITING:
            trial_id = storage.get_trial_id_from_study_id_trial_number(study_id, t.number)
            if budget is not None and before >= budget and t.user_attrs.get("slot"):
                dropped.add(t.number)  # two processes queued at the same moment
                with contextlib.suppress(optuna.exceptions.UpdateFinishedTrialError):
                    _surplus(storage, trial_id)
                continue
            if budget is not None and before >= budget and not t.user_attrs.get("baseline"):
                continue  # queued beyond the budget: kept for a run with more (a resumed
                # run of --trials 2 ran all 5 queued); the recipe's baselines always run
            with contextlib.suppress(optuna.exceptions.UpdateFinishedTrialError):
                if _claim(storage, trial_id):
                    seen = [x for x in trials if x.number not in dropped]
                    return (*_started(study, seen, t.number, trial_id, budget), True)
        before += holds_budget(t)
    return None, -1, False, budget is None or before < budget


def _claim(storage: Any, trial_id: int) -> bool:
    """Set a waiting trial running, its heartbeat recorded first (RDB storages with
    heartbeats): a process killed at any moment leaves a running trial that can be
    failed as stale (Optuna ignores running trials with no heartbeat at all: they
    would wait forever) or a waiting one another process takes. False when another
    process took it first. (``study.ask()`` sets a trial running before its first
    heartbeat: a process killed in between leaves a trial no one can fail.)"""
    if getattr(storage, "get_heartbeat_interval", lambda: None)():
        storage.record_heartbeat(trial_id)
    return bool(storage.set_trial_state_values(trial_id, state=TrialState.RUNNING))


def _surplus(storage: Any, trial_id: int) -> None:
    """Fail a trial that would exceed the budget, unrun (left out of the leaderboard)."""
    storage.set_trial_user_attr(trial_id, "surplus", True)
    storage.set_trial_state_values(trial_id, state=TrialState.FAIL)


def _started(
    study: optuna.Study,
    trials: list[optuna.trial.FrozenTrial],
    number: int,
    trial_id: int,
    budget: int | None,
) -> Taken:
    """This process's trial (trial ``number``, storage id ``trial_id``), and whether the
    budget has room beyond it with no other trial queued or running (this process looks
    alone on the study)."""
    rest = [t for t in trials if t.number != number]
    live = (TrialState.WAITING, TrialState.RUNNING)
    room = budget is not None and sum(map(holds_budget, rest)) + 1 < budget
    alone = room and not any(t.state in live for t in rest)
    return optuna.Trial(study, trial_id), trial_id, alone


def _run(
    objective: Objective, trial: optuna.Trial, catch: tuple[type[BaseException], ...]
) -> tuple[TrialState, float | None]:
    try:
        return TrialState.COMPLETE, float(objective(trial))
    except optuna.TrialPruned:
        return TrialState.PRUNED, None
    except catch:
        return TrialState.FAIL, None
    except BaseException as exc:  # interrupted: the trial is failed (and not counted), then stop
        with contextlib.suppress(Exception):  # said on its row, not counted as its error
            rec = TrialRecord.of(trial)
            rec.stopped = "interrupted" + (
                " (SIGTERM)"
                if isinstance(exc, Terminated)
                else " (Ctrl-C)"
                if isinstance(exc, KeyboardInterrupt)
                else ""
            )
            rec.write(trial)
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
        while not stop.wait(interval):
            with contextlib.suppress(Exception):  # a missed beat is not fatal
                storage.record_heartbeat(trial_id)

    # the first beat was recorded when the trial was claimed (:func:`_claim`)
    thread = threading.Thread(target=beat, name=f"heartbeat-{trial_id}", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()
