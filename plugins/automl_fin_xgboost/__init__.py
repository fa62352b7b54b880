"""automl_fin's built-in XGBoost plugin: gradient-boosted trees with early stopping.

Registered through the ``automl_fin`` entry-point group like any third-party plugin,
using only the public API. XGBoost itself is imported when a model is fitted, not when
the plugin is registered.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from automl_fin import BuildContext, Categorical, Float, Int, ModelSpec, Slot, Task, hookimpl

if TYPE_CHECKING:
    from automl_fin_xgboost.estimator import XGBoostModel

__all__ = ["SPEC", "XGBoostModel"]


def __getattr__(name: str) -> Any:
    """``XGBoostModel``, imported on first use: registering the plugin imports neither
    xgboost nor scikit-learn (``automl-fin recipes`` and ``leaderboard`` start faster)."""
    if name == "XGBoostModel":
        from automl_fin_xgboost.estimator import XGBoostModel

        return XGBoostModel
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _space(ctx: BuildContext) -> dict[str, Any]:
    space: dict[str, Any] = {
        "eta": Float(0.005, 0.3, log=True),
        "max_depth": Int(2, 10),
        "min_child_weight": Float(0.1, 30.0, log=True),
        "subsample": Float(0.5, 1.0),
        "colsample_bytree": Float(0.3, 1.0),
        "lambda": Float(1e-3, 30.0, log=True),
        "alpha": Float(1e-4, 10.0, log=True),
        "n_estimators": Int(50, 2000, log=True),
    }
    if ctx.task is Task.BINARY:
        space["scale_pos_weight"] = Float(1.0, 8.0, log=True)
    elif ctx.task is Task.MULTICLASS:  # rare classes (the "high" risk tier) weigh more
        space["class_weight"] = Categorical(["none", "balanced"])
    return space


def _build(params: Mapping[str, Any], ctx: BuildContext) -> XGBoostModel:
    from automl_fin_xgboost.estimator import XGBoostModel

    options = dict(ctx.options)
    return XGBoostModel(
        task=str(ctx.task),
        n_classes=ctx.n_classes,
        params={k: v for k, v in params.items() if k not in ("n_estimators", "class_weight")},
        class_weight=params.get("class_weight", "none"),
        n_estimators=int(params.get("n_estimators", 500)),
        early_stopping_rounds=int(options.pop("early_stopping_rounds", 50)),
        monotone_constraints=options.pop("monotone_constraints", None),
        device=options.pop("device", "auto"),
        seed=ctx.seed,
        n_jobs=ctx.n_jobs,
        extra=options,
    )


def _missing() -> str | None:
    """Why XGBoost cannot run here: the library is an optional extra."""
    from importlib.util import find_spec

    if find_spec("xgboost") is None:
        return "xgboost is not installed; run: pip install 'automl-fin[xgboost]'"
    return None


def _contributions(model: XGBoostModel, X: Any) -> Any:
    """TreeSHAP contributions (XGBoost's ``pred_contribs``) on the margin."""
    return model.contributions(X)


SPEC = ModelSpec(
    name="xgboost",
    tasks=frozenset(Task),
    build=_build,
    space=_space,
    monitored=True,
    column_options=("monotone_constraints",),
    options=("early_stopping_rounds", "device", "*"),  # the others: the library's parameters
    portfolio=(  # XGBoost's defaults, with a smaller step and early stopping on the fold
        {
            "eta": 0.05,
            "max_depth": 6,
            "min_child_weight": 1.0,
            "subsample": 0.8,
            "colsample_bytree": 0.8,
            "lambda": 1.0,
            "alpha": 1e-4,
            "n_estimators": 2000,
            "scale_pos_weight": 1.0,
            "class_weight": "none",
        },
    ),
    portfolio_steps={Slot.ENCODE: "ordinal"},  # codes, not a wide one-hot (benchmarks.md)
    cost=1.2,
    available=_missing,
    libraries=("xgboost",),
    explain=_contributions,
    description="XGBoost (hist), early stopping on the fold's validation split, pruned",
)


@hookimpl
def register_models(register: Callable[[ModelSpec], None]) -> None:
    register(SPEC)
