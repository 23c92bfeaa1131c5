"""Worker processes that do not outlive the process that started them.

A forked worker (render or batch preparation) holds the database and output files open. If
its parent is killed (by CI's timeout, the out-of-memory killer or an operator's SIGKILL),
nothing would tell it to stop: it would go on writing to a tree nobody will publish and keep
a PostgreSQL connection busy. Linux can send a child a signal when its parent dies
(``prctl(PR_SET_PDEATHSIG)``); elsewhere a small thread watches for the parent's exit.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import signal
import sys
import threading

_PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>


def die_with_parent(parent_pid: int) -> None:
    """Call first thing in a forked worker, with the pid the parent had before forking.

    The worker gets SIGKILL as soon as its parent exits, however the parent ended. If the
    parent is already gone (it died between fork and this call) the worker exits at once.
    """
    if sys.platform.startswith("linux") and _set_parent_death_signal(signal.SIGKILL):
        # The signal is only armed from now on: a parent that died in between is caught here.
        if os.getppid() != parent_pid:
            os._exit(1)
        return
    _watch_parent(parent_pid)


def _set_parent_death_signal(signum: int) -> bool:
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        return libc.prctl(_PR_SET_PDEATHSIG, signum, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def _watch_parent(parent_pid: int, interval_s: float = 1.0) -> None:
    """Fallback: a daemon thread that ends the process once it has been re-parented."""

    def watch() -> None:
        while os.getppid() == parent_pid:
            threading.Event().wait(interval_s)
        os._exit(1)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()
