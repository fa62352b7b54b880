"""An example automl_fin plugin: weight-of-evidence bins and a logistic scorecard.

Everything a plugin needs comes from the public ``automl_fin`` API: ``hookimpl``, the
spec classes and the space types. The estimators are scikit-learn style classes;
scikit-learn is imported when one is built, not when the plugin is registered.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from automl_fin import BuildContext, Float, Int, ModelSpec, PreprocessorSpec, Slot, Task, hookimpl

__all__ = ["SCORECARD", "WOE_BINS"]


def _build_woe(params: Mapping[str, Any], ctx: BuildContext) -> Any:
    from automl_fin_scorecard.woe import WoEBinner

    return WoEBinner(n_bins=params["n_bins"])


def _build_scorecard(params: Mapping[str, Any], ctx: BuildContext) -> Any:
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(C=params["C"], max_iter=1000, random_state=ctx.seed)


WOE_BINS = PreprocessorSpec(
    name="woe_bins",
    kinds={"numeric"},
    slot=Slot.SCALE,  # takes the place of scaling in the numeric chain
    tasks={Task.BINARY},  # weight of evidence needs goods and bads
    build=_build_woe,
    space={"n_bins": Int(3, 12)},  # sampled as woe_bins.n_bins
    description="quantile bins of numeric columns, encoded as weight of evidence",
)

SCORECARD = ModelSpec(
    name="scorecard",
    tasks={Task.BINARY},
    build=_build_scorecard,
    space={"C": Float(1e-3, 10.0, log=True)},  # sampled as scorecard.C
    requires={Slot.SCALE},  # the numeric chain must not skip its scale step ...
    slot_choices={Slot.SCALE: {"woe_bins"}},  # ... and that step must be woe_bins
    portfolio=[{"C": 1.0}],  # tried first, before sampled trials ...
    cost=0.1,  # ... just after plain logistic regression (0.05)
    description="credit scorecard: logistic regression on weight-of-evidence bins",
)


@hookimpl
def register_models(register: Callable[[ModelSpec], None]) -> None:
    """Offer the scorecard model to every search whose task it supports."""
    register(SCORECARD)


@hookimpl
def register_preprocessors(register: Callable[[PreprocessorSpec], None]) -> None:
    """Offer weight-of-evidence binning for numeric columns."""
    register(WOE_BINS)
