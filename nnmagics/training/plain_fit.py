"""A reporter in a plain ``model.fit(callbacks=[reporter])``: what it learns without nnmagics' ``train``.

``ReporterCallback`` is the base of reporters that are *also* Keras callbacks (the panel, the text log)::

    class Spy(ReporterCallback):
        def begin(self, info): print("start", info.model_name)
        def on_epoch(self, epoch, logs, history, verdict): print(epoch, verdict.kind)
        def end(self, status): print(status)

    model.fit(x, y, epochs=3, callbacks=[Spy()])

It feeds itself there: ``fit_info`` makes its ``TrainInfo`` from the model and
Keras' ``params``; ``close_after_cell`` ends, after its cell, a fit that Keras never ended (an
interrupt, an error).
"""
from __future__ import annotations

from typing import Any, Mapping

import keras

from .history import TrainHistory
from .reporting import ReportingCallback, StopSignal, TrainInfo


def fit_info(model, params: Mapping[str, Any], feed: ReportingCallback) -> TrainInfo:
    """The ``TrainInfo`` of a plain ``model.fit``: what ``model`` and Keras' ``params`` tell.

    Example::

        info = fit_info(model, {"epochs": 10, "steps": 4}, feed)     # info.samples is None: Keras does not say
    """
    from ..model.compile import loss_name, optimizer_label
    from ..runtime.device import detect

    try:
        device = detect().badge()
    except Exception:  # noqa: BLE001 - a display must never break a fit
        device = ""
    policy = getattr(getattr(model, "dtype_policy", None), "name", "float32")
    optimizer = getattr(model, "optimizer", None)
    return TrainInfo(model_name=getattr(model, "name", "model"), data_name="", epochs=int(params.get("epochs") or 1),
                     initial_epoch=0, steps=params.get("steps"), batch_size=None, samples=None, val_samples=None,
                     device=device, precision=policy, loss=loss_name(getattr(model, "loss", None)) or "",
                     optimizer=optimizer_label(optimizer) if optimizer is not None else "", stop=feed.stop,
                     history=feed.history)


def close_after_cell(reporter: Any) -> None:
    """In IPython, end a plain ``model.fit`` the reporter never saw end (an interrupt, an error) after its cell.

    Keras skips ``on_train_end`` when ``fit`` raises; a panel must still close (give the kernel back
    the messages it kept while training) and say how the fit ended.

    Example::

        close_after_cell(panel)     # ReporterCallback.on_train_begin does it when Keras calls the panel
    """
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - IPython is a dependency
        return
    shell = get_ipython()
    if shell is None:
        return

    def after(result=None):
        shell.events.unregister("post_run_cell", after)
        if reporter._feed is not None and reporter.status == "running":
            reporter._feed = None
            error = getattr(result, "error_in_exec", None)
            reporter._end_fit("interrupted" if isinstance(error, KeyboardInterrupt) else "failed")

    shell.events.register("post_run_cell", after)


class ReporterCallback(keras.callbacks.Callback):
    """A reporter that is also a Keras callback: give it to ``train(reporter=…)`` or to ``model.fit(callbacks=[…])``.

    Subclasses implement ``begin(info)``, ``on_batch``, ``on_epoch`` and ``end(status)``. Keras and
    the ``Reporter`` protocol both name ``on_train_begin``/``on_train_end``: a ``TrainInfo`` or a
    status string means ``train()`` is feeding it; anything else means Keras calls it directly, and
    it then feeds itself (its own ``ReportingCallback`` and ``TrainHistory``, an info made from
    ``self.model`` and ``self.params``; ``.history`` and ``.status`` tell what happened).
    """

    async_safe = True

    def __init__(self):
        super().__init__()
        self.info: TrainInfo | None = None
        self.history: TrainHistory | None = None
        self.status: str | None = None
        self._feed: ReportingCallback | None = None

    # -- the reporter protocol (subclasses implement begin/end and the two hooks) -------------------
    def begin(self, info: TrainInfo) -> None:
        """Training starts."""

    def end(self, status: str) -> None:
        """Training ended with ``status``."""

    def on_batch(self, epoch, batch, steps, logs, elapsed) -> None:
        """A batch ended (throttled)."""

    def on_epoch(self, epoch, logs, history, verdict) -> None:
        """An epoch ended."""

    def poll(self) -> None:
        """Handle pending front-end events (nothing by default)."""

    def on_hint(self, text: str) -> None:
        """A hint learnt while training (nothing by default)."""

    # -- both: the protocol and Keras --------------------------------------------------------------
    def on_train_begin(self, info=None):
        if isinstance(info, TrainInfo):
            self._feed = None
            self.info, self.history, self.status = info, info.history, "running"
            self.begin(info)
            return
        history = TrainHistory(self.model)
        history.start_fit(dict(self.params or {}))
        self._feed = ReportingCallback(self, history, StopSignal(), (self.params or {}).get("steps"))
        self._feed.set_model(self.model)
        self._feed.set_params(self.params)
        self.info, self.history, self.status = fit_info(self.model, self.params or {}, self._feed), history, "running"
        close_after_cell(self)
        self.begin(self.info)

    def on_train_end(self, status=None):
        if isinstance(status, str):
            self.status = status
            self.end(status)
            return
        feed, self._feed = self._feed, None
        if feed is None:
            return
        if feed.stop.requested:
            status = "stopped"
        elif getattr(self.model, "stop_training", False):
            status = "early-stopped"   # another callback (EarlyStopping, TerminateOnNaN) ended the fit
        else:
            status = "finished"
        self._end_fit(status)

    def on_epoch_begin(self, epoch, logs=None):
        if self._feed is not None:
            if not self.history.epoch and epoch != self.info.initial_epoch:   # model.fit(initial_epoch=…)
                self.info.epochs -= epoch - self.info.initial_epoch
                self.info.initial_epoch = epoch
            self._feed.on_epoch_begin(epoch, logs)

    def on_train_batch_end(self, batch, logs=None):
        if self._feed is not None:
            self._feed.on_train_batch_end(batch, logs)

    def on_epoch_end(self, epoch, logs=None):
        if self._feed is not None:
            if "val_loss" in (logs or {}):
                self.info.monitor = "val_loss"
            self._feed.on_epoch_end(epoch, logs)

    def _end_fit(self, status: str) -> None:
        self.history.end_fit(status)
        self.status = status
        self.end(status)
