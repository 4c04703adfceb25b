"""Child processes that never outlive their parent.

A worker process (a sweep's local worker, a forked engine worker) calls
:func:`die_with_parent` first thing. On Linux it asks the kernel to SIGKILL it
when its parent dies (``prctl(PR_SET_PDEATHSIG)``), so a ``kill -9`` of the
command takes its workers with it; everywhere, it exits at once if the parent
is already gone (the parent may die between the fork and the ``prctl``).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import signal
import sys

__all__ = ["die_with_parent"]

_PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


def die_with_parent(parent_pid: int) -> None:
    """Make this process die when ``parent_pid`` (its parent) dies; exit now if it has."""
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)
            libc.prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)
        except (OSError, AttributeError):  # no libc prctl: the check below still runs
            pass
    if os.getppid() != parent_pid:
        os._exit(1)
