"""Training: compile defaults, data feeding, one reporting callback, stop and interrupt, history.

The core never imports ipywidgets: outputs are *reporters* (the live panel, the text log, or
anything with the same four methods) fed by one Keras callback, ``ReportingCallback``::

    on_train_begin(info)                              # a TrainInfo
    on_batch(epoch, batch, steps, logs, elapsed)      # at most every 0.1 s
    on_epoch(epoch, logs, history)                    # after each finished epoch
    on_train_end(status)                              # 'finished' | 'stopped' | 'interrupted' | 'early-stopped' | 'failed'

A reporter may also offer ``poll()`` (process front-end events such as a Stop click while the
kernel is busy; called with the batch updates).
"""
from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

from .errors import NNUsageError
from .history import TrainHistory, history_of
# _RUNNERS and clone_for lived here before runner.py: kept importable from train
from .runner import _RUNNERS, clone_for, prepare_runner, remember_flags  # noqa: F401

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
    """What a reporter is told when training starts."""

    model_name: str
    data_name: str
    epochs: int
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
    stop: StopSignal = field(default_factory=StopSignal)
    history: TrainHistory | None = None

    @property
    def final_epoch(self) -> int:
        """The epoch count at the end of this fit (``initial_epoch + epochs``)."""
        return self.initial_epoch + self.epochs


def _keras_callback_base():
    import keras

    return keras.callbacks.Callback


def _make_reporting_callback(reporter, history: TrainHistory, stop: StopSignal, steps: int | None,
                             clock: Callable[[], float] = time.perf_counter, throttle: float = BATCH_THROTTLE):
    """The one Keras callback that records epochs into ``history`` and feeds ``reporter``."""
    Base = _keras_callback_base()

    class ReportingCallback(Base):
        """Records finished epochs, throttles batch updates, honours the stop flag.

        ``async_safe``: Keras may run the batch hook in its callback thread, as it does for
        ``fit(verbose=0)`` (the per-batch log conversion then stays off the training thread).
        The hook only reads a clock and a flag, and sends throttled widget updates (thread-safe).
        """

        async_safe = True

        def __init__(self):
            super().__init__()
            self.reporter, self.history, self.stop = reporter, history, stop
            self.steps, self.clock, self.throttle = steps, clock, throttle
            self.poll = getattr(reporter, "poll", None)
            self.epoch = 0
            self.batches = 0
            self._lock = threading.Lock()
            self._epoch_start = 0.0
            self._last = -math.inf

        def on_epoch_begin(self, epoch, logs=None):
            self.epoch = epoch
            self.batches = 0
            self._epoch_start = self.clock()
            self._last = self._epoch_start

        def on_train_batch_end(self, batch, logs=None):
            self.batches = max(self.batches, batch + 1)
            if self.stop.requested:
                self.model.stop_training = True
                return
            now = self.clock()
            if now - self._last < self.throttle or not self._lock.acquire(blocking=False):
                return  # Keras' callback threads may overlap: one update at a time, the others skip
            try:
                self._last = now
                if self.poll is not None:
                    self.poll()
                    if self.stop.requested:
                        self.model.stop_training = True
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
            if self.reporter is not None:
                self.reporter.on_epoch(epoch, logs, self.history)
            if self.stop.requested:
                self.model.stop_training = True

    return ReportingCallback()


def _make_checkpoint(path: str, target, monitor: str, best: float):
    """Save ``target``'s weights atomically to ``path`` whenever ``monitor`` improves."""
    Base = _keras_callback_base()
    from .weights_io import atomic_save

    class BestCheckpoint(Base):
        """Best weights by ``monitor`` (lower is better), written atomically."""

        def __init__(self):
            super().__init__()
            self.path, self.target, self.monitor, self.best = path, target, monitor, best
            self.saved_epoch: int | None = None

        def on_epoch_end(self, epoch, logs=None):
            value = (logs or {}).get(self.monitor)
            if value is None or math.isnan(value) or value >= self.best:
                return
            if self.target is not self.model:
                self.target.set_weights(self.model.get_weights())
            try:
                atomic_save(self.target.save_weights, self.path)
            except OSError as exc:  # the disk filled up, the folder went away…: stop with the weights kept
                self.model.stop_training = True
                raise NNUsageError(
                    f"Could not write the checkpoint '{self.path}' at epoch {epoch + 1} "
                    f"({(exc.strerror or str(exc)).lower()}); training stopped and the model keeps its weights: "
                    "free some space or choose another --checkpoint path."
                ) from None
            self.best = float(value)
            self.saved_epoch = epoch

    return BestCheckpoint()


def _make_nan_guard():
    """Stop a fit whose loss becomes NaN or infinite, put back the weights it started from, and say so.

    Like ``keras.callbacks.TerminateOnNaN`` but checked once per epoch (the batch hook would make
    Keras convert every batch's logs) and ending in one ``NNUsageError`` (the fit's status is 'failed').
    """
    Base = _keras_callback_base()

    class NanGuard(Base):
        """Keeps the trainable weights at the start of the fit; restores them when the loss is not finite."""

        def on_train_begin(self, logs=None):
            self.start = [v.numpy() for v in self.model.trainable_variables]

        def on_epoch_end(self, epoch, logs=None):
            loss = (logs or {}).get("loss")
            if loss is None or math.isfinite(float(loss)):
                return
            self.model.stop_training = True
            for variable, value in zip(self.model.trainable_variables, self.start):
                variable.assign(value)
            what = "NaN (not a number)" if math.isnan(float(loss)) else "infinite"
            raise NNUsageError(
                f"The loss became {what} at epoch {epoch + 1}, so training stopped and the weights were put "
                "back as they were before this run; try a lower --lr (e.g. --lr 0.0001) and check the data for huge values."
            )

    return NanGuard()


# -- checks -------------------------------------------------------------------------------------
def _positive_int(value, what: str, allow_none: bool = True) -> int | None:
    if value is None and allow_none:
        return None
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise NNUsageError(f"{what} must be a whole number, not '{value}'.") from None
    if number != value and not isinstance(value, str):
        raise NNUsageError(f"{what} must be a whole number, not {value}.")
    if number <= 0:
        raise NNUsageError(f"{what} must be a positive whole number, not {number}.")
    return number


def _check_model(model, name: str) -> None:
    if not (hasattr(model, "fit") and hasattr(model, "layers") and hasattr(model, "count_params")):
        raise NNUsageError(f"'{name}' is a {type(model).__name__}, not a Keras model; build one with %nn_build.")


def _check_data(data, what: str) -> None:
    if not hasattr(data, "kind") or not hasattr(data, "classes") or data.kind not in ("table", "images"):
        raise NNUsageError(f"{what} is a {type(data).__name__}, not a dataset; load one with %nn_data.")


def _describe_data(data) -> str:
    if data.kind == "images":
        h, w = data.image_size if hasattr(data, "image_size") else data.input_shape[:2]
        return f"images {h}×{w}×3"
    return f"a table of {data.input_shape[0]} feature(s)"


def model_input_shape(model) -> tuple | None:
    """The model's input shape without the batch axis (None when it cannot be known)."""
    try:
        shape = model.input_shape
        if isinstance(shape, list):
            shape = shape[0]
        return tuple(shape[1:])
    except Exception:  # noqa: BLE001 - subclassed models: use the specs nnmagics built them from
        from .build import specs_of

        specs = specs_of(model)
        if specs:
            return tuple(specs[0].shape)
    return None


def check_fit(model, data, model_name: str, data_name: str) -> None:
    """Raise a NNUsageError when the model's input cannot take ``data`` (kind or shape)."""
    wanted = model_input_shape(model)
    if wanted is None:
        return
    got = tuple(data.input_shape)
    if len(wanted) != len(got):
        kind = "images" if len(wanted) == 3 else "tables" if len(wanted) == 1 else f"inputs of shape {wanted}"
        fix = ("build an image model, e.g. %nn_build cnn --preset course-cnn --from " + data_name
               if data.kind == "images" else "build a dense model, e.g. %nn_build model --preset course-dense --from " + data_name)
        raise NNUsageError(f"Model '{model_name}' takes {kind} (input {_shape(wanted)}) but '{data_name}' holds "
                           f"{_describe_data(data)}; {fix}.")
    if any(w is not None and w != g for w, g in zip(wanted, got)):
        fix = (f"load the images with --image-size {wanted[0]}x{wanted[1]}" if data.kind == "images"
               else "choose the features with --features")
        raise NNUsageError(f"Model '{model_name}' expects input {_shape(wanted)} but '{data_name}' gives "
                           f"{_shape(got)}; {fix} or rebuild the model with --from {data_name}.")


def _shape(shape) -> str:
    return "×".join("?" if d is None else str(d) for d in shape)


def check_outputs(model, data, model_name: str, data_name: str) -> None:
    """Raise when the number of output units cannot match the number of classes."""
    from .compile import output_info

    units = output_info(model).units
    k = data.num_classes
    if units is None or units == k or (units == 1 and k == 2):
        return
    fix = "dense 1 sigmoid" if k == 2 else f"dense {k} softmax"
    raise NNUsageError(f"Model '{model_name}' ends with {units} unit(s) but '{data_name}' has {k} classes "
                       f"({', '.join(map(str, data.classes))}); end the model with {fix} (or build it with --from {data_name}).")


def check_validation(train_data, val_data, train_name: str, val_name: str) -> None:
    """Same kind and same classes (same order) on both sides, else a NNUsageError."""
    _check_data(val_data, f"'{val_name}'")
    if val_data.kind != train_data.kind:
        raise NNUsageError(f"Validation data '{val_name}' is {_describe_data(val_data)} but training data "
                           f"'{train_name}' is {_describe_data(train_data)}; give validation data of the same kind.")
    if list(map(str, val_data.classes)) != list(map(str, train_data.classes)):
        raise NNUsageError(f"Validation data '{val_name}' has classes {list(val_data.classes)} but training data "
                           f"'{train_name}' has {list(train_data.classes)}; use folders/labels with the same classes.")
    if tuple(val_data.input_shape) != tuple(train_data.input_shape):
        raise NNUsageError(f"Validation data '{val_name}' gives {_shape(val_data.input_shape)} but training data "
                           f"'{train_name}' gives {_shape(train_data.input_shape)}; load both with the same size/features.")


# -- data ---------------------------------------------------------------------------------------
def split_validation(data, fraction: float, seed: int | None = None):
    """(train, validation) parts of ``data``: ``TableData.split``, or a stratified split of an image file list."""
    if not (isinstance(fraction, (int, float)) and 0 < fraction < 1):
        raise NNUsageError(f"--val-split must be a fraction between 0 and 1 (e.g. 0.2), not {fraction}.")
    if hasattr(data, "split"):
        return data.split(fraction, seed=0 if seed is None else seed)
    import numpy as np
    from sklearn.model_selection import train_test_split

    index = np.arange(len(data))
    labels = np.asarray(data.labels)
    counts = np.bincount(labels.astype(int))
    stratify = labels if counts[counts > 0].min() >= 2 else None
    try:
        tr, va = train_test_split(index, test_size=fraction, random_state=0 if seed is None else seed, stratify=stratify)
    except ValueError as exc:
        raise NNUsageError(f"Cannot hold out {fraction:g} of {len(data)} samples for validation ({exc}).") from None
    return _subset(data, np.sort(tr)), _subset(data, np.sort(va))


def _subset(data, index):
    """The samples at ``index`` of an image dataset (``subset`` when it has one, else a copy with fewer files)."""
    if hasattr(data, "subset"):
        return data.subset(index)
    import copy

    import numpy as np

    part = copy.copy(data)
    part.files = [data.files[i] for i in index]
    part.labels = np.asarray(data.labels)[index]
    for parallel in ("_decode_paths", "_shapes"):  # ImageData keeps these aligned with files
        values = getattr(data, parallel, None)
        if isinstance(values, list) and len(values) == len(data.files):
            setattr(part, parallel, [values[i] for i in index])
    if hasattr(part, "validation"):
        part.validation = None
    if hasattr(part, "_decoded_cache"):
        part._decoded_cache = {}
    return part


def resolve_validation(data, val=None, val_split=None, seed=None, *, data_name: str = "data",
                       val_name: str = "val"):
    """(training data, validation data or None) from ``--val``, ``--val-split`` or ``data.validation``."""
    if val is not None and val_split is not None:
        raise NNUsageError("Give either --val DATA or --val-split FRACTION, not both.")
    if val_split is not None:
        return split_validation(data, val_split, seed)
    if val is None:
        val = getattr(data, "validation", None)
        val_name = f"{data_name}.validation"
    if val is not None:
        check_validation(data, val, data_name, val_name)
    return data, val


def _has_augmentation(model) -> bool:
    from .device import _all_layers

    return any(type(layer).__name__.startswith("Random") for layer in _all_layers(model))


def make_inputs(data, *, class_mode: str, batch_size: int, shuffle: bool, seed: int | None,
                augment: bool = False, repeat: bool = False) -> dict[str, Any]:
    """Keyword arguments for ``fit``/``validation_data``: arrays for tables, a ``tf.data`` pipeline for images."""
    if data.kind == "table" and not repeat:
        return {"x": data.X, "y": data.targets(class_mode), "batch_size": batch_size, "shuffle": shuffle}
    kwargs: dict[str, Any] = {"batch_size": batch_size, "shuffle": shuffle, "seed": seed, "class_mode": class_mode}
    if data.kind == "images":
        if augment:
            from .build import make_augmentation

            kwargs["augment"] = make_augmentation(seed)
    ds = data.as_tf_dataset(**kwargs)
    if repeat:
        ds = ds.repeat()
    return {"x": ds, "shuffle": False}  # the pipeline shuffles itself


def _as_validation(inputs: dict[str, Any]):
    if "y" in inputs:
        return (inputs["x"], inputs["y"])
    return inputs["x"]


# -- compile ------------------------------------------------------------------------------------
@dataclass
class CompilePlan:
    """What ``train`` decided about compiling."""

    compile: bool
    loss: Any
    loss_name: str
    class_mode: str
    optimizer: Any
    metrics: list
    reason: str
    lr: float | None = None


def plan_compile(model, data, *, loss="auto", optimizer=None, lr=None, metrics=None,
                 model_name: str = "model") -> CompilePlan:
    """Decide whether to (re)compile, and with which loss, optimizer and label encoding.

    Checks every option (loss, optimizer, metrics) and changes nothing: ``apply_plan`` does.
    A model whose trainable flags changed since nnmagics last trained it is compiled again
    (Keras ignores unfreezing until then) with an optimizer of the same kind.
    """
    from .compile import (choose_loss, compiled_loss, compiled_metrics, fresh_optimizer, loss_name,
                          make_optimizer, normalize_metrics, output_info)
    from .runner import flags_changed

    out = output_info(model)
    compiled = bool(getattr(model, "compiled", False)) and getattr(model, "optimizer", None) is not None
    asked = optimizer is not None or (loss not in (None, "auto")) or metrics is not None
    current = compiled_loss(model) if compiled else None
    if loss in (None, "auto") and current is not None:
        choice = choose_loss(out, data.class_mode, data.num_classes, current, model_name)
    else:
        choice = choose_loss(out, data.class_mode, data.num_classes, loss, model_name)
    unfrozen = compiled and flags_changed(model)
    if not compiled or asked or unfrozen:
        checked = normalize_metrics(metrics if metrics is not None or not compiled else compiled_metrics(model))
        if optimizer is not None or not compiled:
            opt = make_optimizer(optimizer, lr)
        else:
            opt = fresh_optimizer(model.optimizer) if unfrozen else model.optimizer
        reason = "trainable layers changed" if unfrozen and not asked else choice.reason
        return CompilePlan(True, choice.loss, choice.name, choice.class_mode, opt, checked, reason, lr)
    return CompilePlan(False, current, loss_name(current) or choice.name, choice.class_mode, model.optimizer,
                       [], "compiled before", lr)


def apply_plan(model, plan: CompilePlan) -> None:
    """Compile ``model`` as planned and set the learning rate asked for."""
    if plan.compile:
        model.compile(optimizer=plan.optimizer, loss=plan.loss, metrics=plan.metrics)
    if plan.lr is not None:
        model.optimizer.learning_rate = float(plan.lr)


def _optimizer_label(optimizer) -> str:
    try:
        lr = float(optimizer.learning_rate.numpy() if hasattr(optimizer.learning_rate, "numpy")
                   else optimizer.learning_rate)
        return f"{type(optimizer).__name__.lower()} (lr {lr:g})"
    except Exception:  # noqa: BLE001 - schedules and odd optimizers: name only
        return type(optimizer).__name__.lower()


# -- reporters ----------------------------------------------------------------------------------
def default_reporter(live: bool | None = None):
    """The live panel in a notebook kernel with ipywidgets, else the text log.

    ``live=None`` follows ``%config NNMagics.live``; False forces the text log.
    """
    from .config import settings
    from .display.output import in_notebook

    if live is None:
        live = settings().live
    if live and in_notebook():
        try:
            import ipywidgets  # noqa: F401 - only probing
        except ImportError:
            pass
        else:
            from .display.panel import TrainingPanel

            return TrainingPanel()
    from .display.text_log import TextLog

    return TextLog()


class _Silent:
    def on_train_begin(self, info):
        pass

    def on_batch(self, epoch, batch, steps, logs, elapsed):
        pass

    def on_epoch(self, epoch, logs, history):
        pass

    def on_train_end(self, status):
        pass


# -- train --------------------------------------------------------------------------------------
def train(model, data, *, val=None, val_split: float | None = None, epochs: int = 10,
          batch_size: int | None = None, steps_per_epoch: int | None = None,
          validation_steps: int | None = None, optimizer: str | None = None, lr: float | None = None,
          loss: Any = "auto", metrics: Sequence[str] | str | None = None, augment: bool = False,
          early_stop: int | None = None, checkpoint: str | None = None, seed: int | None = None,
          mixed_precision: str = "auto", strategy: Any = "auto", callbacks: Sequence[Any] = (),
          reporter: Any = None, live: bool | None = None, model_name: str | None = None,
          data_name: str | None = None, val_name: str | None = None) -> TrainHistory:
    """Train ``model`` on a ``%nn_data`` dataset and return its ``TrainHistory`` (all fits so far).

    Compiles when the model is not compiled or when compile options are given (loss inferred
    from the output layer). Training again continues the epoch count and appends to the same
    history. The Stop button and a kernel interrupt end training after the current batch; the
    model keeps its weights and the history every finished epoch (``history.status``).

    ``reporter``: None → the live panel in a notebook (text log elsewhere, or ``live=False``);
    False → silent; or any object with the reporter methods.

    Example::

        data4 = load_data("artificial_generator.xlsx", sheet="data4")
        model = build_model(preset="course-dense")
        history = train(model, data4, val_split=0.2, epochs=20, seed=0)
        history.history["val_accuracy"][-1]
    """
    model_name = model_name or getattr(model, "name", "model")
    data_name = data_name or getattr(data, "name", None) or "data"
    opts = _check_options(model, data, model_name, data_name, epochs=epochs, batch_size=batch_size,
                          steps_per_epoch=steps_per_epoch, validation_steps=validation_steps,
                          early_stop=early_stop, lr=lr, augment=augment, checkpoint=checkpoint)
    train_data, val_data = resolve_validation(data, val, val_split, seed, data_name=data_name,
                                              val_name=val_name or "validation data")
    if opts["validation_steps"] is not None and val_data is None:
        raise NNUsageError("--validation-steps needs validation data (--val, --val-split or a folder with validation/).")

    import keras

    from . import device as dev

    if seed is not None:
        keras.utils.set_random_seed(int(seed))
    info = dev.detect()
    if info.gpus:
        dev.enable_memory_growth()
    plan = plan_compile(model, train_data, loss=loss, optimizer=optimizer, lr=lr, metrics=metrics,
                        model_name=model_name)
    from .compile import compile_state, restore_compile

    before = compile_state(model)
    apply_plan(model, plan)
    try:
        notes: list[str] = []
        use_cache = _features_cache_plan(model, augment, opts, notes)
        precision = dev.choose_precision(mixed_precision, info)
        chosen = dev.choose_strategy(strategy, info)
        # the cached-features path trains a tiny head on arrays: no mixed precision, no strategy clone
        runner = model if use_cache else prepare_runner(model, plan, precision.policy, chosen, notes)
        policy, strat = (precision.policy, chosen) if runner is not model else ("float32", None)

        batch = opts["batch_size"] or train_data.batch_size
        fit_inputs = make_inputs(train_data, class_mode=plan.class_mode, batch_size=batch, shuffle=True, seed=seed,
                                 augment=augment, repeat=opts["steps_per_epoch"] is not None)
        validation = None
        if val_data is not None:
            validation = _as_validation(make_inputs(val_data, class_mode=plan.class_mode, batch_size=batch,
                                                    shuffle=False, seed=None,
                                                    repeat=opts["validation_steps"] is not None))
        history = history_of(model, create=True)
        if history.name in (None, getattr(model, "name", None)):
            history.name = model_name  # the notebook's variable name reads better than Keras' 'functional'
        hint = dev.cpu_training_hint(model, info, samples=len(train_data))
        tinfo = TrainInfo(model_name=model_name, data_name=data_name, epochs=opts["epochs"],
                          initial_epoch=history.epochs_done,
                          steps=opts["steps_per_epoch"] or math.ceil(len(train_data) / batch), batch_size=batch,
                          samples=len(train_data), val_samples=len(val_data) if val_data is not None else None,
                          device=info.badge(), precision=policy, strategy=dev.strategy_label(strat),
                          hints=_hints(hint, info, notes),
                          loss=plan.loss_name, optimizer=_optimizer_label(runner.optimizer),
                          monitor="val_loss" if val_data is not None else "loss", history=history)
        reporter = _Silent() if reporter is False else (reporter or default_reporter(live))
        keras_callbacks, stopper, saver = _callbacks(tinfo, reporter, model, opts, callbacks)
        history.start_fit({"epochs": tinfo.epochs, "initial_epoch": tinfo.initial_epoch, "batch_size": batch,
                           "steps": tinfo.steps, "samples": tinfo.samples, "val_samples": tinfo.val_samples,
                           "loss": plan.loss_name, "optimizer": tinfo.optimizer, "augment": bool(augment), "seed": seed,
                           "precision": policy, "strategy": tinfo.strategy, "early_stop": opts["early_stop"],
                           "checkpoint": saver.path if saver else None, "monitor": tinfo.monitor})
    except BaseException:
        restore_compile(model, before, plan.compile)  # a failure before training leaves the model as it was
        raise
    reporter.on_train_begin(tinfo)
    status = "failed"
    try:
        if use_cache:
            from .feature_cache import fit_features_model

            fit_features_model(model, train_data, val_data, epochs=tinfo.epochs, initial_epoch=tinfo.initial_epoch,
                               batch_size=batch, callbacks=keras_callbacks, class_mode=plan.class_mode, seed=seed)
        else:
            runner.fit(**fit_inputs, epochs=tinfo.final_epoch, initial_epoch=tinfo.initial_epoch,
                       steps_per_epoch=opts["steps_per_epoch"], validation_data=validation,
                       validation_steps=opts["validation_steps"], callbacks=keras_callbacks, verbose=0)
        status = _status(tinfo.stop, stopper)
    except KeyboardInterrupt:
        status = "interrupted"
        _restore_best(stopper)
    except Exception as exc:  # noqa: BLE001 - explained when we know the cause, else re-raised as is
        if history.epochs_done == tinfo.initial_epoch:
            restore_compile(model, before, plan.compile)  # e.g. a metric that fails at the first batch
        from .data.images import explain_file_error

        explained = explain_file_error(exc, train_data, val_data) or explain_failure(exc, batch)
        if explained is None:
            raise
        raise explained from None
    finally:
        if runner is not model:
            model.set_weights(runner.get_weights())
        history.fits[-1]["best_epoch"] = _best_epoch(stopper, saver)
        history.end_fit(status)
        reporter.on_train_end(status)
        remember_flags(model)
    return history


def _restore_best(stopper) -> None:
    """After a kernel interrupt, do what EarlyStopping does at the end of a fit (Stop included):
    put back the best weights seen so far."""
    if stopper is not None and getattr(stopper, "best_weights", None) is not None:
        stopper.model.set_weights(stopper.best_weights)


def _features_cache_plan(model, augment: bool, opts: dict[str, Any], notes: list[str]) -> bool:
    """Whether to train a features-mode VGG16 model on its cached base outputs (see feature_cache)."""
    if not any(layer.name == "block5_pool" for layer in getattr(model, "layers", [])):
        return False  # not a VGG16 transfer model
    from .feature_cache import cache_plan

    use, message = cache_plan(model, augment=augment)
    if use and (opts["steps_per_epoch"] is not None or opts["validation_steps"] is not None):
        use, message = False, "Training end to end: --steps-per-epoch/--validation-steps apply to image batches, not cached features."
    if message:
        notes.append(message)
    return use


def _check_options(model, data, model_name: str, data_name: str, *, epochs, batch_size, steps_per_epoch,
                   validation_steps, early_stop, lr, augment, checkpoint) -> dict[str, Any]:
    """Validate the options and the model/data pair; returns the whole-number options normalised."""
    _check_model(model, model_name)
    _check_data(data, f"'{data_name}'")
    opts = {
        "epochs": _positive_int(epochs, "The number of epochs", allow_none=False),
        "batch_size": _positive_int(batch_size, "The batch size"),
        "steps_per_epoch": _positive_int(steps_per_epoch, "--steps-per-epoch"),
        "validation_steps": _positive_int(validation_steps, "--validation-steps"),
        "early_stop": _positive_int(early_stop, "--early-stop (patience in epochs)"),
        "checkpoint": checkpoint,
    }
    if lr is not None and not (isinstance(lr, (int, float)) and lr > 0):
        raise NNUsageError(f"The learning rate must be a positive number (e.g. 0.001), not {lr}.")
    if augment and data.kind != "images":
        raise NNUsageError(f"--augment applies to image data but '{data_name}' is a table.")
    if augment and _has_augmentation(model):
        raise NNUsageError(f"Model '{model_name}' already contains augmentation layers; leave out --augment "
                           "(or build the model without 'augment').")
    if checkpoint is not None and not str(checkpoint).strip():
        raise NNUsageError("--checkpoint needs a file path, e.g. --checkpoint best.weights.h5.")
    check_fit(model, data, model_name, data_name)
    check_outputs(model, data, model_name, data_name)
    if checkpoint is not None:
        from .weights_io import check_writable, weights_bytes

        opts["checkpoint"] = check_writable(str(checkpoint), "--checkpoint", weights_bytes(model))
    return opts


def _callbacks(info: TrainInfo, reporter, model, opts: dict[str, Any], extra: Sequence[Any]):
    """(Keras callbacks, EarlyStopping or None, checkpoint or None) for one fit; the reporting callback first."""
    import keras

    history = info.history
    found = [_make_reporting_callback(reporter, history, info.stop, info.steps)]
    stopper = saver = None
    if opts["early_stop"] is not None:
        stopper = keras.callbacks.EarlyStopping(monitor=info.monitor, patience=opts["early_stop"],
                                                restore_best_weights=True)
        found.append(stopper)
    if opts["checkpoint"] is not None:
        from .weights_io import weights_path

        path = weights_path(str(opts["checkpoint"]))
        saver = _make_checkpoint(path, model, info.monitor, _previous_best(history, path, info.monitor))
        found.append(saver)
    found.append(_make_nan_guard())
    found.extend(extra or ())
    return found, stopper, saver


def _hints(cnn_hint: str | None, info, notes: list[str]) -> list[str]:
    """Hints for the panel: a large CNN on a CPU, a Colab runtime without GPU, skipped features."""
    found = [cnn_hint] if cnn_hint else []
    gpu = info.gpu_hint()
    if gpu and (cnn_hint or info.colab):
        found.append(gpu)
    return found + list(notes)


def _status(stop: StopSignal, stopper) -> str:
    if stop.requested:
        return "stopped"
    if stopper is not None and stopper.stopped_epoch > 0:
        return "early-stopped"
    return "finished"


def explain_failure(exc: Exception, batch_size: int) -> NNUsageError | None:
    """A one-sentence NNUsageError for failures users cause (memory, labels, shapes); None otherwise."""
    if isinstance(exc, NNUsageError):   # already one sentence (a callback's, e.g. the loss became NaN)
        return exc
    name = type(exc).__name__
    first = " ".join(str(exc).split())[:200]
    if name == "ResourceExhaustedError" or "OOM" in first or "out of memory" in first.lower():
        return NNUsageError(f"Training ran out of memory with batches of {batch_size}; use a smaller --batch-size "
                            "(or smaller images with --image-size).")
    if name == "InvalidArgumentError" and ("label" in first.lower() or "Received a label value" in first):
        return NNUsageError(f"The labels do not fit the output layer ({first}); rebuild the model with --from DATA.")
    if name in ("InvalidArgumentError", "ValueError") and ("shape" in first.lower() or "incompatible" in first.lower()):
        return NNUsageError(f"The data does not fit the model ({first}); rebuild the model with --from DATA.")
    return None


def _previous_best(history: TrainHistory, path: str, monitor: str) -> float:
    """The best monitored value of earlier fits that saved to the same checkpoint file."""
    import os

    if not history.fits or not os.path.exists(path):
        return math.inf
    if history.fits[-1]["params"].get("checkpoint") != path:
        return math.inf
    values = [v for v in history.history.get(monitor, []) if not math.isnan(v)]
    return min(values) if values else math.inf


def _best_epoch(stopper, saver) -> int | None:
    if saver is not None and saver.saved_epoch is not None:
        return saver.saved_epoch
    if stopper is not None and getattr(stopper, "best_weights", None) is not None:
        return stopper.best_epoch
    return None
