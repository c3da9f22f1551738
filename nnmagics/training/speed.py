"""How long an epoch takes, measured on the first training steps of a fit (pure Python).

The first batch of a fit compiles the training step, so it is never timed: the clock starts when it
ends. ``SpeedProbe`` then waits for enough steps to average (``min_steps`` and ``min_seconds``, or one
slow step of ``slow_seconds``), estimates *step time × steps per epoch* once, and says nothing more.
``ReportingCallback`` feeds it and turns the estimate into ``speed_hint.cpu_speed_hint``.
"""
from __future__ import annotations

import math
import threading


class SpeedProbe:
    """The estimated seconds per epoch, from the steps after the first one.

    ``batch_end(batch, now)`` returns the estimate once, when it is ready (else None);
    ``epoch_end(batches)`` returns it at the end of an epoch too short to be ready (steps unknown
    before: ``batches`` is how many ran). Thread-safe: Keras may call batch hooks from several threads.

    Example::

        probe = SpeedProbe(steps=100)
        for batch, now in enumerate([9.0, 9.5, 10.0, 10.5, 11.0, 11.5]):   # batch 0 ends at 9 s (compile)
            estimate = probe.batch_end(batch, now)
        estimate                                                            # 50.0 s (0.5 s × 100 steps)
    """

    def __init__(self, steps: int | None, *, min_steps: int = 5, min_seconds: float = 1.0,
                 slow_seconds: float = 10.0):
        self.steps = steps if steps and steps > 0 else None
        self.min_steps, self.min_seconds, self.slow_seconds = min_steps, min_seconds, slow_seconds
        self.estimate: float | None = None
        self._first: tuple[int, float] | None = None
        self._last: tuple[int, float] | None = None
        self._done = False
        self._lock = threading.Lock()

    @property
    def step_seconds(self) -> float | None:
        """The mean measured step time so far (None before two batch ends)."""
        if self._first is None or self._last is None or self._last[0] <= self._first[0]:
            return None
        return (self._last[1] - self._first[1]) / (self._last[0] - self._first[0])

    def batch_end(self, batch: int, now: float) -> float | None:
        """Batch ``batch`` (0-based in its epoch) ended at ``now``: the estimate once it is ready, else None."""
        with self._lock:
            if self._done:
                return None
            if self._first is None:
                self._first = (batch, now)      # the end of the compiling batch: the clock starts here
                return None
            if self._last is None or batch > self._last[0]:
                self._last = (batch, now)
            measured, span = self._last[0] - self._first[0], self._last[1] - self._first[1]
            enough = (measured >= self.min_steps and span >= self.min_seconds) or (span >= self.slow_seconds)
            last_step = self.steps is not None and batch + 1 >= self.steps
            if self.steps is None or not (enough or last_step):
                return None
            return self._finish(self.steps)

    def epoch_end(self, batches: int) -> float | None:
        """The first epoch ended after ``batches`` batches: the estimate if none was given yet."""
        with self._lock:
            if self._done:
                return None
            return self._finish(self.steps or batches)

    def _finish(self, steps: int) -> float | None:
        self._done = True
        per_step = self.step_seconds
        if per_step is None or not math.isfinite(per_step) or per_step < 0:
            return None
        self.estimate = per_step * steps
        return self.estimate
