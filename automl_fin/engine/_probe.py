"""A model's fold time on large data, measured on a sample of the fold instead of
guessed from its declared ``cost``.

Before a model has fitted a fold, the search estimates its fold time as the fastest fold
seen per unit of declared cost, times the model's cost (:class:`~automl_fin.engine.
_objective.Objective`). The costs are ratios measured on tables of a few thousand rows;
on large ones models scale apart. nycflights13 (262,816 search rows, four categorical
columns with up to 4,000 levels): a logistic regression's fold took 8.4 s (one-hot
encoding and L-BFGS), which priced LightGBM's at ~130 s and histogram boosting's at
~170 s; neither was ever started, at 60 s or 300 s, and every model of the search was a
logistic regression. The other way on causaldata's mortgages (137,052 training rows a
fold, five columns): LightGBM's 2.7 s folds priced extra trees' five folds within the
time left; the first took 174 s, and a random forest then ran past the budget's end.
So on folds of :data:`PROBE_FROM` training rows or more, before a model's first fold,
its pipeline is fitted once on a sample of the fold's training rows and its time
scaled to the fold's rows as ``n log n`` (a tree's sorting and depth; boosting's
histograms grow about linearly, so the figure errs long, and a fixed cost such as an
import makes it longer still: a model guessed long is left out, one guessed short may
hold the rest of the budget). Scaled linearly, extra trees' fold on 210,000 rows was
priced within the 100 s left and ran past the budget's end.
"""

from __future__ import annotations

import math
import time
from typing import TYPE_CHECKING

import numpy as np

from automl_fin.engine._pipeline import build_pipeline
from automl_fin.engine._time_limit import TrialTimeout

if TYPE_CHECKING:
    from automl_fin.engine._pipeline import Plan
    from automl_fin.engine._problem import Problem

__all__ = ["PROBE_FROM", "probe_rows", "probe_seconds"]

PROBE_FROM = 20_000  # training rows of a fold from which a guess is checked on a sample
PROBE_SHARE = 0.05  # share of the fold's training rows the sample takes
PROBE_MIN = 1_000  # rows the sample takes at least
PROBE_LEFT = 0.5  # share of the time left the probe may take, by the guess scaled down


def probe_rows(n: int) -> int:
    """Rows a probe of a fold with ``n`` training rows fits (0: no probe, the fold is
    small enough for the declared costs)."""
    return 0 if n < PROBE_FROM else max(PROBE_MIN, int(n * PROBE_SHARE))


def probe_seconds(
    problem: Problem, plan: Plan, seed: int, train: np.ndarray, guess: float, left: float
) -> tuple[float, int] | None:
    """The seconds a fold of ``plan`` on the ``train`` rows likely takes, measured on a
    seeded sample of them, and the sample's size; ``None`` where no probe is made (a
    small fold, or one whose ``guess``, the fold's time from declared costs, scaled to
    the sample would not fit half the ``left`` seconds), or where the fit on the sample
    raises (the fold itself will show the error, if it runs). Only the fit is timed
    (predicting the validation rows is left out) and a monitored model fits without its
    monitor: the probe's own time is bounded by the guess's scale (see ``left``) and the
    trial's time limit only."""
    n = len(train)
    m = probe_rows(n)
    if not m or guess * m / n > PROBE_LEFT * left:
        return None
    p = problem
    rows = _sample(train, p.dataset.y[train] if p.task.is_classification else None, m, seed)
    X, y = p.dataset.X.iloc[rows], p.dataset.y[rows]
    if p.task.is_classification and len(np.unique(y)) < max(p.dataset.n_classes, 2):
        return None  # a class missing from the sample: a fit would not be like the fold's
    try:
        ctx = p.context(seed, model=plan.model, n_rows=m)
        pipe = build_pipeline(plan, p.all_models, p.preprocessors, p.dataset.kinds, ctx)
        started = time.perf_counter()
        pipe.fit(X, y)
        took = time.perf_counter() - started
    except TrialTimeout:
        raise  # the search's budget or the trial's limit: the trial stops as it would
    except Exception:
        return None
    return took * n / m * math.log(n) / math.log(m), m


def _sample(train: np.ndarray, classes: np.ndarray | None, m: int, seed: int) -> np.ndarray:
    """``m`` of the ``train`` rows, sorted, drawn with ``seed``; stratified by class
    where ``classes`` are given and each has two rows or more (a rare class kept)."""
    from sklearn.model_selection import train_test_split

    if classes is not None and np.unique(classes, return_counts=True)[1].min() >= 2:
        rows = train_test_split(train, train_size=m, random_state=seed, stratify=classes)[0]
    else:
        rows = np.random.default_rng(seed).choice(train, m, replace=False)
    return np.sort(rows)
