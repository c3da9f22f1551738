"""Transfer models built from ``keras.applications.VGG16``: the course's replace-top, features mode, fine-tuning.

- ``vgg_transfer(2, mode="replace-top")``: the course's recipe exactly, every VGG16 layer but the
  last, frozen, then ``Dense(2, softmax)`` (134,268,738 parameters, 8,194 trainable);
- ``vgg_transfer(2, mode="features")``: the convolutional base, frozen, with global average
  pooling and a small head; :mod:`nnmagics.training.feature_cache` trains that head on VGG16's
  outputs computed once per dataset;
- ``fine_tune(model, "block5")``: the second phase of the classic recipe.

A transfer model is a ``keras.Sequential`` holding the layers of a ``keras.applications.VGG16``
(``block1_conv1`` … ``fc2``), as the course adds them one by one, so ``model.layers`` lists
VGG16's layers, the feature cache can cut the model after ``block5_pool`` and ``fine_tune``
finds the blocks. It takes raw 0–255 pixels at the dataset's size and carries VGG16's
``preprocess_input`` inside (a ``VGG16Preprocess`` layer, after a ``Resizing(224, 224)`` layer
when the Dense top needs 224×224). It is built by running the code ``transfer_code`` prints
(:mod:`nnmagics.transfer.code`).
"""
from __future__ import annotations

import weakref
from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np

from ..checks import number_in_range, positive_number, whole_number
from ..errors import NNUsageError, unknown
from ..i18n import _
from ..model.spec_checks import check_name
from .code import TOP_SIZE, TransferSpec, build_code, fine_tune_code, printed_code
from .weights import BLOCKS, resolve_weights, weights_label

MODES = ("replace-top", "features")
MIN_SIZE = 32
_MODE_ALIASES = {"replace": "replace-top", "top": "replace-top", "feature": "features", "base": "features"}

_INFO: "weakref.WeakKeyDictionary[Any, dict]" = weakref.WeakKeyDictionary()
_PREPROCESS_CLASS = None


# ----------------------------------------------------------------------------- preprocessing inside the model
def preprocess_class():
    """The ``VGG16Preprocess`` layer class (``code.PREPROCESS_CLASS``), defined and registered on first use.

    Registered with Keras as ``nnmagics>VGG16Preprocess``, so saved ``.keras`` transfer models
    reload once it is defined (``nnmagics.transfer.VGG16Preprocess`` defines it).

    Example::

        >>> preprocess_class()(name="vgg16_preprocess")                   # doctest: +SKIP
    """
    global _PREPROCESS_CLASS
    if _PREPROCESS_CLASS is None:
        import keras
        from keras import layers
        from keras.applications.vgg16 import preprocess_input

        from .code import PREPROCESS_CLASS

        # the class the printed code defines, defined from that very text (a constant of ours)
        namespace = {"keras": keras, "layers": layers, "preprocess_input": preprocess_input}
        exec(PREPROCESS_CLASS, namespace)  # noqa: S102 - nnmagics' own constant, no user input
        _PREPROCESS_CLASS = namespace["VGG16Preprocess"]
    return _PREPROCESS_CLASS


def preprocess_layer(**kwargs):
    """A new ``VGG16Preprocess`` layer (VGG16's ``preprocess_input`` inside a model).

    Example::

        >>> preprocess_layer()(np.zeros((1, 2, 2, 3))).numpy()[0, 0, 0]   # doctest: +SKIP
        array([-103.939, -116.779, -123.68 ], dtype=float32)
    """
    kwargs.setdefault("name", "vgg16_preprocess")
    return preprocess_class()(**kwargs)


# ----------------------------------------------------------------------------- checking the arguments
def transfer_info(model) -> dict:
    """What ``vgg_transfer`` recorded about a model (mode, classes, weights, input size), or ``{}``.

    Example::

        >>> transfer_info(vgg_transfer(2, weights="none"))["mode"]         # doctest: +SKIP
        'replace-top'
    """
    try:
        return _INFO.get(model, {})
    except TypeError:
        return {}


@dataclass
class TransferPlan:
    """The checked arguments of a transfer model."""

    num_classes: int
    mode: str
    input_shape: tuple[int, int, int]
    classes: list[str] | None = None


def _classes(value: Any) -> int:
    return whole_number(value, "--classes", minimum=1, example="2")


def plan_transfer(num_classes: Any = None, *, mode: str = "replace-top", data: Any = None,
                  input_shape: Sequence[int] | None = None, base: Any = None) -> TransferPlan:
    """Check the mode, the number of classes and the input size (from ``data`` when given).

    Example::

        >>> plan_transfer(2).input_shape
        (224, 224, 3)
    """
    mode = str(mode or "replace-top").strip().lower().replace("_", "-")
    mode = _MODE_ALIASES.get(mode, mode)
    if mode not in MODES:
        raise unknown(_("Unknown transfer mode '{word}'."), mode, MODES)
    classes = None
    if data is not None:
        if getattr(data, "kind", None) != "images" or not hasattr(data, "image_size"):
            raise NNUsageError(_("--from needs an image dataset made by %nn_data from a folder, not a {type}.").format(
                type=type(data).__name__))
        classes = [str(c) for c in data.class_names]
        if num_classes is not None and _classes(num_classes) != len(classes):
            raise NNUsageError(_("--classes {given} contradicts the dataset, which has {n} classes ({names}); leave "
                                 "out --classes.").format(given=num_classes, n=len(classes), names=", ".join(classes)))
        num_classes = len(classes)
        if input_shape is None:
            input_shape = tuple(data.image_size)
    if num_classes is None:
        raise NNUsageError(_("Give the number of classes, e.g. --classes 2, or a dataset with --from DATA."))
    k = _classes(num_classes)
    if k < 2:
        raise NNUsageError(_("A classifier needs at least 2 classes, not {n}; give --classes 2 for cats vs "
                             "dogs.").format(n=k))
    default = (*TOP_SIZE, 3) if base is None else (base.size, base.size, 3)
    shape = default if input_shape is None else check_image_shape(input_shape, base=base)
    return TransferPlan(k, mode, shape, classes)


def check_image_shape(input_shape: Sequence[int], include_top: bool = False, base: Any = None) -> tuple[int, int, int]:
    """``(height, width)`` or ``(height, width, 3)`` checked for VGG16 (or ``base``, a ``bases.Base``), as a triple.

    Example::

        >>> check_image_shape((150, 150))
        (150, 150, 3)
    """
    who, smallest = ("VGG16", MIN_SIZE) if base is None else (base.cls, base.min_size)
    try:
        shape = tuple(int(d) for d in input_shape)
    except (TypeError, ValueError):
        raise NNUsageError(_("{base} takes colour images (height, width, 3), not input shape {shape}.").format(
            base=who, shape=input_shape)) from None
    if len(shape) == 2:
        shape = (*shape, 3)
    if len(shape) != 3 or shape[2] != 3:
        raise NNUsageError(_("{base} takes colour images (height, width, 3), not input shape {shape}.").format(
            base=who, shape=shape))
    if include_top and shape[:2] != TOP_SIZE:
        raise NNUsageError(_("VGG16's Dense top needs 224×224 images, not {height}×{width}; resize the images or "
                             "use include_top=False.").format(height=shape[0], width=shape[1]))
    if min(shape[:2]) < smallest:
        raise NNUsageError(_("{base} needs images of at least {size}×{size} pixels, not {height}×{width}; load the "
                             "data with a larger --image-size.").format(
            base=who, size=smallest, height=shape[0], width=shape[1]))
    return shape  # type: ignore[return-value]


# ----------------------------------------------------------------------------- building
def _run_code(lines: list[str]):
    """Run the model-building lines of :mod:`.code` (our own code, every value in it checked) → the model."""
    import keras
    from keras.applications.vgg16 import VGG16, preprocess_input

    namespace = {"keras": keras, "layers": keras.layers, "VGG16": VGG16, "preprocess_input": preprocess_input,
                 "VGG16Preprocess": preprocess_class()}
    exec("\n".join(lines), namespace)  # noqa: S102 - generated by code.build_code from checked values
    return namespace["model"]


def vgg_transfer(num_classes: Any = None, *, mode: str = "replace-top", weights: Any = "imagenet", data: Any = None,
                 input_shape: Sequence[int] | None = None, fine_tune_from: str | None = None,
                 head_units: int = 256, dropout: float = 0.5, name: str | None = None, announce=print):
    """A VGG16 transfer model for ``num_classes`` classes, taking raw 0–255 pixels.

    - ``mode="replace-top"``: the course's recipe: every VGG16 layer but the last, frozen, then
      ``Dense(num_classes, softmax)``; a ``Resizing(224, 224)`` layer first when the data is not
      224×224 (the Dense top needs it). 134,268,738 parameters, 8,194 trainable for 2 classes.
    - ``mode="features"``: the convolutional base at the data's size, frozen, then
      ``GlobalAveragePooling2D`` → ``Dense(head_units, relu)`` → ``Dropout(dropout)`` →
      ``Dense(num_classes, softmax)``; ``features.fit_features_model`` trains it fast.

    ``data`` (an image dataset) gives the classes and the input size. ``fine_tune_from="block5"``
    unfreezes that block at once (better: train the head first, then call :func:`fine_tune`).
    ``transfer_code(model)`` is the code that built it.

    Example::

        >>> tl = vgg_transfer(2, weights="none")                            # doctest: +SKIP
        >>> trainable_summary(tl)                                           # doctest: +SKIP
        (134268738, 8194)
        >>> fast = vgg_transfer(mode="features", data=train)                # doctest: +SKIP
    """
    name = check_name("vgg16_transfer" if name is None else name)
    plan = plan_transfer(num_classes, mode=mode, data=data, input_shape=input_shape)
    head_units = whole_number(head_units or 0, "--head-units", minimum=0, example="256")
    dropout = number_in_range(dropout or 0.0, "dropout", low=0, high=1, high_inclusive=False, example="0.5")
    if fine_tune_from is not None:
        fine_tune_from = _check_block(fine_tune_from)
    top = plan.mode == "replace-top"
    path = resolve_weights(weights, include_top=top, announce=announce)  # before building: fails fast
    spec = TransferSpec(name, plan.mode, plan.num_classes, plan.input_shape, head_units, dropout)
    model = _run_code(build_code(spec, "None" if path is None else repr(path)))
    imagenet = path is not None and str(weights).strip().lower() == "imagenet"
    _INFO[model] = {"mode": plan.mode, "classes": plan.classes, "num_classes": plan.num_classes,
                    "input_shape": plan.input_shape, "weights": weights_label(weights, path), "weights_path": path,
                    "head_units": head_units, "dropout": dropout, "spec": spec,
                    "weights_code": '"imagenet"' if imagenet else ("None" if path is None else repr(path))}
    if fine_tune_from is not None:
        fine_tune(model, fine_tune_from)
    return model


def vgg16(*, include_top: bool = True, weights: Any = "imagenet", input_shape: Sequence[int] | None = None,
          announce=print):
    """``keras.applications.VGG16``, with nnmagics' weights (offline-aware, checked files, ``none``).

    Example::

        model = vgg16(weights="none")                  # random weights, 138,357,544 parameters
        model = vgg16(include_top=False, input_shape=(150, 150, 3))
    """
    import keras

    path = resolve_weights(weights, include_top, announce=announce)
    shape = check_image_shape((*TOP_SIZE, 3) if input_shape is None else input_shape, include_top)
    return keras.applications.VGG16(include_top=include_top, weights=path,
                                     input_shape=None if include_top else shape)


# ----------------------------------------------------------------------------- fine-tuning
def _check_block(block: Any) -> str:
    text = str(block).strip().lower()
    if text.isdigit():
        text = f"block{text}"
    choices = [f"block{i}" for i in range(1, len(BLOCKS) + 1)]
    if text not in choices:
        raise unknown(_("Unknown VGG16 block '{word}'."), block, choices)
    return text


def fine_tune(model, block: str = "block5", *, learning_rate: float = 1e-5) -> list[str]:
    """Unfreeze VGG16's convolutions from ``block`` to the end (phase 2 of the two-phase recipe).

    Layers before ``block`` stay frozen; Dense layers of the replace-top recipe (fc1, fc2) stay
    frozen too. A compiled model is compiled again (Keras needs it after ``trainable`` changes)
    with the same loss and metrics and a new optimizer of the same kind at ``learning_rate``;
    a model not yet compiled is left for ``%nn_train … --lr 1e-5``. Returns the unfrozen layers.

    Phase 1 trains the new head with the base frozen (fast with ``mode="features"``, whose
    features are cached); phase 2 fine-tunes block5 a few epochs at a low learning rate (1e-5),
    so that the large gradients of an untrained head do not wreck ImageNet's filters. VGG16 has
    no BatchNormalization, so nothing else needs freezing.

    Example::

        fine_tune(model, "block5")          # block5_conv1..3 trainable, blocks 1–4 frozen
    """
    start = int(_check_block(block)[5:])
    learning_rate = positive_number(learning_rate, "--lr", example="1e-5")
    if not any(layer.name.startswith("block") and layer.name.endswith("_conv1") for layer in model.layers):
        raise NNUsageError(_("Model '{model}' has no VGG16 layers to fine-tune; build one with %vgg_transfer build "
                             "NAME --classes 2.").format(model=model.name))
    unfrozen = []
    for layer in model.layers:  # as fine_tune_code prints it
        if layer.name.startswith("block") and "_conv" in layer.name:
            layer.trainable = int(layer.name[5]) >= start
            if layer.trainable:
                unfrozen.append(layer.name)
    optimizer, compile_args = _recompile(model, learning_rate)
    try:
        _INFO.setdefault(model, {})["phase_two"] = fine_tune_code(start, optimizer, learning_rate, compile_args)
    except TypeError:
        pass
    return unfrozen


def _recompile(model, learning_rate: float) -> tuple[str | None, str | None]:
    """Compile a compiled model again with a new optimizer of its kind; ``(optimizer name, loss/metrics code)``."""
    if not (getattr(model, "compiled", False) and getattr(model, "optimizer", None) is not None):
        return None, None
    import keras

    from ..model.compile import compile_like

    raw = model.get_compile_config() or {}
    kind = type(model.optimizer)
    compile_like(model, model, kind(learning_rate=learning_rate))
    shown = getattr(keras.optimizers, kind.__name__, None)   # PyTorch's is a backend subclass of the public one
    public = isinstance(shown, type) and issubclass(kind, shown) and kind.__module__.startswith("keras.")
    loss, metrics = raw.get("loss"), raw.get("metrics")
    plain = isinstance(loss, str) and isinstance(metrics, list) and all(isinstance(m, str) for m in metrics)
    return kind.__name__, (f"loss={loss!r}, metrics={metrics!r}" if plain and public else None)


def trainable_summary(model) -> tuple[int, int]:
    """``(total parameters, trainable parameters)``.

    Example::

        >>> trainable_summary(vgg_transfer(2, weights="none"))             # doctest: +SKIP
        (134268738, 8194)
    """
    trainable = sum(int(np.prod(w.shape)) for w in model.trainable_weights)
    return int(model.count_params()), trainable


def transfer_code(model) -> str:
    """The plain Keras code that built this transfer model (and its phase 2), as ``--code`` prints it.

    Example::

        >>> print(transfer_code(tl))                                       # doctest: +SKIP
        import keras
        ...
        vgg = VGG16(weights="imagenet")
    """
    info = transfer_info(model)
    if not info.get("spec"):
        raise NNUsageError(_("'{model}' was not built by %vgg_transfer build; there is no code to show.").format(
            model=model.name))
    return printed_code(info["spec"], info["weights_code"], info.get("phase_two"))


__all__ = ["vgg_transfer", "vgg16", "fine_tune", "trainable_summary", "transfer_code", "transfer_info",
           "plan_transfer", "check_image_shape", "preprocess_layer", "preprocess_class", "TransferPlan", "MODES",
           "MIN_SIZE"]
