"""A recipe resolved against data and plugins: everything a search needs, checked.

Resolution fills in what a recipe leaves to ``auto`` (task from the target, metric from
the task, validation from the task and the time column), loads the data, and picks the
candidate models and preprocessors. It fails before any trial runs when something
does not fit, with an error naming the recipe field or the data column.
"""

from __future__ import annotations

import dataclasses
import shlex
import warnings
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from automl_fin._words import cut_at_word
from automl_fin.data._dataset import TEXT_MIN_DISTINCT, Dataset
from automl_fin.data._future_values import warn_future_values
from automl_fin.data._loading import dataset_of, settle_data
from automl_fin.data._metrics import (
    COST,
    ROW_LOSSES,
    Metric,
    Reference,
    default_metric,
    extra_names,
    get_metric,
    least_cost,
)
from automl_fin.data._rare_classes import without_rare_classes
from automl_fin.data._table_facts import check_column_options, period_count
from automl_fin.data._time_parts import find_time_parts
from automl_fin.data._timeseries import run_command
from automl_fin.data._validation import make_splits, split_rows
from automl_fin.engine._pipeline import (
    NONE,
    Plan,
    accepts_input,
    check_coverage,
    pinned_space,
    sample_plan,
    takes_raw_text,
    unfilled_slots,
)
from automl_fin.engine._prior_shift import factors
from automl_fin.errors import ArtifactError, DataError, RecipeError
from automl_fin.plugin._registry import OWN_DISTRIBUTION
from automl_fin.plugin._space import contains, fixed_values
from automl_fin.plugin._specs import (
    BuildContext,
    ColumnKind,
    InputKind,
    ModelSpec,
    PreprocessorSpec,
    Slot,
    Task,
    unavailable,
)

if TYPE_CHECKING:
    from automl_fin.engine._recipes import Recipe
    from automl_fin.plugin._registry import Registry

__all__ = ["Problem", "resolve"]

SMALL_DATA = 2000  # rows: below this, ``validation.repeats: auto`` repeats k-fold
BAG_ROWS = 20_000  # rows: up to this, ``bagging: auto`` bags k-fold models


@dataclass
class Problem:
    """A recipe bound to data, metric, splits and candidate specs."""

    recipe: Recipe
    dataset: Dataset
    task: Task
    metric: Metric
    extra_metrics: list[Metric]
    scheme: str
    splits: list[tuple[np.ndarray, np.ndarray]]
    models: dict[str, ModelSpec]
    preprocessors: dict[str, PreprocessorSpec]
    registry: Registry
    baselines: dict[str, ModelSpec] = field(default_factory=dict)
    repeats: int = 1
    routed: str = ""  # what ``validation.scheme: auto`` chose, and why
    test_rows: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    notes: list[str] = field(default_factory=list)  # facts inferred from the data
    cautions: list[str] = field(default_factory=list)  # the warnings of the data (resolve)

    @property
    def all_models(self) -> dict[str, ModelSpec]:
        """The searched models and the baselines."""
        return {**self.models, **self.baselines}

    def spec(self, model: str) -> ModelSpec:
        """The spec of ``model``: this search's, or the registry's for a model that an
        earlier run of a resumed study searched (its ``models`` list changed since)."""
        found = self.all_models.get(model) or self.registry.models.get(model)
        if found is None:
            off = [f"{p.name} ({p.error})" for p in self.registry.plugins if p.status == "disabled"]
            raise ArtifactError(
                f"model '{model}' of this study is not registered here; install the plugin "
                "that provides it (see `automl-fin plugins`)"
                + (f", or turn on a plugin turned off here: {', '.join(off)}" if off else "")
            )
        return found

    @property
    def search_rows(self) -> np.ndarray:
        """Rows the search may see: all but the final test rows (and their purge)."""
        used = np.zeros(len(self.dataset.y), dtype=bool)
        for train, valid in self.splits:
            used[train] = used[valid] = True
        return np.flatnonzero(used)

    @property
    def bagging(self) -> bool:
        """Whether the predictor and the final test use bags of fold models
        (:mod:`automl_fin.engine._bag`): ``recipe.bagging``; ``auto`` bags k-fold
        models up to :data:`BAG_ROWS` rows (a holdout's single model or walk-forward's
        early windows would be worse than a refit on all rows)."""
        wanted = self.recipe.bagging
        if wanted != "auto":
            return bool(wanted)
        return self.scheme in ("kfold", "stratified_kfold") and len(self.dataset.y) <= BAG_ROWS

    @property
    def refits_bounded(self) -> bool:
        """Whether refits after the search are bounded by the time budget
        (:mod:`automl_fin.results._refits`): ``bagging: auto`` under ``budget.seconds``."""
        return self.recipe.bagging == "auto" and self.recipe.budget.seconds is not None

    @property
    def keeps_folds(self) -> bool:
        """Whether the search keeps its trials' fold models: to bag them, or to stand in
        for a refit after the search that would take too long (:attr:`refits_bounded`)."""
        return self.bagging or self.refits_bounded

    @property
    def on_own_data(self) -> bool:
        """Whether the run is on its recipe's own bundled data set (its description
        describes that data, not a user's table)."""
        own = self.recipe.data.dataset
        return bool(own) and self.dataset.source == f"bundled:{own}"

    @property
    def decision_metric(self) -> Metric | None:
        """The metric a decision rule chooses the labels for
        (:mod:`automl_fin.results._decision`): ``cost`` where the recipe gives costs,
        else the search metric where it is scored on labels a rule may choose; ``None``:
        labels are the arg-max of the probabilities."""
        if not self.task.is_classification:
            return None
        for m in (self.metric, *self.extra_metrics):
            if m.factors is not None:
                return m
        m = self.metric
        return m if m.labels and m.decidable else None

    @property
    def width(self) -> int:
        """Columns of a prediction: the number of classes, or 1 for regression."""
        return self.dataset.n_classes if self.task.is_classification else 1

    def max_folds(self, model: str) -> int:
        """How many splits a trial of ``model`` is scored on (``ModelSpec.max_folds``)."""
        spec = self.spec(model)
        limit = self.recipe.model_options.get(model, {}).get("max_folds", spec.max_folds)
        return len(self.splits) if limit is None else max(1, min(int(limit), len(self.splits)))

    def prior_shift(self, plan: Plan, rows: np.ndarray) -> np.ndarray | None:
        """The factors that map back the probabilities of the plan's model fitted on
        ``rows`` with class weights (:mod:`~automl_fin.engine._prior_shift`), or
        ``None``."""
        if not self.spec(plan.model).prior_shift:
            return None
        y = self.dataset.y[rows]
        # the recipe's fixed options reach the builder too, after the trial's parameters
        params = {**plan.params, **self.recipe.model_options.get(plan.model, {})}
        # a cost's decision weighs probabilities that are on scale: mapped back for it
        chooser = self.decision_metric
        labels = self.metric.labels and (chooser is None or chooser.factors is None)
        return factors(params, plan.calibration, labels, y, self.width)

    def score(
        self,
        train: np.ndarray,
        valid: np.ndarray,
        pred: np.ndarray,
        *,
        decision: Sequence[float] | None = None,
    ) -> float:
        """The search metric alone (see :meth:`scores`)."""
        return self.scores(train, valid, pred, extras=False, decision=decision)[self.metric.name]

    def scores(
        self,
        train: np.ndarray,
        valid: np.ndarray,
        pred: np.ndarray,
        *,
        extras: bool = True,
        decision: Sequence[float] | None = None,
    ) -> dict[str, float]:
        """Every metric of the recipe for predictions ``pred`` of rows ``valid`` by a model
        fitted on rows ``train``; forecasts are scored in their reported units against
        the random walk and the training rows' mean. ``decision``: a decision rule's
        per-class factors, which label metrics score the labels of
        (:mod:`automl_fin.results._decision`); without one, those of the costs' decision
        (:attr:`decision_metric`), else the arg-max; under costs whose least expected
        cost no factors give (``Metric.matrix``), the labels of least expected cost of
        the weighted probabilities."""
        y = self.dataset.y
        scale = self.dataset.scale
        ref = None
        truth = y[valid]
        if scale is not None:
            truth, pred = scale.to_report(truth, valid), scale.to_report(pred, valid)
            zero = np.zeros(len(valid))
            ref = Reference(
                naive=scale.to_report(zero, valid),
                mean=scale.to_report(zero + float(np.mean(y[train])), valid),
            )
        metrics = (self.metric, *self.extra_metrics) if extras else (self.metric,)
        if decision is not None and np.ndim(pred) != 2:
            raise ValueError("a decision rule needs class probabilities, one column a class")
        chooser = self.decision_metric
        if decision is None and chooser is not None:
            decision = chooser.factors  # a cost's decision (None: the arg-max)
        labelled = pred if decision is None else pred * np.asarray(decision)
        if chooser is not None:  # costs whose least expected cost no factors give
            labelled = least_cost(labelled, chooser.matrix)
        return {m.name: m(truth, labelled if m.labels else pred, ref) for m in metrics}

    def _costs_words(self) -> str:
        """How the labels are chosen under costs, for the run's summary line ("" without
        costs): by the costs' weights, or by each row's least expected cost; under
        another label metric, that it ranks the rows by those labels, not their cost."""
        chooser = self.decision_metric
        if chooser is None or chooser.factors is None:
            return ""
        classes = self.dataset.classes
        how = (
            "least expected cost"
            if chooser.matrix is not None
            else "cost (weights "
            + ", ".join(f"{c} {w:.3g}" for c, w in zip(classes, chooser.factors, strict=True))
            + ")"
        )
        ranked = (
            f"; rows ranked by the {self.metric.name} of those labels (--set metric={COST}: "
            "by their cost)"
            if self.metric.labels and self.metric is not chooser
            else ""
        )
        return f", labels chosen for their {how}{ranked}"

    def context(self, seed: int, *, model: str = "", n_rows: int = 0) -> BuildContext:
        """The build context for one estimator (``model`` selects its recipe options)."""
        return BuildContext(
            task=self.task,
            seed=seed,
            n_classes=self.dataset.n_classes,
            n_rows=n_rows or len(self.dataset.y),
            n_jobs=self.recipe.n_jobs,
            options=self.recipe.model_options.get(model, {}),
        )

    def portfolio(self) -> list[tuple[str, dict[str, Any]]]:
        """The portfolio trials to run first (``recipe.portfolio``), cheapest first:
        ``(name:index, trial parameters)``. An entry with a value outside its space is a
        plugin bug: it is left out with a warning naming plugin, model and parameter."""
        from automl_fin.plugin._registry import PluginWarning

        wanted = self.recipe.portfolio
        entries = []
        ctx = self.context(self.recipe.seed)  # as sampling sees it
        for name, spec in self.models.items():
            if wanted is False or (wanted is not True and name not in wanted):
                continue
            provider = self.registry.providers[name]
            try:  # a plugin's bug costs its own entries, never the search
                configs = spec.portfolio_for(ctx)
                known = spec.parameter_names(ctx)
            except Exception as exc:
                message = f"{provider}: model '{name}' portfolio: {exc}; its entries left out"
                warnings.warn(message, PluginWarning, stacklevel=2)
                continue
            for i, config in enumerate(configs):
                try:
                    if unknown := sorted(set(config) - known):  # a typo, sampled instead
                        raise ValueError(
                            f"{', '.join(map(repr, unknown))} not in its space "
                            f"(parameters: {', '.join(sorted(known)) or 'none'})"
                        )
                    pinned = self.recipe.model_options.get(name, {})  # fixed by the recipe
                    config = {**config, **{k: v for k, v in pinned.items() if k in known}}
                    space = pinned_space(spec.space_for(ctx), pinned)
                    params = {"model": name, **fixed_values(name, space, config)}
                    params.update(self._plain_preprocessing(name, spec, ctx))
                except Exception as exc:
                    message = f"{provider}: model '{name}' portfolio[{i}]: {exc}; entry left out"
                    warnings.warn(message, PluginWarning, stacklevel=2)
                    continue
                entries.append((spec.cost, name, i, params))
        entries.sort(key=lambda e: e[:3])
        return [(f"{name}:{i}", params) for _, name, i, params in entries]

    def _plain_preprocessing(self, name: str, spec: ModelSpec, ctx: BuildContext) -> dict[str, Any]:
        """A portfolio trial's preprocessing: the model's ``portfolio_steps``, else the
        cheapest preprocessor of each slot, with its ``defaults`` (an optional slot
        skipped), no calibration."""
        own = {
            n for n in self.preprocessors
            if self.registry.providers[n].distribution == OWN_DISTRIBUTION
        }  # fmt: skip
        recorder = _Cheapest(self.preprocessors, ctx, spec.portfolio_steps, own)
        sample_plan(recorder, {name: spec}, self.preprocessors, set(self.dataset.kinds.values()),  # type: ignore[arg-type]
                    ctx, calibration=self.recipe.calibration)  # fmt: skip
        return recorder.chosen

    def summary(self) -> str:
        """One line saying what will be searched (and what ``auto`` resolved to), then a
        line for each fact inferred from the data (and how to change it)."""
        ds = self.dataset
        kinds = self.kind_words()
        baselines = f"; baselines: {', '.join(self.baselines)}" if self.baselines else ""
        # a model that reads the text itself sees no other column (a chosen text network
        # ignored a table's numbers without a word)
        others = sum(kind is not ColumnKind.TEXT for kind in ds.kinds.values())
        raw = sorted(n for n, spec in self.models.items() if takes_raw_text(spec))
        unused = (
            f"\n  note: {', '.join(raw)} read{'s' * (len(raw) == 1)} the text alone: "
            f"{'its' if len(raw) == 1 else 'their'} trials leave the {others} other feature "
            f"column{'s' * (others != 1)} unused"
            if raw and others
            else ""
        )
        costs = self._costs_words()
        # identifiers are left out unsaid where named so (app_id, rownames): counted here
        ids = [repr(c) for c, why in ds.dropped.items() if why == "id column"]
        ids_words = (
            f", {', '.join(ids[:3])}{' …' * (len(ids) > 3)} left out as identifiers "
            "(--set 'data.columns={NAME: numeric}' keeps one)"
            if ids
            else ""
        )
        return (
            (
                f"recipe {self.recipe.name}: task {self.task}, metric {self.metric.name} "
                f"({self.metric.direction}){costs}, validation {self.validation_words()}; "
                f"data {ds.source}: {len(ds.y)} rows, {len(ds.kinds)} features ({kinds})"
                f"{ids_words}; "
                f"models: {', '.join(sorted(self.models))}{baselines}"
            )
            + "".join(f"\n  inferred: {note}" for note in self.notes)
            + unused
        )

    def kind_words(self) -> str:
        """The feature columns by kind: ``13 categorical, 7 numeric``; text columns named
        (a few: the column the text models read)."""
        counts = Counter(str(kind) for kind in self.dataset.kinds.values())
        texts = [str(c) for c, k in self.dataset.kinds.items() if k is ColumnKind.TEXT]
        named = f": {', '.join(map(repr, texts))}" if 0 < len(texts) <= 3 else ""
        return ", ".join(
            f"{n} {k}" + (named if k == "text" else "") for k, n in sorted(counts.items())
        )

    def validation_words(self) -> str:
        """The validation scheme in words: ``stratified_kfold (5 splits; 200 final test
        rows held out)``."""
        ds = self.dataset
        v = self.recipe.validation
        folds = f"{len(self.splits)} splits" if self.scheme != "holdout" else "holdout"
        if self.repeats > 1 and self.scheme != "holdout":
            folds += f": {len(self.splits) // self.repeats} folds x {self.repeats} repeats"
        elif self.repeats > 1:  # (each repeat another random split)
            folds += f" x {self.repeats} repeats"
        if self.routed:
            folds += f", {self.routed}"
        if self.scheme == "walk_forward":
            purge = self.recipe.data.series.horizon - 1 if self.recipe.data.series else 0
            folds += f", {v.window} window, purge {purge} + embargo {v.embargo} steps"
            folds += ", in the rows' order: no data.time" if ds.times is None else ""
        if len(self.test_rows):
            folds += f"; {len(self.test_rows)} final test rows held out"
            if ds.times is not None:
                span = ds.times[self.test_rows]
                folds += f" ({_day(span.min())} to {_day(span.max())})"
        return f"{self.scheme} ({folds})"


def _day(stamp: object) -> str:
    return str(pd.Timestamp(stamp).date()) if isinstance(stamp, np.datetime64) else str(stamp)


def _unavailable(specs: Mapping[str, Any], wanted: set[str] | None) -> dict[str, str]:
    """The specs a search would use that cannot run here, with why (``available()``)."""
    out = {}
    for name, spec in specs.items():
        if (wanted is None or name in wanted) and (reason := unavailable(spec)):
            out[name] = reason
    return out


CAUTIONS = 20  # warnings of the data a problem keeps, each cut to CAUTION_CHARS
CAUTION_CHARS = 600


def resolve(
    recipe: Recipe,
    data: str | Path | pd.DataFrame | None,
    registry: Registry,
    *,
    soft: frozenset[str] = frozenset(),
) -> Problem:
    """Bind ``recipe`` to its data and the registered plugins. ``soft``: the recipe's
    table facts that are only hints for ``data`` (:func:`automl_fin.data._table_facts.loosened`);
    the problem's recipe is the one settled against the data. Composes: the data
    (:mod:`automl_fin.data._loading`), the metrics, the validation splits, the specs.

    The warnings given meanwhile (a leaking column, copied rows, codes for missing
    values) are given as ever and kept in ``Problem.cautions``: the report's limitations
    and the predictor's manifest say them (a leaky model's 0.9985 stood in the report
    without a word, a prober's find)."""
    caught: list[warnings.WarningMessage] = []
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            problem = _resolve(recipe, data, registry, soft)
    finally:  # given after, as they came (the caller's filters apply), also on a refusal
        seen: dict[Any, Any] = {}  # (one registry: a line's repeats given once, as before)
        for w in caught:
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno, registry=seen,
                                   source=w.source)  # fmt: skip
    said = [str(w.message) for w in caught if issubclass(w.category, UserWarning)]
    problem.cautions = [cut_at_word(m, CAUTION_CHARS) for m in dict.fromkeys(said)][:CAUTIONS]
    return problem


def _resolve(
    recipe: Recipe,
    data: str | Path | pd.DataFrame | None,
    registry: Registry,
    soft: frozenset[str],
) -> Problem:
    recipe.check_names(registry)
    listed = recipe.data.classes is not None and "data.classes" not in soft  # (not inferred)
    settled = settle_data(recipe, data, soft)
    recipe = settled.recipe
    dataset = dataset_of(recipe, settled.frame, settled.source)
    _say_numbers_as_classes(recipe, dataset, settled)
    if recipe.validation.scheme == "auto" and not recipe.data.time and not recipe.data.series:
        dates = [c for c, k in dataset.kinds.items() if k is ColumnKind.DATETIME] or [
            c  # or period numbers named as a time (fpp2's goog: time 1 ... 1000)
            for c, k in dataset.kinds.items()
            if k is ColumnKind.NUMERIC and period_count(str(c), settled.frame[c])
        ]
        parts = None if dates else find_time_parts(settled.frame)
        if parts and parts[0] in dataset.kinds and _in_time_order(settled.frame, parts):
            dates = [parts[0]]  # year, quarter (statsmodels' macrodata), rows in that order
        if dataset.task is Task.REGRESSION and len(dates) == 1:  # a quantity over time
            why = _time_unusable(settled.frame[dates[0]], recipe.validation.n_splits)
            if why:
                fix = (
                    "write the time as one date column"
                    if parts
                    else f"fix that and --set data.time={dates[0]}"
                )
                settled.notes.append(
                    f"'{dates[0]}' holds dates but {why}: validated on shuffled rows; to "
                    f"validate in time order, {fix}"
                )
            else:
                recipe.data.time = dates[0]
                dataset = _read_again(recipe, settled)
                if all(k is ColumnKind.CATEGORICAL for k in dataset.kinds.values()):
                    how = run_command("price", dataset.source, dataset.target)
                    warnings.warn(  # a panel of prices: a mean a series (RMSE 450 for 27)
                        f"{dataset.source}: '{dataset.target}' over '{dates[0]}' has no "
                        f"feature but {', '.join(map(repr, dataset.kinds))}: a model learns "
                        "the level of each, not the series' past; to forecast each series "
                        f"from its own past: {how}",
                        stacklevel=3,
                    )
                written = f" (the time in parts: {', '.join(map(repr, parts))})" if parts else ""
                past = run_command("price", dataset.source, dataset.target, dates[0])
                settled.notes.append(
                    f"time '{dates[0]}'{written}: a numeric target beside one date column is "
                    "validated walk-forward in time order, never on shuffled rows (the "
                    "future would train the past); to shuffle: --set validation.scheme=kfold. "
                    f"Its own past is no feature here; to forecast it from its past: {past}"
                )
    _say_dated_cases(recipe, dataset, settled.notes)
    if dataset.task is Task.REGRESSION and not recipe.data.series:
        warn_future_values(dataset)
    text = _text_column(recipe, dataset, registry)
    if text is not None:  # read again with it as text (a column of the user's own kind stays)
        recipe.data.columns = {**recipe.data.columns, text: ColumnKind.TEXT}
        dataset = _read_again(recipe, settled)
        distinct = dataset.X[text].nunique()
        settled.notes.append(
            f"'{text}' is text ({distinct:,} distinct values in {len(dataset.X):,} rows): the "
            f"recipe's text models need a text column; to keep it a category: --set "
            f"data.columns.{text}=categorical"
        )
    check_column_options(recipe, dataset.kinds, registry.models, soft, settled.source,
                         settled.notes)  # fmt: skip
    dataset, kept = _without_rare_classes(recipe, dataset, listed)
    metric, extra = _metrics(recipe, dataset)
    settled.notes.extend(  # recall:minority names no class: which one it scores
        f"{m.name}: the {m.description}"
        for m in [metric, *extra]
        if m.name.rpartition(":")[2] in ("minority", "majority")
    )
    checked = _validation(recipe, dataset, kept)
    models, preprocessors, baselines = _specs(recipe, dataset, registry)
    _warn_unconstrained(recipe, models)
    _check_named(recipe, dataset, registry)
    _check_reality(recipe, metric)
    return Problem(
        recipe=recipe,
        dataset=dataset,
        task=dataset.task,
        metric=metric,
        extra_metrics=extra,
        scheme=checked.scheme,
        splits=checked.splits,
        models=models,
        preprocessors=preprocessors,
        registry=registry,
        baselines=baselines,
        repeats=checked.repeats,
        test_rows=checked.test_rows,
        routed=checked.routed,
        notes=settled.notes,
    )


def _metrics(recipe: Recipe, dataset: Dataset) -> tuple[Metric, list[Metric]]:
    """The search metric and the recipe's extra metrics for this data's task."""
    task = dataset.task
    metric_name = default_metric(task, recipe.costs) if recipe.metric == "auto" else recipe.metric
    classes = dataset.classes
    counts = np.bincount(dataset.y, minlength=len(classes)).tolist() if classes else None
    found = {"source": recipe.source, "classes": classes, "counts": counts, "costs": recipe.costs}
    metric = get_metric(metric_name, task, field="metric", **found)
    if recipe.costs is not None and not task.is_classification:
        raise RecipeError(recipe.source, "costs", f"costs are of class labels; task '{task}' "
                          "has none: set costs: null")  # fmt: skip
    named = extra_names(metric.name, recipe.metric, recipe.metrics, task, classes, recipe.costs)
    if task is Task.MULTICLASS and not recipe.data.ordered:  # qwk: an order's metric
        if "qwk" in recipe.metrics and "ordered" not in recipe.data.model_fields_set:
            warnings.warn(  # (risk_tier's own line says its order was not found)
                f"{recipe.source}: metrics lists qwk, which weighs a wrong label by its "
                f"distance in the classes' order, and the classes of '{dataset.target}' have "
                "none: left out; where they are ordered, list them lowest first (--set "
                "'data.classes=[LOWEST, ..., HIGHEST]') and --set data.ordered=true",
                stacklevel=3,
            )
        named = [(f, m) for f, m in named if m != "qwk"]  # (risk_tier's, order turned off)
    if metric.name == "qwk" and task is Task.MULTICLASS and not recipe.data.ordered:
        raise RecipeError(  # (its score followed the order the classes were listed in)
            recipe.source, "metric",
            "qwk weighs a wrong label by its distance in the classes' order, and these "
            "classes have none (data.ordered is false): where they are ordered, list them "
            "lowest first and --set data.ordered=true; else choose another metric",
        )  # fmt: skip
    extra = [get_metric(m, task, field=f, **found) for f, m in named]
    if (
        recipe.data.ordered
        and task is Task.MULTICLASS
        and "qwk" not in {metric.name, *recipe.metrics}
    ):
        extra.append(get_metric("qwk", task, field="metrics", **found))  # ordered grades
    if dataset.scale is None:  # each with the recipe field it comes from (metrics[0] ...)
        fields = ["metric", *(f for f, _ in named), *["metrics"] * (len(extra) - len(named))]
        for m, field_name in zip([metric, *extra], fields, strict=True):
            if m.reference:
                raise RecipeError(
                    recipe.source,
                    field_name,
                    f"'{m.name}' scores forecasts against the random walk; it needs data.series",
                )
    return metric, extra


def _say_numbers_as_classes(recipe: Recipe, dataset: Any, settled: Any) -> None:
    """Say where ``task: auto`` read a numeric target of a few whole numbers as plain
    classes (a count of 0, 1, 2, 3, 7, 12; a quartile 1 to 4), and how to have it
    otherwise: nothing said it, where a risk_tier recipe said it ordered them."""
    if recipe.task != "auto" or dataset.task is not Task.MULTICLASS or recipe.data.ordered:
        return
    raw = settled.frame.get(dataset.target)
    if raw is None or not pd.api.types.is_numeric_dtype(raw) or pd.api.types.is_bool_dtype(raw):
        return
    values = ", ".join(map(str, list(dataset.classes)[:8])) + (
        ", ..." if len(dataset.classes) > 8 else ""
    )
    settled.notes.append(
        f"'{dataset.target}' holds {len(dataset.classes)} whole numbers ({values}): read as "
        "classes in no order; as a number: --set task=regression; as ordered classes: --set "
        "data.ordered=true"
    )


def _warn_unconstrained(recipe: Recipe, models: Mapping[str, Any]) -> None:
    """Warn when ``monotone_constraints`` bind some of the search's models and not
    the others: their rows, and an ensemble or stack with one of them among its members,
    are not monotone, and any of those may be the predictor (a constrained XGBoost
    blended with histogram boosting went the wrong way in 299 of 960 steps)."""
    bound = {m for m in models if recipe.model_options.get(m, {}).get("monotone_constraints")}
    free = sorted(set(models) - bound)
    if bound and free:
        warnings.warn(
            f"{recipe.source}: monotone_constraints bind {', '.join(sorted(bound))} only: rows "
            f"of {', '.join(free)} (and an ensemble with them) are not monotone and may be the "
            f"predictor; for a monotone one: --set 'models=[{', '.join(sorted(bound))}]'",
            stacklevel=3,
        )


def _check_reality(recipe: Recipe, metric: Metric) -> None:
    """``reality_check`` needs a baseline to test against and per-row losses."""
    if recipe.reality_check is None:
        return
    if not recipe.baselines:
        raise RecipeError(
            recipe.source,
            "reality_check",
            "tests the best row against a baseline; list one under baselines "
            "(e.g. [historical_mean], [random_walk], [prior]) or set reality_check: null",
        )
    if metric.name not in ROW_LOSSES:
        raise RecipeError(
            recipe.source,
            "reality_check",
            f"needs a metric with per-row losses ({', '.join(ROW_LOSSES)}), not "
            f"'{metric.name}'; change the metric or set reality_check: null",
        )


@dataclass(frozen=True)
class _Validation:
    scheme: str
    routed: str
    splits: list[tuple[np.ndarray, np.ndarray]]
    repeats: int
    test_rows: np.ndarray


def _scheme(recipe: Recipe, dataset: Dataset, searched: int = 0) -> tuple[str, str]:
    """The validation scheme (``auto`` routed by the data) and why it was routed so;
    with ``searched`` (the search rows), k-fold on ``validation.holdout_from`` rows or
    more becomes a holdout (a fold takes seconds to minutes there: trials, not folds,
    get the time)."""
    v = recipe.validation
    scheme, routed = _route(recipe, dataset) if v.scheme == "auto" else (v.scheme, "")
    if scheme in ("stratified_kfold", "kfold") and searched >= (v.holdout_from or np.inf):
        scheme = "holdout"
        routed = (
            f"{v.test_size:.0%} of {searched:,} search rows: k-fold only below "
            f"validation.holdout_from={v.holdout_from}"
        )
    return scheme, routed


def _validation(recipe: Recipe, dataset: Dataset, kept: str = "") -> _Validation:
    """The validation scheme (``auto`` routed by the data), the final test rows held
    out, and the folds of the search rows (``kept``: why classes too rare for them were
    not left out, said with their refusal)."""
    task = dataset.task
    v = recipe.validation
    if v.scheme == "stratified_kfold" and not task.is_classification:  # (auto routes none)
        raise RecipeError(
            recipe.source,
            "validation.scheme",
            "stratified_kfold needs a classification task; use kfold or walk_forward",
        )
    horizon = recipe.data.series.horizon if recipe.data.series else 1
    search_rows, test_rows = split_rows(
        dataset.y,
        v.final_test,
        times=dataset.times,
        purge=horizon - 1 + v.embargo,
        seed=recipe.seed,
        stratify=task.is_classification,
    )
    scheme, routed = _scheme(recipe, dataset, len(search_rows))
    _warn_unused(recipe, scheme)
    repeats = v.repeats
    if repeats == "auto" or (
        routed and scheme == "stratified_kfold" and "repeats" not in v.model_fields_set
    ):  # small data: repeat k-fold until about 2,000 rows are validated (a user's wins)
        repeats = min(3, max(1, -(-SMALL_DATA // len(search_rows))))
    if scheme == "walk_forward":  # time's one order: never repeated (said "2 folds x 2
        repeats = 1  # repeats" of 5 splits, and a trial cut after 2 kept as a repeat)
    try:
        splits = _splits(recipe, dataset, scheme, search_rows, repeats, horizon)
    except DataError as exc:  # name the data and the target
        series = recipe.data.series
        first = max([series.lags, *series.windows]) + 1 if series is not None else 0
        used = (
            f" (data.series' lags and windows use the first {first} rows of each series: "
            "fewer lags or shorter windows leave more)"
            if series is not None and "time steps are too few" in str(exc)
            else ""
        )
        classes = dataset.classes or []
        counted = (  # auto read whole numbers as classes: say so, and the way to a quantity
            recipe.task == "auto"
            and dataset.task is Task.MULTICLASS
            and "fewer rows" in str(exc)
            and _whole_numbers(classes)
        )
        if counted:
            used += (
                f"; '{dataset.target}' was read as {len(classes)} classes (whole numbers, 20 "
                "distinct values or fewer): if it is a count or an amount, --set task=regression"
            )
        if kept and "fewer" in str(exc) and "folds" in str(exc):
            used += f" (not left out: {kept})"
        raise DataError(f"{dataset.source}: target '{dataset.target}': {exc}{used}") from None
    splits = [(search_rows[tr], search_rows[va]) for tr, va in splits]
    return _Validation(scheme, routed, splits, int(repeats), test_rows)


_APPLIES = {  # validation fields read by some schemes only: the schemes that read them
    "embargo": ("walk_forward",),
    "window": ("walk_forward",),
    "train_size": ("walk_forward",),
    "test_size": ("holdout",),
    "n_splits": ("stratified_kfold", "kfold", "walk_forward"),
    "repeats": ("stratified_kfold", "kfold", "holdout"),
}


def _warn_unused(recipe: Recipe, scheme: str) -> None:
    """Warn of validation fields set (away from their defaults) that ``scheme`` does not
    read: ``embargo: 10`` with k-fold, ``test_size`` with walk-forward were ignored
    without a word."""
    v = recipe.validation
    fields = type(v).model_fields
    unused = [
        name
        for name, schemes in _APPLIES.items()
        if scheme not in schemes
        and getattr(v, name) != fields[name].default
        and not (name == "repeats" and v.repeats == "auto")
    ]
    if unused:
        said = ", ".join(f"validation.{n}" for n in unused)
        which = "; ".join(f"only {' or '.join(_APPLIES[n])} reads {n}" for n in unused)
        warnings.warn(
            f"{recipe.source}: {said} {'do' if len(unused) > 1 else 'does'} not apply to "
            f"{scheme} validation and {'are' if len(unused) > 1 else 'is'} ignored ({which})",
            stacklevel=4,
        )


def _without_rare_classes(recipe: Recipe, dataset: Dataset, listed: bool) -> tuple[Dataset, str]:
    """``dataset`` less the rows of classes too rare for the recipe's stratified folds
    (:mod:`automl_fin.data._rare_classes`; the final test's share taken first), and why
    not where they stay (``listed``: the recipe lists the classes, ``data.classes``)."""
    v = recipe.validation
    searched = int(len(dataset.y) * (1 - v.final_test))  # (the final test's share out)
    scheme = _scheme(recipe, dataset, searched)[0]
    if dataset.task is not Task.MULTICLASS or scheme not in ("stratified_kfold", "holdout"):
        return dataset, ""  # (walk-forward and k-fold need no class in every fold)
    if listed:  # (the user's own list: each class is to be predicted, none left out)
        return dataset, ""
    if recipe.task == "auto" and _whole_numbers(dataset.classes):
        return dataset, ""  # a count's tail, likely: the refusal says how to make it a quantity
    need, why, fix = v.n_splits, f"the {v.n_splits} folds", "lower validation.n_splits"
    if scheme == "holdout":
        need, why, fix = 2, "the 2 a stratified holdout needs", ""
    if v.final_test > 0:  # the test's stratified share too, and one row to spare
        need = int(np.ceil(need / (1 - v.final_test))) + 1
        why += f" and the final test ({need} rows)"
        fix = " or ".join(filter(None, [fix, "lower validation.final_test"]))
    return without_rare_classes(dataset, need, why, _named_classes(recipe), fix)


def _named_classes(recipe: Recipe) -> frozenset[str]:
    """The labels the recipe names: its costs' keys (per class, and per class and
    label), its metrics' classes (``recall:Fair``)."""
    names = {m.partition(":")[2] for m in [recipe.metric, *recipe.metrics] if ":" in m}
    for key, value in (recipe.costs or {}).items():
        names.add(str(key))
        if isinstance(value, Mapping):
            names.update(map(str, value))
    return frozenset(names)


def _whole_numbers(classes: Sequence[Any]) -> bool:
    return all(isinstance(c, int | np.integer) and not isinstance(c, bool) for c in classes)


def _read_again(recipe: Recipe, settled: Any) -> Dataset:
    """The dataset of ``settled`` read again under ``recipe`` (a column's role changed);
    its warnings were given by the first reading."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return dataset_of(recipe, settled.frame, settled.source)


def _time_unusable(values: pd.Series, n_splits: int) -> str:
    """Why a date column cannot order a walk-forward validation of ``n_splits`` folds
    (some rows have no date; too few distinct dates), or ``""``; period numbers are
    times too."""
    from automl_fin.data._dates import read_times

    stamps = read_times(values)
    if stamps.isna().any():
        return f"{int(stamps.isna().sum())} rows have none"
    if stamps.nunique() < 2 * (n_splits + 1):
        return f"only {stamps.nunique()} distinct ones, too few for {n_splits} walk-forward folds"
    return ""


def _text_column(recipe: Recipe, dataset: Dataset, registry: Registry) -> str | None:
    """The column read as text for a recipe that names models of text (sentiment) when
    no column reads as text by itself (short texts: titles, headlines of a few words):
    the categorical column whose values are most often distinct (over half of them, or
    :data:`~automl_fin.data._dataset.TEXT_MIN_DISTINCT` values) and longest in words,
    unless ``data.columns`` gives its kind; ``None`` otherwise."""
    if recipe.models == "all" or ColumnKind.TEXT in dataset.kinds.values():
        return None
    specs = [registry.models.get(m) for m in recipe.models]
    if not any(s and (InputKind.TEXT in s.inputs or ColumnKind.TEXT in s.only_with) for s in specs):
        return None
    best, rank = None, (0.0, 0.0)
    for name, kind in dataset.kinds.items():
        if kind is not ColumnKind.CATEGORICAL or name in recipe.data.columns:
            continue
        values = dataset.X[name].dropna().astype(str)
        share = values.nunique() / max(len(values), 1)
        words = float(values.str.split().str.len().mean()) if len(values) else 0.0
        if (share > 0.5 or values.nunique() >= TEXT_MIN_DISTINCT) and (words, share) > rank:
            best, rank = name, (words, share)
    return best


def _specs(
    recipe: Recipe, dataset: Dataset, registry: Registry
) -> tuple[dict[str, ModelSpec], dict[str, PreprocessorSpec], dict[str, ModelSpec]]:
    """The models, preprocessors and baselines this search may use: the recipe's, for
    this task and input, installed here, and each model with the preprocessing it needs."""
    task = dataset.task
    wanted = None if recipe.models == "all" else set(recipe.models)
    wanted_p = None if recipe.preprocessors == "all" else set(recipe.preprocessors)
    unavailable = _unavailable(registry.models, wanted) | _unavailable(
        registry.preprocessors, wanted_p
    )
    if unavailable:  # one line: a bare install leaves out whole model families
        by_reason: dict[str, list[str]] = {}
        for name, reason in unavailable.items():  # a check that failed: whose it is
            by = f" ({registry.providers[name]})" if reason.startswith("its available()") else ""
            by_reason.setdefault(reason, []).append(name + by)
        left = "; ".join(f"{', '.join(names)}: {why}" for why, names in by_reason.items())
        warnings.warn(f"left out of this search (not installed here): {left}", stacklevel=3)
    from automl_fin.engine._recipes import plugins_left_out

    baselines = {}
    if recipe.baselines == "auto":  # the task's own reference row, where installed
        own = ["historical_mean"] if task is Task.REGRESSION else ["prior"]
        if _one_series_over_time(recipe, dataset):  # where it last was, too
            own.append("last_value")
        for name in own:
            spec = registry.models.get(name)
            if spec is not None and spec.baseline:
                baselines[name] = spec
    for i, name in enumerate([] if recipe.baselines == "auto" else recipe.baselines):
        spec = registry.models.get(name)
        if spec is None or task not in spec.tasks:
            known = sorted(n for n, m in registry.models.items() if m.baseline and task in m.tasks)
            raise RecipeError(
                recipe.source,
                f"baselines[{i}]",
                f"no model '{name}' for task '{task}'; "
                f"baselines here: {', '.join(known) or 'none'}"
                + (plugins_left_out(registry) if name not in registry.models else ""),
            )
        baselines[name] = spec
    kinds = set(dataset.kinds.values())
    fit = {
        name: spec
        for name, spec in registry.models.items()
        if (wanted is None or name in wanted)
        and not spec.baseline
        and name not in unavailable
        and (not spec.ordinal or recipe.data.ordered)
        and (wanted is not None or not spec.only_with or spec.only_with & kinds)
        and task in spec.tasks
    }
    models = {n: s for n, s in fit.items() if accepts_input(s, kinds, dataset.X.columns)}
    tabular = kinds - {ColumnKind.TEXT}  # (a table of text alone: nothing for them)
    dense = sorted(  # models of tables that take no text's sparse columns: said, not silent
        n for n, spec in fit.items() if n not in models and ColumnKind.TEXT in kinds
        and tabular and accepts_input(spec, tabular, dataset.X.columns)
    )  # fmt: skip
    if dense:
        text = [str(c) for c, k in dataset.kinds.items() if k is ColumnKind.TEXT]
        warnings.warn(
            f"{dataset.source}: {', '.join(dense)} take no text, so "
            f"{'it is' if len(dense) == 1 else 'they are'} left out for the text of "
            f"{', '.join(map(repr, text))}; --set 'data.drop=[{', '.join(text)}]' searches "
            f"{'it' if len(dense) == 1 else 'them'} on the other columns",
            stacklevel=3,
        )
    if ColumnKind.TEXT not in kinds:  # a text recipe on a table without text: said
        readers = sorted(
            n
            for n in wanted or ()
            if (s := registry.models.get(n)) is not None
            and n not in unavailable
            and n not in models
            and task in s.tasks
            and (takes_raw_text(s) or ColumnKind.TEXT in s.only_with)
        )
        if readers:
            warnings.warn(
                f"{dataset.source}: no column reads as text, so {', '.join(readers)} (the "
                "recipe's models of text) are left out; --set data.columns.COLUMN=text reads "
                "one as text",
                stacklevel=3,
            )
    if not models:
        ordinal = sorted(
            n for n in wanted or () if (s := registry.models.get(n)) is not None and s.ordinal
        )
        needs_order = (
            f"; {', '.join(ordinal)} need{'s' * (len(ordinal) == 1)} ordered classes: "
            "--set data.ordered=true (and data.classes lowest first)"
            if ordinal and task is Task.MULTICLASS and not recipe.data.ordered
            else ""
        )
        raise RecipeError(
            recipe.source,
            "models",
            f"no registered model handles task '{task}' on this data's input"
            + (f" among {sorted(wanted)}" if wanted else "")
            + (needs_order or "; see `automl-fin plugins`"),
        )
    preprocessors = {
        name: spec
        for name, spec in registry.preprocessors.items()
        if (wanted_p is None or name in wanted_p) and task in spec.tasks and name not in unavailable
    }
    ctx = BuildContext(task=task, seed=recipe.seed, n_classes=dataset.n_classes)
    preprocessors = {n: _sound_defaults(p, ctx, registry) for n, p in preprocessors.items()}
    check_coverage(kinds, preprocessors, ctx, recipe.source)
    gaps = {n: unfilled_slots(m, kinds, preprocessors, ctx) for n, m in models.items()}
    usable = {n: m for n, m in models.items() if not gaps[n]}
    why = "; ".join(f"{n} needs {' and '.join(g)}" for n, g in sorted(gaps.items()) if g)
    if not usable:
        raise RecipeError(
            recipe.source,
            "preprocessors",
            f"models {sorted(models)} need preprocessors the recipe leaves out ({why}); add "
            "one that fills each to preprocessors (see `automl-fin plugins`)",
        )
    if why and (wanted is not None or wanted_p is not None):  # (a model named, or steps)
        warnings.warn(
            f"{dataset.source}: {', '.join(n for n in sorted(gaps) if gaps[n])} left out: "
            f"{why}, which no preprocessor the recipe offers fills; add one to preprocessors "
            "(see `automl-fin plugins`) to search them",
            stacklevel=3,
        )
    return usable, preprocessors, baselines


def _sound_defaults(spec: PreprocessorSpec, ctx: BuildContext, registry: Registry) -> Any:
    """``spec`` without the ``defaults`` its space refuses, said once naming its plugin
    (they failed every model's portfolio entries that drew it, each warned as the
    model's)."""
    from automl_fin.plugin._registry import PluginWarning

    if not spec.defaults:
        return spec
    try:
        space = spec.space_for(ctx)
    except Exception:  # a plugin's broken space fails the trials that draw it, as before
        return spec
    sound, wrong = {}, []
    for key, value in spec.defaults.items():
        try:
            fixed_values(spec.name, space, {key: value})
            sound[key] = value
        except ValueError as exc:
            wrong.append(str(exc))
    if not wrong:
        return spec
    warnings.warn(
        f"{registry.providers.get(spec.name, 'a plugin')}: preprocessor '{spec.name}' "
        f"defaults: {'; '.join(wrong)}; portfolio trials sample them instead",
        PluginWarning,
        stacklevel=4,
    )
    return dataclasses.replace(spec, defaults=sound)


def _check_named(recipe: Recipe, dataset: Dataset, registry: Registry) -> None:
    """The models named by ``enqueue`` and ``portfolio`` exist, and each ``enqueue``
    entry's parameters lie in their spaces."""
    named = [(f"enqueue[{i}].model", e.get("model")) for i, e in enumerate(recipe.enqueue)]
    if isinstance(recipe.portfolio, list):
        named += [(f"portfolio[{i}]", name) for i, name in enumerate(recipe.portfolio)]
    for where, name in named:  # a typo; a model this search leaves out is skipped
        if name is not None and name not in registry.models:
            raise RecipeError(
                recipe.source,
                where,
                f"unknown model '{name}'; registered: {', '.join(sorted(registry.models))}",
            )
    ctx = BuildContext(  # as sampling sees the space: a space may widen with the rows
        task=dataset.task, seed=recipe.seed, n_classes=dataset.n_classes, n_rows=len(dataset.y)
    )
    for i, entry in enumerate(recipe.enqueue):
        why = _bad_parameter(entry, registry, ctx)
        if why:
            raise RecipeError(recipe.source, f"enqueue[{i}]", why)
        model = entry.get("model")
        for key, value in entry.items():  # a value the recipe's options fix otherwise
            name = str(key).removeprefix(f"{model}.")
            pinned = (recipe.model_options.get(str(model)) or {}).get(name, value)
            if name != key and pinned != value:
                raise RecipeError(
                    recipe.source, f"enqueue[{i}]",
                    f"'{key}': {value!r}, where model_options.{model}.{name} fixes it at "
                    f"{pinned!r} for every trial; leave it out of the entry or the options",
                )  # fmt: skip


def _splits(
    recipe: Recipe,
    dataset: Dataset,
    scheme: str,
    search_rows: np.ndarray,
    repeats: int,
    horizon: int,
) -> list[tuple[np.ndarray, np.ndarray]]:
    """The validation splits of the search rows (positions within ``search_rows``)."""
    v = recipe.validation
    return make_splits(
        scheme,  # type: ignore[arg-type]
        dataset.y[search_rows],
        n_splits=v.n_splits,
        repeats=repeats,
        test_size=v.test_size,
        seed=recipe.seed,
        stratify=dataset.task.is_classification,
        times=None if dataset.times is None else dataset.times[search_rows],
        horizon=horizon,
        embargo=v.embargo,
        window=v.window,
        train_size=v.train_size,
        labels=dataset.classes,
    )


def _bad_parameter(entry: Mapping[str, Any], registry: Registry, ctx: BuildContext) -> str:
    """Why an ``enqueue`` entry names a parameter no trial has, or a value outside its
    space ("" when it is sound): Optuna would drop such a value without a word."""
    for key, value in entry.items():
        if key in ("model", "calibration") or key.startswith("prep."):
            continue
        spec_name, _, param = key.partition(".")
        spec = registry.models.get(spec_name) or registry.preprocessors.get(spec_name)
        if spec is None or not param:
            return (
                f"'{key}' is not a parameter of this search: use model, calibration, "
                "prep.<kind>.<slot>, or <model or preprocessor>.<parameter>"
            )
        space = spec.space_for(ctx)
        if param not in space:
            known = ", ".join(f"{spec_name}.{p}" for p in space) or "none"
            return f"'{key}': {spec_name} has no parameter '{param}' here (its: {known})"
        if not contains(space[param], value):
            return f"'{key}': {value!r} is outside its space {space[param]}"
    return ""


def _one_series_over_time(recipe: Recipe, dataset: Dataset) -> bool:
    """A numeric target over a time (``data.time``) that holds each time once, not a
    price series (whose recipe has its own baselines): one quantity's path, where the
    value it last had is the reference a model must beat."""
    times = dataset.times
    return (
        dataset.task is Task.REGRESSION
        and bool(recipe.data.time)
        and not recipe.data.series
        and times is not None
        and len(pd.unique(times)) == len(times)
    )


def _say_dated_cases(recipe: Recipe, dataset: Dataset, notes: list[str]) -> None:
    """Note a class target beside one date column validated on shuffled folds: ISLR's
    Smarket with its trading days was scored on folds that trained on later days,
    and its final test drawn at random, unsaid."""
    dates = [c for c, k in dataset.kinds.items() if k is ColumnKind.DATETIME]
    scheme = recipe.validation.scheme
    if not dataset.task.is_classification or len(dates) != 1 or scheme not in (
        "auto", "stratified_kfold", "kfold"
    ):  # fmt: skip
        return
    from automl_fin.data._dates import read_times

    first, last = _span(read_times(dataset.X[dates[0]]).dropna())  # (text sorts 12/31 last)
    time = shlex.quote(f"data.time={dates[0]}")
    notes.append(
        f"'{dates[0]}' holds dates ({first} to {last}): a class is validated on shuffled "
        "rows, as for cases drawn at random; where new cases come later in time (last "
        "year's applications for next year's), validate in time order: --set "
        f"{time} --set validation.scheme=walk_forward"
    )


def _span(values: pd.Series) -> tuple[str, str]:
    """The first and the last of a time column's values, as text (a date's day alone)."""

    def said(v: Any) -> str:
        return (
            v.strftime("%Y-%m-%d") if isinstance(v, pd.Timestamp) and v == v.normalize() else str(v)
        )

    return said(values.min()), said(values.max())


def _in_time_order(frame: pd.DataFrame, parts: Sequence[str]) -> bool:
    """Whether the time ``parts`` (year first) read as years of 1800-2200 with the rows
    in their order: an exported series, not a table of birth years and months (taken
    as time, its folds would train on old cohorts and validate on new ones)."""
    values = frame[list(parts)].apply(pd.to_numeric, errors="coerce")
    if values.isna().any().any() or not values[parts[0]].between(1800, 2200).all():
        return False
    key = np.zeros(len(values))
    for part in parts:  # year, then month or quarter, then day: one number in their order
        key = key * 100 + values[part].to_numpy(dtype=float)
    return bool(len(key) > 1 and (np.diff(key) >= 0).all())


def _route(recipe: Recipe, dataset: Dataset) -> tuple[str, str]:
    """``validation.scheme: auto``: the scheme of the built-in recipe this data resembles,
    and why (said in the run summary)."""
    task = dataset.task
    text = [c for c, k in dataset.kinds.items() if k is ColumnKind.TEXT]
    if recipe.data.time:
        how = "a price series" if recipe.data.series else f"time column '{recipe.data.time}'"
        return "walk_forward", f"as recipe 'price' ({how})"
    if text and task.is_classification:
        return "stratified_kfold", f"as recipe 'sentiment' (text column '{text[0]}')"
    if task is Task.BINARY:
        return "stratified_kfold", "as recipe 'default' (binary target)"
    if task is Task.MULTICLASS:
        return "stratified_kfold", f"as recipe 'risk_tier' ({dataset.n_classes} classes)"
    return "kfold", "shuffled k-fold (numeric target, no time column)"


class _Cheapest:
    """Stands in for a trial to fix a portfolio trial's plain preprocessing: records the
    model's choice of a slot (``ModelSpec.portfolio_steps``) where offered, else the
    cheapest (skipping an optional slot; of equal costs, automl-fin's own, ``own``: a
    third-party log transform named before ``standard_scale`` had taken the built-in
    models' portfolio trials), no calibration, and the chosen preprocessors'
    ``defaults``; everything else is left to the sampler."""

    def __init__(
        self,
        preprocessors: dict[str, PreprocessorSpec],
        ctx: BuildContext,
        steps: Mapping[Slot, str],
        own: set[str] = frozenset(),  # type: ignore[assignment]
    ) -> None:
        self.preprocessors = preprocessors
        self.own = own
        self.ctx = ctx
        self.steps = {str(slot): name for slot, name in steps.items()}
        self.chosen: dict[str, Any] = {}

    def suggest_categorical(self, name: str, choices: Any) -> Any:
        if name == "calibration" or name.startswith("prep."):
            cost = {c: self.preprocessors[c].cost for c in choices if c in self.preprocessors}
            wanted = self.steps.get(name.split(".")[2]) if name.startswith("prep.") else None
            if wanted in choices:  # prep.<kind>.<slot>[...]: the model's own choice
                pick = wanted
            else:
                pick = (
                    NONE
                    if NONE in choices
                    else min(choices, key=lambda c: (cost.get(c, 0), c not in self.own, c))
                )
            self.chosen[name] = pick
            return pick
        return self._default(name, choices[0])

    def suggest_float(self, name: str, low: float, high: float, **kw: Any) -> float:
        return self._default(name, low)

    def suggest_int(self, name: str, low: int, high: int, **kw: Any) -> int:
        return self._default(name, low)

    def _default(self, name: str, fallback: Any) -> Any:
        owner, _, short = name.partition(".")
        spec = self.preprocessors.get(owner)
        if spec is None or short not in spec.defaults:
            return fallback
        try:
            value = fixed_values(owner, spec.space_for(self.ctx), {short: spec.defaults[short]})
        except ValueError as exc:
            raise ValueError(f"preprocessor '{owner}' defaults: {exc}") from None
        self.chosen.update(value)
        return value[name]
