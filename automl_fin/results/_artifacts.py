"""Saved predictors: the best leaderboard row refitted on all rows, with a manifest.

A predictor folder holds one pickled pipeline per member (one for a single model, one
per member of an ensemble), for regression the out-of-fold errors behind its prediction
intervals (``residuals.npy``), and ``manifest.json``: the recipe, the dataset fingerprint,
the column schema, the metric and score, package and plugin versions, the creation time
and the sha256 of every file. :func:`load` refuses a folder whose files do not match
their hashes before it unpickles anything.

Unpickling runs code: load predictors only from sources you trust. The hashes catch
corrupted or edited files; someone who can rewrite the manifest as well can forge them.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import io
import json
import os
import pickle
import platform
import shutil
import tempfile
import warnings
from collections.abc import Iterable, Iterator, Mapping
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from automl_fin.errors import ArtifactError
from automl_fin.plugin._specs import Task
from automl_fin.results._explain import BACKGROUND_FILE
from automl_fin.results._intervals import FILE as INTERVAL_FILE
from automl_fin.results._manifest import check as check_manifest
from automl_fin.results._manifest import sign, signing_key, verify
from automl_fin.results._predictor import Member, Predictor, Schema
from automl_fin.results._refits import Allowance, describe_fit, fitted_member
from automl_fin.results._seen import FILE as SEEN_FILE
from automl_fin.results._seen import naive_times, row_hashes, series_names, time_stamp
from automl_fin.results._stability import FILE as STABILITY_FILE
from automl_fin.results._stability import malformed
from automl_fin.storage._runs import OWNER

if TYPE_CHECKING:
    import optuna

    from automl_fin.engine._problem import Problem

__all__ = [
    "FORMAT",
    "MANIFEST",
    "VersionWarning",
    "fit_predictor",
    "load",
    "package_versions",
    "save_predictor",
]

FORMAT = 1
# a manifest with fields an older reader would ignore and mispredict, or refuse as damaged,
# is written as a later format, which such a reader refuses as newer: 2, an ensemble's
# `recalibration`; 3, a decision of least expected cost (`decision.costs`), with a
# recalibration or not; 4, codes' widths in the schema (`columns[].width`), with either
FORMATS = (FORMAT, 2, 3, 4)
MANIFEST = "manifest.json"
PREDICTOR_DIR = "predictor"
# libraries whose objects end up in the pickles (or run them): a difference is warned about
# the core's libraries; each model adds its ModelSpec.libraries and its plugin's distribution
CORE_LIBRARIES = ("automl-fin", "numpy", "pandas", "scipy", "scikit-learn")


class VersionWarning(UserWarning):
    """Installed package versions differ from those a predictor was saved with."""


def manifest_format(recalibration: bool, costs: bool, widths: bool = False) -> int:
    """The format a manifest is written as: the latest whose fields it uses (4 for
    codes' widths, with anything else; 3 for a decision's costs, with or without an
    ensemble's recalibration; 2 for a recalibration alone), so that a reader too old for
    one of them refuses it."""
    if widths:
        return FORMATS[3]
    return FORMATS[2] if costs else FORMATS[1] if recalibration else FORMAT


def fit_predictor(
    study: optuna.Study, problem: Problem, run_dir: str | Path | None = None
) -> Predictor:
    """Refit the study's chosen row (its best completed row, a single model or an
    ensemble; a baseline only when the reality check kept it) on every row of the data
    and return it as a :class:`Predictor`; a regression predictor (not a price forecast)
    also keeps the row's out-of-fold errors for prediction intervals
    (:mod:`automl_fin.results._intervals`; ``run_dir``: where to look for the out-of-fold
    files when the run folder was moved)."""
    from threadpoolctl import threadpool_limits

    from automl_fin.engine._fitting import plan_of
    from automl_fin.engine._trial_record import TrialRecord, is_baseline
    from automl_fin.results._intervals import (
        METHOD,
        SCALED,
        conformity_scores,
        floor_of,
        scale_model,
    )
    from automl_fin.results._members import members_of, oof_of
    from automl_fin.results._reality_check import chosen_row

    p = problem
    best = chosen_row(study, p)
    if best is None:
        raise ArtifactError(f"study '{study.study_name}' has no completed trial to refit")
    record = TrialRecord.of(best)
    rows = np.arange(len(p.dataset.y))
    members, fits, used = [], {}, []  # used: the specs of every member, preprocessors too
    allowance = Allowance(p, study, say=True)
    with threadpool_limits(limits=p.recipe.n_jobs if p.recipe.n_jobs > 0 else None):
        for trial, weight in members_of(study, best):
            try:  # (a spec turned off since: the model's own plugin is still named)
                used += plan_of(trial, p, p.recipe.seed).spec_names()
            except Exception:
                used.append(str(TrialRecord.of(trial).model))
            model, pipe = fitted_member(trial, p, rows, run_dir, allowance)
            fits[str(trial.number)] = describe_fit(pipe)
            members.append(Member(trial=trial.number, model=model, weight=weight, pipeline=pipe))
    ds = p.dataset
    fitted = _fitted_rows(p, members)
    scores, interval = None, None
    if p.task == Task.REGRESSION and ds.scale is None:
        oof = oof_of(study, best, Path(run_dir) if run_dir else None)
        if oof is None:
            interval = {"method": None, "why": "out-of-fold predictions not readable here"}
        else:
            scale = scale_model(ds.y, oof)
            scores = conformity_scores(ds.y, oof, scale)
            interval = {"method": SCALED if scale else METHOD, "rows": len(scores),
                        "file": INTERVAL_FILE, "floor": floor_of(ds.y), "scale": scale}  # fmt: skip
    decision = _decision(study, p, best, run_dir)
    schema = Schema.of(p)
    manifest = {
        "format": manifest_format(
            bool(record.recalibration),
            (decision or {}).get("costs") is not None,
            bool(schema.widths),
        ),
        "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "study": study.study_name,
        "recipe": _recipe_as_run(p),
        "task": str(p.task),
        "target": ds.target,
        "dataset": {"fingerprint": ds.fingerprint, "source": ds.source, "rows": len(ds.y)},
        "metric": {
            "name": p.metric.name,
            "direction": p.metric.direction,
            "score": float(best.value),  # type: ignore[arg-type]
            "score_std": record.score_std,
            "folds": record.folds,
        },
        "best": {"trial": best.number, "model": record.model},
        "stacker": record.stacker,
        "recalibration": record.recalibration,
        "decision": decision,
        "fit": fits,
        "interval": interval,
        "versions": package_versions(_libraries(p, members)),
        # every spec the members' pickles hold (a preprocessor's plugin too: uninstalled,
        # the predictor could only name its module)
        "plugins": {
            name: str(p.registry.providers[name])
            for name in dict.fromkeys(used)
            if name in p.registry.providers
        },
        "training": _training_facts(p, fitted),
    }
    predictor = Predictor(members, schema, manifest, scores=scores)
    if ds.scale is None:  # price series drift by design: no stability reference
        from automl_fin.results._explain import background_of
        from automl_fin.results._stability import reference, score_of

        # the score's reference: out-of-fold predictions, as new rows will be scored (a
        # refit or a bag is more extreme on rows it learnt); in-sample when unreadable
        raw = oof_of(study, best, Path(run_dir) if run_dir else None)
        if raw is not None:
            raw = raw[~np.isnan(raw).reshape(len(raw), -1).any(axis=1)]
        if raw is None or not len(raw):
            with threadpool_limits(limits=p.recipe.n_jobs if p.recipe.n_jobs > 0 else None):
                raw = predictor._blend(ds.X)
        # a baseline kept as the predictor (a mean, the prior) scores one value a fold
        # out of fold and one on new rows: its score is not watched (every prediction
        # of 100 rows or more warned of a shift, PSI 7.4, on the training rows)
        score = (
            None if is_baseline(best) else score_of(raw, p.task, list(ds.classes), predictor.rule)
        )
        predictor.reference = reference(ds.X, ds.kinds, score)
        predictor.background = background_of(ds.X, p.recipe.seed)
        hashes = row_hashes(ds.X.iloc[fitted])
        predictor.trained = np.unique(hashes)
        # rows repeating another's features: new rows of such a table match some too
        repeated = 1.0 - len(predictor.trained) / max(len(hashes), 1)
        predictor.manifest["training"]["repeated_rows"] = round(repeated, 4)
    return predictor


def _decision(
    study: optuna.Study, p: Problem, best: optuna.trial.FrozenTrial, run_dir: str | Path | None
) -> dict[str, Any] | None:
    """The row's decision rule for a label metric (:mod:`automl_fin.results._decision`)."""
    from automl_fin.results._decision import rule_of

    rule = rule_of(study, p, best, Path(run_dir) if run_dir else None)
    return None if rule is None else rule.to_json()


def _recipe_as_run(p: Problem) -> dict[str, Any]:
    """The recipe as the manifest records it: on other data than its own bundled set
    (``--data``), that data (its path, or ``None`` for a DataFrame), not the set's name
    and description (a run on mg_train.csv was recorded as "Credit default (binary) on
    the German credit data", ``dataset: german_credit``)."""
    recipe = p.recipe.model_dump(mode="json")
    source = p.dataset.source
    if recipe["data"].get("dataset") and not p.on_own_data:
        recipe["data"]["dataset"] = None
        if recipe["data"].get("path") is None and not source.startswith(("<", "bundled:")):
            recipe["data"]["path"] = source
        recipe["description"] = f"recipe '{recipe['name']}' on {source}"
    return recipe


def _fitted_rows(p: Problem, members: list[Member]) -> np.ndarray:
    """The rows some member of the predictor was fitted on: every row where one was
    refitted (on all rows, the final test's included); else the training rows of the
    search's splits, where the fold models of bags were fitted (never the final test's
    rows, nor a holdout's validation rows: ISLR Default's 2,500 final-test rows were
    said to be rows the predictor was trained on, and its manifest counted 10,000
    training rows for 7,500)."""
    from automl_fin.engine._bag import Bag

    n = len(p.dataset.y)
    if any(not isinstance(m.pipeline, Bag) for m in members):
        return np.arange(n)
    seen = np.zeros(n, dtype=bool)
    folds = max(len(m.pipeline) for m in members)  # a bag of a model's first folds only
    for train, _ in p.splits[:folds]:  # (max_folds: its fold models, in split order)
        seen[train] = True
    return np.flatnonzero(seen)


def _training_facts(p: Problem, rows: np.ndarray) -> dict[str, Any]:
    """What the prior baseline of :meth:`Predictor.evaluate` needs: the class counts
    (in class order), or the mean, of the training ``rows`` (:func:`_fitted_rows`); the
    columns left out for holding one value, with it (``constant``); the data's warnings
    (``cautions``, :attr:`Problem.cautions`)."""
    y = p.dataset.y[rows]
    constant = {"constant": p.dataset.constant} if p.dataset.constant else {}
    if p.cautions:  # the data's warnings at training (a leaking column, copied rows)
        constant["cautions"] = list(p.cautions)
    if p.task.is_classification:
        counts = np.bincount(y, minlength=p.dataset.n_classes)
        return {"rows": len(y), "class_counts": counts.tolist(), **constant}
    facts: dict[str, Any] = {"rows": len(y), "mean": float(np.mean(y)), **constant}
    if p.dataset.times is not None and len(p.dataset.times):  # rows in time order
        facts["until"] = time_stamp(naive_times(p.dataset.times[rows]).max())
    entity = p.recipe.data.entity
    if entity and entity in p.dataset.X:  # the series it learnt (a new one is warned of)
        facts["series"] = series_names(p.dataset.X[entity])
    return facts


def save_predictor(predictor: Predictor, folder: str | Path) -> Path:
    """Write ``predictor`` to ``folder`` (replaced as a whole, never left half written)
    and return the folder."""
    folder = Path(folder)
    folder.parent.mkdir(parents=True, exist_ok=True)
    with _one_save_at_a_time(folder):
        return _save(predictor, folder)


@contextlib.contextmanager
def _one_save_at_a_time(folder: Path, *, reading: bool = False) -> Iterator[None]:
    """Hold an exclusive lock on ``.<folder>.lock`` beside ``folder``: two runs of one
    study at once each save their predictor, and the second one's clean-up below
    removed the first one's half-written folder (``FileNotFoundError``, and no
    predictor left). ``reading``: a shared lock, held while a predictor's files are
    read (a save swaps the folder between a reader's manifest and its files: the old
    manifest against the new files, or no folder); where the lock file cannot be opened
    (a read-only copy, no save ever made here) the files are read as they are. Without
    POSIX locks (Windows) saves are not serialised."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX
        yield
        return
    try:
        fh = open(folder.parent / f".{folder.name}.lock", "rb" if reading else "a+b")  # noqa: SIM115
    except OSError:
        if not reading:
            raise
        yield
        return
    with fh:
        fcntl.flock(fh, fcntl.LOCK_SH if reading else fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _pickled(member: Member, provider: str | None, plugins: dict[str, str]) -> bytes:
    """A member's pipeline pickled; one that does not pickle (a plugin's estimator holding
    a lock or an open file) is named, with its plugin (``provider``), in one line."""
    from automl_fin.engine._pipeline import unpicklable

    try:
        return pickle.dumps(member.pipeline, protocol=5)
    except Exception as exc:
        step = unpicklable(member.pipeline)
        if step and step != member.model and step in plugins:  # a preprocessor's step
            raise ArtifactError(
                f"member {member.model}#{member.trial} does not pickle: its preprocessor "
                f"'{step}' ({plugins[step]}) does not ({type(exc).__name__}: {exc}); fix "
                f"the plugin, or leave it out (--set preprocessors=[...] without {step})"
            ) from exc
        raise ArtifactError(
            f"member {member.model}#{member.trial}"
            + (f" ({provider})" if provider else "")
            + f" does not pickle ({type(exc).__name__}: {exc}): fix the plugin, or leave "
            f"the model out (--set models=[...] without {member.model})"
        ) from exc


def _save(predictor: Predictor, folder: Path) -> Path:
    for left in folder.parent.glob(f".{folder.name}-*"):  # a save killed half way
        shutil.rmtree(left, ignore_errors=True)
    tmp = Path(tempfile.mkdtemp(dir=folder.parent, prefix=f".{folder.name}-"))
    try:
        files: dict[str, str] = {}
        members = []
        for i, m in enumerate(predictor.members):
            name = f"member_{i}_{m.model}.pkl"
            provider = predictor.manifest.get("plugins", {}).get(m.model)
            plugins = predictor.manifest.get("plugins", {})
            files[name] = _write(tmp / name, _pickled(m, provider, plugins))
            members.append({"trial": m.trial, "model": m.model, "weight": m.weight, "file": name})
        if predictor.scores is not None:
            files[INTERVAL_FILE] = _write(tmp / INTERVAL_FILE, _npy(predictor.scores))
        if predictor.reference is not None:
            bins = json.dumps(predictor.reference, separators=(",", ":")).encode()
            files[STABILITY_FILE] = _write(tmp / STABILITY_FILE, bins)
        if predictor.background is not None:
            rows = pickle.dumps(predictor.background, protocol=5)
            files[BACKGROUND_FILE] = _write(tmp / BACKGROUND_FILE, rows)
        if predictor.trained is not None:
            files[SEEN_FILE] = _write(tmp / SEEN_FILE, _npy(predictor.trained))
        manifest = {
            **{k: v for k, v in predictor.manifest.items() if k != "signature"},
            "schema": predictor.schema.to_json(),
            "members": members,
            "files": files,
        }
        manifest = json.loads(json.dumps(manifest, default=str))  # what a reader will see
        key = signing_key()
        if key is not None:
            manifest["signature"] = sign(manifest, key)
        _write(tmp / MANIFEST, json.dumps(manifest, indent=1).encode())
        _swap(tmp, folder)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    predictor.manifest = manifest
    predictor.path = folder
    return folder


def load(
    path: str | Path,
    *,
    runs_dir: str | Path | None = None,
    require_signature: bool | None = None,
) -> Predictor:
    """Load a saved predictor (its folder, or the run folder holding ``predictor/``; with
    ``runs_dir``, a study's name as the leaderboard shows it, whatever folder its name
    is written to, as ``automl-fin predict STUDY --runs-dir DIR`` takes it).

    Refuses a malformed ``manifest.json`` (one line naming the field), a signed one whose
    signature does not verify under ``AUTOML_FIN_SIGNING_KEY``, an unsigned one when a
    signature is required (``require_signature``; default: the
    ``AUTOML_FIN_REQUIRE_SIGNATURE`` environment variable), and a folder whose files do
    not match the sha256 in the manifest, all before unpickling anything; warns
    (:class:`VersionWarning`) when the installed package versions differ from the saved
    ones. Unpickling runs code: load only trusted folders (see :mod:`automl_fin.results._manifest`).
    """
    if runs_dir is not None:
        from automl_fin.storage._runs import locate

        folder = locate(path, runs_dir, must_exist=True)[1]
    else:
        folder = Path(path)
    run = (folder / PREDICTOR_DIR).is_dir() or (folder / f".{PREDICTOR_DIR}.lock").exists()
    with _one_save_at_a_time(folder / PREDICTOR_DIR if run else folder, reading=True):
        if run:
            _restore(folder / PREDICTOR_DIR)
        if (folder / PREDICTOR_DIR / MANIFEST).is_file():
            folder = folder / PREDICTOR_DIR
        manifest, verified = _read(folder, require_signature)
    plugins = manifest.get("plugins")
    refuse_turned_off(folder, plugins if isinstance(plugins, dict) else {})
    return _built(folder, manifest, verified)


def refuse_turned_off(
    folder: Path, plugins: Mapping[str, Any], disable: Iterable[str] = ()
) -> None:
    """Refuse, before its pickles are read, a predictor whose members run code of a
    plugin turned off here (``disable``: ``--no-plugin``; ``AUTOML_FIN_DISABLE_PLUGINS``;
    autoload off, :func:`~automl_fin.plugin._registry.turned_off_by`): the switch for a
    plugin not trusted (``load`` ran it all the same; ``plugins``: the manifest's)."""
    import re

    from automl_fin.plugin._registry import turned_off_by

    why = turned_off_by(disable)
    for spec, provider in sorted(plugins.items()):
        found = re.fullmatch(r"(\S+) \S+ \(plugin '([^']+)'\)", str(provider))
        if found and (how := why(found.groups())):
            raise ArtifactError(
                f"predictor {folder} runs {spec} of {provider}, which {how}: its code would "
                "run on your rows; turn it on, or use a predictor searched without it"
            )


def _read(folder: Path, require_signature: bool | None) -> tuple[dict[str, Any], dict[str, bytes]]:
    """The manifest of the predictor in ``folder`` and its files' bytes, each checked
    against its sha256 in the manifest (see :func:`load`)."""
    manifest = _manifest(folder)
    verify(manifest, folder, require=require_signature)
    listed: dict[str, str] = manifest["files"]
    verified: dict[str, bytes] = {}  # the bytes hashed are the bytes unpickled
    for name, digest in listed.items():
        file = folder / name
        if not file.is_file():
            raise ArtifactError(
                f"predictor {folder}: file '{name}' listed in {MANIFEST} is missing; "
                "restore the folder or run the search again"
            )
        data = file.read_bytes()
        if _sha256(data) != digest:
            raise ArtifactError(
                f"predictor {folder}: file '{name}' does not match its sha256 in {MANIFEST} "
                "(changed or corrupted); refusing to unpickle it"
            )
        verified[name] = data
    extra = sorted(f.name for f in folder.iterdir() if f.name not in (*listed, MANIFEST))
    if extra:
        raise ArtifactError(
            f"predictor {folder}: files {extra} are not listed in {MANIFEST}; "
            "refusing a folder that was changed (files written into it since it was saved: "
            "move them out and it loads)"
        )
    return manifest, verified


def _built(folder: Path, manifest: dict[str, Any], verified: dict[str, bytes]) -> Predictor:
    """The predictor from its checked manifest and file bytes (see :func:`load`)."""
    _warn_versions(folder, manifest.get("versions", {}))
    members = []
    for m in manifest["members"]:
        try:
            pipe = _Unpickler(io.BytesIO(verified[m["file"]])).load()
        except ModuleNotFoundError as exc:
            from automl_fin.plugin._registry import OWN_DISTRIBUTION

            saved = sorted({str(v) for v in (manifest.get("plugins") or {}).values()
                            if not str(v).startswith(f"{OWN_DISTRIBUTION} ")})  # fmt: skip
            plugins = f" (saved with the plugins {'; '.join(saved)})" if saved else ""
            raise ArtifactError(
                f"predictor {folder}: member '{m['model']}' needs the module '{exc.name}', "
                f"which is not installed{plugins}; install what provides it (see the "
                "versions in manifest.json)"
            ) from None
        if not any(callable(getattr(pipe, m, None)) for m in ("predict", "predict_proba")):
            # (42: a TypeError at predict)
            raise ArtifactError(
                f"predictor {folder}: file '{m['file']}' holds a {type(pipe).__name__}, not "
                "the fitted model the search saved; restore the folder or run the search again"
            )
        members.append(Member(m["trial"], m["model"], float(m["weight"]), pipe))
    scores = None
    if INTERVAL_FILE in verified:
        scores = _array(folder, INTERVAL_FILE, verified[INTERVAL_FILE])
    reference = None
    if STABILITY_FILE in verified:
        try:
            reference = json.loads(verified[STABILITY_FILE])
        except ValueError as exc:
            why = f"predictor {folder}: {STABILITY_FILE} is not JSON ({exc})"
            raise ArtifactError(why) from None
        if (wrong := malformed(reference)) is not None:
            raise ArtifactError(
                f"predictor {folder}: {STABILITY_FILE} has {wrong}; it is written by the "
                "search: restore the folder or run the search again"
            )
    background = None
    if BACKGROUND_FILE in verified:
        background = _Unpickler(io.BytesIO(verified[BACKGROUND_FILE])).load()
    trained = None
    if SEEN_FILE in verified:
        trained = _array(folder, SEEN_FILE, verified[SEEN_FILE])
    schema = Schema.from_json(manifest["schema"])
    predictor = Predictor(
        members,
        schema,
        manifest,
        scores=scores,
        reference=reference,
        background=background,
        trained=trained,
    )
    predictor.path = folder
    return predictor


def _array(folder: Path, name: str, data: bytes) -> np.ndarray:
    """The numbers of the predictor's file ``name`` (a ``.npy`` of numbers, read
    without pickle); a file of anything else is refused in one line (an object array
    raised numpy's ValueError)."""
    try:
        array = np.load(io.BytesIO(data), allow_pickle=False)
    except (ValueError, OSError, EOFError) as exc:
        raise ArtifactError(
            f"predictor {folder}: file '{name}' is not the array of numbers the search "
            f"writes ({' '.join(str(exc).split())[:120]}); restore the folder or run the "
            "search again"
        ) from None
    if not isinstance(array, np.ndarray) or array.dtype.kind not in "biuf":
        raise ArtifactError(
            f"predictor {folder}: file '{name}' is not the array of numbers the search "
            "writes; restore the folder or run the search again"
        )
    return array


def _restore(folder: Path) -> None:
    """Put back the predictor a save moved aside when that save was killed before it
    moved the new one in (between :func:`_swap`'s two renames): ``predict`` found no
    predictor, the old one whole in a hidden folder beside it."""
    if folder.exists():
        return
    asides = folder.parent.glob(f".{folder.name}-old-*")  # the newest first
    for aside in sorted(asides, key=lambda p: p.stat().st_mtime, reverse=True):
        if (aside / folder.name / MANIFEST).is_file():
            with contextlib.suppress(OSError):  # another reader put it back first
                os.replace(aside / folder.name, folder)
                shutil.rmtree(aside, ignore_errors=True)
            return


def _swap(new: Path, folder: Path) -> None:
    """Put the finished folder ``new`` in place of ``folder``: the old one is moved aside
    first and moved back if the swap fails, so a reader finds one or the other."""
    new.chmod(0o755)  # mkdtemp makes it private
    old = None
    if folder.exists():
        old = Path(tempfile.mkdtemp(dir=folder.parent, prefix=f".{folder.name}-old-"))
        os.replace(folder, old / folder.name)
    try:
        os.replace(new, folder)
    except BaseException:
        if old is not None:
            os.replace(old / folder.name, folder)
        raise
    finally:
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    fd = os.open(folder.parent, os.O_RDONLY)
    try:
        os.fsync(fd)  # the rename itself reaches the disk
    finally:
        os.close(fd)


def _searching_since(folder: Path) -> str | None:
    """When the search of run folder ``folder``'s study started, where the SQLite file
    beside it says that search has not ended (a ``predict`` during a run was told to run
    the study again); ``None`` otherwise, or where that cannot be read."""
    from automl_fin.engine._run_state import searching_since
    from automl_fin.storage._runs import owner
    from automl_fin.storage._storage import default_url, open_storage

    if not (folder.parent / "automl_fin.db").is_file():
        return None
    name = owner(folder) or folder.name
    try:
        store = open_storage(default_url(folder.parent), create=False)
        found = [s for s in store.get_all_studies() if s.study_name == name]
    except Exception:  # a hint only: the plain message follows
        return None
    return searching_since(found[0].user_attrs) if found else None


def _manifest(folder: Path) -> dict[str, Any]:
    file = folder / MANIFEST
    if not file.is_file():
        # a runs folder or a run folder: name the predictors in it
        found = sorted(
            (p.parent for p in folder.glob(f"*/{PREDICTOR_DIR}/{MANIFEST}")),
            key=lambda p: p.stat().st_mtime,
        ) if folder.is_dir() else []  # fmt: skip
        previous = folder / f"{PREDICTOR_DIR}.previous"
        if previous.is_dir():  # the last run of the study could not save its predictor
            raise ArtifactError(
                f"{folder}: the last run of this study saved no predictor (its refit failed, "
                "or --no-predictor after its chosen row changed: see its warning); the one an "
                f"earlier run saved is in {previous}, and may not be the study's chosen row "
                "any more"
            )
        if (folder / "oof").is_dir() and (since := _searching_since(folder)):
            raise ArtifactError(
                f"{folder}: its study's search started at {since} has not ended (still "
                "running, or killed: then run the study again); the predictor is saved when "
                "the run ends"
            )
        if (folder / "oof").is_dir() or (folder / OWNER).is_file():  # a run saved none
            raise ArtifactError(  # (no trial completed: no oof folder)
                f"{folder}: this run saved no predictor (its search said why: e.g. no trial "
                "or only the baselines completed, or --no-predictor; or it was stopped before "
                "its end); run the study again to save one: its finished trials are kept"
            )
        hint = (
            f"; it holds {len(found)} run(s) with a predictor: pass one, e.g. the latest, "
            f"{found[-1].parent}"
            if found
            else f"; pass the folder `automl-fin run` wrote (<runs-dir>/<study>/{PREDICTOR_DIR})"
        )
        if not folder.exists() and folder.parent.is_dir():  # a study's name in its runs folder?
            hint += f", or a study's name with its runs folder: load({folder.name!r}, runs_dir=...)"
        raise ArtifactError(f"{folder} is not a predictor: no {MANIFEST}{hint}")
    try:
        manifest = json.loads(file.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ArtifactError(f"predictor {folder}: {MANIFEST} is not valid JSON ({exc})") from None
    if not isinstance(manifest, dict) or manifest.get("format") not in FORMATS:
        found = manifest.get("format") if isinstance(manifest, dict) else None
        raise ArtifactError(
            f"predictor {folder}: {MANIFEST} has format {found!r}, this automl-fin reads "
            f"formats {', '.join(map(str, FORMATS[:-1]))} and {FORMATS[-1]}: a newer "
            "automl-fin saved it"
        )
    # only hashed plain file names of this folder are ever unpickled (manifest.check)
    return check_manifest(manifest, folder, MANIFEST)


def version_changes(saved: dict[str, str]) -> list[str]:
    """``name saved -> installed`` for each package whose installed version is not the
    one a predictor was saved with (``saved``: its manifest's ``versions``)."""
    now = package_versions(tuple(n for n in saved if n != "python"))
    return [
        f"{name} {saved[name]} -> {now.get(name, 'not installed')}"
        for name in sorted(saved)
        if now.get(name) != saved[name]
    ]


def _warn_versions(folder: Path, saved: dict[str, str]) -> None:
    differ = version_changes(saved)
    if differ:
        warnings.warn(
            f"predictor {folder} was saved with other package versions ({'; '.join(differ)}); "
            "its predictions may differ",
            VersionWarning,
            stacklevel=3,
        )


def _libraries(p: Problem, members: list[Member]) -> tuple[str, ...]:
    """The core's libraries, then each member model's (``ModelSpec.libraries``) and its
    plugin's distribution: a third-party model is recorded as a built-in is."""
    extra: list[str] = []
    for m in members:
        spec = p.spec(m.model)
        for name in (*spec.libraries, p.registry.providers[m.model].distribution):
            if name not in CORE_LIBRARIES and name not in extra and not name.startswith("<"):
                extra.append(name)
    return (*CORE_LIBRARIES, *extra)


# core modules before the package layout (2026-11-30) -> where they live now: pickles
# of predictors saved before then name the old paths
MOVED = {
    "automl_fin.hookspecs": "automl_fin.plugin._hookspecs",
    "automl_fin.specs": "automl_fin.plugin._specs",
    "automl_fin.space": "automl_fin.plugin._space",
    "automl_fin.registry": "automl_fin.plugin._registry",
    "automl_fin._builtin": "automl_fin.plugin._builtin",
    "automl_fin.data": "automl_fin.data._dataset",
    "automl_fin.tidy": "automl_fin.data._tidy",
    "automl_fin.table_facts": "automl_fin.data._table_facts",
    "automl_fin.loading": "automl_fin.data._loading",
    "automl_fin.timeseries": "automl_fin.data._timeseries",
    "automl_fin.validation": "automl_fin.data._validation",
    "automl_fin.metrics": "automl_fin.data._metrics",
    "automl_fin.recipes": "automl_fin.engine._recipes",
    "automl_fin.problem": "automl_fin.engine._problem",
    "automl_fin.pipeline": "automl_fin.engine._pipeline",
    "automl_fin.objective": "automl_fin.engine._objective",
    "automl_fin.trial_record": "automl_fin.engine._trial_record",
    "automl_fin.sampling": "automl_fin.engine._sampling",
    "automl_fin.runner": "automl_fin.engine._runner",
    "automl_fin.time_limit": "automl_fin.engine._time_limit",
    "automl_fin.engine": "automl_fin.engine._search",
    "automl_fin.batch": "automl_fin.engine._batch",
    "automl_fin.cluster": "automl_fin.engine._cluster",
    "automl_fin.fitting": "automl_fin.engine._fitting",
    "automl_fin.storage": "automl_fin.storage._storage",
    "automl_fin.runs": "automl_fin.storage._runs",
    "automl_fin.leaderboard": "automl_fin.results._leaderboard",
    "automl_fin.ensemble": "automl_fin.results._ensemble",
    "automl_fin.final_test": "automl_fin.results._final_test",
    "automl_fin.artifacts": "automl_fin.results._artifacts",
    "automl_fin.manifest": "automl_fin.results._manifest",
    "automl_fin.predictor": "automl_fin.results._predictor",
    "automl_fin.intervals": "automl_fin.results._intervals",
    "automl_fin.report": "automl_fin.results._report",
}


class _Unpickler(pickle.Unpickler):
    """Reads a member's pickle; a reference to a core module's old path (:data:`MOVED`)
    is looked up at its new one, so predictors saved before the layout still load."""

    def find_class(self, module: str, name: str) -> Any:
        return super().find_class(MOVED.get(module, module), name)


def package_versions(names: tuple[str, ...] = CORE_LIBRARIES) -> dict[str, str]:
    """Python's version and the installed version of each distribution in ``names``."""
    out = {"python": platform.python_version()}
    for dist in names:
        with contextlib.suppress(metadata.PackageNotFoundError):
            out[dist] = metadata.version(dist)
    return out


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _npy(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=False)
    return buffer.getvalue()


def _write(path: Path, data: bytes) -> str:
    """Write ``data`` and fsync it; returns its sha256."""
    with open(path, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    return _sha256(data)
