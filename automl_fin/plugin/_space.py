"""Search-space value types, and the one place that turns them into Optuna calls.

Plugins declare spaces as ``{"max_depth": Int(2, 12), "C": Float(1e-3, 1e2, log=True)}``
and never import Optuna. :func:`suggest` asks an Optuna trial for values, with names
namespaced by the spec (``rf.max_depth``) so that the spaces of several specs compose.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from numbers import Integral, Real
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import optuna

__all__ = [
    "Categorical",
    "Dimension",
    "Float",
    "Int",
    "contains",
    "fixed_values",
    "split_params",
    "suggest",
]

Choice = None | bool | int | float | str


@dataclass(frozen=True)
class Float:
    """A real value in ``[low, high]``; ``log=True`` samples on a log scale."""

    low: float
    high: float
    log: bool = False
    step: float | None = None

    def __post_init__(self) -> None:
        for end in (self.low, self.high):
            if isinstance(end, bool) or not isinstance(end, Real) or not math.isfinite(end):
                raise ValueError(f"Float: low and high must be finite numbers, got {end!r}")
        if not self.low <= self.high:
            raise ValueError(f"Float: low {self.low} is above high {self.high}")
        if self.log and self.low <= 0:
            raise ValueError(f"Float: log scale needs low > 0, got {self.low}")
        if self.step is not None and not (
            isinstance(self.step, Real) and not isinstance(self.step, bool) and self.step > 0
        ):
            raise ValueError(f"Float: step must be a number above 0, got {self.step!r}")
        if self.step is not None and self.log:
            raise ValueError("Float: a log scale has no step (Optuna samples it without); "
                             "drop log=True or step")  # fmt: skip


@dataclass(frozen=True)
class Int:
    """An integer in ``[low, high]`` (both included); ``log=True`` samples on a log scale."""

    low: int
    high: int
    log: bool = False
    step: int = 1

    def __post_init__(self) -> None:
        for what, value in (("low", self.low), ("high", self.high), ("step", self.step)):
            if isinstance(value, bool) or not isinstance(value, Integral):
                raise ValueError(f"Int: {what} must be a whole number, got {value!r}")
        if not self.low <= self.high:
            raise ValueError(f"Int: low {self.low} is above high {self.high}")
        if self.log and self.low <= 0:
            raise ValueError(f"Int: log scale needs low > 0, got {self.low}")
        if self.step < 1:
            raise ValueError(f"Int: step must be at least 1, got {self.step}")
        if self.step != 1 and self.log:
            raise ValueError("Int: a log scale has no step (Optuna samples it without); "
                             "drop log=True or step")  # fmt: skip


@dataclass(frozen=True)
class Categorical:
    """One of a fixed list of choices (None, bool, int, float or str)."""

    choices: Sequence[Choice]

    def __post_init__(self) -> None:
        if isinstance(self.choices, str | bytes):  # "abc" was the choices a, b, c
            raise ValueError(f"Categorical: choices must be a list, got the text {self.choices!r}")
        # NumPy's scalars as the Python values they hold (np.arange's int64 passed as a
        # Real here, and every trial of a search failed: "int64 is not JSON serializable")
        plain = [c.item() if isinstance(c, np.generic) else c for c in self.choices]
        object.__setattr__(self, "choices", tuple(plain))
        if not self.choices:
            raise ValueError("Categorical: needs at least one choice")
        odd = [c for c in self.choices if c is not None and not isinstance(c, (bool, Real, str))]
        if odd:
            raise ValueError(f"Categorical: choices must be None, bool, int, float or str; "
                             f"got {odd[0]!r}")  # fmt: skip
        twice = [c for i, c in enumerate(self.choices) if _among(c, self.choices[:i])]
        if twice:
            raise ValueError(f"Categorical: {twice[0]!r} is a choice twice")


Dimension = Float | Int | Categorical


def _among(value: Any, choices: Sequence[Choice]) -> bool:
    """Whether ``value`` is one of ``choices``, of its type too (``1`` is not ``True``)."""
    return any(value is c or (value == c and type(value) is type(c)) for c in choices)


def suggest(trial: optuna.Trial, namespace: str, space: Mapping[str, Dimension]) -> dict[str, Any]:
    """Sample every dimension of ``space`` from ``trial``.

    The trial records each value as ``"{namespace}.{name}"`` (``name`` alone when the
    namespace is empty); the returned dict uses the short names, ready for ``build``.
    """
    values: dict[str, Any] = {}
    for name, dim in space.items():
        key = f"{namespace}.{name}" if namespace else name
        if isinstance(dim, Float):
            values[name] = trial.suggest_float(key, dim.low, dim.high, log=dim.log, step=dim.step)
        elif isinstance(dim, Int):
            values[name] = trial.suggest_int(key, dim.low, dim.high, log=dim.log, step=dim.step)
        elif isinstance(dim, Categorical):
            values[name] = trial.suggest_categorical(key, dim.choices)  # type: ignore[arg-type]
        else:
            raise TypeError(
                f"parameter {key!r}: {dim!r} is not a Float, Int or Categorical (from "
                "automl_fin import Float, Int, Categorical)"
            )
    return values


def contains(dim: Dimension, value: Any) -> bool:
    """Whether ``value`` is one ``dim`` can take (a fixed value outside it would be
    recorded under a distribution that cannot have produced it)."""
    if isinstance(dim, Categorical):
        return _among(value, dim.choices)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    if not dim.low <= value <= dim.high:
        return False
    if isinstance(dim, Int):
        return int(value) == value and (int(value) - dim.low) % dim.step == 0
    if dim.step is not None:
        steps = (value - dim.low) / dim.step
        return abs(steps - round(steps)) < 1e-8
    return True


def fixed_values(
    namespace: str, space: Mapping[str, Dimension], config: Mapping[str, Any]
) -> dict[str, Any]:
    """``config`` (short names) as trial parameters (``namespace.name``), each value of
    the type its dimension samples (a Float gets a float, an Int an int); names not in
    ``space`` are dropped. A value ``space`` cannot take raises ValueError naming it."""
    out: dict[str, Any] = {}
    for key, value in config.items():
        dim = space.get(key)
        if dim is None:  # e.g. a class weight on a regression task
            continue
        if hasattr(value, "item"):  # a NumPy scalar
            value = value.item()
        if not contains(dim, value):
            raise ValueError(f"{key}={value!r} is outside its space {dim}")
        if isinstance(dim, Float):
            value = float(value)
        elif isinstance(dim, Int):
            value = int(value)
        out[f"{namespace}.{key}"] = value
    return out


def split_params(namespace: str, params: Mapping[str, Any]) -> dict[str, Any]:
    """The short-named parameters of one spec out of a trial's flat ``params``."""
    prefix = namespace + "."
    return {k[len(prefix) :]: v for k, v in params.items() if k.startswith(prefix)}
