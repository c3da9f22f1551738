"""The reporting seam: what training tells its displays, and the one Keras callback that tells them.

A *reporter* shows a fit (the live panel, the text log, a file, a test spy): anything with the
methods of ``Reporter``. ``ReportingCallback`` is the Keras callback that feeds one: it records
each finished epoch into a ``TrainHistory``, judges the curves once per epoch (``verdict``),
sends batch updates at most every 0.1 s, times the first steps (``speed.SpeedProbe``: a CPU hint
when epochs are slow, ``on_hint``) and honours the ``StopSignal``. ``FanOut`` feeds several.
The caller chooses the reporter (``as_reporter``); this module imports nothing from ``display/``.

``plain_fit.ReporterCallback`` is the base of reporters that are *also* Keras callbacks, so that
``model.fit(x, y, callbacks=[nnmagics.LivePanel()])`` works without nnmagics' ``train``.
"""
from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Mapping, Protocol, runtime_checkable

import keras

from .history import TrainHistory
from .speed import SpeedProbe
from .verdict import Verdict, verdict

STATUSES = ("finished", "stopped", "interrupted", "early-stopped", "failed")
BATCH_THROTTLE = 0.1  # seconds between two batch updates of a reporter


class StopSignal:
    """A flag the Stop button (or any code) sets; training ends after the current batch.

    Example::

        stop = StopSignal(); stop.request(); stop.requested     # True
    """

    def __init__(self):
        self.requested = False
        self.reason = ""

    def request(self, reason: str = "stop button") -> None:
        """Ask training to stop after the current batch."""
        self.reason = reason
        self.requested = True


@dataclass
class TrainInfo:
    """What a reporter is told when training starts (``None``: not known, e.g. in a plain ``model.fit``)."""

    model_name: str
    data_name: str
    epochs: int                      # epochs run by this fit
    initial_epoch: int
    steps: int | None
    batch_size: int | None
    samples: int | None
    val_samples: int | None
    device: str
    precision: str = "float32"
    strategy: str = ""
    hints: list[str] = field(default_factory=list)
    loss: str = ""
    optimizer: str = ""
    monitor: str = "loss"
    augment: str = ""                # where --augment runs, and why ("" without augmentation)
    val_total: int | None = None     # --validation-steps on part of the set: the set's size (val_samples: the part)
    stop: StopSignal = field(default_factory=StopSignal)
    history: TrainHistory | None = None

    @property
    def final_epoch(self) -> int:
        """The epoch count at the end of this fit (``initial_epoch + epochs``)."""
        return self.initial_epoch + self.epochs


@runtime_checkable
class Reporter(Protocol):
    """What a display of training implements. Epochs are 0-based, as Keras counts them.

    ``poll`` is optional: it handles front-end events (a Stop click) while the kernel is busy, and
    is called with the throttled batch updates.

    Example (a reporter that collects the validation loss)::

        class ValLoss:
            def __init__(self): self.values = []
            def on_train_begin(self, info): pass
            def on_batch(self, epoch, batch, steps, logs, elapsed): pass
            def on_epoch(self, epoch, logs, history, verdict): self.values.append(logs.get("val_loss"))
            def on_train_end(self, status): pass
            def poll(self): pass

        nnmagics.train(model, data4, val_split=0.2, reporter=[ValLoss(), nnmagics.TextLog()])
    """

    def on_train_begin(self, info: TrainInfo) -> None:
        """Training starts (once per fit)."""

    def on_batch(self, epoch: int, batch: int, steps: int | None, logs: Mapping[str, Any], elapsed: float) -> None:
        """A batch ended (at most every 0.1 s); ``elapsed`` seconds since the epoch began."""

    def on_epoch(self, epoch: int, logs: Mapping[str, Any], history: TrainHistory, verdict: Verdict) -> None:
        """An epoch ended: its logs (``seconds`` added), the whole history, the verdict on its curves."""

    def on_train_end(self, status: str) -> None:
        """Training ended: one of ``STATUSES``."""

    def poll(self) -> None:
        """Handle pending front-end events (optional)."""

    def on_hint(self, text: str) -> None:
        """A hint learnt while training, e.g. the epoch time measured on a CPU (optional)."""


class Silent:
    """The reporter that shows nothing (``train(..., reporter=False)``)."""

    def on_train_begin(self, info: TrainInfo) -> None:
        pass

    def on_batch(self, epoch, batch, steps, logs, elapsed) -> None:
        pass

    def on_epoch(self, epoch, logs, history, verdict) -> None:
        pass

    def on_train_end(self, status: str) -> None:
        pass

    def poll(self) -> None:
        pass

    def on_hint(self, text: str) -> None:
        pass


class FanOut:
    """Several reporters as one: each is told everything, in order.

    Example::

        train(model, data4, reporter=FanOut([TextLog(), my_reporter]))   # or reporter=[TextLog(), my_reporter]
    """

    def __init__(self, reporters: Iterable[Any]):
        self.reporters = list(reporters)

    def on_train_begin(self, info: TrainInfo) -> None:
        for reporter in self.reporters:
            reporter.on_train_begin(info)

    def on_batch(self, epoch, batch, steps, logs, elapsed) -> None:
        for reporter in self.reporters:
            reporter.on_batch(epoch, batch, steps, logs, elapsed)

    def on_epoch(self, epoch, logs, history, verdict) -> None:
        for reporter in self.reporters:
            reporter.on_epoch(epoch, logs, history, verdict)

    def on_train_end(self, status: str) -> None:
        """Every reporter is told, even when one of them fails (the first failure is raised after)."""
        failure = None
        for reporter in self.reporters:
            try:
                reporter.on_train_end(status)
            except Exception as exc:  # noqa: BLE001 - the others must still close (a panel gives messages back)
                failure = failure or exc
        if failure is not None:
            raise failure

    def poll(self) -> None:
        for reporter in self.reporters:
            poll = getattr(reporter, "poll", None)
            if poll is not None:
                poll()

    def on_hint(self, text: str) -> None:
        for reporter in self.reporters:
            tell(reporter, text)


def tell(reporter: Any, text: str) -> None:
    """Give ``reporter`` a hint if it takes hints (``on_hint`` is optional)."""
    on_hint = getattr(reporter, "on_hint", None)
    if on_hint is not None:
        on_hint(text)


def as_reporter(reporter: Any = None) -> Any:
    """The reporter ``train`` feeds: ``False`` → silent; a list → ``FanOut``; ``None`` → the default
    display registered by ``%load_ext nnmagics`` (registry ``"training.reporter"``), else silent.

    Example::

        as_reporter(False)                     # Silent()
        as_reporter([TextLog(), spy])          # FanOut([...])
    """
    if reporter is False:
        return Silent()
    if isinstance(reporter, (list, tuple)):
        return FanOut(as_reporter(r) for r in reporter)
    if reporter is None:
        from ..registry import lookup

        factory = lookup("training.reporter")
        return factory() if factory is not None else Silent()
    return reporter


class ReportingCallback(keras.callbacks.Callback):
    """The Keras callback that records finished epochs into ``history`` and feeds ``reporter``.

    Batch updates are throttled (``throttle`` seconds); the verdict is computed once per epoch;
    ``stop`` ends training after the current batch. The first epoch's steps are timed (the compiling
    first batch skipped): on a CPU (``device``, default ``device.detect()``) a slow estimate becomes one
    ``on_hint`` (``runtime.speed_hint``). ``async_safe``: Keras may run the batch hook in its
    callback thread (``fit(verbose=0)``); the hook reads a clock and a flag, one update at a time.

    Example::

        feed = ReportingCallback(TextLog(), TrainHistory(), StopSignal(), steps=10)
        model.fit(x, y, epochs=3, callbacks=[feed], verbose=0)     # after reporter.on_train_begin(info)
    """

    async_safe = True

    def __init__(self, reporter: Any, history: TrainHistory, stop: StopSignal, steps: int | None,
                 clock: Callable[[], float] = time.perf_counter, throttle: float = BATCH_THROTTLE, device: Any = None):
        super().__init__()
        self.reporter, self.history, self.stop = reporter, history, stop
        self.steps, self.clock, self.throttle, self.device = steps, clock, throttle, device
        self.poll = getattr(reporter, "poll", None)
        self.speed: SpeedProbe | None = SpeedProbe(steps)
        self.first_epoch: int | None = None
        self.epoch = 0
        self.batches = 0
        self._lock = threading.Lock()
        self._epoch_start = 0.0
        self._last = -math.inf

    def on_epoch_begin(self, epoch, logs=None):
        self.first_epoch = epoch if self.first_epoch is None else self.first_epoch
        self.epoch = epoch
        self.batches = 0
        self._epoch_start = self.clock()
        # the first update comes one throttle period into the fit; ``_last`` is not reset at later epochs: epochs
        # shorter than the throttle (a small table, several steps per call) would never reach a batch update,
        # and a Stop click would never be polled
        if self._last == -math.inf:
            self._last = self._epoch_start

    def on_train_batch_end(self, batch, logs=None):
        self.batches = max(self.batches, batch + 1)
        now = self.clock()
        speed = self.speed
        if speed is not None:
            self._speed_hint(speed.batch_end(batch, now))
        if self.stop.requested:
            self._stop_fit()
            return
        if now - self._last < self.throttle or not self._lock.acquire(blocking=False):
            return  # Keras' callback threads may overlap: one update at a time, the others skip
        try:
            self._last = now
            if self.poll is not None:
                self.poll()
                if self.stop.requested:
                    self._stop_fit()
            if self.reporter is not None:
                self.reporter.on_batch(self.epoch, batch, self.steps, logs or {}, now - self._epoch_start)
        finally:
            self._lock.release()

    def on_epoch_end(self, epoch, logs=None):
        logs = dict(logs or {})
        seconds = self.clock() - self._epoch_start
        self.history.record(epoch, logs, seconds)
        if self.stop.requested and self.steps and self.batches < self.steps and self.history.fits:
            self.history.fits[-1]["partial_epoch"] = (epoch, self.batches, self.steps)
        logs["seconds"] = seconds
        speed, self.speed = self.speed, None   # one estimate per fit, from its first epoch
        if speed is not None:
            self._speed_hint(speed.epoch_end(self.batches))
        self._poll_events()
        if self.reporter is not None:
            self.reporter.on_epoch(epoch, logs, self.history, verdict(self.history.history))
        if self.stop.requested:
            self.model.stop_training = True

    def _stop_fit(self) -> None:
        """End the fit after this batch, from the batch hook (which Keras may run on a worker thread).

        ``self.model`` is not used here: on JAX, Keras' ``Callback.model`` syncs the training state into the
        variables, and from a worker thread while the next step runs that sync takes buffers the step then
        donates, so the fit fails at the epoch's end ("Buffer has been deleted or donated").
        """
        self._model.stop_training = True

    def _poll_events(self) -> None:
        """Handle pending front-end events (a Stop click) at an epoch's end, after Keras has waited for its batch threads."""
        if self.poll is not None:
            with self._lock:
                self.poll()

    def _speed_hint(self, epoch_seconds: float | None) -> None:
        """Tell the reporter the measured epoch time when it is worth saying (a slow CPU)."""
        if epoch_seconds is None or self.reporter is None:
            return
        from ..runtime.device import detect
        from ..runtime.speed_hint import cpu_speed_hint

        final = (self.params or {}).get("epochs")
        first = self.first_epoch or 0
        try:
            text = cpu_speed_hint(epoch_seconds, self.device or detect(), epochs=final - first if final else 1)
        except Exception:  # noqa: BLE001 - a hint must never break a fit
            return
        if text:
            with self._lock:
                tell(self.reporter, text)
