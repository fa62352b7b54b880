"""Recipes: the schema, loading from YAML, overrides, and lookup by name.

A recipe fixes the task, the data's roles, the metric, the validation scheme, the
candidate models and preprocessors, the budget and the seed. Built-in recipes live in
the top-level ``recipes/`` folder; plugins ship more through ``register_recipes``.
Every error names the file and the field.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    field_validator,
    model_validator,
)

from automl_fin.errors import RecipeError
from automl_fin.plugin._specs import (
    TASK_METRICS,
    BuildContext,
    ColumnKind,
    ModelSpec,
    Task,
    max_folds_ok,
)

if TYPE_CHECKING:
    from automl_fin.plugin._registry import Registry

__all__ = [
    "Recipe",
    "asks",
    "content_hash",
    "forecast_words",
    "load_recipe",
    "parse_overrides",
    "stored_hash",
    "with_overrides",
]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    @model_validator(mode="before")
    @classmethod
    def _no_flags_for_numbers(cls, data: Any) -> Any:
        """Refuse true/false where a field takes a number: YAML 1.1 reads ``yes``,
        ``no``, ``on`` and ``off`` as flags, and pydantic took them for 1 and 0
        (``budget: {trials: yes}`` ran one trial, ``seed: on`` seed 1, unsaid)."""
        if not isinstance(data, dict):
            return data
        for name, field in cls.model_fields.items():
            value = data.get(name)
            if isinstance(value, bool) and _takes_number(field.annotation):
                raise ValueError(
                    f"'{name}' takes a number, not {str(value).lower()} (YAML reads yes, "
                    "no, on and off as true and false)"
                )
        return data


def _takes_number(annotation: Any) -> bool:
    """Whether a field of ``annotation`` takes a number and no flag."""
    import typing

    found: set[Any] = set()
    todo = [annotation]
    while todo:
        t = todo.pop()
        args = typing.get_args(t)
        if args and typing.get_origin(t) is not Literal:
            todo += list(args)
        else:
            found.add(t)
    return bool(found & {int, float}) and bool not in found


class DeriveConfig(_Strict):
    """A column made from another by a value mapping (e.g. a risk tier from a grade)."""

    source: str
    map: dict[str, str | int | float | bool]


class SeriesConfig(_Strict):
    """A price series turned into supervised rows (see :mod:`automl_fin.data._timeseries`)."""

    price: str | None = Field(
        None, description="price column; inferred when not given (adj_close, close, price)"
    )
    target: Literal["return", "price"] = "return"
    horizon: int = Field(1, ge=1, le=250, description="steps ahead")
    lags: int = Field(10, ge=2, le=250, description="past one-step returns as features")
    windows: list[Annotated[int, Field(ge=2)]] = Field(  # a one-step window: no spread
        default_factory=lambda: [5, 20, 60], description="rolling windows, 2 steps or more"
    )
    exogenous: list[str] = Field(default_factory=list, description="other columns, lagged")
    exogenous_lags: int = Field(1, ge=1, le=250)
    calendar: bool | list[Literal["day_of_week", "month"]] = Field(
        True,
        description="calendar features of the forecast origin; true: those the series' "
        "spacing supports (day_of_week under a week between prices, month under a year), "
        "listed by the run",
    )
    columns: list[str] = Field(
        default_factory=list,
        description="a wide table's price columns, one series each (e.g. [DAX, SMI]), "
        "stacked into one panel",
    )
    time_parts: list[str] = Field(
        default_factory=list,
        description="columns that write the time in parts (year; month or quarter; day), "
        "read as one date column named by data.time",
    )


class DataConfig(_Strict):
    """Where the data comes from and what its columns mean."""

    path: str | None = None
    dataset: str | None = None
    target: str | None = None
    positive_class: str | int | bool | None = None
    classes: list[str | int | float] | None = None
    ordered: bool = Field(False, description="data.classes are listed in their order")
    columns: dict[str, ColumnKind] = Field(default_factory=dict)
    drop: list[str] = Field(default_factory=list)
    time: str | None = None
    entity: str | None = None
    series: SeriesConfig | None = None
    derive: dict[str, DeriveConfig] = Field(default_factory=dict)
    decimal: Literal[",", "."] | None = Field(
        None, description="a ';'-separated file's decimal mark where its values do not say"
    )

    @field_validator("classes")
    @classmethod
    def _whole(cls, value: list[Any] | None) -> list[Any] | None:
        """Classes of whole numbers as integers (a column of 0/1/2 with a gap reads as
        floats: the classes 0, 1, 2); with a half step among them, as written (1.0,
        1.5, 2.0: the labels its proba columns are named by)."""
        if value is None or any(isinstance(v, float) and not v.is_integer() for v in value):
            return value
        return [int(v) if isinstance(v, float) else v for v in value]


class ValidationConfig(_Strict):
    """How each trial is validated; ``auto`` picks from the task and the time column."""

    scheme: Literal["auto", "stratified_kfold", "kfold", "holdout", "walk_forward"] = "auto"
    n_splits: int = Field(5, ge=2, le=50)
    repeats: Annotated[int, Field(ge=1, le=20)] | Literal["auto"] = Field(
        1, description="repetitions of k-fold; auto: more when the data is small"
    )
    test_size: float = Field(0.2, gt=0, lt=1)
    holdout_from: int | None = Field(
        100_000,
        ge=2,
        description="search rows from which k-fold becomes one holdout of test_size "
        "(null: k-fold at any size)",
    )
    window: Literal["expanding", "sliding"] = "expanding"
    train_size: int | None = Field(
        None, ge=2, description="sliding: time steps per training window"
    )
    embargo: int = Field(0, ge=0, description="time steps dropped after the horizon's purge")
    final_test: float = Field(
        0.0, ge=0, lt=0.9, description="share held out of the search, scored once at the end"
    )


class BudgetConfig(_Strict):
    """When the search stops: after ``trials`` trials or ``seconds`` of wall time."""

    trials: int | None = Field(None, ge=1)
    seconds: float | None = Field(None, gt=0, allow_inf_nan=False)


class Recipe(_Strict):
    """A validated recipe."""

    name: str
    description: str = ""
    task: Task | Literal["auto"] = "auto"
    metric: str = "auto"
    metrics: list[str] = Field(default_factory=list)
    costs: dict[Any, Any] | None = Field(
        None,
        description="classification: what a wrong label costs: {false_negative: 5, "
        "false_positive: 1} (two classes), per class {bad: 5, good: 1}, or per class and "
        "label {bad: {good: 5}, good: {good: -1}}; `cost` is then scored and the labels "
        "that `predict` writes are chosen for it",
    )
    data: DataConfig = Field(default_factory=DataConfig)
    validation: ValidationConfig = Field(default_factory=ValidationConfig)
    models: Literal["all"] | list[str] = "all"
    preprocessors: Literal["all"] | list[str] = "all"
    model_options: dict[str, dict[str, Any]] = Field(default_factory=dict)
    calibration: list[Literal["none", "sigmoid", "isotonic"]] = Field(
        default_factory=lambda: ["none"],
        min_length=1,
        description="classification: probability calibration choices the search tries",
    )
    enqueue: list[dict[str, Any]] = Field(
        default_factory=list,
        description="trials run first with these parameters (e.g. {model: logreg}); "
        "the rest of each is sampled",
    )
    portfolio: bool | list[str] = Field(
        True,
        description="run each model's portfolio (its known-good configurations) first, "
        "cheapest first, after the baselines and `enqueue`; a list: only these models'",
    )
    ensemble: bool = Field(
        True,
        description="after the search, select an ensemble of the top trials' "
        "out-of-fold predictions (a leaderboard row of its own)",
    )
    ensemble_selection: Literal["caruana", "shrunk", "bagged"] = Field(
        "caruana",
        description="how the ensemble weighs its pool: `caruana` (greedy forward "
        "selection), `shrunk` (half of it, half the mean of each family's best "
        "trial: a model with its preprocessing steps) or `bagged` (forward selection on "
        "20 random halves of the pool, averaged)",
    )
    stacking: bool = Field(
        True,
        description="after the search, beside the ensemble (so not with `ensemble: false`), "
        "fit a stack: a logistic (or ridge) layer 2 on the best trials' out-of-fold "
        "predictions, scored on folds it did not see (k-fold schemes; a leaderboard row of "
        "its own)",
    )
    spread: bool = Field(
        True,
        description="model families share the budget: a model with fewer than half its "
        "even share of the finished trials (and, when the budget is time alone, of their "
        "seconds) is tried next, before TPE's choice",
    )
    bagging: bool | Literal["auto"] = Field(
        "auto",
        description="the predictor and the final test average each trial's fold models "
        "(true; its out-of-fold score then estimates exactly that predictor) or refit it "
        "on all rows (false); auto: bagged with k-fold validation up to 20,000 rows, else "
        "refitted, where a quarter of a time budget pays for it (else the fold models)",
    )
    baselines: list[str] | Literal["auto"] = Field(
        default_factory=list,
        description="models scored once each, first, as reference rows; auto: the task's "
        "own (prior for classes, historical_mean for a number) where installed",
    )
    reality_check: float | None = Field(
        None,
        gt=0,
        lt=1,
        description="after the search, test whether the best row beats the best baseline "
        "by more than the luck of every row tried (Hansen's SPA test on the out-of-fold "
        "rows); when its p-value is above this level the predictor is the baseline. "
        "Needs `baselines` and a metric with per-row losses (rmse, r2, oos_r2, mae, mase, "
        "log_loss)",
    )
    predictor: bool = Field(
        True,
        description="after the search, refit the best row on all rows and save it as a "
        "predictor in the run folder",
    )
    report: bool = Field(True, description="after the search, write the run's report.html")
    budget: BudgetConfig = Field(default_factory=lambda: BudgetConfig(trials=50))
    seed: int = Field(default=0, ge=0, lt=2**31)
    pruner: Literal["quartile", "median", "none"] = "quartile"
    racing: bool = Field(
        True,
        description="after folds 2, 3, 5, 8 … (never the last) a trial stops when it is "
        "95 % sure to end below the best completed trial, split by split (not with "
        "`pruner: none`)",
    )
    trial_timeout: float | None = Field(
        None,
        gt=0,
        allow_inf_nan=False,
        description="seconds a trial may run; one that runs longer fails "
        "('timed out after N s') and the search goes on",
    )
    n_jobs: int = Field(1, description="cores a model may use (-1: all)")

    @field_validator("n_jobs")
    @classmethod
    def _cores(cls, value: int) -> int:
        """1 or more, or -1: joblib's -2 (all but one) was read as all cores by the
        thread limits and as itself by scikit-learn's forests, and 0 as all by the one
        and an error by the other."""
        if value == 0 or value < -1:
            raise ValueError(f"{value} cores: give 1 or more, or -1 for all of them")
        return value

    _source: str = PrivateAttr(default="<recipe>")

    @property
    def source(self) -> str:
        """The file (and overrides) this recipe was read from."""
        return self._source

    def check_names(self, registry: Registry) -> None:
        """Fail when the recipe names a model or preprocessor no plugin provides, or
        lists a name twice (``calibration: [none, none]`` failed every trial, blamed on
        its model: "Categorical: 'none' is a choice twice")."""
        for field in ("models", "preprocessors", "calibration", "metrics", "baselines"):
            listed = getattr(self, field)
            if not isinstance(listed, list):
                continue
            for i, name in enumerate(listed):
                if name in listed[:i]:
                    raise RecipeError(
                        self.source, f"{field}[{i}]", f"'{name}' is listed twice; list it once"
                    )
        for field, names, table in (
            ("models", self.models, registry.models),
            ("preprocessors", self.preprocessors, registry.preprocessors),
        ):
            if names == "all":
                continue
            for i, name in enumerate(names):
                if name in table:
                    continue
                plugin = registry.skipped_specs.get(name)
                if plugin is not None:  # its plugin is broken: say so, not "unknown"
                    why = registry.skipped[plugin]
                    raise RecipeError(self.source, f"{field}[{i}]", f"'{name}' is missing: {why}")
                raise RecipeError(
                    self.source,
                    f"{field}[{i}]",
                    f"unknown {field[:-1]} '{name}'; registered: {', '.join(sorted(table))}"
                    " (see `automl-fin plugins`)" + plugins_left_out(registry),
                )


def _check_model_options(recipe: Recipe, registry: Registry) -> None:
    """Refuse ``model_options`` that no model would read: an unknown model's (a typo
    such as ``xgbost``; a plugin turned off or broken here may be the one meant: left
    to it), a column option (``monotone_constraints``) given to a model that does not
    declare it (a histogram boosting model ignored it, and the report said its members
    were fitted with it), and an option one letter off a column option
    (``monotone_constraint``: passed on to XGBoost, which ignored it). Checked when a
    recipe is loaded for a search, not when a stored study is reopened."""
    import difflib

    column_options = {o for spec in registry.models.values() for o in spec.column_options}
    for model, options in recipe.model_options.items():
        spec = registry.models.get(model)
        if spec is None:
            if registry.skipped or any(p.status == "disabled" for p in registry.plugins):
                continue
            near = difflib.get_close_matches(model, sorted(registry.models), n=3)
            raise RecipeError(
                recipe.source,
                f"model_options.{model}",
                f"unknown model '{model}'"
                + (f" (nearest: {', '.join(near)})" if near else "")
                + "; see `automl-fin plugins`",
            )
        for option in options:
            if option == "max_folds" and not max_folds_ok(options[option]):
                raise RecipeError(
                    recipe.source,
                    f"model_options.{model}.max_folds",
                    f"must be a whole number of folds, 1 or more (got {options[option]!r}); "
                    "null scores every fold",
                )
            if option in column_options and option not in spec.column_options:
                takers = sorted(n for n, s in registry.models.items() if option in s.column_options)
                raise RecipeError(
                    recipe.source,
                    f"model_options.{model}.{option}",
                    f"{model} takes no {option} (it would be ignored); models that do: "
                    f"{', '.join(takers)}: set it there and search those models",
                )
            # one letter off a column option (a plugin passes its other options on to its
            # library: LightGBM's monotone_constraints_method is one of them)
            near = difflib.get_close_matches(option, sorted(column_options), n=1, cutoff=0.85)
            if near and near[0] != option and not option.startswith(near[0]):
                raise RecipeError(
                    recipe.source,
                    f"model_options.{model}.{option}",
                    f"unknown option '{option}' (did you mean '{near[0]}'?)",
                )
            _check_read(recipe, model, spec, option, options[option])


ENGINE_OPTIONS = ("max_folds",)  # model options the engine reads itself, for any model


def _check_read(recipe: Recipe, model: str, spec: ModelSpec, option: str, value: Any) -> None:
    """Refuse an option that ``spec`` neither reads (``ModelSpec.options``; ``"*"``: it
    passes the others on to its library) nor searches: a logistic regression ignored
    ``foo: 1``, silently. An option named as a searched parameter fixes it (its one
    choice, :func:`~automl_fin.engine._pipeline.sample_plan`). A model that declares no
    options is let through."""
    if option in (*ENGINE_OPTIONS, *spec.column_options, *(spec.options or ())):
        return
    try:  # (a plugin's space that fails here fails its trials, said there)
        searched = spec.parameter_names(BuildContext(Task.MULTICLASS, 0, 3, 1000))
    except Exception:
        searched = set()
    if option in searched and not (value is None or isinstance(value, bool | int | float | str)):
        raise RecipeError(
            recipe.source, f"model_options.{model}.{option}",
            f"fixes the searched parameter '{option}' to one value: a number, a flag, a "
            f"text or null, not {type(value).__name__} {value!r}",
        )  # fmt: skip
    if option not in searched and spec.options is not None and "*" not in spec.options:
        reads = ", ".join([*ENGINE_OPTIONS, *spec.column_options, *spec.options])
        raise RecipeError(
            recipe.source, f"model_options.{model}.{option}",
            f"{model} reads no option '{option}' and searches no parameter of that name "
            f"(it would be ignored); its options: {reads}; its searched parameters, each "
            f"fixed by an option of its name: {', '.join(sorted(searched)) or 'none'}",
        )  # fmt: skip


def plugins_left_out(registry: Registry) -> str:
    """What an unknown name's error adds: the plugins turned off, and those that failed
    to load (the one's warning; the names of several, whose warnings were given)."""
    off: dict[str, list[str]] = {}
    for p in registry.plugins:
        if p.status == "disabled":
            off.setdefault(p.error or "--no-plugin", []).append(p.name)
    tail = "".join(f"; turned off here: {', '.join(names)} ({how})" for how, names in off.items())
    failed = list(registry.skipped)
    if len(failed) == 1:
        tail += f"; {registry.skipped[failed[0]]}"
    elif failed:
        tail += f"; {len(failed)} plugins failed to load ({', '.join(failed)}): see their warnings"
    return tail


class AliasRefused(yaml.YAMLError):
    """A YAML alias (or merge key) in a recipe or batch file."""

    def __init__(self, anchor: str, line: int, *, merge: bool = False) -> None:
        what = "the merge key <<" if merge else f"the alias *{anchor}"
        super().__init__(
            f"line {line}: {what} is refused: recipes and batches take no YAML anchors, "
            "aliases or merge keys (a few lines of them expand to gigabytes); write the "
            "values out"
        )


class MergeRefused(AliasRefused):
    """A YAML merge key ``<<`` (a ``--set`` value holding one is refused, not text)."""


class DuplicateKey(yaml.YAMLError):
    """A key given twice in one YAML mapping (YAML would keep the last silently)."""

    def __init__(self, key: Any, line: int) -> None:
        super().__init__(
            f"line {line}: '{key}' is given twice in one mapping; keep one (YAML would "
            "read the last only)"
        )


class SafeLoader(yaml.SafeLoader):
    """``yaml.safe_load``'s loader without aliases: no Python objects, and no
    "billion laughs" (nested aliases that expand exponentially when the recipe is
    serialised); an alias raises :class:`AliasRefused` (a merge key ``<<``
    :class:`MergeRefused`), a key given twice in one mapping :class:`DuplicateKey`
    (``costs={high: 5, low: 1, high: 2}`` read as high 2)."""

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise AliasRefused(str(event.anchor), event.start_mark.line + 1)
        return super().compose_node(parent, index)

    def construct_mapping(self, node: Any, deep: bool = False) -> Any:
        if isinstance(node, yaml.MappingNode):
            seen: list[Any] = []
            for key_node, _ in node.value:
                if key_node.tag == "tag:yaml.org,2002:merge":  # (no constructor of its own)
                    raise MergeRefused("", key_node.start_mark.line + 1, merge=True)
                key = self.construct_object(key_node, deep=True)
                if key in seen:
                    raise DuplicateKey(key, key_node.start_mark.line + 1)
                seen.append(key)
        return super().construct_mapping(node, deep=deep)


class TooDeep(yaml.YAMLError):
    """YAML nested deeper than Python's recursion reads (a bare RecursionError before)."""


def load_yaml(text: str, loader: type[SafeLoader] | None = None) -> Any:
    """``text`` read as YAML by :class:`SafeLoader` (or ``loader``, one of its kind)."""
    try:
        return yaml.load(text, Loader=loader or SafeLoader)  # a SafeLoader: no Python objects
    except RecursionError:
        raise TooDeep(
            "nested too deeply (lists or mappings hundreds of levels within each other); "
            "write it flatter"
        ) from None


class _TypedLoader(SafeLoader):
    """YAML as typed after ``--set``: only true and false are booleans (as in YAML 1.2),
    so a label such as yes, no, on or off stays the text that was typed (a boolean
    field still takes it: ``--set ensemble=no``)."""


_BOOL = "tag:yaml.org,2002:bool"
_TypedLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != _BOOL]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_TypedLoader.add_implicit_resolver(
    _BOOL, re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


def forecast_words(series: Mapping[str, Any]) -> str:
    """What a price recipe forecasts, from its ``data.series`` (a mapping, as stored):
    ``log return of 'Close' 1 step ahead`` (or ``price of ...``); its target column is
    ``next_return`` whatever the price and horizon."""
    steps = int(series.get("horizon") or 1)
    unit = "price" if series.get("target") == "price" else "log return"
    return f"{unit} of '{series.get('price')}' {steps} step{'s' if steps != 1 else ''} ahead"


def content_hash(recipe: Recipe) -> str:
    """12 hex digits identifying what ``recipe`` asks for: its content without its name,
    description, seed and budget (so a file ``sub/default.yaml`` that differs from the
    built-in ``default`` has another hash, and two seeds of one recipe the same).

    Fields left at their defaults are not part of it: a field set to its default hashes
    as one left out, and a version that adds a field keeps the hashes of every recipe
    that does not set it."""
    return hashlib.sha256(json.dumps(asks(recipe), sort_keys=True).encode()).hexdigest()[:12]


def asks(recipe: Recipe) -> dict[str, Any]:
    """What ``recipe`` asks for, as JSON: the fields set to other than their defaults,
    without its name, description, seed and budget (:func:`content_hash`'s input). A
    metric named that ``auto`` gives (the task's own, no costs) asks what ``auto`` does:
    the built-in recipes named theirs before ``auto`` meant ``cost`` under costs; under
    costs, ``auto`` asks ``cost``."""
    out = recipe.model_dump(
        mode="json", exclude={"name", "description", "seed", "budget"}, exclude_defaults=True
    )
    task = recipe.task
    if task != "auto" and recipe.costs is None and out.get("metric") == TASK_METRICS[task]:
        del out["metric"]
    if recipe.metric == "auto" and recipe.costs is not None:
        out["metric"] = "cost"  # what auto asks under costs (it asked the task's own before)
    return out


def stored_hash(study_attrs: Mapping[str, Any]) -> str | None:
    """The :func:`content_hash` of a stored study's recipe as this version computes it
    (from the recipe it stored, ``recipe_config``), so that studies stored by earlier
    versions compare with new ones; the hash it stored when its recipe does not read
    here (a newer version's field)."""
    config = study_attrs.get("recipe_config")
    if isinstance(config, dict):
        try:
            return content_hash(Recipe.model_validate(config))
        except ValidationError:
            pass
    stored = study_attrs.get("recipe_hash")
    return None if stored is None else str(stored)


def parse_overrides(items: Iterable[str]) -> dict[str, Any]:
    """Turn ``["budget.seconds=60", ...]`` into ``{"budget.seconds": 60}`` (YAML values;
    yes/no/on/off stay text, see :class:`_TypedLoader`)."""
    out: dict[str, Any] = {}
    for item in items:
        key, sep, raw = item.partition("=")
        if not sep or not key.strip():
            raise RecipeError("--set", None, f"'{item}' is not KEY=VALUE (e.g. budget.seconds=60)")
        if key.strip() in out:  # the last one won, silently (models=[logreg] then [hgb])
            raise RecipeError("--set", key.strip(), "set twice; give it once")
        try:
            out[key.strip()] = load_yaml(raw, _TypedLoader) if raw.strip() else None
        except (DuplicateKey, MergeRefused) as exc:
            raise RecipeError("--set", key.strip(), str(exc).partition(": ")[2]) from None
        except TooDeep as exc:
            raise RecipeError("--set", key.strip(), str(exc)) from None
        except yaml.YAMLError:
            out[key.strip()] = raw
    return out


def _dotted_parts(dotted: str) -> list[str]:
    """The fields of a dotted key; a column name after a map of columns is one key
    whatever dots it holds (R's ``Web.Description``: ``data.columns.Web.Description``
    set a field ``Web``)."""
    parts = dotted.split(".")
    if parts[:2] == ["data", "columns"] and len(parts) > 3:
        return [*parts[:2], ".".join(parts[2:])]
    if parts[0] == "model_options" and len(parts) > 4 and parts[2] == "monotone_constraints":
        return [*parts[:3], ".".join(parts[3:])]
    return parts


def _apply(raw: dict[str, Any], overrides: Mapping[str, Any], source: str) -> None:
    for dotted, value in overrides.items():
        node = raw
        parts = _dotted_parts(dotted)
        for part in parts[:-1]:
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                raise RecipeError(source, dotted, f"'{part}' is not a section, cannot set {dotted}")
            node = child
        node[parts[-1]] = value


def _read_yaml(path: Any, source: str) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise RecipeError(source, None, "file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise RecipeError(source, None, f"cannot be read ({exc})") from None
    try:
        raw = load_yaml(text)
    except (AliasRefused, TooDeep) as exc:
        raise RecipeError(source, None, str(exc)) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise RecipeError(source, None, f"YAML syntax error{where}: {problem}") from None
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise RecipeError(source, None, f"must be a mapping of fields, not {type(raw).__name__}")
    return raw


def _field_of(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif str(part).isidentifier():  # skips pydantic's union-member tags
            out += f".{part}" if out else str(part)
    return out


def load_recipe(
    recipe: str | Path,
    overrides: Mapping[str, Any] | None = None,
    *,
    registry: Registry | None = None,
) -> Recipe:
    """Read and validate a recipe by name (built-in or plugin) or by YAML path.

    ``overrides`` maps dotted field names to values (``{"budget.seconds": 60}``) and wins
    over the file. A file may start from another recipe with ``extends: NAME`` (a recipe
    name, or a .yaml path relative to the file): its fields are the base's, with the
    file's merged over them (sections field by field, lists replaced). Model and
    preprocessor names are checked against ``registry`` when one is given.
    """
    overrides = dict(overrides or {})
    source_path, source, name = _locate(recipe, Path.cwd(), registry)
    raw = _extended(_read_yaml(source_path, source), source, source_path, registry, [source])
    raw.setdefault("name", name)
    result = _validate(raw, source, overrides)
    if registry is not None:
        result.check_names(registry)
        _check_model_options(result, registry)  # a new search's (a stored one reopens)
    return result


def _locate(recipe: str | Path, here: Path, registry: Registry | None) -> tuple[Any, str, str]:
    """Where recipe ``recipe`` is read from: (file, source for errors, default name)."""
    path = Path(recipe)
    if path.suffix in (".yaml", ".yml") or path.exists():
        if not path.is_absolute() and not path.exists() and (here / path).exists():
            path = here / path
        return path, str(path), path.stem
    from automl_fin.plugin._registry import get_registry

    reg = registry or get_registry()
    if str(recipe) not in reg.recipes:
        raise RecipeError(
            str(recipe),
            None,
            f"no recipe named '{recipe}'; known: {', '.join(sorted(reg.recipes))} "
            "(or pass a path to a .yaml file)" + plugins_left_out(reg),
        )
    entry = reg.recipes[str(recipe)]
    source = f"recipes/{entry.path.name}"
    if entry.provider.plugin != "core":
        source = f"{entry.path.name} (plugin '{entry.provider.plugin}')"
    return entry.path, source, entry.name


def _extended(
    raw: dict[str, Any], source: str, path: Any, registry: Registry | None, chain: list[str]
) -> dict[str, Any]:
    """``raw`` merged over the recipe its ``extends`` names (recursively)."""
    base = raw.pop("extends", None)
    if base is None:
        return raw
    if not isinstance(base, str) or not base.strip():
        raise RecipeError(
            source, "extends", f"must be a recipe name or a .yaml path (got {base!r})"
        )
    here = Path(path).parent if isinstance(path, Path) else Path.cwd()
    try:
        base_path, base_source, _ = _locate(base, here, registry)
    except RecipeError as exc:
        raise RecipeError(source, "extends", str(exc).split(": ", 1)[-1]) from None
    if base_source in chain:
        raise RecipeError(source, "extends", f"a cycle: {' -> '.join([*chain, base_source])}")
    try:  # named as what this file's field points at ("../x.yaml: file not found" was not)
        parent = _read_yaml(base_path, base_source)
    except RecipeError as exc:
        said = str(exc).split(": ", 1)[-1]
        if not Path(base_path).exists() and not Path(base).is_absolute():
            said = f"no such file in {here} (beside this file) nor in the working folder"
        raise RecipeError(source, "extends", f"{base!r}: {said}") from None
    parent.pop("name", None)  # the recipe keeps its own name
    parent = _extended(parent, base_source, base_path, registry, [*chain, base_source])
    data = raw.get("data")
    if isinstance(data, dict) and (data.get("path") or data.get("dataset")):
        parent["data"] = _task_fields(parent.get("data") or {})  # other data: its own facts
    return _merged(parent, raw)


def _task_fields(data: dict[str, Any]) -> dict[str, Any]:
    """A recipe's ``data`` section without its data source, target and the facts about
    its table (:data:`automl_fin.data._table_facts.FACTS`): what a recipe on other data keeps."""
    from automl_fin.data._table_facts import FACTS

    out: dict[str, Any] = {}
    for key, value in data.items():
        dotted = f"data.{key}"
        if key in ("path", "dataset", "target") or dotted in FACTS:
            continue
        if isinstance(value, dict):
            value = {k: v for k, v in value.items() if f"{dotted}.{k}" not in FACTS}
        out[key] = value
    return out


def _merged(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merged(out[key], value)
        else:
            out[key] = value
    return out


def with_overrides(recipe: Recipe, overrides: Mapping[str, Any]) -> Recipe:
    """A copy of ``recipe`` with dotted-field ``overrides`` applied and re-validated."""
    if not overrides:
        return recipe
    return _validate(recipe.model_dump(mode="json"), recipe.source, overrides)


def _validate(raw: dict[str, Any], source: str, overrides: Mapping[str, Any]) -> Recipe:
    if overrides:
        _apply(raw, overrides, source)
        source = f"{source} with overrides {', '.join(overrides)}"
    try:
        result = Recipe.model_validate(raw)
    except ValidationError as exc:
        errors = exc.errors()
        err = errors[0]
        field = _field_of(err["loc"])
        got = err.get("input")
        detail = err["msg"]
        same = [e["msg"] for e in errors if _field_of(e["loc"]) == field]
        if len(same) > 1:  # a union: say every accepted form
            forms = dict.fromkeys(m.removeprefix("Input should be ") for m in same)
            detail = "Input should be " + " or ".join(forms)
        flag = re.match(r"Value error, '(\w+)' (takes a number, .*)", detail)
        if err["type"] == "extra_forbidden":
            detail = "unknown field; check the spelling against docs/recipes.md"
        elif flag:  # (a model's check of one of its fields: named as the field)
            field = f"{field}.{flag[1]}" if field else flag[1]
            detail = flag[2]
        elif err["type"] == "value_error":  # a check of ours: its words, its value in them
            detail = detail.removeprefix("Value error, ")
        elif not isinstance(got, dict):
            detail += f" (got {got!r})"
        raise RecipeError(source, field, detail) from None
    result._source = source
    return result
