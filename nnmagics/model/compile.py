"""Compile defaults: the loss that fits the output layer and the labels, the optimizer, the metrics.

- 1 sigmoid unit → ``binary_crossentropy`` (labels 0/1)
- k softmax units → ``sparse_categorical_crossentropy`` (integer labels), or
  ``categorical_crossentropy`` when the data is one-hot (``class_mode='categorical'``)
- a linear output (logits) → the same losses with ``from_logits=True``

A loss that contradicts the output layer (3 softmax units with ``binary_crossentropy``, as the
course once writes) is a ``NNUsageError`` naming the loss that fits.
"""
from __future__ import annotations

import inspect

from dataclasses import dataclass
from typing import Any, Sequence

from ..errors import NNUsageError, did_you_mean, unknown
from ..i18n import _, ngettext

OPTIMIZERS = ("rmsprop", "adam", "sgd", "adamw", "nadam", "adagrad", "adadelta", "adamax")
COMMON_LOSSES = ("binary_crossentropy", "sparse_categorical_crossentropy", "categorical_crossentropy",
                 "mean_squared_error", "mean_absolute_error", "hinge", "kl_divergence")
_LOSS_ALIASES = {
    "bce": "binary_crossentropy", "binary": "binary_crossentropy",
    "sparse": "sparse_categorical_crossentropy", "scce": "sparse_categorical_crossentropy",
    "cce": "categorical_crossentropy", "categorical": "categorical_crossentropy",
    "mse": "mean_squared_error", "mae": "mean_absolute_error",
}
_CLASS_LOSS_NAMES = {
    "BinaryCrossentropy": "binary_crossentropy",
    "SparseCategoricalCrossentropy": "sparse_categorical_crossentropy",
    "CategoricalCrossentropy": "categorical_crossentropy",
    "BinaryFocalCrossentropy": "binary_focal_crossentropy",
    "CategoricalFocalCrossentropy": "categorical_focal_crossentropy",
}


@dataclass(frozen=True)
class OutputInfo:
    """The model's output layer: number of units and activation name (``'linear'`` for logits)."""

    units: int | None
    activation: str | None


def output_info(model) -> OutputInfo:
    """Units and activation of the model's (last) output layer.

    Example::

        output_info(build_model(preset="course-dense"))    # OutputInfo(units=3, activation='softmax')
    """
    units = None
    try:
        shape = model.output_shape
        if isinstance(shape, list):
            shape = shape[-1]
        units = shape[-1]
    except Exception:  # noqa: BLE001 - subclassed or unbuilt models have no output_shape
        pass
    layer = _last_layer(model)
    if units is None and layer is not None:
        units = getattr(layer, "units", None)
    activation = None
    if layer is not None:
        fn = getattr(layer, "activation", None)
        activation = getattr(fn, "__name__", None) if fn is not None else None
        if activation is None and type(layer).__name__ in ("Softmax", "Activation"):
            activation = "softmax" if type(layer).__name__ == "Softmax" else None
    return OutputInfo(int(units) if units is not None else None, activation)


def _last_layer(model):
    try:
        outputs = getattr(model, "outputs", None)
        if outputs:
            return outputs[-1]._keras_history[0]
    except Exception:  # noqa: BLE001 - fall back on the last tracked layer
        pass
    layers = getattr(model, "layers", None) or []
    return layers[-1] if layers else None


def loss_name(loss: Any) -> str | None:
    """Canonical snake_case name of a loss given as a string, a Loss object or a function."""
    if loss is None:
        return None
    if isinstance(loss, str):
        key = loss.strip().lower()
        return _LOSS_ALIASES.get(key, key)
    cls = type(loss).__name__
    if cls in _CLASS_LOSS_NAMES:
        return _CLASS_LOSS_NAMES[cls]
    name = getattr(loss, "name", None) or getattr(loss, "__name__", None)
    return str(name).lower() if name else None


def _from_logits(loss: Any) -> bool:
    return bool(getattr(loss, "from_logits", False))


def check_loss_name(name: str) -> str:
    """A loss name Keras knows (canonical), else a NNUsageError with a suggestion."""
    import keras

    canonical = loss_name(name)
    try:
        keras.losses.get(canonical)
    except (ValueError, TypeError):
        raise NNUsageError(_("Unknown loss '{name}'.").format(name=name) + did_you_mean(canonical, COMMON_LOSSES)) from None
    return canonical


@dataclass(frozen=True)
class LossChoice:
    """The loss to compile with and how the labels must be fed (``class_mode``)."""

    loss: Any
    name: str
    class_mode: str
    reason: str


def choose_loss(out: OutputInfo, data_class_mode: str, num_classes: int, loss: Any = "auto",
                model_name: str = "model") -> LossChoice:
    """Infer (``loss='auto'``) or check the loss against the output layer; pick the label encoding.

    Example::

        choose_loss(OutputInfo(3, "softmax"), "int", 3).name     # 'sparse_categorical_crossentropy'
        choose_loss(OutputInfo(3, "softmax"), "int", 3, "binary_crossentropy")   # NNUsageError
    """
    units, act = out.units, (out.activation or "linear")
    logits = act == "linear"
    if loss is None or (isinstance(loss, str) and loss.lower() == "auto"):
        return _infer(units, act, logits, data_class_mode, model_name)
    name = loss_name(loss) if not isinstance(loss, str) else check_loss_name(loss)
    fits = _fitting_loss(units, act, data_class_mode)
    layer_text = _layer_text(units, act)
    if name in ("binary_crossentropy", "binary_focal_crossentropy"):
        if units not in (None, 1):
            raise NNUsageError(_(
                "Loss {loss} expects one sigmoid output unit but '{model}' ends with {layer}; use --loss {fits} "
                "(or leave --loss out to let nnmagics choose).").format(
                loss=name, model=model_name, layer=layer_text, fits=fits))
        return LossChoice(loss, name, "binary", "as asked")
    if name in ("sparse_categorical_crossentropy", "categorical_crossentropy", "categorical_focal_crossentropy"):
        if units == 1:
            raise NNUsageError(_(
                "Loss {loss} expects one output unit per class but '{model}' ends with {layer}; use --loss "
                "binary_crossentropy (or leave --loss out).").format(loss=name, model=model_name, layer=layer_text))
        if act == "sigmoid":
            raise NNUsageError(_(
                "Loss {loss} expects a softmax output but '{model}' ends with {layer}; rebuild the output as "
                "dense {units} softmax.").format(loss=name, model=model_name, layer=layer_text, units=units))
        mode = "int" if name.startswith("sparse") else "categorical"
        return LossChoice(loss, name, mode, "as asked")
    # other losses (mse, hinge, …): one column for one unit, one-hot for several
    return LossChoice(loss, name or str(loss), "binary" if units == 1 else "categorical", "as asked")


def _infer(units, act, logits, data_class_mode, model_name) -> LossChoice:
    import keras

    layer_text = _layer_text(units, act)
    if units == 1:
        if act == "softmax":
            raise NNUsageError(_(
                "'{model}' ends with a single softmax unit, which always outputs 1; use dense 1 sigmoid for two "
                "classes.").format(model=model_name))
        if logits:
            return LossChoice(keras.losses.BinaryCrossentropy(from_logits=True), "binary_crossentropy", "binary",
                              "1 linear unit (logits)")
        return LossChoice("binary_crossentropy", "binary_crossentropy", "binary", "1 sigmoid unit")
    if act == "sigmoid":
        raise NNUsageError(_(
            "'{model}' ends with {layer}, which is multi-label; for {units} exclusive classes use dense {units} "
            "softmax, or give --loss binary_crossentropy with one-hot labels yourself.").format(
            model=model_name, layer=layer_text, units=units))
    if data_class_mode == "categorical":
        if logits:
            return LossChoice(keras.losses.CategoricalCrossentropy(from_logits=True), "categorical_crossentropy",
                              "categorical", f"{units} linear units (logits), one-hot labels")
        return LossChoice("categorical_crossentropy", "categorical_crossentropy", "categorical",
                          f"{units} softmax units, one-hot labels")
    if logits:
        return LossChoice(keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                          "sparse_categorical_crossentropy", "int", f"{units} linear units (logits), integer labels")
    return LossChoice("sparse_categorical_crossentropy", "sparse_categorical_crossentropy", "int",
                      f"{units} softmax units, integer labels")


def _fitting_loss(units, act, data_class_mode) -> str:
    if units == 1:
        return "binary_crossentropy"
    return "categorical_crossentropy" if data_class_mode == "categorical" else "sparse_categorical_crossentropy"


def _layer_text(units, act) -> str:
    if units is None:
        return _("a {activation} layer").format(activation=act)
    return ngettext("{units} {activation} unit", "{units} {activation} units", units).format(units=units, activation=act)


def make_optimizer(name: str | None = None, lr: float | None = None, momentum: float | None = None):
    """A Keras optimizer by name (``rmsprop`` as the course, ``adam``, ``sgd``…) with an optional learning rate
    and momentum (the course's fine-tuning: ``SGD(learning_rate=1e-5, momentum=0.9)``).

    Example::

        make_optimizer("adam", lr=1e-3)
        make_optimizer("sgd", lr=1e-5, momentum=0.9)
    """
    import keras

    name = (name or "rmsprop").lower()
    if name not in OPTIMIZERS:
        raise NNUsageError(_("Unknown optimizer '{name}'.").format(name=name) + did_you_mean(name, OPTIMIZERS))
    config: dict[str, Any] = {}
    if lr is not None:
        config["learning_rate"] = float(lr)
    if momentum is not None:
        if "momentum" not in inspect.signature(type(keras.optimizers.get(name)).__init__).parameters:
            raise NNUsageError(_("--momentum applies to sgd and rmsprop; {name} has none (leave --momentum out "
                                 "or use --optimizer sgd).").format(name=name))
        config["momentum"] = float(momentum)
    return keras.optimizers.get({"class_name": name, "config": config})


def fresh_optimizer(optimizer):
    """A new optimizer of the same kind and settings (learning rate included), without its state.

    Needed when the trainable variables change: a built optimizer only updates the variables
    it was built for.

    Example::

        model.compile(optimizer=fresh_optimizer(model.optimizer), loss=model.loss)
    """
    import keras

    return keras.optimizers.deserialize(keras.optimizers.serialize(optimizer))


def compile_like(target, source, optimizer: Any = None) -> None:
    """Compile ``target`` with ``source``'s loss and metrics (its compile config) and ``optimizer``
    (default: ``source``'s own object): the one "recompile like before".

    Example::

        compile_like(model, model, keras.optimizers.RMSprop(1e-5))     # fine-tuning: same loss, new lr
        compile_like(clone, model)                                     # a clone trains like the model
    """
    import keras

    config = keras.saving.deserialize_keras_object(source.get_compile_config() or {})
    config.pop("optimizer", None)
    target.compile(optimizer=source.optimizer if optimizer is None else optimizer, **config)


def learning_rate_of(optimizer) -> float:
    """The optimizer's learning rate as a Python float, on every backend (a schedule raises ``TypeError``).

    Example::

        learning_rate_of(model.optimizer)        # 0.001
    """
    import keras

    return float(keras.ops.convert_to_numpy(optimizer.learning_rate))


def optimizer_label(optimizer) -> str:
    """``'rmsprop (lr 0.001)'``: the optimizer's kind and learning rate (kind only for a schedule)."""
    try:
        lr = learning_rate_of(optimizer)
        return f"{type(optimizer).__name__.lower()} (lr {lr:g})"
    except Exception:  # noqa: BLE001 - schedules and odd optimizers: name only
        return type(optimizer).__name__.lower()


@dataclass(frozen=True)
class CompileState:
    """What ``restore_compile`` needs to put a model's compile back as it was."""

    compiled: bool
    optimizer: Any = None
    config: Any = None
    learning_rate: Any = None


def compile_state(model) -> CompileState:
    """The model's compile now (optimizer object, loss, metrics, learning rate).

    Example::

        state = compile_state(model); model.compile(...); restore_compile(model, state)
    """
    optimizer = getattr(model, "optimizer", None)
    if not getattr(model, "compiled", False) or optimizer is None:
        return CompileState(False)
    config = dict(model.get_compile_config() or {})
    config.pop("optimizer", None)
    lr = optimizer.learning_rate
    return CompileState(True, optimizer, config, float(lr.numpy()) if hasattr(lr, "numpy") else lr)


def restore_compile(model, state: CompileState, recompiled: bool = True) -> None:
    """Put back the compile ``compile_state`` saw (the same optimizer object, with its state);
    ``recompiled=False``: only the learning rate changed."""
    import keras

    if not state.compiled:
        model.compiled = False  # the next training compiles afresh
        return
    if isinstance(state.learning_rate, float):
        state.optimizer.learning_rate = state.learning_rate
    if not recompiled:
        return
    config = keras.saving.deserialize_keras_object(state.config)
    model.compile(optimizer=state.optimizer, **config)


# metric names compile() reads itself (they pick binary/categorical accuracy or cross-entropy from the loss)
COMPILE_METRICS = ("accuracy", "acc", "crossentropy", "ce")
COMMON_METRICS = ("accuracy", "auc", "precision", "recall", "binary_accuracy", "categorical_accuracy",
                  "sparse_categorical_accuracy", "top_k_categorical_accuracy", "mse", "mae", "crossentropy")


def check_metric(metric: Any) -> Any:
    """A metric ``compile`` will accept (a name Keras knows, or a metric object), else a NNUsageError.

    Example::

        check_metric("acc")     # 'acc'
        check_metric("foo")     # NNUsageError: Unknown metric 'foo'. Did you mean …?
    """
    if not isinstance(metric, str):
        return metric
    if metric.lower() in COMPILE_METRICS:
        return metric
    import keras

    try:
        keras.metrics.get(metric)
    except (ValueError, TypeError):
        raise unknown(_("Unknown metric '{word}'."), metric, COMMON_METRICS) from None
    return metric


def normalize_metrics(metrics: Sequence[str] | str | None) -> list[Any]:
    """``'accuracy,auc'`` or a list → a checked metric list for ``compile`` (``['accuracy']`` by default).

    Example::

        normalize_metrics("accuracy, auc")     # ['accuracy', 'auc']
    """
    if metrics is None:
        return ["accuracy"]
    if isinstance(metrics, str):
        metrics = [m.strip() for m in metrics.split(",") if m.strip()]
    return [check_metric(m) for m in metrics if m not in ("none", "")]


def compiled_metrics(model) -> list:
    """The metric names ``model`` was compiled with (``['accuracy']`` when there are none by name)."""
    try:
        metrics = (model.get_compile_config() or {}).get("metrics")
    except Exception:  # noqa: BLE001 - not compiled, or compiled in an unusual way
        metrics = None
    names = [m for m in (metrics or []) if isinstance(m, str)]
    return names or ["accuracy"]


def compiled_loss(model) -> Any:
    """The loss a model was compiled with (None if not compiled)."""
    if not getattr(model, "compiled", False):
        return None
    return getattr(model, "loss", None)
