"""Worker threads that leave every signal to the main thread.

A signal sent to the process is delivered to any one of its threads that does
not block it (signal(7)), and a new thread starts with its creator's signal
mask (pthread_sigmask(3)).  Python runs its handlers in the main thread only,
and `exec` takes its signals synchronously there (sigwaitinfo, which names the
sender): a worker thread that can receive one turns it into a handler call
delayed until the main thread runs Python again, or, before a handler is
installed, into the signal's default action for the whole process.  So workers
start with every asynchronous signal blocked, and only the main thread
receives them.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable

# Raised by the kernel in the thread that faulted: blocking them would not stop
# them, only turn a crash report (faulthandler) into a bare kill.
_SYNCHRONOUS = ("SIGSEGV", "SIGBUS", "SIGFPE", "SIGILL", "SIGTRAP", "SIGSYS")


def start_worker(target: Callable[[], None], name: str) -> threading.Thread:
    """Start `target` in a daemon thread that receives no asynchronous signal."""
    thread = threading.Thread(target=target, name=name, daemon=True)
    if not hasattr(signal, "pthread_sigmask"):  # Windows: no signal masks
        thread.start()
        return thread
    faults = {getattr(signal, n) for n in _SYNCHRONOUS if hasattr(signal, n)}
    # Blocked here for the moment the thread is created, so that it never has
    # them unblocked, not even before its first instruction.
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, signal.valid_signals() - faults)
    try:
        thread.start()
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)
    return thread
