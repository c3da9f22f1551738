"""Compile defaults: the loss that fits the output layer and the labels, the optimizer, the metrics.

- 1 sigmoid unit → ``binary_crossentropy`` (labels 0/1)
- k softmax units → ``sparse_categorical_crossentropy`` (integer labels), or
  ``categorical_crossentropy`` when the data is one-hot (``class_mode='categorical'``)
- a linear output (logits) → the same losses with ``from_logits=True``

A loss that contradicts the output layer (3 softmax units with ``binary_crossentropy``, as the
course once writes) is a ``NNUsageError`` naming the loss that fits.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

from .errors import NNUsageError, did_you_mean

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
        raise NNUsageError(f"Unknown loss '{name}'." + did_you_mean(canonical, COMMON_LOSSES)) from None
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
            raise NNUsageError(
                f"Loss {name} expects one sigmoid output unit but '{model_name}' ends with {layer_text}; "
                f"use --loss {fits} (or leave --loss out to let nnmagics choose)."
            )
        return LossChoice(loss, name, "binary", "as asked")
    if name in ("sparse_categorical_crossentropy", "categorical_crossentropy", "categorical_focal_crossentropy"):
        if units == 1:
            raise NNUsageError(
                f"Loss {name} expects one output unit per class but '{model_name}' ends with {layer_text}; "
                "use --loss binary_crossentropy (or leave --loss out)."
            )
        if act == "sigmoid":
            raise NNUsageError(
                f"Loss {name} expects a softmax output but '{model_name}' ends with {layer_text}; "
                f"rebuild the output as dense {units} softmax."
            )
        mode = "int" if name.startswith("sparse") else "categorical"
        return LossChoice(loss, name, mode, "as asked")
    # other losses (mse, hinge, …): one column for one unit, one-hot for several
    return LossChoice(loss, name or str(loss), "binary" if units == 1 else "categorical", "as asked")


def _infer(units, act, logits, data_class_mode, model_name) -> LossChoice:
    import keras

    layer_text = _layer_text(units, act)
    if units == 1:
        if act == "softmax":
            raise NNUsageError(
                f"'{model_name}' ends with a single softmax unit, which always outputs 1; "
                "use dense 1 sigmoid for two classes."
            )
        if logits:
            return LossChoice(keras.losses.BinaryCrossentropy(from_logits=True), "binary_crossentropy", "binary",
                              "1 linear unit (logits)")
        return LossChoice("binary_crossentropy", "binary_crossentropy", "binary", "1 sigmoid unit")
    if act == "sigmoid":
        raise NNUsageError(
            f"'{model_name}' ends with {layer_text}, which is multi-label; for {units} exclusive classes use "
            f"dense {units} softmax, or give --loss binary_crossentropy with one-hot labels yourself."
        )
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
        return f"a {act} layer"
    return f"{units} {act} unit" + ("s" if units != 1 else "")


def make_optimizer(name: str | None = None, lr: float | None = None):
    """A Keras optimizer by name (``rmsprop`` as the course, ``adam``, ``sgd``…) with an optional learning rate.

    Example::

        make_optimizer("adam", lr=1e-3)
    """
    import keras

    name = (name or "rmsprop").lower()
    if name not in OPTIMIZERS:
        raise NNUsageError(f"Unknown optimizer '{name}'." + did_you_mean(name, OPTIMIZERS))
    config: dict[str, Any] = {}
    if lr is not None:
        config["learning_rate"] = float(lr)
    return keras.optimizers.get({"class_name": name, "config": config})


def normalize_metrics(metrics: Sequence[str] | str | None) -> list[Any]:
    """``'accuracy,auc'`` or a list → a metric list for ``compile`` (``['accuracy']`` by default)."""
    if metrics is None:
        return ["accuracy"]
    if isinstance(metrics, str):
        metrics = [m.strip() for m in metrics.split(",") if m.strip()]
    return [m for m in metrics if m not in ("none", "")]


def compiled_loss(model) -> Any:
    """The loss a model was compiled with (None if not compiled)."""
    if not getattr(model, "compiled", False):
        return None
    return getattr(model, "loss", None)
