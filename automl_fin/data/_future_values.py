"""A feature that holds the target of a later row, in a table of one row per time.

arch's WTI with tomorrow's price beside today's, under ``auto`` (validated walk-forward
on its dates), scored RMSE 1.05 against the last value's 21.4, without a word: no
forecast has that value when it is made. Such a column is said, naming the steps.
"""

from __future__ import annotations

import warnings

import numpy as np

from automl_fin.data._dataset import Dataset

__all__ = ["FUTURE_STEPS", "warn_future_values"]

FUTURE_STEPS = 3  # steps ahead a column is compared with the target's later values
MOST = 0.9  # share of the rows where it equals the later target


def warn_future_values(dataset: Dataset) -> None:
    """Warn of a numeric feature of ``dataset`` (rows in time order, one per time) equal
    to the target one to :data:`FUTURE_STEPS` rows later in :data:`MOST` of its rows."""
    times, y = dataset.times, np.asarray(dataset.y, dtype=float)
    if times is None or len(y) < 20 or len(np.unique(times)) < len(times):  # (a panel)
        return
    numbers = dataset.X.select_dtypes("number")
    if len(y) > SCREEN:  # a column that holds later targets does so in any stretch of rows
        numbers = numbers[[c for c in numbers if _holds_later(numbers[c].to_numpy()[:SCREEN],
                                                              y[:SCREEN])]]  # fmt: skip
    for name in numbers.columns:
        steps = _later_steps(numbers[name].to_numpy(dtype=float), y)
        if steps:  # (the nearest)
            warnings.warn(
                f"{dataset.source}: column '{name}' holds the '{dataset.target}' of "
                f"{steps[0]} row{'s' * (steps[0] > 1)} later in time: a value known only "
                f"after the row's own, which no forecast has, and the scores are not what "
                f"new rows will get; leave it out: --set 'data.drop=[{name}]'",
                stacklevel=4,
            )


SCREEN = 2_000  # rows a column is first looked at on (a million rows x 500 columns: 17 s)


def _holds_later(x: object, y: np.ndarray) -> bool:
    return bool(_later_steps(np.asarray(x, dtype=float), y, most=MOST / 2))


def _later_steps(x: np.ndarray, y: np.ndarray, most: float = MOST) -> list[int]:
    """The steps ahead (1 to :data:`FUTURE_STEPS`) whose target ``x`` equals in a
    ``most`` share of its rows."""
    found = []
    digits = _decimals(x)  # a copy written with fewer digits (2 for prices) is one too
    y = y if digits is None else np.round(y, digits)
    for step in range(1, FUTURE_STEPS + 1):
        later, now = y[step:], x[:-step]
        both = ~np.isnan(later) & ~np.isnan(now)
        if both.sum() < 10 or np.isclose(now[both], y[:-step][both]).mean() > 0.5:
            continue  # (the target itself, or a constant series: no telling)
        if np.isclose(now[both], later[both], rtol=1e-9, atol=0).mean() >= most:
            found.append(step)
    return found


def _decimals(x: np.ndarray) -> int | None:
    """The fewest decimals (up to 6) that write every value of ``x``, or ``None``."""
    seen = x[np.isfinite(x)]
    for digits in range(7):
        scaled = seen * 10.0**digits
        if np.allclose(scaled, np.round(scaled), rtol=0, atol=1e-6):
            return digits
    return None
