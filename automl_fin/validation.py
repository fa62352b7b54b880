"""Cross-validation splitters. Every trial of a study sees the same splits.

Schemes:
    ``stratified_kfold``: stratified k-fold, optionally repeated (classification).
    ``kfold``: shuffled k-fold, optionally repeated.
    ``holdout``: one train/validation split (stratified for classification).
    ``walk_forward``: expanding-window splits in row (time) order, with a gap of
        ``gap`` rows between the end of training and the start of validation.
"""

from __future__ import annotations

from typing import Literal

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

__all__ = ["Scheme", "make_splits"]

Scheme = Literal["stratified_kfold", "kfold", "holdout", "walk_forward"]
Split = tuple[np.ndarray, np.ndarray]


def make_splits(
    scheme: Scheme,
    y: np.ndarray,
    *,
    n_splits: int = 5,
    repeats: int = 1,
    test_size: float = 0.2,
    gap: int = 0,
    seed: int = 0,
    stratify: bool = True,
) -> list[Split]:
    """The list of ``(train_index, validation_index)`` pairs for ``y``."""
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
                raise DataError(
                    f"the smallest class has {smallest} rows, fewer than the {n_splits} folds; "
                    "lower validation.n_splits"
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
        return [(tr, va) for tr, va in splitter.split(X, y)]
    if scheme == "walk_forward":
        fold = n // (n_splits + 1)
        if fold < 1 or fold - gap < 1:
            raise DataError(
                f"{n} rows are too few for {n_splits} walk-forward folds with gap {gap}"
            )
        splits = []
        for k in range(1, n_splits + 1):
            end_train = k * fold
            start_val = end_train + gap
            end_val = min(start_val + fold, n) if k < n_splits else n
            if start_val >= end_val:
                continue
            splits.append((np.arange(0, end_train), np.arange(start_val, end_val)))
        return splits
    raise ValueError(f"unknown validation scheme {scheme!r}")
