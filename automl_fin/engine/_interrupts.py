"""Ctrl-C and SIGTERM that the command line received, remembered where Python drops
them.

A signal's handler runs at the next bytecode the main thread runs; where that is a
weakref callback, a ``__del__`` or a garbage collection, the ``KeyboardInterrupt`` it
raises is printed as "Exception ignored in: ..." and dropped. Ctrl-C at the end of a
search fell there in 3 of 12 tries (a helper's find): the run went on with the
ensemble, the predictor and the report and ended with 0, and a batch called the search
done. The command line's handlers remember the signal (:func:`on_sigint`,
:func:`received`), and the engine raises it again between its steps (:func:`check`):
before a trial, after the search, before and after each step after it.
"""

from __future__ import annotations

from typing import Any

__all__ = ["check", "forget", "heard_sigint", "on_sigint", "plugins_own", "received"]

_got: list[str] = []  # the signals received, in order ("SIGINT", "SIGTERM")


def on_sigint(signum: int, frame: Any) -> None:
    """SIGINT's handler on the command line: remembered, then raised as Python does."""
    _got.append("SIGINT")
    raise KeyboardInterrupt


def received(name: str) -> None:
    """Remember signal ``name`` (``"SIGTERM"``: its own handler raises it)."""
    _got.append(name)


_listening: list[bool] = [False]  # the command line runs: it hears every Ctrl-C


def forget(*, listening: bool = False) -> None:
    """A command starts (``listening``: the command line's, which hears every Ctrl-C
    that can come), or ends: no signal received yet (a process may run several)."""
    _got.clear()
    _listening[0] = listening


def check() -> None:
    """Raise the Ctrl-C (``KeyboardInterrupt``) or SIGTERM (``Terminated``) this
    process received, if it did: it was dropped where it fell, or it would have
    stopped the command already."""
    from automl_fin.errors import Terminated

    if _got:
        raise Terminated("SIGTERM") if _got[-1] == "SIGTERM" else KeyboardInterrupt


def plugins_own(exc: KeyboardInterrupt) -> bool:
    """Whether ``exc`` was raised by code, not by a Ctrl-C: the command line listens for
    SIGINT and none came (a plugin's ``raise KeyboardInterrupt`` stopped the search as
    the user's Ctrl-C, and the same command, resumed, stopped at once again, the plugin
    never named), or SIGINT is ignored. Outside the command line (a notebook) every one
    is the user's."""
    import signal

    from automl_fin.errors import Terminated

    if isinstance(exc, Terminated) or _got or not _listening[0]:  # a signal came, or
        return False  # none can be told from code's (a notebook: every one is the user's)
    handler = signal.getsignal(signal.SIGINT)  # (ignored: no Ctrl-C can come, as under
    return handler is on_sigint or handler == signal.SIG_IGN  # nohup, or a batch's `&`)


def heard_sigint() -> bool:
    """Whether the command line's handler heard a Ctrl-C (SIGINT) in this command."""
    return "SIGINT" in _got
