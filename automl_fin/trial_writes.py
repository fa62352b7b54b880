"""A running trial's writes, gathered and stored with a few bulk statements.

Optuna's RDB storage writes every sampled parameter, user attribute and reported value
in its own ORM transaction: 0.7-1.7 ms each with SQLite here (a network round trip each
with PostgreSQL), and a trial makes about thirty. :class:`BatchedRDBStorage` keeps them
in memory and writes them in one transaction of bulk statements (0.8 ms for thirty):

- before the trial's state changes (complete, pruned, failed), so a finished trial is
  always stored whole, and before anything reads trials from the storage;
- when asked (:meth:`BatchedRDBStorage.flush`: the objective asks before fitting, so a
  running trial shows its model and parameters at once);
- at the next write once the oldest held one is a second old (a long fit's learning
  curve reaches the storage as it goes).

The trial itself reads what it wrote from Optuna's per-trial cache, so the sampler and
the pruner see exactly what they would without batching. A process that dies loses at
most its running trial's last second of writes; that trial is failed as stale anyway.
A parameter name this process has not written before goes straight through Optuna's
own write, which checks it against the study's earlier distribution of that name.
"""

from __future__ import annotations

import json
import threading
import time
import warnings
from collections.abc import Container
from dataclasses import dataclass, field
from typing import Any

import optuna
import sqlalchemy as sa
from optuna.distributions import (
    BaseDistribution,
    check_distribution_compatibility,
    distribution_to_json,
)
from optuna.storages._rdb import models
from optuna.trial import FrozenTrial, TrialState

__all__ = ["BatchedRDBStorage"]

FLUSH_S = 1.0  # a held write reaches the storage at the next write after this long

_TRIALS = models.TrialModel.__table__
_ATTRS = models.TrialUserAttributeModel.__table__
_PARAMS = models.TrialParamModel.__table__
_STEPS = models.TrialIntermediateValueModel.__table__


@dataclass
class _Writes:
    """One trial's held writes: user attributes (JSON text), parameters (internal value,
    distribution JSON) and reported values, the last write of a key winning."""

    attrs: dict[str, str] = field(default_factory=dict)
    params: dict[str, tuple[float, str]] = field(default_factory=dict)
    steps: dict[int, float] = field(default_factory=dict)


class BatchedRDBStorage(optuna.storages.RDBStorage):
    """Optuna's RDB storage with a running trial's writes batched (see the module)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._init_buffer()

    def _init_buffer(self) -> None:
        self._held: dict[int, _Writes] = {}
        self._since = 0.0  # when the oldest held write was made
        self._hold = threading.RLock()

    def __getstate__(self) -> dict[Any, Any]:
        self.flush()
        state = super().__getstate__()
        for name in ("_held", "_since", "_hold"):
            state.pop(name, None)
        return state

    def __setstate__(self, state: dict[Any, Any]) -> None:
        super().__setstate__(state)
        self._init_buffer()

    # -- held writes ------------------------------------------------------------------
    def set_trial_user_attr(self, trial_id: int, key: str, value: Any) -> None:
        text = json.dumps(value)  # a value JSON cannot hold fails here, as with Optuna
        self._add(trial_id, lambda w: w.attrs.__setitem__(key, text))

    def set_trial_intermediate_value(
        self, trial_id: int, step: int, intermediate_value: float
    ) -> None:
        self._add(trial_id, lambda w: w.steps.__setitem__(int(step), float(intermediate_value)))

    def _set_trial_param(
        self,
        trial_id: int,
        param_name: str,
        param_value_internal: float,
        distribution: BaseDistribution,
        previous_distribution: BaseDistribution | None,
    ) -> None:
        if previous_distribution is None:  # Optuna looks up the study's earlier one
            self.flush()
            super()._set_trial_param(trial_id, param_name, param_value_internal, distribution, None)
            return
        check_distribution_compatibility(previous_distribution, distribution)
        held = (float(param_value_internal), distribution_to_json(distribution))
        self._add(trial_id, lambda w: w.params.__setitem__(param_name, held))

    def _add(self, trial_id: int, put: Any) -> None:
        with self._hold:
            if not self._held:
                self._since = time.monotonic()
            put(self._held.setdefault(trial_id, _Writes()))
            due = time.monotonic() - self._since >= FLUSH_S
        if due:
            self.flush()

    # -- when held writes are stored --------------------------------------------------
    def flush(self, *, strict: bool = False) -> None:
        """Store every held write now. A trial finished meanwhile by another process
        (failed as stale) drops its writes with a warning, or raises Optuna's
        ``UpdateFinishedTrialError`` when ``strict``."""
        with self._hold:
            while self._held:
                trial_id, writes = next(iter(self._held.items()))
                try:
                    self._write(trial_id, writes)
                except optuna.exceptions.UpdateFinishedTrialError as exc:
                    del self._held[trial_id]
                    if strict:
                        raise
                    warnings.warn(f"{exc}; its last writes are dropped", stacklevel=2)
                    continue
                del self._held[trial_id]

    def set_trial_state_values(self, trial_id: int, state: TrialState, values: Any = None) -> bool:
        self.flush(strict=True)
        return super().set_trial_state_values(trial_id, state=state, values=values)

    def get_trial(self, trial_id: int) -> FrozenTrial:
        self.flush()
        return super().get_trial(trial_id)

    def _get_trials(
        self,
        study_id: int,
        states: Container[TrialState] | None,
        included_trial_ids: set[int],
        trial_id_greater_than: int,
    ) -> list[FrozenTrial]:
        self.flush()
        return super()._get_trials(study_id, states, included_trial_ids, trial_id_greater_than)

    def _write(self, trial_id: int, writes: _Writes) -> None:
        """One transaction: check the trial still runs, then replace its held keys."""
        with self.engine.begin() as con:
            state = con.execute(
                sa.select(_TRIALS.c.state).where(_TRIALS.c.trial_id == trial_id)
            ).scalar_one()
            state = _state(state)
            if state.is_finished():  # (Optuna's own check reads the trial: not from here)
                raise optuna.exceptions.UpdateFinishedTrialError(
                    f"trial {trial_id} was finished ({state.name}) by another process"
                )
            attrs = [{"key": k, "value_json": v} for k, v in writes.attrs.items()]
            params = [{"param_name": k, "param_value": v, "distribution_json": d}
                      for k, (v, d) in writes.params.items()]  # fmt: skip
            stored = models.TrialIntermediateValueModel.intermediate_value_to_stored_repr
            steps = []
            for step, value in writes.steps.items():
                number, kind = stored(value)
                steps.append({"step": step, "intermediate_value": number,
                              "intermediate_value_type": kind})  # fmt: skip
            _replace(con, _ATTRS, "key", trial_id, attrs)
            _replace(con, _PARAMS, "param_name", trial_id, params)
            _replace(con, _STEPS, "step", trial_id, steps)


def _replace(con: Any, table: sa.Table, key: str, trial_id: int, rows: list[dict]) -> None:
    """Replace the trial's rows of ``table`` having these ``key`` values: a delete and
    one bulk insert."""
    if not rows:
        return
    keys = [row[key] for row in rows]
    con.execute(table.delete().where(table.c.trial_id == trial_id, table.c[key].in_(keys)))
    con.execute(table.insert(), [{"trial_id": trial_id, **row} for row in rows])


def _state(value: Any) -> TrialState:
    """A state column's value (SQLAlchemy returns the enum member; a name otherwise)."""
    return value if isinstance(value, TrialState) else TrialState[str(value)]
