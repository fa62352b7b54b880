"""The LightGBM estimator behind the ``lightgbm`` spec (scikit-learn protocol).

``fit(X, y, monitor=...)`` trains with ``lightgbm.train``, stops early on the monitor's
validation split (or on the core's holdout when there is none), and reports the
recipe's metric every ``report_every`` rounds through LightGBM's own evaluation hook
(``feval``): the library keeps the validation rows' predictions up to date as it adds
trees and hands them over, so a report costs one metric computation, never a second
prediction of the validation rows (which made a learning-curve callback the slowest
part of a trial).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator

from automl_fin import monotone_vector, validation_split

__all__ = ["LightGBMModel"]

_OBJECTIVE = {
    "binary": ("binary", "binary_logloss"),
    "multiclass": ("multiclass", "multi_logloss"),
    "regression": ("regression", "l2"),
}


class LightGBMModel(BaseEstimator):
    """Leaf-wise gradient-boosted trees; see the module docstring.

    Args:
        task: ``binary``, ``multiclass`` or ``regression``.
        n_classes: number of classes (classification).
        params: LightGBM parameters (``learning_rate``, ``num_leaves``, ...).
        n_estimators: most boosting rounds; early stopping usually ends sooner.
        early_stopping_rounds: rounds without improvement of the validation loss.
        monotone_constraints: ``{column: +1 | -1}`` by feature name after preprocessing.
        device: ``cpu``, or ``gpu`` for a LightGBM built with GPU support
            (``AUTOML_FIN_LIGHTGBM_DEVICE`` overrides it).
        seed, n_jobs: randomness and threads.
        report_every: rounds between two learning-curve reports to the pruner.
        class_weight: ``"balanced"`` weighs rows by inverse class frequency; ``"none"``
            does not.
        extra: more LightGBM parameters, passed through unchanged.
    """

    def __init__(
        self,
        task: str = "binary",
        n_classes: int = 2,
        params: Mapping[str, Any] | None = None,
        n_estimators: int = 500,
        early_stopping_rounds: int = 50,
        monotone_constraints: Mapping[str, int] | None = None,
        device: str = "cpu",
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

    def _params(self, names: list[str] | None, n_features: int) -> dict[str, Any]:
        objective, loss = _OBJECTIVE[self.task]
        params: dict[str, Any] = {
            "objective": objective,
            "metric": loss,
            "seed": self.seed,
            "deterministic": True,  # with force_col_wise: the same seed, the same trees
            "force_col_wise": True,
            "num_threads": self.n_jobs if self.n_jobs > 0 else 0,
            "device_type": os.environ.get("AUTOML_FIN_LIGHTGBM_DEVICE", self.device),
            "verbosity": -1,
            **(self.params or {}),
            **(self.extra or {}),
        }
        if self.task == "multiclass":
            params["num_class"] = self.n_classes
        if self.monotone_constraints:
            params["monotone_constraints"] = monotone_vector(
                self.monotone_constraints, names, n_features
            )
        return params

    def fit(self, X: Any, y: Any, monitor: Any = None) -> LightGBMModel:
        """Train; with a monitor that has validation data, stop early and report on it."""
        import lightgbm as lgb

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
        n_features = X_tr.shape[1]
        dtrain = lgb.Dataset(_matrix(X_tr), label=y_tr, weight=weight, free_raw_data=True)
        dvalid = lgb.Dataset(_matrix(X_va), label=y_va, reference=dtrain)
        callbacks: list[Any] = [
            lgb.early_stopping(self.early_stopping_rounds, first_metric_only=True, verbose=False)
        ]
        feval = _curve(monitor, self) if monitor is not None else None
        if budget is not None:
            callbacks.append(_budget(budget))
        self.booster_ = lgb.train(
            self._params(names, n_features),
            dtrain,
            num_boost_round=self.n_estimators,
            valid_sets=[dvalid],
            valid_names=["valid"],
            feval=feval,
            callbacks=callbacks,
        )
        booster = self.booster_
        self.best_iteration_ = int(booster.best_iteration or booster.current_iteration())
        self.n_features_in_ = n_features
        if self.task != "regression":
            self.classes_ = np.arange(self.n_classes)
        return self

    def _as_proba(self, raw: np.ndarray) -> np.ndarray:
        raw = np.asarray(raw, dtype=np.float64)
        if self.task == "binary":
            return np.column_stack([1.0 - raw, raw])
        return raw / raw.sum(axis=1, keepdims=True)

    def _raw(self, X: Any) -> np.ndarray:
        out = self.booster_.predict(_matrix(X), num_iteration=self.best_iteration_)
        return np.asarray(out, dtype=np.float64)

    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities ``(n, n_classes)``."""
        return self._as_proba(self._raw(X))

    def predict(self, X: Any) -> np.ndarray:
        """Class indices for classification, values for regression."""
        raw = self._raw(X)
        return raw if self.task == "regression" else self._as_proba(raw).argmax(axis=1)

    def contributions(self, X: Any) -> np.ndarray:
        """TreeSHAP values on the margin (LightGBM's ``pred_contrib``): ``(n, f + 1)``,
        or ``(n, k, f + 1)`` for ``k`` classes; the last column is the bias."""
        rounds = self.best_iteration_
        out = self.booster_.predict(_matrix(X), num_iteration=rounds, pred_contrib=True)
        out = np.asarray(out.toarray() if hasattr(out, "toarray") else out, dtype=np.float64)
        if self.task == "multiclass":  # LightGBM puts the classes side by side
            out = out.reshape(len(out), self.n_classes, -1)
        return out


def _matrix(X: Any) -> Any:
    """``X`` as LightGBM takes it: a frame's values (the pipeline already encoded every
    column as numbers), a sparse matrix or an array as they are."""
    if hasattr(X, "to_numpy"):
        return X.to_numpy(dtype=np.float64, na_value=np.nan)
    return X


def _curve(monitor: Any, model: LightGBMModel) -> Any:
    """LightGBM's evaluation hook reporting the recipe's metric every ``report_every``
    rounds (on the validation predictions LightGBM already holds)."""
    done = [0]
    higher = monitor.direction == "maximize"
    last = [float("nan")]

    def feval(preds: np.ndarray, data: Any) -> tuple[str, float, bool]:
        done[0] += 1
        if done[0] == 1:
            monitor.plan(model.n_estimators // model.report_every)
        if done[0] % model.report_every == 0:
            pred = preds if model.task == "regression" else model._as_proba(preds)
            last[0] = monitor.score(pred)
            monitor.report(done[0] // model.report_every - 1, last[0])
            monitor.progress(f"round {done[0]}")
        return "recipe_metric", last[0], higher

    return feval


def _budget(monitor: Any) -> Any:
    """A callback that checks the search's time budget every round; on
    :class:`~automl_fin.BudgetStop` it ends training at the round of the lowest
    validation loss so far (LightGBM's own early-stopping exception), as early stopping
    would have, keeping what was fitted."""
    import lightgbm as lgb

    from automl_fin import BudgetStop

    best: list[Any] = [float("inf"), 0, []]  # the lowest loss, its round, its results

    def check(env: Any) -> None:
        results = env.evaluation_result_list or []
        if results and results[0][2] < best[0]:  # the first metric: the loss
            best[:] = [results[0][2], env.iteration, list(results)]
        try:
            monitor.check(float(env.iteration + 1))  # a round is a pass over the data
        except BudgetStop:
            raise lgb.callback.EarlyStopException(best[1], best[2]) from None

    return check
