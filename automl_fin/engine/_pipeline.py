"""From a trial's choices to a scikit-learn pipeline.

For every column kind present in the data the engine fills a short chain of slots
(numeric: impute -> scale; categorical: impute -> encode; datetime: encode; text:
vectorize) with one registered preprocessor each, then appends the model. A slot that
is optional may be skipped ("none") unless the model lists it in ``requires``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from automl_fin.errors import RecipeError
from automl_fin.plugin._space import Categorical, suggest
from automl_fin.plugin._specs import (
    CHAINS,
    BuildContext,
    ColumnKind,
    InputKind,
    ModelSpec,
    PreprocessorSpec,
    Slot,
)

if TYPE_CHECKING:
    import optuna
    from sklearn.pipeline import Pipeline

__all__ = [
    "CHAINS",
    "Plan",
    "accepts_input",
    "build_pipeline",
    "check_built",
    "check_rows",
    "feature_info",
    "has_lag_window",
    "join_text",
    "pinned_space",
    "sample_plan",
    "takes_raw_text",
    "unfilled_slots",
]

NONE = "none"


@dataclass(frozen=True)
class Step:
    """One chosen preprocessor with its parameters."""

    name: str
    params: Mapping[str, Any]


@dataclass(frozen=True)
class Plan:
    """Everything a trial chose: the model, its parameters, and the preprocessing."""

    model: str
    params: Mapping[str, Any]
    steps: Mapping[ColumnKind, tuple[Step, ...]] = field(default_factory=dict)
    raw_text: bool = False
    calibration: str = NONE  # "sigmoid" (Platt) or "isotonic": calibrated inside the training rows

    def describe(self) -> str:
        """Preprocessing as ``kind:step+step`` items, e.g. ``numeric:median_impute``,
        and the calibration when there is one."""
        text = (
            "text:raw"
            if self.raw_text
            else "; ".join(
                f"{kind}:{'+'.join(s.name for s in steps) or NONE}"
                for kind, steps in self.steps.items()
            )
        )
        text += f"; calibrated:{self.calibration}" if self.calibration != NONE else ""
        return text or NONE

    def spec_names(self) -> list[str]:
        """The model and every preprocessor used."""
        names = [self.model]
        for steps in self.steps.values():
            names += [s.name for s in steps if s.name not in names]
        return names


def slot_options(
    kind: ColumnKind,
    slot: Slot,
    preprocessors: Mapping[str, PreprocessorSpec],
    ctx: BuildContext,
) -> list[str]:
    """The registered preprocessors that can fill ``slot`` for columns of ``kind``."""
    return sorted(
        name
        for name, p in preprocessors.items()
        if p.slot is slot and kind in p.kinds and ctx.task in p.tasks
    )


def check_coverage(
    kinds: set[ColumnKind],
    preprocessors: Mapping[str, PreprocessorSpec],
    ctx: BuildContext,
    source: str,
) -> None:
    """Fail early when a required slot of a present column kind has no candidate."""
    for kind in kinds:
        for slot, optional in CHAINS.get(kind, ()):
            if not optional and not slot_options(kind, slot, preprocessors, ctx):
                raise RecipeError(
                    source,
                    "preprocessors",
                    f"the data has {kind} columns but no preprocessor fills their '{slot}' "
                    "step; add one to the list (see `automl-fin plugins`)",
                )


def takes_raw_text(spec: ModelSpec) -> bool:
    """Whether the model reads the text itself rather than the preprocessed table."""
    return InputKind.TABULAR not in spec.inputs and InputKind.TEXT in spec.inputs


LAG_COLUMN = re.compile(r"^(?P<series>.+)_lag(?P<k>\d+)$")


def has_lag_window(columns: Iterable[str]) -> bool:
    """Whether some series has the columns ``<series>_lag1`` and ``<series>_lag2``."""
    found: dict[str, set[int]] = {}
    for column in columns:
        m = LAG_COLUMN.match(str(column))
        if m:
            found.setdefault(m["series"], set()).add(int(m["k"]))
    return any({1, 2} <= ks for ks in found.values())


def accepts_input(spec: ModelSpec, kinds: set[ColumnKind], columns: Iterable[str] = ()) -> bool:
    """Whether the model can consume data with these column kinds and names."""
    return (
        (InputKind.TABULAR in spec.inputs and (spec.accepts_sparse or ColumnKind.TEXT not in kinds))
        or (InputKind.TEXT in spec.inputs and ColumnKind.TEXT in kinds)
        or (InputKind.SEQUENCE in spec.inputs and has_lag_window(columns))
    )


def join_text(X: Any, columns: list[str]) -> Any:
    """The text columns of ``X`` as one array of strings (several joined by newlines)."""
    import numpy as np

    parts = X[columns].fillna("").astype(str)
    joined = parts.iloc[:, 0] if len(columns) == 1 else parts.agg("\n".join, axis=1)
    return np.asarray(joined, dtype=object)


def restriction(
    spec: ModelSpec, kind: ColumnKind, slot: Slot, preprocessors: Mapping[str, PreprocessorSpec]
) -> frozenset[str] | None:
    """The model's ``slot_choices`` for ``slot`` on columns of ``kind``: they restrict
    the kinds their preprocessors handle (``ordinal`` codes: categorical columns), or
    every kind when the recipe leaves all of them out (the model cannot be served);
    another kind's slot is filled as for any model (a date column's ``encode`` slot for
    a model that takes ordinal codes of categories)."""
    only = spec.slot_choices.get(slot)
    named = [preprocessors[n] for n in only or () if n in preprocessors]
    if named and not any(kind in p.kinds for p in named):
        return None
    return only


def unfilled_slots(
    spec: ModelSpec,
    kinds: set[ColumnKind],
    preprocessors: Mapping[str, PreprocessorSpec],
    ctx: BuildContext,
) -> list[str]:
    """The slots the model needs (a chain's own, and the optional ones in its
    ``requires``) that no preprocessor among ``preprocessors`` fills under its
    ``slot_choices``, in words (``scale of numeric columns``). A required ``scale``
    the recipe offered nothing for was skipped without a word: a nearest-neighbours
    model on unscaled incomes, ROC AUC 0.59 for 0.78 (a plugin author's find)."""
    if takes_raw_text(spec):
        return []
    missing = []
    for kind in sorted(kinds):
        for slot, optional in CHAINS.get(kind, ()):
            if optional and slot not in spec.requires:
                continue
            options = slot_options(kind, slot, preprocessors, ctx)
            only = restriction(spec, kind, slot, preprocessors)
            if not [o for o in options if only is None or o in only]:
                missing.append(f"{slot} of {kind} columns")
    return missing


def sample_plan(
    trial: optuna.Trial,
    models: Mapping[str, ModelSpec],
    preprocessors: Mapping[str, PreprocessorSpec],
    kinds: set[ColumnKind],
    ctx: BuildContext,
    calibration: Sequence[str] = (NONE,),
    fixed: Mapping[str, Mapping[str, Any]] | None = None,
) -> Plan:
    """Ask ``trial`` for a model, its parameters and one preprocessor per slot, and
    (classification, among ``calibration``) how its probabilities are calibrated.
    ``fixed``: the recipe's ``model_options``; one named as a searched parameter of the
    model (a number, a flag, a text) is that parameter's one choice, so that each
    trial records the value it was fitted with (XGBoost's ``max_depth: 1`` won over the
    depth each trial sampled and recorded; a logistic regression's ``C`` was ignored)."""
    names = sorted(models)
    model_name = names[0] if len(names) == 1 else _choose(trial, "", "model", names)
    spec = models[model_name]
    space = pinned_space(_space(spec, ctx), (fixed or {}).get(model_name))
    params = suggest(trial, model_name, space)
    calibrate = NONE
    # monitored models fit with their validation split; a calibration wrapper would hide it
    if len(calibration) > 1 and ctx.task.is_classification and not spec.monitored:
        calibrate = _choose(trial, "", "calibration", list(calibration))
    elif len(calibration) == 1 and not spec.monitored:
        calibrate = calibration[0]
    if takes_raw_text(spec):
        return Plan(model_name, params, raw_text=True, calibration=calibrate)
    steps: dict[ColumnKind, tuple[Step, ...]] = {}
    chosen_params: dict[str, Mapping[str, Any]] = {}
    for kind in sorted(kinds):
        chain: list[Step] = []
        for slot, optional in CHAINS.get(kind, ()):
            options = slot_options(kind, slot, preprocessors, ctx)
            only = restriction(spec, kind, slot, preprocessors)
            if only is not None:
                options = [o for o in options if o in only]
            required = not optional or slot in spec.requires
            choices = options if required else [*options, NONE]
            if not options:
                continue
            # a parameter name must keep one set of choices across trials
            key = f"{kind}.{slot}" + (".required" if required and optional else "")
            if only is not None:
                key += f".{model_name}"
            pick = choices[0] if len(choices) == 1 else _choose(trial, "prep", key, choices)
            if pick == NONE:
                continue
            if pick not in chosen_params:
                chosen_params[pick] = suggest(trial, pick, _space(preprocessors[pick], ctx))
            chain.append(Step(pick, chosen_params[pick]))
        steps[kind] = tuple(chain)
    return Plan(model_name, params, steps, calibration=calibrate)


def _choose(trial: optuna.Trial, namespace: str, key: str, choices: list[str]) -> str:
    return str(suggest(trial, namespace, {key: Categorical(choices)})[key])


def build_pipeline(
    plan: Plan,
    models: Mapping[str, ModelSpec],
    preprocessors: Mapping[str, PreprocessorSpec],
    kinds: Mapping[str, ColumnKind],
    ctx: BuildContext,
) -> Pipeline:
    """A fresh, unfitted pipeline for ``plan`` over columns of the given ``kinds``."""
    from sklearn.compose import ColumnTransformer

    from automl_fin.engine._steps import Steps as Pipeline

    if plan.raw_text:
        from sklearn.preprocessing import FunctionTransformer

        text = [c for c, k in kinds.items() if k is ColumnKind.TEXT]
        select = FunctionTransformer(join_text, kw_args={"columns": text}, validate=False)
        return Pipeline([("preprocess", select), ("model", _model(plan, models, ctx))])
    transformers: list[tuple[str, Any, Any]] = []
    for kind, steps in plan.steps.items():
        columns = [c for c, k in kinds.items() if k is kind]
        if not columns:
            continue

        def chain(steps: tuple[Step, ...] = steps) -> Any:
            built = [(s.name, _build(preprocessors[s.name], s.params, ctx)) for s in steps]
            return Pipeline(built) if built else "passthrough"

        if kind is ColumnKind.TEXT:  # vectorisers take one column of strings; named by
            # place, not by column: scikit-learn refuses a step name with "__" in it
            transformers += [
                (f"text:{i}", _each_distinct(chain()), c) for i, c in enumerate(columns)
            ]
        else:
            transformers.append((str(kind), chain(), ColumnsNamed(columns)))
    prep = ColumnTransformer(transformers, remainder="drop", verbose_feature_names_out=False)
    return Pipeline([("preprocess", prep), ("model", _model(plan, models, ctx))])


class ColumnsNamed:
    """A column kind's columns for a ColumnTransformer: called with the fitted table, their
    positions in it, looked up at once. Given the names themselves, scikit-learn finds
    each with ``list.index`` at every fit, a time that grows with the square of the
    column count (10,000 columns: 0.3 s a fit, on 24 fits of one search); on new rows
    the transformer selects by the names it recorded, as before."""

    def __init__(self, names: Sequence[str]) -> None:
        self.names = list(names)

    def __call__(self, X: Any) -> Any:
        import pandas as pd

        found = pd.Index(X.columns).get_indexer(self.names)
        if (found < 0).any():
            missing = [n for n, i in zip(self.names, found, strict=True) if i < 0]
            raise ValueError(f"columns not in the data: {missing[:10]}")
        return found

    def __repr__(self) -> str:
        return f"ColumnsNamed({self.names!r})"


def _each_distinct(chain: Any) -> Any:
    """A text column's chain, applied once per distinct text (:mod:`._distinct`)."""
    from automl_fin.engine._distinct import EachDistinct

    return chain if isinstance(chain, str) else EachDistinct(chain)


def _model(plan: Plan, models: Mapping[str, ModelSpec], ctx: BuildContext) -> Any:
    """The plan's estimator, wrapped for calibration when the plan asks for it: three
    internal folds of the training rows fit and calibrate it (Platt's sigmoid or
    isotonic), so the validation rows are never used to calibrate."""
    model = _build(models[plan.model], plan.params, ctx)
    if plan.calibration == NONE or not ctx.task.is_classification:
        return model
    from sklearn.calibration import CalibratedClassifierCV

    return CalibratedClassifierCV(model, method=plan.calibration, cv=3, ensemble=True)


def pinned_space(space: Mapping[str, Any], options: Mapping[str, Any] | None) -> Any:
    """``space`` with each parameter that a recipe option of its name fixes (a number,
    a flag, a text or none: ``model_options.<model>.<parameter>``) as its one choice."""
    pinned = {
        key: Categorical([value])
        for key, value in (options or {}).items()
        if key in space and (value is None or isinstance(value, bool | int | float | str))
    }
    return {**space, **pinned} if pinned else space


def _space(spec: ModelSpec | PreprocessorSpec, ctx: BuildContext) -> Any:
    try:
        return spec.space_for(ctx)
    except Exception as exc:
        exc._automl_fin_spec = spec.name  # type: ignore[attr-defined]  # named in the error
        raise


def _build(spec: ModelSpec | PreprocessorSpec, params: Mapping[str, Any], ctx: BuildContext) -> Any:
    try:
        built = spec.build(params, ctx)
        check_built(spec, built)
        return built
    except Exception as exc:
        exc._automl_fin_spec = spec.name  # type: ignore[attr-defined]  # named in the error
        raise


def check_built(spec: ModelSpec | PreprocessorSpec, built: Any) -> None:
    """Refuse what a builder returned that is no estimator: a ``build`` without its
    ``return`` gave ``None``, which calibration read as "no estimator given" and fitted
    scikit-learn's LinearSVC in its place, saved and scored as the plugin's model. Only
    ``fit`` is asked for here (a method missing after it fails where it is called, named)."""
    if not callable(getattr(built, "fit", None)):
        what = "None (no return?)" if built is None else f"a {type(built).__name__}"
        raise TypeError(
            f"its build returned {what}, which has no fit(); return an unfitted "
            f"{'transformer' if isinstance(spec, PreprocessorSpec) else 'estimator'}"
        )


def unpicklable(obj: Any, name: str | None = None) -> str | None:
    """The name of the innermost step of ``obj`` (a pipeline, a fold's bag, a column
    transformer; step names are spec names) that does not pickle, or ``name`` where
    none of its parts is to blame: a preprocessor holding a lambda was reported as the
    model's ("member logreg#2 does not pickle ... leave the model out")."""
    import pickle

    parts: list[tuple[str | None, Any]] = []
    if isinstance(getattr(obj, "pipes", None), list):  # a bag of fold pipelines
        parts = [(name, p) for p in obj.pipes]
    elif isinstance(getattr(obj, "steps", None), list):
        parts = [(n, step) for n, step in obj.steps]
    elif isinstance(getattr(obj, "transformers_", None), list):
        parts = [(n, t) for n, t, _ in obj.transformers_]
    elif hasattr(obj, "chain"):  # a text column's chain, once per distinct text
        parts = [(name, obj.chain)]
    for part_name, part in parts:
        try:
            pickle.dumps(part, protocol=5)
        except Exception:
            return unpicklable(part, part_name) or part_name
    return name


def culprit(pipe: Any) -> Callable[[BaseException], str | None]:
    """For an exception raised while ``pipe`` (a :func:`build_pipeline` pipeline, or its
    preprocessing) was fitted or applied: the name of the preprocessor spec whose step
    raised it, or ``None`` (the model's, or not told apart). Read from the traceback's
    frames (the step objects' methods on it, clones included: matched by class), up to
    the model's first frame: a preprocessor's failure was blamed on the model."""
    steps: dict[type, set[str]] = {}

    def register(obj: Any, name: str) -> None:  # a spec's step: its leaf classes, by name
        inner = getattr(obj, "steps", None)
        if isinstance(inner, list):  # a spec that builds a pipeline of its own
            for _, step in inner:
                register(step, name)
        else:
            steps.setdefault(type(obj), set()).add(name)

    containers: set[type] = set()  # the preprocessing's own (Pipeline, ColumnTransformer)

    def chains(obj: Any) -> None:  # the preprocessing: chains of spec steps, by kind
        if isinstance(obj, str):  # "passthrough", "drop"
            return
        containers.add(type(obj))
        if isinstance(getattr(obj, "transformers", None), list):
            for item in obj.transformers:
                chains(item[1])
        elif hasattr(obj, "chain"):  # a text column's chain, once per distinct text
            chains(obj.chain)
        elif isinstance(getattr(obj, "steps", None), list):
            for name, step in obj.steps:
                register(step, name)

    whole = hasattr(pipe, "steps") and len(pipe.steps) == 2
    prep = pipe.steps[0][1] if whole else pipe
    chains(prep)
    model = pipe.steps[-1][1] if whole else None
    outer = {id(pipe), id(prep)}  # their own frames say nothing of which step raised

    def find(exc: BaseException) -> str | None:
        tb = exc.__traceback__
        rows = None  # the table the pipeline (or its preprocessing) was given
        while tb is not None:
            local = tb.tb_frame.f_locals
            obj = local.get("self")
            tb = tb.tb_next
            if obj is None or id(obj) in outer:
                rows = local.get("X") if rows is None and obj is not None else rows
                continue
            if obj is model:
                break
            names = steps.get(type(obj), set())
            if len(names) == 1:
                return next(iter(names))
            clone_of_model = model is not None and type(obj) is type(model)
            if clone_of_model and type(obj) not in containers:  # (calibration's copies)
                break
        # counts of rows that disagree (scikit-learn's, numpy's stacking): nothing else
        # is looked into (each step would transform the fold once more)
        # or of columns (a model's "X has 54 features, but ... is expecting 61"): nothing
        # else is looked into (each step would transform the fold once more)
        counted = isinstance(exc, ValueError) and bool(_SHAPE_DIFFERS.search(str(exc)))
        changed = _changed_shape(prep, rows) if counted else None
        if changed is None and isinstance(exc, ValueError) and _NONFINITE.search(str(exc)):
            changed = _made_nonfinite(prep, rows)  # NaN a step made, not the data's
        if changed is None:
            return None
        exc.add_note(changed[1])
        return changed[0]

    return find


_SHAPE_DIFFERS = re.compile(
    r"inconsistent numbers of samples|dimensions except for the concatenation axis|"
    r"shape mismatch|length of values|does not match length|different number of rows|"
    r"\d+ features|\d+ feature\(s\)|number of (features|columns)",
    re.IGNORECASE,
)


_NONFINITE = re.compile(r"\bNaN\b|infinit", re.IGNORECASE)


def _rows_said(name: str, given: int, rows: int) -> str:
    return (
        f"{name} gave {given} rows for {rows}: a preprocessor keeps every row (one that "
        "drops rows fails every fit it is in; automl_fin.testing.check_plugin checks it)"
    )


def check_rows(prep: Any, X: Any, out: Any) -> None:
    """Refuse ``out``, what the fitted preprocessing ``prep`` gave for ``X``, when its
    rows are not ``X``'s, naming the step (the model fitted on it failed, blamed)."""
    if out.shape[0] == len(X):
        return
    whole = ("the preprocessing", _rows_said("the preprocessing", out.shape[0], len(X)))
    name, said = _changed_shape(prep, X) or whole
    from automl_fin.engine._staged import tag

    raise tag(ValueError(said), "fit", name)


def _step_outputs(prep: Any, X: Any) -> Iterator[tuple[str, Any, Any, int | None]]:
    """Each preprocessor step of ``prep`` (fitted) on ``X``, in order: its name, what
    it was given and what it gave, and the width the step after it (or the stacking of
    the column kinds) was fitted on."""
    fitted = getattr(prep, "transformers_", None)
    if not isinstance(fitted, list) or not hasattr(X, "iloc"):
        return
    widths = getattr(prep, "output_indices_", {})
    for kind, chain, columns in fitted:
        chain = getattr(chain, "chain", chain)  # a text column's, once per distinct text
        if not isinstance(getattr(chain, "steps", None), list):
            continue
        part = X[columns] if isinstance(columns, str) else X.iloc[:, list(columns)]
        for i, (name, step) in enumerate(chain.steps):
            given, part = part, step.transform(part)
            after = chain.steps[i + 1][1] if i + 1 < len(chain.steps) else None
            span = widths.get(kind)  # the kind's columns in the stacking, when fitted
            fit = getattr(after, "n_features_in_", None) if after is not None else (
                span.stop - span.start if isinstance(span, slice) else None
            )  # fmt: skip
            yield str(name), given, part, fit if isinstance(fit, int) else None


def _changed_shape(prep: Any, X: Any) -> tuple[str, str] | None:
    """The preprocessor step of ``prep`` (fitted) that gives another number of rows than
    it is given on ``X``, or another number of columns than it gave when fitted (what
    the next step, or the stacking of the column kinds, was fitted on), and the line
    that says so: the model then failed ("inconsistent numbers of samples", "X has 54
    features, but ... is expecting 61"), blamed on the model. Looked at after such a
    failure only (each step transforms ``X`` once more)."""
    try:
        for name, given, part, fit in _step_outputs(prep, X):
            shape = getattr(part, "shape", (len(X),))
            if shape[0] != len(X):
                return name, _rows_said(name, int(shape[0]), len(X))
            if len(shape) == 2 and shape[1] == 0 and getattr(given, "shape", (0, 1))[1]:
                return name, (
                    f"{name} gave no columns for {given.shape[1]}: a preprocessor keeps at "
                    "least one (automl_fin.testing.check_plugin checks it)"
                )
            if len(shape) == 2 and fit is not None and shape[1] != fit:
                return name, (
                    f"{name} gave {shape[1]} columns for these {len(X)} rows, {fit} for "
                    "the rows it was fitted on: a preprocessor's columns must not depend "
                    "on the rows it is given (automl_fin.testing.check_plugin checks it)"
                )
    except Exception:  # a step that fails here failed before: the traceback says which
        return None
    return None


def _made_nonfinite(prep: Any, X: Any) -> tuple[str, str] | None:
    """The preprocessor step of ``prep`` (fitted) that gives NaN or infinite values on
    ``X`` where what it was given held none, and the line that says so: a model that
    takes no NaN then failed ("Input X contains NaN ... impute"), blamed on the model,
    scikit-learn's advice to impute the data read as the data's fault. Looked at after
    such a failure only."""
    import numpy as np
    import pandas as pd
    from pandas.api import types as ptypes

    def holes(values: Any, huge: float = np.inf) -> bool:
        """Whether ``values`` hold a missing, non-finite or ``huge`` value (of text,
        categories or dates: a missing one, which a step may pass on as NaN)."""
        if hasattr(values, "tocsr"):  # sparse: its stored values only (never dense)
            values = values.tocsr().data
        frame = pd.DataFrame(values) if getattr(values, "ndim", 2) == 2 else None
        if frame is not None and not all(ptypes.is_numeric_dtype(t) for t in frame.dtypes):
            return bool(frame.isna().to_numpy().any())
        array = np.asarray(values, dtype=float)
        with np.errstate(all="ignore"):
            return bool(not (np.abs(array) < huge).all())

    try:
        for name, given, part, _ in _step_outputs(prep, X):
            # (given values near overflow, 1e308: the data's, which tidy warns of)
            if holes(part) and not holes(given, huge=1e100):
                return name, (
                    f"{name} gave NaN or infinite values for finite ones: a preprocessor's "
                    "output must be finite where its input is (automl_fin.testing."
                    "check_plugin checks it)"
                )
    except Exception:  # a step that fails here failed before: the traceback says which
        return None
    return None


def _distinct_names(prep: Any) -> list[str]:
    """Output names when two steps put out one name (a numeric column ``purpose_car``
    beside the one-hot output of ``purpose`` = ``car``): an output named like one of its
    own step's input columns keeps its name (monotone constraints name it), every other
    clashing output takes its step's prefix (``categorical__purpose_car``)."""
    from collections import Counter

    verbose = prep.get_params()["verbose_feature_names_out"]
    prep.set_params(verbose_feature_names_out=True)
    try:
        long = [str(n) for n in prep.get_feature_names_out()]
    finally:
        prep.set_params(verbose_feature_names_out=verbose)
    from numbers import Integral

    import numpy as np

    names = prep.feature_names_in_
    inputs = {  # positions (ColumnsNamed), or names (a text column; pipelines saved before)
        str(step): {
            str(names[c]) if isinstance(c, Integral) else str(c) for c in np.atleast_1d(cols)
        }
        for step, _, cols in prep.transformers_
    }
    split = [n.split("__", 1) for n in long]
    counts = Counter(plain for _, plain in split)
    return [
        plain if counts[plain] == 1 or plain in inputs.get(step, ()) else full
        for full, (step, plain) in zip(long, split, strict=True)
    ]


def feature_info(prep: Any) -> tuple[list[str] | None, list[ColumnKind] | None]:
    """Output column names and source kinds of a fitted ColumnTransformer."""
    if not hasattr(prep, "output_indices_"):  # raw text for a text model
        return None, [ColumnKind.TEXT]
    try:
        names: list[str] | None = [str(n) for n in prep.get_feature_names_out()]
    except ValueError as exc:  # two steps name an output alike, or one cannot name its own
        names = _distinct_names(prep) if "not unique" in str(exc) else None
    except (AttributeError, TypeError):  # a step that cannot name its output
        names = None
    spans = {k: v for k, v in prep.output_indices_.items() if v.stop > v.start}
    width = max((v.stop for v in spans.values()), default=0)
    kinds: list[ColumnKind] = [ColumnKind.NUMERIC] * width
    for name, span in spans.items():
        kind = ColumnKind.TEXT if name.startswith("text:") else ColumnKind(name)
        kinds[span] = [kind] * (span.stop - span.start)
    return names, kinds
