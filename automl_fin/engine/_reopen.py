"""A run found again after its search: its study, its recipe and its data.

:func:`reopen` loads the study from the storage, rebuilds the recipe stored on it, reads
the data again (the stored location, or ``data``) and checks that it is the data the
study was searched on (same fingerprint).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from automl_fin.errors import DataError, PluginError, StorageError
from automl_fin.storage._runs import folder_name, locate
from automl_fin.storage._storage import default_url, open_storage, redact

REPEATS_SET = "repeats_set"  # study user attribute: validation.repeats was given

if TYPE_CHECKING:
    import optuna
    import pandas as pd

    from automl_fin.engine._problem import Problem
    from automl_fin.plugin._registry import Registry

__all__ = ["Run", "reopen"]


@dataclass
class Run:
    """A study reopened with the problem it was searched on."""

    study: optuna.Study
    problem: Problem
    folder: Path
    storage: Any


def reopen(
    run: str | Path,
    *,
    storage: str | None = None,
    runs_dir: str | Path | None = None,
    data: str | Path | pd.DataFrame | None = None,
    registry: Registry | None = None,
) -> Run:
    """Reopen a run: its study from ``storage`` (default: the SQLite file of the run
    folder's parent), its recipe from the study, and its data, checked by fingerprint."""
    import optuna

    from automl_fin.engine._problem import resolve
    from automl_fin.engine._recipes import Recipe
    from automl_fin.plugin._registry import get_registry

    name, folder = locate(run, runs_dir)
    url = storage or default_url(folder.parent)
    store = open_storage(url, create=False)
    if folder.resolve().name != folder_name(str(run)):  # a folder: its study's name
        named = [s.study_name for s in store.get_all_studies() if folder_name(s.study_name) == name]
        name = named[0] if named else name
    try:
        study = optuna.load_study(study_name=name, storage=store)
    except KeyError:
        raise StorageError(
            f"no study '{name}' in {redact(url)}; pass the run folder or study name of a run "
            "kept in a storage (a ':memory:' run cannot be reopened), and --storage if it is "
            "not the default"
        ) from None
    attrs = study.user_attrs
    if "recipe_config" not in attrs:
        raise StorageError(f"study '{name}' in {redact(url)} was not written by automl-fin run")
    config = dict(attrs["recipe_config"])
    stored = attrs.get("metric")
    if (
        config.get("metric", "auto") == "auto"
        and config.get("costs") is not None
        and (stored not in (None, "cost"))
    ):  # searched before auto meant cost under costs: on the metric it stored
        config["metric"] = stored
    validation = dict(config.get("validation") or {})
    validation.setdefault("holdout_from", None)  # a study from before it: k-fold at any size
    given = attrs.get(REPEATS_SET)  # None: a study of a version that did not say
    if given is False or (given is None and validation.get("scheme") == "auto"
                          and validation.get("repeats") == 1):  # fmt: skip
        validation.pop("repeats", None)  # left to the routing, as when it was searched
    jobs = config.get("n_jobs")
    if isinstance(jobs, int) and (jobs == 0 or jobs < -1):  # refused since; it ran as all
        config = {**config, "n_jobs": -1}
    recipe = Recipe.model_validate({**config, "validation": validation})
    source = str(attrs.get("data_source", ""))
    if data is None and not source.startswith("bundled:"):
        if source.startswith("<") or not Path(source).is_file():
            raise DataError(
                f"run '{name}' was searched on {source or 'data'} that cannot be read again; "
                "pass the same data with --data"
            )
        data = source
    registry = registry or get_registry()
    _check_models(study, name, recipe, registry)
    try:
        problem = resolve(recipe, data, registry)
    except DataError as exc:  # a table without the run's columns: the run's advice, not
        if data is None or "--target" not in str(exc):  # a --target no reopen takes
            raise
        raise DataError(
            f"{str(exc).split(';')[0]}: not the data run '{name}' was searched on; pass the "
            "run's data"
        ) from None
    if problem.dataset.fingerprint != attrs.get("dataset"):
        raise DataError(
            f"{problem.dataset.source}: not the data run '{name}' was searched on (fingerprint "
            f"{problem.dataset.fingerprint}, the run's is {attrs.get('dataset')}); pass the "
            "run's data"
        )
    return Run(study=study, problem=problem, folder=folder, storage=store)


def _check_models(study: Any, name: str, recipe: Any, registry: Any) -> None:
    """Refuse a run searched with a model no installed plugin registers now, naming the
    plugin its trials recorded (it read "<recipe>: field 'models[0]': unknown model")."""
    from automl_fin.engine._resume import gone_models

    said = gone_models(study, recipe.models, registry) if isinstance(recipe.models, list) else None
    if said:
        raise PluginError(
            f"run '{name}' was searched with {said}, which no installed plugin registers now; "
            "install that plugin again (or turn it back on) to reopen the run"
        )
