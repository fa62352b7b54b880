"""Every installed spec passes ``automl_fin.testing.check_plugin``; broken ones do not."""

from __future__ import annotations

import contextlib
import dataclasses
import re
import sys
from typing import Any, ClassVar

import numpy as np
import pandas as pd
import pytest
from conftest import sp500_lags
from sklearn.base import BaseEstimator, ClassifierMixin, TransformerMixin
from sklearn.linear_model import LogisticRegression, Ridge

from automl_fin import (
    BudgetStop,
    ColumnKind,
    Float,
    InputKind,
    Int,
    ModelSpec,
    Monitor,
    PreprocessorSpec,
    Slot,
    Task,
    check_budget,
    datasets,
    hookimpl,
)
from automl_fin.plugin._registry import Registry
from automl_fin.testing import PluginCheckError, check_plugin

REGISTRY = Registry()
SPECS = {**REGISTRY.models, **REGISTRY.preprocessors}


def _lag_data() -> dict[Task, tuple]:
    """S&P 500 rows with their lags, for models reading windows: the next return, its
    direction (up = 1), and its tercile (down / flat / up)."""
    frame = sp500_lags(rows=400, lags=12)
    X, ret = frame.drop(columns=["date", "ret"]), frame["ret"].to_numpy()
    terciles = np.searchsorted(np.quantile(ret, [1 / 3, 2 / 3]), ret)
    return {
        Task.REGRESSION: (X, ret),
        Task.BINARY: (X, (ret > 0).astype(int)),
        Task.MULTICLASS: (X, terciles),
    }


def _short_text() -> dict[Task, tuple]:
    """120 PhraseBank sentences (positive = 1): a fine-tuned encoder's contract checked
    in seconds (the bundled sample's sentences are long lists of attributes)."""
    frame = datasets.load("financial_phrasebank").sample(120, random_state=0)
    X = frame[["text"]].reset_index(drop=True)
    return {Task.BINARY: (X, (frame["label"] == "positive").to_numpy().astype(int))}


@pytest.mark.parametrize("name", sorted(SPECS))
def test_installed_spec_honours_the_contract(name: str) -> None:
    spec = SPECS[name]
    reads_windows = isinstance(spec, ModelSpec) and InputKind.SEQUENCE in spec.inputs
    if isinstance(spec, ModelSpec) and spec.max_folds:  # minutes a fit: one task, one epoch
        check_plugin(spec, tasks=[Task.BINARY], data=_short_text(), options={"max_epochs": 1})
        return
    check_plugin(spec, data=_lag_data() if reads_windows else None)


class _Model(ClassifierMixin, BaseEstimator):
    """A logistic regression that can be made to break one rule at a time."""

    def __sklearn_tags__(self):  # type: ignore[no-untyped-def]
        tags = super().__sklearn_tags__()
        if self.flaw == "untagged":  # BaseEstimator alone: not a classifier to scikit-learn
            tags.estimator_type = None
        return tags

    def __init__(self, flaw: str = "none", seed: int = 0, options: dict | None = None) -> None:
        self.flaw, self.seed = flaw, seed
        self.options = dict(options or {}) if flaw == "unclonable" else options

    def fit(self, X, y, monitor=None):
        if self.flaw == "exits":
            sys.exit(3)
        self.inner_ = LogisticRegression(max_iter=500).fit(X, y)
        if self.flaw != "no_classes":  # calibration reads it
            self.classes_ = self.inner_.classes_
        if self.flaw == "keeps_going":  # swallows BudgetStop and fits on
            for step in (1.0, 2.0, 3.0, 4.0):
                with contextlib.suppress(BudgetStop):
                    monitor.check(step) if monitor is not None else check_budget(step)
        if self.flaw == "random":
            self.noise_ = np.random.default_rng().uniform(0, 0.2)
        if self.flaw == "needs_validation" and not (monitor and monitor.has_validation):
            raise ValueError("no validation split to stop on")
        self.shift_ = 0.05 if self.flaw == "pickle" else 0.0  # lost in a pickle, below
        if monitor is not None and monitor.has_validation and self.flaw != "silent":
            for step in (3, 2, 1, 0) if self.flaw == "backwards" else (0, 1, 2, 3):
                value = monitor.score(self.inner_.predict_proba(monitor.X_valid))
                value = float("nan") if self.flaw == "nan_curve" else value
                try:
                    monitor.report(step, value)
                except Exception:
                    if self.flaw != "swallow":
                        raise
        return self

    def predict(self, X):
        if self.flaw == "float_labels":  # the positive class's probability, not an index
            return self.inner_.predict_proba(X)[:, 1]
        return self.inner_.predict(X)

    def __getstate__(self):  # type: ignore[no-untyped-def]
        state = dict(self.__dict__)
        if self.flaw == "pickle":
            state.pop("shift_", None)  # a fitted attribute left out of the pickle
        return state

    def predict_proba(self, X):
        p = self.inner_.predict_proba(X)
        if self.flaw == "random":
            p = np.column_stack([p[:, 0] - self.noise_, p[:, 1] + self.noise_])
        if self.flaw == "unnormalised":
            p = p * 1.5
        if self.flaw == "wide":
            p = np.column_stack([p, p])
        if getattr(self, "shift_", 0.0):
            p = np.column_stack([p[:, 0] - self.shift_, p[:, 1] + self.shift_]).clip(0, 1)
            p = p / p.sum(axis=1, keepdims=True)
        if self.flaw == "batch" and len(p) > 1:  # scores standardised within the batch
            z = self.inner_.decision_function(X)
            up = 1 / (1 + np.exp(-(z - z.mean()) / (z.std() + 1e-12)))
            p = np.column_stack([1 - up, up])
        if self.flaw == "three" and p.shape[1] == 2:  # assumes the recipe's three classes
            p = np.column_stack([p / 2, p[:, :1] / 2])
        return p


def _spec(flaw: str, monitored: bool = False) -> ModelSpec:
    return ModelSpec(
        name="flawed",
        tasks={Task.BINARY},
        build=lambda p, ctx: _Model(flaw, 7 if flaw == "fixed_seed" else ctx.seed),
        space={"unused": Float(0.1, 1.0)},
        requires={"scale"},
        monitored=monitored,
        portfolio=({"unsued": 0.5},) if flaw == "portfolio_typo" else (),
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
        ("keeps_going", True, r"went on calling monitor.check after BudgetStop \(4 calls\)"),
        ("keeps_going", False, r"went on calling check_budget after BudgetStop \(4 calls\)"),
        ("unclonable", False, "sklearn.base.clone fails: .*parameter options"),
        ("fixed_seed", False, "seed=7 for seeds 0 and 1: build must pass ctx.seed on"),
        ("portfolio_typo", False, r"portfolio\[0\]: \['unsued'\] not in the space"),
        ("pickle", False, "predictions change after a pickle round trip"),
        ("backwards", True, r"learning-curve steps must increase, got \[3, 2, 1\]"),
        ("nan_curve", True, "reported a non-finite value nan at step 0"),
        ("needs_validation", True, "raised ValueError: no validation split to stop on"),
        ("exits", False, "raised SystemExit: 3"),  # (it ended the checking process)
        # fit, predict and predict_proba as the docs list them, no classes_: it passed
        # and failed every calibrated trial of a search (a prober's plugin)
        ("no_classes", False, r"inside calibration .*no attribute 'classes_'; set classes_"),
        ("untagged", False, r"inside calibration .*: not a classifier to scikit-learn: inherit"),
        # a prober's model standardising its scores within each call passed, and its
        # predictor gave a row 0.73 beside one other row, 0.76 among fifty
        ("batch", False, "predictions of two rows alone differ from the same rows among others"),
        # probabilities from predict: 0.73 truncated to class 0 passed as an index
        ("float_labels", False, r"predict must return class indices 0\.\.1"),
    ],
)
def test_check_plugin_catches_each_broken_rule(flaw: str, monitored: bool, message) -> None:
    spec = _spec(flaw, monitored)
    if message is None:
        check_plugin(spec, preprocessors=REGISTRY.preprocessors)
        return
    with pytest.raises(PluginCheckError, match=rf"^flawed \(binary\): .*{message}"):
        check_plugin(spec, preprocessors=REGISTRY.preprocessors)


def test_a_multiclass_spec_is_checked_on_two_classes_too() -> None:
    """A multiclass model that always puts out three columns passes on three classes
    and fails on a two-class table (a multiclass recipe meets one with --data)."""
    spec = ModelSpec(name="flawed", tasks={Task.MULTICLASS}, requires={"scale"},
                     build=lambda p, ctx: _Model("three", ctx.seed))  # fmt: skip
    with pytest.raises(PluginCheckError, match=r"^flawed \(multiclass, two classes\): "):
        check_plugin(spec, preprocessors=REGISTRY.preprocessors)


class _Step(TransformerMixin, BaseEstimator):
    """A categorical step with one flaw: ``dummies`` (pandas' get_dummies: new rows have
    other columns), ``drops`` (leaves out rows with a rare value), ``noisy`` (random
    output), ``nan`` (NaN for an unseen value), ``none``."""

    def __init__(self, flaw: str = "none", q: float = 0.0, options: dict | None = None) -> None:
        self.flaw, self.q = flaw, q
        self.options = dict(options or {}) if flaw == "unclonable" else options

    def fit(self, X, y=None):  # type: ignore[no-untyped-def]
        if self.flaw == "boom":
            raise ValueError("boom_step cannot handle these columns")
        X = pd.DataFrame(np.asarray(X, dtype=object))  # the imputer's array (or a frame)
        self.codes_ = {c: {v: i for i, v in enumerate(sorted(X[c].unique()))} for c in X}
        return self

    def transform(self, X):  # type: ignore[no-untyped-def]
        X = pd.DataFrame(np.asarray(X, dtype=object))
        if self.flaw == "dummies":
            return pd.get_dummies(X).to_numpy(dtype=float)
        out = np.column_stack([X[c].map(self.codes_[c]).to_numpy(dtype=float) for c in X])
        if self.flaw == "drops":
            out = out[:-1]
        if self.flaw == "noisy":
            out = out + np.random.default_rng().normal(size=out.shape)
        if self.flaw == "sorts":  # rows in another order than given
            out = out[np.argsort(out[:, 0], kind="stable")]
        if self.flaw == "per_batch":  # codes centred on the rows given with it
            out = out - out.mean(axis=0)
        return out if self.flaw == "nan" else np.nan_to_num(out, nan=-1.0)


class _ByName(TransformerMixin, BaseEstimator):
    """Counts of each column's values, read from a frame by column name."""

    def fit(self, X, y=None):  # type: ignore[no-untyped-def]
        self.counts_ = {c: X[c].value_counts() for c in ["purpose"]}
        return self

    def transform(self, X):  # type: ignore[no-untyped-def]
        return np.column_stack([X[c].map(n).fillna(0) for c, n in self.counts_.items()])


@pytest.mark.parametrize(
    ("flaw", "message"),
    [
        ("none", None),
        ("dummies", r"transforms unseen rows to width \(\d+,\), not \(\d+,\)"),
        ("drops", r"changed the number of rows"),
        ("noisy", "two fits with the same seed transform differently"),
        ("nan", "output has NaN or infinite values"),
        # calibration clones the whole pipeline: every calibrated trial of any model failed
        ("unclonable", "sklearn.base.clone fails: .*parameter options"),
        # a portfolio trial's value outside the space: other models' entries were dropped
        ("bad_default", r"defaults: .*0\.7"),
        # a search paired one row's categories with another's numbers, without a word
        ("sorts", "transform of the same rows in reverse order is not its output in reverse"),
        ("per_batch", "transform of one row gives .* unlike the same row among others"),
        (
            "frame_only",
            r"fit_transform of most_frequent_impute's output \(a NumPy array, as "
            r"in a search\) raised IndexError",
        ),
        (
            "no_return",
            r"its build returned None \(no return\?\), which has no fit\(\); return an "
            r"unfitted transformer",
        ),
    ],
)
def test_check_plugin_catches_each_broken_preprocessor(flaw: str, message) -> None:
    def build(p, ctx):  # type: ignore[no-untyped-def]
        if flaw == "frame_only":  # reads columns by name: a frame's, not the imputer's
            return _ByName()
        if flaw != "no_return":
            return _Step(flaw, p.get("q", 0))

    spec = PreprocessorSpec(name="flawed_step", kinds={ColumnKind.CATEGORICAL},
                            slot=Slot.ENCODE, build=build,
                            space={"q": Float(0.0, 0.1)},
                            defaults={"q": 0.7 if flaw == "bad_default" else 0.05})  # fmt: skip
    if message is None:
        check_plugin(spec)
        return
    with pytest.raises(PluginCheckError, match=rf"^flawed_step \(binary\): .*{message}"):
        check_plugin(spec)


class Column(BaseEstimator):
    """A ridge regression predicting one column, ``(n, 1)``."""

    def fit(self, X, y):  # type: ignore[no-untyped-def]
        self.inner_ = Ridge().fit(X, y)
        return self

    def predict(self, X):  # type: ignore[no-untyped-def]
        return self.inner_.predict(X).reshape(-1, 1)


def test_check_plugin_names_what_failed_and_checks_what_it_says_it_checks() -> None:
    """Found by a plugin author: another plugin's preprocessor that raised failed a
    correct model's check, named as the model's fault (every installed preprocessor was
    drawn from); ``tasks=`` naming a task the spec does not declare passed, checking
    nothing; an ``available()`` that raises passed (and crashed every search); a
    regressor predicting ``(n, 1)``, which a search takes, was refused."""
    boom = PreprocessorSpec(name="boom_step", kinds={ColumnKind.CATEGORICAL}, slot=Slot.ENCODE,
                            build=lambda p, ctx: _Step("boom"))  # fmt: skip
    with pytest.raises(PluginCheckError, match=r"^flawed \(binary\): by preprocessor "
                       r"'boom_step' raised ValueError: boom_step cannot"):  # fmt: skip
        others = {n: p for n, p in REGISTRY.preprocessors.items() if p.slot is not Slot.ENCODE}
        check_plugin(_spec("none"), preprocessors={**others, "boom_step": boom})
    with pytest.raises(PluginCheckError, match=r"tasks regression are not among .*binary"):
        check_plugin(_spec("none"), tasks=[Task.REGRESSION])
    with pytest.raises(PluginCheckError, match="not deterministic"):  # a generator: read once
        check_plugin(_spec("random"), tasks=(t for t in [Task.BINARY]))

    def crash() -> str | None:
        raise RuntimeError("probe: availability check crashed")

    crashing = dataclasses.replace(_spec("none"), available=crash)
    with pytest.raises(PluginCheckError, match=r"available\(\) raised RuntimeError: probe"):
        check_plugin(crashing)

    column = ModelSpec(name="column", tasks={Task.REGRESSION}, requires={"scale"},
                       build=lambda p, ctx: Column())  # fmt: skip
    check_plugin(column)  # (n, 1): the engine's own check takes it as (n,)


class _Recording(_Model):
    """Records the monitor of every fit."""

    monitors: ClassVar[list[tuple[int, Monitor]]] = []

    def fit(self, X, y, monitor=None):
        self.monitors.append((len(y), monitor))
        return super().fit(X, y, monitor)


def test_a_monitored_refit_stops_early_on_the_engines_holdout(tmp_path) -> None:
    from automl_fin import search

    class Plugin:
        @hookimpl
        def register_models(self, register):
            register(ModelSpec(name="recording", tasks={Task.BINARY}, monitored=True,
                               build=lambda p, ctx: _Recording("none", ctx.seed),
                               requires={"scale"}))  # fmt: skip

    _Recording.monitors = []
    search("default", trials=1, runs_dir=tmp_path, storage=":memory:",
           registry=Registry(plugins={"recording": Plugin()}),
           overrides={"models": ["recording"], "baselines": [], "ensemble": False,
                      "report": False, "validation.n_splits": 2, "validation.repeats": 1,
                      "portfolio": False, "bagging": False})  # fmt: skip
    folds, (rows, refit) = _Recording.monitors[:2], _Recording.monitors[-1]
    assert len(_Recording.monitors) == 3 and not any(m.refit for _, m in folds)
    assert refit.refit and refit.has_validation  # the core's holdout, not the plugin's
    held = len(refit.y_valid)
    assert rows + held == 1000 and held == pytest.approx(150, abs=1)
    perfect = np.eye(2)[np.asarray(refit.y_valid, dtype=int)]
    assert refit.score(perfect) == 1.0  # the recipe's metric (ROC AUC) on the held-out rows


def _no_space(ctx):  # type: ignore[no-untyped-def]
    raise KeyError("n_classes")  # (not a ValueError: it failed the search, not its trials)


class _Registers:
    """A plugin registering the given preprocessor."""

    def __init__(self, spec: PreprocessorSpec) -> None:
        self.spec = spec

    @hookimpl
    def register_preprocessors(self, register):  # type: ignore[no-untyped-def]
        register(self.spec)


def test_a_search_blames_the_plugin_at_fault_and_leaves_the_rest_running(tmp_path) -> None:
    """Found by a plugin author, each about another plugin than the one at fault: a
    model whose ``available()`` raised crashed ``automl-fin plugins`` and every
    ``models: all`` search with a traceback; a preprocessor raising in its fit failed
    trials named as the model's (``logreg (automl-fin 0.1.0 (plugin 'sklearn')) raised
    in fit``), and its ``defaults`` outside its space cost logistic regression its
    portfolio trials, warned as logistic regression's."""
    import warnings

    from automl_fin.engine._search import search

    def crash() -> str | None:
        raise RuntimeError("probe: availability check crashed")

    crashing = dataclasses.replace(_spec("none"), name="crashing", available=crash)
    boom = PreprocessorSpec(name="boom_step", kinds={ColumnKind.CATEGORICAL}, slot=Slot.ENCODE,
                            build=lambda p, ctx: _Step("boom"))  # fmt: skip
    odd = PreprocessorSpec(name="odd_step", kinds={ColumnKind.CATEGORICAL}, slot=Slot.ENCODE,
                           build=lambda p, ctx: _Step("none", p["q"]),
                           space={"q": Float(0.0, 0.1)}, defaults={"q": 0.7},
                           cost=0.01)  # fmt: skip

    class Plugin:
        @hookimpl
        def register_models(self, register):  # type: ignore[no-untyped-def]
            register(crashing)

        @hookimpl
        def register_preprocessors(self, register):  # type: ignore[no-untyped-def]
            register(boom)
            register(odd)

    registry = Registry(plugins={"probe": Plugin()})
    assert registry.to_frame().set_index("name").loc["crashing", "installed"] == (
        "its available() raised RuntimeError: probe: availability check crashed"
    )
    common = {"runs_dir": tmp_path, "storage": ":memory:", "registry": registry,
              "progress": False}  # fmt: skip
    fixed = {"calibration": ["none"], "report": False, "predictor": False, "ensemble": False,
             "validation.repeats": 1, "validation.n_splits": 3, "baselines": []}  # fmt: skip
    plain = ["median_impute", "most_frequent_impute", "standard_scale"]
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        result = search("default", trials=2, seed=0, **common,
                        overrides={**fixed, "models": "all", "portfolio": ["logreg"],
                                   "preprocessors": ["odd_step", *plain]})  # fmt: skip
    said = [str(w.message) for w in seen]
    assert any("crashing (<local> 0+unknown (plugin 'probe')): its available() raised "
               "RuntimeError" in m for m in said), said  # fmt: skip
    odd_said = [m for m in said if "odd_step" in m]
    assert len(odd_said) == 1 and odd_said[0].startswith(
        "<local> 0+unknown (plugin 'probe'): preprocessor 'odd_step' defaults: "
    )
    board = result.leaderboard()
    assert board[board["model"] == "logreg"]["state"].eq("COMPLETE").any()  # its portfolio
    failed = search("default", trials=1, seed=0, **common,
                    overrides={**fixed, "models": ["logreg"], "portfolio": False,
                               "preprocessors": ["boom_step", *plain]})  # fmt: skip
    error = failed.leaderboard().query("model == 'logreg'")["error"].iloc[0]
    assert error.startswith(
        "boom_step (<local> 0+unknown (plugin 'probe')) raised in fit: "
        "ValueError: boom_step cannot handle these columns"
    ), error
    # a preprocessor's space that raises: the trial still shows its model (it was "?")
    spaceless = dataclasses.replace(boom, name="spaceless", space=_no_space, defaults={"q": 0})
    registry = Registry(plugins={"probe": Plugin(), "more": _Registers(spaceless)})
    failed = search("default", trials=1, seed=0, **{**common, "registry": registry},
                    overrides={**fixed, "models": ["logreg"], "portfolio": False,
                               "preprocessors": ["spaceless", *plain]})  # fmt: skip
    row = failed.leaderboard().query("state == 'FAIL'").iloc[0]
    assert row["model"] == "logreg" and row["error"].startswith(
        "spaceless (<local> 0+unknown (plugin 'more')) raised in "
    )


def test_a_run_whose_plugin_is_gone_names_it_when_reopened(tmp_path) -> None:
    """After its plugin was uninstalled (or turned off), `automl-fin report RUN` said
    `<recipe>: field 'models[0]': unknown model 'flawed'`: a placeholder for a file, and
    nothing of the plugin; it names the model and the plugin its trials recorded."""
    from automl_fin.engine._reopen import reopen
    from automl_fin.engine._search import search
    from automl_fin.errors import PluginError

    class Plugin:
        @hookimpl
        def register_models(self, register):  # type: ignore[no-untyped-def]
            register(_spec("none"))

    result = search("default", trials=1, runs_dir=tmp_path, progress=False,
                    registry=Registry(plugins={"probe": Plugin()}),
                    overrides={"models": ["flawed"], "ensemble": False, "report": False,
                               "predictor": False, "baselines": [],
                               "calibration": ["none"]})  # fmt: skip
    with pytest.raises(PluginError) as info:
        reopen(result.study_name, runs_dir=tmp_path, registry=Registry())
    assert str(info.value) == (
        f"run '{result.study_name}' was searched with 'flawed' (<local> 0+unknown (plugin "
        "'probe')), which no installed plugin registers now; install that plugin again (or "
        "turn it back on) to reopen the run"
    )


def test_a_study_of_one_packages_model_is_not_resumed_with_anothers(plugin_sites, tmp_path):
    """A study searched with one package's ``knn``, resumed after another package that
    registers a ``knn`` replaced it, ran on without a word and refitted the other's model
    under the first's score (a DummyClassifier saved as roc_auc 0.69). Refused, naming
    both packages; a new version of the same package is not another package."""
    from conftest import cli
    from sklearn.neighbors import KNeighborsClassifier

    from automl_fin.engine._search import search
    from automl_fin.errors import PluginError

    storage = f"sqlite:///{tmp_path / 'runs.db'}"
    out = cli("run", "default", "--set", "models=[knn]", "--trials", "2", "--study", "s",
              "--storage", storage, "--runs-dir", str(tmp_path), "--no-report",
              "--no-ensemble", sites=[plugin_sites["good"]])  # fmt: skip
    assert out.returncode == 0, out.stderr[-2000:]
    space = {"n_neighbors": Int(5, 100, log=True)}  # as the study's: only the package differs
    mine = dataclasses.replace(_spec("none"), name="knn", space=space,
                               build=lambda p, ctx: KNeighborsClassifier())  # fmt: skip

    class Plugin:
        @hookimpl
        def register_models(self, register):  # type: ignore[no-untyped-def]
            register(mine)

    with pytest.raises(PluginError) as info:
        search("default", trials=4, study="s", storage=storage, runs_dir=tmp_path,
               registry=Registry(plugins={"other": Plugin()}), progress=False,
               overrides={"models": ["knn"], "report": False, "ensemble": False})  # fmt: skip
    assert str(info.value) == (
        "study 's' scored 'knn' of automl-fin-testplugin 0.3.1 (plugin 'testplugin'), but "
        "'knn' now is <local> 0+unknown (plugin 'other'), another package's model; install "
        "automl-fin-testplugin again to resume it, or choose another --study name"
    )


def _raise(X):  # type: ignore[no-untyped-def]
    raise ValueError("signed cannot")


class _Raises(TransformerMixin, BaseEstimator):
    """A step whose fit raises."""

    def fit(self, X, y=None):  # type: ignore[no-untyped-def]
        raise ValueError("bad step")

    def transform(self, X):  # type: ignore[no-untyped-def]
        return X


def test_the_step_that_raised_is_found_by_its_spec_name() -> None:
    """The review's cases: a spec that builds a pipeline of its own is named by its spec
    (it was named by its inner step, no plugin's), a model that is a pipeline does not
    hide a preprocessor's failure (a class match took every pipeline frame for the
    model's), and two specs of one class are told apart by neither (no guess)."""
    from sklearn.compose import ColumnTransformer
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import FunctionTransformer, StandardScaler

    from automl_fin.engine._pipeline import culprit

    X = datasets.load("german_credit")[["duration_in_month", "credit_amount"]].head(40)
    y = X["credit_amount"].to_numpy(dtype=float)

    def blamed(chain, model=None):  # type: ignore[no-untyped-def]
        pipe = Pipeline([("preprocess", ColumnTransformer([("numeric", chain, list(X))])),
                         ("model", model if model is not None else Ridge())])  # fmt: skip
        with pytest.raises(ValueError) as info:
            pipe.fit(X, y)
        return culprit(pipe)(info.value)

    own = Pipeline([("impute", StandardScaler()), ("inner", _Raises())])
    assert blamed(Pipeline([("composite", own)])) == "composite"
    model = Pipeline([("scale", StandardScaler()), ("ridge", Ridge())])
    assert blamed(Pipeline([("bad_spec", _Raises())]), model) == "bad_spec"
    fails = FunctionTransformer(_raise)
    assert blamed(Pipeline([("log1p", FunctionTransformer(np.log1p)), ("signed", fails)])) is None
    # the model's own failure is the model's
    assert blamed(Pipeline([("fine", StandardScaler())]), Pipeline([("bad", _Raises())])) is None


class _HolesInScores(LogisticRegression):
    """A model whose scores are NaN on every seventh row (a numerical fault of its own)."""

    def predict_proba(self, X):  # type: ignore[no-untyped-def]
        p = super().predict_proba(X)
        p[::7] = np.nan
        return p

    def decision_function(self, X):  # type: ignore[no-untyped-def]
        d = super().decision_function(X)
        d[::7] = np.nan
        return d


def test_a_calibration_failing_on_a_models_scores_says_so_not_the_data(tmp_path) -> None:
    """Isotonic calibration of a model whose scores hold NaN failed its trials with
    "Input X contains NaN." (German credit holds none: it read as the data's fault); a
    model fitted inside the calibration on data with NaN is not told that."""
    from automl_fin.engine._search import search

    holes = ModelSpec(name="holes", tasks={Task.BINARY}, requires={"scale"},
                      build=lambda p, ctx: _HolesInScores(max_iter=500))  # fmt: skip

    class Plugin:
        @hookimpl
        def register_models(self, register):  # type: ignore[no-untyped-def]
            register(holes)

    fixed = {"calibration": ["isotonic"], "report": False, "predictor": False,
             "ensemble": False, "validation.repeats": 1, "validation.n_splits": 3,
             "baselines": [], "portfolio": False}  # fmt: skip
    result = search("default", trials=1, seed=0, runs_dir=tmp_path, storage=":memory:",
                    registry=Registry(plugins={"probe": Plugin()}), progress=False,
                    overrides={**fixed, "models": ["holes"]})  # fmt: skip
    error = result.leaderboard()["error"].iloc[0]
    assert error.startswith("holes (<local> 0+unknown (plugin 'probe')) raised in fit: "), error
    assert error.endswith(
        "(in calibration: the scores holes gave its calibration rows held NaN or infinite "
        "values, not the data; fix the model, or leave calibration out with --set "
        "'calibration=[none]')"
    ), error
    from sklearn.calibration import CalibratedClassifierCV

    from automl_fin.engine._objective import _of_scores

    X = np.random.default_rng(0).normal(size=(60, 2))
    X[3, 1] = np.nan  # the data's NaN, met by the model's own fit inside the calibration
    with pytest.raises(ValueError) as info:
        CalibratedClassifierCV(LogisticRegression(), method="isotonic", cv=3).fit(
            X, (X[:, 0] > 0).astype(int)
        )
    assert _of_scores(info.value, "logreg") == ""
    # what calibration reads of the model, missing or out of shape: it said only
    # scikit-learn's "'NoCls' object has no attribute 'classes_'"
    with pytest.raises(AttributeError) as missing:
        CalibratedClassifierCV(_Model("no_classes"), method="sigmoid", cv=3).fit(
            np.nan_to_num(X), (X[:, 0] > 0).astype(int)
        )
    assert _of_scores(missing.value, "nocls").startswith(
        " (in calibration, which fits nocls on three folds of the training rows and reads "
        "its classes_ and predict_proba"
    )


STEP_SEARCH = {"calibration": ["none"], "report": False, "predictor": False, "ensemble": False,
               "validation.repeats": 1, "validation.n_splits": 3, "baselines": [],
               "portfolio": False}  # fmt: skip


def _registering(*steps: PreprocessorSpec) -> Registry:
    """A registry with a plugin that registers ``steps`` beside the built-in ones."""

    class Plugin:
        @hookimpl
        def register_preprocessors(self, register):  # type: ignore[no-untyped-def]
            for step in steps:
                register(step)

    return Registry(plugins={"probe": Plugin()})


def _numbers_of(credit: pd.DataFrame) -> pd.DataFrame:
    """German credit's numeric columns and its target."""
    return credit.select_dtypes("number").assign(creditability=credit["creditability"])


class _DropsLastRow(TransformerMixin, BaseEstimator):
    """A numeric step that leaves out the last row (an outlier filter, say)."""

    def fit(self, X, y=None):  # type: ignore[no-untyped-def]
        self.n_features_in_ = X.shape[1]
        return self

    def transform(self, X):  # type: ignore[no-untyped-def]
        return np.asarray(X, dtype=float)[:-1]


def test_a_preprocessor_dropping_rows_is_named_not_the_model(tmp_path) -> None:
    """A preprocessor that leaves out a row failed every trial it was in as the model's
    ("logreg raised in fit: ... inconsistent numbers of samples", numpy's concatenation
    error where two column kinds are stacked), however the model is fitted (a plain
    fit, a boosting fit with its learning curve)."""
    from automl_fin.engine._search import search

    categorical = PreprocessorSpec(
        name="drops_cat", kinds={ColumnKind.CATEGORICAL}, slot=Slot.ENCODE,
        build=lambda p, ctx: _Step("drops"),
    )  # fmt: skip
    numeric = PreprocessorSpec(
        name="drops_num", kinds={ColumnKind.NUMERIC}, slot=Slot.IMPUTE,
        build=lambda p, ctx: _DropsLastRow(),
    )  # fmt: skip

    credit = datasets.load("german_credit")
    numbers = _numbers_of(credit)
    fixed = dict(STEP_SEARCH)
    common = {"runs_dir": tmp_path, "storage": ":memory:", "progress": False, "seed": 0,
              "registry": _registering(categorical, numeric)}  # fmt: skip
    cases = [  # (table, preprocessors, the step at fault): two kinds stacked, or one
        (credit, ["drops_cat", "median_impute", "standard_scale"], "drops_cat"),
        (numbers, ["drops_num", "standard_scale"], "drops_num"),
    ]
    for table, steps, step in cases:
        for model in ("logreg", "xgboost"):
            asked = {**fixed, "models": [model], "preprocessors": steps}
            result = search("default", data=table, target="creditability", trials=1,
                            overrides=asked, **common)  # fmt: skip
            error = result.leaderboard()["error"].iloc[0]
            assert error.startswith(f"{step} (<local> 0+unknown (plugin 'probe')) raised in fit"), (
                model,
                error,
            )
            said = re.search(rf"{step} gave (\d+) rows for (\d+): a preprocessor keeps every row",
                             error)  # fmt: skip
            assert said is not None and int(said[1]) == int(said[2]) - 1, error


class _HolesInColumn(TransformerMixin, BaseEstimator):
    """A numeric scaling step that gives NaN for a column's values below its median (a
    log of centred values, say)."""

    def fit(self, X, y=None):  # type: ignore[no-untyped-def]
        self.median_ = np.nanmedian(np.asarray(X, dtype=float), axis=0)
        return self

    def transform(self, X):  # type: ignore[no-untyped-def]
        X = np.asarray(X, dtype=float)
        return np.log(X - self.median_ + 1.0)  # NaN below median - 1


def test_a_preprocessor_giving_nan_is_named_not_the_model(tmp_path) -> None:
    """A scaling step whose output held NaN failed every trial as the built-in model's
    ("logreg (automl-fin 0.1.0 (plugin 'sklearn')) raised in fit: ValueError: Input X
    contains NaN ... impute", a prober's plugin), calibrated or not: the step is named."""
    from automl_fin.engine._search import search

    holes = PreprocessorSpec(name="holes_scale", kinds={ColumnKind.NUMERIC}, slot=Slot.SCALE,
                             build=lambda p, ctx: _HolesInColumn())  # fmt: skip

    class Plugin:
        @hookimpl
        def register_preprocessors(self, register):  # type: ignore[no-untyped-def]
            register(holes)

    credit = datasets.load("german_credit")
    common = {"runs_dir": tmp_path, "storage": ":memory:", "progress": False, "seed": 0,
              "registry": Registry(plugins={"probe": Plugin()}), "trials": 1}  # fmt: skip
    fixed = {"report": False, "predictor": False, "ensemble": False, "baselines": [],
             "validation.repeats": 1, "validation.n_splits": 3, "portfolio": False,
             "models": ["logreg"]}  # fmt: skip
    for calibration in ("none", "sigmoid"):
        asked = {**fixed, "calibration": [calibration],
                 "preprocessors": ["median_impute", "onehot", "holes_scale"]}  # fmt: skip
        result = search("default", data=credit, overrides=asked, **common)
        error = result.leaderboard()["error"].iloc[0]
        named = "holes_scale (<local> 0+unknown (plugin 'probe')) raised in "
        assert error.startswith(named), error
        assert "holes_scale gave NaN or infinite values for finite ones" in error, error
    # a step that passes on a missing category (or date) as NaN made none (a review's)
    from sklearn.compose import ColumnTransformer
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OrdinalEncoder

    from automl_fin.engine._pipeline import _made_nonfinite

    gaps = pd.DataFrame({"c": ["a", None, "b", "a"]})
    step = Pipeline([("my_ordinal", OrdinalEncoder())])
    fitted = ColumnTransformer([("categorical", step, ["c"])]).fit(gaps)
    assert _made_nonfinite(fitted, gaps) is None


def test_a_third_party_step_of_the_same_cost_never_takes_the_portfolios_place(tmp_path) -> None:
    """Portfolio trials take the cheapest step of each slot, ties broken by name: a
    plugin's log transform (default cost) named before ``standard_scale`` took the
    built-in logistic regression's portfolio trials (a prober's plugin: 0.850 against
    0.832 on its folds, by luck; its own model's 0.744). Of equal costs the built-in
    step is taken; the plugin's is still searched."""
    from automl_fin.engine._search import search

    log = PreprocessorSpec(name="aa_log", kinds={ColumnKind.NUMERIC}, slot=Slot.SCALE,
                           build=lambda p, ctx: _HolesInColumn())  # fmt: skip
    assert log.cost == REGISTRY.preprocessors["standard_scale"].cost  # the tie

    class Plugin:
        @hookimpl
        def register_preprocessors(self, register):  # type: ignore[no-untyped-def]
            register(log)

    result = search("default", trials=2, seed=0, runs_dir=tmp_path, storage=":memory:",
                    registry=Registry(plugins={"probe": Plugin()}), progress=False,
                    overrides={"models": ["logreg"], "baselines": [], "report": False,
                               "predictor": False, "ensemble": False,
                               "validation.repeats": 1, "validation.n_splits": 3})  # fmt: skip
    steps = result.leaderboard().sort_values("trial")["preprocessors"].tolist()
    assert len(steps) == 2 and all("standard_scale" in s and "aa_log" not in s for s in steps)


def test_a_preprocessor_whose_columns_follow_the_rows_is_named_not_the_model(tmp_path) -> None:
    """A categorical step whose columns depend on the rows it is given (pandas'
    get_dummies of the rows at hand) searched well on folds holding every value, and the
    saved predictor failed on one new row as the model's ("logreg raised in predict: X
    has 9 features, but LogisticRegression is expecting 54"): the step is named, with
    the columns it gave and those it was fitted on."""
    from automl_fin.engine._search import search
    from automl_fin.errors import PluginError

    dummies = PreprocessorSpec(name="dummies", kinds={ColumnKind.CATEGORICAL},
                               slot=Slot.ENCODE, build=lambda p, ctx: _Step("dummies"))  # fmt: skip

    class Plugin:
        @hookimpl
        def register_preprocessors(self, register):  # type: ignore[no-untyped-def]
            register(dummies)

    said = re.compile(r"dummies gave (\d+) columns for these (\d+) rows, (\d+) for the rows "
                      r"it was fitted on: a preprocessor's columns must not depend on")  # fmt: skip
    credit = datasets.load("german_credit")
    common = {"models": ["logreg"], "ensemble": False, "report": False, "baselines": [],
              "calibration": ["none"], "portfolio": False, "validation.repeats": 1,
              "validation.n_splits": 3,
              "preprocessors": ["dummies", "median_impute", "standard_scale"]}  # fmt: skip
    for table, rare in ((credit, True), (credit[["housing", "property", "duration_in_month",
                                                 "creditability"]], False)):  # fmt: skip
        result = search("default", data=table, target="creditability", trials=1, seed=0,
                        runs_dir=tmp_path, storage=":memory:", progress=False,
                        registry=Registry(plugins={"probe": Plugin()}),
                        overrides=common)  # fmt: skip
        if rare:  # a fold without a rare value (purpose's 9 rows): its trial names the step
            error = result.leaderboard()["error"].iloc[0]
            assert error.startswith("dummies (<local> 0+unknown (plugin 'probe')) raised in")
            assert said.search(error), error
    with pytest.raises(PluginError) as info:  # every fold held every value: one new row
        result.predictor.predict_proba(table.drop(columns="creditability").iloc[:1])
    text = str(info.value)
    assert "dummies (<local> 0+unknown (plugin 'probe')) raised in predict" in text, text
    found = said.search(text)
    assert found is not None and found[2] == "1" and int(found[1]) < int(found[3]), text


class _SignedLog(TransformerMixin, BaseEstimator):
    """A step with nothing to learn: ``fit`` returns ``self`` (no attribute ending in _)."""

    def fit(self, X, y=None):  # type: ignore[no-untyped-def]
        return self

    def transform(self, X):  # type: ignore[no-untyped-def]
        Z = np.asarray(X, dtype=float)
        return np.sign(Z) * np.log1p(np.abs(Z))


def test_a_stateless_step_runs_and_a_build_without_return_is_named(tmp_path) -> None:
    """A plugin author's finds: a correct stateless ``scale`` step (``fit`` returns self)
    passed ``check_plugin`` and failed every trial, "logreg raised in predict:
    NotFittedError: This Pipeline instance is not fitted yet" (scikit-learn judges a
    pipeline fitted by its last step's attributes); a ``build`` that forgot ``return``
    was read by calibration as "no estimator" and fitted scikit-learn's LinearSVC, scored
    and saved as the plugin's model."""
    from automl_fin.engine._search import search

    signed = PreprocessorSpec(name="signed_log", kinds={ColumnKind.NUMERIC}, slot=Slot.SCALE,
                              build=lambda p, ctx: _SignedLog())  # fmt: skip
    check_plugin(signed)

    def forgets(p, ctx):  # type: ignore[no-untyped-def]
        LogisticRegression()  # no return

    lost = ModelSpec(name="lost", tasks={Task.BINARY}, build=forgets)

    class Plugin:
        @hookimpl
        def register_models(self, register):  # type: ignore[no-untyped-def]
            register(lost)

        @hookimpl
        def register_preprocessors(self, register):  # type: ignore[no-untyped-def]
            register(signed)

    with pytest.raises(PluginCheckError, match=r"^lost \(binary\): its build returned None "):
        check_plugin(lost)
    registry = Registry(plugins={"probe": Plugin()})
    common = {"runs_dir": tmp_path, "storage": ":memory:", "registry": registry, "seed": 0,
              "progress": False, "trials": 2}  # fmt: skip
    fixed = {"report": False, "ensemble": False, "validation.repeats": 1, "baselines": [],
             "validation.n_splits": 3}  # fmt: skip
    ran = search("default", **common, overrides={**fixed, "models": ["logreg"],
                 "preprocessors": ["median_impute", "signed_log", "onehot"]})  # fmt: skip
    assert ran.leaderboard()["state"].eq("COMPLETE").all() and ran.predictor is not None
    assert ran.predictor.predict_proba(ran.dataset.X.iloc[:1]).shape == (1, 2)
    failed = search("default", **common, overrides={**fixed, "models": ["lost"],
                    "calibration": ["sigmoid"]})  # fmt: skip
    errors = failed.leaderboard()["error"]
    assert (
        errors.notna().all()
        and errors.str.startswith(
            "lost (<local> 0+unknown (plugin 'probe')) raised in build: TypeError: its build "
            "returned None (no return?), which has no fit(); return an unfitted estimator"
        ).all()
    ), errors.tolist()


class _BatchScaled(BaseEstimator):
    """Logistic regression on scores standardised within the batch: NaN for one row."""

    def fit(self, X, y):  # type: ignore[no-untyped-def]
        self.inner_ = LogisticRegression(max_iter=500).fit(X, y)
        self.classes_ = self.inner_.classes_
        return self

    def predict_proba(self, X):  # type: ignore[no-untyped-def]
        s = self.inner_.decision_function(X)
        with np.errstate(invalid="ignore", divide="ignore"):
            p = 1 / (1 + np.exp(-(s - s.mean()) / s.std()))
        return np.column_stack([1 - p, p])

    def predict(self, X):  # type: ignore[no-untyped-def]
        return self.predict_proba(X).argmax(1)


def _one_model_search(name: str, model: type, runs: Any) -> Any:
    """A one-trial search of a plugin 'probe' registering ``model`` as ``name``."""
    from automl_fin.engine._search import search

    spec = ModelSpec(name=name, tasks={Task.BINARY}, requires={"scale"},
                     build=lambda p, ctx: model())  # fmt: skip

    class Plugin:
        @hookimpl
        def register_models(self, register):  # type: ignore[no-untyped-def]
            register(spec)

    return search("default", trials=1, runs_dir=runs, storage=":memory:", progress=False,
                  registry=Registry(plugins={"probe": Plugin()}),
                  overrides={"models": [name], "ensemble": False, "report": False,
                             "baselines": [], "calibration": ["none"]})  # fmt: skip


def test_a_plugins_model_failing_on_new_rows_is_named_not_a_traceback(tmp_path) -> None:
    """A third-party model that searched well and fails on new rows (NaN for a single
    row) ended ``automl-fin predict`` in a traceback naming neither the member nor its
    plugin; it is one line, as a search's failed trial is."""
    from automl_fin.errors import PluginError

    result = _one_model_search("batch_lr", _BatchScaled, tmp_path)
    X = result.dataset.X
    assert result.predictor.predict_proba(X.iloc[:50]).shape == (50, 2)
    with pytest.raises(PluginError) as info:
        result.predictor.predict_proba(X.iloc[:1])
    assert str(info.value).startswith(
        f"predictor {result.predictor.path} failed to predict: batch_lr (<local> 0+unknown "
        "(plugin 'probe')) raised in predict: ValueError: predictions contain NaN or infinite "
        "values; fix the plugin"
    )


class _Chatty(_BatchScaled):
    """A sound model with a leftover debug print in ``predict_proba``."""

    def predict_proba(self, X):  # type: ignore[no-untyped-def]
        print(f"debug: scoring {len(X)} rows")
        return self.inner_.predict_proba(X)


def test_what_a_plugin_prints_stays_out_of_predictions_on_stdout(tmp_path, capsys) -> None:
    """``automl-fin predict RUN --data new.csv`` writes the predictions to stdout: a
    plugin's leftover ``print`` was written into that CSV, which then failed to read
    ("Expected 1 fields in line 11, saw 3"). What plugin code prints goes to stderr."""
    import io

    from automl_fin.cli import main

    result = _one_model_search("chatty", _Chatty, tmp_path)
    new = tmp_path / "new.csv"
    result.dataset.X.iloc[:20].to_csv(new, index=False)
    capsys.readouterr()
    assert main(["predict", str(result.run_dir), "--data", str(new)]) == 0
    said = capsys.readouterr()
    table = pd.read_csv(io.StringIO(said.out))
    assert len(table) == 20 and "prediction" in table.columns
    assert "debug: scoring 20 rows" in said.err


def test_a_range_a_plugin_changed_is_said_when_its_study_resumes(tmp_path) -> None:
    """A plugin's upgrade that widened a range (``Int(3, 60)`` to ``Int(3, 100)``)
    resumed its study without a word (Optuna takes it; the sampler reads the old trials
    in the new range); a changed list of choices is refused, as before."""
    from sklearn.neighbors import KNeighborsClassifier

    from automl_fin.engine._search import search

    def registry(high: int) -> Registry:
        spec = ModelSpec(name="knn", tasks={Task.BINARY}, space={"k": Int(3, high)},
                         build=lambda p, c: KNeighborsClassifier(n_neighbors=p["k"]))  # fmt: skip

        class Plugin:
            @hookimpl
            def register_models(self, register):  # type: ignore[no-untyped-def]
                register(spec)

        return Registry(plugins={"probe": Plugin()})

    storage = f"sqlite:///{tmp_path / 'runs.db'}"
    over = {"models": ["knn"], "report": False, "ensemble": False, "predictor": False,
            "calibration": ["none"], "validation.n_splits": 3, "validation.repeats": 1}  # fmt: skip
    args = {"study": "s", "storage": storage, "runs_dir": tmp_path, "progress": False}
    search("default", trials=2, registry=registry(60), overrides=over, **args)
    said = (r"study 's': ranges changed since its trials were asked \(a plugin's space "
            r"changed\): 'knn.k' \[3, 60\] -> \[3, 100\]")  # fmt: skip
    with pytest.warns(UserWarning, match=said):
        search("default", trials=3, registry=registry(100), overrides=over, **args)


class _NoColumns(TransformerMixin, BaseEstimator):
    """A numeric step that gives no columns (a feature selector that kept none)."""

    def fit(self, X, y=None):  # type: ignore[no-untyped-def]
        self.n_features_in_ = X.shape[1]
        return self

    def transform(self, X):  # type: ignore[no-untyped-def]
        return np.empty((len(X), 0))


class _OverwritesInput(TransformerMixin, BaseEstimator):
    """A numeric imputer that fills its input in place, and over every value."""

    def fit(self, X, y=None):  # type: ignore[no-untyped-def]
        X.loc[:, :] = 123456.0
        return self

    def transform(self, X):  # type: ignore[no-untyped-def]
        X.loc[:, :] = 123456.0
        return np.asarray(X, dtype=float)


def test_a_step_that_fails_every_trial_is_left_out_and_one_without_columns_is_named(
    tmp_path,
) -> None:
    """Three plugin steps a prober wrote: one dropping a row took 118 trials of a
    134-trial search, TPE reading a choice it never saw completed as promising (a model
    was left out after three failures, a step never); one giving no columns passed
    ``check_plugin`` and failed as the model's ("Found array with 0 feature(s)"); one
    overwriting the frame it was given passed ``check_plugin`` and made every feature
    one number (a predictor of ROC AUC 0.55, unsaid)."""
    from automl_fin.engine._search import search

    drops = PreprocessorSpec(name="drops_scale", kinds={ColumnKind.NUMERIC}, slot=Slot.SCALE,
                             build=lambda p, ctx: _DropsLastRow())  # fmt: skip
    empty = PreprocessorSpec(name="no_columns", kinds={ColumnKind.NUMERIC}, slot=Slot.SCALE,
                             build=lambda p, ctx: _NoColumns())  # fmt: skip
    overwrites = PreprocessorSpec(name="fills_in_place", kinds={ColumnKind.NUMERIC},
                                  slot=Slot.IMPUTE,
                                  build=lambda p, ctx: _OverwritesInput())  # fmt: skip
    with pytest.raises(PluginCheckError, match=r"^no_columns \(binary\): gives no columns"):
        check_plugin(empty, tasks=[Task.BINARY])
    with pytest.raises(PluginCheckError, match=r"^fills_in_place \(binary\): fit_transform "
                       "overwrote the DataFrame it was given"):  # fmt: skip
        check_plugin(overwrites, tasks=[Task.BINARY])

    numbers = _numbers_of(datasets.load("german_credit"))
    fixed = {**STEP_SEARCH, "models": ["logreg"], "spread": False}
    common = {"runs_dir": tmp_path, "storage": ":memory:", "progress": False, "seed": 0,
              "registry": _registering(drops, empty)}  # fmt: skip
    asked = {**fixed, "preprocessors": ["median_impute", "no_columns"]}
    result = search("default", data=numbers, target="creditability", trials=1,
                    overrides=asked, **common)  # fmt: skip
    error = result.leaderboard()["error"].iloc[0]
    assert error.startswith("no_columns (<local> 0+unknown (plugin 'probe')) raised in fit")
    assert "no_columns gave no columns for 7: a preprocessor keeps at least one" in error
    asked = {**fixed, "preprocessors": ["median_impute", "standard_scale", "drops_scale"]}
    with pytest.warns(UserWarning, match="drops_scale: left out of the rest of this search "
                      "after 3 failed trials and none that completed"):  # fmt: skip
        result = search("default", data=numbers, target="creditability", trials=30,
                        overrides=asked, **common)  # fmt: skip
    board = result.leaderboard()
    assert (board["state"] == "FAIL").sum() == 3
    assert board["state"].isin(["COMPLETE", "PRUNED"]).sum() == 27
