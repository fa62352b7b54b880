"""The CatBoost estimator behind the ``catboost`` spec (scikit-learn protocol).

``fit(X, y, monitor=...)`` trains ``catboost.CatBoost`` with the categorical columns as
CatBoost's own categorical features: the pipeline hands them over as integer codes
(the ``ordinal`` encoder, the only one the spec accepts), the monitor's
``feature_kinds`` says which columns they are, and CatBoost encodes them itself with
ordered target statistics inside its boosting (no target leak from a row into its own
encoding), as it does best on small categorical credit tables. It stops early on the
monitor's validation split (or on the core's holdout), and reports the learning curve
on that split with no second prediction: CatBoost's own value of the recipe's metric
where it computes it beside the loss (ROC AUC and Gini, accuracy, MAE, R²); for the loss
itself (log loss, RMSE) and for a metric CatBoost lacks (macro-F1, QWK …) the recipe's
metric as a Python evaluation metric on the predictions CatBoost holds, scored as the
folds are (class weights mapped back), every ``report_every`` rounds (CPU only: on a
GPU such a fit stops early on the loss and reports nothing).

Early stopping and the best round follow the loss, as the XGBoost and LightGBM plugins'
do. Under a metric CatBoost lacks, that Python metric is CatBoost's evaluation metric (for
the curve) and a callback stops on the loss beside it, shrinking the model to the loss's
best round. Stopped on ROC AUC, a slow learning rate ended at the first
peak of a ranking that does not see the probabilities' scale: CatBoost starts from even
odds, and on AER's CreditCard (78 % granted) a trial with learning rate 0.01 stopped at
~50 of 2,967 rounds with probabilities still near 0.5 (held-out log loss 0.535, the base
rate's 0.53), where the loss stops at ~730 rounds with the same held-out ROC AUC and log
loss 0.365. Averaged into an ensemble, such a member barely moves it whatever its weight.
"""

from __future__ import annotations

import copy
import os
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator

from automl_fin import ColumnKind, monotone_vector, validation_split

__all__ = ["CatBoostModel", "choose_device"]

_LOSS = {"binary": "Logloss", "multiclass": "MultiClass", "regression": "RMSE"}
# what CatBoost writes into a model beside what it learnt: a new id each fit, and when it
# ended (its model metadata, public through ``CatBoost.get_metadata``)
_UNREPEATABLE = ("model_guid", "train_finish_time")
# recipe metric -> (CatBoost's metric of the same value, how to turn it into the recipe's)
_SAME = {
    ("binary", "roc_auc"): ("AUC", lambda v: v),
    ("binary", "gini"): ("AUC", lambda v: 2.0 * v - 1.0),
    ("binary", "log_loss"): ("Logloss", lambda v: v),
    ("multiclass", "log_loss"): ("MultiClass", lambda v: v),
    ("binary", "accuracy"): ("Accuracy", lambda v: v),
    ("multiclass", "accuracy"): ("Accuracy", lambda v: v),
    ("regression", "rmse"): ("RMSE", lambda v: v),
    ("regression", "mae"): ("MAE", lambda v: v),
    ("regression", "r2"): ("R2", lambda v: v),
}


def choose_device() -> str:
    """``GPU`` when a CUDA GPU is visible, else ``CPU`` (CatBoost's task types);
    ``AUTOML_FIN_CATBOOST_DEVICE`` (or ``model_options.catboost.device``) overrides it."""
    forced = os.environ.get("AUTOML_FIN_CATBOOST_DEVICE")
    if forced:
        return forced.upper()
    if os.environ.get("CUDA_VISIBLE_DEVICES", "0").strip() in ("", "-1"):
        return "CPU"
    gpus = Path("/proc/driver/nvidia/gpus")
    return "GPU" if gpus.is_dir() and any(gpus.iterdir()) else "CPU"


class CatBoostModel(BaseEstimator):
    """Ordered gradient boosting with native categorical features; see the module.

    Args:
        task: ``binary``, ``multiclass`` or ``regression``.
        n_classes: number of classes (classification).
        params: CatBoost parameters (``learning_rate``, ``depth``, ``l2_leaf_reg``, ...).
        n_estimators: most boosting rounds; early stopping usually ends sooner.
        early_stopping_rounds: rounds without improvement on the validation split.
        monotone_constraints: ``{column: +1 | -1}`` by feature name after preprocessing
            (numeric features only: CatBoost refuses them on categorical ones).
        device: ``auto`` (see :func:`choose_device`), ``CPU`` or ``GPU``.
        seed, n_jobs: randomness and threads.
        report_every: rounds between two learning-curve reports to the pruner.
        class_weight: ``"balanced"`` weighs classes by inverse frequency; ``"none"``
            does not.
        extra: more CatBoost parameters, passed through unchanged.
    """

    def __init__(
        self,
        task: str = "binary",
        n_classes: int = 2,
        params: Mapping[str, Any] | None = None,
        n_estimators: int = 1000,
        early_stopping_rounds: int = 50,
        monotone_constraints: Mapping[str, int] | None = None,
        device: str = "auto",
        seed: int = 0,
        n_jobs: int = 1,
        report_every: int = 10,
        class_weight: str = "none",
        extra: Mapping[str, Any] | None = None,
    ) -> None:
        self.task = task
        self.n_classes = n_classes
        self.params = params  # stored as given: sklearn.base.clone checks identity
        self.n_estimators = n_estimators
        self.early_stopping_rounds = early_stopping_rounds
        self.monotone_constraints = monotone_constraints
        self.device = device
        self.seed = seed
        self.n_jobs = n_jobs
        self.report_every = report_every
        self.class_weight = class_weight
        self.extra = extra

    def _beside(self) -> tuple[str, Any] | None:
        """CatBoost's own metric of the recipe's value when it is not the loss: computed
        beside the loss for the learning curve. ``None`` when the recipe's metric is the
        loss itself (scored in Python as the folds are, class weights mapped back) or one
        CatBoost lacks (computed in Python)."""
        same = _SAME.get((self.task, self.metric_))
        return None if same is None or same[0] == _LOSS[self.task] else same

    def _params(self, names: list[str] | None, n_features: int) -> dict[str, Any]:
        params: dict[str, Any] = {
            "loss_function": _LOSS[self.task],
            "eval_metric": _LOSS[self.task],  # early stopping and the best round: the loss
            "iterations": self.n_estimators,
            "random_seed": self.seed,
            "thread_count": self.n_jobs if self.n_jobs > 0 else -1,
            "task_type": choose_device() if self.device == "auto" else self.device.upper(),
            "allow_writing_files": False,
            "verbose": False,
            **(self.params or {}),
            **(self.extra or {}),
        }
        beside = self._beside()
        if beside is not None:
            params["custom_metric"] = [beside[0]]
        if self.task == "multiclass":
            params["classes_count"] = self.n_classes
        if self.class_weight == "balanced" and self.task != "regression":
            params["auto_class_weights"] = "Balanced"
        if self.monotone_constraints:
            vector = monotone_vector(self.monotone_constraints, names, n_features)
            for i in self.categorical_:
                vector[i] = 0  # CatBoost constrains numeric features only
            params["monotone_constraints"] = vector
        return params

    def _pool(self, X: Any, y: Any = None) -> Any:
        """``X`` as CatBoost takes it: numbers, with the categorical columns' integer
        codes as categories (an unknown level, code -1, is a category of its own)."""
        from catboost import Pool

        dense = np.asarray(X.toarray() if hasattr(X, "toarray") else X, dtype=np.float64)
        if not len(self.categorical_):
            return Pool(dense, label=y)
        import pandas as pd

        frame = pd.DataFrame(dense, columns=[f"f{i}" for i in range(dense.shape[1])])
        for i in self.categorical_:
            frame[f"f{i}"] = np.rint(np.nan_to_num(dense[:, i], nan=-1.0)).astype(np.int64)
        return Pool(frame, label=y, cat_features=[int(i) for i in self.categorical_])

    def fit(self, X: Any, y: Any, monitor: Any = None) -> CatBoostModel:
        """Train; with a monitor that has validation data, stop early and report on it."""
        from catboost import CatBoost

        names = getattr(monitor, "feature_names", None)
        if names is None and hasattr(X, "columns"):
            names = [str(c) for c in X.columns]
        kinds = getattr(monitor, "feature_kinds", None)
        self.metric_ = str(getattr(monitor, "metric", "") or "")  # the recipe's
        self.categorical_ = np.array(
            [i for i, k in enumerate(kinds or ()) if k is ColumnKind.CATEGORICAL], dtype=np.int64
        )
        original = monitor  # its score: the recipe's metric, on a refit's holdout too
        X_tr, y_tr, X_va, y_va, monitor = validation_split(
            X, y, monitor, seed=self.seed, classify=self.task != "regression"
        )
        n_features = X_tr.shape[1]
        params = self._params(names, n_features)
        metric, fresh = None, []
        score = getattr(original, "score", None)
        # CatBoost runs Python metrics on the CPU only
        if score is not None and self._beside() is None and params["task_type"] == "CPU":
            direction = str(getattr(original, "direction", "maximize"))

            def sink(value: float) -> None:
                fresh.append(value)

            metric = _RecipeMetric(score, direction, self.task, y_va, self.report_every, sink)
            params["eval_metric"] = metric
        # a metric CatBoost lacks is its evaluation metric for the curve only: stopping and
        # the best round follow the loss, computed beside it (CatBoost's own stopping would
        # follow the evaluation metric)
        lacks = metric is not None and (self.task, self.metric_) not in _SAME
        own = _StopOnLoss(_LOSS[self.task], self.early_stopping_rounds) if lacks else None
        self.booster_ = CatBoost(params)
        curve = None
        if original is not None:  # the budget checked in a search and on a refit
            curve = _Curve(original, monitor, self, fresh if metric else None)
        callbacks = [c for c in (curve, own) if c is not None]
        with warnings.catch_warnings():  # "Failed to import numba for optimizing custom
            warnings.filterwarnings("ignore", message=".*numba.*")  # metrics": not needed
            self.booster_.fit(
                self._pool(X_tr, y_tr),
                eval_set=self._pool(X_va, y_va),
                early_stopping_rounds=self.early_stopping_rounds if own is None else None,
                use_best_model=own is None,
                callbacks=callbacks or None,
            )
        if curve is not None:
            curve.raise_stop()
        if own is not None:
            self.booster_.shrink(ntree_end=own.best + 1)
            self.best_iteration_ = own.best
        else:
            self.best_iteration_ = int(self.booster_.get_best_iteration() or 0)
        metadata = self.booster_.get_metadata()  # a random id and the clock's time: a
        for key in _UNREPEATABLE:  # seeded fit's pickle differed between identical runs
            if key in metadata:
                del metadata[key]
        self.n_features_in_ = n_features
        if self.task != "regression":
            self.classes_ = np.arange(self.n_classes)
        return self

    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities ``(n, n_classes)``."""
        proba = self.booster_.predict(self._pool(X), prediction_type="Probability")
        return np.asarray(proba, dtype=np.float64).reshape(len(proba), -1)

    def predict(self, X: Any) -> np.ndarray:
        """Class indices for classification, values for regression."""
        if self.task == "regression":
            return np.asarray(self.booster_.predict(self._pool(X)), dtype=np.float64)
        return self.predict_proba(X).argmax(axis=1)

    def contributions(self, X: Any) -> np.ndarray:
        """SHAP values on the margin (CatBoost's ``ShapValues``): ``(n, f + 1)``, or
        ``(n, k, f + 1)`` for ``k`` classes; the last column is the bias."""
        out = self.booster_.get_feature_importance(self._pool(X), type="ShapValues")
        return np.asarray(out, dtype=np.float64)


class _StopOnLoss:
    """A CatBoost callback: early stopping on the validation loss ``name`` (lower is
    better), for fits whose evaluation metric is another one. ``best`` is the 0-based
    round of the lowest loss; training ends ``rounds`` rounds after it (``None``: never
    early), and the caller shrinks the model to it, as ``use_best_model`` would."""

    def __init__(self, name: str, rounds: int | None) -> None:
        self.name, self.rounds = name, rounds
        self.best, self.lowest = 0, float("inf")

    def after_iteration(self, info: Any) -> bool:
        values = info.metrics.get("validation", {}).get(self.name)
        if not values:
            return True
        done = int(info.iteration)  # rounds so far, counted from 1
        if values[-1] < self.lowest:
            self.best, self.lowest = done - 1, float(values[-1])
        return self.rounds is None or done - 1 - self.best < self.rounds


class _RecipeMetric:
    """The recipe's metric as a CatBoost evaluation metric, for metrics CatBoost has no
    equal of (macro-F1, quadratic kappa …: stopping follows the loss, :class:`_StopOnLoss`)
    and for the loss itself scored as the folds are (stopping follows it): CatBoost hands
    it the validation rows' current raw predictions every round, as LightGBM's ``feval``
    does, so a report costs one metric computation, never a second prediction. It is
    computed every ``every``-th round (the value in between is the last one),
    and each new value goes to ``sink``: CatBoost works on a copy of this object, and a
    function is shared by its copies."""

    def __init__(
        self, score: Any, direction: str, task: str, y_valid: Any, every: int, sink: Any
    ) -> None:
        self.score, self.direction, self.task = score, direction, task
        # as CatBoost hands the target back: float32 (a target of 7.54 in float64 never
        # equalled it, every round scored 0.0, and early stopping kept a 1-tree model)
        self.y_valid = np.asarray(y_valid, dtype=np.float32)
        self.every, self.sink = every, sink
        self.rounds, self.last = 0, float("nan")

    def is_max_optimal(self) -> bool:
        return self.direction == "maximize"

    def evaluate(self, approxes: Any, target: Any, weight: Any) -> tuple[float, float]:
        target = np.asarray(target, dtype=np.float32)
        if len(target) != len(self.y_valid) or not np.array_equal(target, self.y_valid):
            return 0.0, 1.0  # CatBoost asks for the training rows too: not scored
        self.rounds += 1
        if self.rounds % self.every and self.rounds > 1:
            return self.last, 1.0
        raw = np.asarray(approxes, dtype=np.float64)  # (outputs, rows)
        if self.task == "regression":
            pred = raw[0]
        elif self.task == "binary":
            p = 1.0 / (1.0 + np.exp(-raw[0]))
            pred = np.column_stack([1.0 - p, p])
        else:
            z = np.exp(raw.T - raw.max(axis=0)[:, None])
            pred = z / z.sum(axis=1, keepdims=True)
        self.last = float(self.score(pred))
        self.sink(self.last)
        return self.last, 1.0

    def get_final_error(self, error: float, weight: float) -> float:
        return error

    def __deepcopy__(self, memo: dict[int, Any]) -> _RecipeMetric:
        """CatBoost's copy while fitting: the score and the sink shared (functions)."""
        twin = object.__new__(type(self))
        twin.__dict__.update(copy.deepcopy(vars(self), memo))
        return twin

    def __getstate__(self) -> dict[str, Any]:
        """Pickled with a fitted model's parameters: without the score and the sink,
        which are needed only while fitting (they hold the search's problem, and a
        function defined in a function does not pickle)."""
        return {**vars(self), "score": None, "sink": None}


class _Curve:
    """A CatBoost callback: the budget checked every round (``budget.check``), and the
    learning curve reported to ``monitor`` when there is one (the recipe's metric of
    the validation split as CatBoost computed it, every ``report_every`` rounds).
    CatBoost wraps an exception raised in a callback in its own error, so
    :class:`~automl_fin.errors.Pruned` is kept here, training stops, and
    :meth:`raise_stop` raises it again after ``fit``; on
    :class:`~automl_fin.errors.BudgetStop` training stops and the model is kept (shrunk
    to its best round, as after early stopping)."""

    def __init__(
        self, budget: Any, monitor: Any, model: CatBoostModel, fresh: list[float] | None
    ) -> None:
        self.budget = budget
        self.monitor = monitor
        self.model = model
        self.fresh = fresh  # values of the recipe's metric computed by _RecipeMetric
        self.same = _SAME.get((model.task, model.metric_))
        self.steps = 0
        self.stopped: Exception | None = None

    def after_iteration(self, info: Any) -> bool:
        from automl_fin import BudgetStop, Pruned

        done = int(info.iteration)  # CatBoost counts rounds from 1 here
        try:
            self.budget.check(float(done))  # a round is a pass over the data
            value = self._value(info, done) if self.monitor is not None else None
            if value is not None:
                if not self.steps:
                    self.monitor.plan(self.model.n_estimators // self.model.report_every)
                self.monitor.report(self.steps, value)
                self.steps += 1
                self.monitor.progress(f"round {done}")
        except BudgetStop:
            return False  # stop training, keeping the rounds fitted
        except Pruned as exc:
            self.stopped = exc
            return False  # stop training
        return True  # go on (early stopping is CatBoost's)

    def _value(self, info: Any, done: int) -> float | None:
        if self.fresh is not None:
            return self.fresh.pop() if self.fresh else None
        if self.same is None or done % self.model.report_every:
            return None
        name, to_recipe = self.same
        values = info.metrics.get("validation", {}).get(name)
        return float(to_recipe(values[-1])) if values else None

    def raise_stop(self) -> None:
        """Raise the :class:`~automl_fin.errors.Pruned` that stopped training, if any."""
        if self.stopped is not None:
            raise self.stopped
