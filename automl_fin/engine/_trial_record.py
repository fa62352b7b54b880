"""One trial's record: what automl-fin stores about a trial, and what is asked of it.

The record is one Optuna user attribute, ``automl_fin`` (a JSON object), written when a
trial's model is known (a running trial shows it) and once more when the trial ends:
two storage writes a trial, through Optuna's public ``Trial.set_user_attr``, instead of
one a field. Tags given when a trial is queued (``baseline``, ``enqueued``,
``portfolio``, ``slot``) and ``surplus`` are user attributes of their own, set with
``enqueue_trial(user_attrs=...)`` or by the runner. Trials stored by earlier versions
(one user attribute a field) and the ensemble's row read the same: :meth:`TrialRecord.of`
takes the flat attributes, then the record over them.

Every "is this trial a candidate / a baseline / the ensemble / counted in the budget"
question is answered here, once.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # no optuna import at run time: the predictor reads records too
    from collections.abc import Iterable

    import optuna
    from optuna.trial import FrozenTrial

__all__ = [
    "RECORD",
    "TrialRecord",
    "best_of",
    "counts_toward_budget",
    "holds_budget",
    "is_baseline",
    "is_candidate",
    "is_ensemble",
    "tie_order",
]

RECORD = "automl_fin"  # the user attribute holding a trial's record
_TAGS = (
    "baseline",
    "enqueued",
    "portfolio",
    "slot",
    "surplus",
    "members",
    "stacker",
    "recalibration",
)


@dataclass
class TrialRecord:
    """What a trial did. Written by the objective; read by leaderboard, ensemble,
    predictor, report and final test. Queue tags (``baseline`` … ``surplus``) and an
    ensemble's ``members`` are read, never written into the record."""

    model: str | None = None
    preprocessors: str | None = None
    plugin: str | None = None  # the model's provider: "distribution version (entry point)"
    plugins: dict[str, str] = field(default_factory=dict)  # every spec used: "dist version"
    process: str | None = None  # host:pid that ran it
    machine: str | None = None  # its boot and PID namespace (engine._process.machine)
    folds: int | None = None  # folds planned
    fold_scores: list[float] = field(default_factory=list)
    score_std: float | None = None
    metrics: dict[str, float] = field(default_factory=dict)  # extra metrics, fold means
    fit_s: float | None = None
    predict_s: float | None = None
    build_s: float | None = None
    curve_s: float | None = None  # inside fit_s: learning-curve reports and pruner reads
    oof: str | None = None  # out-of-fold predictions (.npy), an absolute path
    stopped: str | None = None  # why a trial was cut (pruned, budget)
    # steps (boosting rounds, a forest's trees) its last fold kept when the budget stopped
    # that fit where it was (errors.BudgetStop); a refit of the trial stops there too
    budget_passes: float | None = None
    probe: int | None = None  # rows of the sample that timed its first fold (engine._probe)
    # a max_folds trial's score moved onto the scale of all splits (engine._fold_match):
    # {"trials": the reference trials' numbers, "shift": what was added to its own mean}
    matched: dict[str, Any] | None = None
    error: str | None = None  # one line: the plugin, the stage, the exception
    traceback: str | None = None
    # queue tags and ensemble members: read only
    baseline: str | None = None
    enqueued: int | None = None
    portfolio: str | None = None
    slot: bool = False
    surplus: bool = False
    members: dict[str, float] | None = None  # an ensemble's trial numbers -> weights
    stacker: dict[str, Any] | None = None  # a stack's layer 2 (results._stacking.Stacker)
    # an ensemble's blend put back on scale (results._recalibration.Platt)
    recalibration: dict[str, float] | None = None

    @property
    def family(self) -> str:
        """The model and the names of its preprocessing steps, e.g. ``logreg
        (text:minilm_embed)``: trials of one family differ only in parameters or
        calibration (near-copies to an ensemble: a calibration maps the same scores
        monotonically; logistic regression on embeddings and on TF-IDF columns are not)."""
        steps = (self.preprocessors or "none").split("; calibrated:")[0]
        return f"{self.model} ({steps})"

    def poolable(self, n_splits: int, run_dir: Path | None = None, since: Any = None) -> bool:
        """Whether an ensemble or a stack built here can take this trial: its out-of-fold
        predictions are on this machine (:meth:`oof_file`) and cover the study's
        ``n_splits`` splits (not the fewer folds of a ``max_folds`` model)."""
        return self.covers(n_splits) and self.oof_file(run_dir, since) is not None

    def oof_file(self, run_dir: Path | None = None, since: Any = None) -> Path | None:
        """This trial's out-of-fold predictions file, where it is readable here: where it
        was written, else in ``run_dir/oof`` (a runs folder moved since: the stored path
        is absolute) when written no earlier than the trial started (``since``, its
        ``datetime_start``: a study deleted and made again under its name leaves its
        files of the same names), else ``None``."""
        if not self.oof:
            return None
        stored = Path(str(self.oof))
        if stored.is_file():
            return stored
        if run_dir is None:
            return None
        moved = Path(run_dir) / "oof" / stored.name
        try:
            written = moved.stat().st_mtime
        except OSError:
            return None
        return moved if since is None or written >= since.timestamp() - 1 else None

    def covers(self, n_splits: int) -> bool:
        """Whether this trial stored out-of-fold predictions of all ``n_splits`` splits
        (readable on this machine or not)."""
        return bool(self.oof) and (self.folds or n_splits) == n_splits

    @classmethod
    def of(cls, trial: FrozenTrial | optuna.Trial) -> TrialRecord:
        """The record of a stored trial (its flat user attributes, then its record)."""
        attrs = trial.user_attrs
        data = {k: v for k, v in attrs.items() if k in _FIELDS}
        stored = attrs.get(RECORD)
        if isinstance(stored, dict):
            data.update({k: v for k, v in stored.items() if k in _FIELDS and k not in _TAGS})
        return cls(**data)

    def stored(self) -> dict[str, Any]:
        """The record as stored: fields set, queue tags left out."""
        return {
            f.name: value
            for f in dataclasses.fields(self)
            if f.name not in _TAGS and (value := getattr(self, f.name)) not in (None, [], {})
        }

    def write(self, trial: optuna.Trial) -> None:
        """Store the record on the running ``trial`` (one write)."""
        trial.set_user_attr(RECORD, self.stored())


_FIELDS = {f.name for f in dataclasses.fields(TrialRecord)}


def is_ensemble(trial: FrozenTrial) -> bool:
    """The ensemble's row (or an ensemble stored as a trial by earlier versions)."""
    return bool(trial.user_attrs.get("members"))


def is_baseline(trial: FrozenTrial) -> bool:
    """A reference model's trial (prior, random walk …), queued by the search."""
    return bool(trial.user_attrs.get("baseline"))


def is_candidate(trial: FrozenTrial, *, ensemble: bool = True) -> bool:
    """A completed row the search made, which the predictor refits when it is the best
    (a baseline only stands in for it when a reality check keeps one,
    :mod:`automl_fin.results._reality_check`); the ensemble's row too unless
    ``ensemble`` is false (members of an ensemble, one best row per model)."""
    if trial.state.name != "COMPLETE" or is_baseline(trial):
        return False
    return ensemble or not is_ensemble(trial)


def best_of(rows: Iterable[FrozenTrial], sign: int) -> FrozenTrial | None:
    """The best of completed ``rows`` by their value (``sign``: +1 when larger is
    better), ties by :func:`tie_order`, as the leaderboard ranks
    them; ``None`` for no rows."""

    def key(t: FrozenTrial) -> tuple[float, float, int, int]:
        log_loss = TrialRecord.of(t).metrics.get("log_loss")
        return (-sign * float(t.value), *tie_order(t.number, log_loss))  # type: ignore[arg-type]

    return min(rows, key=key, default=None)


def tie_order(number: int, log_loss: float | None) -> tuple[float, int, int]:
    """How rows of one score are ordered: the lower log loss first where it is measured
    (a recalibrated ensemble of one trial ties it on ROC AUC, ranks alike, and has the
    better probabilities), then the simpler: a trial (the lowest number first), the
    stack (-2, scored on folds its layer 2 never saw), the ensemble (-1, scored on the
    rows that chose its weights). A stack, an ensemble and one logistic regression that
    all scored 0.988776 saved the stack, without a look at their probabilities."""
    loss = float("inf") if log_loss is None or log_loss != log_loss else float(log_loss)
    return (loss, *((0, number) if number >= 0 else (1 if number == -2 else 2, 0)))


def counts_toward_budget(trial: FrozenTrial) -> bool:
    """Whether a finished trial uses up budget: completed, pruned, or failed by its own
    error (a trial failed because its process died, or failed unrun as surplus, does
    not)."""
    if is_ensemble(trial):
        return False
    if trial.state.name in ("COMPLETE", "PRUNED"):
        return True
    return trial.state.name == "FAIL" and TrialRecord.of(trial).error is not None


def holds_budget(trial: FrozenTrial) -> bool:
    """Counted, or running or queued: its place in the budget is taken."""
    return counts_toward_budget(trial) or trial.state.name in ("WAITING", "RUNNING")
