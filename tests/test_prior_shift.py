"""Models fitted with balanced class weights: their probabilities are mapped back to the
class frequencies they were fitted on (prior shift), on a real imbalanced table (ISLR's
credit card Default: 10,000 card holders, 3.3 % default; not bundled)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import optuna
import pytest

from automl_fin import RecipeError, load
from automl_fin.data._metrics import METRICS
from automl_fin.engine._prior_shift import factors, shift
from automl_fin.engine._search import search
from automl_fin.engine._trial_record import TrialRecord

AUC, LOG_LOSS = METRICS["roc_auc"], METRICS["log_loss"]
BALANCED = {"model": "logreg", "logreg.C": 1.0, "logreg.class_weight": "balanced"}
PLAIN = {"model": "logreg", "logreg.C": 1.0, "logreg.class_weight": None}


def _search(file: Path, runs: Path, enqueue: list[dict], **over: object):
    overrides = {"models": ["logreg", "xgboost"], "portfolio": False, "enqueue": enqueue,
                 "report": False, "pruner": "none", "baselines": [], "calibration": ["none"],
                 **over}  # fmt: skip
    return search("default", data=str(file), target="default", trials=len(enqueue), seed=0,
                  runs_dir=runs, overrides=overrides)  # fmt: skip


def _oof(result) -> tuple[list[np.ndarray], np.ndarray]:
    """Each trial's out-of-fold probabilities on the searched rows, in trial order, and
    those rows' labels."""
    study = optuna.load_study(study_name=result.study_name, storage=result.storage)
    stored = [np.load(TrialRecord.of(t).oof) for t in sorted(study.trials, key=lambda t: t.number)]
    seen = np.isfinite(stored[0][:, 0])
    return [o[seen] for o in stored], result.dataset.y[seen]


def test_the_shift_keeps_the_ranking_and_restores_the_base_rate(islr) -> None:
    """By hand, without the engine: a balanced logistic regression overstates default
    many times over; shifted, its mean probability is the base rate, its ranking
    unchanged, its log loss that of the unweighted fit."""
    from sklearn.compose import make_column_transformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    _, table = islr
    X, y = table.drop(columns="default"), (table["default"] == "Yes").to_numpy().astype(int)
    prep = make_column_transformer(
        (OneHotEncoder(), ["student"]), (StandardScaler(), ["balance", "income"])
    )
    tr, va = np.arange(len(y)) % 3 != 0, np.arange(len(y)) % 3 == 0

    def fit(weight: str | None) -> np.ndarray:
        model = make_pipeline(prep, LogisticRegression(class_weight=weight, max_iter=1000))
        return model.fit(X[tr], y[tr]).predict_proba(X[va])

    raw, plain = fit("balanced"), fit(None)
    fixed = shift(raw, factors({"class_weight": "balanced"}, "none", False, y[tr], 2))
    rate = y[tr].mean()
    assert raw[:, 1].mean() > 5 * rate  # the defect: 0.21 against 0.033
    assert abs(fixed[:, 1].mean() - rate) < 0.25 * rate
    assert AUC(y[va], fixed) == pytest.approx(AUC(y[va], raw), abs=1e-12)
    assert LOG_LOSS(y[va], fixed) < 0.5 * LOG_LOSS(y[va], raw)
    assert LOG_LOSS(y[va], fixed) == pytest.approx(LOG_LOSS(y[va], plain), rel=0.1)


def test_no_shift_for_labels_calibration_plain_weights_or_values() -> None:
    y = np.array([0] * 97 + [1] * 3)
    balanced = {"class_weight": "balanced"}
    assert factors(balanced, "none", False, y, 2) is not None
    assert factors({"class_weight": "balanced_subsample"}, "none", False, y, 2) is not None
    assert factors(balanced, "none", True, y, 2) is None  # a label metric decides
    assert factors(balanced, "sigmoid", False, y, 2) is None  # calibrated already
    assert factors({"class_weight": None}, "none", False, y, 2) is None
    assert factors({}, "none", False, y, 2) is None
    assert factors(balanced, "none", False, np.arange(5.0), 1) is None  # regression
    # a class missing from the training rows keeps a small probability
    prior = factors(balanced, "none", False, np.zeros(10, dtype=int), 3)
    assert prior is not None and np.all(prior > 0) and prior.sum() == pytest.approx(1.0)


def test_a_search_shifts_out_of_fold_predictions_and_the_saved_predictor(islr, tmp_path) -> None:
    """Through the engine, with the flags a user types: the balanced trial's stored
    out-of-fold probabilities and the bagged predictor's probabilities are on the data's
    base rate, ranked as before; a refitted predictor (``bagging: false``) too."""
    file, table = islr
    result = _search(file, tmp_path, [BALANCED, PLAIN])
    (balanced, plain), y = _oof(result)
    rate = y.mean()
    assert abs(balanced[:, 1].mean() - rate) < 0.25 * rate
    assert LOG_LOSS(y, balanced) == pytest.approx(LOG_LOSS(y, plain), rel=0.1)
    assert AUC(y, balanced) == pytest.approx(AUC(y, plain), abs=0.005)

    for bagging, fit in ((True, "bag of 5 fold models"), (False, "refit on all rows")):
        alone = _search(file, tmp_path / str(bagging), [BALANCED], bagging=bagging, ensemble=False)
        predictor = load(Path(alone.run_dir) / "predictor")
        assert set(predictor.manifest["fit"].values()) == {fit}
        assert abs(predictor.predict_proba(table).iloc[:, 1].mean() - rate) < 0.25 * rate


def test_a_monitored_model_is_shifted_and_a_label_metric_or_calibration_is_not(
    islr, tmp_path
) -> None:
    """XGBoost (early stopping on the fold's validation split) with its positive class
    weighing eight times as much is shifted like any model. Under balanced accuracy
    (scored on labels) the weights are what decides, so nothing is shifted; a calibrated
    balanced model is not shifted twice."""
    file, _ = islr
    xgb = {"model": "xgboost", "xgboost.scale_pos_weight": 8.0, "xgboost.n_estimators": 60}
    (boosted,), y = _oof(_search(file, tmp_path / "xgb", [xgb]))
    rate = y.mean()
    assert abs(boosted[:, 1].mean() - rate) < 0.3 * rate

    # the weight set by the recipe's fixed options (the parameter's one choice) counts
    plain = {k: v for k, v in xgb.items() if k != "xgboost.scale_pos_weight"}
    options = {"model_options": {"xgboost": {"scale_pos_weight": 8.0}}}
    (fixed,), _ = _oof(_search(file, tmp_path / "fixed", [plain], **options))
    assert abs(fixed[:, 1].mean() - rate) < 0.3 * rate
    # an entry of another value than the options fix: refused (its trial failed)
    with pytest.raises(RecipeError, match=r"'xgboost.scale_pos_weight': 1.0, where "
                       r"model_options.xgboost.scale_pos_weight fixes it at 8.0"):  # fmt: skip
        _search(file, tmp_path / "both", [{**xgb, "xgboost.scale_pos_weight": 1.0}], **options)

    (labels,), _ = _oof(_search(file, tmp_path / "labels", [BALANCED], metric="balanced_accuracy"))
    assert labels[:, 1].mean() > 5 * rate  # the weights move the arg-max toward default

    (calibrated,), _ = _oof(_search(file, tmp_path / "cal", [BALANCED], calibration=["sigmoid"]))
    assert abs(calibrated[:, 1].mean() - rate) < 0.25 * rate
    # a linear SVM is Platt-scaled inside its builder (ModelSpec.prior_shift False)
    svm = {"model": "linear_svm", "linear_svm.C": 1.0, "linear_svm.class_weight": "balanced"}
    (platt,), _ = _oof(_search(file, tmp_path / "svm", [svm], models=["linear_svm"]))
    assert abs(platt[:, 1].mean() - rate) < 0.25 * rate


def test_catboost_reports_its_curve_on_probabilities_mapped_back(islr, tmp_path) -> None:
    """Under log loss, balanced CatBoost's learning curve is scored as its folds are
    (through ``monitor.score``, mapped back), not on the weighted probabilities (log loss
    about 0.3 on this table against 0.08): else the pruner would cut it for nothing."""
    file, table = islr
    cat = {"model": "catboost", "catboost.class_weight": "balanced", "catboost.n_estimators": 300}
    result = _search(file, tmp_path, [cat], models=["catboost"], metric="log_loss",
                     pruner="median", **{"validation.n_splits": 2})  # fmt: skip
    study = optuna.load_study(study_name=result.study_name, storage=result.storage)
    (trial,) = study.trials
    assert trial.value < 0.12
    curve = list(trial.intermediate_values.values())
    assert curve and max(curve) < 0.15
    # its refit, trained with the recipe's metric as CatBoost's evaluation metric, pickles
    assert load(Path(result.run_dir) / "predictor").predict_proba(table).shape == (len(table), 2)
