"""Trial isolation in the search's process: a model that hangs is stopped at the recipe's
``trial_timeout``; one that exhausts memory fails only its own trial."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sklearn.base import BaseEstimator, ClassifierMixin

from automl_fin import ModelSpec, Task, hookimpl, search
from automl_fin.plugin._registry import Registry

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")


class _Hangs(ClassifierMixin, BaseEstimator):
    """A model whose fit never ends: blocked in a wait, or spinning in Python."""

    def __init__(self, how: str = "sleep") -> None:
        self.how = how

    def fit(self, X, y):  # type: ignore[no-untyped-def]
        if self.how == "exit":
            sys.exit(3)  # a plugin that ends the process
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
                    # declared cheap (a plugin that hangs says no otherwise): its folds are
                    # started within a budget even when a busy machine slowed the first
                    # folds timed (a trial starts when its first repeat of folds fits)
                    cost=0.1,
                )
            )  # fmt: skip

    return Registry(plugins={"hangs": Plugin()})


def _search(tmp_path: Path, how: str, limit: float | None, **budget: float):  # type: ignore[no-untyped-def]
    return search(
        "default",
        trials=None if budget else 3,
        runs_dir=tmp_path,
        storage=":memory:",
        registry=_registry(how),
        **budget,
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


@pytest.mark.parametrize("how", ["sleep", "spin"])
def test_a_time_budget_bounds_a_hanging_model_without_a_trial_timeout(
    tmp_path: Path, how: str
) -> None:
    result = _search(tmp_path, how, None, seconds=6)
    board = result.leaderboard()
    hung = board[board["model"] == "hangs"].iloc[0]
    assert hung["state"] == "PRUNED"  # cut by the budget, as a fold that does not fit
    assert "stopped, timed out after" in hung["error"]
    assert "(the search's time budget of 6 s)" in hung["error"]
    assert result.timings["search"] <= 6 * 1.10  # stopped 5 % past the budget, not never


def test_a_plugin_calling_sys_exit_fails_its_own_trial_only(tmp_path: Path) -> None:
    board = _search(tmp_path, "exit", None).leaderboard()
    exited = board[board["model"] == "hangs"].iloc[0]
    assert exited["state"] == "FAIL"
    assert (
        exited["error"].startswith("hangs (") and "raised in fit: SystemExit: 3" in exited["error"]
    )
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
from automl_fin.plugin._registry import Registry

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
    assert hog and all(r[1] == "FAIL" and "MemoryError" in r[2] for r in hog)
    logreg = [r[1] for r in rows if r[0] == "logreg"]
    assert len(rows) == 4 and len(logreg) >= 2 and set(logreg) == {"COMPLETE"}  # went on


class _Misbehaves(ClassifierMixin, BaseEstimator):
    """A model that breaks at one stage: fit, predict, or the shape / values it returns."""

    def __init__(self, how: str = "fit") -> None:
        self.how = how

    def fit(self, X, y):  # type: ignore[no-untyped-def]
        if self.how == "fit":
            raise RuntimeError("solver diverged")
        self.classes_ = np.unique(y)
        return self

    def predict_proba(self, X):  # type: ignore[no-untyped-def]
        if self.how == "predict":
            raise ValueError("input has the wrong layout")
        if self.how == "shape":
            return np.full((len(X), 3), 1 / 3)
        return np.full((len(X), 2), np.nan)


def _broken_space(ctx):  # type: ignore[no-untyped-def]
    raise KeyError("n_estimators")


def _broken_build(params, ctx):  # type: ignore[no-untyped-def]
    raise TypeError("unexpected keyword 'depth'")


@pytest.mark.parametrize(
    ("how", "stage", "says"),
    [
        ("suggest", "suggest", "KeyError: 'n_estimators'"),
        ("build", "build", "TypeError: unexpected keyword 'depth'"),
        ("fit", "fit", "RuntimeError: solver diverged"),
        ("predict", "predict", "ValueError: input has the wrong layout"),
        ("shape", "predict", "predictions have shape (334, 3), expected (334, 2)"),
        ("nan", "predict", "predictions contain NaN or infinite values"),
    ],
)
def test_a_plugin_that_breaks_fails_only_its_trial_and_is_named(
    tmp_path: Path, how: str, stage: str, says: str
) -> None:
    class Plugin:
        @hookimpl
        def register_models(self, register):  # type: ignore[no-untyped-def]
            register(
                ModelSpec(
                    name="flaky",
                    tasks={Task.BINARY},
                    build=_broken_build if how == "build" else lambda p, c: _Misbehaves(how),
                    space=_broken_space if how == "suggest" else {},
                    requires={"scale"},
                )
            )

    result = search(
        "default",
        trials=3,
        runs_dir=tmp_path,
        storage=":memory:",
        registry=Registry(plugins={"flaky_plugin": Plugin()}),
        overrides={
            "models": ["flaky", "logreg"],
            "enqueue": [{"model": "flaky"}],
            "baselines": [],
            "calibration": ["none"],
            "validation.n_splits": 3,
            "validation.repeats": 1,
            "ensemble": False,
            "report": False,
        },
    )
    board = result.leaderboard()
    flaky = board[board["model"] == "flaky"].iloc[0]
    assert flaky["state"] == "FAIL"
    assert flaky["error"].startswith("flaky (") and "plugin 'flaky_plugin'" in flaky["error"]
    assert f"raised in {stage}: " in flaky["error"] and says in flaky["error"]
    assert (board.loc[board["model"] == "flaky", "state"] == "FAIL").all()
    others = board.loc[board["model"] == "logreg", "state"]
    assert len(others) >= 1 and (others == "COMPLETE").all()  # the search went on


class _Overconfident(ClassifierMixin, BaseEstimator):
    """Logistic regression whose "probabilities" are its raw margins: outside [0, 1]."""

    def fit(self, X, y):  # type: ignore[no-untyped-def]
        from sklearn.linear_model import LogisticRegression

        self.model_ = LogisticRegression(max_iter=500).fit(X, y)
        self.classes_ = self.model_.classes_
        return self

    def predict_proba(self, X):  # type: ignore[no-untyped-def]
        margin = self.model_.decision_function(X)
        return np.column_stack([-margin, margin])


def test_probabilities_outside_0_1_fail_the_trial_naming_the_plugin(tmp_path: Path) -> None:
    class Plugin:
        @hookimpl
        def register_models(self, register):  # type: ignore[no-untyped-def]
            spec = ModelSpec(name="margins", tasks={Task.BINARY},
                             build=lambda p, c: _Overconfident(), requires={"scale"})  # fmt: skip
            register(spec)

    result = search("default", trials=3, runs_dir=tmp_path, storage=":memory:",
                    registry=Registry(plugins={"margins": Plugin()}),
                    overrides={"models": ["margins", "logreg"], "enqueue": [{"model": "margins"}],
                               "calibration": ["none"], "ensemble": False,
                               "report": False})  # fmt: skip
    board = result.leaderboard()
    bad = board[board["model"] == "margins"].iloc[0]
    assert bad["state"] == "FAIL" and bad["error"].startswith("margins (")
    assert "class probabilities must lie in [0, 1] and sum to 1 per row" in bad["error"]
    assert (board.loc[board["model"] == "logreg", "state"] == "COMPLETE").all()


@pytest.mark.parametrize("thread", ["main", "other"])
def test_a_limit_that_native_code_overran_says_how_long_it_held(thread: str) -> None:
    """Native code that never returns to Python (the builtin ``sum`` of a range: no
    Python instruction for seconds) is stopped only when it returns; the message then
    says when that was, not only the limit it passed."""
    from automl_fin.engine._time_limit import TrialTimeout, time_limit

    caught: list[BaseException] = []
    # about 3 s in C on this machine (a message is said from 1.1 x 0.2 + 1 s late: a
    # fixed 80 million, 1.3 s here, was too close to that)
    started = time.monotonic()
    sum(range(10_000_000))
    n = int(10_000_000 * 3.0 / max(time.monotonic() - started, 1e-3))

    def overrun() -> None:
        started = time.monotonic()
        try:
            with time_limit(0.2, "the search's time budget"):
                sum(range(n))  # seconds in C
                time.sleep(5)  # back in Python: the timeout fires here at the latest
        except TrialTimeout as exc:
            caught.append(exc)
        caught.append(time.monotonic() - started)  # type: ignore[arg-type]

    _run_in(thread, overrun)
    error, took = caught
    held = float(str(error).rsplit("until ", 1)[1].removesuffix(" s"))
    assert str(error).startswith("timed out after 0.2 s (the search's time budget); native ")
    assert took > 1.0 and abs(held - took) < 1.0


def test_a_time_limit_waits_for_an_import_to_end(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The budget's timer fires after a slow import, never inside it: a module cut half
    way stays half made in ``sys.modules``, and later imports of it fail."""
    from automl_fin.engine._time_limit import TrialTimeout, time_limit

    (tmp_path / "slow_module_for_the_timer.py").write_text(
        "import time\ntime.sleep(0.6)\nDONE = True\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    started = time.monotonic()
    with pytest.raises(TrialTimeout), time_limit(0.2, "the search's time budget"):
        import slow_module_for_the_timer  # noqa: F401

        time.sleep(5)  # the timer, held back during the import, fires here
    assert 0.6 <= time.monotonic() - started < 1.5
    assert sys.modules["slow_module_for_the_timer"].DONE  # imported whole
    # an import that held it long is said to be one (it read "native code held it")
    (tmp_path / "slower_module_for_the_timer.py").write_text("import time\ntime.sleep(1.5)\n")
    with pytest.raises(TrialTimeout) as info, time_limit(0.2, "the search's time budget"):
        import slower_module_for_the_timer  # noqa: F401

        time.sleep(5)
    assert str(info.value).endswith("; an import held it until 2 s")


def test_the_timers_signal_is_sent_to_the_limited_thread_not_the_process() -> None:
    """A process's SIGALRM (``setitimer``'s) may reach any of its threads: where one
    reached an OpenMP thread, the main thread's ``time.sleep(5)`` ran whole past a 0.2 s
    limit (seen twice on CI). The signal is sent to the limited thread itself: no process
    timer is armed, and a sleep between other threads' busy loops is cut at the limit."""
    import signal

    from automl_fin.engine._time_limit import TrialTimeout, time_limit

    stop = threading.Event()

    def busy() -> None:  # threads that would take a process's signal as well as any
        while not stop.is_set():
            sum(range(10_000))

    others = [threading.Thread(target=busy) for _ in range(4)]
    for other in others:
        other.start()
    started = time.monotonic()
    try:
        with pytest.raises(TrialTimeout), time_limit(0.2, "the search's time budget"):
            assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)
            time.sleep(5)
    finally:
        stop.set()
        for other in others:
            other.join()
    assert time.monotonic() - started < 1.0


@pytest.mark.parametrize("thread", ["main", "other"])
def test_a_limit_moved_later_fires_later(thread: str) -> None:
    """A limit of 0.3 s moved 0.5 s later while it runs (a boosting fit the budget
    stopped, finishing its fold) fires at 0.8 s, not 0.3 s, and names the new limit."""
    from automl_fin.engine._time_limit import TrialTimeout, time_limit

    caught: list[Any] = []

    def run() -> None:
        started = time.monotonic()
        try:
            with time_limit(0.3, "the search's time budget") as limit:
                time.sleep(0.1)
                limit.extend(0.5)
                for _ in range(500):  # back in Python often: another thread's timer fires
                    time.sleep(0.01)
        except TrialTimeout as exc:
            caught.extend([exc, time.monotonic() - started])

    _run_in(thread, run)
    error, took = caught
    assert str(error) == "timed out after 0.8 s (the search's time budget)"
    assert 0.75 <= took < 1.3


@pytest.mark.parametrize("thread", ["main", "other"])
def test_a_timeout_the_code_drops_is_raised_again_until_it_ends(thread: str) -> None:
    """The timeout may land in code that catches and drops it (a library's ``except
    Exception`` around a conversion): raised once, it was lost, and a model spinning
    after it ran for ever (a search in a thread on a loaded machine hung there). It is
    raised again until the limited code has ended; none lands after it."""
    from automl_fin.engine._time_limit import RETRY, TrialTimeout, time_limit

    caught: list[Any] = []

    def spin(seconds: float) -> None:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            pass

    def run() -> None:
        started = time.monotonic()
        dropped = 0
        try:
            with time_limit(0.3, "the search's time budget"):
                for _ in range(3):
                    try:
                        spin(10)
                    except Exception:  # dropped, as such code does
                        dropped += 1
                spin(10)
        except TrialTimeout as exc:
            caught.extend([exc, time.monotonic() - started, dropped])
        spin(RETRY * 1.5)  # after the limited code: nothing more lands here
        caught.append("after")

    _run_in(thread, run)
    error, took, dropped, after = caught
    assert str(error).startswith("timed out after 0.3 s") and dropped == 3
    assert 0.3 + 3 * RETRY - 0.1 <= took < 0.3 + 3 * RETRY + 1.0 and after == "after"


def _run_in(thread: str, run: Any) -> None:
    """``run()`` in the main thread (a SIGALRM timer) or in another (the watchdog)."""
    if thread == "main":
        run()
    else:
        worker = threading.Thread(target=run)
        worker.start()
        worker.join()


def test_a_limit_holds_where_the_code_replaces_its_sigalrm_handler() -> None:
    """A fit that set its own SIGALRM handler (a timeout decorator) and slept: the
    timer's handler was gone and a 20 s budget ran 185 s. The watchdog raises it at the
    limit, saying why, and never sends that handler the timer's signal; the handler
    before the limit is put back."""
    import signal

    from automl_fin.engine._time_limit import RETRY, TrialTimeout, time_limit

    before = signal.getsignal(signal.SIGALRM)
    signalled: list[float] = []
    started = time.monotonic()
    with pytest.raises(TrialTimeout) as info, time_limit(0.3, "the search's time budget"):
        signal.signal(signal.SIGALRM, lambda *a: signalled.append(time.monotonic()))
        for _ in range(1000):
            time.sleep(0.01)
    took = time.monotonic() - started
    assert 0.3 <= took < 0.3 + RETRY and not signalled
    assert str(info.value).startswith("timed out after 0.3 s (the search's time budget)")
    assert str(info.value).endswith("; the code replaced the timer's SIGALRM handler")
    assert signal.getsignal(signal.SIGALRM) is before


def test_a_catboost_fit_the_time_limit_cuts_times_out_and_the_search_goes_on(
    tmp_path: Path,
) -> None:
    """CatBoost checks for signals itself and raises KeyboardInterrupt in place of the
    timeout the limit raised: the trial's timeout read as the user's Ctrl-C (the search
    stopped), or on the command line as the plugin's own failure. It is the timeout:
    the trial fails as timed out, and the search goes on."""
    from automl_fin import search

    slow = {"model": "catboost", "catboost.learning_rate": 0.01, "catboost.depth": 8,
            "catboost.l2_leaf_reg": 1.0, "catboost.random_strength": 1.0,
            "catboost.n_estimators": 3000, "catboost.class_weight": "none"}  # fmt: skip
    result = search(
        "default", trials=2, seed=0, runs_dir=tmp_path, storage=":memory:",
        overrides={"models": ["catboost", "logreg"], "baselines": [], "portfolio": False,
                   "enqueue": [slow], "trial_timeout": 1.0, "ensemble": False,
                   "report": False, "predictor": False, "validation.n_splits": 3,
                   "validation.repeats": 1,
                   "model_options": {"catboost": {"early_stopping_rounds": 10_000}}},
    )  # fmt: skip
    board = result.leaderboard().sort_values("trial")
    first = board.iloc[0]
    assert first["model"] == "catboost" and first["state"] == "FAIL", first.to_dict()
    assert str(first["error"]).startswith("catboost: timed out after 1 s"), first["error"]
    assert len(board) == 2  # the search went on


@pytest.mark.parametrize("thread", ["main", "other"])
def test_a_limit_already_past_as_it_starts_cleans_up_after_itself(thread: str) -> None:
    """A limit whose end had passed as it started (a tiny trial_timeout) fired before
    its handler knew its watchdog: a NameError, the watchdog thread left running and
    the handler left in place, and a later sleep outside any limit got its timeout. It
    times out, and leaves nothing behind."""
    import signal

    from automl_fin.engine._time_limit import TrialTimeout, time_limit

    before = signal.getsignal(signal.SIGALRM)
    caught: list[Any] = []

    def run() -> None:
        for seconds in (1e-9, -1.0):
            try:
                with time_limit(seconds, "the search's time budget"):
                    time.sleep(2)
            except TrialTimeout as exc:
                caught.append(exc)

    _run_in(thread, run)
    assert len(caught) == 2
    time.sleep(1.5)  # nothing lands here
    assert not [t for t in threading.enumerate() if t.name == "trial-timeout"]
    assert signal.getsignal(signal.SIGALRM) is before
