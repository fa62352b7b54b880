"""Warnings raised inside trials, shown once a search.

Model libraries warn from inside every fit, and Python's once-per-location rule does not
hold there: a library that enters ``warnings.catch_warnings()`` during a fit resets it.
Fifteen trials of ``sgd`` and ``logreg`` on German credit printed scikit-learn's "Maximum
number of iteration reached before convergence" 36 times.

A trial's warnings are recorded with the filters as they are (an ``error`` filter still
raises where the warning is raised, an ``ignore`` still drops it), and each distinct one
(category and text, its numbers aside: scikit-learn's ElasticNet puts each fit's duality
gap in its text) is shown once a search, the first time, through
``warnings.showwarning`` (the filters have already passed it), its text led by the
model and trial that raised it (scikit-learn's nine-line ConvergenceWarning named no
model, and its advice to scale the data read as the pipeline's fault). After the search,
:meth:`TrialWarnings.repeated` says how often each shown one came back, and from which
models.
"""

from __future__ import annotations

import contextlib
import re
import textwrap
import warnings
from collections.abc import Iterator

__all__ = ["TrialWarnings"]

SHOWN_REPEATS = 3  # repeated warnings named in the line after a search
ONE_LINE = 300  # characters of a trial's warning shown
# a number standing alone (1.2e+03, -4, .5), not digits inside a name (x1, int64)
_NUMBER = re.compile(r"(?<![\w.])[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?(?!\w)")


class TrialWarnings:
    """The warnings of one search's trials: each shown the first time, then counted."""

    def __init__(self) -> None:
        # (category, text with its numbers as #) -> [times raised, trials that raised it]
        self.seen: dict[tuple[type[Warning], str], list[int]] = {}
        self.first: dict[tuple[type[Warning], str], str] = {}  # the text as first shown
        self.models: dict[tuple[type[Warning], str], dict[str, None]] = {}  # who raised it

    @contextlib.contextmanager
    def recording(self, model: str = "", trial: int | None = None) -> Iterator[None]:
        """Record the warnings raised inside the block (a trial of ``model``); show the
        new ones as it ends, whether it returns or raises."""
        caught: list[warnings.WarningMessage] = []
        try:
            with warnings.catch_warnings(record=True) as caught:
                yield
        finally:
            self._show(caught, model, trial)

    def _show(self, caught: list[warnings.WarningMessage], model: str, trial: int | None) -> None:
        this_trial: set[tuple[type[Warning], str]] = set()
        for w in caught:
            key = (w.category, _NUMBER.sub("#", str(w.message)))
            counts = self.seen.setdefault(key, [0, 0])
            self.models.setdefault(key, {})[model] = None
            if counts[0] == 0:
                self.first[key] = str(w.message)
                who = f"{model} (trial {trial})" if trial is not None else model
                message = _led_by(w.message, who)
                warnings.showwarning(message, w.category, w.filename, w.lineno, w.file, w.line)
            counts[0] += 1
            if key not in this_trial:
                this_trial.add(key)
                counts[1] += 1

    def repeated(self) -> str | None:
        """One line on the warnings that came back after they were shown (most first),
        or ``None`` when none did."""
        again = sorted(
            ((n, trials, key[0].__name__, self.first[key], ", ".join(filter(None, models)))
             for key, (n, trials) in self.seen.items() if n > 1
             for models in [self.models[key]]),
            reverse=True,
        )  # fmt: skip
        if not again:
            return None
        said = [
            f"{name} {n} times in {trials} trial{'s' if trials > 1 else ''}"
            f"{f' of {models}' if models else ''} ({textwrap.shorten(text, 80, placeholder=' …')})"
            for n, trials, name, text, models in again[:SHOWN_REPEATS]
        ]
        more = f"; {len(again) - SHOWN_REPEATS} more" if len(again) > SHOWN_REPEATS else ""
        return f"warnings from the trials, each shown once: {'; '.join(said)}{more}"


def _led_by(message: Warning | str, who: str) -> Warning | str:
    """``message`` with ``who`` (the model, the trial) leading its text, on one line of
    at most :data:`ONE_LINE` characters; as it was when its class cannot be made from a
    text alone."""
    if not who:
        return message
    # one line of at most ONE_LINE characters: scikit-learn's ConvergenceWarning took 7
    # lines and two links among the trial lines (a prober's "noise")
    text = textwrap.shorten(" ".join(str(message).split()), ONE_LINE, placeholder=" …")
    try:
        return type(message)(f"{who}: {text}")
    except Exception:  # a warning class of other arguments
        return message
