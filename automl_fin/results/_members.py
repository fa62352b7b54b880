"""What stands behind a leaderboard row: its member trials with their weights, and
their out-of-fold predictions blended."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import optuna

from automl_fin.engine._trial_record import TrialRecord
from automl_fin.results._recalibration import mapping

__all__ = ["members_of", "oof_of"]


def members_of(
    study: optuna.Study, trial: optuna.trial.FrozenTrial
) -> list[tuple[optuna.trial.FrozenTrial, float]]:
    """The trials behind a leaderboard row with their weights: an ensemble's or a
    stack's members (a stack's in its layer 2's order), or the trial itself with
    weight 1."""
    record = TrialRecord.of(trial)
    weights = record.members
    if not weights:
        return [(trial, 1.0)]
    by_number = {t.number: t for t in study.get_trials(deepcopy=False)}
    if record.stacker:  # a stack: its layer 2's order
        return [(by_number[n], float(weights[str(n)])) for n in record.stacker["trials"]]
    return [(by_number[int(n)], float(w)) for n, w in weights.items()]


def oof_of(
    study: optuna.Study, trial: optuna.trial.FrozenTrial, run_dir: Path | None = None
) -> np.ndarray | None:
    """The out-of-fold predictions of a leaderboard row (its own file: a trial's or a
    stack's; an ensemble: its members', blended with its weights and, where it has one,
    mapped by its ``recalibration``), NaN on rows no fold
    predicted; ``None`` when a file is not readable here. A file is looked for where it
    was stored, then in ``run_dir/oof`` (a run folder that was moved)."""
    own = TrialRecord.of(trial).oof
    parts = [(trial, 1.0)] if own else members_of(study, trial)
    total: np.ndarray | None = None
    weights = 0.0
    for member, weight in parts:
        file = TrialRecord.of(member).oof_file(run_dir, member.datetime_start)
        if file is None:
            return None
        part = weight * np.load(file)
        total = part if total is None else total + part
        weights += weight
    if total is None:
        return None
    total /= weights
    after = mapping(TrialRecord.of(trial).recalibration)  # an ensemble's, on its blend
    return total if after is None else after(total)
