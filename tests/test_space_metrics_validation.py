"""Space value types through a real Optuna trial, metrics, and splitters."""

from __future__ import annotations

import warnings

import numpy as np
import optuna
import pytest
from sklearn.metrics import roc_auc_score

from automl_fin import Categorical, DataError, Float, Int, ModelSpec, RecipeError, Task
from automl_fin.data._metrics import METRICS, expand_each, get_metric
from automl_fin.data._validation import make_splits
from automl_fin.plugin._space import split_params, suggest


def test_suggest_namespaces_parameters_and_returns_short_names() -> None:
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    trial = study.ask()
    space = {"C": Float(1e-3, 1e2, log=True), "depth": Int(2, 8), "w": Categorical([None, "b"])}
    values = suggest(trial, "logreg", space)
    assert set(values) == {"C", "depth", "w"}
    assert set(trial.params) == {"logreg.C", "logreg.depth", "logreg.w"}
    dist = trial.distributions["logreg.C"]
    assert isinstance(dist, optuna.distributions.FloatDistribution) and dist.log
    assert 1e-3 <= values["C"] <= 1e2 and 2 <= values["depth"] <= 8
    assert split_params("logreg", trial.params) == values


def test_space_types_reject_nonsense() -> None:
    with pytest.raises(ValueError, match="log scale needs low > 0"):
        Float(0.0, 1.0, log=True)
    with pytest.raises(ValueError, match="above high"):
        Int(5, 1)
    with pytest.raises(ValueError, match="at least one choice"):
        Categorical([])
    # found by a plugin author: accepted at definition, then raw Optuna errors without the
    # parameter's name (three failed trials), or silently another space ("abc": a, b, c)
    for make, said in (
        (lambda: Float(1e-3, 1.0, log=True, step=0.1), "a log scale has no step"),
        (lambda: Int(3, 50, log=True, step=2), "a log scale has no step"),
        (lambda: Int(1, 10, step=0), "step must be at least 1"),
        (lambda: Float(0.5, float("inf")), "must be finite numbers, got inf"),
        (lambda: Int(1.5, 3), "low must be a whole number, got 1.5"),  # type: ignore[arg-type]
        (lambda: Categorical([[1, 2], [3]]), "choices must be None, bool, int"),  # type: ignore[list-item]
        (lambda: Categorical(["a", "a"]), "'a' is a choice twice"),
        (lambda: Categorical("abc"), "choices must be a list, got the text 'abc'"),
    ):
        with pytest.raises(ValueError, match=said):
            make()
    assert Categorical([1, True, 1.0]).choices == (1, True, 1.0)  # three types, three choices
    assert Int(2, np.int64(5)).high == 5 and Float(np.float64(0.1), 1.0).low == 0.1  # numpy's
    with pytest.raises(ValueError, match="must start with an ASCII letter and contain only"):
        ModelSpec(name="knn²", tasks={Task.BINARY}, build=lambda p, c: None)
    study = optuna.create_study()
    with pytest.raises(TypeError, match=r"'m\.x'.*is not a Float, Int or Categorical"):
        suggest(study.ask(), "m", {"x": (1, 2)})  # type: ignore[dict-item]


def test_binary_metrics_agree_with_their_definitions() -> None:
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 500)
    p1 = np.clip(y * 0.3 + rng.random(500) * 0.7, 0, 1)
    p = np.column_stack([1 - p1, p1])
    auc = roc_auc_score(y, p1)
    assert METRICS["roc_auc"](y, p) == pytest.approx(auc)
    assert METRICS["gini"](y, p) == pytest.approx(2 * auc - 1)
    order = np.argsort(-p1)
    cum_bad = np.cumsum(y[order]) / y.sum()
    cum_good = np.cumsum(1 - y[order]) / (1 - y).sum()
    assert METRICS["ks"](y, p) == pytest.approx(np.max(np.abs(cum_bad - cum_good)))
    assert METRICS["brier"](y, p) == pytest.approx(np.mean((p1 - y) ** 2))
    assert METRICS["log_loss"].direction == "minimize"


def test_metric_must_fit_the_task() -> None:
    with pytest.raises(Exception, match="metric 'rmse' does not apply to task 'binary'"):
        get_metric("rmse", Task.BINARY, source="r.yaml")
    with pytest.raises(Exception, match="unknown metric 'auc'"):
        get_metric("auc", Task.BINARY, source="r.yaml")


def test_stratified_splits_partition_and_keep_class_shares() -> None:
    y = np.array([0] * 70 + [1] * 30)
    splits = make_splits("stratified_kfold", y, n_splits=5, seed=1)
    seen = np.concatenate([va for _, va in splits])
    assert sorted(seen) == list(range(100))
    assert all(y[va].sum() == 6 for _, va in splits)
    assert [list(va) for _, va in splits] == [
        list(va) for _, va in make_splits("stratified_kfold", y, n_splits=5, seed=1)
    ]
    repeated = make_splits("stratified_kfold", y, n_splits=5, repeats=2, seed=1)
    assert len(repeated) == 10


def test_walk_forward_trains_only_on_the_past_with_a_purge_and_embargo() -> None:
    y = np.arange(120, dtype=float)
    for tr, va in make_splits("walk_forward", y, n_splits=4, horizon=2, embargo=3):
        assert tr.max() + 1 + 3 < va.min()


def test_too_few_rows_or_a_tiny_class_is_refused() -> None:
    with pytest.raises(DataError, match="too few for 5-fold"):
        make_splits("kfold", np.arange(6), n_splits=5)
    with pytest.raises(DataError, match="smallest class has 2 rows, fewer than the 5 folds"):
        make_splits("stratified_kfold", np.array([0] * 20 + [1] * 2), n_splits=5)
    # named, with what can be done: no fewer folds than 2 exist (it said "lower n_splits")
    y = np.array([0] * 20 + [1] + [2] * 3)
    with pytest.raises(DataError, match=r"^class 'ipad' has 1 row, fewer than the 2 folds; "
                       r"drop or merge its rows \(or add more\)$"):  # fmt: skip
        make_splits("stratified_kfold", y, n_splits=2, labels=["low", "ipad", "high"])
    with pytest.raises(DataError, match=r"^classes 'ipad', 'high' have fewer rows than the 5 "
                       r"folds \(the smallest 1\); drop or merge their rows"):  # fmt: skip
        make_splits("stratified_kfold", y, n_splits=5, labels=["low", "ipad", "high"])
    # a holdout of nearly every row: every trial failed in fit ("needs samples of at least
    # 2 classes"), or scikit-learn's splitter raised
    two = np.array([0] * 700 + [1] * 300)
    cases = ((0.999, True, "1 training row of 1000, too few for every class"),
             (0.9995, False, "0 training rows of 1000"))  # fmt: skip
    for given, stratify, said in cases:
        with pytest.raises(DataError, match=rf"^validation.test_size {given} leaves {said}; "
                           r"lower validation.test_size \(e.g. 0.2\)$"):  # fmt: skip
            make_splits("holdout", two, test_size=given, stratify=stratify)
    assert len(make_splits("holdout", two, test_size=0.2)[0][0]) == 800


def test_per_class_metrics_score_one_named_class() -> None:
    from sklearn.metrics import f1_score, recall_score

    y = np.array([0, 0, 1, 2, 2, 2, 1, 0])
    proba = np.eye(3)[[0, 1, 1, 2, 0, 2, 1, 0]]
    classes = ["low", "medium", "high"]
    high = get_metric("recall:high", Task.MULTICLASS, classes=classes)
    assert high(y, proba) == pytest.approx(recall_score(y, proba.argmax(1), average=None)[2])
    assert high.direction == "maximize"
    f1_low = get_metric("f1:low", Task.MULTICLASS, classes=classes)
    assert f1_low(y, proba) == pytest.approx(f1_score(y, proba.argmax(1), average=None)[0])
    with pytest.raises(RecipeError, match=r"a class among \['low', 'medium', 'high'\], or by each"):
        get_metric("recall:severe", Task.MULTICLASS, classes=classes)
    with pytest.raises(RecipeError, match="does not apply to task 'regression'"):
        get_metric("recall:high", Task.REGRESSION, classes=classes)


def test_per_class_metrics_without_a_label_pick_the_class_from_the_data() -> None:
    """A recipe names no label of its data: minority/majority by row counts, positive
    for a binary task, each for one metric per class; a real label wins over a word."""
    from sklearn.metrics import f1_score, recall_score

    y = np.array([0, 0, 1, 2, 2, 2, 1, 0, 2])
    proba = np.eye(3)[[0, 1, 1, 2, 0, 2, 1, 0, 1]]
    classes, counts = ["low", "medium", "high"], [3, 2, 4]
    recall = recall_score(y, proba.argmax(1), average=None)
    minority = get_metric("recall:minority", Task.MULTICLASS, classes=classes, counts=counts)
    assert minority(y, proba) == pytest.approx(recall[1])
    assert minority.name == "recall:minority" and "medium" in minority.description
    majority = get_metric("recall:majority", Task.MULTICLASS, classes=classes, counts=counts)
    assert majority(y, proba) == pytest.approx(recall[2])
    assert [name for _, name in expand_each(["accuracy", "f1:each"], classes)] == [
        "accuracy", "f1:low", "f1:medium", "f1:high"
    ]  # fmt: skip
    assert expand_each(["f1:each"], ["each", "other"]) == [(0, "f1:each")]  # a real label
    binary = get_metric("f1:positive", Task.BINARY, classes=["good", "bad"])
    yb, pb = np.array([0, 1, 1, 0]), np.eye(2)[[0, 1, 0, 1]]
    assert binary(yb, pb) == pytest.approx(f1_score(yb, pb.argmax(1)))
    with pytest.raises(RecipeError, match="field 'metric': 'f1:each' names one metric per class"):
        get_metric("f1:each", Task.MULTICLASS, classes=classes)
    with pytest.raises(RecipeError, match="not a per-class metric"):  # 3 classes: no positive
        get_metric("f1:positive", Task.MULTICLASS, classes=classes, counts=counts)


def test_fast_roc_auc_equals_scikit_learns_with_ties_and_several_classes() -> None:
    rng = np.random.default_rng(1)
    for k in (2, 3, 5):
        auc = get_metric("roc_auc", Task.BINARY if k == 2 else Task.MULTICLASS)
        for rounded in (False, True):
            y = np.concatenate([np.arange(k), rng.integers(0, k, 300)])
            p = rng.dirichlet(np.ones(k), len(y))
            if rounded:  # many tied scores
                p = np.round(p, 1) + 1e-9
                p /= p.sum(axis=1, keepdims=True)
            expected = (
                roc_auc_score(y, p[:, 1])
                if k == 2
                else roc_auc_score(y, p, multi_class="ovr", average="macro", labels=range(k))
            )
            assert auc(y, p) == pytest.approx(expected, abs=1e-12)


def test_numpy_metrics_equal_scikit_learns_with_ties_and_missing_classes() -> None:
    from sklearn import metrics as skm

    rng = np.random.default_rng(2)
    reference = {
        "accuracy": lambda y, p: skm.accuracy_score(y, p.argmax(1)),
        "balanced_accuracy": lambda y, p: skm.balanced_accuracy_score(y, p.argmax(1)),
        "macro_f1": lambda y, p: skm.f1_score(y, p.argmax(1), average="macro"),
        "qwk": lambda y, p: skm.cohen_kappa_score(y, p.argmax(1), weights="quadratic"),
        "log_loss": lambda y, p: skm.log_loss(y, p, labels=range(p.shape[1])),
        "ks": lambda y, p: max(np.subtract(*skm.roc_curve(y, p[:, 1])[1::-1])),
    }
    cases = 0
    for k in (2, 3, 4):
        for variant in ("plain", "ties", "class never true", "confident"):
            y = rng.integers(0, k, 200)
            p = rng.dirichlet(np.ones(k), len(y))
            if variant == "ties":
                p = np.round(p, 1) + 1e-9
            elif variant == "class never true" and k > 2:  # predicted, never the truth
                y[y == k - 1] = 0
                if k == 4:  # and one neither true nor predicted: not counted as 0
                    y[y == 1] = 0
                    p[:, 1] = 0.0
            elif variant == "confident":  # probabilities of 0 and 1: log loss clips
                p = np.eye(k)[rng.integers(0, k, len(y))]
            p = p / p.sum(axis=1, keepdims=True)
            for name, expected in reference.items():
                metric = METRICS[name]
                if name == "ks" and k != 2:
                    continue
                with np.errstate(all="ignore"), warnings.catch_warnings():
                    warnings.simplefilter("ignore")  # the reference's, on a missing class
                    assert metric(y, p) == pytest.approx(expected(y, p), abs=1e-9), (
                        k,
                        variant,
                        name,
                    )
                cases += 1
    assert cases == 4 * (5 * 3 + 1)
