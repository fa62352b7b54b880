"""automl_fin's built-in CatBoost plugin: ordered boosting with CatBoost's own handling
of categorical columns, early stopping, learning curves from CatBoost's own metrics.

Registered through the ``automl_fin`` entry-point group like any third-party plugin,
using only the public API. CatBoost is imported when a model is fitted, not when the
plugin is registered; without it (``pip install 'automl-fin[catboost]'``) the model is
left out of searches with one warning line.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from automl_fin import BuildContext, Categorical, Float, Int, ModelSpec, Slot, Task, hookimpl

if TYPE_CHECKING:
    from automl_fin_catboost.estimator import CatBoostModel

__all__ = ["SPEC", "CatBoostModel"]


def __getattr__(name: str) -> Any:
    """``CatBoostModel``, imported on first use: registering the plugin imports neither
    catboost nor scikit-learn (``automl-fin recipes`` and ``leaderboard`` start faster)."""
    if name == "CatBoostModel":
        from automl_fin_catboost.estimator import CatBoostModel

        return CatBoostModel
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _space(ctx: BuildContext) -> dict[str, Any]:
    space: dict[str, Any] = {
        "learning_rate": Float(0.01, 0.3, log=True),
        "depth": Int(3, 8),
        "l2_leaf_reg": Float(0.5, 30.0, log=True),
        "random_strength": Float(0.1, 10.0, log=True),
        "n_estimators": Int(100, 3000, log=True),
    }
    if ctx.task is not Task.REGRESSION:  # rare classes (defaults, the "high" tier) weigh more
        space["class_weight"] = Categorical(["none", "balanced"])
    return space


def _build(params: Mapping[str, Any], ctx: BuildContext) -> CatBoostModel:
    from automl_fin_catboost.estimator import CatBoostModel

    options = dict(ctx.options)
    return CatBoostModel(
        task=str(ctx.task),
        n_classes=ctx.n_classes,
        params={k: v for k, v in params.items() if k not in ("n_estimators", "class_weight")},
        class_weight=params.get("class_weight", "none"),
        n_estimators=int(params.get("n_estimators", 1000)),
        early_stopping_rounds=int(options.pop("early_stopping_rounds", 50)),
        monotone_constraints=options.pop("monotone_constraints", None),
        device=options.pop("device", "auto"),
        seed=ctx.seed,
        n_jobs=ctx.n_jobs,
        extra=options,
    )


def _missing() -> str | None:
    """Why CatBoost cannot run here: the library is an optional extra."""
    from importlib.util import find_spec

    if find_spec("catboost") is None:
        return "catboost is not installed; run: pip install 'automl-fin[catboost]'"
    return None


def _contributions(model: CatBoostModel, X: Any) -> Any:
    """SHAP contributions (CatBoost's ``ShapValues``) on the margin."""
    return model.contributions(X)


SPEC = ModelSpec(
    name="catboost",
    tasks=frozenset(Task),
    build=_build,
    space=_space,
    monitored=True,
    accepts_sparse=False,
    # category codes, encoded by CatBoost itself (ordered target statistics)
    slot_choices={Slot.ENCODE: frozenset({"ordinal"})},
    column_options=("monotone_constraints",),
    options=("early_stopping_rounds", "device", "*"),  # the others: the library's parameters
    portfolio=(  # CatBoost's defaults, early stopping on the fold
        {
            "learning_rate": 0.05,
            "depth": 6,
            "l2_leaf_reg": 3.0,
            "random_strength": 1.0,
            "n_estimators": 2000,
            "class_weight": "none",
        },
    ),
    cost=3.0,
    available=_missing,
    libraries=("catboost",),
    explain=_contributions,
    description="CatBoost, categorical columns encoded by CatBoost itself, early stopping",
)


@hookimpl
def register_models(register: Callable[[ModelSpec], None]) -> None:
    register(SPEC)
