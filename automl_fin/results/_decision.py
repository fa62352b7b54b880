"""Decision rules: labels chosen apart from the probabilities, for label metrics.

Probabilities say how likely each class is; a metric scored on labels (macro-F1,
balanced accuracy, QWK, a class's F1: ``Metric.labels``) often rewards another choice
than the most likely class. With unequal classes macro-F1 is higher when a rare
class is named more often than it is the most likely one. Class weights in the fit were
the only lever for that, and they distort the probabilities
(:mod:`automl_fin.engine._prior_shift`).

A rule is one factor per class: a row's label is ``argmax_k p_k * w_k`` (for a binary
task, a threshold on P(positive)). :func:`fit_rule` fits the factors of a leaderboard
row on its out-of-fold predictions for the recipe's metric: coordinate ascent over log
factors (class 0 fixed at 1) in steps of 0.1 out to 3 beyond the log of the class's
inverse frequency, the middle of the best plateau at each step. A rule is kept only
when it earns its place on rows it was not fitted on: the out-of-fold rows (a
stratified sample of :data:`MAX_ROWS` on larger data) are cut into :data:`PARTS`
stratified parts, a rule fitted on the others labels each part, and those labels,
pooled, must score better than the plain arg-max on the same rows. Otherwise the row
keeps the arg-max. A one-sided score (``recall:<class>``, ``precision:<class>``) gets no
rule: naming the class always, or never, maximises it.

The rule moves labels only: ``predict`` and ``predict_frame``'s ``prediction``, the
final test's and ``evaluate``'s label metrics use it; ``predict_proba`` and every
probability metric do not change. A trial's leaderboard score stays its plain arg-max
score (Optuna's value); the rows built after the search, the ensemble and the stack,
fit their rule when they are built (:func:`rule_row`, user attribute ``decision``) and
score as their predictor would label: their arg-max score (``metric:argmax``) plus
the rule's cross-fitted gain. A stack's layer 2 is fitted unweighted, so it names a
rare class too seldom, and its rule moves it most. The predictor's manifest
(``decision``) keeps the chosen row's factors, its plain and its cross-fitted score.

Measured on held-out final test rows of 9 stored searches, rules applied afterwards
(docs/benchmarks.md: risk_tier on ``loans_tiers`` and on carData's World Values Survey,
``default`` on ISLR Default under balanced accuracy, 60 s; ``loans_tiers`` at 600 s):
the chosen row's label metric +0.012 on average (0 to +0.039, never lower); each of 31
trials with a rule +0.0003 to +0.18, stacks +0.07 to +0.23. The ensemble selected on
the metric itself rarely kept a rule (greedy selection had moved its labels already,
on the same rows); it is now selected on log loss and labelled by its rule
(``results._ensemble.selection_criterion``: +0.005 a run on 16 more searches).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import optuna

    from automl_fin.data._metrics import Metric
    from automl_fin.engine._problem import Problem

__all__ = [
    "Rule",
    "crossfit_decide",
    "decide",
    "fit_rule",
    "labelled",
    "rule_of",
    "rule_row",
    "ruled",
]

STEP, SPAN = 0.1, 3.0  # log factors tried for class c: 0 ± (SPAN + |log(n_0 / n_c)|)
SWEEPS = 3  # passes over the classes at most
PARTS = 5  # cross-fit parts that must confirm a rule
MIN_ROWS = 100  # fewer out-of-fold rows: no rule (its gain could not be told from noise)
ROWS_A_CLASS = 20  # and fewer than this many a class: ten factors fitted on 16 rows each
MAX_ROWS = 20_000  # a stratified sample of this many fits the rule on larger data
STORED = "decision"  # the user attribute of an ensemble's or stack's rule


@dataclass(frozen=True)
class Rule:
    """Per-class factors on the probabilities, and how the cross-fit judged them.

    Attributes:
        factors: one factor per class (the first is 1).
        plain: the metric of the plain arg-max on the out-of-fold rows.
        crossfit: the metric of the cross-fitted rule's labels on the same rows.
        rows: how many out-of-fold rows it was fitted on.
        costs: the recipe's costs (``costs[i][j]``: a row of class ``i`` labelled
            ``j``) where each row's label is the one of least expected cost of its
            weighted probabilities (``Metric.matrix``); ``None``: their arg-max.
    """

    factors: tuple[float, ...]
    plain: float
    crossfit: float
    rows: int
    costs: tuple[tuple[float, ...], ...] | None = None

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict (a manifest's ``decision``)."""
        data: dict[str, Any] = {
            "factors": list(self.factors),
            "plain": self.plain,
            "crossfit": self.crossfit,
            "rows": self.rows,
        }
        if self.costs is not None:
            data["costs"] = [list(row) for row in self.costs]
        return data

    @property
    def fitted(self) -> bool:
        """Whether factors were fitted and confirmed on rows they were not fitted on (a
        cost's own weights, kept or read without out-of-fold rows, are not)."""
        return self.rows > 0 and self.crossfit != self.plain

    @classmethod
    def from_json(cls, data: dict[str, Any] | None) -> Rule | None:
        """The inverse of :meth:`to_json` (``None`` for none)."""
        if not data:
            return None
        return cls(
            factors=tuple(float(f) for f in data["factors"]),
            plain=float(data["plain"]),
            crossfit=float(data["crossfit"]),
            rows=int(data["rows"]),
            costs=_costs(data.get("costs")),
        )


def _costs(data: Any) -> tuple[tuple[float, ...], ...] | None:
    return None if data is None else tuple(tuple(float(c) for c in row) for row in data)


def ruled(proba: np.ndarray, rule: Rule | None) -> np.ndarray:
    """Probabilities whose arg-max is the rule's label (rows rescaled to sum to 1; one-hot
    under ``Rule.costs``): what a label metric is given. ``proba`` itself without a
    rule."""
    if rule is None:
        return proba
    from automl_fin.data._metrics import least_cost  # (scikit-learn's metrics with it)

    scaled = np.asarray(proba, dtype=float) * np.asarray(rule.factors)
    scaled = least_cost(scaled, rule.costs)
    return scaled / np.maximum(scaled.sum(axis=1, keepdims=True), np.finfo(float).tiny)


def decide(proba: np.ndarray, rule: Rule | None) -> np.ndarray:
    """Each row's class index under ``rule`` (the arg-max without one)."""
    return np.argmax(ruled(proba, rule), axis=1)


def fit_rule(metric: Metric, y: np.ndarray, proba: np.ndarray, seed: int = 0) -> Rule | None:
    """The decision rule of out-of-fold predictions ``proba`` of labels ``y`` for
    ``metric``, or ``None``: not a label metric (or a one-sided one, ``recall:<class>``
    or ``precision:<class>``), too few rows, or a rule that does not beat the arg-max on
    rows it was not fitted on. A metric with its own decision (a cost's
    :attr:`~automl_fin.data._metrics.Metric.factors`) starts from it and keeps it in
    those cases: its rule is never ``None``."""
    y = np.asarray(y, dtype=int)
    proba = np.asarray(proba, dtype=float)
    if not (metric.labels and metric.decidable) or proba.ndim != 2 or proba.shape[1] < 2:
        return None
    start = _start(metric, proba.shape[1])
    if len(y) >= MIN_ROWS:
        kept = _sample(y, seed)  # k - 1 factors need no more rows; the fit's time grows with them
        y, proba = y[kept], proba[kept]
    plain = float(metric(y, proba * start))
    own = None
    if metric.factors is not None:  # a cost's own decision
        own = Rule(tuple(float(f) for f in start), plain, plain, len(y), metric.matrix)
    if len(y) < max(MIN_ROWS, ROWS_A_CLASS * proba.shape[1]):
        return own  # (11 classes on 174 rows: a cross-fitted gain of 0.05, a held-out loss)
    crossfit = metric(y, _crossed(metric, y, proba, seed))
    if not metric.sign * crossfit > metric.sign * plain:
        return own
    factors = tuple(float(f) for f in _factors(metric, y, proba))
    return Rule(factors, float(plain), float(crossfit), len(y), metric.matrix)


def _start(metric: Metric, k: int) -> np.ndarray:
    """The factors a rule starts from: the metric's own decision, else the arg-max's."""
    return np.ones(k) if metric.factors is None else np.asarray(metric.factors, dtype=float)


def rule_of(
    study: optuna.Study,
    problem: Problem,
    trial: optuna.trial.FrozenTrial,
    run_dir: Path | None = None,
) -> Rule | None:
    """The decision rule of a leaderboard row, fitted on its out-of-fold predictions
    (``None`` when they are not readable, or see :func:`fit_rule`)."""
    from automl_fin.results._members import oof_of

    metric = problem.decision_metric
    if metric is None:
        return None
    if STORED in trial.user_attrs:  # a row built after the search keeps its own
        return Rule.from_json(trial.user_attrs[STORED])
    oof = oof_of(study, trial, run_dir)
    if oof is None and metric.factors is not None:  # not readable here: the costs' own
        return Rule(metric.factors, 0.0, 0.0, 0, metric.matrix)  # (rows 0: nothing fitted)
    return None if oof is None else _fit_oof(problem, oof)


def labelled(problem: Problem) -> bool:
    """Whether ``problem``'s search metric is scored on labels of classes that a rule
    may choose (``Metric.labels`` and ``Metric.decidable``)."""
    return problem.decision_metric is problem.metric


def rule_row(problem: Problem, oof: np.ndarray, value: float, attrs: dict[str, Any]) -> float:
    """A row built after the search (ensemble, stack) whose labels a rule chooses: its
    rule fitted on its out-of-fold predictions ``oof`` and kept in ``attrs``
    (``decision``: ``None`` for the arg-max). Under a label search metric
    (``metrics.argmax``: ``value``, its score before the rule), returns the row's score
    as its predictor labels: ``value`` plus the rule's cross-fitted gain; else
    ``value``."""
    if problem.decision_metric is None:
        return value
    rule = _fit_oof(problem, oof)
    attrs[STORED] = None if rule is None else rule.to_json()
    if not labelled(problem):  # the labels serve the costs, the score is of probabilities
        return value
    attrs.setdefault("metrics", {})["argmax"] = value
    if rule is None:
        return value
    # the spread of the labels the rule gives, fold by fold (cross-fitted): the arg-max's
    # was kept, 0.0004 of a macro-F1 that always named the majority class, beside a
    # score the rule lifted by 0.04 (held out: 0.19 against the 0.225 ± 0.0005 said)
    folds = _ruled_folds(problem, oof, rule)
    attrs["score_std"] = float(np.std(folds.pop(problem.metric.name, [0.0])))
    # and the other label metrics of those labels (accuracy, qwk, recall:<class>): the
    # arg-max's stood beside the ruled score (WVS's stack: qwk 0.122 and a recall of
    # 0.054 for 'About Right', its predictor's 0.21 and 0.38 held out)
    attrs["metrics"].update({name: float(np.mean(v)) for name, v in folds.items()})
    return value + rule.crossfit - rule.plain


def _ruled_folds(problem: Problem, oof: np.ndarray, rule: Rule) -> dict[str, list[float]]:
    """Fold by fold, the search metric and the other label metrics of the labels
    ``rule`` gives the out-of-fold rows, each part's factors fitted on the others."""
    from automl_fin.data._metrics import least_cost

    metric = problem.decision_metric
    assert metric is not None  # callers check
    oof = oof.reshape(len(oof), -1)
    seen = np.flatnonzero(~np.isnan(oof).any(axis=1))
    y = np.asarray(problem.dataset.y, dtype=int)
    crossed = np.full_like(oof, np.nan)
    crossed[seen] = _crossed(metric, y[seen], oof[seen], problem.recipe.seed)
    chosen = np.full_like(oof, np.nan)  # the ruled labels, one-hot
    picked = np.argmax(least_cost(crossed[seen], metric.matrix), axis=1)
    chosen[seen] = np.eye(oof.shape[1])[picked]
    others = [m for m in problem.extra_metrics if m.labels and m.name != metric.name]
    out: dict[str, list[float]] = {}
    for _, valid in problem.splits:
        rows = valid[~np.isnan(crossed[valid]).any(axis=1)]
        if len(rows):
            out.setdefault(metric.name, []).append(float(metric(y[rows], crossed[rows])))
            for m in others:
                out.setdefault(m.name, []).append(float(m(y[rows], chosen[rows])))
    return out


def crossfit_decide(
    metric: Metric, y: np.ndarray, proba: np.ndarray, rule: Rule | None, seed: int = 0
) -> np.ndarray:
    """Each row's class index as the decision rule labels rows it was not fitted on:
    the arg-max where there is no ``rule`` (a cost's own decision where the rule is
    that); otherwise the rows are cut into the
    :data:`PARTS` parts :func:`fit_rule` confirms a rule on (same ``seed``), and factors
    fitted on the other parts label each. Scored, these labels give the rule's
    cross-fitted score (``Rule.crossfit``, up to :data:`MAX_ROWS` rows), not the
    optimistic one of :func:`decide` on the rows ``rule`` was fitted on."""
    proba = np.asarray(proba, dtype=float)
    if rule is None or not rule.fitted:  # the arg-max, or a cost's own weights
        return decide(proba, rule)
    from automl_fin.data._metrics import least_cost

    crossed = _crossed(metric, np.asarray(y, dtype=int), proba, seed)
    return np.argmax(least_cost(crossed, metric.matrix), axis=1)


def _crossed(metric: Metric, y: np.ndarray, proba: np.ndarray, seed: int) -> np.ndarray:
    """``proba`` with each part's rows scaled by the factors fitted on the other parts
    (at most :data:`MAX_ROWS` of them, a stratified sample)."""
    part = _parts(y, seed)
    crossed = np.empty_like(proba)
    for k in range(PARTS):
        others = np.flatnonzero(part != k)
        others = others[_sample(y[others], seed)]
        inside = part == k
        crossed[inside] = proba[inside] * _factors(metric, y[others], proba[others])
    return crossed


def _fit_oof(problem: Problem, oof: np.ndarray) -> Rule | None:
    oof = oof.reshape(len(oof), -1)
    seen = ~np.isnan(oof).any(axis=1)
    metric = problem.decision_metric
    assert metric is not None  # callers check
    return fit_rule(metric, problem.dataset.y[seen], oof[seen], problem.recipe.seed)


def _stratified(y: np.ndarray, seed: int) -> np.ndarray:
    """The rows by class, in random order within each: evenly spaced positions of it
    are a stratified sample."""
    return np.lexsort((np.random.default_rng(seed).random(len(y)), y))


def _sample(y: np.ndarray, seed: int) -> np.ndarray:
    """The positions of a stratified sample of at most :data:`MAX_ROWS` rows, in order
    (all rows when there are no more)."""
    if len(y) <= MAX_ROWS:
        return np.arange(len(y))
    return np.sort(_stratified(y, seed)[(np.arange(MAX_ROWS) * len(y)) // MAX_ROWS])


def _parts(y: np.ndarray, seed: int) -> np.ndarray:
    """A stratified cut of the rows into :data:`PARTS` parts (each row's part number)."""
    part = np.empty(len(y), dtype=int)
    part[_stratified(y, seed)] = np.arange(len(y)) % PARTS
    return part


def _factors(metric: Metric, y: np.ndarray, proba: np.ndarray) -> np.ndarray:
    """Coordinate ascent over the log factors of classes 1..k-1, each over a grid wide
    enough to reach the inverse of its frequency (a balanced accuracy's optimum)."""
    k = proba.shape[1]
    counts = np.maximum(np.bincount(y, minlength=k), 1)
    logs = np.log(_start(metric, k))  # each grid centred on the metric's own decision
    grids = []
    for c in range(k):
        reach = int(np.ceil((SPAN + abs(np.log(counts[0] / counts[c]))) / STEP))
        grids.append(np.round(logs[c] + np.arange(-reach, reach + 1) * STEP, 10))
    best = metric.sign * metric(y, proba)
    for _ in range(SWEEPS):
        moved = False
        for c in range(1, k):
            grid = grids[c]
            now, scores = logs[c], np.empty(len(grid))
            for i, g in enumerate(grid):
                logs[c] = g
                scores[i] = metric.sign * metric(y, proba * np.exp(logs))
            pick = _plateau_middle(scores, grid, current=now)
            logs[c] = grid[pick]
            if scores[pick] > best + 1e-12:
                best, moved = scores[pick], True
        if not moved:
            break
    return np.exp(logs)


def _plateau_middle(scores: np.ndarray, grid: np.ndarray, current: float) -> int:
    """The middle of the run of best scores nearest ``current`` (a flat optimum's
    centre generalises better than its edge)."""
    scores = np.nan_to_num(scores, nan=-np.inf)  # an undefined score never wins
    top = scores >= scores.max() - 1e-12
    nearest = int(np.flatnonzero(top)[np.argmin(np.abs(grid[top] - current))])
    lo = hi = nearest
    while lo > 0 and top[lo - 1]:
        lo -= 1
    while hi < len(top) - 1 and top[hi + 1]:
        hi += 1
    return (lo + hi) // 2
