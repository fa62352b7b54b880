"""The search's time budget, for a model fit that is not monitored.

A monitored model gets ``Monitor.check``; a model that is not (scikit-learn's protocol,
no ``monitor=`` argument, perhaps wrapped by a calibration) but fits in steps, such as
a forest grown a batch of trees at a time, calls :func:`check_budget` between steps.
While the engine fits a fold (or refits a trial) it points the call at that fit's
check; anywhere else the call does nothing.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from contextvars import ContextVar

__all__ = ["budget_checked", "check_budget"]

_CHECK: ContextVar[Callable[[float], None] | None] = ContextVar("automl_fin_check", default=None)


def check_budget(steps: float) -> None:
    """Check the search's time budget between two steps of a long fit (``steps``: those
    done so far, e.g. the trees grown). In a search it is the fold's
    :attr:`Monitor.check <automl_fin.Monitor>`: it raises
    :class:`~automl_fin.errors.BudgetStop` where the fit may end where it is and keep
    what it fitted (end the fit and return: the fold is scored as fitted), and
    :class:`~automl_fin.errors.Pruned` where it may not (let it propagate). On a refit
    of a trial the budget stopped, it raises ``BudgetStop`` at the steps that trial's
    fit kept. Outside a fit by automl-fin it does nothing."""
    check = _CHECK.get()
    if check is not None:
        check(steps)


@contextlib.contextmanager
def budget_checked(check: Callable[[float], None]) -> Iterator[None]:
    """Within the block, :func:`check_budget` calls ``check`` (the engine's side)."""
    token = _CHECK.set(check)
    try:
        yield
    finally:
        _CHECK.reset(token)
