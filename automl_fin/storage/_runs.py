"""Run folders: where a study's files go, provably inside the runs folder.

A run is named by its study; its files (out-of-fold predictions, predictor, report) sit
in ``<runs_dir>/<folder>/``, where the folder is the study name when that is a safe file
name (letters, digits, ``.``, ``_``, ``-``; at most 100 characters; not starting with a
dot), else a slug of it plus a hash (:func:`folder_name`): a name such as
``../../victim``, ``/abs/path`` or 300 characters long never writes outside the runs
folder, and :func:`run_folder` refuses a folder that a link leads out of it.

:func:`locate` finds a run's study name and folder again (``automl_fin.engine._reopen``
reopens its study, recipe and data).
"""

from __future__ import annotations

import difflib
import hashlib
import re
import warnings
from pathlib import Path
from typing import TYPE_CHECKING

from automl_fin.errors import ArtifactError
from automl_fin.storage._storage import DEFAULT_RUNS_DIR, atomic_write

if TYPE_CHECKING:
    from collections.abc import Callable

__all__ = ["folder_name", "locate", "own", "owner", "run_folder", "writable"]


SAFE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")
# what a run writes inside its folder (engine._bag.FOLDER, results._final_test.PREDICTIONS,
# the predictor's lock and the one set aside: results._artifacts, engine._search)
RUN_FILES = (
    "oof",
    "folds",
    "predictor",
    "predictor.previous",
    ".predictor.lock",
    "final_test.npz",
    "report.html",
    ".study_token",
    ".study",
)
OWNER = RUN_FILES[-1]  # in a run folder: the name of the study whose files it holds
MARK = RUN_FILES[-2]  # beside it: that study's token (an older version reads OWNER whole)
TOKEN = "folder_token"  # the study user attribute written there (:func:`own`)


# the default storage's files beside the run folders: a study named so made a folder
# where SQLite writes its journal, and every command on the runs folder then failed
# with "disk I/O error"
STORAGE_FILES = ("automl_fin.db", "automl_fin.db-journal", "automl_fin.db-wal", "automl_fin.db-shm")


def folder_name(study: str) -> str:
    """The run folder's name for ``study``: the name itself when it is a safe file name
    (and none of :data:`STORAGE_FILES`), else its safe characters (at most 80) and 10
    hex digits of its sha256."""
    if SAFE_NAME.fullmatch(study) and study.lower() not in STORAGE_FILES:
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
    if (kept := kept_folder(folder)) is not None:  # (a predictor saved again deleted it all)
        raise ArtifactError(
            f"--runs-dir {folder} is inside {kept}, which a run keeps as it saved it (saved "
            "again, it is replaced whole, with what was written there); pass a folder outside it"
        )
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as exc:
        raise ArtifactError(
            f"--runs-dir {folder} is not writable ({exc.strerror}); pass a folder you can write to"
        ) from None
    return folder


def kept_folder(path: str | Path) -> Path | None:
    """The folder a run keeps as it saved it (a saved predictor's, a run's ``oof`` or
    ``folds``) that ``path`` is, or is inside; ``None`` for none."""
    target = Path(path).resolve()
    for folder in (target, *target.parents):
        if _predictor_folder(folder / "manifest.json") or (
            folder.name in ("oof", "folds") and (folder.parent / ".study").is_file()
        ):
            return folder
    return None


def _predictor_folder(manifest: Path) -> bool:
    """Whether ``manifest`` is a saved predictor's (not another project's manifest.json)."""
    import json

    try:
        found = json.loads(manifest.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(found, dict) and {"format", "members"} <= found.keys()


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


def owner(folder: Path) -> str | None:
    """The study whose files ``folder`` holds (written by :func:`own`), or ``None``."""
    return _owner_parts(folder)[0]


def _owner_parts(folder: Path) -> tuple[str | None, str | None]:
    """The study name written in ``folder`` and its study's token (:func:`own`), each
    ``None`` where not written (a token: by a version before it, or a study in memory).
    The token has a file of its own: an older version reads the name file whole."""
    try:  # (an empty one: written by a version that wrote it in place, half way)
        name = (folder / OWNER).read_text(encoding="utf-8") or None
    except (OSError, UnicodeDecodeError):
        return None, None
    try:
        token = (folder / MARK).read_text(encoding="utf-8").strip() or None
    except (OSError, UnicodeDecodeError):
        token = None
    return name, token


def own(
    folder: Path,
    study: str,
    *,
    write: bool = True,
    studies: Callable[[], list[str]] | None = None,
    token: str | None = None,
    new: bool = False,
) -> None:
    """Make ``folder`` the run folder of ``study`` (created, its name written in it), or
    refuse in one line when it holds another study's files: a safe name can be the folder
    of an unsafe one (``cr_dit_card-82ef18ebb7``, copied from a listing to resume
    ``crédit card``), and the second study overwrote the first's out-of-fold files and
    predictor. ``write=False``: the check alone (before anything is searched).
    ``studies``: the storage's study names, asked for a folder written before the name
    was (another study whose folder it is holds it). ``token``: the study's own (made
    with it, :data:`TOKEN`); ``new``: the study has no trial yet. A folder of its name
    holding another token, or files without one while the study is new, is an earlier
    study's of that name, deleted from the storage since (``optuna delete-study``),
    whose fold models and out-of-fold files a new study of the name read as its own
    trials' (by their numbers): it is set aside, renamed, with a warning."""
    found, mark = _owner_parts(folder)
    files = any((folder / kept).exists() for kept in ("oof", "folds", "predictor"))
    earlier = mark != token if mark is not None else new and files
    if found == study and token is not None and earlier:
        _set_aside(folder, study, token, mark)
        found = mark = None
    if found is None and studies is not None and _is_dir(folder):
        found = next((s for s in studies() if s != study and folder_name(s) == folder.name), None)
    if found is not None and found != study:
        raise ArtifactError(
            f"{folder} holds the files of study '{found}', not '{study}'; to resume that "
            f"study pass its name (--study '{found}'), else choose another --study name"
        )
    for name in ("oof", "folds", "predictor"):  # a file where the run keeps a folder: every
        kept = folder / name  # trial failed on FileExistsError, blamed on its model
        if kept.exists() and not kept.is_dir():
            raise ArtifactError(
                f"{kept} is a file, where the run keeps its '{name}' folder; move it away"
            )
    if write and found is None:
        # whole or not there: written in place, a run beside it read it empty ("holds
        # the files of study ''") and a worker gave up on study ''
        atomic_write(folder / OWNER, lambda fh: fh.write(study.encode("utf-8")))
    if write and token is not None and mark is None:
        atomic_write(folder / MARK, lambda fh: fh.write(token.encode("utf-8")))


def _set_aside(folder: Path, study: str, token: str, mark: str | None) -> None:
    """Rename ``folder``, an earlier study's of the name ``study``, beside it, said. Two
    runs of the new study at once both find it: the second finds it moved (or this
    study's own already), and goes on."""
    import uuid

    aside = folder.with_name(f"{folder.name}.earlier-{(mark or uuid.uuid4().hex)[:8]}")
    try:
        folder.rename(aside)
    except OSError:
        if _owner_parts(folder)[1] in (token, None) or not folder.exists():
            return  # moved by the other run, which may have made this study's already
        raise ArtifactError(
            f"{folder} holds an earlier study '{study}''s files and cannot be moved to "
            f"{aside.name}: move or delete it, then run again"
        ) from None
    warnings.warn(
        f"{folder} held the files of an earlier study '{study}', not in the storage "
        f"now (deleted, or another storage's): moved to {aside.name}, so that this "
        "study's trials are not read with its files",
        stacklevel=4,
    )


def _is_dir(path: Path) -> bool:
    try:
        return path.is_dir()
    except OSError:  # e.g. a study name too long for a file name
        return False


def locate(
    run: str | Path, runs_dir: str | Path | None = None, *, must_exist: bool = False
) -> tuple[str, Path]:
    """The study name and folder of ``run``: a study name with a run in ``runs_dir``, else
    a run folder (``..`` is the study of that name when it has a run, else a folder).
    ``must_exist``: a folder that is not there is an error naming the nearest runs."""
    folder = run_folder(runs_dir or DEFAULT_RUNS_DIR, str(run))
    given = Path(run)
    if not _is_dir(folder) and _is_dir(given):
        return owner(given) or given.resolve().name, given
    if (found := owner(folder)) is not None and found != str(run):  # its folder's name
        return found, folder
    if must_exist and not folder.is_dir():
        parent = folder.parent
        runs = sorted(p.name for p in parent.iterdir() if p.is_dir()) if parent.is_dir() else []
        near = difflib.get_close_matches(str(run), runs, n=3, cutoff=0.5) or runs[-3:]
        hint = f"; nearest: {', '.join(near)}" if near else f"; {parent} holds no runs"
        if parent.exists() and not parent.is_dir():  # a file typed as --runs-dir
            hint = f"; {parent} is a file, not a runs folder"
        raise ArtifactError(
            f"no run '{run}' in {parent} (pass a run folder, or a study name and --runs-dir){hint}"
        )
    return str(run), folder
