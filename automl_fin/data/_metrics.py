"""Metrics with their direction, computed from out-of-fold predictions.

For classification a metric receives class probabilities of shape ``(n, k)``; label
metrics (``Metric.labels``) take the arg-max. For regression it receives the predicted
values. Forecast metrics (``oos_r2``, ``mase``, ``direction``) also receive the
:class:`Reference` forecasts of the same points: the random walk and the historical mean.
"""

from __future__ import annotations

import contextlib
import functools
import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
from sklearn import metrics as skm

from automl_fin.errors import RecipeError
from automl_fin.plugin._specs import TASK_METRICS, Task

__all__ = [
    "COST",
    "METRICS",
    "Metric",
    "Reference",
    "class_index",
    "cost_matrix",
    "default_metric",
    "expand_each",
    "extra_names",
    "get_metric",
    "label_text",
    "least_cost",
]

CLASSIFICATION = frozenset({Task.BINARY, Task.MULTICLASS})


@dataclass(frozen=True)
class Reference:
    """Reference forecasts of the scored points, in the target's reported units.

    ``naive`` is the random walk (no change from the forecast origin: a zero return, or
    the last price); ``mean`` is the historical mean return of the training rows.
    """

    naive: np.ndarray
    mean: np.ndarray


@dataclass(frozen=True)
class Metric:
    """A named score with the direction that is better."""

    name: str
    direction: Literal["maximize", "minimize"]
    tasks: frozenset[Task]
    fn: Callable[..., float]
    description: str = ""
    reference: bool = False  # fn(y, pred, Reference): needs the reference forecasts
    labels: bool = False  # scored on the arg-max labels, not on the probabilities
    # a decision rule may choose the labels (results/_decision.py); not for one-sided
    # scores, which naming a class always (recall) or never (precision) maximises
    decidable: bool = True
    # per-class factors on the probabilities whose arg-max is the metric's own decision
    # before any rule is fitted (a cost's: :func:`cost_metric`); None: the plain arg-max
    factors: tuple[float, ...] | None = None
    # the cost of labelling a row of class i as class j where no factors give the labels
    # of least expected cost (a class's wrong labels cost unlike): a row's label is then
    # argmin_j sum_i p_i * matrix[i][j] of its (weighted) probabilities (:func:`least_cost`)
    matrix: tuple[tuple[float, ...], ...] | None = None

    def __call__(self, y_true: np.ndarray, pred: np.ndarray, ref: Reference | None = None) -> float:
        if self.reference:
            if ref is None:
                raise ValueError(f"metric '{self.name}' needs reference forecasts")
            return float(self.fn(y_true, pred, ref))
        return float(self.fn(y_true, pred))

    @property
    def sign(self) -> int:
        """+1 when larger is better, -1 otherwise (for sorting)."""
        return 1 if self.direction == "maximize" else -1


def _labels(p: np.ndarray) -> np.ndarray:
    return np.asarray(p).argmax(axis=1)


def least_cost(p: np.ndarray, matrix: Sequence[Sequence[float]] | None) -> np.ndarray:
    """Rows whose arg-max is each row's label of least expected cost under ``matrix``
    (``matrix[i][j]``: the cost of labelling a row of class ``i`` as ``j``), one-hot,
    from (weighted) probabilities ``p`` (a row's scale does not matter); ``p`` itself
    without a matrix."""
    if matrix is None:
        return p
    cost = np.asarray(matrix, dtype=float)
    return np.eye(len(cost))[np.argmin(np.asarray(p, dtype=float) @ cost, axis=1)]


def binary_auc(positive: np.ndarray, score: np.ndarray) -> float:
    """ROC AUC as the Mann-Whitney statistic (ties count half): equal to scikit-learn's
    ``roc_auc_score`` and far faster, which matters because the learning curves of
    monitored models, ensemble selection and the stack score it many times. Each class's
    scores are sorted and the positives' placed among the negatives' by binary search:
    on 200,000 rows 2-8 ms, against 25-36 ms for ranking every row
    (``scipy.stats.rankdata``) and about 250 ms for ``roc_auc_score``."""
    score = np.asarray(score, dtype=float)
    pos, neg = np.sort(score[positive]), np.sort(score[~positive])
    n1, n0 = len(pos), len(neg)
    if n1 == 0 or n0 == 0:
        raise ValueError("Only one class present in y_true. ROC AUC score is not defined.")
    below = np.searchsorted(neg, pos, "left")  # negatives scored lower than each positive
    ties = np.searchsorted(neg, pos, "right") - below
    return float((below.sum() + 0.5 * ties.sum()) / (n1 * n0))


def _auc(y: np.ndarray, p: np.ndarray) -> float:
    y = np.asarray(y)
    p = np.asarray(p, dtype=float)
    if p.shape[1] == 2:
        return binary_auc(y == 1, p[:, 1])
    return float(np.mean([binary_auc(y == k, p[:, k]) for k in range(p.shape[1])]))


def _ks(y: np.ndarray, p: np.ndarray) -> float:
    """max(TPR - FPR) over the distinct thresholds (as scikit-learn's ``roc_curve``)."""
    from automl_fin.data._discrimination import ks

    positive = np.asarray(y) == 1
    if positive.all() or not positive.any():
        return float("nan")  # one class only: the curve is undefined
    return max(ks(positive, np.asarray(p, dtype=float)[:, 1])[0], 0.0)


def _squared(y: np.ndarray, p: np.ndarray) -> np.ndarray:
    return (np.asarray(y, dtype=float) - np.asarray(p, dtype=float).reshape(len(y))) ** 2


def _absolute(y: np.ndarray, p: np.ndarray) -> np.ndarray:
    return np.abs(np.asarray(y, dtype=float) - np.asarray(p, dtype=float).reshape(len(y)))


def _cross_entropy(y: np.ndarray, p: np.ndarray) -> np.ndarray:
    p = np.asarray(p, dtype=float)  # clipped as ``log_loss`` clips (scikit-learn's rule)
    eps = np.finfo(p.dtype).eps
    return -np.log(np.clip(p[np.arange(len(p)), np.asarray(y, dtype=int)], eps, 1 - eps))


def _log_loss(y: np.ndarray, p: np.ndarray) -> float:
    """Cross-entropy, probabilities clipped to [eps, 1 - eps] (as scikit-learn's)."""
    return float(np.mean(_cross_entropy(y, p)))


def _confusion(y: np.ndarray, p: np.ndarray) -> np.ndarray:
    """Counts of (true class, predicted class): rows true, columns predicted."""
    k = p.shape[1]
    codes = np.asarray(y, dtype=int) * k + _labels(p)
    return np.bincount(codes, minlength=k * k).reshape(k, k).astype(float)


def _accuracy(y: np.ndarray, p: np.ndarray) -> float:
    return float(np.mean(_labels(p) == np.asarray(y)))


def _balanced_accuracy(y: np.ndarray, p: np.ndarray) -> float:
    """Mean recall over the classes present in ``y`` (as scikit-learn's)."""
    cm = _confusion(y, p)
    support = cm.sum(axis=1)
    present = support > 0
    return float(np.mean(np.diag(cm)[present] / support[present]))


def _macro_f1(y: np.ndarray, p: np.ndarray) -> float:
    """Unweighted mean of the F1 of each class true or predicted (as scikit-learn's
    without ``labels``): a class neither is left out, as balanced accuracy leaves out a
    class not true. Counted as 0, held-out rows of three of four tiers, all predicted
    right, scored 0.75."""
    cm = _confusion(y, p)
    tp = np.diag(cm)
    denominator = cm.sum(axis=0) + cm.sum(axis=1)  # 2 tp + fp + fn
    seen = denominator > 0
    return float(np.mean(2 * tp[seen] / denominator[seen]))


def _qwk(y: np.ndarray, p: np.ndarray) -> float:
    """Quadratic weighted kappa over the classes seen in ``y`` or the predictions (as
    scikit-learn's ``cohen_kappa_score``, whose weights count positions among them)."""
    cm = _confusion(y, p)
    seen = (cm.sum(axis=0) + cm.sum(axis=1)) > 0
    cm = cm[np.ix_(seen, seen)]
    k = len(cm)
    expected = np.outer(cm.sum(axis=1), cm.sum(axis=0)) / cm.sum()
    weights = (np.arange(k)[:, None] - np.arange(k)[None, :]) ** 2
    denominator = float(np.sum(weights * expected))
    if denominator == 0:
        return float("nan")
    return float(1 - np.sum(weights * cm) / denominator)


def _brier(y: np.ndarray, p: np.ndarray) -> float:
    onehot = np.eye(p.shape[1])[y]
    return float(np.mean(np.sum((p - onehot) ** 2, axis=1)) / (2 if p.shape[1] == 2 else 1))


def _rmse(y: np.ndarray, p: np.ndarray) -> float:
    return float(np.sqrt(np.mean(_squared(y, p))))


def _oos_r2(y: np.ndarray, p: np.ndarray, ref: Reference) -> float:
    """Out-of-sample R² against the historical mean (Campbell & Thompson 2008)."""
    return 1.0 - float(np.sum((y - p) ** 2) / np.sum((y - ref.mean) ** 2))


def _mase(y: np.ndarray, p: np.ndarray, ref: Reference) -> float:
    """Mean absolute error relative to the random walk's on the same points (< 1 beats it)."""
    return float(np.mean(np.abs(y - p)) / np.mean(np.abs(y - ref.naive)))


def _gini(y: np.ndarray, p: np.ndarray) -> float:
    return 2 * _auc(y, p) - 1


def _mae(y: np.ndarray, p: np.ndarray) -> float:
    return float(skm.mean_absolute_error(y, p))


def _r2(y: np.ndarray, p: np.ndarray) -> float:
    return float(skm.r2_score(y, p))


def _of_class(kind: str, index: int, y: np.ndarray, p: np.ndarray) -> float:
    """A per-class metric (recall, precision, F1) of class ``index``: module-level, so a
    metric (and a search's result holding it) pickles."""
    score = _PER_CLASS[kind]
    return float(score(y, _labels(p), labels=[index], average="macro", zero_division=0.0))


def _direction(y: np.ndarray, p: np.ndarray, ref: Reference) -> float:
    """Share of points whose move from the forecast origin (up or not) is called right."""
    return float(np.mean((p > ref.naive) == (y > ref.naive)))


_M = Metric
METRICS: dict[str, Metric] = {
    m.name: m
    for m in [
        _M("roc_auc", "maximize", CLASSIFICATION, _auc, "area under the ROC curve (OvR macro)"),
        _M(
            "gini",
            "maximize",
            frozenset({Task.BINARY}),
            _gini,
            "Gini coefficient = 2 AUC - 1",
        ),
        _M("ks", "maximize", frozenset({Task.BINARY}), _ks, "Kolmogorov-Smirnov statistic"),
        _M("brier", "minimize", CLASSIFICATION, _brier, "Brier score"),
        _M(
            "log_loss",
            "minimize",
            CLASSIFICATION,
            _log_loss,
            "cross-entropy",
        ),
        _M(
            "accuracy",
            "maximize",
            CLASSIFICATION,
            _accuracy,
            "share of correct labels",
            labels=True,
        ),
        _M(
            "balanced_accuracy",
            "maximize",
            CLASSIFICATION,
            _balanced_accuracy,
            "mean per-class recall",
            labels=True,
        ),
        _M(
            "macro_f1",
            "maximize",
            CLASSIFICATION,
            _macro_f1,
            "unweighted mean of per-class F1",
            labels=True,
        ),
        _M(
            "qwk",
            "maximize",
            CLASSIFICATION,
            _qwk,
            "quadratic weighted kappa (ordered classes)",
            labels=True,
        ),
        _M("rmse", "minimize", frozenset({Task.REGRESSION}), _rmse, "root mean squared error"),
        _M(
            "mae",
            "minimize",
            frozenset({Task.REGRESSION}),
            _mae,
            "mean absolute error",
        ),
        _M(
            "r2",
            "maximize",
            frozenset({Task.REGRESSION}),
            _r2,
            "coefficient of determination",
        ),
        _M(
            "oos_r2",
            "maximize",
            frozenset({Task.REGRESSION}),
            _oos_r2,
            "out-of-sample R² against the historical mean (> 0 beats it); forecasts only",
            reference=True,
        ),
        _M(
            "mase",
            "minimize",
            frozenset({Task.REGRESSION}),
            _mase,
            "MAE relative to the random walk's (< 1 beats it); forecasts only",
            reference=True,
        ),
        _M(
            "direction",
            "maximize",
            frozenset({Task.REGRESSION}),
            _direction,
            "directional accuracy: up/not-up called right; forecasts only",
            reference=True,
        ),
    ]
}

# per metric, the loss of each row whose mean over a fold's rows orders predictions as
# the metric does there (rmse, r2, oos_r2: the squared error; mae, mase: the absolute
# error; log_loss: the cross-entropy); the reality check's
# (:mod:`automl_fin.results._reality_check`)
ROW_LOSSES: dict[str, Callable[[np.ndarray, np.ndarray], np.ndarray]] = {
    "rmse": _squared,
    "r2": _squared,
    "oos_r2": _squared,
    "mae": _absolute,
    "mase": _absolute,
    "log_loss": _cross_entropy,
}


_PER_CLASS = {"recall": skm.recall_score, "precision": skm.precision_score, "f1": skm.f1_score}
# per-class metrics that name no label, so a recipe fits any data: ``f1:each`` is one
# metric per class; the others pick one class by its share of the rows (or, for a
# binary task, the positive class)
EACH = "each"
SELECTORS = ("minority", "majority", "positive")


def expand_each(names: Sequence[str], classes: Sequence[object]) -> list[tuple[int, str]]:
    """``(position in names, name)`` with every ``<kind>:each`` replaced by one
    ``<kind>:<class>`` per class of ``classes`` (in class order)."""
    out: list[tuple[int, str]] = []
    for i, name in enumerate(names):
        kind, sep, label = name.partition(":")
        if sep and label == EACH and classes and EACH not in map(str, classes):
            out.extend((i, f"{kind}:{c}") for c in classes)
        else:
            out.append((i, name))
    return out


def _per_class(
    name: str,
    classes: Sequence[object],
    source: str,
    field: str,
    counts: Sequence[int] | None,
) -> Metric:
    """``recall:high``: the recall (or precision, f1) of one class, named by its label or
    chosen by ``minority``/``majority`` (by ``counts``) or ``positive`` (binary)."""
    kind, _, label = name.partition(":")
    labels = [str(c) for c in classes]
    why = ""
    if kind in _PER_CLASS and label not in labels and label in SELECTORS and labels:
        if label == "positive" and len(labels) == 2:
            index, why = 1, "the positive class"
        elif label != "positive" and counts is not None and len(counts) == len(labels):
            order = sorted(range(len(labels)), key=lambda j: (counts[j], j))
            index = order[0] if label == "minority" else order[-1]
            why = f"the {label}: {counts[index]} of {sum(counts)} rows"
        label = labels[index] if why else label
    if kind == EACH or label == EACH:
        raise RecipeError(
            source,
            field,
            f"'{name}' names one metric per class; list it under metrics, and name one class "
            "(or minority/majority/positive) for the search metric",
        )
    if kind not in _PER_CLASS or label not in labels:
        raise RecipeError(
            source,
            field,
            f"'{name}' is not a per-class metric: use recall:, precision: or f1: followed by "
            f"a class among {labels}, or by each, minority, majority or positive (binary)",
        )
    return Metric(
        name,
        "maximize",
        CLASSIFICATION,
        functools.partial(_of_class, kind, labels.index(label)),
        f"{kind} of class {label}" + (f" ({why})" if why else ""),
        labels=True,
        decidable=kind == "f1",
    )


def get_metric(
    name: str,
    task: Task | None = None,
    *,
    source: str = "recipe",
    field: str = "metric",
    classes: Sequence[object] = (),
    counts: Sequence[int] | None = None,
    costs: Mapping[object, object] | None = None,
) -> Metric:
    """Look a metric up by name and check it fits ``task``.

    Besides the names in :data:`METRICS`, ``recall:<class>``, ``precision:<class>`` and
    ``f1:<class>`` score one class of a classification task (``classes`` gives the labels).
    In place of a label, ``minority`` and ``majority`` pick the class by its row count
    (``counts``, in class order) and ``positive`` the positive class of a binary task, so
    a recipe need not name a label of its data (``<kind>:each``: see :func:`expand_each`).
    ``cost`` scores labels by the recipe's ``costs`` (:func:`cost_matrix`).
    """
    if name == COST:
        if task is not None and not task.is_classification:
            fits = sorted(m.name for m in METRICS.values() if task in m.tasks)
            raise RecipeError(
                source, field, f"metric '{COST}' scores class labels; task '{task}' has "
                f"none: use one of {fits}",
            )  # fmt: skip
        metric = _cost_metric(costs, classes, task, source, field)
    elif ":" in name:
        metric = _per_class(name, classes, source, field, counts)
    elif name in METRICS:
        metric = METRICS[name]
    else:
        raise RecipeError(
            source,
            field,
            f"unknown metric '{name}'; known: {', '.join(sorted(METRICS))}, {COST} (with costs), "
            "and recall:/precision:/f1: followed by a class, each, minority, majority or "
            "positive",
        )
    if task is not None and task not in metric.tasks:
        fits = sorted(m.name for m in METRICS.values() if task in m.tasks)
        fits += [COST] if task.is_classification else []
        raise RecipeError(
            source, field, f"metric '{name}' does not apply to task '{task}'; use one of {fits}"
        )
    return metric


def default_metric(task: Task, costs: object = None) -> str:
    """The search metric used when a recipe leaves it to the task (``metric: auto``):
    ``cost`` where a classification's ``costs`` are given (the labels are chosen for
    their cost; ranked by another metric, carData's WVS rows chosen by macro-F1 cost
    more than always the middle answer on held-out rows), else the task's own."""
    return COST if costs is not None and task.is_classification else TASK_METRICS[task]


COST = "cost"


def extra_names(
    name: str,
    asked: str,
    listed: Sequence[str],
    task: Task,
    classes: Sequence[object] | None,
    costs: object = None,
) -> list[tuple[str, str]]:
    """The extra metrics beside search metric ``name`` (resolved from the recipe's
    ``asked``, e.g. ``auto``), each with the recipe field it comes from: the recipe's
    ``listed`` metrics (``<kind>:each``: one per class of ``classes``), the task's own
    where another metric ranks (``auto`` by cost, costs given; or one a run set: its
    studies' rows are then compared with others' on the task's own), and ``cost`` where
    costs are given; the search metric left out. A search and a saved predictor's
    ``evaluate`` read them alike."""
    out = [(f"metrics[{i}]", m) for i, m in expand_each(listed, classes or [])]
    own = default_metric(task)
    if name != own and own not in listed:  # (--set metric=log_loss dropped ROC AUC)
        out.insert(0, ("metric", own))  # the task's own reported beside it
    if costs is not None and COST not in (m for _, m in out):
        out.append(("costs", COST))  # the labels' costs
    return [(field, m) for field, m in out if m != name]


# a binary task's costs may name its errors instead of its labels
ERRORS = {"false_negative": (1, 0), "false_positive": (0, 1)}
COSTS_EXAMPLE = "e.g. --set 'costs={false_negative: 5, false_positive: 1}'"


def cost_matrix(
    costs: Mapping[object, object], classes: Sequence[object], source: str, field: str = "costs"
) -> np.ndarray:
    """The ``(k, k)`` cost of labelling a row of class ``i`` (row) as class ``j``
    (column), in class order, from a recipe's ``costs``, written one of three ways:

    - ``{false_negative: 5, false_positive: 1}`` (two classes: a positive row labelled
      negative costs 5, a negative labelled positive 1);
    - ``{bad: 5, good: 1}``: per class, what labelling one of its rows wrongly costs;
    - ``{bad: {good: 5}, good: {bad: 1}}``: per class, what each label of its rows
      costs (a label not named costs 0; a right label may have a cost, e.g. a negative
      one for a profit).

    Every cost is a finite number, and for each class a wrong label costs more than the
    right one. Where every wrong label of a class costs alike, the labels of least
    expected cost are the arg-max of the probabilities weighted per class; otherwise (an
    ordered class named two tiers off costs more than one tier off) each row's label is
    the one of least expected cost (:func:`least_cost`).
    A key is matched as the class is written (``1``, ``1.0`` and ``"1"`` alike; YAML's
    ``Yes``/``No``, read as booleans, to a class ``Yes``/``No``)."""
    labels = [label_text(c) for c in classes]
    k = len(labels)
    if not isinstance(costs, Mapping) or not costs:
        raise RecipeError(source, field, f"costs map classes to costs, {COSTS_EXAMPLE}")

    def number(value: object, where: str) -> float:
        if isinstance(value, str):  # YAML reads 1e3 (no point, no sign) as text
            with contextlib.suppress(ValueError):
                value = float(value)
        plain = isinstance(value, int | float) and not isinstance(value, bool)
        if not plain or not math.isfinite(value):  # type: ignore[arg-type]
            raise RecipeError(source, where, f"a cost is a finite number, not {value!r}")
        return float(value)

    def index(key: object, where: str) -> int:
        found = class_index(key, labels)
        if found is None:
            what = "false_negative/false_positive or " if k == 2 else ""
            head, colon, tail = str(key).partition(":")  # YAML reads {bad:5} as a key
            hint = (
                f" (write a space after each colon: {{{head}: {tail}, ...}})"
                if colon and class_index(head.strip(), labels) is not None
                else ""
            )
            raise RecipeError(source, where, f"'{key}' is not a class of the target; costs "
                              f"are keyed by {what}the classes {labels}{hint}")  # fmt: skip
        return found

    matrix = np.zeros((k, k))
    errors = [key for key in costs if key in ERRORS and class_index(key, labels) is None]
    if errors:
        if len(errors) < len(costs):
            raise RecipeError(source, field, "give false_negative and false_positive, or "
                              "costs by class, not both")  # fmt: skip
        if k != 2:
            raise RecipeError(
                source, field, f"false_negative/false_positive name the errors of two classes; "
                f"the target has {k}: give each class's costs, e.g. {{{labels[0]}: 2, ...}}",
            )  # fmt: skip
        missing = sorted(set(ERRORS) - set(errors))  # type: ignore[arg-type]
        if missing:
            raise RecipeError(source, field, f"give {missing[0]} too, {COSTS_EXAMPLE}")
        for key, value in costs.items():
            matrix[ERRORS[key]] = number(value, f"{field}.{key}")  # type: ignore[index]
        return _checked_costs(matrix, labels, source, field)
    rows = {index(key, f"{field}.{key}"): (key, value) for key, value in costs.items()}
    nested = [isinstance(v, Mapping) for _, v in rows.values()]
    if any(nested) and not all(nested):
        raise RecipeError(
            source, field, "give every class one cost (of any wrong label) or every class "
            "a mapping of labels to costs, not both",
        )  # fmt: skip
    missing = [label for i, label in enumerate(labels) if i not in rows]
    if missing:
        how = "a mapping of its labels to costs" if any(nested) else (
            "one (what labelling one of its rows wrongly costs)")  # fmt: skip
        raise RecipeError(source, field, f"class '{missing[0]}' has no cost; give every class "
                          f"of {labels} {how}")  # fmt: skip
    for i, (key, value) in rows.items():
        if isinstance(value, Mapping):
            for label, cost in value.items():
                where = f"{field}.{key}.{label}"
                matrix[i, index(label, where)] = number(cost, where)
        else:
            matrix[i] = number(value, f"{field}.{key}")
            matrix[i, i] = 0.0
    return _checked_costs(matrix, labels, source, field)


YAML_BOOLEANS = {True: {"true", "yes", "y", "on"}, False: {"false", "no", "n", "off"}}


def class_index(key: object, labels: Sequence[str]) -> int | None:
    """The class ``key`` names (``labels``: the classes as :func:`label_text` writes
    them), or ``None``. A boolean key names a class written as one of YAML's words for
    it (``{Yes: 10, No: 1}`` is read as ``{True: 10, False: 1}``) where exactly one is."""
    text = label_text(key)
    if text in labels:
        return labels.index(text)
    if text in ("true", "false"):  # a boolean, or one as JSON wrote it (a stored recipe)
        words = YAML_BOOLEANS[text == "true"]
        hits = [i for i, label in enumerate(labels) if label.casefold() in words]
        return hits[0] if len(hits) == 1 else None
    return None


def _checked_costs(
    matrix: np.ndarray, labels: Sequence[str], source: str, field: str
) -> np.ndarray:
    """``matrix``, refused where a class's wrong label costs no more than its right one
    (see :func:`cost_matrix`)."""
    for i, label in enumerate(labels):
        extra = np.delete(matrix[i], i) - matrix[i, i]
        if len(extra) and extra.min() <= 0:
            raise RecipeError(
                source, field, f"labelling a row of class '{label}' wrongly must cost more "
                f"than labelling it right (costs of its labels: {matrix[i].tolist()})",
            )  # fmt: skip
    return matrix


def label_text(value: object) -> str:
    """A class label or a costs key as one text: ``1``, ``1.0`` and ``"1"`` alike (a
    target with a gap reads as floats), ``True``, ``true`` and ``"True"`` alike (a
    recipe's keys travel as JSON text: ``true``)."""
    if isinstance(value, bool | np.bool_):
        return str(bool(value)).lower()
    if isinstance(value, float | np.floating) and float(value).is_integer():
        return str(int(value))
    text = str(value)
    if re.fullmatch(r"-?\d+\.0*", text):  # a float key as JSON wrote it: "1.0" is 1
        return text[: text.index(".")]
    return text.lower() if text.lower() in ("true", "false") else text


def _cost_metric(
    costs: Mapping[object, object] | None,
    classes: Sequence[object],
    task: Task | None,
    source: str,
    field: str,
) -> Metric:
    """The ``cost`` metric: the mean cost of the rows' labels under ``costs``
    (:func:`cost_matrix`), lower is better. Where each class's wrong labels cost alike,
    its :attr:`Metric.factors` are each class's extra cost of a wrong label: their
    arg-max is the labels of least expected cost; otherwise the factors are 1 and its
    :attr:`Metric.matrix` is the costs, and it labels the probabilities it is given by
    their least expected cost itself. A decision rule fitted on the out-of-fold rows
    starts from them."""
    if costs is None:
        raise RecipeError(
            source, field, f"'{COST}' scores labels by the recipe's costs: give them, "
            f"{COSTS_EXAMPLE} (or per class: {{<class>: <cost of a wrong label>, ...}})",
        )  # fmt: skip
    matrix = cost_matrix(costs, classes, source)
    k = len(matrix)
    extra = matrix - np.diag(matrix)[:, None]  # a wrong label's cost beyond the right one's
    wrong = extra[~np.eye(k, dtype=bool)].reshape(k, k - 1)  # (above 0)
    alike = bool(np.all(np.ptp(wrong, axis=1) <= 1e-9 * wrong.max(axis=1)))
    weights = wrong.mean(axis=1) if alike else np.ones(k)
    tasks = frozenset({task}) if task is not None else CLASSIFICATION

    def fn(y: np.ndarray, p: np.ndarray) -> float:
        labels = _labels(least_cost(p, None if alike else matrix))
        return float(np.mean(matrix[np.asarray(y, dtype=int), labels]))

    return Metric(
        COST,
        "minimize",
        tasks,
        fn,
        "mean cost of the labels per row (the recipe's costs)",
        labels=True,
        factors=tuple(float(w) for w in weights / weights[0]),
        matrix=None if alike else tuple(tuple(float(c) for c in row) for row in matrix),
    )
