"""The Keras callbacks of one ``train`` call: reporting, early stop, best-weights checkpoint, NaN guard.

Keras' own callbacks where Keras has them (``EarlyStopping``, ``ModelCheckpoint``), extended only by
what they lack: ``AtomicCheckpoint`` writes atomically and says in one sentence when it cannot.

Example::

    found = fit_callbacks(info, reporter, model, options, extra=[keras.callbacks.CSVLogger("log.csv")])
    model.fit(x, y, callbacks=found.keras)
"""
from __future__ import annotations

import math
import os
from dataclasses import dataclass
from typing import Any, Sequence

import keras

from ..model import weights_io
from ..errors import NNUsageError
from ..i18n import _
from .history import TrainHistory
from .reporting import ReportingCallback, StopSignal, TrainInfo
from .interrupts import INTERRUPT
from .options import FitOptions


class AtomicCheckpoint(keras.callbacks.ModelCheckpoint):
    """``ModelCheckpoint(save_best_only=True, save_weights_only=True)`` (lower ``monitor`` is better)
    whose file is written atomically (an interrupted write keeps the previous best file).

    ``target``: the model whose weights are saved when Keras trains another one (``copy=True``: a
    mixed-precision clone, whose weights are copied into ``target`` first; ``copy=False``: a head
    sharing ``target``'s layers). A failed write stops training with one sentence.

    Example::

        AtomicCheckpoint("best.weights.h5", monitor="val_loss")
    """

    def __init__(self, path: str, monitor: str = "val_loss", best: float | None = None, target=None,
                 copy: bool = False):
        super().__init__(path, monitor=monitor, mode="min", save_best_only=True, save_weights_only=True,
                         initial_value_threshold=best)
        self.target, self.copy = target, copy
        self.saved_epoch: int | None = None

    def _save_model(self, epoch, batch, logs):
        value = (logs or {}).get(self.monitor)
        if value is None or not math.isfinite(float(value)):
            return  # a NaN loss is never "the best"
        path = self._get_file_path(epoch, batch, logs)
        if not self._should_save_model(epoch, batch, logs, path):
            return
        model = self.model if self.target is None else self.target
        if self.copy and model is not self.model:
            model.set_weights(self.model.get_weights())
        try:
            weights_io.atomic_save(model.save_weights, path)
        except OSError as exc:  # the disk filled up, the folder went away…: stop with the weights kept
            self.model.stop_training = True
            raise NNUsageError(
                _("Could not write the checkpoint '{path}' at epoch {epoch} ({reason}); training stopped and the "
                  "model keeps its weights: free some space or choose another --checkpoint path.").format(
                    path=path, epoch=epoch + 1, reason=(exc.strerror or str(exc)).lower())
            ) from None
        self.saved_epoch = epoch


class NanGuard(keras.callbacks.Callback):
    """Stop a fit whose loss becomes NaN or infinite, put back the weights it started from, and say so.

    Like ``keras.callbacks.TerminateOnNaN`` but checked once per epoch (the batch hook would make
    Keras convert every batch's logs) and ending in one ``NNUsageError`` (the fit's status is 'failed').
    """

    def on_train_begin(self, logs=None):
        self.start = [v.numpy() for v in self.model.trainable_variables]

    def on_epoch_end(self, epoch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is None or math.isfinite(float(loss)):
            return
        self.model.stop_training = True
        for variable, value in zip(self.model.trainable_variables, self.start):
            variable.assign(value)
        if math.isnan(float(loss)):
            sentence = _("The loss became NaN (not a number) at epoch {epoch}, so training stopped and the weights "
                         "were put back as they were before this run; try a lower --lr (e.g. --lr 0.0001) and check "
                         "the data for huge values.")
        else:
            sentence = _("The loss became infinite at epoch {epoch}, so training stopped and the weights were put "
                         "back as they were before this run; try a lower --lr (e.g. --lr 0.0001) and check the data "
                         "for huge values.")
        raise NNUsageError(sentence.format(epoch=epoch + 1))


@dataclass
class FitCallbacks:
    """The callbacks of one fit: all of them for Keras, and the two ``train`` asks about afterwards."""

    keras: list
    stopper: Any = None       # keras.callbacks.EarlyStopping or None
    saver: AtomicCheckpoint | None = None

    def status(self, stop: StopSignal) -> str:
        """How a fit that returned normally ended: 'interrupted', 'stopped', 'early-stopped' or 'finished'."""
        if stop.requested:
            return "interrupted" if stop.reason == INTERRUPT else "stopped"
        if self.stopper is not None and self.stopper.stopped_epoch > 0:
            return "early-stopped"
        return "finished"

    def best_epoch(self) -> int | None:
        """The epoch whose weights were kept (checkpoint, else early stop), or None."""
        if self.saver is not None and self.saver.saved_epoch is not None:
            return self.saver.saved_epoch
        if self.stopper is not None and getattr(self.stopper, "best_weights", None) is not None:
            return self.stopper.best_epoch
        return None

    def restore_best(self) -> None:
        """After a kernel interrupt, do what EarlyStopping does at the end of a fit (Stop included):
        put back the best weights seen so far."""
        if self.stopper is not None and getattr(self.stopper, "best_weights", None) is not None:
            self.stopper.model.set_weights(self.stopper.best_weights)


def fit_callbacks(info: TrainInfo, reporter, model, options: FitOptions, extra: Sequence[Any] = (),
                  copy_weights: bool = False, device: Any = None) -> FitCallbacks:
    """The callbacks for one fit, the reporting one first; ``extra`` (the user's) last.

    ``copy_weights``: Keras trains a clone of ``model`` (mixed precision, a strategy), so the
    checkpoint copies the clone's weights into ``model`` before saving them. ``device``: the
    ``device.detect()`` the fit was planned with (the speed hint reads it).
    """
    found = FitCallbacks([ReportingCallback(reporter, info.history, info.stop, info.steps, device=device)])
    if options.early_stop is not None:
        found.stopper = keras.callbacks.EarlyStopping(monitor=info.monitor, patience=options.early_stop,
                                                      restore_best_weights=True)
        found.keras.append(found.stopper)
    if options.checkpoint is not None:
        path = weights_io.weights_path(options.checkpoint)
        best = previous_best(info.history, path, info.monitor)
        found.saver = AtomicCheckpoint(path, info.monitor, best, target=model, copy=copy_weights)
        found.keras.append(found.saver)
    found.keras.append(NanGuard())
    found.keras.extend(extra or ())
    return found


def previous_best(history: TrainHistory, path: str, monitor: str) -> float | None:
    """The best monitored value of earlier fits that saved to the same checkpoint file (None: none)."""
    if not history.fits or not os.path.exists(path):
        return None
    if history.fits[-1]["params"].get("checkpoint") != path:
        return None
    values = [v for v in history.history.get(monitor, []) if not math.isnan(v)]
    return min(values) if values else None
