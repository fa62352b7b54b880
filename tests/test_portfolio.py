"""Model portfolios: each model's known-good configurations run before sampled trials,
cheapest first, once per study; a portfolio outside its own space is refused."""

from __future__ import annotations

from pathlib import Path

import optuna
import pytest

from automl_fin import Float, ModelSpec, PluginError, RecipeError, Task, hookimpl, search
from automl_fin.registry import Registry
from automl_fin.space import Categorical, Int, contains

FAST = {"calibration": ["none"], "validation.n_splits": 3, "validation.repeats": 1}


def _trials(result) -> list[optuna.trial.FrozenTrial]:  # type: ignore[no-untyped-def]
    """The study's trials in order, without the ensemble's row."""
    study = optuna.load_study(study_name=result.study_name, storage=result.storage)
    trials = sorted(study.get_trials(deepcopy=False), key=lambda t: t.number)
    return [t for t in trials if t.user_attrs.get("model") != "ensemble"]


def test_portfolios_run_first_cheapest_first_with_their_values(tmp_path: Path) -> None:
    result = search(
        "default",
        trials=4,
        seed=0,
        runs_dir=tmp_path,
        overrides={**FAST, "models": ["rf", "hgb", "logreg"]},
    )
    trials = _trials(result)
    assert trials[0].user_attrs["baseline"] == "prior"
    # logreg (cost 0.05) before hgb (1.0) before rf (2.0), whatever the recipe's order
    assert [t.user_attrs.get("portfolio") for t in trials[1:]] == ["logreg:0", "hgb:0", "rf:0"]
    assert trials[1].params["logreg.C"] == 1.0
    assert trials[2].params["hgb.learning_rate"] == 0.1
    assert trials[3].params["rf.n_estimators"] == 300
    assert all(t.state.name == "COMPLETE" for t in trials)
    # a resumed study does not run them again: the next trials are sampled
    again = search(
        "default",
        trials=6,
        seed=0,
        runs_dir=tmp_path,
        study=result.study_name,
        overrides={**FAST, "models": ["rf", "hgb", "logreg"]},
    )
    later = _trials(again)[4:]
    assert len(later) == 2
    assert not any("portfolio" in t.user_attrs for t in later)


def test_a_recipe_can_limit_or_turn_off_the_portfolio(tmp_path: Path) -> None:
    models = {**FAST, "models": ["hgb", "logreg"]}
    only = search("default", trials=3, seed=0, storage=":memory:", runs_dir=tmp_path,
                  overrides={**models, "portfolio": ["hgb"]})  # fmt: skip
    assert [t.user_attrs.get("portfolio") for t in _trials(only)][1:] == ["hgb:0", None]
    off = search("default", trials=3, seed=0, storage=":memory:", runs_dir=tmp_path,
                 overrides={**models, "portfolio": False})  # fmt: skip
    assert not any("portfolio" in t.user_attrs for t in _trials(off))


def test_an_unknown_model_in_the_recipe_portfolio_is_named(tmp_path: Path) -> None:
    with pytest.raises(RecipeError, match=r"portfolio\[1\].*unknown model 'hbg'"):
        search("default", trials=1, storage=":memory:", runs_dir=tmp_path,
               overrides={"portfolio": ["logreg", "hbg"]})  # fmt: skip


def test_a_portfolio_value_outside_its_space_names_plugin_model_and_parameter(
    tmp_path: Path,
) -> None:
    class Plugin:
        @hookimpl
        def register_models(self, register):  # type: ignore[no-untyped-def]
            register(
                ModelSpec(
                    name="odd", tasks={Task.BINARY}, build=lambda p, c: None,
                    space={"alpha": Float(0.0, 1.0)}, portfolio=[{"alpha": 2.0}],
                )
            )  # fmt: skip

    registry = Registry(plugins={"odd_plugin": Plugin()})
    with pytest.raises(PluginError, match=r"model 'odd' portfolio\[0\]: alpha=2.0 is outside"):
        search("default", trials=1, storage=":memory:", runs_dir=tmp_path, registry=registry,
               overrides={"models": ["odd", "logreg"]})  # fmt: skip


def test_contains() -> None:
    assert contains(Float(0.0, 1.0), 1.0) and not contains(Float(0.0, 1.0), 1.5)
    assert contains(Int(1, 5), 3) and not contains(Int(1, 5), 2.5)
    assert not contains(Float(0.0, 1.0), True) and not contains(Int(0, 3), "2")
    assert contains(Categorical([None, "balanced"]), None)
    assert not contains(Categorical([1, 2]), True)  # True == 1, but not a choice
    assert not contains(Categorical(["a"]), "b")
