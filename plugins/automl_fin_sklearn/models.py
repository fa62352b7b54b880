"""scikit-learn models: linear (logistic; SGD and SVM for text), random forest, extra
trees, histogram gradient boosting, and the baselines (random walk, historical mean, class prior).

Spaces are those a practitioner tunes by hand: regularisation and learning rates on a
log scale, tree sizes on a log scale, class weights for imbalanced classification.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from automl_fin import BuildContext, Categorical, ColumnKind, Float, Int, ModelSpec, Slot, Task

CLASSIFICATION = frozenset({Task.BINARY, Task.MULTICLASS})
ALL_TASKS = frozenset(Task)


def _class_weight(ctx: BuildContext, *choices: str | None) -> dict[str, Categorical]:
    return {"class_weight": Categorical(choices)} if ctx.task.is_classification else {}


# -- linear ---------------------------------------------------------------------------


def _logreg_space(ctx: BuildContext) -> dict[str, Any]:
    return {"C": Float(1e-4, 1e2, log=True), **_class_weight(ctx, None, "balanced")}


def _build_logreg(p: Mapping[str, Any], ctx: BuildContext) -> Any:
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(
        C=p["C"], class_weight=p["class_weight"], max_iter=2000, random_state=ctx.seed
    )


def _sgd_space(ctx: BuildContext) -> dict[str, Any]:
    return {
        "alpha": Float(1e-6, 1e-2, log=True),
        "loss": Categorical(["log_loss", "modified_huber"]),
        "penalty": Categorical(["l2", "elasticnet"]),
        **_class_weight(ctx, None, "balanced"),
    }


def _build_sgd(p: Mapping[str, Any], ctx: BuildContext) -> Any:
    from sklearn.linear_model import SGDClassifier

    return SGDClassifier(
        loss=p["loss"], alpha=p["alpha"], penalty=p["penalty"], class_weight=p["class_weight"],
        max_iter=50, tol=1e-4, random_state=ctx.seed,
    )  # fmt: skip


def _svm_space(ctx: BuildContext) -> dict[str, Any]:
    return {"C": Float(1e-3, 10.0, log=True), **_class_weight(ctx, None, "balanced")}


def _build_linear_svm(p: Mapping[str, Any], ctx: BuildContext) -> Any:
    """A linear SVM with Platt-scaled probabilities (up to three internal folds of the
    training rows, never the validation fold: :mod:`.calibrated_svm`)."""
    from automl_fin_sklearn.calibrated_svm import CalibratedLinearSVC

    return CalibratedLinearSVC(C=p["C"], class_weight=p["class_weight"], random_state=ctx.seed)


def _build_ridge(p: Mapping[str, Any], ctx: BuildContext) -> Any:
    from sklearn.linear_model import Ridge

    return Ridge(alpha=p["alpha"])


def _build_elastic_net(p: Mapping[str, Any], ctx: BuildContext) -> Any:
    from sklearn.linear_model import ElasticNet

    return ElasticNet(
        alpha=p["alpha"], l1_ratio=p["l1_ratio"], max_iter=5000, random_state=ctx.seed
    )


# -- trees ----------------------------------------------------------------------------


def _forest_space(ctx: BuildContext) -> dict[str, Any]:
    return {
        "n_estimators": Int(100, 600, log=True),
        "max_depth": Int(3, 32, log=True),
        "min_samples_leaf": Int(1, 32, log=True),
        "max_features": Float(0.1, 1.0),
        **_class_weight(ctx, None, "balanced", "balanced_subsample"),
    }


def _forest(kind: str) -> Any:
    def build(p: Mapping[str, Any], ctx: BuildContext) -> Any:
        from automl_fin_sklearn.forests import FORESTS  # grown in batches, the budget checked

        classification = ctx.task.is_classification
        cls = FORESTS[kind, classification]
        extra = {"class_weight": p["class_weight"]} if classification else {}
        return cls(
            n_estimators=p["n_estimators"],
            max_depth=p["max_depth"],
            min_samples_leaf=p["min_samples_leaf"],
            max_features=p["max_features"],
            n_jobs=ctx.n_jobs,
            random_state=ctx.seed,
            **extra,
        )

    return build


def _hgb_space(ctx: BuildContext) -> dict[str, Any]:
    return {
        "learning_rate": Float(0.01, 0.3, log=True),
        "max_iter": Int(50, 500, log=True),
        "max_leaf_nodes": Int(4, 64, log=True),
        "min_samples_leaf": Int(2, 128, log=True),
        "l2_regularization": Float(1e-8, 10.0, log=True),
        "max_features": Float(0.3, 1.0),
        **_class_weight(ctx, None, "balanced"),
    }


def _build_hgb(p: Mapping[str, Any], ctx: BuildContext) -> Any:
    from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor

    common = {
        k: p[k]
        for k in (
            "learning_rate",
            "max_iter",
            "max_leaf_nodes",
            "min_samples_leaf",
            "l2_regularization",
            "max_features",
        )
    }
    if ctx.task.is_classification:
        return HistGradientBoostingClassifier(
            **common, class_weight=p["class_weight"], random_state=ctx.seed
        )
    return HistGradientBoostingRegressor(**common, random_state=ctx.seed)


# -- ordinal ------------------------------------------------------------------------


def _ordinal(build_base: Any) -> Any:
    def build(p: Mapping[str, Any], ctx: BuildContext) -> Any:
        from automl_fin_sklearn.ordinal import OrdinalClassifier

        return OrdinalClassifier(build_base(p, ctx))

    return build


def _binary(ctx: BuildContext) -> BuildContext:
    from dataclasses import replace

    return replace(ctx, task=Task.BINARY, n_classes=2)


# -- baselines ------------------------------------------------------------------------


def _build_dummy(strategy: str, constant: float | None = None) -> Any:
    def build(p: Mapping[str, Any], ctx: BuildContext) -> Any:
        from sklearn.dummy import DummyClassifier, DummyRegressor

        if ctx.task.is_classification:
            return DummyClassifier(strategy=strategy)
        return DummyRegressor(strategy=strategy, constant=constant)

    return build


def _build_last(p: Mapping[str, Any], ctx: BuildContext) -> Any:
    from automl_fin_sklearn.last_value import LastValue

    return LastValue()


# Known-good starting points (scikit-learn's own defaults, or close to them), tried first
# (balanced class weights as well: they lift macro-F1 and recall of rare classes)
SGD_START = {"alpha": 1e-4, "loss": "modified_huber", "penalty": "l2", "class_weight": None}
LOGREG_START = ({"C": 1.0, "class_weight": None}, {"C": 1.0, "class_weight": "balanced"})
HGB_START = (
    {"learning_rate": 0.1, "max_iter": 100, "max_leaf_nodes": 31, "min_samples_leaf": 20,
     "l2_regularization": 1e-8, "max_features": 1.0, "class_weight": None},
)  # fmt: skip
CODES = {Slot.ENCODE: "ordinal"}  # trees' portfolio trials split on category codes
FOREST_START = (
    {"n_estimators": 300, "max_depth": 32, "min_samples_leaf": 1, "max_features": 0.5,
     "class_weight": None},
)  # fmt: skip

BASELINES = [
    ModelSpec(
        name="random_walk",
        options=(),
        tasks=frozenset({Task.REGRESSION}),
        build=_build_dummy("constant", 0.0),
        baseline=True,
        description="baseline: no change (a zero return; the last price)",
    ),
    ModelSpec(
        name="last_value",
        options=(),
        tasks=frozenset({Task.REGRESSION}),
        build=_build_last,
        baseline=True,
        description="baseline: the last training row's target, the rows in time order",
    ),
    ModelSpec(
        name="historical_mean",
        options=(),
        tasks=frozenset({Task.REGRESSION}),
        build=_build_dummy("mean"),
        baseline=True,
        description="baseline: the training rows' mean target",
    ),
    ModelSpec(
        name="prior",
        options=(),
        tasks=CLASSIFICATION,
        build=_build_dummy("prior"),
        baseline=True,
        description="baseline: the class shares of the training rows (majority label)",
    ),
]

ORDINAL = [
    ModelSpec(
        name="ordinal_hgb",
        options=(),
        tasks=frozenset({Task.MULTICLASS}),
        build=_ordinal(lambda p, ctx: _build_hgb(p, _binary(ctx))),
        space=lambda ctx: _hgb_space(_binary(ctx)),
        accepts_sparse=False,
        ordinal=True,
        portfolio=HGB_START,
        portfolio_steps=CODES,
        cost=2.0,
        prior_shift=False,  # each binary model is weighed on its own cut of the classes
        description="ordered classes: cumulative binary histogram gradient boosting",
    ),
    ModelSpec(
        name="ordinal_logreg",
        options=(),
        tasks=frozenset({Task.MULTICLASS}),
        build=_ordinal(lambda p, ctx: _build_logreg(p, _binary(ctx))),
        space=_logreg_space,
        requires=frozenset({Slot.SCALE}),
        ordinal=True,
        portfolio=LOGREG_START,
        cost=0.1,
        prior_shift=False,  # each binary model is weighed on its own cut of the classes
        description="ordered classes: cumulative binary logistic regressions",
    ),
]

MODELS = [
    *BASELINES,
    *ORDINAL,
    ModelSpec(
        name="logreg",
        options=(),
        tasks=CLASSIFICATION,
        build=_build_logreg,
        space=_logreg_space,
        requires=frozenset({Slot.SCALE}),
        portfolio=LOGREG_START,
        cost=0.05,
        description="L2-regularised logistic regression",
    ),
    # FLAML's winner on short text at small budgets (SGD on TF-IDF) and the classic
    # linear SVM: offered by `models: all` only where the data has a text column
    ModelSpec(
        name="sgd",
        options=(),
        tasks=CLASSIFICATION,
        build=_build_sgd,
        space=_sgd_space,
        requires=frozenset({Slot.SCALE}),
        portfolio=(SGD_START,),
        cost=0.03,
        only_with=frozenset({ColumnKind.TEXT}),
        description="linear model by stochastic gradient descent (log or modified Huber loss)",
    ),
    ModelSpec(
        name="linear_svm",
        options=(),
        tasks=CLASSIFICATION,
        build=_build_linear_svm,
        space=_svm_space,
        requires=frozenset({Slot.SCALE}),
        portfolio=({"C": 0.5, "class_weight": None},),
        cost=0.05,
        only_with=frozenset({ColumnKind.TEXT}),
        prior_shift=False,  # Platt scaling on unweighted rows maps back already
        description="linear SVM, Platt-scaled probabilities",
    ),
    ModelSpec(
        name="ridge",
        options=(),
        tasks=frozenset({Task.REGRESSION}),
        build=_build_ridge,
        space={"alpha": Float(1e-3, 1e3, log=True)},
        requires=frozenset({Slot.SCALE}),
        portfolio=({"alpha": 1.0},),
        cost=0.02,
        description="ridge regression",
    ),
    ModelSpec(
        name="elastic_net",
        options=(),
        tasks=frozenset({Task.REGRESSION}),
        build=_build_elastic_net,
        space={"alpha": Float(1e-5, 10.0, log=True), "l1_ratio": Float(0.05, 1.0)},
        requires=frozenset({Slot.SCALE}),
        portfolio=({"alpha": 1e-3, "l1_ratio": 0.5},),
        cost=0.05,
        description="elastic-net regression (L1 + L2)",
    ),
    ModelSpec(
        name="rf",
        options=(),
        tasks=ALL_TASKS,
        build=_forest("RandomForest"),
        space=_forest_space,
        portfolio=FOREST_START,
        portfolio_steps=CODES,
        cost=2.0,
        description="random forest",
    ),
    ModelSpec(
        name="extra_trees",
        options=(),
        tasks=ALL_TASKS,
        build=_forest("ExtraTrees"),
        space=_forest_space,
        portfolio=FOREST_START,
        portfolio_steps=CODES,
        cost=1.5,
        description="extremely randomised trees",
    ),
    ModelSpec(
        name="hgb",
        options=(),
        tasks=ALL_TASKS,
        build=_build_hgb,
        space=_hgb_space,
        accepts_sparse=False,  # TF-IDF output would have to be densified
        portfolio=HGB_START,
        portfolio_steps=CODES,
        cost=1.0,
        description="histogram gradient boosting",
    ),
]
