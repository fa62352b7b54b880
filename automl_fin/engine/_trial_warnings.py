"""Warnings raised inside trials, shown once a search.

Model libraries warn from inside every fit, and Python's once-per-location rule does not
hold there: a library that enters ``warnings.catch_warnings()`` during a fit resets it.
Fifteen trials of ``sgd`` and ``logreg`` on German credit printed scikit-learn's "Maximum
number of iteration reached before convergence" 36 times.

A trial's warnings are recorded with the filters as they are (an ``error`` filter still
raises where the warning is raised, an ``ignore`` still drops it), and each distinct one
(category and text, its numbers aside: scikit-learn's ElasticNet puts each fit's duality
gap in its text) is shown once a search, the first time, through
``warnings.showwarning`` (the filters have already passed it). After the search,
:meth:`TrialWarnings.repeated` says how often each shown one came back.
"""

from __future__ import annotations

import contextlib
import re
import textwrap
import warnings
from collections.abc import Iterator

__all__ = ["TrialWarnings"]

SHOWN_REPEATS = 3  # repeated warnings named in the line after a search
# a number standing alone (1.2e+03, -4, .5), not digits inside a name (x1, int64)
_NUMBER = re.compile(r"(?<![\w.])[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?(?!\w)")


class TrialWarnings:
    """The warnings of one search's trials: each shown the first time, then counted."""

    def __init__(self) -> None:
        # (category, text with its numbers as #) -> [times raised, trials that raised it]
        self.seen: dict[tuple[type[Warning], str], list[int]] = {}
        self.first: dict[tuple[type[Warning], str], str] = {}  # the text as first shown

    @contextlib.contextmanager
    def recording(self) -> Iterator[None]:
        """Record the warnings raised inside the block; show the new ones as it ends,
        whether it returns or raises."""
        caught: list[warnings.WarningMessage] = []
        try:
            with warnings.catch_warnings(record=True) as caught:
                yield
        finally:
            self._show(caught)

    def _show(self, caught: list[warnings.WarningMessage]) -> None:
        this_trial: set[tuple[type[Warning], str]] = set()
        for w in caught:
            key = (w.category, _NUMBER.sub("#", str(w.message)))
            counts = self.seen.setdefault(key, [0, 0])
            if counts[0] == 0:
                self.first[key] = str(w.message)
                warnings.showwarning(w.message, w.category, w.filename, w.lineno, w.file, w.line)
            counts[0] += 1
            if key not in this_trial:
                this_trial.add(key)
                counts[1] += 1

    def repeated(self) -> str | None:
        """One line on the warnings that came back after they were shown (most first),
        or ``None`` when none did."""
        again = sorted(
            ((n, trials, key[0].__name__, self.first[key]) for key, (n, trials)
             in self.seen.items() if n > 1),
            reverse=True,
        )  # fmt: skip
        if not again:
            return None
        said = [
            f"{name} {n} times in {trials} trial{'s' if trials > 1 else ''} "
            f"({textwrap.shorten(text, 80, placeholder=' …')})"
            for n, trials, name, text in again[:SHOWN_REPEATS]
        ]
        more = f"; {len(again) - SHOWN_REPEATS} more" if len(again) > SHOWN_REPEATS else ""
        return f"warnings from the trials, each shown once: {'; '.join(said)}{more}"
