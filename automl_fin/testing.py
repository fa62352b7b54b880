"""The plugin contract test: ``check_plugin(spec)``, in the spirit of ``check_estimator``.

It runs a spec through suggest -> build -> fit -> predict on a small sample of the
bundled German credit data (a real table with numeric and categorical columns; the
text checks turn its categorical fields into short sentences) for every task the spec
declares, and checks what the engine relies on:

* predictions have the right shape and are finite; class probabilities sum to one;
* the same seed gives the same predictions (determinism), and the estimator's own seed
  (``random_state``, ``seed``, ``random_seed``) follows ``ctx.seed``;
* the estimator clones (``sklearn.base.clone``: ``get_params`` returns what ``__init__``
  was given), as calibration and scikit-learn's model selection clone it;
* every key of a portfolio entry names a parameter of the model's space;
* a fitted estimator survives ``pickle`` with the same predictions;
* a monitored model fits with and without a validation split, reports a learning
  curve with increasing steps, and lets :class:`~automl_fin.errors.Pruned` through;
  on :class:`~automl_fin.errors.BudgetStop` from ``check`` it lets it through or ends
  its fit there with a model that predicts; so does a model that is not monitored on
  ``BudgetStop`` from :func:`~automl_fin.check_budget`;
* ``build`` returns an estimator (``fit`` and ``predict``, or ``fit`` and ``transform``);
* a preprocessor, run in its slot's chain after the built-in steps before it (a
  ``scale`` step gets the imputer's NumPy array), keeps the number of rows, transforms
  unseen rows to the same width, and each row in its place: in reverse order, or alone.

Use it in a plugin's own tests::

    from automl_fin.testing import check_plugin
    from my_plugin import MY_SPEC

    def test_my_spec_honours_the_contract():
        check_plugin(MY_SPEC)
"""

from __future__ import annotations

import dataclasses
import pickle
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from automl_fin.errors import BudgetStop, Pruned
from automl_fin.plugin._specs import (
    BuildContext,
    ColumnKind,
    ModelSpec,
    Monitor,
    PreprocessorSpec,
    Task,
    _ignore,
)

__all__ = ["PluginCheckError", "check_plugin", "sample_data"]

N_ROWS = 240
PORTFOLIO_ROWS = (0, 5_000, 1_000_000)  # a portfolio is checked at these sizes (0: the data's)
TARGETS = {
    Task.BINARY: "creditability",
    Task.MULTICLASS: "housing",
    Task.REGRESSION: "age_in_years",
}


class PluginCheckError(AssertionError):
    """A spec broke the plugin contract; the message names the spec, task and check."""


def sample_data(
    task: Task, *, seed: int = 0, text: bool = False
) -> tuple[pd.DataFrame, np.ndarray]:
    """A small real sample for ``task``: features and an encoded target.

    Binary: credit default (bad = 1); multiclass: housing (3 classes); regression: age.
    With ``text=True`` the features are one ``text`` column of sentences.
    """
    from automl_fin import datasets
    from automl_fin.data._dataset import Dataset

    frame = datasets.load("german_credit")
    rng = np.random.default_rng(seed)
    frame = frame.iloc[np.sort(rng.choice(len(frame), N_ROWS, replace=False))]
    frame = frame.reset_index(drop=True)
    target = TARGETS[task]
    positive = "bad" if task is Task.BINARY else None
    if text:
        cats = [c for c in frame.columns if c != target and pd.api.types.is_string_dtype(frame[c])]
        sentences = frame[cats].astype(str).agg(". ".join, axis=1)
        frame = pd.DataFrame({"text": sentences, target: frame[target]})
        kinds = {"text": ColumnKind.TEXT}
    else:
        kinds = {}
    ds = Dataset.from_frame(frame, target=target, task=task, kinds=kinds, positive_class=positive)
    return ds.X, ds.y


def check_plugin(
    spec: ModelSpec | PreprocessorSpec,
    *,
    tasks: Iterable[Task] | None = None,
    preprocessors: Mapping[str, PreprocessorSpec] | None = None,
    seed: int = 0,
    data: Mapping[Task, tuple[pd.DataFrame, np.ndarray]] | None = None,
    options: Mapping[str, Any] | None = None,
) -> None:
    """Run every contract check on ``spec``; raise :class:`PluginCheckError` on a failure.

    The fits run as a trial of a recipe with the default ``n_jobs: 1`` does: native
    thread pools (OpenMP, BLAS) capped at one thread.

    Args:
        spec: the model or preprocessor spec to check.
        tasks: the tasks to check (default: every task the spec declares).
        preprocessors: the preprocessors a model's data goes through (default: the
            built-in ones, so that the check does not depend on which other plugins
            are installed); one is drawn per slot as in a search.
        seed: drives parameter sampling, the data sample and the estimator.
        data: ``{task: (X, y)}`` to use instead of the bundled sample (``y`` encoded:
            class indices or floats). Sequence models need it: rows with
            ``<series>_lag<k>`` columns, which the bundled tables do not have.
        options: the model's ``model_options`` as a recipe would give them (e.g.
            ``{"max_epochs": 1}`` to check a slow model quickly).
    """
    from threadpoolctl import threadpool_limits

    declared = spec.tasks
    tasks = None if tasks is None else {Task(t) for t in tasks}  # (a generator is read once)
    undeclared = sorted(set(tasks or ()) - declared)
    if undeclared:  # (it passed, checking nothing)
        raise PluginCheckError(f"{spec.name}: tasks {', '.join(undeclared)} are not among the "
                               f"tasks it declares ({', '.join(sorted(declared))})")  # fmt: skip
    _check_available(spec)
    with threadpool_limits(limits=1):  # as a trial of a recipe's default n_jobs: 1
        for task in sorted(declared if tasks is None else set(tasks)):
            _check_task(spec, task, preprocessors, seed, data, options)


def _check_available(spec: ModelSpec | PreprocessorSpec) -> None:
    """``available()`` returns ``None`` or a reason, and raises nothing (a search leaves a
    spec whose check raises out, with that as the reason)."""
    if spec.available is None:
        return
    try:
        why = spec.available()
    except Exception as exc:
        raise PluginCheckError(f"{spec.name}: available() raised {type(exc).__name__}: {exc}; "
                               "return None, or why it cannot run here") from exc  # fmt: skip
    if why is not None and not isinstance(why, str):
        raise PluginCheckError(f"{spec.name}: available() returned {why!r}; return None, or "
                               "why it cannot run here (text)")  # fmt: skip


def _check_task(
    spec: ModelSpec | PreprocessorSpec,
    task: Task,
    preprocessors: Mapping[str, PreprocessorSpec] | None,
    seed: int,
    data: Mapping[Task, tuple[pd.DataFrame, np.ndarray]] | None,
    options: Mapping[str, Any] | None,
) -> None:
    """One task's checks (and, for multiclass, the same on two classes)."""
    # a multiclass recipe meets two-class tables too (a user's --data): checked as well
    for two in (False, True) if task is Task.MULTICLASS else (False,):
        where = f"{task}, two classes" if two else str(task)
        try:
            if isinstance(spec, ModelSpec):
                given = (data or {}).get(task)
                _check_model(spec, task, preprocessors, seed, given, options, two)
            else:
                _check_preprocessor(spec, task, seed, two)
        except PluginCheckError as exc:
            if not two:
                raise
            raise PluginCheckError(str(exc).replace(f"({task})", f"({where})", 1)) from exc
        except (Exception, SystemExit) as exc:  # (a search fails the trial on SystemExit)
            by = _raised_by(exc, spec.name)
            raise PluginCheckError(
                f"{spec.name} ({where}): {by + ' ' if by else ''}raised {type(exc).__name__}: {exc}"
            ) from exc


def _built_in(registry: Any) -> dict[str, PreprocessorSpec]:
    """The preprocessors automl-fin ships: a plugin's check does not depend on which
    other plugins are installed (another's failing step failed it, named as its own)."""
    from automl_fin.plugin._registry import OWN_DISTRIBUTION

    return {n: p for n, p in registry.preprocessors.items()
            if registry.providers[n].distribution == OWN_DISTRIBUTION}  # fmt: skip


def _raised_by(exc: BaseException, spec: str) -> str:
    """``by preprocessor 'NAME'`` where another spec's step raised ``exc`` (its tag:
    :func:`automl_fin.engine._pipeline.culprit`), else ``""``."""
    name = getattr(exc, "_automl_fin_spec", spec)
    return f"by preprocessor '{name}'" if name != spec else ""


def _fail(spec: str, task: Task, message: str) -> PluginCheckError:
    return PluginCheckError(f"{spec} ({task}): {message}")


def _trial(seed: int) -> Any:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    return optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=seed)).ask()


def _params(spec: ModelSpec | PreprocessorSpec, ctx: BuildContext, seed: int) -> dict[str, Any]:
    from automl_fin.plugin._space import suggest

    return dict(suggest(_trial(seed), spec.name, spec.space_for(ctx)))


def _check_model(
    spec: ModelSpec,
    task: Task,
    preprocessors: Mapping[str, PreprocessorSpec] | None,
    seed: int,
    data: tuple[pd.DataFrame, np.ndarray] | None,
    options: Mapping[str, Any] | None = None,
    two: bool = False,
) -> None:
    from automl_fin.engine._pipeline import (
        build_pipeline,
        culprit,
        feature_info,
        sample_plan,
        takes_raw_text,
    )
    from automl_fin.engine._staged import staged
    from automl_fin.plugin._registry import get_registry
    from automl_fin.plugin._space import fixed_values
    from automl_fin.plugin._specs import InputKind

    text = takes_raw_text(spec)
    if data is not None:
        X, y = data
    elif InputKind.TABULAR in spec.inputs or text:
        X, y = sample_data(task, seed=seed, text=text)
    else:
        raise _fail(spec.name, task, "pass data={task: (X, y)} with the input it consumes")
    if two:  # the last classes merged into class 1
        y = np.minimum(y, 1)
    n_classes = int(y.max()) + 1 if task.is_classification else 0
    cut = int(len(y) * 0.75)
    ctx = BuildContext(
        task=task, seed=seed, n_classes=n_classes, n_rows=cut, options=dict(options or {})
    )
    preps = dict(preprocessors if preprocessors is not None else _built_in(get_registry()))
    kinds = {
        c: ColumnKind.TEXT
        if text
        else ColumnKind.NUMERIC
        if pd.api.types.is_numeric_dtype(X[c])
        else ColumnKind.CATEGORICAL
        for c in X
    }
    plan = sample_plan(_trial(seed), {spec.name: spec}, preps, set(kinds.values()), ctx)
    for rows in PORTFOLIO_ROWS:  # entries and spaces may depend on the table's size
        sized = dataclasses.replace(ctx, n_rows=rows or cut)
        known = spec.parameter_names(sized)
        try:
            entries = spec.portfolio_for(sized)
        except Exception as exc:
            raise _fail(spec.name, task, f"portfolio on {sized.n_rows} rows: {exc}") from None
        for i, config in enumerate(entries):  # a search would leave such an entry out
            where = f"portfolio[{i}]" + (f" on {rows} rows" if rows else "")
            unknown = sorted(set(config) - known)
            if unknown:  # a typo: silently sampled instead of fixed
                raise _fail(spec.name, task, f"{where}: {unknown} not in the space "
                            f"(parameters: {', '.join(sorted(known)) or 'none'})")  # fmt: skip
            try:
                fixed_values(spec.name, spec.space_for(sized), config)
            except ValueError as exc:
                raise _fail(spec.name, task, f"{where}: {exc}") from None
    _check_clone_and_seed(spec, task, plan, ctx)

    def fit_predict(monitor: Monitor | None = None) -> tuple[Any, np.ndarray]:
        pipe = build_pipeline(plan, {spec.name: spec}, preps, kinds, ctx)
        blame = culprit(pipe)  # another spec's step that raises is named in the failure
        if spec.monitored:
            Xt = staged("fit", spec.name, pipe[0].fit_transform, X.iloc[:cut], y[:cut],
                        blame=blame)  # fmt: skip
            names, feature_kinds = feature_info(pipe[0])
            blank = Monitor(feature_names=names, feature_kinds=feature_kinds)
            pipe[-1].fit(Xt, y[:cut], monitor=monitor or blank)
        else:
            staged("fit", spec.name, pipe.fit, X.iloc[:cut], y[:cut], blame=blame)
        return pipe, staged("predict", spec.name, _predictions, pipe, X.iloc[cut:], task,
                            blame=blame)  # fmt: skip

    name = spec.name
    pipe, pred = fit_predict()
    _check_shape(name, task, pred, len(y) - cut, n_classes)
    if task.is_classification:
        labels = np.asarray(pipe.predict(X.iloc[cut:]))
        whole = labels.dtype.kind in "iub" or (
            labels.dtype.kind == "f" and bool(np.all(labels == np.round(labels)))
        )  # a probability's 0.73 truncated to 0 passed as a class index
        if (
            labels.shape != (len(y) - cut,)
            or not whole
            or not set(labels.astype(int)) <= set(range(n_classes))
        ):
            raise _fail(name, task, f"predict must return class indices 0..{n_classes - 1}")
        classes = getattr(pipe[-1], "classes_", None)
        if classes is not None and not np.array_equal(np.asarray(classes), np.sort(classes)):
            raise _fail(  # read in that order, but calibration (scikit-learn's) fails on it
                name, task, f"classes_ must be sorted, as scikit-learn's are (got {list(classes)})"
            )
        if not spec.monitored:  # a search's calibration wraps it (monitored ones: never)
            _check_calibrated(spec, task, plan, preps, kinds, ctx, X, y, cut)
    _, again = fit_predict()
    if not np.allclose(pred, again, rtol=1e-6, atol=1e-9):
        raise _fail(
            name, task, "two fits with the same seed predict differently (not deterministic)"
        )
    restored = pickle.loads(pickle.dumps(pipe))
    if not np.allclose(pred, _predictions(restored, X.iloc[cut:], task), rtol=1e-9, atol=1e-12):
        raise _fail(name, task, "predictions change after a pickle round trip")
    _check_alone(name, task, pipe, X.iloc[cut:], pred, blame=culprit(pipe))
    if spec.monitored:
        _check_monitoring(spec, task, plan, preps, kinds, ctx, X, y, cut)
    else:
        _check_steps_stop(spec, task, plan, preps, kinds, ctx, X, y, cut)


def _check_calibrated(
    spec: ModelSpec,
    task: Task,
    plan: Any,
    preps: Mapping[str, PreprocessorSpec],
    kinds: Mapping[str, ColumnKind],
    ctx: BuildContext,
    X: pd.DataFrame,
    y: np.ndarray,
    cut: int,
) -> None:
    """The classifier fitted and predicting inside a search's calibration (scikit-learn's
    ``CalibratedClassifierCV``, Platt's sigmoid on three internal folds): it reads the
    model's ``classes_`` and ``predict_proba``. A model without ``classes_`` passed every
    other check and failed each calibrated trial of a search."""
    from sklearn.base import is_classifier

    from automl_fin.engine._pipeline import build_pipeline

    calibrated = dataclasses.replace(plan, calibration="sigmoid")
    pipe = build_pipeline(calibrated, {spec.name: spec}, preps, kinds, ctx)
    where = (
        "inside calibration (--set 'calibration=[sigmoid]', which fits it on three folds "
        "and reads its classes_ and predict_proba)"
    )
    if not is_classifier(pipe[-1].estimator):  # its probabilities read as one column
        raise _fail(spec.name, task, f"{where}: not a classifier to scikit-learn: inherit "
                    "sklearn.base.ClassifierMixin (before BaseEstimator)")  # fmt: skip
    try:
        pipe.fit(X.iloc[:cut], y[:cut])
        pred = _predictions(pipe, X.iloc[cut:], task)
    except Exception as exc:
        fix = "; set classes_ = np.unique(y) in fit" if "classes_" in str(exc) else ""
        raise _fail(spec.name, task, f"{where}: {type(exc).__name__}: {exc}{fix}") from None
    _check_shape(spec.name, task, pred, len(y) - cut, ctx.n_classes)


def _check_steps_stop(
    spec: ModelSpec,
    task: Task,
    plan: Any,
    preps: Mapping[str, PreprocessorSpec],
    kinds: Mapping[str, ColumnKind],
    ctx: BuildContext,
    X: pd.DataFrame,
    y: np.ndarray,
    cut: int,
) -> None:
    """A model that is not monitored but calls ``check_budget`` between steps: on
    ``BudgetStop`` after its first step it lets it through, or ends its fit there."""
    from automl_fin.engine._pipeline import build_pipeline
    from automl_fin.plugin._budget import budget_checked

    pipe = build_pipeline(plan, {spec.name: spec}, preps, kinds, ctx)

    def fit(check: Callable[[float], None]) -> None:
        with budget_checked(check):
            pipe.fit(X.iloc[:cut], y[:cut])

    _check_stop(spec, task, fit, lambda: _predictions(pipe, X.iloc[cut:], task), y, 1,
                "check_budget")  # fmt: skip


def _check_stop(
    spec: ModelSpec,
    task: Task,
    fit: Callable[[Callable[[float], None]], None],
    predict: Callable[[], np.ndarray],
    y: np.ndarray,
    after: int,
    what: str,
) -> None:
    """``fit(check)`` with a check that raises ``BudgetStop`` at its ``after``-th call:
    the fit lets it through, or ends there (no call after it) with a model whose
    ``predict()`` is well formed (``y``: the classes, or values)."""
    from automl_fin.engine._predictions import check_prediction

    calls: list[float] = []

    def check(steps: float) -> None:
        calls.append(steps)
        if len(calls) >= after:
            raise BudgetStop("budget: contract check")

    try:
        fit(check)
    except BudgetStop:
        return
    if len(calls) > after:
        raise _fail(spec.name, task, f"went on calling {what} after BudgetStop "
                    f"({len(calls)} calls): end the fit, or let it propagate")  # fmt: skip
    if len(calls) == after:
        width = int(y.max()) + 1 if task.is_classification else 1
        try:
            pred = np.asarray(predict(), dtype=float)
            check_prediction(pred, len(pred), width, spec.name)
        except Exception as exc:
            raise _fail(spec.name, task, f"kept a fit ended by BudgetStop that does not "
                        f"predict ({type(exc).__name__}: {exc})") from None  # fmt: skip


SEED_PARAMS = ("random_state", "seed", "random_seed")


def _check_clone_and_seed(spec: ModelSpec, task: Task, plan: Any, ctx: BuildContext) -> None:
    """The unfitted estimator clones with equal parameters, and its seed parameter (if
    it has one) changes with ``ctx.seed``."""

    def build(seed: int) -> Any:
        return spec.build(plan.params, dataclasses.replace(ctx, seed=seed))

    model = build(ctx.seed)
    _check_built(spec, task, model)
    mine = _check_clone(spec.name, task, model, "estimator")
    other = build(ctx.seed + 1).get_params(deep=False)
    for key in SEED_PARAMS:
        if mine.get(key) is not None and repr(mine[key]) == repr(other.get(key)):
            raise _fail(spec.name, task, f"{key}={mine[key]!r} for seeds {ctx.seed} and "
                        f"{ctx.seed + 1}: build must pass ctx.seed on")  # fmt: skip


def _check_clone(name: str, task: Task, step: Any, what: str) -> dict[str, Any]:
    """``step`` clones (``sklearn.base.clone``: the pipeline's ColumnTransformer clones
    every step in every trial, calibration the model) with equal parameters; returns
    them."""
    from sklearn.base import clone

    if not hasattr(step, "get_params"):
        raise _fail(name, task, f"the {what} has no get_params: derive it from "
                    "sklearn.base.BaseEstimator so that it can be cloned")  # fmt: skip
    try:
        copy = clone(step)
    except Exception as exc:
        why = " ".join(str(exc).split())
        raise _fail(name, task, f"sklearn.base.clone fails: {why} (store each "
                    "__init__ argument unchanged under its own name)") from None  # fmt: skip
    mine, theirs = step.get_params(deep=False), copy.get_params(deep=False)
    differ = sorted(k for k in mine if repr(mine[k]) != repr(theirs.get(k)))
    if differ or set(mine) != set(theirs):
        raise _fail(name, task, f"a clone has other parameters: {differ or 'names'}")
    return mine


def _check_monitoring(
    spec: ModelSpec,
    task: Task,
    plan: Any,
    preps: Mapping[str, PreprocessorSpec],
    kinds: Mapping[str, ColumnKind],
    ctx: BuildContext,
    X: pd.DataFrame,
    y: np.ndarray,
    cut: int,
) -> None:
    from automl_fin.data._metrics import default_metric, get_metric
    from automl_fin.engine._pipeline import build_pipeline, feature_info

    metric = get_metric(default_metric(task), task)
    steps: list[int] = []

    def report(step: int, value: float) -> None:
        if not np.isfinite(value):
            raise _fail(spec.name, task, f"reported a non-finite value {value} at step {step}")
        steps.append(step)
        if len(steps) >= 3:
            raise Pruned("stop: contract check")

    pipe = build_pipeline(plan, {spec.name: spec}, preps, kinds, ctx)
    Xt = pipe[0].fit_transform(X.iloc[:cut], y[:cut])
    names, feature_kinds = feature_info(pipe[0])
    monitor = Monitor(
        feature_names=names,
        feature_kinds=feature_kinds,
        X_valid=pipe[0].transform(X.iloc[cut:]),
        y_valid=y[cut:],
        score=lambda pred: float(metric(y[cut:], np.asarray(pred, dtype=float))),
        direction=metric.direction,
        metric=metric.name,
        report=report,
    )
    try:
        pipe[-1].fit(Xt, y[:cut], monitor=monitor)
    except Pruned:
        pass
    else:
        if len(steps) >= 3:
            raise _fail(spec.name, task, "swallowed the Pruned raised by monitor.report")
    if not steps:
        raise _fail(spec.name, task, "monitored, but reported no learning curve to monitor.report")
    if steps != sorted(set(steps)):
        raise _fail(spec.name, task, f"learning-curve steps must increase, got {steps}")
    _check_budget_stop(spec, task, pipe, Xt, y[:cut], monitor, monitor.X_valid)


def _check_budget_stop(
    spec: ModelSpec, task: Task, pipe: Any, Xt: Any, y: np.ndarray, monitor: Monitor, Xv: Any
) -> None:
    """``BudgetStop`` from ``monitor.check`` after two passes: the fit lets it through,
    or ends there (no check after it) with a model that predicts."""
    model = pipe[-1]

    def fit(check: Callable[[float], None]) -> None:
        model.fit(Xt, y, monitor=dataclasses.replace(monitor, report=_ignore, check=check))

    def predict() -> np.ndarray:
        return model.predict_proba(Xv) if task.is_classification else model.predict(Xv)

    _check_stop(spec, task, fit, predict, y, 2, "monitor.check")


def _check_preprocessor(spec: PreprocessorSpec, task: Task, seed: int, two: bool) -> None:
    """The preprocessor in its slot's chain, as a search runs it: after the built-in
    steps of the slots before its own (a ``scale`` step gets the imputer's NumPy array,
    not the frame: a winsoriser calling ``X.quantile`` passed here and failed every
    trial)."""
    from automl_fin.engine._steps import Steps
    from automl_fin.plugin._registry import get_registry
    from automl_fin.plugin._space import fixed_values

    text = ColumnKind.TEXT in spec.kinds
    X, y = sample_data(task, seed=seed, text=text)
    if two:  # the last classes merged into class 1
        y = np.minimum(y, 1)
    ctx = BuildContext(
        task=task, seed=seed, n_classes=int(y.max()) + 1 if task.is_classification else 0
    )
    if text:
        columns: Any = "text"
    elif ColumnKind.DATETIME in spec.kinds:  # the credit data has no dates: one per row
        X = X.assign(date=pd.bdate_range("2015-01-02", periods=len(X)))
        columns = ["date"]
    else:
        numeric = ColumnKind.NUMERIC in spec.kinds
        columns = [c for c in X if pd.api.types.is_numeric_dtype(X[c]) == numeric]
    cut = int(len(y) * 0.75)
    params = _params(spec, ctx, seed)
    try:  # a portfolio trial uses them: one outside the space is left out by a search
        fixed_values(spec.name, spec.space_for(ctx), spec.defaults)
    except ValueError as exc:
        raise _fail(spec.name, task, f"defaults: {exc}") from None
    _check_built(spec, task, spec.build(params, ctx))
    _check_clone(spec.name, task, spec.build(params, ctx), "transformer")
    before = _slots_before(spec, _built_in(get_registry()))
    given = (f"{' and '.join(n for n, _ in before)}'s output (a NumPy array, as in a "
             "search)" if before else "its columns")  # fmt: skip

    def fit_transform() -> tuple[Any, np.ndarray, np.ndarray]:
        steps = [(n, p.build({**_params(p, ctx, seed), **p.defaults}, ctx)) for n, p in before]
        chain = Steps([*steps, (spec.name, spec.build(params, ctx))])
        part, rest = X[columns].iloc[:cut].copy(), X[columns].iloc[cut:].copy()
        try:
            train = _dense(chain.fit_transform(part, y[:cut]))
        except Exception as exc:
            raise _fail(spec.name, task, f"fit_transform of {given} raised "
                        f"{type(exc).__name__}: {exc}") from None  # fmt: skip
        test = _dense(chain.transform(rest))
        for what, rows, at in (("fit_transform", part, slice(None, cut)),
                               ("transform", rest, slice(cut, None))):  # fmt: skip
            if not rows.equals(X[columns].iloc[at]):
                raise _fail(spec.name, task, f"{what} overwrote the DataFrame it was given: "
                            "work on a copy (a search's next step and the model read the "
                            "values written)")  # fmt: skip
        return chain, train, test

    name = spec.name
    chain, train, test = fit_transform()
    if train.shape[0] != cut or test.shape[0] != len(y) - cut:
        raise _fail(name, task, f"changed the number of rows ({train.shape[0]} from {cut})")
    if train.ndim == 2 and train.shape[1] == 0:
        raise _fail(name, task, "gives no columns: a preprocessor keeps at least one (the "
                    "model after it has nothing to fit)")  # fmt: skip
    if train.shape[1:] != test.shape[1:]:
        raise _fail(
            name, task, f"transforms unseen rows to width {test.shape[1:]}, not {train.shape[1:]}"
        )
    numeric = train.dtype.kind == "f"  # an imputer of categories puts out text
    if numeric and not (np.all(np.isfinite(train)) and np.all(np.isfinite(test))):
        raise _fail(name, task, "output has NaN or infinite values")
    _, _, again = fit_transform()
    if not _same(test, again):
        raise _fail(name, task, "two fits with the same seed transform differently")
    _check_rows(name, task, chain, X[columns].iloc[cut:], test)
    restored = pickle.loads(pickle.dumps(chain))
    if not _same(test, _dense(restored.transform(X[columns].iloc[cut:]))):
        raise _fail(name, task, "transform changes after a pickle round trip")


def _slots_before(
    spec: PreprocessorSpec, built_in: Mapping[str, PreprocessorSpec]
) -> list[tuple[str, PreprocessorSpec]]:
    """The built-in preprocessor (the first by name) of each slot before ``spec``'s own in
    the chain of its first column kind that has its slot."""
    from automl_fin.engine._pipeline import CHAINS

    for kind in sorted(spec.kinds):
        slots = [slot for slot, _ in CHAINS.get(ColumnKind(kind), ())]
        if spec.slot in slots:
            before = slots[: slots.index(spec.slot)]
            fills = [[(n, p) for n, p in sorted(built_in.items())
                      if p.slot == slot and kind in p.kinds] for slot in before]  # fmt: skip
            return [names[0] for names in fills if names]
    return []


def _check_rows(name: str, task: Task, chain: Any, X: pd.DataFrame, out: np.ndarray) -> None:
    """Each row is transformed alone, in its place: the rows in reverse order come out in
    reverse order, one row comes out as it does among the others (a step that sorted its
    output paired one row's categories with another's numbers; one whose width or
    values depend on the batch fails a prediction of one row)."""
    back = _dense(chain.transform(X.iloc[::-1]))
    if not _same(back, out[::-1]):
        raise _fail(name, task, "transform of the same rows in reverse order is not its "
                    "output in reverse order: transform each row in its place, whatever "
                    "the rows beside it")  # fmt: skip
    one = _dense(chain.transform(X.iloc[:1]))
    if not _same(one, out[:1]):
        raise _fail(name, task, f"transform of one row gives {one.shape[1:]} values unlike "
                    "the same row among others: transform each row on its own, as a "
                    "prediction of one row needs")  # fmt: skip


def _check_alone(
    name: str, task: Task, pipe: Any, X: pd.DataFrame, pred: np.ndarray, blame: Any
) -> None:
    """A fitted model predicts each row on its own: two rows, one row and the rows in
    reverse order as among the others (a model standardising its scores within the
    batch passed, and a saved predictor gave one row 0.73 alone, 0.76 among 50). A
    network's float32 arithmetic may move the sixth digit with the batch: tolerated."""
    from automl_fin.engine._staged import staged

    close = {"rtol": 1e-4, "atol": 1e-5}
    for rows, what in ((slice(0, 2), "two rows"), (slice(0, 1), "one row")):
        alone = staged("predict", name, _predictions, pipe, X.iloc[rows], task, blame=blame)
        if not np.allclose(alone, pred[rows], **close):
            raise _fail(name, task, f"predictions of {what} alone differ from the same rows "
                        "among others: predict each row on its own, whatever the rows "
                        "beside it (a predictor is asked for one row at a time)")  # fmt: skip
    back = staged("predict", name, _predictions, pipe, X.iloc[::-1], task, blame=blame)
    if not np.allclose(back, pred[::-1], **close):
        raise _fail(name, task, "predictions of the rows in reverse order are not its "
                    "predictions in reverse order: predict each row in its place")  # fmt: skip


def _check_built(spec: ModelSpec | PreprocessorSpec, task: Task, built: Any) -> None:
    """``build`` returned an estimator (one without ``return`` gave None)."""
    from automl_fin.engine._pipeline import check_built

    try:
        check_built(spec, built)
    except TypeError as exc:
        raise _fail(spec.name, task, str(exc)) from None


def _dense(out: Any) -> np.ndarray:
    out = out.toarray() if hasattr(out, "toarray") else np.asarray(out)
    try:
        return np.asarray(out, dtype=float)
    except ValueError:  # e.g. imputed categories: compared as text
        return np.asarray(out, dtype=str)


def _same(a: np.ndarray, b: np.ndarray) -> bool:
    if a.dtype.kind == "f" and b.dtype.kind == "f":
        return a.shape == b.shape and np.allclose(a, b, equal_nan=True)
    return np.array_equal(a, b)


def _predictions(pipe: Any, X: pd.DataFrame, task: Task) -> np.ndarray:
    method: Callable[[Any], Any] = pipe.predict_proba if task.is_classification else pipe.predict
    return np.asarray(method(X), dtype=float)


def _check_shape(name: str, task: Task, pred: np.ndarray, n: int, n_classes: int) -> None:
    """The engine's own checks of a prediction (the same shapes, bounds and tolerance a
    search accepts: a regressor's ``(n, 1)`` is its ``(n,)``)."""
    from automl_fin.engine._predictions import check_prediction

    try:
        check_prediction(pred, n, n_classes if task.is_classification else 1, name)
    except ValueError as exc:
        raise _fail(name, task, str(exc)) from None
