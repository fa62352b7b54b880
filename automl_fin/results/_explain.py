"""Why the predictor scored a row as it did: Shapley contributions of the original columns.

The whole predictor is explained as one function (every member of an ensemble, every
fold model of a bag, a stack's layer 2, the preprocessing), on the columns the user gave
it: a categorical column is one player, not its one-hot columns; a text column is one.
The explained quantity is the predictor's *margin*: the log-odds of one class (binary:
the positive class, e.g. ``bad``; multiclass: the last class, the highest of an ordered
task (risk_tier's worst tier; a quality scale's best), unless another is named) or the
predicted value (regression).

Contributions are interventional Shapley values estimated by permutation sampling
(Strumbelj and Kononenko, 2014): ``samples`` pairs of a random column order and a
background row ``z`` (rows of the training data kept with the predictor), the same pairs
for every explained row, each order used forwards and reversed (antithetic: less
variance for the same cost). Walking an order from ``z`` to the row ``x``, one column at
a time, each column is credited with the change of the margin when it switches from
``z``'s value to ``x``'s. The changes telescope, so for every row the contributions sum
to the row's margin minus the mean margin of the sampled background rows exactly. The
rows ``z`` are drawn one from each stratum of the background's margins, and the small
difference between their mean margin and the whole background's (``base``) is shared
among the columns in proportion to the variance of their sampled contributions: every
row's contributions sum to its margin minus ``base``, whatever rows were sampled (drawn
at random, ``base`` moved with the seed: 5,100, 4,529 and 4,215 for diamonds whose
background's mean is 4,199, and so did every contribution). For a model additive in
its margin (a logistic regression on numeric columns) a column's contribution moves
with its own value only: exactly ``coef`` times its change. Cost: ``samples *
(columns + 1)`` predictions a row, batched across rows, and one prediction of the
background rows.

The reason codes of a row (adverse-action reasons) are the columns with the largest
positive contributions: those that pushed its margin toward the explained class most.
"""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from automl_fin.data._tidy import nullable_number
from automl_fin.errors import ArtifactError, DataError

if TYPE_CHECKING:
    from automl_fin.results._predictor import Predictor

__all__ = [
    "BACKGROUND_FILE",
    "BACKGROUND_ROWS",
    "Explanation",
    "background_of",
    "explain",
    "explain_features",
]

BACKGROUND_FILE = "background.pkl"
BACKGROUND_ROWS = 100  # training rows kept with a predictor as the explanations' background
BATCH_CELLS = 20_000_000  # table cells of hybrid rows predicted in one call
PILOT_ROWS = 25  # rows of the first call, whose pace says how long the rest takes
CLIP = 1e-6  # probabilities clipped before the log-odds
LONG = 60.0  # seconds of explaining left over which the wait is said up front


@dataclass
class Explanation:
    """Per-row contributions of the original columns to the predictor's margin.

    Attributes:
        contributions: one row per explained row (the input's index), one column per
            input column; in ``units``.
        base: the mean margin of the background rows: every row's contributions sum to
            its ``margin`` minus ``base``.
        margin: the predictor's margin of each row.
        reasons: ``reason_1`` … ``reason_k``: the columns that pushed each row's margin
            up (toward ``outcome``) most, largest first (empty where fewer did).
        outcome: the class whose log-odds is explained (``None`` for regression).
        units: what the margin is, in words.
    """

    contributions: pd.DataFrame
    base: float
    margin: pd.Series
    reasons: pd.DataFrame
    outcome: Any
    units: str


def background_of(X: pd.DataFrame, seed: int) -> pd.DataFrame:
    """Up to ``BACKGROUND_ROWS`` training rows, drawn at random (kept with a predictor)."""
    if len(X) <= BACKGROUND_ROWS:
        return X.reset_index(drop=True)
    rows = np.sort(np.random.default_rng(seed).choice(len(X), BACKGROUND_ROWS, replace=False))
    return X.iloc[rows].reset_index(drop=True)


def explain(
    predictor: Predictor,
    data: Any,
    *,
    top: int = 3,
    outcome: Any = None,
    samples: int = 32,
    seed: int = 0,
) -> Explanation:
    """See :meth:`Predictor.explain`."""
    if predictor.schema.series is not None:
        raise ArtifactError(
            "explain: a price forecast's inputs are computed from each series' window, "
            "not given as columns; there is nothing per column to explain"
        )
    X, _ = predictor._features(data)
    return explain_features(predictor, X, top=top, outcome=outcome, samples=samples, seed=seed)


def explain_features(
    predictor: Predictor,
    X: pd.DataFrame,
    *,
    top: int = 3,
    outcome: Any = None,
    samples: int | None = 32,
    seed: int = 0,
) -> Explanation:
    """:func:`explain` of feature rows already checked (``Predictor._features``);
    ``samples=None``: 32, or as many as a row's hybrids fit in one prediction call on a
    wide table (said in one warning: ``automl-fin predict --explain``, which has no
    samples option)."""
    schema = predictor.schema
    if samples is None:
        samples = _samples_that_fit(X.shape[1])
    if int(top) < 0 or int(samples) < 2:
        raise ValueError(f"top={top}, samples={samples}: need top >= 0 and samples >= 2")
    column, units = _outcome(predictor, outcome)
    index = X.index
    X = X.reset_index(drop=True)
    background = predictor.background
    if background is None:
        raise ArtifactError(
            "explain: this predictor was saved without background rows (before "
            "explanations existed); run the search again to save them"
        )
    background = background[X.columns]
    rng = np.random.default_rng(seed)
    d, pairs = X.shape[1], int(samples) + int(samples) % 2
    orders = []
    for _ in range(pairs // 2):
        order = rng.permutation(d)
        orders += [order, order[::-1]]
    rank = np.argsort(np.asarray(orders), axis=1)  # rank[s, j]: column j's step in order s

    def margin(raw: np.ndarray) -> np.ndarray:
        if column is None:
            return np.asarray(raw, dtype=float)
        p = np.clip(np.asarray(raw, dtype=float)[:, column], CLIP, 1 - CLIP)
        return np.log(p) - np.log1p(-p)

    kept = margin(predictor._blend(background))  # every background row's: the base
    base = float(kept.mean())
    picks = _strata(kept, pairs // 2, rng)
    Z = background.iloc[np.repeat(picks, 2)].reset_index(drop=True)  # one z per pair

    per_row = pairs * (d + 1) * max(d, 1)
    if per_row > BATCH_CELLS:
        fits = max(2, _orders_that_fit(d))
        raise DataError(
            f"explain: {d} columns x {pairs} samples need {per_row:,} cells a row, over the "
            f"{BATCH_CELLS:,} predicted at once; pass samples={fits} or fewer"
        )
    chunk = max(1, BATCH_CELLS // per_row)
    phi = np.empty((len(X), d))
    margins = np.empty(len(X))
    started = time.monotonic()
    # a first call of a few rows times the pace: a file of one call's rows (20,000 rows
    # of 5 columns) took minutes without a word
    pilot = min(chunk, PILOT_ROWS) if len(X) > PILOT_ROWS else chunk
    for start in [0, *range(pilot, len(X), chunk)] if len(X) else []:  # (no rows: none)
        if start == pilot:  # the pace of the first call: say a long wait up front
            _say_the_wait(time.monotonic() - started, pilot, len(X))
        part = X.iloc[start : start + (pilot if start == 0 else chunk)]
        hybrids = _hybrids(part, Z, rank)
        f = margin(predictor._blend(hybrids)).reshape(len(part), pairs, d + 1)
        steps = np.diff(f, axis=2)  # steps[r, s, p]: the change when step p's column joins
        gathered = np.take_along_axis(steps, np.broadcast_to(rank, (len(part), pairs, d)), axis=2)
        phi[start : start + len(part)] = _to_base(gathered, float(f[0, :, 0].mean()) - base)
        margins[start : start + len(part)] = f[:, 0, d]
    contributions = pd.DataFrame(phi, index=index, columns=X.columns)
    return Explanation(
        contributions=contributions,
        base=base,
        margin=pd.Series(margins, index=index, name="margin"),
        reasons=reasons_of(contributions, int(top)),
        outcome=None if column is None else schema.classes[column],
        units=units,
    )


def _strata(margins: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    """``k`` background rows, one drawn from each of ``k`` equal strata of their margins
    (all rows, drawn again, where there are fewer): the sampled rows' mean margin is
    close to the background's. Drawn at random, 16 of 100 diamonds had a mean price
    $900 above the background's, and every explained row's contributions carried it
    (the mean contribution of carat over the training rows was -674, not about 0)."""
    if len(margins) < k:
        return rng.choice(len(margins), k, replace=True)
    order = np.argsort(margins, kind="stable")
    return np.array([rng.choice(part) for part in np.array_split(order, k)])


def _to_base(gathered: np.ndarray, gap: float) -> np.ndarray:
    """The contributions of ``gathered`` (``[row, sample, column]``) moved to add up to
    the margin minus the whole background's mean, not the sampled rows' (``gap``: the
    sampled rows' mean minus the background's): the gap is shared in proportion to the
    variance of each column's sampled contributions (the least-squares estimate under
    the sum constraint, as in Covert and Lee, 2021), so a column whose contribution does
    not depend on the background row takes none of it."""
    phi = gathered.mean(axis=1)
    if gap == 0.0:
        return phi
    spread = gathered.var(axis=1)
    total = spread.sum(axis=1, keepdims=True)
    share = np.divide(spread, total, out=np.full_like(spread, 1 / phi.shape[1]), where=total > 0)
    return phi + gap * share


def _say_the_wait(seconds: float, done: int, rows: int) -> None:
    """Warn once when explaining ``rows`` rows will take over :data:`LONG` seconds at the
    pace of the first ``done`` (explaining a row predicts hundreds of hybrid rows: 12 s
    per 1,000 rows for an ensemble on AER CreditCard, minutes for a large file)."""
    left = seconds / done * (rows - done)
    if left > LONG:
        per = seconds / done * 1000
        warnings.warn(
            f"explain: {rows:,} rows take ~{(left + seconds) / 60:.0f} min at this pace "
            f"({per:.1f} s per 1,000 rows here); explain a sample of the rows for sooner "
            "reason codes (predictions alone take seconds)",
            stacklevel=5,
        )


def _orders_that_fit(d: int) -> int:
    """Column orders whose hybrid rows for ``d`` columns fit one prediction call."""
    return BATCH_CELLS // ((d + 1) * max(d, 1))


def _samples_that_fit(d: int, wanted: int = 32) -> int:
    """Column orders a row for ``d`` columns: ``wanted``, fewer (never under 2) when
    their hybrid rows would pass :data:`BATCH_CELLS` (warned), refused when 2 do."""
    fits = _orders_that_fit(d)
    if fits >= wanted:
        return wanted
    if fits < 2:
        raise DataError(
            f"explain: {d} columns are too many to explain row by row (2 column orders "
            f"need {2 * (d + 1) * d:,} predicted cells a row, over {BATCH_CELLS:,}); "
            "drop --explain, or search on fewer columns (data.drop)"
        )
    warnings.warn(
        f"explain: {d} columns: {fits - fits % 2} column orders a row instead of {wanted} "
        "(the most one prediction call holds); the reason codes are rougher",
        stacklevel=4,
    )
    return fits - fits % 2


def reasons_of(contributions: pd.DataFrame, top: int) -> pd.DataFrame:
    """The ``top`` columns with the largest positive contribution of each row."""
    values = contributions.to_numpy()
    order = np.argsort(-values, axis=1, kind="stable")[:, :top]
    names = np.asarray(contributions.columns, dtype=object)[order]
    positive = np.take_along_axis(values, order, axis=1) > 0
    reasons = np.where(positive, names, "")
    if reasons.shape[1] < top:  # more reasons asked for than there are columns
        pad = np.full((len(values), top - reasons.shape[1]), "", dtype=object)
        reasons = np.hstack([reasons.astype(object), pad])
    columns = [f"reason_{i + 1}" for i in range(top)]
    return pd.DataFrame(reasons, index=contributions.index, columns=columns)


def _outcome(predictor: Predictor, outcome: Any) -> tuple[int | None, str]:
    """The probability column explained, and the margin's units in words."""
    schema = predictor.schema
    if not schema.task.is_classification:
        if outcome is not None:
            why = f"explain: outcome={outcome!r} names a class; this predictor is a {schema.task}"
            raise DataError(why)
        return None, f"predicted {schema.target}"
    labels = [str(c) for c in schema.classes]
    if outcome is None:
        column = len(labels) - 1  # binary: the positive class; ordered tiers: the worst
    elif str(outcome) in labels:
        column = labels.index(str(outcome))
    else:
        raise DataError(f"explain: outcome={outcome!r} is not a class; classes: {labels}")
    return column, f"log-odds of {schema.target} = {labels[column]}"


def _plain_values(col: pd.Series, native: bool) -> np.ndarray:
    """``col`` as numpy: numbers as numbers (a nullable ``Int64`` or ``boolean`` column as
    floats with NaN, never objects holding ``pd.NA``, which a fitted imputer refuses),
    other kinds as objects."""
    if not native:
        return col.to_numpy(dtype=object)
    if nullable_number(col.dtype):
        return col.to_numpy(dtype=float, na_value=np.nan)
    return col.to_numpy()


def _hybrids(part: pd.DataFrame, Z: pd.DataFrame, rank: np.ndarray) -> pd.DataFrame:
    """Rows ``(row, pair, step)``: at step ``p`` of pair ``s``, the columns whose rank in
    order ``s`` is below ``p`` come from the row, the others from ``z_s`` (dtypes kept)."""
    r, (pairs, d) = len(part), rank.shape
    take_x = rank[:, None, :] < np.arange(d + 1)[None, :, None]  # (pairs, steps, columns)
    out = {}
    for j, c in enumerate(part.columns):
        native = pd.api.types.is_numeric_dtype(part[c]) and not isinstance(
            part[c].dtype, pd.CategoricalDtype
        )  # numbers stay numpy numbers; other kinds go through objects
        x, z = (
            _plain_values(part[c], native)[:, None, None],
            _plain_values(Z[c], native)[None, :, None],
        )
        values = np.where(take_x[None, :, :, j], x, z).reshape(-1)
        # numbers keep numpy's common type (int rows beside a float background: float)
        out[c] = values if native else pd.Series(values, dtype=part[c].dtype)
    if not out:
        return pd.DataFrame(index=range(r * pairs * (d + 1)))
    return pd.DataFrame(out)
