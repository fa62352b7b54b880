"""The XGBoost estimator behind the ``xgboost`` spec (scikit-learn protocol).

``fit(X, y, monitor=...)`` trains with ``xgboost.train`` on the hist tree method, stops
early on the monitor's validation split (or on an internal 15 % split when there is
none, as on a refit), and reports the recipe metric every ``report_every`` rounds so
the study's pruner can stop a hopeless trial.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator

from automl_fin import monotone_vector, validation_split

__all__ = ["XGBoostModel", "choose_device"]

_OBJECTIVE = {
    "binary": ("binary:logistic", "logloss"),
    "multiclass": ("multi:softprob", "mlogloss"),
    "regression": ("reg:squarederror", "rmse"),
}


def choose_device() -> str:
    """``cuda`` when this XGBoost build has CUDA and a GPU is visible, else ``cpu``.

    ``AUTOML_FIN_XGBOOST_DEVICE`` (or ``model_options.xgboost.device``) overrides it.
    """
    import xgboost as xgb

    forced = os.environ.get("AUTOML_FIN_XGBOOST_DEVICE")
    if forced:
        return forced
    if not xgb.build_info().get("USE_CUDA"):
        return "cpu"
    if os.environ.get("CUDA_VISIBLE_DEVICES", "0").strip() in ("", "-1"):
        return "cpu"
    gpus = Path("/proc/driver/nvidia/gpus")
    return "cuda" if gpus.is_dir() and any(gpus.iterdir()) else "cpu"


class XGBoostModel(BaseEstimator):
    """Gradient-boosted trees; see the module docstring.

    Args:
        task: ``binary``, ``multiclass`` or ``regression``.
        n_classes: number of classes (classification).
        params: XGBoost booster parameters (``eta``, ``max_depth``, ...).
        n_estimators: most boosting rounds; early stopping usually ends sooner.
        early_stopping_rounds: rounds without improvement of the validation loss.
        monotone_constraints: ``{column: +1 | -1}`` by feature name after preprocessing
            (a raw numeric column keeps its name); 0 for the other features.
        device: ``auto`` (see :func:`choose_device`), ``cpu`` or ``cuda``.
        seed, n_jobs: randomness and threads.
        report_every: rounds between two learning-curve reports to the pruner.
        class_weight: ``"balanced"`` weighs rows by inverse class frequency
            (multiclass); ``"none"`` does not.
        extra: more booster parameters, passed through unchanged.
    """

    def __init__(
        self,
        task: str = "binary",
        n_classes: int = 2,
        params: Mapping[str, Any] | None = None,
        n_estimators: int = 500,
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

    # -- fitting -------------------------------------------------------------------

    def _booster_params(self, names: Sequence[str] | None, n_features: int) -> dict[str, Any]:
        objective, loss = _OBJECTIVE[self.task]
        params: dict[str, Any] = {
            "objective": objective,
            "eval_metric": loss,
            "tree_method": "hist",
            "device": choose_device() if self.device == "auto" else self.device,
            "seed": self.seed,
            "nthread": self.n_jobs if self.n_jobs > 0 else 0,
            "verbosity": 0,
            **(self.params or {}),
            **(self.extra or {}),
        }
        if self.task == "multiclass":
            params["num_class"] = self.n_classes
        if self.monotone_constraints:
            params["monotone_constraints"] = (
                "("
                + ",".join(map(str, monotone_vector(self.monotone_constraints, names, n_features)))
                + ")"
            )
        return params

    def fit(self, X: Any, y: Any, monitor: Any = None) -> XGBoostModel:
        """Train; with a monitor that has validation data, stop early and report on it."""
        import xgboost as xgb

        names = getattr(monitor, "feature_names", None)
        if names is None and hasattr(X, "columns"):
            names = [str(c) for c in X.columns]
        budget = monitor  # its check: the search's budget, and a refit's stop
        X_tr, y_tr, X_va, y_va, monitor = validation_split(
            X, y, monitor, seed=self.seed, classify=self.task != "regression"
        )
        weight = None
        if self.class_weight == "balanced" and self.task != "regression":
            from sklearn.utils.class_weight import compute_sample_weight

            weight = compute_sample_weight("balanced", y_tr)
        dtrain = xgb.DMatrix(X_tr, label=y_tr, weight=weight, nthread=max(self.n_jobs, 0))
        dvalid = xgb.DMatrix(X_va, label=y_va, nthread=max(self.n_jobs, 0))
        callbacks: list[Any] = [
            xgb.callback.EarlyStopping(rounds=self.early_stopping_rounds, save_best=False)
        ]
        if budget is not None:
            callbacks.append(_budget(xgb, budget))
        if monitor is not None:
            callbacks.append(_curve_reporter(xgb, monitor, dvalid, self))
        self.booster_ = xgb.train(
            self._booster_params(names, dtrain.num_col()),
            dtrain,
            num_boost_round=self.n_estimators,
            evals=[(dvalid, "valid")],
            callbacks=callbacks,
            verbose_eval=False,
        )
        self.best_iteration_ = int(getattr(self.booster_, "best_iteration", self.n_estimators - 1))
        self.n_features_in_ = dtrain.num_col()
        if self.task != "regression":
            self.classes_ = np.arange(self.n_classes)
        return self

    # -- predicting ----------------------------------------------------------------

    def _raw(self, X: Any, rounds: int | None = None) -> np.ndarray:
        import xgboost as xgb

        data = X if isinstance(X, xgb.DMatrix) else xgb.DMatrix(X, nthread=max(self.n_jobs, 0))
        end = self.best_iteration_ + 1 if rounds is None else rounds
        return np.asarray(self.booster_.predict(data, iteration_range=(0, end)), dtype=np.float64)

    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities ``(n, n_classes)``."""
        return self._as_proba(self._raw(X))

    def _as_proba(self, raw: np.ndarray) -> np.ndarray:
        raw = np.asarray(raw, dtype=np.float64)  # float32 probabilities miss 1 by ~1e-7
        if self.task == "binary":
            return np.column_stack([1.0 - raw, raw])
        return raw / raw.sum(axis=1, keepdims=True)

    def predict(self, X: Any) -> np.ndarray:
        """Class indices for classification, values for regression."""
        raw = self._raw(X)
        if self.task == "regression":
            return raw
        return self._as_proba(raw).argmax(axis=1)

    def contributions(self, X: Any) -> np.ndarray:
        """TreeSHAP values on the margin (XGBoost's ``pred_contribs``): ``(n, f + 1)``,
        or ``(n, k, f + 1)`` for ``k`` classes; the last column is the bias, and a row
        sums to the row's margin."""
        import xgboost as xgb

        data = X if isinstance(X, xgb.DMatrix) else xgb.DMatrix(X, nthread=max(self.n_jobs, 0))
        end = self.best_iteration_ + 1
        out = self.booster_.predict(data, pred_contribs=True, iteration_range=(0, end))
        return np.asarray(out, dtype=np.float64)


def _budget(xgb: Any, monitor: Any) -> Any:
    """An XGBoost callback that checks the search's time budget every round; on
    :class:`~automl_fin.BudgetStop` it ends training, keeping the rounds fitted (the
    early-stopping callback before it has marked the best of them)."""
    from automl_fin import BudgetStop

    class Budget(xgb.callback.TrainingCallback):
        def after_iteration(self, booster: Any, epoch: int, evals_log: Any) -> bool:
            try:
                monitor.check(float(epoch + 1))  # a round is a pass over the data
            except BudgetStop:
                return True  # stop training
            return False

    return Budget()


def _curve_reporter(xgb: Any, monitor: Any, dvalid: Any, model: XGBoostModel) -> Any:
    """An XGBoost callback reporting the recipe metric every ``report_every`` rounds."""

    class CurveReporter(xgb.callback.TrainingCallback):
        def after_iteration(self, booster: Any, epoch: int, evals_log: Any) -> bool:
            done = epoch + 1
            if done == 1:
                monitor.plan(model.n_estimators // model.report_every)
            if done % model.report_every == 0:
                raw = np.asarray(booster.predict(dvalid, iteration_range=(0, done)), np.float64)
                pred = raw if model.task == "regression" else model._as_proba(raw)
                monitor.report(done // model.report_every - 1, monitor.score(pred))
                monitor.progress(f"round {done}")
            return False

    return CurveReporter()
