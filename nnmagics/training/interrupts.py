"""A kernel interrupt during ``train`` ends training after the current batch, like the Stop button.

Why not let ``KeyboardInterrupt`` fly: Python raises it wherever the main thread happens to be
when the signal is handled, and when that is a finalizer (TensorFlow runs ``__del__`` methods
between batches) the exception is printed as "Exception ignored" and lost: training went on.
A handler that only sets a flag cannot be lost; the batch callback reads the flag. A second
interrupt while the first is pending raises ``KeyboardInterrupt`` at once, for a step that hangs.
"""
from __future__ import annotations

import signal
import threading
from typing import Callable

INTERRUPT = "kernel interrupt"  # the StopSignal reason an interrupt gives


def stop_on_interrupt(stop) -> Callable[[], None]:
    """Make SIGINT request ``stop`` (a ``reporting.StopSignal``); returns the function that restores the old handler.

    Does nothing (and returns a no-op) outside the main thread or where SIGINT has no Python handler.

    Example::

        restore = stop_on_interrupt(info.stop)
        try:
            model.fit(...)          # an interrupt: stop.requested, stop.reason == "kernel interrupt"
        finally:
            restore()
    """
    if threading.current_thread() is not threading.main_thread():
        return lambda: None
    try:
        previous = signal.getsignal(signal.SIGINT)
    except (ValueError, OSError):  # pragma: no cover - no signals here
        return lambda: None
    if not callable(previous):    # SIG_IGN / SIG_DFL: whoever runs us chose that; leave it
        return lambda: None

    def on_interrupt(signum, frame):
        if stop.requested and stop.reason == INTERRUPT:
            raise KeyboardInterrupt  # the second interrupt: now
        stop.request(INTERRUPT)

    signal.signal(signal.SIGINT, on_interrupt)

    def restore() -> None:
        if signal.getsignal(signal.SIGINT) is on_interrupt:
            signal.signal(signal.SIGINT, previous)

    return restore
