"""Bagged predictors: a trial's fold models, kept, predicting as their mean.

Cross-validation already fits one model per fold; a bag keeps them (AutoGluon's bagging)
instead of fitting the trial once more on all rows. The trial's out-of-fold score is then
an honest estimate of exactly the predictor that is saved: each row's out-of-fold
prediction came from fold models of that same bag that never saw the row.

During a search a trial's fold models are written to ``<run>/folds/trial_NNNNN.pkl``
(atomically) when the trial may be used afterwards: among the :data:`KEEP` best
candidates or the best trials of the first :data:`KEEP` families, or the best trial of
its model (the ensemble's pool draws from these; the final test scores each model's
best). Files of trials that fell out of that set are deleted as the search goes, so
the folder holds at most twice ``KEEP`` plus one a model, compressed (zlib level 1: a
bag of calibrated random forests on German credit, 140 MB pickled, is 35 MB on disk,
0.9 s to write). A bag that pickles to more than :data:`MAX_BAG_MB` is not kept (the
predictor would carry it whole). A member whose file is missing (too large, a run moved
without it, a worker on another machine) is refitted on all rows instead, and its
predictor says so. So is one whose fold models were fitted under other versions of the
packages that made them (:func:`fitted_under`): a study resumed after a plugin's upgrade
saved the old version's fold models in a predictor whose manifest named the new one,
and ``predict`` warned of nothing while its probabilities moved by up to 0.36.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import io
import pickle
import zlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from automl_fin.engine._prior_shift import shifted
from automl_fin.storage._storage import atomic_write

__all__ = [
    "KEEP",
    "Bag",
    "bag_file",
    "fitted_under",
    "flush",
    "forget",
    "kept",
    "load_bag",
    "save_bag",
]

KEEP = 10  # the best candidates whose fold models are kept (the ensemble's TOP_K)
MAX_BAG_MB = 100  # pickled size above which a bag is not kept (its member is refitted)
FOLDER = "folds"


class Bag:
    """Fitted pipelines of one trial's folds; predictions are their mean (class
    probabilities averaged for classification). ``instead``: why it stands in for a
    refit its recipe did not ask to bag (:mod:`automl_fin.results._refits`)."""

    instead = ""  # (a class default: bags pickled before it read as asked for)

    def __init__(self, pipes: Sequence[Any]) -> None:
        if not pipes:
            raise ValueError("a bag needs at least one fitted pipeline")
        self.pipes = list(pipes)

    def __len__(self) -> int:
        return len(self.pipes)

    def __repr__(self) -> str:
        return f"Bag({len(self.pipes)} fold models of {type(self.pipes[0][-1]).__name__})"

    def predict_proba(self, X: Any) -> np.ndarray:
        """The mean of the fold models' class probabilities (each mapped back to its
        training classes' frequencies when it was fitted with class weights)."""
        probas = [shifted(p, np.asarray(p.predict_proba(X), dtype=float)) for p in self.pipes]
        return np.mean(probas, axis=0)

    def predict(self, X: Any) -> np.ndarray:
        """Regression: the mean of the fold models' values; classification: the class
        with the highest mean probability (as an index into the encoded classes)."""
        if hasattr(self.pipes[0][-1], "predict_proba"):
            return np.argmax(self.predict_proba(X), axis=1)
        return np.mean([np.asarray(p.predict(X), dtype=float) for p in self.pipes], axis=0)


def bag_file(run_dir: Path, number: int) -> Path:
    """Where trial ``number``'s fold models are kept."""
    return Path(run_dir) / FOLDER / f"trial_{number:05d}.pkl"


_WRITER: list[concurrent.futures.ThreadPoolExecutor] = []  # one thread, made on first use


def _writer() -> concurrent.futures.ThreadPoolExecutor:
    if not _WRITER:
        _WRITER.append(concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="bags"))
    return _WRITER[0]


def flush() -> None:
    """Wait until every bag written or deleted so far is on disk (or gone)."""
    if _WRITER:
        _WRITER[0].submit(lambda: None).result()


def fitted_under(registry: Any) -> dict[str, str]:
    """The versions a fold model is fitted under: Python's, the core libraries' and
    every registered plugin's distribution (read once a process: they do not change
    under it)."""
    from automl_fin.results._artifacts import CORE_LIBRARIES, package_versions

    names = sorted({p.distribution for p in registry.providers.values()} - set(CORE_LIBRARIES))
    key = (*CORE_LIBRARIES, *(n for n in names if not n.startswith("<")))
    if key not in _VERSIONS:
        _VERSIONS[key] = package_versions(key)
    return _VERSIONS[key]


_VERSIONS: dict[tuple[str, ...], dict[str, str]] = {}


def save_bag(
    run_dir: Path, number: int, pipes: Sequence[Any], versions: dict[str, str]
) -> Path | None:
    """Write trial ``number``'s fold models, fitted under ``versions``
    (:func:`fitted_under`), compressed (temp file, fsync, rename: never half written);
    ``None`` (nothing written) when they pickle to over :data:`MAX_BAG_MB`.
    They are pickled here and compressed and written by a background thread (zlib and
    the write release the GIL: the next trial fits meanwhile; 0.9 s for the largest
    bag on German credit); :func:`load_bag` and the end of the process wait for it."""
    data = _pickled_within({"versions": versions, "pipes": list(pipes)}, MAX_BAG_MB * 2**20)
    if data is None:
        return None
    path = bag_file(run_dir, number)
    _writer().submit(_compress_and_write, path, data)
    return path


class _Full(Exception):
    """A pickle grew past its limit."""


class _Capped(io.BytesIO):
    """Bytes that refuse to grow past ``limit`` (:class:`_Full`)."""

    def __init__(self, limit: int) -> None:
        super().__init__()
        self.limit = limit

    def write(self, b: Any) -> int:
        if self.tell() + memoryview(b).nbytes > self.limit:
            raise _Full
        return super().write(b)


def _pickled_within(obj: Any, limit: int) -> bytes | None:
    """``obj`` pickled, or ``None`` as soon as its pickle passes ``limit`` bytes (a
    forest on 210,000 rows pickles to GBs: pickled whole only to be dropped, it took
    the time and the memory; protocol 5 writes in frames of 64 KiB)."""
    out = _Capped(limit)
    try:
        pickle.Pickler(out, protocol=5).dump(obj)
    except _Full:
        return None
    return out.getvalue()


def _compress_and_write(path: Path, data: bytes) -> None:
    packed = zlib.compress(data, 1)
    with contextlib.suppress(OSError):  # disk full: not kept, the predictor refits it
        atomic_write(path, lambda fh: fh.write(packed))


def load_bag(run_dir: Path | None, number: int, versions: dict[str, str]) -> Bag | None:
    """Trial ``number``'s kept fold models as a :class:`Bag`; ``None`` when not kept
    here, unreadable, or fitted under other ``versions`` than these (a package known to
    both differs: the caller refits with the code installed now)."""
    if run_dir is None:
        return None
    flush()
    path = bag_file(run_dir, number)
    try:
        with open(path, "rb") as fh:  # written by this run's own processes
            kept = pickle.loads(zlib.decompress(fh.read()))
    except (
        OSError,
        zlib.error,
        pickle.UnpicklingError,
        EOFError,
        ValueError,
        ImportError,
        AttributeError,
    ):  # fmt: skip  (a class the upgrade renamed)
        return None
    if isinstance(kept, dict):  # (a list before the versions were kept with it)
        then = kept.get("versions", {})
        if any(then[k] != v for k, v in versions.items() if k in then):
            return None
        kept = kept.get("pipes", [])
    try:
        return Bag(kept)
    except ValueError:
        return None


def kept(done: Sequence[tuple[int, float, str, str | None]], sign: float) -> set[int]:
    """Numbers of the trials whose fold models are worth keeping, among completed
    candidates ``(number, value, model, family)`` (``sign``: +1 when larger is better;
    ``family`` ``None``: a trial no ensemble can pool, see ``TrialRecord.poolable``):
    the best of each model (the final test's), and among the poolable the :data:`KEEP`
    best and the best of each of the first :data:`KEEP` families — every trial
    ``results._ensemble.candidates`` may pool."""
    ranked = sorted(done, key=lambda row: -sign * row[1])
    pool = [row for row in ranked if row[3] is not None]
    keep = {number for number, *_ in pool[:KEEP]}
    models: set[str] = set()
    families: list[str | None] = []
    for number, _, model, _ in ranked:
        if model not in models:
            models.add(model)
            keep.add(number)
    for number, _, _, family in pool:
        if family not in families and len(families) < KEEP:
            families.append(family)
            keep.add(number)
    return keep


def forget(run_dir: Path, numbers: set[int]) -> None:
    """Delete the kept fold models of trials ``numbers`` (fallen out of :func:`kept`),
    after the writes queued before (the writer thread runs in order)."""

    def delete() -> None:
        for number in numbers:
            with contextlib.suppress(OSError):
                bag_file(run_dir, number).unlink(missing_ok=True)

    if numbers:
        _writer().submit(delete)
