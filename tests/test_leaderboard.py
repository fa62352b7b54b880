"""The leaderboard as a query over every study of one real SQLite storage."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from automl_fin import StorageError, datasets
from automl_fin.engine import search
from automl_fin.leaderboard import COLUMNS, Leaderboard


@pytest.fixture(scope="module")
def storage(tmp_path_factory: pytest.TempPathFactory) -> str:
    """Two recipes with opposite metric directions sharing one storage."""
    runs = tmp_path_factory.mktemp("board")
    url = f"sqlite:///{runs / 'shared.db'}"
    fast = {"validation.n_splits": 3, "models": ["logreg", "rf"], "pruner": "none"}
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
    # 4 / 3 trials, and an ensemble row each
    assert board.groupby("study").size().to_dict() == {"amount": 4, "auc": 5}
    assert (board.groupby("study")["model"].apply(lambda m: (m == "ensemble").sum()) == 1).all()
    auc = board[board["study"] == "auc"]
    amount = board[board["study"] == "amount"]
    assert auc["score"].is_monotonic_decreasing  # roc_auc: higher is better
    assert amount["score"].is_monotonic_increasing  # rmse: lower is better
    assert set(auc["metric"]) == {"roc_auc"} and set(amount["metric"]) == {"rmse"}
    assert list(auc["rank"]) == [1, 2, 3, 4, 5] and list(amount["rank"]) == [1, 2, 3, 4]
    assert board["dataset"].nunique() == 1  # one file, two targets: one data fingerprint
    assert pd.api.types.is_float_dtype(board["score"])
    assert pd.api.types.is_integer_dtype(board["trial"])
    assert pd.api.types.is_string_dtype(board["model"])


def test_filters_combine(storage: str) -> None:
    lb = Leaderboard(storage)
    assert set(lb.query(recipe="default")["study"]) == {"auc"}
    fingerprint = lb.query(study="amount")["dataset"].iloc[0]
    assert set(lb.query(dataset=fingerprint[:12])["study"]) == {"amount", "auc"}
    assert lb.query(dataset="0" * 16).empty
    only_rf = lb.query(model="rf")
    assert set(only_rf["model"]) == {"rf"} and len(only_rf) >= 1
    top = lb.query(top=1)
    assert len(top) == 2 and set(top["rank"]) == {1}
    assert lb.query(state="fail").empty
    assert lb.query(recipe="default", model=["logreg", "rf"], state="COMPLETE", top=2)[
        "rank"
    ].tolist() == [1, 2]
    empty = lb.query(recipe="no_such_recipe")
    assert empty.empty and list(empty.columns) == [*COLUMNS, "rank"]


def test_unknown_study_is_named(storage: str) -> None:
    with pytest.raises(StorageError, match=r"no study named 'nope'.*studies: amount, auc"):
        Leaderboard(storage).query(study="nope")


def test_a_storage_that_does_not_exist_is_not_created(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere" / "x.db"
    with pytest.raises(StorageError, match=r"no storage at .*x\.db: run `automl-fin run` first"):
        Leaderboard(f"sqlite:///{missing}")
    assert not missing.exists()
