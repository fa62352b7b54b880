"""Classes too rare to validate, left out of a multiclass search with a warning.

A class with fewer rows than the stratified folds cannot be in every fold's training
and validation rows. Refusing the whole run for it (ggplot2's mpg: 3 of 15
manufacturers have fewer than 5 cars) left a user nothing to do but edit the table;
AutoGluon leaves such classes out and goes on. So does this, where what is left out is
small: at most :data:`MOST_LEFT_OUT` of the rows, and three classes or more remain
(fewer would be another task). Otherwise the folds' own refusal stands, with its advice.
Classes the recipe lists (``data.classes``; not an order inferred from the labels), or
names in its costs or metrics, are never left out.
"""

from __future__ import annotations

import dataclasses
import warnings

import numpy as np

from automl_fin.data._dataset import Dataset

__all__ = ["MOST_LEFT_OUT", "without_rare_classes"]

MOST_LEFT_OUT = 0.1  # share of the rows


def without_rare_classes(
    dataset: Dataset,
    need: int,
    why: str,
    named: frozenset[str] = frozenset(),
    fix: str = "lower validation.n_splits",
) -> tuple[Dataset, str]:
    """``dataset`` less the rows of classes with fewer than ``need`` rows (``why``: what
    needs them, ``fix``: the setting that needs fewer, for the warning), where that
    leaves out little, and ``""``; else ``dataset`` and why its rare classes stay
    (``named``: classes the recipe names, in its costs or metrics, which stay), for the
    folds' refusal."""
    counts = np.bincount(dataset.y.astype(np.int64), minlength=dataset.n_classes)
    rare = np.flatnonzero(counts < need)
    left_out = int(counts[rare].sum())
    if not len(rare):
        return dataset, ""
    asked = [str(dataset.classes[i]) for i in rare if str(dataset.classes[i]) in named]
    if asked:
        return dataset, f"the recipe's costs or metrics name {', '.join(map(repr, asked))}"
    if len(counts) - len(rare) < 3:
        return dataset, f"fewer than three of the {len(counts)} classes would remain"
    if left_out > MOST_LEFT_OUT * len(dataset.y):
        return dataset, (
            f"{len(rare)} classes of {left_out} rows, {left_out / len(dataset.y):.0%} of the "
            f"rows, over the {MOST_LEFT_OUT:.0%} left out unasked"
        )
    keep = ~np.isin(dataset.y, rare)
    kept = np.flatnonzero(counts >= need)
    codes = np.full(len(counts), -1, dtype=np.int64)
    codes[kept] = np.arange(len(kept))
    shown = ", ".join(f"{dataset.classes[i]!r} ({counts[i]})" for i in rare[:5])
    more = f" and {len(rare) - 5} more" if len(rare) > 5 else ""
    warnings.warn(
        f"{dataset.source}: target '{dataset.target}': class{'es' * (len(rare) > 1)} "
        f"{shown}{more} {'have' if len(rare) > 1 else 'has'} fewer rows than {why}: "
        f"{'their' if len(rare) > 1 else 'its'} {left_out} rows are left out, and the "
        f"predictor never predicts {'them' if len(rare) > 1 else 'it'}; to keep "
        f"{'them' if len(rare) > 1 else 'it'}, merge {'them' if len(rare) > 1 else 'it'} "
        f"into another class{f' (or {fix})' if fix else ''}",
        stacklevel=3,
    )
    return dataclasses.replace(
        dataset,
        X=dataset.X.loc[keep].reset_index(drop=True),
        y=codes[dataset.y[keep].astype(np.int64)].astype(dataset.y.dtype),
        classes=[dataset.classes[i] for i in kept],
        times=None if dataset.times is None else dataset.times[keep],
        rare_classes=[dataset.classes[i] for i in rare],
        rare_rows=[int(counts[i]) for i in rare],
    ), ""
