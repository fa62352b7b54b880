"""Which process ran a trial, and whether that process is known to have ended.

A trial records ``host:pid`` and the machine's key: its boot and its PID namespace
(Linux). A search that finds a RUNNING trial recorded under its own host and key checks
the pid: a process that is gone (``kill -9``, out of memory) leaves a trial that is
failed at once, not after its heartbeat's grace period (30 s: a killed batch resumed
waited that long for each search it had left running). Elsewhere (another machine,
another container sharing the host's name, no ``/proc``) only the heartbeat tells.
"""

from __future__ import annotations

import functools
import os
import socket
from pathlib import Path

__all__ = ["ended_here", "machine", "this_process"]


def this_process() -> str:
    """``host:pid`` of this process."""
    return f"{socket.gethostname()}:{os.getpid()}"


@functools.cache
def machine() -> str | None:
    """This machine's boot id and this process's PID namespace (``None`` without
    ``/proc``): two processes see each other's pids only under one key."""
    try:
        boot = Path("/proc/sys/kernel/random/boot_id").read_text().strip()
        return f"{boot} {os.readlink('/proc/self/ns/pid')}"
    except OSError:
        return None


def ended_here(process: str | None, key: str | None) -> bool:
    """Whether ``process`` (``host:pid``, recorded under machine ``key``) ran on this
    machine, in this PID namespace, and has ended. ``False`` where that cannot be told:
    a pid taken again by a new process reads as alive (the heartbeat decides then)."""
    if not process or not key or key != machine():
        return False
    host, _, pid = process.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # alive, another user's
        return False
    return False
