"""The pricing recipe: risk-based loan pricing on the Lending Club loans (regression)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from automl_fin import datasets, search
from automl_fin.problem import resolve
from automl_fin.recipes import load_recipe
from automl_fin.registry import Registry

pytestmark = pytest.mark.slow

DECIDED_WITH_THE_PRICE = ["grade", "sub_grade", "installment", "paid_interest", "loan_status"]


def test_the_recipe_never_shows_a_model_what_is_decided_with_the_price() -> None:
    problem = resolve(load_recipe("pricing"), None, Registry())
    assert str(problem.task) == "regression" and problem.metric.name == "rmse"
    assert [m.name for m in problem.extra_metrics] == ["mae", "r2"]
    assert not set(DECIDED_WITH_THE_PRICE) & set(problem.dataset.X.columns)
    assert {"debt_to_income", "annual_income", "term"} <= set(problem.dataset.X.columns)
    assert len(problem.test_rows) == 2000  # the final test, held out of the search
    assert set(problem.baselines) == {"historical_mean"}


def test_rates_never_fall_as_the_constrained_risks_rise(tmp_path: Path) -> None:
    result = search("pricing", trials=2, runs_dir=tmp_path, storage=":memory:",
                    overrides={"models": ["xgboost"], "ensemble": False, "report": False,
                               "validation.n_splits": 3})  # fmt: skip
    board = result.leaderboard()
    xgb = board[board["model"] == "xgboost"].iloc[0]
    mean = board[board["model"] == "historical_mean"].iloc[0]
    assert xgb["score"] < 0.9 * mean["score"]  # RMSE well below the mean rate's
    rows = datasets.load("loans_full_schema").sample(100, random_state=0)
    grid = np.linspace(0, 60, 13)
    for column in ("debt_to_income", "inquiries_last_12m", "term"):
        curves = np.column_stack(
            [result.predictor.predict(rows.assign(**{column: value})).to_numpy() for value in grid]
        )
        assert (np.diff(curves, axis=1) >= -1e-9).all(), column  # +1: never decreasing
