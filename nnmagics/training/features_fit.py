"""Train a features-mode transfer model's head on its frozen base's outputs (:mod:`.feature_cache` computes them once).

The head is the model's own layers after the base, so fitting it trains the model; it is compiled like the
model, and the labels are encoded for the model's loss. Example::

    from nnmagics.training.features_fit import fit_features_model
    history = fit_features_model(model, train, train.validation, epochs=10)
"""
from __future__ import annotations

import weakref
from typing import Any, Sequence

import numpy as np

from ..errors import NNUsageError
from ..i18n import _
from .feature_cache import cache_plan, cached_features, split_features_model

_HEAD_COMPILE: "weakref.WeakKeyDictionary[Any, Any]" = weakref.WeakKeyDictionary()


def _loss_name(loss: Any) -> str:
    if loss is None:
        return ""
    if isinstance(loss, str):
        return loss.lower()
    return str(getattr(loss, "name", None) or getattr(loss, "__name__", None) or type(loss).__name__).lower()


def _class_mode_for(model, data, class_mode: str | None) -> str:
    """How to encode labels for the model's loss: ``int``, ``categorical`` or ``binary``."""
    if class_mode:
        return class_mode
    name = _loss_name(getattr(model, "loss", None)).replace("_", "")
    if "sparse" in name:
        return "int"
    if "categorical" in name:
        return "categorical"
    if "binary" in name:
        return "binary"
    units = int(model.output_shape[-1])
    return "binary" if units == 1 else "int"


def _encode(labels: np.ndarray, num_classes: int, class_mode: str) -> np.ndarray:
    if class_mode == "categorical":
        return np.eye(num_classes, dtype="float32")[labels]
    if class_mode == "binary":
        return labels.astype("float32")
    return labels.astype("int32")


def _compile_head(model, head) -> None:
    """Compile ``head`` like ``model`` (same loss, metrics, optimizer kind and settings), once per compile."""
    import keras

    compiled = getattr(model, "compiled", False) and getattr(model, "optimizer", None) is not None
    stamp = (id(model.optimizer), repr(model.get_compile_config())) if compiled else ("default",)
    if _HEAD_COMPILE.get(head) == stamp:
        return
    if compiled:
        config = keras.saving.deserialize_keras_object(model.get_compile_config())
        optimizer = config.pop("optimizer", None) or keras.optimizers.RMSprop()
        config = {k: v for k, v in config.items() if k in ("loss", "metrics", "loss_weights", "weighted_metrics")}
        head.compile(optimizer=optimizer, **config)
    else:
        units = int(model.output_shape[-1])
        loss = "binary_crossentropy" if units == 1 else "sparse_categorical_crossentropy"
        head.compile(optimizer=keras.optimizers.Adam(1e-3), loss=loss, metrics=["accuracy"])
    _HEAD_COMPILE[head] = stamp


def fit_features_model(model, data, val=None, *, epochs: int = 10, initial_epoch: int = 0,
                       batch_size: int | None = None, callbacks: Sequence[Any] = (), class_mode: str | None = None,
                       shuffle: bool = True, seed: int | None = None, verbose: int = 0, precision: str = "float32"):
    """Fit the head of a features-mode transfer model on cached VGG16 outputs; returns the Keras ``History``.

    The head is compiled like ``model`` when ``model`` is compiled (same loss and metrics, a
    fresh optimizer of the same kind; kept across calls until ``model`` is compiled again),
    else with Adam(1e-3), the loss fitting the output layer and accuracy. ``class_mode``
    (``int``/``categorical``/``binary``) says how to encode the labels; by default from the loss.
    ``precision``: the dtype policy of the VGG16 pass (``train`` passes its ``--mixed-precision`` choice).
    ``epochs`` counts from ``initial_epoch`` (as ``train`` continues a history):
    the last epoch run is ``initial_epoch + epochs``. Callbacks see the head as their model; as
    the head's layers are the model's, ``EarlyStopping(restore_best_weights=True)`` and
    checkpoints of ``model`` work.

    Example::

        >>> model = vgg_transfer(mode="features", data=train)               # doctest: +SKIP
        >>> history = fit_features_model(model, train, train.validation, epochs=10)  # doctest: +SKIP
        >>> history.history["val_accuracy"][-1]                              # doctest: +SKIP
    """
    split = split_features_model(model)
    if split is None:
        _use, message = cache_plan(model)
        raise NNUsageError(message or _("Model '{model}' is not a features-mode VGG16 transfer model with a frozen "
                                        "base; train it end to end with model.fit or %nn_train.").format(model=model.name))
    import keras

    base, head = split
    if seed is not None:
        keras.utils.set_random_seed(int(seed))
    num_classes = int(model.output_shape[-1]) if int(model.output_shape[-1]) > 1 else 2
    mode = _class_mode_for(model, data, class_mode)
    x, labels = cached_features(base, data, precision=precision)
    validation = None
    if val is not None:
        vx, vlabels = cached_features(base, val, precision=precision)
        validation = (vx, _encode(vlabels, num_classes, mode))
    _compile_head(model, head)
    return head.fit(x, _encode(labels, num_classes, mode), epochs=initial_epoch + int(epochs),
                    initial_epoch=initial_epoch, batch_size=batch_size or getattr(data, "batch_size", None) or 32,
                    validation_data=validation, callbacks=list(callbacks or ()), shuffle=shuffle, verbose=verbose)


__all__ = ["fit_features_model"]
