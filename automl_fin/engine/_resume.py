"""Whether a run fits the study it resumes, beyond its data and recipe (``_search``
checks those): its seed, the choices its trials were asked, the models they used.

Optuna keeps one distribution per parameter name in a study; a categorical asked again
with other choices fails the trial. A study searched with ``models=[logreg, sgd,
linear_svm]`` and run again with ``models=[logreg, sgd]`` (or after a plugin was
installed or removed, under ``models: all``) failed every new trial with
"CategoricalDistribution does not support dynamic value space" while the ensemble,
predictor and report were made again from the old ones. The choices this run would ask
are recorded (each model's plan, sampled by a stand-in trial) and compared with those
the study's trials were asked, before a trial runs; a difference is one line that names
the parameter and what to pass.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import optuna

from automl_fin.engine import _run_state as run_state
from automl_fin.engine._fitting import FirstChoice
from automl_fin.engine._pipeline import sample_plan
from automl_fin.engine._trial_record import TrialRecord
from automl_fin.errors import PluginError, StorageError
from automl_fin.storage._storage import open_storage

if TYPE_CHECKING:
    from automl_fin.engine._problem import Problem
    from automl_fin.engine._recipes import Recipe

__all__ = ["check_choices", "gone_models", "with_study_seed"]

# a worker cannot pick another study: its machine must match the run's
WORKER = "or run the worker where the run's plugins and packages are installed"

Distribution = optuna.distributions.BaseDistribution


def with_study_seed(recipe: Recipe, url: str, name: str, asked: Mapping[str, Any]) -> Recipe:
    """``recipe`` with the seed study ``name`` was made with, where it exists: the seed
    draws its folds and final-test rows, so a run resumed with another one scored its new
    trials on other folds than the old ones (and tested on rows it had searched on). A
    seed left out is the study's; another one asked for is refused in one line."""
    try:
        store = open_storage(url, create=False)
        made = store.get_study_user_attrs(store.get_study_id_from_name(name)).get("seed")
    except (StorageError, KeyError):  # no such study (yet): what follows says the rest
        return recipe
    if made is None or made == recipe.seed:
        return recipe
    if "seed" in asked:
        raise StorageError(
            f"study '{name}' was made with seed {made} (its folds and final-test rows follow "
            f"it), not {recipe.seed}: resume it with --seed {made} or without --seed, or "
            "choose another --study name for this seed"
        )
    # (a copy, not with_overrides: dumped and read again, every field read as given, and
    # auto's routed repeats were bound: "n_splits was 10, is 5" on the same data)
    return recipe.model_copy(update={"seed": int(made)})


def gone_models(
    study: optuna.Study,
    models: list[str],
    registry: Any,
    trials: list[optuna.trial.FrozenTrial] | None = None,
) -> str | None:
    """``models`` (of the study's recipe or trials) that no installed plugin registers
    now, each with the plugin its trials recorded (``'gnb' (probe 0.3 (plugin 'p'))``),
    or ``None``; ``trials``: the study's, where already read."""
    gone = [m for m in models if m not in registry.models]
    if not gone:
        return None
    came = _recorded(trials if trials is not None else study.get_trials(deepcopy=False), gone)
    return ", ".join(f"'{m}'" + (f" ({came[m]})" if m in came else "") for m in gone)


def check_choices(study: optuna.Study, problem: Problem, *, worker: bool = False) -> None:
    """Refuse, in one line, a run whose trials would be asked a parameter with other
    choices (or another kind of range) than the study's trials were, or whose study has
    trials of a model no installed plugin registers now (its ensemble and predictor
    would be made of them)."""
    trials = study.get_trials(deepcopy=False)
    used = sorted({m for t in trials if t.state.is_finished() if (m := TrialRecord.of(t).model)})
    said = gone_models(study, used, problem.registry, trials)
    again = WORKER if worker else "or choose another --study name"
    if said:
        raise PluginError(
            f"study '{study.study_name}' has trials of {said}, which no installed plugin "
            f"registers {'here' if worker else 'now'}; install that plugin again (or turn it "
            f"back on) to {'join' if worker else 'resume'} it, {again}"
        )
    moved = _other_provider(trials, used, problem.registry)
    if moved:  # its trials' scores are another package's model's
        model, (was, now) = next(iter(moved.items()))
        dist = was.split(" ", 1)[0]
        # installed still, it lost the name to a package loaded first: "install it again"
        # did not help
        there = any(p.distribution == dist for p in problem.registry.plugins)
        fix = (
            f"turn the other off (--no-plugin {problem.registry.providers[model].plugin})"
            if there
            else f"install {dist} again"
        )
        raise PluginError(
            f"study '{study.study_name}' scored '{model}' of {was}, but '{model}' "
            f"{'here' if worker else 'now'} is {now}, another package's model; {fix} to "
            f"{'join' if worker else 'resume'} it, {again}"
        )
    stored: dict[str, Distribution] = {}
    for t in trials:
        for key, dist in t.distributions.items():
            stored.setdefault(key, dist)
    was = study.user_attrs.get("models")
    over = run_state.ended(study.user_attrs) is not None
    if "model" not in stored and isinstance(was, list) and len(was) > 1 and not over:
        # no trial has asked it yet, and the run that made the study has not ended: one
        # started with it (both found no study) would search other models in it, trials
        # then on both lists (once it ended, its trials asked none: another list is free)
        stored["model"] = optuna.distributions.CategoricalDistribution(was)
    asked = _asked(problem)
    if "model" in stored and "model" not in asked:  # narrowed to one model: its trials
        asked["model"] = optuna.distributions.CategoricalDistribution(list(problem.models))
    moved_ranges = []
    for key, dist in asked.items():
        if key in stored and not _compatible(stored[key], dist):
            raise StorageError(_differs(study.study_name, key, stored[key], dist, problem, again))
        if key in stored and _bounds(stored[key]) != _bounds(dist):
            moved_ranges.append(f"'{key}' {_bounds(stored[key])} -> {_bounds(dist)}")
    if moved_ranges:  # Optuna takes it: the sampler reads the old trials in the new range
        warnings.warn(
            f"study '{study.study_name}': ranges changed since its trials were asked (a "
            f"plugin's space changed): {', '.join(moved_ranges[:3])}"
            + (", ..." if len(moved_ranges) > 3 else "")
            + "; its trials are resumed in the new ranges (another --study name starts anew)",
            stacklevel=3,
        )


def _recorded(trials: Sequence[optuna.trial.FrozenTrial], models: Sequence[str]) -> dict[str, str]:
    """The plugin each of ``models`` was recorded with by its first trial that says."""
    came: dict[str, str] = {}
    for t in trials:
        record = TrialRecord.of(t)
        if record.model in models and record.plugin:
            came.setdefault(record.model, record.plugin)
    return came


def _other_provider(
    trials: list[optuna.trial.FrozenTrial], used: list[str], registry: Any
) -> dict[str, tuple[str, str]]:
    """The models of ``used`` that another distribution registers now than the one its
    trials recorded (``{model: (then, now)}``; a new version of the same one is not):
    resumed, a study of one package's ``knn`` refitted another's under the first's score."""
    out = {}
    for model, was in _recorded(trials, used).items():
        provider = registry.providers.get(model)
        if provider is not None and was.split(" ", 1)[0] != provider.distribution:
            out[model] = (was, str(provider))
    return out


def _asked(problem: Problem) -> dict[str, Distribution]:
    """The distribution of every parameter this run's trials would be asked (each
    model's plan, with the first choice elsewhere; a preprocessor left unchosen is
    not reached)."""
    asked = _Recorder()
    ctx = problem.context(problem.recipe.seed)
    kinds = set(problem.dataset.kinds.values())
    for name in problem.models:
        asked.fixed = {"model": name}
        try:
            sample_plan(asked, problem.models, problem.preprocessors, kinds, ctx,  # type: ignore[arg-type]
                        calibration=problem.recipe.calibration,
                        fixed=problem.recipe.model_options)  # fmt: skip
        except Exception:  # a plugin's space that fails: its trials say so, naming it
            continue
    return asked.distributions


def _pinned(dist: Distribution) -> bool:
    """A parameter of one choice: a model option fixes it (or a space of one value)."""
    return isinstance(dist, optuna.distributions.CategoricalDistribution) and len(dist.choices) == 1


class _Recorder(FirstChoice):
    """A stand-in trial that records the distribution of each parameter it is asked."""

    def __init__(self) -> None:
        super().__init__()
        self.distributions: dict[str, Distribution] = {}

    def suggest_categorical(self, name: str, choices: Any) -> Any:
        self.distributions[name] = optuna.distributions.CategoricalDistribution(choices)
        return super().suggest_categorical(name, choices)

    def suggest_float(self, name: str, low: float, high: float, **kw: Any) -> float:
        self.distributions[name] = optuna.distributions.FloatDistribution(low, high, **kw)
        return super().suggest_float(name, low, high)

    def suggest_int(self, name: str, low: int, high: int, **kw: Any) -> int:
        self.distributions[name] = optuna.distributions.IntDistribution(low, high, **kw)
        return super().suggest_int(name, low, high)


def _bounds(dist: Distribution) -> str:
    """A range's bounds and step as written (``[3, 60]``; ``""`` for choices)."""
    if isinstance(dist, optuna.distributions.CategoricalDistribution):
        return ""
    low, high = getattr(dist, "low", None), getattr(dist, "high", None)
    step = getattr(dist, "step", None)
    return f"[{low:g}, {high:g}]" + (f" step {step:g}" if step not in (None, 1) else "")


def _compatible(old: Distribution, new: Distribution) -> bool:
    """Whether Optuna takes ``new`` for a parameter its study recorded as ``old``: the
    same kind, the same log scale for a range, the same choices for a categorical."""
    if type(old) is not type(new):
        return False
    if isinstance(old, optuna.distributions.CategoricalDistribution):
        return old == new
    return getattr(old, "log", False) == getattr(new, "log", False)


def _differs(
    name: str, key: str, old: Distribution, new: Distribution, problem: Problem, again: str
) -> str:
    """The one line for parameter ``key`` asked as ``new`` of a study that asked ``old``
    (``again``: the way out besides; a worker's differs from a run's)."""
    lead = f"study '{name}' keeps the choices its trials were asked (Optuna's rule): "
    model, _, param = key.partition(".")
    if param and (_pinned(old) or _pinned(new)):  # a model option fixes it, or fixed it
        was = f"fixed at {old.choices[0]!r}" if _pinned(old) else "searched"  # type: ignore[attr-defined]
        now = f"fixed at {new.choices[0]!r}" if _pinned(new) else "searched"  # type: ignore[attr-defined]
        return (
            f"{lead}'{key}' was {was}, this run has it {now} (model_options.{model}."
            f"{param}): resume it with the study's model_options, {again}"
        )
    if not isinstance(old, optuna.distributions.CategoricalDistribution) or not isinstance(
        new, optuna.distributions.CategoricalDistribution
    ):
        return (
            f"{lead}'{key}' was {old}, this run asks {new} (a plugin's space changed); "
            f"install the plugin version the study was searched with, {again}"
        )
    was, now = list(map(str, old.choices)), list(map(str, new.choices))
    if key == "model":
        from automl_fin.plugin._specs import unavailable

        cannot = {m: why for m in was if m not in now and m in problem.registry.models
                  if (why := unavailable(problem.registry.models[m]))}  # fmt: skip
        if cannot:  # registered, but not runnable here: --set cannot bring it back
            m, why = next(iter(cannot.items()))
            return (
                f"{lead}it searched the models [{', '.join(was)}]; '{m}' cannot run here "
                f"({why}): make it available again to resume it, {again}"
            )
        return (
            f"{lead}it searched the models [{', '.join(was)}], this run [{', '.join(now)}]; "
            f"resume it with --set 'models=[{', '.join(was)}]', {again}"
        )
    if key == "calibration":
        return (
            f"{lead}it chose calibration among [{', '.join(was)}], this run among "
            f"[{', '.join(now)}]; resume it with --set 'calibration=[{', '.join(was)}]', {again}"
        )
    return (
        f"{lead}'{key}' was chosen among [{', '.join(was)}], this run among "
        f"[{', '.join(now)}] (its preprocessors or a plugin changed); resume it with the "
        f"study's settings, {again}"
    )
