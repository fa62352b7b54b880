"""The score of a trial scored on fewer splits than the others, on their scale.

A ``max_folds`` model (a fine-tuned transformer: minutes a fit) is scored on the first
``k`` splits only; every other row on all of them. A fold's rows can be easier or harder
for every model alike, so the mean of ``k`` folds is not comparable with a mean of all:
on Financial PhraseBank the first of five folds scored 0.71 to 0.79 macro-F1 for the
same ensemble across three data splits, while its five-fold mean held at 0.76. Compared
as they were, a fine-tuned encoder whose one fold was a hard one (0.771; held out
0.812) lost to an ensemble (0.773; held out 0.776) that scored 0.709 on that same fold.

The matched score is the trial's own mean plus the mean difference, over the
:data:`REFERENCES` best trials scored on all splits, between each one's mean over all of
them and over the same ``k``: a paired estimate of what the trial would score on all
splits (a hard fold lowers every model). Measured leave-one-out on 24 stored searches
(``python -m benchmarks.compare`` runs of five data sets; each full trial among the
best 30 scored as if on its first fold only, against the trials completed before it):
the mean absolute distance to the trial's own all-split mean is 0.0147 for the one-fold
score, 0.0084 matched to the best five (closer in 19 of 24 searches), 0.0109 matched to
the best one alone (closer in 14: one trial's fold has its own luck).
The trial's record keeps its own mean (``metrics["own_folds"]``) and the reference
(``matched``: the reference trials' numbers and the difference added).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from automl_fin.engine._trial_record import TrialRecord, is_candidate

if TYPE_CHECKING:
    from optuna.trial import FrozenTrial

__all__ = ["REFERENCES", "matched_score"]

REFERENCES = 5  # best trials scored on all splits whose fold differences are averaged


def matched_score(
    scores: Sequence[float], trials: Iterable[FrozenTrial], n_splits: int, sign: float
) -> tuple[float, dict[str, Any] | None]:
    """``(score, matched)``: the mean of ``scores`` (a trial's first ``len(scores)``
    splits of ``n_splits``) moved onto the scale of all splits by the :data:`REFERENCES`
    best completed candidates among ``trials`` scored on all of them, with ``matched``
    ``{"trials": their numbers, "shift": the difference added}``; the plain mean and
    ``None`` when the scores cover every split or no such trial exists."""
    own = float(np.mean(scores))
    k = len(scores)
    if not 0 < k < n_splits:
        return own, None
    full = [
        (t, rec.fold_scores)
        for t in trials
        if is_candidate(t, ensemble=False)
        and len((rec := TrialRecord.of(t)).fold_scores) == n_splits
    ]
    full.sort(key=lambda pair: -sign * float(pair[0].value))  # type: ignore[arg-type]
    best = full[:REFERENCES]
    if not best:
        return own, None
    shift = float(np.mean([np.mean(folds) - np.mean(folds[:k]) for _, folds in best]))
    return own + shift, {"trials": [t.number for t, _ in best], "shift": shift}
