"""A run found again after its search: its study, its recipe and its data.

A run is named by its study; its files (out-of-fold predictions, predictor, report) sit
in ``<runs_dir>/<folder>/``, where the folder is the study name when that is a safe file
name (letters, digits, ``.``, ``_``, ``-``; at most 100 characters; not starting with a
dot), else a slug of it plus a hash (:func:`folder_name`): a name such as
``../../victim``, ``/abs/path`` or 300 characters long never writes outside the runs
folder, and :func:`run_folder` refuses a folder that a link leads out of it.

:func:`reopen` loads the study from the storage, rebuilds the recipe stored on it, reads
the data again (the stored location, or ``data``) and checks that it is the data the
study was searched on (same fingerprint).
"""

from __future__ import annotations

import difflib
import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from automl_fin.errors import ArtifactError, DataError, StorageError
from automl_fin.storage import DEFAULT_RUNS_DIR, default_url, open_storage, redact

if TYPE_CHECKING:
    import optuna
    import pandas as pd

    from automl_fin.problem import Problem
    from automl_fin.registry import Registry

__all__ = ["Run", "folder_name", "locate", "reopen", "run_folder", "writable"]

SAFE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")
RUN_FILES = ("oof", "predictor", "report.html")  # what a run writes inside its folder


def folder_name(study: str) -> str:
    """The run folder's name for ``study``: the name itself when it is a safe file name,
    else its safe characters (at most 80) and 10 hex digits of its sha256."""
    if SAFE_NAME.fullmatch(study):
        return study
    slug = re.sub(r"[^A-Za-z0-9._-]+", "_", study).strip("._-")[:80] or "study"
    return f"{slug}-{hashlib.sha256(study.encode()).hexdigest()[:10]}"


def writable(runs_dir: str | Path) -> Path:
    """``runs_dir``, created if missing; a file, or a folder this process cannot write
    to, is refused in one line before anything is searched."""
    import tempfile

    folder = Path(runs_dir)
    if folder.exists() and not folder.is_dir():
        raise ArtifactError(f"--runs-dir {folder} is a file; pass a folder (made if missing)")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as exc:
        raise ArtifactError(
            f"--runs-dir {folder} is not writable ({exc.strerror}); pass a folder you can write to"
        ) from None
    return folder


def run_folder(runs_dir: str | Path, study: str) -> Path:
    """The folder of ``study``'s files inside ``runs_dir``, proven to stay there: the
    folder and the files a run writes in it must not be links that lead out of it."""
    root = Path(runs_dir).resolve()
    folder = root / folder_name(study)
    for path in (folder, *(folder / f for f in RUN_FILES)):
        if (path.exists() or path.is_symlink()) and not path.resolve().is_relative_to(root):
            raise ArtifactError(
                f"{path} leads to {path.resolve()}, outside the runs folder {root}; "
                "remove the link (a run writes only inside --runs-dir)"
            )
    return folder


def _is_dir(path: Path) -> bool:
    try:
        return path.is_dir()
    except OSError:  # e.g. a study name too long for a file name
        return False


@dataclass
class Run:
    """A study reopened with the problem it was searched on."""

    study: optuna.Study
    problem: Problem
    folder: Path
    storage: Any


def locate(
    run: str | Path, runs_dir: str | Path | None = None, *, must_exist: bool = False
) -> tuple[str, Path]:
    """The study name and folder of ``run``: a study name with a run in ``runs_dir``, else
    a run folder (``..`` is the study of that name when it has a run, else a folder).
    ``must_exist``: a folder that is not there is an error naming the nearest runs."""
    folder = run_folder(runs_dir or DEFAULT_RUNS_DIR, str(run))
    given = Path(run)
    if not _is_dir(folder) and _is_dir(given):
        return given.resolve().name, given
    if must_exist and not folder.is_dir():
        parent = folder.parent
        runs = sorted(p.name for p in parent.iterdir() if p.is_dir()) if parent.is_dir() else []
        near = difflib.get_close_matches(str(run), runs, n=3, cutoff=0.5) or runs[-3:]
        hint = f"; nearest: {', '.join(near)}" if near else f"; {parent} holds no runs"
        raise ArtifactError(
            f"no run '{run}' in {parent} (pass a run folder, or a study name and --runs-dir){hint}"
        )
    return str(run), folder


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

    from automl_fin.problem import resolve
    from automl_fin.recipes import Recipe
    from automl_fin.registry import get_registry

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
    recipe = Recipe.model_validate(attrs["recipe_config"])
    source = str(attrs.get("data_source", ""))
    if data is None and not source.startswith("bundled:"):
        if source.startswith("<") or not Path(source).is_file():
            raise DataError(
                f"run '{name}' was searched on {source or 'data'} that cannot be read again; "
                "pass the same data with --data"
            )
        data = source
    problem = resolve(recipe, data, registry or get_registry())
    if problem.dataset.fingerprint != attrs.get("dataset"):
        raise DataError(
            f"{problem.dataset.source}: not the data run '{name}' was searched on (fingerprint "
            f"{problem.dataset.fingerprint}, the run's is {attrs.get('dataset')}); pass the "
            "run's data"
        )
    return Run(study=study, problem=problem, folder=folder, storage=store)
