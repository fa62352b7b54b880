"""Every file a run writes stays inside --runs-dir, whatever the study or recipe is named."""

from __future__ import annotations

import hashlib
import re
import shutil
import warnings
from pathlib import Path

import optuna
import pytest
from conftest import cli

from automl_fin import ArtifactError, load, search
from automl_fin.engine._reopen import reopen
from automl_fin.storage._runs import folder_name

FAST = {"models": ["logreg"], "baselines": [], "validation.n_splits": 2, "ensemble": False}


def _run(runs: Path, study: str | None = None, recipe: str | Path = "default", **over: object):
    return search(recipe, trials=1, seed=0, study=study, runs_dir=runs,
                  overrides={**FAST, **over})  # fmt: skip


def _tree(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def test_study_names_never_lead_out_of_the_runs_folder(tmp_path: Path) -> None:
    runs = tmp_path / "a" / "runs"
    victim = tmp_path / "victim"  # what `--study ../../victim` pointed at
    (victim / "predictor").mkdir(parents=True)
    (victim / "predictor" / "model.pkl").write_bytes(b"the victim's model")
    (victim / "report.html").write_text("the victim's report")
    before = _tree(victim)
    absolute = tmp_path / "elsewhere"
    names = ["../../victim", str(absolute), "x" * 300, "..", "ümlaut name/with slash"]
    for name in names:
        result = _run(runs, study=name)
        folder = result.run_dir.resolve()
        assert folder.parent == runs.resolve(), name
        assert (folder / "predictor" / "manifest.json").is_file() and len(folder.name) <= 100
        assert load(folder).manifest["study"] == name  # the study keeps its name
        board = result.leaderboard()
        assert (board["state"] == "COMPLETE").all(), board["error"].tolist()
        # found again by its name (predict, report) and by its folder
        assert reopen(name, runs_dir=runs).study.study_name == name
        assert reopen(folder).study.study_name == name
        assert load(name, runs_dir=runs).manifest["study"] == name  # as `predict NAME`
    assert _tree(victim) == before and not absolute.exists()
    # the name given as a folder is not one: the message says how to pass a name
    with pytest.raises(ArtifactError, match=r"load\('ümlaut name', runs_dir=\.\.\.\)"):
        load(runs / "ümlaut name")
    with pytest.raises(ArtifactError, match=r"^no run 'nobody' in .*nearest: "):
        load("nobody", runs_dir=runs)
    assert len({folder_name(n) for n in names}) == len(names)  # distinct folders
    # as docs/using-results.md says: a space or an accent is not a safe file name
    assert folder_name("crédit card") == "cr_dit_card-82ef18ebb7"
    assert folder_name("sp ace").startswith("sp_ace-") and folder_name("a..b") == "a..b"


def test_a_recipe_named_with_dots_and_slashes_stays_inside(tmp_path: Path) -> None:
    recipe = tmp_path / "evil.yaml"
    recipe.write_text("extends: default\nname: ../../../x\n")
    runs = tmp_path / "runs"
    result = _run(runs, recipe=recipe)
    assert result.run_dir.resolve().parent == runs.resolve()
    assert not (tmp_path.parent / "x").exists() and not list(tmp_path.glob("x*"))
    assert result.study_name.startswith("../../../x-")


def test_a_link_out_of_the_runs_folder_is_refused_before_anything_is_written(
    tmp_path: Path,
) -> None:
    runs, outside = tmp_path / "runs", tmp_path / "outside"
    runs.mkdir()
    outside.mkdir()
    (runs / "linked").symlink_to(outside)
    out = cli("run", "default", "--study", "linked", "--trials", "1", "--runs-dir", str(runs))
    assert out.returncode == 2 and out.stderr.count("\n") == 1, out.stderr
    assert f"leads to {outside.resolve()}, outside the runs folder" in out.stderr
    assert list(outside.iterdir()) == []
    storage = f"sqlite:///{runs / 'automl_fin.db'}"
    assert [s.study_name for s in optuna.get_all_study_summaries(storage)] == []
    # a link inside a run folder (its predictor) is refused the same way
    real = _run(runs, study="real")
    (real.run_dir / "oof").rename(tmp_path / "oof_moved")
    (real.run_dir / "oof").symlink_to(outside)
    with pytest.raises(ArtifactError, match="outside the runs folder"):
        _run(runs, study="real")
    assert list(outside.iterdir()) == []
    # every other file or folder a run writes there: its bagged fold models, the final
    # test's predictions, the predictor's lock and the one set aside
    (real.run_dir / "oof").unlink()
    (tmp_path / "oof_moved").rename(real.run_dir / "oof")
    (outside / "trial_00000.pkl").write_bytes(b"someone else's")
    for name in ("folds", "final_test.npz", ".predictor.lock", "predictor.previous"):
        target = outside / "trial_00000.pkl" if "." in name else outside
        shutil.rmtree(real.run_dir / name, ignore_errors=True)
        (real.run_dir / name).unlink(missing_ok=True)
        (real.run_dir / name).symlink_to(target)
        with pytest.raises(ArtifactError, match=f"{name} leads to .*outside the runs folder"):
            _run(runs, study="real")
        (real.run_dir / name).unlink()
    assert [p.name for p in outside.iterdir()] == ["trial_00000.pkl"]
    assert (outside / "trial_00000.pkl").read_bytes() == b"someone else's"
    assert _run(runs, study="real").predictor is not None  # the links gone, it runs again


def test_a_study_named_as_another_study_s_folder_does_not_take_its_files(
    tmp_path: Path,
) -> None:
    """``crédit card`` runs in the folder ``cr_dit_card-<hash>``; a study given that
    folder's name (copied from a listing to resume the first) was a new study in the same
    folder: it overwrote the first's out-of-fold files, and ``predict 'crédit card'``
    served its model. Refused in one line, which says how to resume; the folder's name
    finds the study whose files it holds."""
    runs = tmp_path / "runs"
    first = _run(runs, study="crédit card")
    folder = first.run_dir
    assert folder.name != "crédit card"
    before = _tree(folder)
    with pytest.raises(ArtifactError, match=r"holds the files of study 'crédit card', not "
                       rf"'{folder.name}'; to resume that study pass its name \(--study "
                       r"'crédit card'\)"):  # fmt: skip
        _run(runs, study=folder.name, models=["hgb"])
    assert _tree(folder) == before  # nothing written over
    (folder / ".study").unlink()  # a folder written before runs named their study
    with pytest.raises(ArtifactError, match=r"holds the files of study 'crédit card'"):
        _run(runs, study=folder.name, models=["hgb"])
    (folder / ".study").write_text("crédit card", encoding="utf-8")
    studies = optuna.get_all_study_names(storage=first.storage)  # type: ignore[arg-type]
    assert studies == ["crédit card"]  # no second study either
    assert load(folder.name, runs_dir=runs).manifest["study"] == "crédit card"
    assert reopen(folder.name, runs_dir=runs).study.study_name == "crédit card"


def test_every_file_a_run_writes_is_one_the_link_check_knows() -> None:
    from automl_fin.engine._bag import FOLDER
    from automl_fin.results._artifacts import PREDICTOR_DIR
    from automl_fin.results._final_test import PREDICTIONS
    from automl_fin.results._report import REPORT
    from automl_fin.storage._runs import MARK, OWNER, RUN_FILES

    named = {FOLDER, PREDICTOR_DIR, f"{PREDICTOR_DIR}.previous", f".{PREDICTOR_DIR}.lock",
             PREDICTIONS, REPORT, "oof", OWNER, MARK}  # fmt: skip
    assert named == set(RUN_FILES)


def test_a_folder_where_the_report_goes_is_named_in_one_line(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    real = _run(runs, study="real")
    (real.run_dir / "report.html").unlink(missing_ok=True)
    (real.run_dir / "report.html").mkdir()  # where `report` (no --out) writes it
    out = cli("report", "real", "--runs-dir", str(runs))
    assert out.returncode == 2 and out.stderr.strip().splitlines() == [
        f"automl-fin: error: {real.run_dir / 'report.html'} is a folder, where the run's "
        "report goes; move it away"
    ]


def test_an_output_path_never_overwrites_what_a_run_keeps_or_was_given(tmp_path: Path) -> None:
    """``predict --out`` onto the runs folder's database (every trial lost), onto the
    saved predictor's manifest (the predictor lost) or into its folder (then refused as
    a changed folder), or onto the --data file (the user's rows replaced by
    predictions), and ``report --out`` likewise: each wrote, exit 0. Refused in one line
    now, nothing written."""
    from automl_fin import datasets

    runs = tmp_path / "runs"
    real = _run(runs, study="real", report=False)
    rows = tmp_path / "rows.csv"
    datasets.load("german_credit").drop(columns="creditability").head(20).to_csv(rows, index=False)
    kept = {p: p.read_bytes() for p in (rows, runs / "automl_fin.db",
                                         real.run_dir / "predictor" / "manifest.json")}  # fmt: skip
    said = {
        rows: "is the input file (--data); pass another file name",
        runs / "automl_fin.db": "is a SQLite database (a run's storage); pass another file name",
        real.run_dir / "predictor" / "manifest.json": "which a run keeps as it saved it",
        real.run_dir / "predictor" / "preds.csv": "which a run keeps as it saved it",
    }
    for out, why in said.items():
        commands = [["predict", "real", "--data", str(rows)], ["report", "real"]]
        for command in commands[: 1 if out == rows else 2]:  # (the report's input: none)
            done = cli(*command, "--runs-dir", str(runs), "--out", str(out))
            assert done.returncode == 2 and why in done.stderr, (command, done.stderr)
    assert {p: p.read_bytes() for p in kept} == kept
    assert not (real.run_dir / "predictor" / "preds.csv").exists()
    assert load(real.run_dir).manifest["study"] == "real"  # still loads
    fine = cli("predict", "real", "--data", str(rows), "--runs-dir", str(runs),
               "--out", str(tmp_path / "preds.csv"))  # fmt: skip
    assert fine.returncode == 0, fine.stderr
    # the table of stability beside --out named as the input file: the rows were
    # replaced by the PSI table (a prober's find)
    side = tmp_path / "a.stability.csv"
    side.write_bytes(rows.read_bytes())
    done = cli("predict", "real", "--data", str(side), "--runs-dir", str(runs),
               "--out", str(tmp_path / "a.csv"))  # fmt: skip
    assert done.returncode == 2 and "is the input file (--data)" in done.stderr, done.stderr
    assert side.read_bytes() == rows.read_bytes()
    # a runs folder inside a predictor's folder (or a run's oof/): saved again, the
    # predictor is replaced whole, and every trial of the other runs folder went with it
    for inside in (real.run_dir / "predictor", real.run_dir / "oof" / "more"):
        with pytest.raises(ArtifactError, match=r"--runs-dir .* is inside .*, which a run keeps"):
            search("default", trials=1, runs_dir=inside, study="other")
    assert not (real.run_dir / "predictor" / "automl_fin.db").exists()
    # a study named as the storage's own files (SQLite's journal): its folder was where
    # SQLite writes the journal, and every command then failed "disk I/O error"
    for name in ("automl_fin.db-journal", "automl_fin.db", "AUTOML_FIN.DB-WAL"):
        assert folder_name(name) != name and folder_name(name).startswith(name)


class _FillsTheFolder:
    """A logistic regression whose third fit finds the run's ``oof`` folder gone and a
    file in its place (what a full disk or a changed permission is to the next write)."""

    def __init__(self, runs: Path) -> None:
        self.runs = runs

    def model(self, params, ctx):  # type: ignore[no-untyped-def]
        from sklearn.linear_model import LogisticRegression

        runs = self.runs

        class Fills(LogisticRegression):
            def fit(self, X, y):  # type: ignore[no-untyped-def]
                oof = next(runs.glob("*/oof"), None)
                if oof is not None and oof.is_dir() and len(list(oof.iterdir())) >= 2:
                    shutil.rmtree(oof)
                    oof.write_text("not a folder")
                return super().fit(X, y)

        return Fills(max_iter=300)


def test_a_run_folder_that_cannot_be_written_ends_the_search_in_one_line(tmp_path: Path) -> None:
    """The run's ``oof`` folder unwritable mid-search (a file in its place; a full disk):
    every later trial failed on FileExistsError "raised in suggest", blamed on the
    model's plugin, until the budget was spent. The search ends at the first such trial,
    in one line naming the folder, the finished trials kept; a file where the folder goes
    is refused before the first trial."""
    from automl_fin import ModelSpec, Task, hookimpl
    from automl_fin.errors import ArtifactError
    from automl_fin.plugin._registry import Registry

    runs = tmp_path / "runs"
    maker = _FillsTheFolder(runs)

    class Plugin:
        @hookimpl
        def register_models(self, register):  # type: ignore[no-untyped-def]
            register(ModelSpec(name="fills", tasks={Task.BINARY}, build=maker.model,
                               requires={"scale"}))  # fmt: skip

    url = f"sqlite:///{tmp_path / 'runs.db'}"
    over = {**FAST, "models": ["fills"], "portfolio": False, "report": False}
    with pytest.raises(ArtifactError, match=r"oof: the trial's out-of-fold predictions cannot "
                       r"be written \(File exists\); the finished trials are kept"):  # fmt: skip
        search("default", trials=8, seed=0, study="s", runs_dir=runs, storage=url,
               registry=Registry(plugins={"p": Plugin()}), overrides=over)  # fmt: skip
    states = [t.state.name for t in optuna.load_study(study_name="s", storage=url).trials]
    assert states.count("COMPLETE") == 2 and len(states) == 3, states
    out = cli("run", "default", "--study", "s", "--storage", url, "--runs-dir", str(runs))
    assert out.returncode == 2 and out.stderr.strip().splitlines()[-1] == (
        f"automl-fin: error: {runs / 's' / 'oof'} is a file, where the run keeps its 'oof' "
        "folder; move it away"
    ), out.stderr


def test_a_long_output_name_is_written(tmp_path: Path) -> None:
    """A file name near the system's 255 characters (``report --out``, the predictions'
    ``--out``) failed "File name too long", naming a temporary file beside it: files are
    written to a temporary name first, and that name was the file's plus 12 more."""
    runs = tmp_path / "runs"
    _run(runs, study="real", report=False)
    long = tmp_path / ("quarterly-credit-review-" * 10 + ".html")
    assert len(long.name) == 245
    out = cli("report", "real", "--runs-dir", str(runs), "--out", str(long))
    assert out.returncode == 0 and long.read_text().startswith("<!DOCTYPE html>"), out.stderr


def test_a_step_failing_after_the_search_says_how_to_do_it_again(tmp_path: Path) -> None:
    """A step after the search that fails (here the report: a folder where report.html is
    written) exits 1 with the trials kept; it said "run the study again", which ran a new
    study (a new name) and did not help before the cause was fixed."""
    runs = tmp_path / "runs"
    (runs / "s" / "report.html").mkdir(parents=True)
    args = ("run", "default", "--set", "models=[logreg]", "--trials", "2", "--study", "s",
            "--runs-dir", str(runs), "--no-progress")  # fmt: skip
    out = cli(*args)
    assert out.returncode == 1 and out.stderr.strip().splitlines()[-1] == (
        "automl-fin: error: after the search, report failed (see the warning above); the "
        "trials are kept: once its cause is fixed, the same command with --study s does "
        "those steps again"
    ), out.stderr
    (runs / "s" / "report.html").rmdir()
    again = cli(*args)
    assert again.returncode == 0 and (runs / "s" / "report.html").is_file(), again.stderr


def test_a_run_folder_name_file_is_whole_or_not_there(tmp_path: Path) -> None:
    """A run folder's ``.study`` was written in place: a run or worker started beside
    the one writing it read it empty ("holds the files of study ''", a worker giving up
    on study ''; 1 in 20 pairs of runs). It is written whole (a temporary file renamed),
    and an empty one is read as not written yet."""
    from automl_fin.storage._runs import OWNER, own, owner

    folder = tmp_path / "s"
    folder.mkdir()
    (folder / OWNER).write_text("")  # caught half way
    assert owner(folder) is None
    own(folder, "s")  # not refused as study ''
    assert owner(folder) == "s"
    assert sorted(p.name for p in folder.iterdir()) == [OWNER]  # no temporary file left


def test_a_report_of_a_search_not_ended_says_so(tmp_path: Path) -> None:
    """``automl-fin report RUN`` while the search runs (or after its run was killed mid-
    search) wrote a page like a finished run's ("Chosen predictor row hgb") and said
    nothing, with no predictor saved; it says the search has not ended."""
    from automl_fin.engine._run_state import mark

    url = f"sqlite:///{tmp_path / 'runs.db'}"
    search("default", trials=2, study="s", storage=url, runs_dir=tmp_path, progress=False,
           overrides={"models": ["logreg"], "report": False, "predictor": False})  # fmt: skip
    mark(optuna.load_study(study_name="s", storage=url), "searching", 2)  # as a kill leaves it
    out = cli("report", "s", "--storage", url, "--runs-dir", str(tmp_path))
    assert out.returncode == 0, out.stderr
    assert re.search(r"warning: study 's' has not ended its search \(started [\d\-T:+]+; or "
                     r"its run was stopped mid-search\): this report is of its trials so far, "
                     r"and no predictor is saved yet", out.stderr), out.stderr  # fmt: skip
    mark(optuna.load_study(study_name="s", storage=url), "ended", 2)
    done = cli("report", "s", "--storage", url, "--runs-dir", str(tmp_path))
    assert "has not ended" not in done.stderr


def test_a_full_study_counts_the_trials_its_budget_counts(tmp_path: Path) -> None:
    """A study resumed full said "held 5 trials already ... --trials N above 5" where a
    trial killed with its process (failed, not counted) was one of them, and --trials 5
    then ran one more; it says the trials the budget counts."""
    url = f"sqlite:///{tmp_path / 'runs.db'}"
    args = ("run", "default", "--set", "models=[logreg]", "--trials", "2", "--study", "s",
            "--storage", url, "--runs-dir", str(tmp_path), "--no-report",
            "--no-progress")  # fmt: skip
    assert cli(*args).returncode == 0
    study = optuna.load_study(study_name="s", storage=url)  # what a kill -9 leaves, failed
    study.add_trial(optuna.trial.create_trial(state=optuna.trial.TrialState.FAIL))
    again = cli(*args)
    assert "the study held 2 trials already, as many as --trials 2 asks" in again.stdout, (
        again.stdout[-800:]
    )
    assert "for more: --trials N above 2" in again.stdout


def test_a_study_made_again_under_a_deleted_ones_name_sets_its_files_aside(
    tmp_path: Path,
) -> None:
    """``optuna delete-study`` left the study's run folder, and a new study of that name
    wrote its files beside the old ones: the old bags (fold models by trial number) and
    out-of-fold files sat among its own, to be read as its trials' where a trial of the
    same number kept none. The old folder is set aside, said; a resume keeps its own."""
    url = f"sqlite:///{tmp_path / 'runs.db'}"
    fixed = {"models": ["logreg"], "report": False, "ensemble": False, "bagging": True,
             "validation.repeats": 1}  # fmt: skip
    first = search("default", trials=3, study="s1", storage=url, runs_dir=tmp_path,
                   overrides=fixed)  # fmt: skip
    old = sorted(p.name for p in (first.run_dir / "oof").iterdir())
    with warnings.catch_warnings():  # a resume is the same study: its folder, unsaid
        warnings.filterwarnings("error", message=".*earlier study")
        search("default", trials=4, study="s1", storage=url, runs_dir=tmp_path, overrides=fixed)
    optuna.delete_study(study_name="s1", storage=url)
    with pytest.warns(UserWarning, match=r"s1 held the files of an earlier study 's1', not in "
                      r"the storage now .*: moved to s1\.earlier-[0-9a-f]{8}"):  # fmt: skip
        again = search("default", trials=2, study="s1", storage=url, runs_dir=tmp_path,
                       overrides=fixed)  # fmt: skip
    (aside,) = tmp_path.glob("s1.earlier-*")
    assert sorted(p.name for p in (aside / "oof").iterdir())[: len(old)] == old
    assert len(list((again.run_dir / "oof").iterdir())) < len(old)  # its own alone
    # the name file stays the name alone (an older version reads it whole), and a
    # folder such a version wrote, without a token, is set aside for a new study too
    assert (again.run_dir / ".study").read_text() == "s1"
    (again.run_dir / ".study_token").unlink()
    optuna.delete_study(study_name="s1", storage=url)
    with pytest.warns(UserWarning, match=r"s1 held the files of an earlier study 's1'"):
        search("default", trials=2, study="s1", storage=url, runs_dir=tmp_path, overrides=fixed)
    assert len(list(tmp_path.glob("s1.earlier-*"))) == 2


def test_a_step_after_the_search_that_cannot_write_says_so_in_words(tmp_path: Path) -> None:
    """A runs folder made read-only during a search: the stack's step said
    "PermissionError: [Errno 13] Permission denied: '.../oof/stack.npy'", where the
    trials' own files said what to do. (A folder where the file goes stands in for the
    read-only folder: root writes anywhere.)"""
    fixed = {"models": ["logreg", "hgb"], "report": False, "validation.repeats": 1}
    common = {"study": "s", "runs_dir": tmp_path, "storage": f"sqlite:///{tmp_path / 'db.sqlite'}"}
    first = search("default", trials=3, **common, overrides={**fixed, "stacking": False})
    (first.run_dir / "oof" / "stack.npy").mkdir()
    with pytest.warns(UserWarning, match=r"^stack failed after the search: cannot write "
                      r".*stack\.npy \(Is a directory\); the finished trials are kept: once "
                      r"it is writable, --trials 5 runs the steps after the search"):  # fmt: skip
        result = search("default", trials=5, **common, overrides=fixed)
    assert result.predictor is not None  # the steps after it still ran
