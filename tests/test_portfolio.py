"""Model portfolios: each model's known-good configurations run before sampled trials,
cheapest first, within the trial budget, once per study; an entry outside its own space
is left out with a warning (and fails the plugin's contract check)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import optuna
import pytest
from sklearn.linear_model import LogisticRegression

from automl_fin import Float, ModelSpec, RecipeError, Task, hookimpl, search
from automl_fin.plugin._registry import PluginWarning, Registry
from automl_fin.plugin._space import Categorical, Int, contains
from automl_fin.testing import PluginCheckError, check_plugin

FAST = {"calibration": ["none"], "validation.n_splits": 3, "validation.repeats": 1,
        "report": False}  # fmt: skip


def _trials(result) -> list[optuna.trial.FrozenTrial]:  # type: ignore[no-untyped-def]
    """The study's trials in order, without the ensemble's row."""
    study = optuna.load_study(study_name=result.study_name, storage=result.storage)
    trials = sorted(study.get_trials(deepcopy=False), key=lambda t: t.number)
    return [t for t in trials if t.user_attrs.get("model") != "ensemble"]


def test_portfolios_run_first_cheapest_first_with_their_values(tmp_path: Path) -> None:
    result = search(
        "default",
        trials=5,
        seed=0,
        runs_dir=tmp_path,
        overrides={**FAST, "models": ["rf", "hgb", "logreg"]},
    )
    trials = _trials(result)
    assert trials[0].user_attrs["baseline"] == "prior"
    # logreg (cost 0.05) before hgb (1.0) before rf (2.0), whatever the recipe's order
    order = ["logreg:0", "logreg:1", "hgb:0", "rf:0"]
    assert [t.user_attrs.get("portfolio") for t in trials[1:]] == order
    assert trials[1].params["logreg.C"] == 1.0 and trials[1].params["logreg.class_weight"] is None
    assert trials[2].params["logreg.class_weight"] == "balanced"
    assert trials[3].params["hgb.learning_rate"] == 0.1
    assert trials[4].params["rf.n_estimators"] == 300
    # plain preprocessing: no optional step; one-hot, or the trees' own integer codes
    assert trials[1].params["prep.categorical.encode"] == "onehot"
    assert trials[4].params["prep.categorical.encode"] == "ordinal"
    assert trials[4].params["prep.numeric.scale"] == "none"
    assert all(t.state.name == "COMPLETE" for t in trials)
    # a resumed study does not run them again: the next trials are sampled
    again = search(
        "default",
        trials=7,
        seed=0,
        runs_dir=tmp_path,
        study=result.study_name,
        overrides={**FAST, "models": ["rf", "hgb", "logreg"]},
    )
    later = _trials(again)[5:]
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


def test_a_portfolio_value_outside_its_space_is_left_out_with_a_warning(tmp_path: Path) -> None:
    odd = ModelSpec(
        name="odd", tasks={Task.BINARY}, build=lambda p, c: LogisticRegression(C=p["C"]),
        space={"C": Float(0.1, 1.0)},
        portfolio=[{"C": 2.0}, {"C": np.float32(0.5)}, {"c": 0.3}],
    )  # fmt: skip

    class Plugin:
        @hookimpl
        def register_models(self, register):  # type: ignore[no-untyped-def]
            register(odd)

    registry = Registry(plugins={"odd_plugin": Plugin()})
    # and a misspelt name (a prober's n_neigbors): its entry was sampled instead, unsaid
    with (
        pytest.warns(PluginWarning, match=r"model 'odd' portfolio\[0\]: C=2.0 is outside"),
        pytest.warns(PluginWarning, match=r"model 'odd' portfolio\[2\]: 'c' not in its space "
                     r"\(parameters: C\); entry left out"),
    ):  # fmt: skip
        result = search("default", trials=3, storage=":memory:", runs_dir=tmp_path,
                        registry=registry, overrides={**FAST, "models": ["odd"]})  # fmt: skip
    (entry,) = [t for t in _trials(result) if "portfolio" in t.user_attrs]
    assert entry.user_attrs["portfolio"] == "odd:1"
    assert entry.params["odd.C"] == 0.5 and type(entry.params["odd.C"]) is float
    # the plugin's own contract check refuses it outright
    with pytest.raises(PluginCheckError, match=r"portfolio\[0\]: C=2.0 is outside"):
        check_plugin(odd)


def test_portfolios_stay_within_the_trial_budget_and_are_not_calibrated(
    tmp_path: Path,
) -> None:
    calibrated = {k: v for k, v in FAST.items() if k != "calibration"}  # the recipe's 3
    models = ["logreg", "hgb", "rf", "xgboost"]
    result = search("default", trials=3, seed=0, storage=":memory:", runs_dir=tmp_path,
                    overrides={**calibrated, "models": models})  # fmt: skip
    trials = _trials(result)
    assert [t.user_attrs.get("portfolio") for t in trials] == [None, "logreg:0", "logreg:1"]
    assert {t.params["calibration"] for t in trials[1:]} == {"none"}


def test_enqueue_filling_the_trial_budget_leaves_the_cheapest_portfolio_entry_first(
    tmp_path: Path,
) -> None:
    """Queued entries (an expensive model) never leave a run without a cheap model: the
    cheapest portfolio entry runs first, the queued ones after it as the budget allows."""
    queued = [{"model": "rf", "rf.n_estimators": 100}, {"model": "hgb"}]
    recipe = {**FAST, "models": ["rf", "hgb", "logreg"], "enqueue": queued}
    result = search("default", trials=3, seed=0, runs_dir=tmp_path, overrides=recipe)
    trials = _trials(result)
    assert [(t.user_attrs.get("portfolio"), t.user_attrs.get("enqueued")) for t in trials] == [
        (None, None),
        ("logreg:0", None),
        (None, 0),
    ]
    assert trials[2].params["rf.n_estimators"] == 100
    # the entry the budget left out runs when the study resumes with more
    again = search("default", trials=4, seed=0, runs_dir=tmp_path, study=result.study_name,
                   overrides=recipe)  # fmt: skip
    assert _trials(again)[3].user_attrs.get("enqueued") == 1


def test_a_cheap_queued_entry_runs_before_an_expensive_portfolio_entry(tmp_path: Path) -> None:
    """Queued entries take their place among the portfolio by declared cost: a queued
    logistic regression (0.05) before the random forest's portfolio entry (2.0), a
    queued random forest after it; a preprocessor whose work is cached counts as a
    column transform (the sentiment recipe's MiniLM vectors: 20 cold, nothing warm)."""
    from automl_fin.engine._search import _entry_cost

    queued = [{"model": "rf", "rf.n_estimators": 100}, {"model": "logreg", "logreg.C": 0.5}]
    recipe = {**FAST, "models": ["rf", "logreg"], "enqueue": queued}
    result = search("default", trials=6, seed=0, runs_dir=tmp_path, overrides=recipe)
    order = [t.user_attrs.get("portfolio") or t.user_attrs.get("enqueued") for t in _trials(result)]
    assert order == [None, "logreg:0", "logreg:1", 1, "rf:0", 0]

    problem = search("sentiment", trials=1, seed=0, storage=":memory:", runs_dir=tmp_path,
                     overrides={"models": ["logreg"], "preprocessors": ["tfidf"],
                                "report": False}).problem  # fmt: skip
    embed = {"model": "logreg", "prep.text.vectorize": "tfidf", "logreg.C": 10.0}
    assert _entry_cost(embed, problem, set()) == pytest.approx(0.05 + 0.05)  # tfidf: a column
    assert _entry_cost(embed, problem, {"tfidf"}) == pytest.approx(0.05)  # warm: nothing


def test_a_trial_budget_the_baselines_fill_queues_no_model(tmp_path: Path) -> None:
    from automl_fin import datasets

    prices = datasets.load("equities")
    prices = prices[(prices["ticker"] == prices["ticker"].iloc[0])].tail(400)
    result = search("price", data=prices, trials=1, seed=0, runs_dir=tmp_path,
                    overrides={"data.series.price": "close", "report": False,
                               "models": ["ridge", "hgb", "xgboost"]})  # fmt: skip
    study = optuna.load_study(study_name=result.study_name, storage=result.storage)
    kinds = [t.user_attrs.get("baseline") or t.user_attrs.get("portfolio") for t in study.trials]
    assert kinds == list(result.problem.baselines) == ["random_walk", "historical_mean"]
    assert not study.get_trials(states=(optuna.trial.TrialState.WAITING,))  # nothing queued


def test_an_enqueue_entry_naming_a_preprocessor_not_here_is_skipped(tmp_path: Path) -> None:
    """The sentiment recipe queues logistic regression on MiniLM vectors; where that
    encoder is not installed (here: left out), the entry is skipped, not sampled anew."""
    result = search("sentiment", trials=3, seed=0, storage=":memory:", runs_dir=tmp_path,
                    overrides={"models": ["logreg", "sgd"], "preprocessors": ["tfidf"],
                               "validation.n_splits": 3, "report": False})  # fmt: skip
    trials = _trials(result)
    assert not any("enqueued" in t.user_attrs for t in trials)
    assert [t.user_attrs.get("portfolio") for t in trials] == [None, "sgd:0", "logreg:0"]


def test_contains() -> None:
    assert contains(Float(0.0, 1.0), 1.0) and not contains(Float(0.0, 1.0), 1.5)
    assert contains(Int(1, 5), 3) and not contains(Int(1, 5), 2.5)
    assert not contains(Float(0.0, 1.0), True) and not contains(Int(0, 3), "2")
    assert contains(Categorical([None, "balanced"]), None)
    assert not contains(Categorical([1, 2]), True)  # True == 1, but not a choice
    assert not contains(Categorical(["a"]), "b")
    assert contains(Int(0, 10, step=2), 4) and not contains(Int(0, 10, step=2), 3)
    assert contains(Float(0.0, 1.0, step=0.25), 0.75) and not contains(
        Float(0.0, 1.0, step=0.25), 0.3
    )


def test_a_portfolio_may_depend_on_the_tables_size(tmp_path: Path) -> None:
    """A portfolio given as a function of the build context: LightGBM's many-leaved entry
    runs first from 100,000 rows (on 262,816 flights it beat the defaults 0.786 to 0.780
    held out, in half their time) and not below; a function that raises costs its model's
    entries, not the search; the contract check tries it at several sizes."""
    from automl_fin import datasets
    from automl_fin.engine._problem import resolve
    from automl_fin.engine._recipes import load_recipe
    from automl_fin.plugin._registry import get_registry

    credit = datasets.load("german_credit")

    def entries(frame):  # type: ignore[no-untyped-def]
        recipe = load_recipe("default", {"models": ["lightgbm"]})
        problem = resolve(recipe, frame, get_registry(), soft=frozenset())
        return [(key, params["lightgbm.num_leaves"]) for key, params in problem.portfolio()]

    assert entries(credit) == [("lightgbm:0", 31)]
    large = credit.sample(100_000, replace=True, random_state=0).reset_index(drop=True)
    assert entries(large) == [("lightgbm:0", 255), ("lightgbm:1", 31)]

    def sized(ctx):  # type: ignore[no-untyped-def]
        if ctx.n_rows > 100_000:
            return [{"C": 5.0}]  # outside the space: only a large table shows it
        return [{"C": 0.5}]

    odd = ModelSpec(name="odd", tasks={Task.BINARY}, build=lambda p, c: LogisticRegression(),
                    space={"C": Float(0.1, 1.0)}, portfolio=sized)  # fmt: skip
    with pytest.raises(PluginCheckError, match=r"portfolio\[0\] on 1000000 rows: C=5.0 is outside"):
        check_plugin(odd)

    def broken(ctx):  # type: ignore[no-untyped-def]
        raise KeyError("n_rowz")

    bad = ModelSpec(name="bad", tasks={Task.BINARY}, build=lambda p, c: LogisticRegression(),
                    space={"C": Float(0.1, 1.0)}, portfolio=broken)  # fmt: skip

    class Plugin:
        @hookimpl
        def register_models(self, register):  # type: ignore[no-untyped-def]
            register(bad)

    registry = Registry(plugins={"bad_plugin": Plugin()})
    with pytest.warns(PluginWarning, match=r"model 'bad' portfolio: 'n_rowz'; its entries left"):
        result = search("default", trials=3, storage=":memory:", runs_dir=tmp_path,
                        registry=registry, overrides={**FAST, "models": ["bad"]})  # fmt: skip
    done = [t for t in _trials(result) if t.state.name == "COMPLETE"]
    assert len(done) == 3 and not any("portfolio" in t.user_attrs for t in done)
    with pytest.raises(PluginCheckError, match=r"portfolio on \d+ rows: 'n_rowz'"):
        check_plugin(bad)
    with pytest.raises(ValueError, match="model 'bad': portfolio must be a list"):
        ModelSpec(name="bad", tasks={Task.BINARY}, build=lambda p, c: None, portfolio={"C": 1})


def test_trees_portfolio_trials_split_on_category_codes() -> None:
    """A model's ``portfolio_steps`` fix a slot of its portfolio trials where the search
    offers that preprocessor: the trees take integer codes (on 100,000 flights histogram
    boosting fitted in 0.3 s on them against 72 s on a 2,780-column one-hot, and scored
    higher; docs/benchmarks.md), the logistic regression and LightGBM keep the cheapest,
    one-hot; a search without the ordinal step falls back to the cheapest for the trees
    too."""
    from automl_fin import Slot, datasets
    from automl_fin.engine._problem import resolve
    from automl_fin.engine._recipes import load_recipe
    from automl_fin.plugin._registry import get_registry

    credit = datasets.load("german_credit")
    trees = ["rf", "extra_trees", "hgb", "xgboost"]

    def encoders(preprocessors: object = "all") -> dict[str, str]:
        recipe = load_recipe(
            "default", {"models": ["logreg", "lightgbm", *trees], "preprocessors": preprocessors}
        )
        problem = resolve(recipe, credit, get_registry(), soft=frozenset())
        return {
            key: next(v for k, v in params.items() if k.startswith("prep.categorical.encode"))
            for key, params in problem.portfolio()
        }

    chosen = encoders()
    assert chosen.pop("logreg:0") == chosen.pop("logreg:1") == "onehot"
    assert chosen.pop("lightgbm:0") == "onehot"  # bundles a sparse one-hot: no preference
    assert set(chosen) == {f"{t}:0" for t in trees} and set(chosen.values()) == {"ordinal"}
    steps = ["onehot", "target_encode", "median_impute", "standard_scale"]
    assert set(encoders(steps).values()) == {"onehot"}  # no codes offered: the cheapest
    with pytest.raises(ValueError, match=r"model 't': portfolio_steps maps a slot to one"):
        ModelSpec(name="t", tasks={Task.BINARY}, build=lambda p, c: LogisticRegression(),
                  portfolio_steps={"encode": {"ordinal"}})  # fmt: skip
    spec = ModelSpec(name="t", tasks={Task.BINARY}, build=lambda p, c: LogisticRegression(),
                     portfolio_steps={"encode": "ordinal"})  # fmt: skip
    assert spec.portfolio_steps == {Slot.ENCODE: "ordinal"}


def test_queued_trials_beyond_a_resumed_runs_budget_stay_queued(tmp_path: Path) -> None:
    """A killed run left 5 trials queued; resumed with --trials 2 it ran all of them
    (4 counted) and said "ended by the trial budget (2 trials)". Queued trials beyond
    the budget now wait for a run with more; the recipe's baselines still run."""
    url = f"sqlite:///{tmp_path / 'runs.db'}"
    fast = {"models": ["logreg"], "validation.n_splits": 2, "report": False, "ensemble": False,
            "stacking": False, "portfolio": False}  # fmt: skip
    first = search("default", trials=2, seed=0, storage=url, study="s", runs_dir=tmp_path,
                   overrides=fast)  # fmt: skip
    study = optuna.load_study(study_name="s", storage=url)
    assert len(study.trials) == 2  # the prior baseline and one logistic regression
    for c in (0.1, 1.0, 10.0):  # as a killed run leaves its queue
        study.enqueue_trial({"model": "logreg", "logreg.C": c})
    search("default", trials=3, seed=0, storage=url, study="s", runs_dir=tmp_path,
           overrides=fast)  # fmt: skip
    states = [t.state.name for t in optuna.load_study(study_name="s", storage=url).trials]
    assert states == ["COMPLETE"] * 3 + ["WAITING"] * 2, states
    assert first.study_name == "s"
