"""A per-trial time limit, enforced in the search's own process.

In the main thread the limit is a ``SIGALRM`` timer: its handler raises
:class:`TrialTimeout` in the running code, which also interrupts blocking waits such as
``time.sleep``. The timer never fires inside an import: it waits for the import to end,
since a module cut half way is left half made and every later import of it fails (a
report's matplotlib after Lightning's first import was cut by the budget). In other
threads a watchdog raises it asynchronously in the trial's thread at its next Python
instruction (imports not spared). Either way it is raised again every
:data:`RETRY` seconds until the limited code has ended: the code it lands in may catch
and drop it (a library's ``except Exception``), which left a spinning model running for
ever. The trial fails with "timed out after N s" and the search goes on. Code that
never returns to Python (a native loop holding the GIL) cannot be stopped this way;
such a plugin must check time itself. Code that puts its own ``SIGALRM`` handler in
place of the timer's (a timeout decorator in a plugin) gets the watchdog's exception a
second after the limit instead. When it returns late, the message says how late:
"timed out after 72.4 s (...); native code held it until 207 s" (a k-nearest-neighbours
plugin predicting 65,000 rows in one call).
"""

from __future__ import annotations

import contextlib
import ctypes
import signal
import threading
import time
from collections.abc import Callable, Iterator
from types import FrameType

__all__ = ["Limit", "TrialTimeout", "time_limit"]

IMPORT_RETRY = 0.05  # seconds: a timer that fires during an import fires again after it
RETRY = 1.0  # seconds: a timeout dropped by the code it landed in is raised again


class TrialTimeout(Exception):
    """A trial ran past the recipe's ``trial_timeout`` or the search's time budget."""


class Limit:
    """A running :func:`time_limit`: ``seconds`` from ``started`` (``None``: none)."""

    def __init__(self, seconds: float | None) -> None:
        self.started = time.monotonic()
        self.seconds = seconds
        self.rearm: Callable[[], None] = lambda: None  # re-arms the timer
        self.held_by = "native code"  # what kept the timer from firing, said when late

    def extend(self, seconds: float) -> None:
        """Move the limit ``seconds`` later (from the calling thread: the limited one)."""
        if self.seconds is not None and seconds > 0:
            self.seconds += seconds
            self.rearm()

    def left(self) -> float:
        return self.started + (self.seconds or 0.0) - time.monotonic()


@contextlib.contextmanager
def time_limit(seconds: float | None, what: str = "the recipe's trial_timeout") -> Iterator[Limit]:
    """Raise :class:`TrialTimeout` in the calling thread after ``seconds`` (no limit
    for ``None``); ``what`` names the limit in the message. The :class:`Limit` yielded
    can move its end later."""
    limit = Limit(seconds or None)
    if not seconds:
        yield limit
        return

    def message() -> str:
        text = f"timed out after {limit.seconds:.3g} s ({what})"
        late = time.monotonic() - limit.started
        if late > (limit.seconds or 0.0) * 1.1 + 1:  # the code came back to Python long after
            text += f"; {limit.held_by} held it until {late:.0f} s"
        return text

    if threading.current_thread() is threading.main_thread():
        with _alarm(limit, message):
            yield limit
    else:
        with _watchdog(limit, message):
            yield limit


def _importing(frame: FrameType | None) -> bool:
    """Whether ``frame`` (where the timer interrupted) is inside an import."""
    while frame is not None:
        if frame.f_code.co_filename.startswith("<frozen importlib"):
            return True
        frame = frame.f_back
    return False


@contextlib.contextmanager
def _alarm(limit: Limit, message: Callable[[], str]) -> Iterator[None]:
    def expire(signum: int, frame: FrameType | None) -> None:
        if _importing(frame):  # a module cut half way breaks every later import of it
            limit.held_by = "an import"  # (a plugin's slow import was "native code")
            signal.setitimer(signal.ITIMER_REAL, IMPORT_RETRY)
            return
        signal.setitimer(signal.ITIMER_REAL, RETRY)  # disarmed when the limited code ends
        raise TrialTimeout(message())

    def replaced() -> str:  # a plugin's own timeout (a decorator) took SIGALRM
        taken = signal.getsignal(signal.SIGALRM) is not expire
        return "; the code replaced the timer's SIGALRM handler" if taken else ""

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, max(limit.left(), 1e-3))  # 0 would disarm it
    limit.rearm = lambda: signal.setitimer(signal.ITIMER_REAL, max(limit.left(), 1e-3))
    try:  # the watchdog backs the timer up where its handler was replaced (a 20 s budget
        # ran 185 s: a fit that set its own SIGALRM handler, then slept)
        with _watchdog(limit, lambda: message() + replaced(), when=replaced, grace=RETRY):
            yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@contextlib.contextmanager
def _watchdog(
    limit: Limit,
    message: Callable[[], str],
    *,
    when: Callable[[], object] = lambda: True,
    grace: float = 0.0,
) -> Iterator[None]:
    """Raise the timeout in this thread from another one, ``grace`` seconds after the
    limit and every :data:`RETRY` seconds after, whenever ``when()`` holds."""
    target = threading.get_ident()
    done = threading.Event()

    class _Timeout(TrialTimeout):
        def __init__(self) -> None:  # made when raised in the trial's thread
            super().__init__(message())

    def watch() -> None:
        wait = limit.left() + grace
        while not done.wait(max(wait, 0.0)):
            wait = limit.left() + grace
            if wait <= 0:  # not moved later while waiting; again until the code has ended
                if when():
                    ctypes.pythonapi.PyThreadState_SetAsyncExc(
                        ctypes.c_ulong(target), ctypes.py_object(_Timeout)
                    )
                wait = RETRY

    watcher = threading.Thread(target=watch, name="trial-timeout", daemon=True)
    watcher.start()
    try:
        yield
    finally:
        done.set()
        watcher.join()
        # one sent as the code ended would land after it: cleared (NULL clears it)
        ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(target), None)
