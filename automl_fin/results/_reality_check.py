"""The reality check: does the best row beat the baselines by more than luck?

A search tries tens or hundreds of rows on the same folds, and the best of them beats a
baseline on those folds partly by luck, the more so the more rows were tried. On a daily
return series nothing may beat the random walk at all: the best of 301 trials still
scored 0.3-0.9 % ahead of it on its folds, then fell behind it on the held-out year
(docs/benchmarks.md). With ``reality_check: LEVEL`` a recipe asks, after the search,
Hansen's (2005) test of superior predictive ability: on the out-of-fold rows, against
the best baseline, over *every* row tried (each completed trial and the stack; not the
ensemble, whose weights were chosen on these rows: it is chosen where the best other row
passes), with a stationary bootstrap (Politis and Romano, 1994) that keeps neighbouring
rows together, in blocks whose mean length the data chooses (Politis and White, 2004).
When its p-value is above ``LEVEL`` the search has not shown that any row beats the
baseline, and the baseline is the row the predictor refits (the leaderboard's ``chosen``
column); the search warns in one line, saying how to keep the best row.

The test needs per-row losses that order rows as the metric does
(:data:`~automl_fin.data._metrics.ROW_LOSSES`): the squared error (``rmse``, ``r2``,
``oos_r2``), the absolute error (``mae``, ``mase``) or the cross-entropy (``log_loss``).
Forecasts are compared in their reported units (a price target: prices), as their folds
are scored.

The verdict is stored on the study (user attribute ``reality_check``) together with the
row it tested; a row found better later (another process kept searching) is not
covered by it, and is chosen as usual.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from automl_fin.engine._trial_record import TrialRecord, best_of, is_baseline, is_candidate

if TYPE_CHECKING:
    import optuna

    from automl_fin.engine._problem import Problem

__all__ = [
    "ATTR",
    "block_length",
    "chosen_number",
    "chosen_row",
    "counted",
    "left_out",
    "reality_check",
    "spa_pvalue",
    "verdict_on",
    "without_diverged",
]

ATTR = "reality_check"  # the study user attribute that holds the verdict
ENSEMBLE_ROW = -1  # the ensemble's row number (automl_fin.results._ensemble.STORED_ROWS)
BOOTSTRAPS = 1000
_CHUNK = 1_000_000  # bootstrap draws made at once: a few arrays of this many, ~50 MB


def stationary_counts(
    n: int, block: float, bootstraps: int, rng: np.random.Generator
) -> np.ndarray:
    """How often each of ``n`` rows is drawn by each of ``bootstraps`` stationary-bootstrap
    resamples (blocks of geometric length, mean ``block``, wrapping around the end):
    a ``(bootstraps, n)`` array whose rows sum to ``n``."""
    fresh = rng.random((bootstraps, n)) < 1.0 / block  # a new block starts here
    fresh[:, 0] = True
    starts = rng.integers(0, n, size=(bootstraps, n))
    pos = np.arange(n)
    # the position where the current block began, and the row it began at
    began = np.maximum.accumulate(np.where(fresh, pos, 0), axis=1)
    index = (np.take_along_axis(starts, began, axis=1) + (pos - began)) % n
    offsets = (np.arange(bootstraps) * n)[:, None]
    counts = np.bincount((index + offsets).ravel(), minlength=bootstraps * n)
    return counts.reshape(bootstraps, n).astype(float)


def _autocovariances(d: np.ndarray) -> Iterator[tuple[int, np.ndarray]]:
    """Each column's autocovariances at lags ``0 .. n-1`` (sums over ``n``), by FFT, a
    few columns at a time: ``(first column, array of lags x columns)``."""
    n = len(d)
    size = 1 << (2 * n - 1).bit_length()
    step = max(1, _CHUNK // size)
    for lo in range(0, d.shape[1], step):
        x = d[:, lo : lo + step] - d[:, lo : lo + step].mean(axis=0)
        spectrum = np.fft.rfft(x, size, axis=0)
        yield lo, np.fft.irfft(spectrum * spectrum.conj(), size, axis=0)[:n] / n


def long_run_variance(d: np.ndarray, block: float) -> np.ndarray:
    """Each column's variance of ``sqrt(n)`` times its mean under the stationary bootstrap
    with mean block length ``block``: the autocovariances weighted by the chance that a
    block spans their lag (Politis and Romano, 1994), as ``arch`` estimates it."""
    n = len(d)
    lag = np.arange(1, n)
    q = 1.0 - 1.0 / block
    with np.errstate(under="ignore"):
        kappa = (1 - lag / n) * q**lag + (lag / n) * q ** (n - lag)
    out = np.empty(d.shape[1])
    for lo, acov in _autocovariances(d):
        out[lo : lo + acov.shape[1]] = acov[0] + 2 * kappa @ acov[1:]
    return np.maximum(out, 0.0)


def block_length(d: np.ndarray) -> float:
    """The stationary bootstrap's mean block length for loss differences ``d`` (rows x
    candidates): :func:`politis_white`'s, never shorter than ``n^(1/3)``. Their rule
    minimises the error of the variance estimate, not the test's size: on weakly
    dependent rows its short blocks made the test reject 15 % of the time at the 5 %
    level (50 candidates without an edge, AR(1) 0.1, 600 rows) against 12 % with
    ``n^(1/3)``; on strongly dependent rows (overlapping forecasts) its longer blocks
    halve the false rejections of ``n^(1/3)``."""
    return max(politis_white(d), len(d) ** (1 / 3))


def politis_white(d: np.ndarray) -> float:
    """Politis and White's (2004, corrected 2009) automatic mean block length of the
    stationary bootstrap for each column of ``d`` (a flat-top window over the
    autocovariances up to twice the first lag after which ``max(5, log10 n)``
    autocorrelations in a row are insignificant), the median over the columns, between
    1 and ``min(3 sqrt(n), n / 3)``, as ``arch.bootstrap.optimal_block_length``.
    Overlapping forecasts (a horizon above 1) and volatility clusters lengthen it."""
    n = len(d)
    runs = max(5, int(math.log10(n)))
    most = math.ceil(math.sqrt(n)) + runs
    band = 2 * math.sqrt(math.log10(n) / n)
    cap = math.ceil(min(3 * math.sqrt(n), n / 3))
    lag = np.arange(1, most + 1)[:, None]
    found = []
    for _, acov in _autocovariances(d):
        a = acov[: most + 1]
        var = np.where(a[0] > 0, a[0], np.inf)
        quiet = np.abs(a[1:] / var) < band  # insignificant autocorrelations, lags 1 ..
        run = np.lib.stride_tricks.sliding_window_view(quiet, runs, axis=0).all(axis=-1)
        start = np.where(run.any(axis=0), run.argmax(axis=0) + 1, most)
        m = np.minimum(2 * start, most)[None, :]
        weight = np.where(lag <= m, np.minimum(1.0, 2 * (1 - lag / m)), 0.0)
        g = 2 * (weight * lag * a[1:]).sum(axis=0)
        spread = a[0] + 2 * (weight * a[1:]).sum(axis=0)
        with np.errstate(divide="ignore", invalid="ignore"):
            b = np.cbrt(g**2 / spread**2 * n)
        found.append(np.where(np.isfinite(b), b, 1.0))
    return float(np.clip(np.median(np.concatenate(found)), 1.0, cap))


def spa_pvalue(
    diff: np.ndarray,
    *,
    block: float | None = None,
    bootstraps: int = BOOTSTRAPS,
    seed: int = 0,
) -> float:
    """The consistent p-value of the test of superior predictive ability (Hansen, 2005;
    the Reality Check of White, 2000), as ``arch.bootstrap.SPA`` computes it.

    ``diff[t, k]`` is the benchmark's loss on row ``t`` minus candidate ``k``'s (above 0:
    the candidate did better). The null hypothesis: no candidate has a lower expected
    loss than the benchmark. The statistic is the largest mean difference (0 when none
    is positive); its distribution comes from ``bootstraps`` stationary bootstrap
    resamples of the rows (mean block length ``block``; default :func:`block_length`),
    re-centred only for candidates not clearly worse than the benchmark (by their
    :func:`long_run_variance`). A small p-value: some candidate beats the benchmark even
    after counting how many were tried.

    The mean differences are not divided by their standard errors: with many candidates
    the largest studentised one is the one whose error the estimate happened to
    under-state, and the test then rejected 13 % of the time at the 5 % level (50
    independent candidates, no edge, 600 rows; 9 % without, arch's 7 %). Forecasts of one target
    have losses of similar spread, where studentising gains little.
    """
    d = np.asarray(diff, dtype=float)
    if d.ndim == 1:
        d = d[:, None]
    n, k = d.shape
    if n < 3 or k == 0:
        raise ValueError(f"the reality check needs rows and candidates; got {n} x {k}")
    if not np.isfinite(d).all():
        raise ValueError("the reality check's loss differences must be finite")
    block = block or block_length(d)
    rng = np.random.default_rng(seed)
    means = np.empty((bootstraps, k))
    step = max(1, _CHUNK // n)
    for lo in range(0, bootstraps, step):
        hi = min(bootstraps, lo + step)
        means[lo:hi] = stationary_counts(n, block, hi - lo, rng) @ d / n
    mean = d.mean(axis=0)
    error = np.sqrt(long_run_variance(d, block) / n)  # of each mean
    relevant = mean >= -error * math.sqrt(2 * math.log(math.log(n)))
    centre = np.where(relevant, mean, 0.0)
    stat = max(0.0, float(mean.max()))
    simulated = np.maximum(0.0, (means - centre).max(axis=1))
    return float(np.mean(simulated >= stat))


def verdict_on(study_attrs: Mapping[str, Any], best: int, value: float) -> dict[str, Any] | None:
    """The study's reality-check verdict if it tested row ``best`` (scored ``value``),
    the study's best row now: same number and score (an ensemble rebuilt since keeps its
    number, not its score; a better row found since has another); else ``None``."""
    check = study_attrs.get(ATTR)
    if (
        isinstance(check, dict)
        and check.get("best") == best
        and math.isclose(float(check.get("best_value", math.nan)), value, rel_tol=1e-12)
    ):
        return check
    return None


def chosen_number(study_attrs: Mapping[str, Any], best: int, value: float) -> int:
    """The number of the row a study's predictor refits when row ``best`` (scored
    ``value``) is its best: the baseline its reality check kept instead, if that check
    tested this very row (:func:`verdict_on`)."""
    check = verdict_on(study_attrs, best, value)
    return best if check is None or check.get("chosen") is None else int(check["chosen"])


def chosen_row(study: optuna.Study, problem: Problem) -> optuna.trial.FrozenTrial | None:
    """The row the predictor refits: the best completed row (a trial, the ensemble or the
    stack; never a baseline), unless the reality check kept a baseline instead of it;
    ``None`` when no row completed."""
    from automl_fin.results._ensemble import rows_of

    rows = rows_of(study)
    best = best_of((t for t in rows if is_candidate(t)), problem.metric.sign)
    if best is None:
        return None
    number = chosen_number(study.user_attrs, best.number, float(best.value))  # type: ignore[arg-type]
    kept = [t for t in rows if t.number == number and t.state.name == "COMPLETE"]
    return kept[0] if kept else best


def reality_check(
    study: optuna.Study, problem: Problem, run_dir: Path | None = None
) -> dict[str, Any] | None:
    """Test the study's best row against its best baseline over every row tried (see the
    module), store the verdict on the study (``reality_check``) and return it; warn when
    the baseline is kept, and when the test cannot run or counts fewer rows than were
    tried (out-of-fold files not readable here). ``None`` (nothing stored; a verdict an
    earlier run of the study left is forgotten) when the recipe does not ask for it."""
    from automl_fin.results._ensemble import rows_of

    p = problem
    level = p.recipe.reality_check
    if study.user_attrs.get(ATTR) is not None:  # an earlier verdict never outlives this run
        study.set_user_attr(ATTR, None)
    if level is None:
        return None
    rows = [t for t in rows_of(study) if t.state.name == "COMPLETE"]
    sign = p.metric.sign
    best = best_of((t for t in rows if is_candidate(t)), sign)
    base = best_of((t for t in rows if is_baseline(t)), sign)
    if best is None:  # the search warns: only the baselines completed
        return None
    if base is None:
        warnings.warn(
            f"reality check not run: no baseline completed; {TrialRecord.of(best).model} "
            "stays the chosen row",
            stacklevel=3,
        )
        return None
    verdict: dict[str, Any] = {
        "level": level,
        "best": best.number,
        "best_value": float(best.value),  # type: ignore[arg-type]
        "best_model": str(TrialRecord.of(best).model),
        "baseline": base.number,
        "baseline_model": str(TrialRecord.of(base).model),
        "chosen": best.number,
    }
    # each trial scored on every fold and the stack (its layer 2 cross-fitted): the rows
    # tried. Not the ensemble: its weights were chosen on these very rows, and as one more
    # row it passed where its members did not (p 0.046 for 0.064 on arch's NASDAQ; its
    # final test 0.146); it is chosen where the best honest row passes
    splits = len(p.splits)
    honest = [t for t in rows if is_candidate(t) and t.number != ENSEMBLE_ROW]
    tested = best_of(honest, sign) or best
    tried = [t for t in honest
             if t is tested or t.number < 0 or TrialRecord.of(t).covers(splits)]  # fmt: skip
    if tested is not best:
        verdict |= {"tested": tested.number, "tested_model": str(TrialRecord.of(tested).model)}
    losses, unreadable = _losses(study, p, [base, *tried], run_dir)
    if losses[base.number] is None or losses[tested.number] is None:
        verdict["skipped"] = "out-of-fold predictions not readable here"
        warnings.warn(
            f"reality check not run: the out-of-fold predictions of "
            f"{'the baseline' if losses[base.number] is None else 'the best row'} are not "
            f"readable here; {verdict['best_model']} stays the chosen row",
            stacklevel=3,
        )
        study.set_user_attr(ATTR, verdict)
        return verdict
    base_loss = losses.pop(base.number)
    numbers = [n for n, loss in losses.items() if loss is not None]
    diff = np.stack([base_loss - losses[n] for n in numbers], axis=1)  # type: ignore[operator]
    finite = np.isfinite(diff).all(axis=1)
    rows_used = int(finite.sum())
    keep = numbers.index(tested.number) if tested.number in numbers else None
    diff, diverged = without_diverged(diff[finite], base_loss[finite], keep)  # type: ignore[index]
    diff = per_time(diff, panel_times(p, finite))
    block = block_length(diff)
    pvalue = spa_pvalue(diff, block=block, seed=p.recipe.seed)
    verdict |= {
        "p_value": pvalue,
        "rows": rows_used,
        "dates": len(diff),  # the observations tested: a panel's dates, else its rows
        "rows_tried": len(numbers),
        "diverged": diverged,
        "unreadable": unreadable,
        "block": block,
        "bootstraps": BOOTSTRAPS,
    }
    if unreadable:
        warnings.warn(
            f"reality check: the out-of-fold predictions of {counted(unreadable)} tried are not "
            f"readable here, so it counts the luck of {len(numbers)} only",
            stacklevel=3,
        )
    if pvalue > level:
        verdict["chosen"] = base.number
        warnings.warn(
            f"reality check: no row beat the baseline {verdict['baseline_model']} by more "
            f"than the luck of {counted(len(numbers))} tried{left_out(verdict)} (SPA p = "
            f"{pvalue:.3f} > {level} on {verdict['rows']:,} out-of-fold rows{_dated(verdict)}), "
            "so the predictor is the "
            "baseline; set "
            f"reality_check: null to keep the best row ({verdict['best_model']}, "
            f"{p.metric.name} {verdict['best_value']:.6g})",
            stacklevel=3,
        )
    study.set_user_attr(ATTR, verdict)
    return verdict


DIVERGED = 2.0  # a row whose mean loss is over this many times the baseline's: left out


def without_diverged(
    diff: np.ndarray, base_loss: np.ndarray, keep: int | None = None
) -> tuple[np.ndarray, int]:
    """``diff`` (rows x rows tried) without the rows tried that diverged, and how many
    those were: a mean loss over :data:`DIVERGED` times the baseline's (all kept when
    every one did). They take no part in the test: a row that
    bad cannot be the best by luck, but its loss, spread far wider than the others',
    sets the bootstrap's maximum when it is not "clearly worse" by its own wide error
    (one ridge fit at 19 times the historical mean's loss on statsmodels' quarterly CPI
    took the p-value from 0.02 to 0.52, and the baseline was kept over a model 37 %
    ahead on the folds and 7 % on the final test)."""
    worse = -diff.mean(axis=0)  # each row's mean loss minus the baseline's
    broken = worse > (DIVERGED - 1.0) * float(np.mean(base_loss))
    if keep is not None:  # the best row, whose verdict this is, is always tested
        broken[keep] = False
    if broken.all() or not broken.any():
        return diff, 0
    return diff[:, ~broken], int(broken.sum())


def _losses(
    study: optuna.Study,
    problem: Problem,
    rows: list[optuna.trial.FrozenTrial],
    run_dir: Path | None,
) -> tuple[dict[int, np.ndarray | None], int]:
    """Each row's per-row loss on its out-of-fold predictions (NaN where no fold predicted;
    forecasts in reported units, as their folds are scored), one row at a time; ``None``
    for a row whose file is not readable here, and how many such rows there are."""
    from automl_fin.data._metrics import ROW_LOSSES  # scikit-learn: not for a leaderboard
    from automl_fin.results._members import oof_of

    y, scale = problem.dataset.y, problem.dataset.scale
    loss = ROW_LOSSES[problem.metric.name]
    every = np.arange(len(y))
    truth = y if scale is None else scale.to_report(y, every)
    out: dict[int, np.ndarray | None] = {}
    for t in rows:
        pred = oof_of(study, t, run_dir)
        if pred is not None and scale is not None:
            pred = scale.to_report(pred.reshape(len(y)), every)
        out[t.number] = None if pred is None else loss(truth, pred)
    return out, sum(v is None for v in out.values())


def left_out(verdict: Mapping[str, Any]) -> str:
    """`` (2 of them diverged ...: left out)`` where rows were left out, else ``""``."""
    n = verdict.get("diverged", 0)
    return f" ({n} of them diverged, over {DIVERGED:g} times its loss: left out)" if n else ""


def _dated(verdict: Mapping[str, Any]) -> str:
    """``, 288 dates`` where a panel's rows were tested as dates, else ``""``."""
    dates = verdict.get("dates")
    return f", {dates:,} dates" if dates is not None and dates != verdict["rows"] else ""


def panel_times(p: Problem, rows: np.ndarray) -> np.ndarray | None:
    """The time of each of ``rows`` where the data is a price panel (several series at
    one time), else ``None``: a table with a coarse time column (a month of issue) is
    no panel, its rows are tested as rows."""
    times = p.dataset.times
    return None if p.dataset.scale is None or times is None else times[rows]


def per_time(d: np.ndarray, times: np.ndarray | None) -> np.ndarray:
    """Loss differences ``d`` (rows, or rows x candidates) as one mean per time stamp, in
    time order: the rows of a panel (several assets forecast at each date) move
    together, so the tests count dates, not rows (four European indices counted as
    independent rows gave a Diebold-Mariano p of 0.0003 where their dates give 0.014).
    Without ``times``, or with one row a time, ``d`` as it is."""
    if times is None or len(times) == 0:
        return d
    order, inverse = np.unique(times, return_inverse=True)
    if len(order) == len(times):
        return d[np.argsort(times, kind="stable")]
    counts = np.bincount(inverse).astype(float)
    sums = np.zeros((len(order), *d.shape[1:]))
    np.add.at(sums, inverse, d)
    return sums / counts.reshape(-1, *([1] * (d.ndim - 1)))


def counted(n: int) -> str:
    """``1 row``, ``2 rows``."""
    return f"{n} row" if n == 1 else f"{n} rows"
