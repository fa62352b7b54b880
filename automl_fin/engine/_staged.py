"""A plugin's exception, tagged with the stage (build, fit, predict, score) and the spec
it came from, so a failed trial names both (see
:class:`~automl_fin.engine._objective.Objective`)."""

from __future__ import annotations

from typing import Any

from automl_fin.engine._interrupts import plugins_own

__all__ = ["staged", "tag"]


def tag(exc: BaseException, stage: str, spec: str) -> BaseException:
    """``exc``, marked as raised by ``spec`` in ``stage`` (an inner spec's mark is kept)."""
    exc._automl_fin_stage = stage  # type: ignore[attr-defined]
    exc._automl_fin_spec = getattr(exc, "_automl_fin_spec", spec)  # type: ignore[attr-defined]
    return exc


def staged(stage: str, spec: str, fn: Any, *args: Any, blame: Any = None) -> Any:
    """``fn(*args)``; what it raises is tagged with ``stage`` and ``spec`` (not Ctrl-C),
    or with the spec ``blame(exc)`` names (a preprocessor's step in the pipeline:
    :func:`automl_fin.engine._pipeline.culprit`)."""
    try:
        return fn(*args)
    except BaseException as exc:  # a plugin's SystemExit too; Ctrl-C is the user's
        if not isinstance(exc, KeyboardInterrupt) or plugins_own(exc):
            tag(exc, stage, (blame(exc) if blame is not None else None) or spec)
        raise
