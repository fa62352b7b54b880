"""Cross-validation splitters. Every trial of a study sees the same splits.

Schemes:
    ``stratified_kfold``: stratified k-fold, optionally repeated (classification).
    ``kfold``: shuffled k-fold, optionally repeated.
    ``holdout``: one train/validation split (stratified for classification).
    ``walk_forward``: splits in time order: validation blocks of equal length, each
        trained on the time steps before it (all of them, or a sliding window), less a
        purge of ``horizon - 1`` steps (so no training target overlaps the first
        validated forecast) and an ``embargo`` of further steps.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import numpy as np
from sklearn.model_selection import (
    KFold,
    RepeatedKFold,
    RepeatedStratifiedKFold,
    ShuffleSplit,
    StratifiedKFold,
    StratifiedShuffleSplit,
)

from automl_fin.errors import DataError

__all__ = ["Scheme", "make_splits", "split_rows", "walk_forward"]

Scheme = Literal["stratified_kfold", "kfold", "holdout", "walk_forward"]
Split = tuple[np.ndarray, np.ndarray]


def make_splits(
    scheme: Scheme,
    y: np.ndarray,
    *,
    n_splits: int = 5,
    repeats: int = 1,
    test_size: float = 0.2,
    seed: int = 0,
    stratify: bool = True,
    times: np.ndarray | None = None,
    horizon: int = 1,
    embargo: int = 0,
    window: str = "expanding",
    train_size: int | None = None,
    labels: Sequence[Any] = (),
) -> list[Split]:
    """The list of ``(train_index, validation_index)`` pairs for ``y``.

    ``times`` (walk-forward only) gives each row's time stamp, rows being in time order;
    rows that share a stamp (several entities on one date) always fall on the same side.
    ``labels``: the class of each code of ``y``, to name one too rare to stratify.
    """
    n = len(y)
    X = np.zeros((n, 1))
    if scheme in ("stratified_kfold", "kfold"):
        if n < 2 * n_splits:
            raise DataError(
                f"{n} rows are too few for {n_splits}-fold validation; "
                "lower validation.n_splits or add data"
            )
        if scheme == "stratified_kfold" and stratify:
            counts = np.bincount(y.astype(np.int64))
            smallest = int(counts[counts > 0].min())
            if smallest < n_splits:
                few = [labels[i] for i, c in enumerate(counts) if 0 < c < n_splits
                       and i < len(labels)]  # fmt: skip
                numbers = all(isinstance(v, int | float) and not isinstance(v, bool) for v in few)
                rare = [repr(v) for v in (sorted(few) if numbers else few)]  # 9 before 10
                fix = "lower validation.n_splits, or " if smallest >= 2 else ""  # 2 at least
                if len(rare) == 1:
                    raise DataError(
                        f"class {rare[0]} has {smallest} row{'s' * (smallest != 1)}, fewer than "
                        f"the {n_splits} folds; {fix}drop or merge its rows (or add more)"
                    )
                if rare:
                    raise DataError(
                        f"classes {', '.join(rare[:5])}{' ...' * (len(rare) > 5)} have fewer rows "
                        f"than the {n_splits} folds (the smallest {smallest}); {fix}drop or merge "
                        "their rows (or add more)"
                    )
                raise DataError(
                    f"the smallest class has {smallest} rows, fewer than the {n_splits} folds; "
                    f"{fix or 'add rows to it or '}drop or merge its rows"
                )
            splitter = (
                RepeatedStratifiedKFold(n_splits=n_splits, n_repeats=repeats, random_state=seed)
                if repeats > 1
                else StratifiedKFold(n_splits=n_splits, shuffle=True, random_state=seed)
            )
        else:
            splitter = (
                RepeatedKFold(n_splits=n_splits, n_repeats=repeats, random_state=seed)
                if repeats > 1
                else KFold(n_splits=n_splits, shuffle=True, random_state=seed)
            )
        return [(tr, va) for tr, va in splitter.split(X, y)]
    if scheme == "holdout":
        cls = StratifiedShuffleSplit if stratify else ShuffleSplit
        splitter = cls(n_splits=repeats, test_size=test_size, random_state=seed)
        try:
            splits = [(tr, va) for tr, va in splitter.split(X, y)]
        except ValueError:  # scikit-learn's: fewer training rows than classes
            splits = []
        train = splits[0][0] if splits else np.arange(0)
        # too few training rows, or a class missing from them: every trial failed in
        # fit ("needs samples of at least 2 classes"; test_size 0.999 of 10,000 rows)
        few = len(train) < 2 or (stratify and len(np.unique(y[train])) < len(np.unique(y)))
        if few:
            kept = int(n - np.ceil(test_size * n)) if not splits else len(train)
            raise DataError(
                f"validation.test_size {test_size} leaves {kept} training row"
                f"{'s' * (kept != 1)} of {n}"
                + (", too few for every class" if stratify else "")
                + "; lower validation.test_size (e.g. 0.2)"
            )
        return splits
    if scheme == "walk_forward":
        return walk_forward(
            np.arange(n) if times is None else times,
            n_splits=n_splits,
            horizon=horizon,
            embargo=embargo,
            window=window,
            train_size=train_size,
        )
    raise ValueError(f"unknown validation scheme {scheme!r}")


def walk_forward(
    times: np.ndarray,
    *,
    n_splits: int = 5,
    horizon: int = 1,
    embargo: int = 0,
    window: str = "expanding",
    train_size: int | None = None,
) -> list[Split]:
    """Walk-forward splits over the distinct values of ``times`` (see the module).

    The time axis is cut into ``n_splits + 1`` blocks; block ``k`` validates a model
    trained on the blocks before it, ending ``horizon - 1 + embargo`` steps before the
    block starts. ``window="sliding"`` keeps only the last ``train_size`` steps (default:
    two blocks).
    """
    codes = np.unique(np.asarray(times), return_inverse=True)[1].ravel()
    steps = int(codes.max()) + 1 if len(codes) else 0
    purge = horizon - 1 + embargo
    block = steps // (n_splits + 1)
    if block < 1 or block - purge < 2:
        need = (n_splits + 1) * (purge + 2)  # a block of 2 steps beyond the purge each
        two = 3 * (purge + 2)  # (2 folds: what they need, said only where it would do)
        fewer = (
            [f"validation.n_splits (2 folds need {two})"] if n_splits > 2 and two <= steps else []
        )
        fewer += ["validation.embargo"] if embargo else []
        if horizon > 1 and two > steps:  # the horizon itself is the purge: 60 steps of 17
            fewer.append(_shorter(block - 1 - embargo, steps // 3 - 1 - embargo, n_splits))
        raise DataError(
            f"{steps} time steps are too few for {n_splits} walk-forward folds with a purge "
            f"of {purge} steps (horizon {horizon}, embargo {embargo}): they need {need}; "
            + (f"lower {' or '.join(fewer)}, or add data" if fewer else "add data")
        )
    size = train_size or 2 * block
    splits = []
    for k in range(1, n_splits + 1):
        start, end = k * block, ((k + 1) * block if k < n_splits else steps)
        train_end = start - purge
        train_start = max(0, train_end - size) if window == "sliding" else 0
        train = np.flatnonzero((codes >= train_start) & (codes < train_end))
        valid = np.flatnonzero((codes >= start) & (codes < end))
        splits.append((train, valid))
    return splits


def _shorter(with_n: int, with_two: int, n_splits: int) -> str:
    """The horizon to give where even two walk-forward folds cannot hold its purge: the
    longest one with ``n_splits`` folds (``with_n`` steps) and with two (``with_two``)."""
    if with_two < 1:
        return "the horizon"

    def steps(k: int) -> str:
        return f"{k} step{'s' * (k != 1)}"

    if with_n >= with_two:
        return f"the horizon (at most {steps(with_n)})"
    if with_n >= 1:
        return f"the horizon (at most {steps(with_n)} with {n_splits} folds, {with_two} with 2)"
    return f"the horizon (at most {steps(with_two)}, with validation.n_splits 2)"


def split_rows(
    y: np.ndarray,
    share: float,
    *,
    times: np.ndarray | None = None,
    purge: int = 0,
    seed: int = 0,
    stratify: bool = True,
) -> tuple[np.ndarray, np.ndarray]:
    """``(search_rows, test_rows)``: a final test set of about ``share`` of the data,
    held out of the search entirely.

    With ``times`` it is the last time steps, and the ``purge`` steps before it are in
    neither part; otherwise a random (stratified) share of the rows.
    """
    n = len(y)
    everything = np.arange(n)
    if share <= 0:
        return everything, np.zeros(0, dtype=np.int64)
    if times is not None:
        codes = np.unique(np.asarray(times), return_inverse=True)[1].ravel()
        steps = int(codes.max()) + 1
        cut = steps - max(1, int(np.ceil(share * steps)))
        return np.flatnonzero(codes < cut - purge), np.flatnonzero(codes >= cut)
    from sklearn.model_selection import train_test_split

    search, test = train_test_split(
        everything, test_size=share, random_state=seed, stratify=y if stratify else None
    )
    return np.sort(search), np.sort(test)
