"""Many processes on one study: two workers on PostgreSQL share an exact trial budget, and
a search killed with SIGKILL resumes (SQLite and PostgreSQL) without losing anything."""

from __future__ import annotations

import datetime
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import optuna
import pytest

from automl_fin import StorageError, search
from automl_fin.engine._trial_record import TrialRecord, counts_toward_budget
from automl_fin.results._leaderboard import Leaderboard
from automl_fin.storage._storage import HEARTBEAT_ENV, open_storage

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")

# a few seconds per trial on two cores: long enough for both processes to take part
SETTINGS = [
    "--set", "models=[rf, extra_trees]",
    "--set", "validation.n_splits=3",
    "--set", "validation.repeats=1",
    "--set", "calibration=[none]",
    "--set", "pruner=none",
    "--set", "baselines=[]",
    "--no-ensemble", "--no-report", "--no-progress",
]  # fmt: skip
HEARTBEAT = "1"  # seconds: a dead process's trial is stale after 3 s


def _spawn(*args: str, runs: Path) -> subprocess.Popen[str]:
    env = {**os.environ, HEARTBEAT_ENV: HEARTBEAT}
    return subprocess.Popen(
        [sys.executable, "-m", "automl_fin.cli", *args, "--runs-dir", str(runs)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        # Ctrl-C as on a terminal: a pytest-xdist worker ignores SIGINT, and a child
        # inherits that (Python then never raises KeyboardInterrupt)
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )


def _trials(url: str, study: str) -> list[optuna.trial.FrozenTrial]:
    store = open_storage(url, create=False)
    return optuna.load_study(study_name=study, storage=store).get_trials(deepcopy=False)


def _wait(predicate, timeout: float = 180) -> None:  # type: ignore[no-untyped-def]
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            if predicate():
                return
        except (KeyError, StorageError):  # the storage or the study does not exist yet
            pass
        time.sleep(0.2)
    raise AssertionError("timed out waiting")


def test_a_run_and_two_workers_on_postgres_finish_exactly_the_budget(
    postgres_url: str, tmp_path: Path
) -> None:
    total = 14
    run = _spawn(
        "run", "default", "--storage", postgres_url, "--study", "shared",
        "--trials", str(total), "--seed", "3", *SETTINGS, runs=tmp_path / "a",
    )  # fmt: skip
    _wait(lambda: len(_trials(postgres_url, "shared")) > 0)
    workers = [
        _spawn(
            "worker",
            "--storage",
            postgres_url,
            "--study",
            "shared",
            "--no-progress",
            runs=tmp_path / name,
        )
        for name in ("b", "c")
    ]
    outs = [w.communicate(timeout=600) for w in workers]
    _, r_err = run.communicate(timeout=600)
    assert [w.returncode for w in workers] == [0, 0], outs[0][1][-2000:] + outs[1][1][-2000:]
    assert run.returncode == 0, r_err[-2000:]
    everything = _trials(postgres_url, "shared")
    # two processes queueing at the same moment may queue one too many: failed unrun
    surplus = [t for t in everything if t.user_attrs.get("surplus")]
    assert all(t.state.name == "FAIL" and not t.params for t in surplus)
    trials = [t for t in everything if t not in surplus]
    numbers = [t.number for t in trials]
    assert len(numbers) == len(set(numbers)) == total  # exactly the budget, none twice
    assert {t.state.name for t in trials} <= {"COMPLETE", "PRUNED"}  # none lost or stuck
    by_worker = [int(out.split("worker: ")[1].split()[0]) for out, _ in outs]
    by_run = r_err.count("\ntrial ") + r_err.startswith("trial ")
    assert by_run >= 1 and sum(by_worker) + by_run == total, (by_worker, by_run)
    board = Leaderboard(postgres_url).query(study="shared")
    assert sorted(board["trial"]) == sorted(numbers)  # the leaderboard sees every trial
    # three processes with the same seed sample at the same moments: never the same draw
    drawn = [tuple(sorted(t.params.items())) for t in trials if "enqueued" not in t.user_attrs]
    assert len(drawn) >= total - 2 and len(set(drawn)) == len(drawn)


def test_a_worker_refuses_other_data(postgres_url: str, tmp_path: Path) -> None:
    from automl_fin import datasets

    frame = datasets.load("german_credit")
    first = tmp_path / "credit.csv"
    frame.to_csv(first, index=False)
    done = subprocess.run(
        [sys.executable, "-m", "automl_fin.cli", "run", "default", "--data", str(first),
         "--storage", postgres_url, "--study", "s", "--trials", "1", *SETTINGS,
         "--runs-dir", str(tmp_path)],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    other = tmp_path / "other.csv"
    frame.iloc[:-5].to_csv(other, index=False)
    refused = subprocess.run(
        [sys.executable, "-m", "automl_fin.cli", "worker", "--storage", postgres_url,
         "--study", "s", "--data", str(other)],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert refused.returncode == 2
    assert "not the data run 's' was searched on" in refused.stderr
    assert refused.stderr.count("\n") == 1  # one line, no traceback


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_a_killed_search_resumes_with_nothing_lost(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = (
        f"sqlite:///{tmp_path / 'runs.db'}"
        if backend == "sqlite"
        else request.getfixturevalue("postgres_url")
    )
    total = 8
    args = ["run", "default", "--storage", url, "--study", "crash", "--seed", "1"]
    run = _spawn(*args, "--trials", str(total), *SETTINGS, runs=tmp_path)

    def midway() -> bool:
        trials = _trials(url, "crash")
        done = [t for t in trials if t.state.name == "COMPLETE"]
        return len(done) >= 2 and any(t.state.name == "RUNNING" for t in trials)

    def frozen_midway() -> bool:  # checked again with the process stopped: no trial ends
        if not midway():  # between that check and the kill
            return False
        run.send_signal(signal.SIGSTOP)
        time.sleep(0.3)  # a commit already sent lands
        ready = False
        try:
            ready = midway()
        finally:
            if not ready:
                run.send_signal(signal.SIGCONT)
        return ready

    _wait(frozen_midway)
    run.send_signal(signal.SIGKILL)
    run.wait()
    before = {t.number: t for t in _trials(url, "crash")}
    finished = {n: t.value for n, t in before.items() if t.state.name == "COMPLETE"}
    stale = [n for n, t in before.items() if t.state.name == "RUNNING"]
    assert finished and stale
    oof = {n: Path(str(TrialRecord.of(before[n]).oof)) for n in finished}
    assert all(p.is_file() for p in oof.values())
    time.sleep(3.5)  # three heartbeats missed: the dead process's trial is stale
    monkeypatch.setenv(HEARTBEAT_ENV, HEARTBEAT)
    again = search(
        "default",
        storage=url,
        study="crash",
        trials=total,
        seed=1,
        runs_dir=tmp_path,
        overrides={
            "models": ["rf", "extra_trees"],
            "validation.n_splits": 3,
            "validation.repeats": 1,
            "calibration": ["none"],
            "pruner": "none",
            "baselines": [],
            "ensemble": False,
            "report": False,
        },
    )
    after = {t.number: t for t in _trials(url, "crash")}
    for n, value in finished.items():  # kept as they were, files too
        assert after[n].state.name == "COMPLETE" and after[n].value == value
        assert oof[n].is_file()
    board = again.leaderboard().set_index("trial")
    for n in stale:
        assert after[n].state.name == "FAIL"  # failed by its stale heartbeat, not counted
        # and said so on its row (its error was empty)
        # (its host:pid when its record was written before the kill)
        said = board.loc[n, "error"]
        assert re.fullmatch(r"its process( \(.+:\d+\))? ended before it did \(kill -9, "
                            r"out of memory, a crash\); not counted", said)  # fmt: skip
    counted = [t for t in after.values() if t.state.name in ("COMPLETE", "PRUNED")]
    states = {n: (t.state.name, TrialRecord.of(t).error) for n, t in after.items()}
    assert len(counted) == total, states  # finished trials counted toward the budget
    assert again.n_trials == total - len(finished)
    assert again.predictor is not None


@pytest.mark.parametrize(
    ("sent", "code", "said", "stopped", "models"),
    [
        (signal.SIGINT, 130, "interrupted", "interrupted (Ctrl-C)", "[rf, extra_trees]"),
        (signal.SIGTERM, 143, "terminated (SIGTERM)", "interrupted (SIGTERM)", "[rf]"),
        # inside a Lightning fit, which catches it and calls exit(1): the search went on
        (signal.SIGTERM, 143, "terminated (SIGTERM)", "interrupted (SIGTERM)", "[mlp]"),
    ],
    ids=["ctrl-c", "sigterm", "sigterm-lightning"],
)
def test_ctrl_c_says_how_to_resume_and_the_trial_it_stopped(
    tmp_path: Path, sent: int, code: int, said: str, stopped: str, models: str
) -> None:
    """Ctrl-C printed "interrupted" alone, and the trial it stopped was failed with an
    empty error column. SIGTERM (``kill``, ``docker stop``, a scheduler's end of job)
    left the trial RUNNING (then failed by the next run as its process "killed, out of
    memory") and said nothing: it is handled as Ctrl-C is."""
    url = f"sqlite:///{tmp_path / 'runs.db'}"
    # (SETTINGS but its models: a --set given twice is refused)
    args = ["run", "default", "--storage", url, "--study", "c", "--trials", "30",
            *SETTINGS[2:], "--set", f"models={models}"]  # fmt: skip
    run = _spawn(*args, runs=tmp_path)

    def running() -> bool:  # a trial well inside its folds (one takes a second or more)
        trials = _trials(url, "c")
        now = datetime.datetime.now()
        return any(t.state.name == "COMPLETE" for t in trials) and any(
            t.state.name == "RUNNING" and (now - t.datetime_start).total_seconds() > 0.2
            for t in trials
            if t.datetime_start is not None
        )

    _wait(running)
    run.send_signal(sent)
    _, err = run.communicate(timeout=120)
    assert run.returncode == code, err[-2000:]
    assert err.strip().splitlines()[-1] == (
        f"automl-fin: {said}; the trials that finished are kept: the same command again "
        "resumes the search"
    )
    failed = [t for t in _trials(url, "c") if t.state.name == "FAIL"]
    assert len(failed) == 1 and TrialRecord.of(failed[0]).stopped == stopped
    assert not counts_toward_budget(failed[0])  # its place in the budget is free again


def test_ctrl_c_of_a_run_that_named_no_study_names_the_one_to_resume(tmp_path: Path) -> None:
    """Without --study a run names a new study; "the same command again" made another
    one and searched from trial 0 (a helper's find): the line names the --study that
    resumes it, and that command does, running the sampled trial the signal stopped
    again first (its parameters were lost with it: the resumed search went on without
    them)."""
    url = f"sqlite:///{tmp_path / 'runs.db'}"
    sampled = [*SETTINGS, "--set", "portfolio=false"]  # every trial the sampler's
    run = _spawn("run", "default", "--storage", url, "--trials", "30", *sampled, runs=tmp_path)

    def running() -> bool:  # a trial done, and the next one running: the signal stops it
        made = optuna.get_all_study_summaries(url)
        states = {t.state.name for t in _trials(url, made[0].study_name)} if made else set()
        return {"COMPLETE", "RUNNING"} <= states

    _wait(running)  # (sent between two trials, it stopped none: a CI run's race)
    run.send_signal(signal.SIGINT)
    _, err = run.communicate(timeout=120)
    (summary,) = optuna.get_all_study_summaries(url)
    name = summary.study_name
    assert err.strip().splitlines()[-1] == (
        "automl-fin: interrupted; the trials that finished are kept: the same command with "
        f"--study {name} resumes the search"
    )
    done = {t.number for t in _trials(url, name) if t.state.name == "COMPLETE"}
    (stopped,) = [t for t in _trials(url, name) if t.state.name == "FAIL"]
    again = _cli("run", "default", "--storage", url, "--trials", str(len(done) + 2), *sampled,
                 "--study", name, "--runs-dir", str(tmp_path), "--no-report")  # fmt: skip
    assert again.returncode == 0, again.stderr[-2000:]
    assert [s.study_name for s in optuna.get_all_study_summaries(url)] == [name]
    after = [t for t in _trials(url, name) if t.number not in done and t.state.name == "COMPLETE"]
    # its parameters again (those the signal let it draw: the rest are drawn anew)
    assert after[0].user_attrs["retry"] == stopped.number
    assert stopped.params.items() <= after[0].params.items(), (stopped.params, after[0].params)
    assert len(after) == 2 and "retry" not in after[1].user_attrs


def test_a_password_in_the_storage_url_is_never_printed(postgres_url: str, tmp_path: Path) -> None:
    # the test server trusts local connections: any password is accepted, none is shown
    scheme, rest = postgres_url.split("://", 1)
    user, host = rest.split("@", 1)
    url = f"{scheme}://{user}:Hunter2-s3cret@{host}&password=Hunter2-s3cret"
    common = ["--storage", url, "--study", "pw", "--runs-dir", str(tmp_path)]
    fast = ["--set", "models=[logreg]", "--set", "validation.n_splits=2", "--no-report"]
    outputs = [
        _cli("run", "default", "--trials", "2", *fast, *common),
        _cli("worker", *common),  # nothing to join: the run has ended
        _cli("leaderboard", "--storage", url),
        _cli(
            "run",
            "default",
            "--trials",
            "2",
            *fast,
            "--storage",
            f"{scheme}://{user}:Hunter2-s3cret@/x?host=/nonexistent&port=1",
        ),  # unreachable
    ]
    assert [o.returncode for o in outputs] == [0, 0, 0, 2], outputs[-1].stderr
    for out in outputs:
        assert "Hunter2" not in out.stdout + out.stderr
    assert f"study pw in {scheme}://{user}:***@" in outputs[0].stderr + outputs[0].stdout
    assert "password=***" in outputs[0].stderr + outputs[0].stdout


_DROPPED = """
import os, signal, sys
from automl_fin import cli
from automl_fin.engine import _search

class Collected:
    def __del__(self):  # Ctrl-C arrives while Python runs a __del__: it drops it
        os.kill(os.getpid(), signal.SIGINT)
        sum(range(1000))

where = os.environ["DROPPED_IN"]  # _after_search (as the search ends), build_ensemble
called = getattr(_search, where)
def dropping(*args, **kwargs):
    Collected()  # collected at once
    return called(*args, **kwargs)

setattr(_search, where, dropping)
sys.exit(cli.main(sys.argv[1:]))
"""


@pytest.mark.parametrize("where", ["_after_search", "build_ensemble"])
def test_ctrl_c_that_python_drops_still_stops_the_run(tmp_path: Path, where: str) -> None:
    """Ctrl-C that falls in a ``__del__`` or a weakref callback is printed by Python
    as "Exception ignored in: ..." and dropped: at the end of a search (3 of 12 tries, a
    helper's find) the run went on with the ensemble, the predictor and the report and
    ended with 0. The signal is remembered and raised again at the next step: the run
    ends as interrupted (130), no step runs after it, no predictor is saved. Dropped
    as the search ends, or in the step that selects the ensemble."""
    url = f"sqlite:///{tmp_path / 'runs.db'}"
    run = subprocess.run(
        [sys.executable, "-c", _DROPPED, "run", "default", "--storage", url, "--study", "d",
         "--trials", "3", "--set", "models=[logreg]", "--set", "validation.n_splits=3",
         "--set", "validation.repeats=1", "--set", "calibration=[none]",
         "--set", "baselines=[]", "--no-report", "--no-progress", "--runs-dir", str(tmp_path)],
        capture_output=True, text=True, timeout=300, env={**os.environ, "DROPPED_IN": where},
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )  # fmt: skip
    assert "Exception ignored" in run.stderr and "KeyboardInterrupt" in run.stderr, run.stderr
    assert run.returncode == 130, run.stderr[-2000:]
    assert run.stderr.strip().splitlines()[-1].startswith("automl-fin: interrupted; the trials")
    assert not list(tmp_path.glob("*/predictor/manifest.json"))  # no step ran after it
    study = optuna.load_study(study_name="d", storage=url)
    assert len([t for t in study.trials if t.state.name == "COMPLETE"]) == 3  # all kept
    assert not study.user_attrs.get("finished")  # a batch runs it again
    if where == "_after_search":  # (dropped in the ensemble's step: that step ends first)
        assert study.user_attrs.get("ensemble") is None


def test_a_ctrl_c_remembered_as_a_trial_ends_takes_no_new_trial(tmp_path: Path) -> None:
    """A Ctrl-C Python dropped as a trial ended (remembered by the command line's
    handler) stopped the search at the next trial's start: that trial was taken and
    failed with nothing fitted, an empty failed row in every leaderboard. The search now
    stops before it takes one; the trial that ended is kept."""
    from automl_fin.engine import _interrupts

    url = f"sqlite:///{tmp_path / 'runs.db'}"
    try:
        with pytest.raises(KeyboardInterrupt):
            search(
                "default",
                trials=4,
                storage=url,
                study="c",
                runs_dir=tmp_path,
                overrides={
                    "models": ["logreg"],
                    "baselines": [],
                    "validation.n_splits": 3,
                    "validation.repeats": 1,
                    "report": False,
                    "ensemble": False,
                },
                progress=False,
                on_trial=lambda *a: _interrupts.received("SIGINT"),
            )
    finally:
        _interrupts.forget()
    trials = optuna.load_study(study_name="c", storage=url).trials
    assert [t.state.name for t in trials if t.state.name != "WAITING"] == ["COMPLETE"]


_RAISES_INTERRUPT = """
import sys
from sklearn.base import BaseEstimator, ClassifierMixin
from automl_fin import ModelSpec, Task, hookimpl
from automl_fin import cli
from automl_fin.plugin._registry import Registry

class Stops(ClassifierMixin, BaseEstimator):
    def fit(self, X, y):
        raise KeyboardInterrupt  # a plugin's own, no Ctrl-C

    def predict_proba(self, X):
        raise NotImplementedError

spec = ModelSpec(name="stops", tasks={Task.BINARY}, build=lambda p, c: Stops())

class Plugin:
    @hookimpl
    def register_models(self, register):
        register(spec)

cli._registry = lambda args: Registry(plugins={"probe": Plugin()})
sys.exit(cli.main(sys.argv[1:]))
"""


@pytest.mark.parametrize("sigint", [signal.SIG_DFL, signal.SIG_IGN])
def test_a_keyboardinterrupt_a_plugin_raises_fails_its_trial_not_the_search(
    tmp_path: Path, sigint: signal.Handlers
) -> None:
    """A model whose fit raised KeyboardInterrupt with no Ctrl-C stopped the search as
    the user's ("interrupted; ... the same command again resumes the search"), and the
    same command stopped at once again, the plugin never named (a prober's plugin). On
    the command line, which hears every Ctrl-C, it fails its trial, named."""
    url = f"sqlite:///{tmp_path / 'runs.db'}"
    run = subprocess.run(
        [sys.executable, "-c", _RAISES_INTERRUPT, "run", "default", "--storage", url,
         "--study", "k", "--trials", "4", "--set", "models=[stops, logreg]",
         "--set", "validation.n_splits=3", "--set", "validation.repeats=1",
         "--no-report", "--no-progress", "--runs-dir", str(tmp_path)],
        capture_output=True, text=True, timeout=300,
        preexec_fn=lambda: signal.signal(signal.SIGINT, sigint),  # ignored: nohup, `&`
    )  # fmt: skip
    assert run.returncode == 0, run.stderr[-2000:]
    trials = optuna.load_study(study_name="k", storage=url).trials
    failed = [TrialRecord.of(t).error for t in trials if t.state.name == "FAIL"]
    assert failed and all(
        e and e.startswith("stops (<local> 0+unknown (plugin 'probe')) raised in fit: "
                           "KeyboardInterrupt") for e in failed
    ), failed  # fmt: skip
    assert any(t.state.name == "COMPLETE" for t in trials)


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "automl_fin.cli", *args], capture_output=True,
                          text=True, timeout=300)  # fmt: skip


def test_a_worker_started_before_the_run_waits_for_its_study(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'runs.db'}"
    worker = _spawn("worker", "--storage", url, "--study", "early", "--wait", "60",
                    "--no-progress", runs=tmp_path / "w")  # fmt: skip
    time.sleep(1.0)  # the worker is up first, the study does not exist yet
    run = _spawn("run", "default", "--storage", url, "--study", "early", "--trials", "8",
                 "--seed", "2", *SETTINGS, runs=tmp_path / "r")  # fmt: skip
    w_out, w_err = worker.communicate(timeout=300)
    _, r_err = run.communicate(timeout=300)
    assert worker.returncode == 0, w_err[-2000:]
    assert run.returncode == 0, r_err[-2000:]
    assert int(w_out.split("worker: ")[1].split()[0]) >= 1  # it joined and ran trials
    counted = [t for t in _trials(url, "early") if t.state.name in ("COMPLETE", "PRUNED")]
    assert len(counted) == 8
    refused = _spawn("worker", "--storage", url, "--study", "never", "--wait", "1",
                     runs=tmp_path / "w")  # fmt: skip
    _, err = refused.communicate(timeout=120)
    assert refused.returncode == 2 and "no study 'never'" in err


def test_a_worker_finds_the_storage_in_the_runs_folder_as_run_does(tmp_path: Path) -> None:
    """``worker --study NAME --runs-dir DIR`` was refused for want of ``--storage``,
    where every other command reads the SQLite file in the runs folder."""
    common = ["--study", "w", "--runs-dir", str(tmp_path)]
    missing = _cli("worker", *common)
    assert missing.returncode == 2 and "no storage at" in missing.stderr, missing.stderr
    ran = _cli("run", "default", "--trials", "3", *common, *SETTINGS)
    assert ran.returncode == 0, ran.stderr[-2000:]
    joined = _cli("worker", *common, "--no-progress")  # found: its run has ended
    assert joined.returncode == 0 and joined.stdout.startswith("worker: 0 trials of study w in ")
    assert "nothing to join" in joined.stdout


def test_a_worker_on_a_study_whose_run_ended_adds_nothing_or_waits_for_the_next_run(
    tmp_path: Path,
) -> None:
    """A worker joining a study whose run had ended searched on (with a time budget:
    four more trials) and its trials were in no ensemble, predictor or report. It joins
    nothing now and says why, exiting 0 (a job array's late worker is no failure); with
    --wait it joins a run of the study started again meanwhile (the run's old "ended"
    mark refused a worker started beside it)."""
    url = f"sqlite:///{tmp_path / 'runs.db'}"
    common = ["--storage", url, "--study", "done", "--runs-dir", str(tmp_path)]
    ran = _cli("run", "default", *common, "--trials", "2", *SETTINGS)
    assert ran.returncode == 0, ran.stderr[-2000:]
    before = len(_trials(url, "done"))
    joined = _cli("worker", *common)
    assert joined.returncode == 0, joined.stderr[-2000:]
    assert re.fullmatch(r"worker: 0 trials of study done in 0.0 s; the study's run had ended "
                        r"its search, so there was nothing to join \(trials now would be in "
                        r"none of its ensemble, predictor and report\); run the study again "
                        r"to search it more, with workers beside that run\n",
                        joined.stdout)  # fmt: skip
    assert len(_trials(url, "done")) == before
    waiting = _spawn("worker", "--storage", url, "--study", "done", "--wait", "120",
                     "--no-progress", runs=tmp_path / "w")  # fmt: skip
    time.sleep(2.0)  # it found the study ended, and waits for a run of it
    again = _cli("run", "default", *common, "--budget", "5", *SETTINGS)
    assert again.returncode == 0, again.stderr[-2000:]
    w_out, w_err = waiting.communicate(timeout=300)
    assert waiting.returncode == 0, w_err[-2000:]
    assert int(w_out.split("worker: ")[1].split()[0]) >= 1, w_out  # it joined that run


def test_predict_during_a_search_says_the_search_has_not_ended(tmp_path: Path) -> None:
    """``predict`` on a study whose search runs said "this run saved no predictor ...
    run the study again", advice to start a second run beside the first."""
    from automl_fin import ArtifactError, load

    run = _spawn("run", "default", "--study", "busy", "--budget", "60", *SETTINGS,
                 runs=tmp_path)  # fmt: skip
    try:
        _wait(lambda: any((tmp_path / "busy" / "oof").glob("trial_*.npy")))
        with pytest.raises(ArtifactError, match=r"busy: its study's search started at \S+ has "
                           r"not ended \(still running, or killed: then run the study "
                           r"again\); the predictor is saved when the run ends"):  # fmt: skip
            load("busy", runs_dir=tmp_path)
    finally:
        run.kill()
        run.communicate()


def test_a_worker_stops_when_the_run_ends_and_the_ensemble_sees_every_trial(
    tmp_path: Path,
) -> None:
    """With a time budget, a worker started after the run outlived it: its last trials
    ended after the run had selected its ensemble and saved its predictor. It stops
    taking trials when the run ends its search, and the run waits for the one it has."""
    url = f"sqlite:///{tmp_path / 'runs.db'}"
    settings = [a for a in SETTINGS if a != "--no-ensemble"]
    # the worker waits for the study, and its 10 s count from joining: after the run's
    worker = _spawn("worker", "--storage", url, "--study", "timed", "--wait", "120",
                    "--no-progress", runs=tmp_path / "w")  # fmt: skip
    time.sleep(1.0)
    run = _spawn("run", "default", "--storage", url, "--study", "timed", "--budget", "10",
                 "--seed", "4", "--set", "stacking=false", *settings,
                 runs=tmp_path / "r")  # fmt: skip
    w_out, w_err = worker.communicate(timeout=300)
    _, r_err = run.communicate(timeout=300)
    assert worker.returncode == 0, w_err[-2000:]
    assert run.returncode == 0, r_err[-2000:]
    assert int(w_out.split("worker: ")[1].split()[0]) >= 1  # it took part
    # its own 10 s end a little after the run's: the run's end stops it (on a busy
    # machine the run's last trial may outlast them: its own time ran out first then)
    assert "; the study's run ended its search" in w_out or "time budget ran out" in w_out
    study = optuna.load_study(study_name="timed", storage=open_storage(url, create=False))
    ended = datetime.datetime.fromisoformat(study.user_attrs["search"]["since"])
    one_second = datetime.timedelta(seconds=1)  # (the mark is written to the second)
    mine = [t for t in study.get_trials(deepcopy=False)
            if TrialRecord.of(t).process == f"{socket.gethostname()}:{worker.pid}"]  # fmt: skip
    assert mine and all(t.datetime_start.astimezone(datetime.UTC) <= ended + one_second
                        for t in mine if t.datetime_start)  # fmt: skip
    finished = [t.number for t in study.get_trials(deepcopy=False)
                if t.state.is_finished() and not t.user_attrs.get("surplus")]  # fmt: skip
    assert not [t for t in study.get_trials(deepcopy=False) if not t.state.is_finished()]
    # its selection (a row, or the one trial it kept as it is) came after every trial
    ensemble = study.user_attrs["ensemble"]
    selected = ensemble["user_attrs"] if ensemble else study.user_attrs["ensemble:alone"]
    assert selected["last_trial"] == max(finished)


def test_a_worker_follows_the_trial_budget_of_the_run_searching_now(tmp_path: Path) -> None:
    """A worker read the trial budget stored when the study was created: beside a run
    of the study again with --trials 12 (created with 3), it ran nothing."""
    url = f"sqlite:///{tmp_path / 'runs.db'}"
    common = ["--storage", url, "--study", "grow", "--seed", "5"]
    first = _cli("run", "default", *common, "--trials", "3", "--runs-dir", str(tmp_path),
                 *SETTINGS)  # fmt: skip
    assert first.returncode == 0, first.stderr[-2000:]
    run = _spawn("run", "default", *common, "--trials", "12", *SETTINGS, runs=tmp_path)

    def searching() -> bool:
        study = optuna.load_study(study_name="grow", storage=open_storage(url, create=False))
        return study.user_attrs.get("search", {}).get("trials") == 12

    _wait(searching)
    worker = _spawn("worker", "--storage", url, "--study", "grow", "--no-progress",
                    runs=tmp_path / "w")  # fmt: skip
    w_out, w_err = worker.communicate(timeout=300)
    _, r_err = run.communicate(timeout=300)
    assert run.returncode == 0, r_err[-2000:]
    assert worker.returncode == 0, w_err[-2000:]
    assert int(w_out.split("worker: ")[1].split()[0]) >= 1, w_out
    counted = [t for t in _trials(url, "grow") if t.state.name in ("COMPLETE", "PRUNED")]
    assert len(counted) == 12


def test_a_database_the_server_lacks_is_named_as_such(postgres_url: str) -> None:
    """A server that answered was said to be "unreachable" when the database named in
    the URL does not exist; the line says so, and what to do."""
    import sqlalchemy

    missing = sqlalchemy.engine.make_url(postgres_url).set(database="no_such_database_here")
    url = missing.render_as_string(hide_password=False)
    with pytest.raises(StorageError, match=r"has no such database; create it \(createdb NAME\) "
                       r"or name another: .*no_such_database_here"):  # fmt: skip
        open_storage(url, create=False)


def test_two_runs_of_one_new_study_with_other_seeds_at_once_are_not_both_taken(
    tmp_path: Path,
) -> None:
    """Two runs started together on one new ``--study`` with other seeds: both found no
    study, one made it, and the other searched on in it with its own seed's folds (2 of
    3 tries on a probe): trials scored on two fold sets, pooled in one ensemble. The run
    that did not make it is refused, whenever it starts."""
    from sklearn.datasets import load_breast_cancer

    load_breast_cancer(as_frame=True).frame.to_csv(tmp_path / "bc.csv", index=False)
    url = f"sqlite:///{tmp_path / 's.db'}"
    for attempt in range(2):
        argv = [sys.executable, "-m", "automl_fin.cli", "run", "auto", "--data",
                str(tmp_path / "bc.csv"), "--target", "target", "--trials", "4", "--runs-dir",
                str(tmp_path / "runs"), "--set", "models=[logreg]", "--set",
                "validation.n_splits=3", "--no-progress", "--no-report", "--storage", url,
                "--study", f"s{attempt}"]  # fmt: skip
        pipes = {"stdout": subprocess.PIPE, "stderr": subprocess.PIPE, "text": True}
        procs = [subprocess.Popen([*argv, "--seed", str(seed)], **pipes) for seed in (1, 2)]
        outs = [p.communicate(timeout=300) for p in procs]
        codes = [p.returncode for p in procs]
        assert sorted(codes) == [0, 2], (codes, [e[-600:] for _, e in outs])
        refused = outs[codes.index(2)][1]
        assert re.search(
            rf"study 's{attempt}' .*was made (meanwhile by another run )?with "
            r"seed [12] \(its folds and final-test rows follow it\)",
            refused,
        ), refused


def test_two_runs_of_one_new_study_with_other_models_at_once_are_not_both_taken(
    tmp_path: Path,
) -> None:
    """As with other seeds: two runs started together on one new ``--study`` with other
    model lists both found no study; the one that did not make it saw no trial asking
    the study's models yet, and searched its own models in it (one study, trials of two
    searches). The models the study was made with are checked before any trial asks."""
    from sklearn.datasets import load_breast_cancer

    load_breast_cancer(as_frame=True).frame.to_csv(tmp_path / "bc.csv", index=False)
    url = f"sqlite:///{tmp_path / 's.db'}"
    argv = [sys.executable, "-m", "automl_fin.cli", "run", "auto", "--data",
            str(tmp_path / "bc.csv"), "--target", "target", "--trials", "4", "--runs-dir",
            str(tmp_path / "runs"), "--set", "validation.n_splits=3", "--no-progress",
            "--no-report", "--no-ensemble", "--storage", url, "--study", "s",
            "--seed", "1"]  # fmt: skip
    pipes = {"stdout": subprocess.PIPE, "stderr": subprocess.PIPE, "text": True}
    lists = ("models=[logreg, rf]", "models=[logreg, extra_trees]")
    procs = [subprocess.Popen([*argv, "--set", models], **pipes) for models in lists]
    outs = [p.communicate(timeout=300) for p in procs]
    codes = [p.returncode for p in procs]
    assert sorted(codes) == [0, 2], (codes, [e[-600:] for _, e in outs])
    refused = outs[codes.index(2)][1]
    assert re.search(r"study 's' keeps the choices .*it searched the models \[", refused), refused
    models = {t.params.get("model") for t in _trials(url, "s")} - {None, "prior"}
    assert len(models & {"rf", "extra_trees"}) <= 1, models


def test_a_worker_follows_what_is_left_of_the_searching_runs_time_budget() -> None:
    """A worker read the time budget stored when the study was created: beside a run of
    the study again with --budget 40 (created with 20) it stopped at 20 s; and one that
    joined at 12 s of a 40 s search ran to 52 s, the run waiting for it. It follows what
    is left of the searching run's budget; clocks set apart (a time left below 0 or above
    the budget) leave it the budget whole, from when it joins."""
    import datetime as dt

    from automl_fin.engine._run_state import seconds_of

    def searching(seconds: float | None, ago: float) -> dict:
        since = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=ago)
        return {"search": {"state": "searching", "trials": None, "seconds": seconds,
                           "since": since.isoformat(timespec="seconds")}}  # fmt: skip

    assert 27 <= seconds_of(searching(40.0, 12), 20.0) <= 28  # (the stamp in whole seconds)
    assert 39 <= seconds_of(searching(40.0, 0), 20.0) <= 40  # the resumed run's budget
    assert seconds_of(searching(40.0, -30), 20.0) == 40.0  # its clock ahead: the whole
    assert seconds_of(searching(40.0, 60), 20.0) == 40.0  # past it (clocks apart): whole
    assert seconds_of(searching(None, 5), 20.0) == 20.0  # a run of trials only: as stored
    assert seconds_of({"search": {"state": "ended", "seconds": 40.0}}, 20.0) == 20.0
    assert seconds_of({}, None) is None  # a study written before the mark
