"""Stacking: a second-layer model fitted on the out-of-fold predictions of the best trials.

Where ensemble selection (:mod:`automl_fin.results._ensemble`) averages members with
counted weights, a stack learns how to combine them: a penalised logistic regression on
the members' log-odds (binary), their log-probabilities (multi-class), or a non-negative
ridge regression on their values (regression). Its members are the ensemble's pool
(:func:`~automl_fin.results._ensemble.candidates`): the best trial of each model, then
of each family (a model with other preprocessing steps), then the best others, 10 in
all: trials whose fold models a bagging search keeps.

**Scored on folds its layer-2 model never saw.** For every validation split of the
search, a layer-2 model is fitted on the out-of-fold predictions of that split's
training rows only and predicts its validation rows; the stack's score is those
predictions scored like a trial's (each split on its own rows, then averaged), and its
out-of-fold file holds them (averaged over repeats). The predictor's layer 2 is then
fitted on every row. The base predictions a layer-2 model trains on come from fold
models that saw the other folds (the same-folds scheme AutoGluon's stacking uses), so
the score still leans a little optimistic, as a trial's never does; the final test and
the benchmarks measure it on rows no layer saw.

A stack needs every search row to have an out-of-fold prediction: k-fold schemes only
(not walk-forward or a holdout). It is stored on the study (user attribute ``stack``)
and shown as a row of trial number -2, model ``stack``, beside the ensemble's -1.
A layer 2 is kept as plain coefficients (JSON in the study and the predictor's
manifest), not a pickle: :class:`Stacker` combines member predictions with numpy alone.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from automl_fin.engine._floor import floor_of
from automl_fin.engine._trial_record import TrialRecord
from automl_fin.results._decision import rule_row
from automl_fin.results._ensemble import (
    STORED_ROWS,
    candidates,
    fitting_rows,
    last_finished,
    oof_arrays,
    row_of,
    stored_row,
)

if TYPE_CHECKING:
    import optuna

    from automl_fin.engine._problem import Problem

__all__ = ["ATTR", "NUMBER", "Stacker", "build_stack", "fit_stacker"]

ATTR, NUMBER = STORED_ROWS[1]  # the study attribute that holds it, its row's number
PENALTY = 1.0  # layer 2's L2 penalty on member weights (a ridge's alpha)
EPS = 1e-6  # probabilities clipped to [EPS, 1 - EPS] before their logarithm

Kind = Literal["binary", "multiclass", "regression"]


@dataclass
class Stacker:
    """A fitted layer 2: ``combine`` maps the members' predictions (in member order) to
    the stack's (class probabilities or values)."""

    kind: Kind
    coef: list[list[float]]  # (outputs, features): 1 output unless multi-class
    intercept: list[float]
    trials: list[int] = dataclasses.field(default_factory=list)  # the members, in order
    floor: float | None = None  # a regression's least value: 0 for a target never negative

    def features(self, preds: list[np.ndarray]) -> np.ndarray:
        """Layer 2's inputs: members' log-odds (binary), log-probabilities (multi-class,
        member by member) or values (regression), one column each."""
        return _features(self.kind, preds)

    def combine(self, preds: list[np.ndarray]) -> np.ndarray:
        """The stack's prediction from its members' (probabilities ``(n, k)`` or values
        ``(n,)``)."""
        z = self.features(preds) @ np.asarray(self.coef).T + np.asarray(self.intercept)
        if self.kind == "regression":  # cut as its members are (engine/_floor.py)
            return z[:, 0] if self.floor is None else np.maximum(z[:, 0], self.floor)
        if self.kind == "binary":
            p = 1.0 / (1.0 + np.exp(-z[:, 0]))
            return np.column_stack([1.0 - p, p])
        z -= z.max(axis=1, keepdims=True)
        e = np.exp(z)
        return e / e.sum(axis=1, keepdims=True)

    def member_weights(self) -> list[float]:
        """Each member's one weight in layer 2 (:func:`fit_stacker`), in member order."""
        first = np.asarray(self.coef, dtype=float)[0]
        return first[:: len(self.coef)].tolist() if self.kind == "multiclass" else first.tolist()

    def to_json(self) -> dict[str, Any]:
        """Plain JSON (the study attribute, the predictor's manifest)."""
        return dataclasses.asdict(self)

    @classmethod
    def combine_of(
        cls, data: dict[str, Any] | None
    ) -> Callable[[list[np.ndarray]], np.ndarray] | None:
        """The ``combine`` of a stored layer 2 (a record's or manifest's ``stacker``),
        or ``None`` for a row that is not a stack (its members are averaged)."""
        return cls.from_json(data).combine if data else None

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Stacker:
        """The stacker :meth:`to_json` wrote."""
        return cls(
            str(data["kind"]),  # type: ignore[arg-type]
            data["coef"],
            data["intercept"],
            [int(n) for n in data.get("trials", [])],
            data.get("floor"),
        )


def _features(kind: Kind, preds: list[np.ndarray]) -> np.ndarray:
    if kind == "regression":
        return np.column_stack([np.asarray(p, dtype=float) for p in preds])
    clipped = [np.clip(np.asarray(p, dtype=float), EPS, 1 - EPS) for p in preds]
    if kind == "binary":
        return np.column_stack([np.log(p[:, 1]) - np.log(p[:, 0]) for p in clipped])
    return np.hstack([np.log(p) for p in clipped])


def kind_of(problem: Problem) -> Kind:
    """The layer-2 kind a problem's task takes."""
    if not problem.task.is_classification:
        return "regression"
    return "binary" if problem.dataset.n_classes == 2 else "multiclass"


def fit_stacker(kind: Kind, preds: list[np.ndarray], y: np.ndarray) -> Stacker:
    """A layer 2 of ``kind`` fitted on members' predictions ``preds`` of rows with
    targets ``y`` (class codes or values).

    One non-negative weight a member (Breiman's stacked regressions): a ridge on the
    values, or a logistic model on the log-odds (binary) or log-probabilities (a
    weighted geometric blend with a bias a class, multi-class), with a small penalty.
    Near-identical members share a weight instead of cancelling out with large
    opposite ones, as an unconstrained layer 2 on correlated inputs does."""
    X = _features(kind, preds)
    members = len(preds)
    if kind == "regression":
        from sklearn.linear_model import Ridge

        ridge = Ridge(alpha=PENALTY, positive=True).fit(X, y)
        floor = floor_of(y)  # (its intercept may be below 0)
        return Stacker(kind, [ridge.coef_.tolist()], [float(ridge.intercept_)], floor=floor)
    classes = 1 if kind == "binary" else int(preds[0].shape[1])
    w, b = _nonnegative_logistic(X, np.asarray(y, dtype=np.int64), members, classes)
    if kind == "binary":
        return Stacker(kind, [w.tolist()], [float(b[0])])
    coef = np.zeros((classes, members * classes))
    for k in range(classes):
        coef[k, k::classes] = w  # class k's log-probability of every member
    return Stacker(kind, coef.tolist(), b.tolist())


def _nonnegative_logistic(
    X: np.ndarray, y: np.ndarray, members: int, classes: int
) -> tuple[np.ndarray, np.ndarray]:
    """Member weights ``w >= 0`` and biases ``b`` minimising :func:`_loss`."""
    from scipy.optimize import minimize

    start = np.concatenate([np.full(members, 1.0 / members), np.zeros(classes)])
    bounds = [(0.0, None)] * members + [(None, None)] * classes
    result = minimize(_loss(X, y, members, classes), start, jac=True, method="L-BFGS-B",
                      bounds=bounds)  # fmt: skip
    return result.x[:members], result.x[members:]


def _loss(
    X: np.ndarray, y: np.ndarray, members: int, classes: int
) -> Callable[[np.ndarray], tuple[float, np.ndarray]]:
    """The mean log loss (plus ``PENALTY / 2 * |w|^2`` over the rows) and its gradient
    at ``theta = (w, b)``: of sigmoid(X w + b) (``classes`` 1: binary), or of the
    softmax over classes k of (sum over members m of w_m log p_mk) + b_k."""
    n = len(y)

    def loss(theta: np.ndarray) -> tuple[float, np.ndarray]:
        w, b = theta[:members], theta[members:]
        if classes == 1:
            z = X @ w + b[0]
            value = float(np.sum(np.logaddexp(0.0, z) - y * z)) / n
            r = (1.0 / (1.0 + np.exp(-z)) - y) / n
            grad_w, grad_b = X.T @ r, np.array([r.sum()])
        else:
            blocks = X.reshape(n, members, classes)
            z = np.einsum("nmk,m->nk", blocks, w) + b
            z -= z.max(axis=1, keepdims=True)
            e = np.exp(z)
            total = e.sum(axis=1)
            value = float(np.mean(np.log(total) - z[np.arange(n), y]))
            r = e / total[:, None]
            r[np.arange(n), y] -= 1.0
            r /= n
            grad_w, grad_b = np.einsum("nmk,nk->m", blocks, r), r.sum(axis=0)
        value += PENALTY / 2 * float(w @ w) / n
        return value, np.concatenate([grad_w + PENALTY * w / n, grad_b])

    return loss


def cross_fit(
    kind: Kind,
    preds: list[np.ndarray],
    y: np.ndarray,
    splits: list[tuple[np.ndarray, np.ndarray]],
    *,
    seed: int = 0,
) -> np.ndarray:
    """Out-of-fold predictions of a stack: for each split, a layer 2 fitted on the
    training rows' member predictions and targets (:func:`fitting_rows`) predicts the
    validation rows (NaN on rows no split validates; the mean where repeats validate a
    row more than once)."""
    total = np.zeros_like(preds[0], dtype=float)
    seen = np.zeros(len(y))
    for train, valid in splits:
        fit = fitting_rows(train, seed)
        layer2 = fit_stacker(kind, [pr[fit] for pr in preds], y[fit])
        total[valid] += layer2.combine([pr[valid] for pr in preds])
        seen[valid] += 1
    with np.errstate(invalid="ignore", divide="ignore"):
        return (total.T / seen).T  # 0 / 0: NaN


def build_stack(
    study: optuna.Study, problem: Problem, run_dir: Path | None = None
) -> optuna.trial.FrozenTrial | None:
    """Fit and score a stack of the study's best trials (see the module), store it on
    the study (user attribute ``stack``, replacing an earlier one; its out-of-fold
    predictions in ``run_dir/oof/stack.npy``) and return its row; ``None`` for a scheme
    that leaves rows without out-of-fold predictions or fewer than two members."""
    p = problem
    if p.scheme not in ("kfold", "stratified_kfold"):
        return None
    started = dt.datetime.now().astimezone()
    members = candidates(study, p, run_dir=run_dir)
    if len(members) < 2:
        return None
    preds = oof_arrays(members, run_dir)
    kind, y = kind_of(p), p.dataset.y
    oof = cross_fit(kind, preds, y, p.splits, seed=p.recipe.seed)
    scores: dict[str, list[float]] = {}
    for train, valid in p.splits:
        for name, value in p.scores(train, valid, oof[valid]).items():
            scores.setdefault(name, []).append(value)
    validated = np.flatnonzero(~np.isnan(oof if oof.ndim == 1 else oof[:, 0]))
    rows = fitting_rows(validated, p.recipe.seed)
    final = fit_stacker(kind, [pr[rows] for pr in preds], y[rows])
    final.trials = [t.number for t in members]
    file = None
    if run_dir is not None:
        from automl_fin.storage._storage import atomic_save_npy

        file = Path(run_dir) / "oof" / "stack.npy"
        atomic_save_npy(file, oof)  # a reader never sees half of it (two runs at once)
    main = scores.pop(p.metric.name)
    attrs: dict[str, Any] = {
        "model": "stack",
        "members": {str(t.number): 1.0 / len(members) for t in members},
        "stacker": final.to_json(),
        "preprocessors": " + ".join(f"{TrialRecord.of(t).model}#{t.number}" for t in members),
        "plugin": f"automl-fin (stacking: {kind} layer 2)",
        "fold_scores": main,
        "score_std": float(np.std(main)),
        "folds": len(main),
        "metrics": {k: float(np.mean(v)) for k, v in scores.items()},
        "last_trial": last_finished(study),  # a stack older than a trial is fitted again
    }
    if file is not None:
        attrs["oof"] = str(file.resolve())
    value = rule_row(p, oof, float(np.mean(main)), attrs)
    study.set_user_attr(ATTR, stored_row(value, attrs, started))
    return row_of(study.user_attrs, ATTR, NUMBER)
