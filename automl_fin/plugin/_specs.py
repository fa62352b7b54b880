"""The plain data types of the plugin contract: tasks, column kinds and specs.

A plugin describes what it offers with these dataclasses and hands them to the
``register`` callback of a registration hook (see :mod:`automl_fin.plugin._hookspecs`).
Nothing here imports Optuna, scikit-learn or torch.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any

from automl_fin.plugin._space import Categorical, Dimension, Float, Int

__all__ = [
    "BuildContext",
    "ColumnKind",
    "InputKind",
    "ModelSpec",
    "Monitor",
    "PreprocessorSpec",
    "Provider",
    "Slot",
    "Task",
]


class Task(StrEnum):
    """What a model predicts."""

    BINARY = "binary"
    MULTICLASS = "multiclass"
    REGRESSION = "regression"

    @property
    def is_classification(self) -> bool:
        return self is not Task.REGRESSION


# the search metric of a recipe that leaves it to the task (``metric: auto``) and gives
# no costs (``automl_fin.data._metrics.default_metric``); here, where recipes read it
# without importing the metrics (scikit-learn)
TASK_METRICS = {Task.BINARY: "roc_auc", Task.MULTICLASS: "macro_f1", Task.REGRESSION: "rmse"}


class InputKind(StrEnum):
    """The shape of the input a model consumes after preprocessing.

    ``tabular``: one row per sample, numeric columns produced by the preprocessors.
    ``text``: raw text of the recipe's text column (the model tokenises it itself).
    ``sequence``: windows of a time series (the model builds them itself).
    """

    TABULAR = "tabular"
    TEXT = "text"
    SEQUENCE = "sequence"


class ColumnKind(StrEnum):
    """The role a data column plays; inferred by :mod:`automl_fin.data._dataset`, overridable."""

    NUMERIC = "numeric"
    CATEGORICAL = "categorical"
    DATETIME = "datetime"
    TEXT = "text"
    ID = "id"


class Slot(StrEnum):
    """A step of the per-column-kind preprocessing chain a preprocessor can fill.

    The engine builds, for every column kind present in the data, the chain
    ``impute -> encode`` (categorical), ``impute -> scale`` (numeric), ``encode``
    (datetime) or ``vectorize`` (text), choosing one registered preprocessor per slot
    (:data:`CHAINS`).
    """

    IMPUTE = "impute"
    ENCODE = "encode"
    SCALE = "scale"
    VECTORIZE = "vectorize"


# slot chain per column kind, and whether each slot may be skipped
CHAINS: dict[ColumnKind, tuple[tuple[Slot, bool], ...]] = {
    ColumnKind.NUMERIC: ((Slot.IMPUTE, False), (Slot.SCALE, True)),
    ColumnKind.CATEGORICAL: ((Slot.IMPUTE, True), (Slot.ENCODE, False)),
    ColumnKind.DATETIME: ((Slot.ENCODE, False),),
    ColumnKind.TEXT: ((Slot.VECTORIZE, False),),
}


@dataclass(frozen=True)
class BuildContext:
    """What a builder knows about the problem when it builds an estimator.

    Attributes:
        task: the task being solved.
        seed: the seed this estimator must use for all its randomness.
        n_classes: number of classes (0 for regression).
        n_rows: rows in the training data of the fold.
        n_jobs: cores the estimator may use.
        options: free-form per-model options from the recipe (``model_options.<name>``).
    """

    task: Task
    seed: int
    n_classes: int = 0
    n_rows: int = 0
    n_jobs: int = 1
    options: Mapping[str, Any] = field(default_factory=dict)


def _ignore(*_: Any) -> None:
    return None


@dataclass
class Monitor:
    """What the engine hands a monitored model's ``fit(X, y, monitor=...)``.

    A :class:`ModelSpec` with ``monitored=True`` gets one on every fit. In a search it
    carries the fold's validation split (already preprocessed like ``X``), so the model
    can stop early on it and report its learning curve. On a refit on all rows the
    engine holds out :data:`HOLDOUT` of them (:func:`holdout`, stratified) as the
    validation split (``refit`` is true): the model stops early on it exactly as in a
    fold, and its reports go nowhere. A model fitted outside automl-fin (no monitor, or
    ``has_validation`` false) should split with :func:`holdout` itself. Plugins never
    see Optuna: :meth:`report` raises :class:`~automl_fin.errors.
    Pruned` when the study's pruner judges the trial hopeless; let it propagate.

    Attributes:
        feature_names: names of the columns of ``X`` after preprocessing (raw column
            names where a step keeps them), or None when a step cannot name its output.
        feature_kinds: the :class:`ColumnKind` each column of ``X`` came from.
        X_valid, y_valid: the fold's validation split (on a refit: the held-out rows).
        score: ``score(pred)`` is the recipe's metric of predictions on ``X_valid``
            (class probabilities ``(n, k)`` for classification, values for regression).
        direction: ``"maximize"`` or ``"minimize"``: which way ``score`` is better.
        metric: the name of the recipe's metric that ``score`` computes (``roc_auc``,
            ``rmse`` …), for a library that can compute it itself ("" when unknown).
        report: ``report(step, value)`` records the learning curve (``value`` from
            ``score``; ``step`` counts up from 0, e.g. epochs or every 10th round).
        plan: ``plan(steps)``: how many learning-curve steps the fit plans (e.g.
            rounds // report interval, or epochs), called before the first report when
            known: the pruner leaves the first fifth of them unjudged, where a slow
            starter (a small learning rate) still looks hopeless.
        progress: ``progress(text)`` shows a short status (``"epoch 3/50"``) in the
            search's progress display.
        check: ``check(passes)`` keeps a long fit within the search's time budget: call
            it often (every batch) with the passes over the data done so far (1.25: a
            quarter into the second epoch). It raises :class:`~automl_fin.errors.Pruned`
            when the budget is spent, or when at this pace (timed from the first call,
            so set-up before it, such as loading weights, does not count) the current
            pass would end after it; let it propagate. Where the fold may keep what was
            fitted (its trial's last fold to fit, or a refit reaching the rounds its
            trial's fold was stopped at) it raises :class:`~automl_fin.errors.BudgetStop`
            (a ``Pruned``): a model that can end where it is (boosting rounds, epochs
            of a network that keeps its best weights) catches it and returns as after
            early stopping, at its best round so far; any other lets it propagate.
            Called on a refit too, where it stops only there.
    """

    feature_names: list[str] | None = None
    feature_kinds: list[ColumnKind] | None = None
    X_valid: Any = None
    y_valid: Any = None
    score: Callable[[Any], float] | None = None
    direction: str = "maximize"
    metric: str = ""
    report: Callable[[int, float], None] = _ignore
    plan: Callable[[int], None] = _ignore
    progress: Callable[[str], None] = _ignore
    check: Callable[[float], None] = _ignore
    refit: bool = False  # a refit on all rows: the validation split is a holdout of them

    @property
    def has_validation(self) -> bool:
        """Whether a validation split came with this fit."""
        return self.X_valid is not None and self.score is not None


HOLDOUT = 0.15  # share of a refit's rows held out to stop a monitored model early


def holdout(y: Any, *, seed: int, classify: bool) -> tuple[Any, Any]:
    """Row indices (sorted) of a refit's training part and of its :data:`HOLDOUT`,
    stratified by class when every class has two rows or more."""
    import numpy as np
    from sklearn.model_selection import train_test_split

    y = np.asarray(y)
    idx = np.arange(len(y))
    stratify = y if classify and np.unique(y, return_counts=True)[1].min() >= 2 else None
    tr, va = train_test_split(idx, test_size=HOLDOUT, random_state=seed, stratify=stratify)
    return np.sort(tr), np.sort(va)


def validation_split(
    X: Any, y: Any, monitor: Monitor | None, *, seed: int, classify: bool
) -> tuple[Any, Any, Any, Any, Monitor | None]:
    """What a monitored model trains on and stops early on: ``(X_train, y_train,
    X_valid, y_valid, monitor)``. In a search, ``X``/``y`` and the monitor's validation
    split, and the monitor to report to (``None`` on a refit: its reports go nowhere);
    outside automl-fin (no monitor), a :func:`holdout` of ``X``'s rows and no monitor."""
    import numpy as np

    y = np.asarray(y)
    if monitor is not None and monitor.has_validation:
        report_to = None if monitor.refit else monitor
        return X, y, monitor.X_valid, np.asarray(monitor.y_valid), report_to
    tr, va = holdout(y, seed=seed, classify=classify)
    rows = (lambda i: X.iloc[i]) if hasattr(X, "iloc") else (lambda i: X[i])
    return rows(tr), y[tr], rows(va), y[va], None


def monotone_vector(
    wanted: Mapping[str, int], names: Sequence[str] | None, n_features: int
) -> list[int]:
    """``wanted`` (``{column: +1 | -1}``, a recipe's ``monotone_constraints``) as one
    entry per feature after preprocessing (0 for the others), for a tree library's
    monotone constraints; a column that is not a named feature, or a sign other than
    -1, 0 or 1, raises naming it."""
    if names is None:
        raise ValueError(
            "monotone_constraints need named features, but a preprocessing step does not "
            "name its output; use preprocessors that keep column names"
        )
    vector = [0] * n_features
    for column, sign in wanted.items():
        if int(sign) not in (-1, 0, 1):
            raise ValueError(f"monotone_constraints[{column!r}] is {sign!r}; use -1, 0 or 1")
        if column not in names:
            raise ValueError(
                f"monotone_constraints names column {column!r}, which is not a numeric "
                f"feature after preprocessing; features: {', '.join(names[:20])}"
            )
        vector[list(names).index(column)] = int(sign)
    return vector


SpaceLike = Mapping[str, Dimension] | Callable[[BuildContext], Mapping[str, Dimension]]
PortfolioLike = Sequence[Mapping[str, Any]] | Callable[[BuildContext], Sequence[Mapping[str, Any]]]
Builder = Callable[[Mapping[str, Any], BuildContext], Any]


@dataclass(frozen=True)
class Provider:
    """Who provided a spec: the plugin (entry-point name) and its distribution."""

    plugin: str
    distribution: str
    version: str

    def __str__(self) -> str:
        return f"{self.distribution} {self.version} (plugin '{self.plugin}')"


def unavailable(spec: ModelSpec | PreprocessorSpec) -> str | None:
    """Why ``spec`` cannot run here (its ``available()``), or ``None`` when it can; an
    ``available()`` that raises is a reason too (it crashed every ``models: all``
    search and ``automl-fin plugins``)."""
    if spec.available is None:
        return None
    try:
        why = spec.available()
        if why is not None and not isinstance(why, str):  # (True for "yes": a bare "True")
            return f"its available() returned {why!r}, not None (it can run) or why not"
        return why or None
    except (Exception, SystemExit) as exc:  # a plugin's check, whatever: that spec only
        if isinstance(exc, SystemExit):
            return f"its available() called sys.exit({exc.code!r})"
        return f"its available() raised {type(exc).__name__}: {exc}"


def _set_of(what: str, name: str, field_name: str, kind: Any, values: Any) -> frozenset[Any]:
    """``values`` as a set of ``kind`` (an enum); a text is refused naming the spec
    (``tasks="binary"`` said "'b' is not a valid Task"), as is a value not of ``kind``."""
    if isinstance(values, str | bytes):
        raise ValueError(
            f"{what} {name!r}: {field_name} must be a set of {kind.__name__} values, e.g. "
            f"{{{kind.__name__}.{next(iter(kind)).name}}}, got the text {values!r}"
        )
    try:
        return frozenset(kind(v) for v in values)
    except (ValueError, TypeError) as exc:
        known = ", ".join(str(v) for v in kind)
        raise ValueError(f"{what} {name!r}: {field_name}: {exc} (one of: {known})") from None


def _check_cost(what: str, name: str, cost: object) -> None:
    if not (isinstance(cost, int | float) and 0 < cost < float("inf")):
        raise ValueError(f"{what} {name!r}: cost must be a positive number, got {cost!r}")


LONGEST_NAME = 40  # a spec's name is part of file names (fold models, the predictor's)
# the leaderboard's own rows and the engine's parameters ("prep.numeric.scale", "model")
RESERVED = frozenset({"ensemble", "stack", "prep", "model", "calibration"})


def _check_name(kind: str, name: str) -> None:
    # ASCII letters, digits and "_" (a manifest reads no other: "modèle" was searched,
    # then its predictor refused), one Python name ("knn²" is not), a short one (a
    # 251-character name failed the predictor's save: file name too long)
    if not isinstance(name, str) or not _plain(name) or not name[0].isalpha():
        raise ValueError(
            f"{kind} name {name!r} must start with an ASCII letter and contain only ASCII "
            "letters, digits and underscores (it namespaces the spec's parameters)"
        )
    if len(name) > LONGEST_NAME:
        raise ValueError(f"{kind} name {name[:20]!r}...: {len(name)} characters, over "
                         f"{LONGEST_NAME}; give it a shorter one")  # fmt: skip
    if name in RESERVED:
        raise ValueError(f"{kind} name {name!r} is the name of the search's own "
                         f"{'rows' if name in ('ensemble', 'stack') else 'parameters'}; "
                         "give it another one")  # fmt: skip


def _plain(name: str) -> bool:
    """An ASCII Python name (letters, digits, underscores)."""
    return name.isascii() and name.isidentifier()


def _check_keys(kind: str, name: str, space: Mapping[str, Any]) -> None:
    """Refuse a parameter named other than a plain name: ``categorical.encode`` under
    ``prep`` was the engine's own parameter, and failed every trial of the search."""
    for key in space:
        if not isinstance(key, str) or not _plain(key):
            raise ValueError(
                f"{kind} {name!r} parameter {key!r}: a parameter's name is ASCII letters, "
                "digits and underscores"
            )


def _check_space(kind: str, name: str, space: object) -> None:
    """Refuse, when the plugin loads, a space that is not a map of Float / Int /
    Categorical (or a function of the context, checked when called)."""
    if callable(space):
        return
    if not isinstance(space, Mapping):
        raise ValueError(
            f"{kind} {name!r}: space must be a map of parameters (or a function of the "
            f"build context returning one), got {space!r}"
        )
    _check_keys(kind, name, space)
    for key, dim in space.items():
        if not isinstance(dim, Float | Int | Categorical):
            raise ValueError(
                f"{kind} {name!r} parameter {key!r}: {dim!r} is not a Float, Int or "
                "Categorical (from automl_fin import Float, Int, Categorical)"
            )


def _resolve_space(
    space: SpaceLike, ctx: BuildContext, kind: str, name: str
) -> Mapping[str, Dimension]:
    """``space``, or what the function ``space(ctx)`` returns, checked as a static one."""
    if not callable(space):
        return space
    resolved = space(ctx)
    _check_space(kind, name, resolved)
    return resolved


def max_folds_ok(value: Any) -> bool:
    """Whether ``value`` is a ``max_folds``: ``None`` (every fold) or a whole number of
    1 or more (0 was scored as one fold, its spread 0.000)."""
    return value is None or (isinstance(value, int) and not isinstance(value, bool) and value >= 1)


@dataclass(frozen=True)
class ModelSpec:
    """A model a plugin offers to the search.

    Attributes:
        name: unique name; prefixes its parameters in the trial (``rf.max_depth``).
        tasks: the tasks it can solve.
        build: ``build(params, ctx)`` returns an unfitted scikit-learn style estimator
            (``fit(X, y)``, ``predict(X)``, and ``predict_proba(X)`` for classification).
            ``params`` holds the sampled values under their short names (``max_depth``).
        space: parameter space, ``{short_name: Float | Int | Categorical}``, or a
            callable ``space(ctx)`` returning one when the space depends on the task.
        inputs: what the estimator consumes (default: preprocessed tabular data).
        requires: preprocessing slots that must not be skipped for this model
            (e.g. ``{Slot.SCALE}`` for linear models).
        slot_choices: restricts a slot to some preprocessors for this model, e.g.
            ``{Slot.ENCODE: {"ordinal"}}`` for a model that embeds category codes, on
            the column kinds those preprocessors handle (a date column's ``encode``
            slot stays free: ``datetime_parts``).
        monitored: the estimator's ``fit`` takes ``monitor=`` (a :class:`Monitor`): it
            gets the fold's validation split for early stopping and reports its
            learning curve to the pruner.
        accepts_sparse: the estimator takes scipy sparse matrices; a model that does not
            is left out of searches whose data has text (vectorisers give sparse output).
        baseline: a reference model (e.g. the random walk), never sampled by the search;
            a recipe lists it under ``baselines`` to score it once, as its own row.
        available: optional ``available()`` returning ``None`` when the model can run
            here, else why not (e.g. an optional package missing, and how to install
            it); an unavailable model is left out of searches with a warning.
        max_folds: an expensive model is scored on its first ``max_folds`` validation
            splits only (1: a holdout) instead of all of them; the leaderboard's
            ``folds`` column says how many each trial used. A recipe may change it with
            ``model_options.<name>.max_folds``.
        ordinal: the model treats class indices as ordered (``0 < 1 < ...``); it is
            offered only when the recipe says ``data.ordered: true``.
        portfolio: configurations known to do well on most data (short parameter
            names, e.g. ``{"C": 1.0}``; a parameter left out, or not in the space for
            this task, is sampled). Unless the recipe says ``portfolio: false``, every
            model's portfolio runs before the sampler's own trials, cheapest first (see
            ``cost``), so even a short budget ends with a sound model of each kind.
            A function of the :class:`BuildContext` instead gives entries that depend
            on the data (``ctx.n_rows``: LightGBM's many-leaved entry from 100,000 rows).
        portfolio_steps: the preprocessor a portfolio trial puts in a slot, where the
            search offers it there, e.g. ``{Slot.ENCODE: "ordinal"}`` for trees, which
            split on integer codes as well as on a one-hot matrix and far faster on a
            wide one (histogram boosting on 100,000 flights: 0.3 s against 72 s); any
            other slot, and a slot where the search does not offer the name, takes the
            cheapest preprocessor (equal costs: the first by name).
        cost: rough seconds of one fit at the portfolio settings relative to a
            boosted-tree model on tabular data (1.0); orders the portfolio.
        column_options: the recipe options (``model_options.<name>.<option>``) that map
            input column names to values, e.g. ``("monotone_constraints",)``. They are
            checked against the data before the search: a column the data lacks is an
            error naming it, or, when ``--data`` replaced the recipe's own table, left
            out with a warning (so a model never fails trial after trial on it).
        options: the ``model_options.<name>`` keys ``build`` reads (``ctx.options``)
            besides ``max_folds`` and ``column_options``, e.g. ``("max_epochs",)``;
            ``"*"`` among them: it passes the others on to its library as parameters.
            ``None`` (not declared) lets any option through. A recipe's option that a
            model declaring its options does not read is a one-line error (a logistic
            regression ignored ``C: 0.000001``, silently), and so is one passed on that
            names a searched parameter (XGBoost's ``max_depth``: the option won, and the
            trial recorded the depth it sampled).
        libraries: the distributions whose versions matter for this model's results
            (e.g. ``("xgboost",)``): recorded in every saved predictor that uses it,
            and warned about when a predictor is loaded with other versions.
        explain: optional ``explain(estimator, X)`` returning per-row feature
            contributions on the model's margin (log-odds, or values), ``(n, f + 1)``
            or ``(n, k, f + 1)`` for ``k`` classes, the last column the bias, for the
            preprocessed ``X`` the fitted estimator takes (e.g. TreeSHAP values). The
            report plots them for the saved predictor's heaviest member that has one.
        only_with: column kinds of which the data must have one for ``models: all`` to
            offer the model (e.g. ``{ColumnKind.TEXT}`` for a linear model made for
            sparse TF-IDF columns, a near copy of logistic regression on a plain table);
            a recipe that names the model gets it on any data.
        prior_shift: the engine maps the probabilities of a fit with class weights
            (parameter ``class_weight`` ``balanced`` / ``balanced_subsample``, or
            ``scale_pos_weight``) back to the data's class frequencies (see
            ``docs/plugin-authors.md``, "Class weights"). ``False`` for a model whose
            probabilities are already on them (calibrated inside its builder) or that
            weighs something else than the classes of ``y`` (cumulative binary models).
        description: one line shown by ``automl-fin plugins``.
    """

    def __reduce_ex__(self, protocol: Any) -> Any:
        """Pickled by name where an installed registry holds it (its plugin's functions,
        a lambda among them, pickle by value nowhere), else by value."""
        from automl_fin.plugin._registry import registered, registered_as

        named = registered_as(self)
        return (registered, named) if named else super().__reduce_ex__(protocol)

    name: str
    tasks: frozenset[Task]
    build: Builder
    space: SpaceLike = field(default_factory=dict)
    inputs: frozenset[InputKind] = frozenset({InputKind.TABULAR})
    requires: frozenset[Slot] = frozenset()
    slot_choices: Mapping[Slot, frozenset[str]] = field(default_factory=dict)
    monitored: bool = False
    accepts_sparse: bool = True
    baseline: bool = False
    ordinal: bool = False
    max_folds: int | None = None
    available: Callable[[], str | None] | None = None
    portfolio: PortfolioLike = ()
    portfolio_steps: Mapping[Slot, str] = field(default_factory=dict)
    cost: float = 1.0
    column_options: tuple[str, ...] = ()
    options: tuple[str, ...] | None = None
    libraries: tuple[str, ...] = ()
    explain: Callable[[Any, Any], Any] | None = None
    only_with: frozenset[ColumnKind] = frozenset()
    prior_shift: bool = True
    description: str = ""

    def __post_init__(self) -> None:
        _check_name("model", self.name)
        _check_space("model", self.name, self.space)
        object.__setattr__(self, "column_options", tuple(self.column_options))
        if self.options is not None:
            object.__setattr__(self, "options", tuple(self.options))
        if not callable(self.portfolio):
            object.__setattr__(self, "portfolio", _entries(self.name, self.portfolio))
        _check_cost("model", self.name, self.cost)
        if not max_folds_ok(self.max_folds):
            raise ValueError(
                f"model {self.name!r}: max_folds must be a whole number, 1 or more, or None "
                f"(every fold), got {self.max_folds!r}"
            )
        object.__setattr__(self, "tasks", _set_of("model", self.name, "tasks", Task, self.tasks))
        inputs = _set_of("model", self.name, "inputs", InputKind, self.inputs)
        object.__setattr__(self, "inputs", inputs)
        requires = _set_of("model", self.name, "requires", Slot, self.requires)
        object.__setattr__(self, "requires", requires)
        choices = {
            Slot(k): frozenset([v] if isinstance(v, str) else v)
            for k, v in self.slot_choices.items()
        }
        object.__setattr__(self, "slot_choices", choices)
        if not all(isinstance(v, str) for v in self.portfolio_steps.values()):
            raise ValueError(
                f"model {self.name!r}: portfolio_steps maps a slot to one preprocessor's "
                f"name, got {dict(self.portfolio_steps)!r}"
            )
        steps = {Slot(k): v for k, v in self.portfolio_steps.items()}
        object.__setattr__(self, "portfolio_steps", steps)
        if not self.tasks:
            raise ValueError(f"model {self.name!r} declares no task")

    def space_for(self, ctx: BuildContext) -> Mapping[str, Dimension]:
        """The parameter space for the given context."""
        return _resolve_space(self.space, ctx, "model", self.name)

    def parameter_names(self, ctx: BuildContext) -> set[str]:
        """The names of the parameters its space has for any of its tasks (``ctx`` for
        the rest): a portfolio entry's or a recipe option's name is one of them, or a
        typo."""
        return {k for t in self.tasks for k in self.space_for(replace(ctx, task=t))}

    def portfolio_for(self, ctx: BuildContext) -> tuple[dict[str, Any], ...]:
        """The portfolio entries for the given context (short parameter names)."""
        if callable(self.portfolio):
            return _entries(self.name, self.portfolio(ctx))
        return self.portfolio  # type: ignore[return-value]  # made a tuple of dicts above


def _entries(model: str, portfolio: Any) -> tuple[dict[str, Any], ...]:
    """A portfolio as a tuple of parameter maps, or a ``ValueError`` naming the model."""
    iterable = isinstance(portfolio, Sequence) and not isinstance(portfolio, str)
    if not iterable or not all(isinstance(c, Mapping) for c in portfolio):
        raise ValueError(f"model {model!r}: portfolio must be a list of parameter maps")
    return tuple(dict(c) for c in portfolio)


@dataclass(frozen=True)
class PreprocessorSpec:
    """A preprocessing step a plugin offers to the search.

    Attributes:
        name: unique name; prefixes its parameters in the trial (``onehot.min_frequency``).
        kinds: the column kinds it transforms (e.g. ``{ColumnKind.CATEGORICAL}``).
        slot: the step of the chain it fills (see :class:`Slot`).
        build: ``build(params, ctx)`` returns an unfitted scikit-learn transformer
            (``fit(X, y)`` and ``transform(X)``), applied to the columns of one kind.
        space: parameter space, as for :class:`ModelSpec`.
        tasks: the tasks it is valid for (default: all).
        defaults: parameter values for the models' portfolio trials (short names; the
            rest is sampled).
        cost: rough seconds of a fit-transform relative to a boosted-tree model's fit
            (1.0, as ``ModelSpec.cost``; default 0.05: a column transform). A portfolio
            trial takes the cheapest preprocessor of each slot (unless its model's
            ``portfolio_steps`` names one), and skips an optional slot; a search
            prices the first fit of an expensive one (a sentence encoder) from it
            before starting a fold near the deadline.
        warm: optional ``warm(columns)``, given the data's columns this preprocessor
            would transform (a DataFrame); ``True`` when its work on them is already
            done (e.g. every sentence's embedding is in a disk cache), so the search
            prices its first fit as a column transform, not at ``cost``. An exception
            counts as ``False``.
        available: as for :class:`ModelSpec`: ``None`` when it can run here, else
            why not (and what to install); an unavailable one is left out of searches.
        libraries: as for :class:`ModelSpec`.
        description: one line shown by ``automl-fin plugins``.
    """

    def __reduce_ex__(self, protocol: Any) -> Any:
        """Pickled by name where an installed registry holds it (its plugin's functions,
        a lambda among them, pickle by value nowhere), else by value."""
        from automl_fin.plugin._registry import registered, registered_as

        named = registered_as(self)
        return (registered, named) if named else super().__reduce_ex__(protocol)

    name: str
    kinds: frozenset[ColumnKind]
    slot: Slot
    build: Builder
    space: SpaceLike = field(default_factory=dict)
    tasks: frozenset[Task] = frozenset(Task)
    defaults: Mapping[str, Any] = field(default_factory=dict)
    cost: float = 0.05
    warm: Callable[[Any], bool] | None = None
    available: Callable[[], str | None] | None = None
    libraries: tuple[str, ...] = ()
    description: str = ""

    def __post_init__(self) -> None:
        _check_name("preprocessor", self.name)
        _check_space("preprocessor", self.name, self.space)
        _check_cost("preprocessor", self.name, self.cost)
        object.__setattr__(self, "defaults", dict(self.defaults))
        kinds = _set_of("preprocessor", self.name, "kinds", ColumnKind, self.kinds)
        object.__setattr__(self, "kinds", kinds)
        object.__setattr__(self, "slot", Slot(self.slot))
        tasks = _set_of("preprocessor", self.name, "tasks", Task, self.tasks)
        object.__setattr__(self, "tasks", tasks)
        if not self.kinds:
            raise ValueError(f"preprocessor {self.name!r} declares no column kind")
        if not self.tasks:  # (as a model's: it was accepted, and never used)
            raise ValueError(f"preprocessor {self.name!r} declares no task")
        odd = sorted(k for k in self.kinds if self.slot not in dict(CHAINS.get(k, ())))
        if odd:  # (numeric columns have no encode step: it was listed, and never drawn)
            chains = "; ".join(f"{k}: {', '.join(s for s, _ in CHAINS[k])}" for k in odd)
            raise ValueError(
                f"preprocessor {self.name!r}: slot '{self.slot}' is in no chain of "
                f"{', '.join(odd)} columns ({chains}); pick a slot of their chain"
            )
        if isinstance(self.space, Mapping) and (
            unknown := sorted(set(self.defaults) - set(self.space))
        ):
            raise ValueError(
                f"preprocessor {self.name!r}: defaults name {', '.join(map(repr, unknown))}, "
                f"which its space has not ({', '.join(map(repr, self.space)) or 'none'})"
            )

    def space_for(self, ctx: BuildContext) -> Mapping[str, Dimension]:
        """The parameter space for the given context."""
        return _resolve_space(self.space, ctx, "preprocessor", self.name)
