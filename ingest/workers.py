"""Worker processes that end with the process that started them.

A pool's workers otherwise outlive a parent killed with SIGKILL: they keep parsing and writing
into a folder nobody will publish, and print broken-pipe tracebacks. On Linux the kernel kills
them with their parent (PR_SET_PDEATHSIG); elsewhere a thread polls the parent pid.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import time

_PR_SET_PDEATHSIG = 1


def die_with_parent(parent_pid: int | None = None) -> None:
    """Pool initializer: arrange for this process to end as soon as its parent does."""
    parent = parent_pid or os.getppid()
    if sys.platform.startswith("linux") and _set_pdeathsig():
        if os.getppid() != parent:  # the parent died before the kernel was told
            os._exit(1)
        return
    threading.Thread(target=_watch, args=(parent,), daemon=True, name="parent-watch").start()


def _set_pdeathsig() -> bool:
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def _watch(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(0.5)
    os._exit(1)
