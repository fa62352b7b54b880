"""Every installed spec passes ``automl_fin.testing.check_plugin``; broken ones do not."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.base import BaseEstimator
from sklearn.linear_model import LogisticRegression

from automl_fin import Float, ModelSpec, Task
from automl_fin.registry import Registry
from automl_fin.testing import PluginCheckError, check_plugin

REGISTRY = Registry()
SPECS = {**REGISTRY.models, **REGISTRY.preprocessors}


@pytest.mark.parametrize("name", sorted(SPECS))
def test_builtin_spec_honours_the_contract(name: str) -> None:
    check_plugin(SPECS[name])


class _Model(BaseEstimator):
    """A logistic regression that can be made to break one rule at a time."""

    def __init__(self, flaw: str = "none", seed: int = 0) -> None:
        self.flaw, self.seed = flaw, seed

    def fit(self, X, y, monitor=None):
        self.inner_ = LogisticRegression(max_iter=500).fit(X, y)
        if self.flaw == "random":
            self.noise_ = np.random.default_rng().uniform(0, 0.2)
        if monitor is not None and monitor.has_validation and self.flaw != "silent":
            for step in (0, 1, 2, 3):
                value = monitor.score(self.inner_.predict_proba(monitor.X_valid))
                try:
                    monitor.report(step, value)
                except Exception:
                    if self.flaw != "swallow":
                        raise
        return self

    def predict(self, X):
        return self.inner_.predict(X)

    def predict_proba(self, X):
        p = self.inner_.predict_proba(X)
        if self.flaw == "random":
            p = np.column_stack([p[:, 0] - self.noise_, p[:, 1] + self.noise_])
        if self.flaw == "unnormalised":
            p = p * 1.5
        if self.flaw == "wide":
            p = np.column_stack([p, p])
        return p


def _spec(flaw: str, monitored: bool = False) -> ModelSpec:
    return ModelSpec(
        name="flawed",
        tasks={Task.BINARY},
        build=lambda p, ctx: _Model(flaw, ctx.seed),
        space={"unused": Float(0.1, 1.0)},
        requires={"scale"},
        monitored=monitored,
    )


@pytest.mark.parametrize(
    ("flaw", "monitored", "message"),
    [
        ("none", False, None),
        ("none", True, None),
        ("random", False, "not deterministic"),
        ("unnormalised", False, "sum to 1"),
        ("wide", False, r"shape \(60, 4\), expected \(60, 2\)"),
        ("silent", True, "reported no learning curve"),
        ("swallow", True, "swallowed the Pruned"),
    ],
)
def test_check_plugin_catches_each_broken_rule(flaw: str, monitored: bool, message) -> None:
    spec = _spec(flaw, monitored)
    if message is None:
        check_plugin(spec, preprocessors=REGISTRY.preprocessors)
        return
    with pytest.raises(PluginCheckError, match=rf"^flawed \(binary\): .*{message}"):
        check_plugin(spec, preprocessors=REGISTRY.preprocessors)
