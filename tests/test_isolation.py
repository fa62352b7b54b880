"""Trial isolation in the search's process: a model that hangs is stopped at the recipe's
``trial_timeout``; one that exhausts memory fails only its own trial."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from sklearn.base import BaseEstimator, ClassifierMixin

from automl_fin import ModelSpec, Task, hookimpl, search
from automl_fin.registry import Registry

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")


class _Hangs(ClassifierMixin, BaseEstimator):
    """A model whose fit never ends: blocked in a wait, or spinning in Python."""

    def __init__(self, how: str = "sleep") -> None:
        self.how = how

    def fit(self, X, y):  # type: ignore[no-untyped-def]
        if self.how == "sleep":
            time.sleep(10_000)
        while True:
            pass

    def predict_proba(self, X):  # type: ignore[no-untyped-def]
        raise AssertionError("never fitted")


def _registry(how: str) -> Registry:
    class Plugin:
        @hookimpl
        def register_models(self, register):  # type: ignore[no-untyped-def]
            register(
                ModelSpec(
                    name="hangs", tasks={Task.BINARY}, build=lambda p, c: _Hangs(how),
                    requires={"scale"},
                )
            )  # fmt: skip

    return Registry(plugins={"hangs": Plugin()})


def _search(tmp_path: Path, how: str, limit: float):  # type: ignore[no-untyped-def]
    return search(
        "default",
        trials=3,
        runs_dir=tmp_path,
        storage=":memory:",
        registry=_registry(how),
        overrides={
            "models": ["hangs", "logreg"],
            "enqueue": [{"model": "hangs"}],  # the hanging model runs first
            "trial_timeout": limit,
            "baselines": [],
            "calibration": ["none"],
            "validation.repeats": 1,
            "ensemble": False,
            "report": False,
        },
    )


@pytest.mark.parametrize("how", ["sleep", "spin"])
def test_a_hanging_model_times_out_and_the_search_goes_on(tmp_path: Path, how: str) -> None:
    limit = 2.0
    board = _search(tmp_path, how, limit).leaderboard()
    hung = board[board["model"] == "hangs"].iloc[0]
    assert hung["state"] == "FAIL"
    assert hung["error"] == f"hangs: timed out after {limit:g} s (the recipe's trial_timeout)"
    assert limit <= hung["duration_s"] < limit + 1.0  # asked 2 s; stopped within a second
    assert (board.loc[board["model"] == "logreg", "state"] == "COMPLETE").all()


def test_the_limit_holds_for_a_search_run_in_a_thread(tmp_path: Path) -> None:
    out: dict[str, object] = {}
    worker = threading.Thread(target=lambda: out.setdefault("r", _search(tmp_path, "spin", 1.5)))
    worker.start()
    worker.join(timeout=120)
    assert not worker.is_alive()
    board = out["r"].leaderboard()  # type: ignore[attr-defined]
    hung = board[board["model"] == "hangs"].iloc[0]
    assert hung["state"] == "FAIL" and "timed out after 1.5 s" in hung["error"]
    assert 1.5 <= hung["duration_s"] < 2.5


MEMORY_HOG = r"""
import resource, sys
import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from automl_fin import ModelSpec, Task, hookimpl, search
from automl_fin.registry import Registry

class Hog(ClassifierMixin, BaseEstimator):
    def fit(self, X, y):
        hoard = []
        while True:  # allocates without bound
            hoard.append(np.ones(25_000_000))

class Plugin:
    @hookimpl
    def register_models(self, register):
        register(ModelSpec(name="hog", tasks={Task.BINARY}, build=lambda p, c: Hog(),
                           requires={"scale"}))

limit = 3 * 1024**3  # 3 GiB of address space for the whole search process
resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
result = search("default", trials=4, runs_dir=sys.argv[1], storage=":memory:",
                registry=Registry(plugins={"hog": Plugin()}),
                overrides={"models": ["hog", "logreg"], "enqueue": [{"model": "hog"}],
                           "baselines": [], "calibration": ["none"], "validation.repeats": 1,
                           "ensemble": False, "report": False})
board = result.leaderboard()
for _, row in board.iterrows():
    print(row["model"], row["state"], str(row["error"])[:200])
"""


def test_a_model_that_exhausts_memory_fails_only_its_trial(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-c", MEMORY_HOG, str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    rows = [line.split(" ", 2) for line in done.stdout.strip().splitlines()]
    hog = [r for r in rows if r[0] == "hog"]
    assert hog and hog[0][1] == "FAIL" and "MemoryError" in hog[0][2]
    assert [r[1] for r in rows if r[0] == "logreg"] == ["COMPLETE"] * 3  # the rest went on
