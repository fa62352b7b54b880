"""A per-trial time limit, enforced in the search's own process.

In the main thread the limit is a ``SIGALRM`` that a watchdog thread sends to it: its
handler raises :class:`TrialTimeout` in the running code, which also interrupts blocking
waits such as ``time.sleep``. It is never raised inside an import: it waits for the
import to end, since a module cut half way is left half made and every later import of
it fails (a report's matplotlib after Lightning's first import was cut by the budget). In other
threads a watchdog raises it asynchronously in the trial's thread at its next Python
instruction (imports not spared). Either way it is raised again every
:data:`RETRY` seconds until the limited code has ended: the code it lands in may catch
and drop it (a library's ``except Exception``), which left a spinning model running for
ever. The trial fails with "timed out after N s" and the search goes on. Code that
never returns to Python (a native loop holding the GIL) cannot be stopped this way;
such a plugin must check time itself. Code that puts its own ``SIGALRM`` handler in
place of the timer's (a timeout decorator in a plugin) gets the other threads' way
instead, and never the signal. When it returns late, the message says how late:
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
DAY = 86_400.0  # seconds: the longest one wait of the watch (it reads the limit again)


class TrialTimeout(Exception):
    """A trial ran past the recipe's ``trial_timeout`` or the search's time budget."""


class Limit:
    """A running :func:`time_limit`: ``seconds`` from ``started`` (``None``: none)."""

    def __init__(self, seconds: float | None) -> None:
        self.started = time.monotonic()
        self.seconds = seconds
        self.rearm: Callable[[], None] = lambda: None  # re-arms the timer
        self.held_by = "native code"  # what kept the timer from firing, said when late
        self.fired = ""  # the timeout's message, once raised in the main thread

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


class _Watchdog:
    """A thread that calls ``act`` at the limit's end, and again every :data:`RETRY`
    seconds (or :attr:`again` seconds, which a signal handler may set) until closed.
    Past the limit it looks every :data:`IMPORT_RETRY` seconds whether it is due: a
    signal handler takes no lock (an ``Event.set`` there could wait on the lock its
    own thread holds)."""

    def __init__(self, limit: Limit, act: Callable[[], None]) -> None:
        self.limit, self.act = limit, act
        self.again = RETRY  # seconds from one act to the next
        self.wake = threading.Event()  # the limit moved, or closed
        self.closed = False
        self.thread = threading.Thread(target=self._watch, name="trial-timeout", daemon=True)

    def close(self) -> None:
        self.closed = True
        self.wake.set()
        if self.thread.ident is not None:
            self.thread.join()

    def _watch(self) -> None:
        acted: float | None = None
        while not self.closed:
            limit = self.limit
            end = limit.started + (limit.seconds or 0.0)
            wait = (end if acted is None else max(end, acted + self.again)) - time.monotonic()
            if wait > 0:  # read again after any wake: the limit moved
                # (capped: a limit of 1e300 s overflowed the wait, and the thread died)
                self.wake.wait(min(wait if acted is None else min(wait, IMPORT_RETRY), DAY))
                self.wake.clear()
                continue
            self.again, acted = RETRY, time.monotonic()  # before the act: the again a
            self.act()  # handler sets as it brings it about must not be overwritten


@contextlib.contextmanager
def _alarm(limit: Limit, message: Callable[[], str]) -> Iterator[None]:
    main = threading.get_ident()

    def expire(signum: int, frame: FrameType | None) -> None:
        if ring.closed:  # sent as the limited code ended
            return
        if _importing(frame):  # a module cut half way breaks every later import of it
            limit.held_by = "an import"  # (a plugin's slow import was "native code")
            ring.again = IMPORT_RETRY
            return
        limit.fired = message()  # (a library may raise another exception in its place)
        raise TrialTimeout(limit.fired)

    def replaced() -> str:  # a plugin's own timeout (a decorator) took SIGALRM
        taken = signal.getsignal(signal.SIGALRM) is not expire
        return "; the code replaced the timer's SIGALRM handler" if taken else ""

    def alarm() -> None:  # not to a handler that is not the timer's
        if replaced():
            _raise_in(main, lambda: message() + replaced())
        else:
            signal.pthread_kill(main, signal.SIGALRM)

    # SIGALRM sent to this thread, not to the process: a process's signal (setitimer's)
    # may reach any of its threads (OpenMP's, a loader's), and one that did left a
    # blocking wait here uninterrupted (a time.sleep(5) ran whole past a 0.2 s limit)
    ring = _Watchdog(limit, alarm)  # (bound before its handler can run)
    previous = signal.signal(signal.SIGALRM, expire)
    try:
        with _running(ring, main):
            yield
    finally:  # (a Ctrl-C in the watchdog's join: still put back)
        signal.signal(signal.SIGALRM, previous)


@contextlib.contextmanager
def _watchdog(limit: Limit, message: Callable[[], str]) -> Iterator[None]:
    """Raise the timeout in this thread from another one at the limit and every
    :data:`RETRY` seconds after."""
    target = threading.get_ident()
    with _running(_Watchdog(limit, lambda: _raise_in(target, message)), target):
        yield


@contextlib.contextmanager
def _running(watch: _Watchdog, target: int) -> Iterator[None]:
    """``watch`` started (moved by its limit's ``extend``) while the limited code of
    thread ``target`` runs; stopped, and a timeout it sent that did not land cleared,
    when it ends."""
    try:
        watch.limit.rearm = watch.wake.set
        watch.thread.start()
        yield
    finally:
        try:
            watch.close()
        finally:
            _clear(target)


def _raise_in(thread: int, message: Callable[[], str]) -> None:
    """Raise :class:`TrialTimeout` with ``message()`` in ``thread`` at its next Python
    instruction."""

    class _Timeout(TrialTimeout):
        def __init__(self) -> None:  # made when raised in the limited thread
            super().__init__(message())

    ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(thread), ctypes.py_object(_Timeout))


def _clear(thread: int) -> None:
    """Clear a timeout sent as the limited code ended: it would land after it."""
    ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(thread), None)
