"""Workers on a Dask cluster (a local one: two worker processes) sharing one PostgreSQL
study with the run that created it: the exact budget, distinct configurations, and a
worker killed mid-trial whose trial is failed as stale and its budget run again."""

from __future__ import annotations

import contextlib
import os
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import distributed  # the [cluster] extra, installed by .ci/install
import optuna
import pytest

from automl_fin import search
from automl_fin.engine._trial_record import TrialRecord
from automl_fin.storage._storage import HEARTBEAT_ENV, open_storage

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")

SLOW = {"models": ["rf", "extra_trees"], "validation.n_splits": 3, "validation.repeats": 1,
        "calibration": ["none"], "pruner": "none", "baselines": [], "ensemble": False,
        "report": False}  # fmt: skip


@contextlib.contextmanager
def _two_workers() -> Iterator[tuple[distributed.LocalCluster, set[int]]]:
    """A local Dask cluster of two worker processes, and their process ids."""
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        yield cluster, set(client.run(os.getpid).values())


def test_a_run_and_two_cluster_workers_share_the_budget_and_survive_a_kill(
    postgres_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(HEARTBEAT_ENV, "1")  # the workers inherit it: stale after 3 s
    total = 14
    with _two_workers() as (cluster, pids):
        killed: list[int] = []

        def kill_one_mid_trial() -> None:  # the worst moment: a worker's trial is running
            end = time.monotonic() + 120
            store = None
            while time.monotonic() < end and not killed:
                try:
                    store = store or open_storage(postgres_url, create=False)
                    study = optuna.load_study(study_name="c", storage=store)
                    for t in study.get_trials(deepcopy=False):
                        pid = int(str(TrialRecord.of(t).process or ":0").rsplit(":", 1)[1])
                        if t.state.name == "RUNNING" and pid in pids:
                            os.kill(pid, signal.SIGSTOP)  # no trial ends between check and kill
                            time.sleep(0.3)  # a commit already sent lands
                            if study.trials[t.number].state.name != "RUNNING":
                                os.kill(pid, signal.SIGCONT)
                                break
                            os.kill(pid, signal.SIGKILL)
                            killed.append(t.number)
                            return
                except Exception:  # the study is not there yet
                    pass
                time.sleep(0.2)

        killer = threading.Thread(target=kill_one_mid_trial, daemon=True)
        killer.start()
        result = search("default", trials=total, seed=4, storage=postgres_url, study="c",
                        runs_dir=tmp_path, overrides=SLOW,
                        cluster=cluster.scheduler_address)  # fmt: skip
        killer.join(5)
    trials = optuna.load_study(study_name="c", storage=postgres_url).trials
    assert killed, "no worker trial was running to kill"
    dead = trials[killed[0]]
    dead_pid = int(str(TrialRecord.of(dead).process).rsplit(":", 1)[1])
    assert dead_pid in pids
    assert dead.state.name == "FAIL" and TrialRecord.of(dead).error is None  # stale, not counted
    counted = [t for t in trials if t.state.name in ("COMPLETE", "PRUNED")]
    assert len(counted) == total  # the dead trial's budget ran again: exactly the budget
    by = {str(TrialRecord.of(t).process).rsplit(":", 1)[1] for t in counted}
    (survivor,) = pids - {dead_pid}
    assert {str(os.getpid()), str(survivor)} <= by  # all took part, the killed one too
    drawn = [tuple(sorted(t.params.items())) for t in counted if "portfolio" not in t.user_attrs]
    assert len(set(drawn)) == len(drawn)  # no configuration twice
    assert result.predictor is not None


def test_a_dataframe_reaches_as_many_workers_as_asked_for(
    islr: tuple[Path, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A DataFrame given to ``search`` travels to the workers (ISLR's Default, a table
    that is not bundled: a worker cannot read it from anywhere else), ``cluster_workers=1``
    of a two-worker cluster starts one worker, and a SQLite file serves a cluster on this
    machine: the run and exactly one worker ran the budget, on the frame's data. Asking
    for more workers than the cluster has uses them all, with a warning. The runs folder
    is named relative to the run's folder, and the workers work in another: the storage
    they are sent is the run's file (relative, they opened none and ran nothing)."""
    frame = islr[1].sample(3000, random_state=0)  # trials of a second or two
    total = 8
    monkeypatch.chdir(tmp_path)
    (tmp_path / "elsewhere").mkdir()
    with _two_workers() as (cluster, workers):
        with distributed.Client(cluster) as client:
            client.run(os.chdir, str(tmp_path / "elsewhere"))
        pids = {str(p) for p in workers}
        result = search("default", data=frame, target="default", trials=total, seed=1,
                        runs_dir="one", overrides=SLOW,
                        cluster=cluster.scheduler_address, cluster_workers=1)  # fmt: skip
        with pytest.warns(UserWarning, match=r"--cluster-workers 3: the cluster has 2 workers"):
            search("default", data=frame, target="default", trials=2, seed=1,
                   runs_dir=tmp_path / "three", overrides=SLOW,
                   cluster=cluster.scheduler_address, cluster_workers=3)  # fmt: skip
    assert result.storage.startswith("sqlite:///")
    study = optuna.load_study(study_name=result.study_name, storage=result.storage)
    counted = [t for t in study.trials if t.state.name in ("COMPLETE", "PRUNED")]
    assert len(counted) == total
    by = {str(TrialRecord.of(t).process).rsplit(":", 1)[1] for t in counted}
    assert len(by & pids) == 1 and str(os.getpid()) in by  # the run and one worker
    assert result.predictor is not None


def test_a_cluster_needs_a_storage_its_workers_reach(tmp_path: Path) -> None:
    from automl_fin import StorageError

    with pytest.raises(StorageError, match=r"--cluster-workers 0: give 1 or more"):
        search("default", trials=1, runs_dir=tmp_path, cluster="tcp://127.0.0.1:1",
               cluster_workers=0)  # fmt: skip
    with pytest.raises(StorageError, match=r"--cluster-workers 2: needs --cluster ADDRESS"):
        search("default", trials=1, runs_dir=tmp_path, cluster_workers=2)
    assert not list(tmp_path.iterdir())  # refused before anything was written
    with pytest.raises(StorageError, match="workers cannot reach a ':memory:' storage"):
        search("default", trials=1, storage=":memory:", runs_dir=tmp_path,
               cluster="tcp://127.0.0.1:1")  # fmt: skip
    with pytest.raises(StorageError, match=r"--cluster tcp://127.0.0.1:1: no Dask scheduler"):
        search("default", trials=1, runs_dir=tmp_path, cluster="tcp://127.0.0.1:1",
               overrides={"models": ["logreg"]})  # fmt: skip
