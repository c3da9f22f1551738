"""Feature maps: what every convolution and pooling layer of a CNN makes of one image.

The course builds ``Model(img_input, [layer.output for layer in model.layers[1:]])`` and
predicts. That needs a graph: it fails for a Sequential model built without ``Input``
(no ``layer.output`` until the model has been called), for subclass models (no graph at
all) and for nested models such as a VGG16 base inside a transfer model (the inner layers'
outputs belong to the inner graph: "Graph disconnected").

``feature_maps`` works for all of them the same way: ONE eager forward pass
``model(x, training=False)`` during which the ``call`` of every 2-D convolution and pooling
layer (at any depth of nesting) is tapped to keep its output (``taps``: every Keras layer runs
through ``Layer.__call__`` → ``self.call``, whatever API built the model), so the tap sees exactly
what the model computes (dropout and augmentation layers are inactive, as in ``predict``). An
unbuilt Sequential model is built by this very call. The taps are removed afterwards. A pass
longer than two seconds (VGG16 on a CPU) shows a progress bar, one step per tapped layer.

Limitations: a layer called several times in one pass (shared layer) reports its first call;
operations written as plain ``keras.ops`` calls inside a subclass ``call`` (not layers) have no
name and are not reported.
"""
from __future__ import annotations

import os
from collections import OrderedDict
from typing import Any, Callable, Iterable, Sequence

import numpy as np

from ..checks import model_image_size, model_input_shape, shape_fits
from ..data.pixel_scale import warn_pixel_scale
from ..errors import NNUsageError
from ..i18n import _
from ..progress import progress_bar
from .taps import tapping

# classes (by name, anywhere in a layer's MRO) whose outputs are feature maps
_CONV_BASES = {"BaseConv", "BaseConvTranspose", "BaseDepthwiseConv", "BaseSeparableConv"}
_POOL_BASES = {"BasePooling"}


# ----------------------------------------------------------------------------- layers
def _bases(layer) -> set[str]:
    return {cls.__name__ for cls in type(layer).__mro__}


def is_convolution(layer) -> bool:
    """True for a 2-D convolution layer (Conv2D, SeparableConv2D, DepthwiseConv2D, Conv2DTranspose).

    Example::

        >>> is_convolution(keras.layers.Conv2D(4, 3)), is_convolution(keras.layers.Conv1D(4, 3))  # doctest: +SKIP
        (True, False)
    """
    return bool(_bases(layer) & _CONV_BASES) and getattr(layer, "rank", 2) == 2


def is_pooling(layer) -> bool:
    """True for a 2-D pooling layer with a window (MaxPooling2D, AveragePooling2D; not global pooling).

    Example::

        >>> is_pooling(keras.layers.MaxPooling2D(2))                 # doctest: +SKIP
        True
    """
    return bool(_bases(layer) & _POOL_BASES) and len(tuple(getattr(layer, "pool_size", (0, 0)))) == 2


def is_feature_layer(layer) -> bool:
    """True for a 2-D convolution or pooling layer (Conv2D, SeparableConv2D, MaxPooling2D, …).

    Global pooling and 1-D/3-D layers do not give H×W×C maps and are left out.

    Example::

        >>> is_feature_layer(keras.layers.MaxPooling2D(2))     # doctest: +SKIP
        True
    """
    return is_convolution(layer) or is_pooling(layer)


def _children(layer) -> list:
    """Direct sub-layers of a model or layer (in tracking order)."""
    children = getattr(layer, "_layers", None)
    if children is None:
        children = getattr(layer, "layers", None) or []
    return [c for c in children if c is not layer]


def walk_layers(model) -> list[tuple[str, Any]]:
    """Every layer inside ``model`` at any depth as ``(path, layer)``; path is ``outer/inner`` names.

    Example::

        >>> [path for path, _ in walk_layers(transfer_model)][:2]   # doctest: +SKIP
        ['vgg16', 'vgg16/block1_conv1']
    """
    found: list[tuple[str, Any]] = []
    seen: set[int] = set()

    def visit(layer, prefix: str) -> None:
        for child in _children(layer):
            if id(child) in seen:
                continue
            seen.add(id(child))
            path = f"{prefix}{child.name}"
            found.append((path, child))
            visit(child, path + "/")

    visit(model, "")
    return found


def _feature_layers(model) -> list[tuple[str, Any]]:
    """``(display name, layer)`` of the model's conv/pool layers; the plain layer name unless two clash."""
    layers = [(path, layer) for path, layer in walk_layers(model) if is_feature_layer(layer)]
    counts: dict[str, int] = {}
    for _path, layer in layers:
        counts[layer.name] = counts.get(layer.name, 0) + 1
    return [(layer.name if counts[layer.name] == 1 else path, layer) for path, layer in layers]


def conv_pool_layers(model) -> list[str]:
    """Names of the model's 2-D convolution and pooling layers, nested models included.

    Example::

        >>> conv_pool_layers(build_model(preset="course-cnn"))      # doctest: +SKIP
        ['conv2d', 'max_pooling2d', 'conv2d_1', 'max_pooling2d_1', 'conv2d_2', 'max_pooling2d_2']
    """
    return [name for name, _ in _feature_layers(model)]


def model_label(model) -> str:
    """``'cnn'``: the model's name in quotes, for messages."""
    return f"'{getattr(model, 'name', type(model).__name__)}'"


def check_layers(model, names: str | Iterable[str] | None = None) -> list[str]:
    """The conv/pool layer names to show: all of them, or ``names`` (a list, one name, or names
    separated by commas) checked against them.

    Raises ``NNUsageError`` when the model has no conv/pool layer or a name is unknown.

    Example::

        >>> check_layers(cnn, "conv2d_1")                             # doctest: +SKIP
        ['conv2d_1']
        >>> check_layers(cnn, "conv2d, max_pooling2d_2")              # doctest: +SKIP
        ['conv2d', 'max_pooling2d_2']
    """
    available = conv_pool_layers(model)
    if not available:
        raise NNUsageError(
            _("Model {model} has no convolution or pooling layer, so it has no feature maps; "
              "use --feature-maps with a CNN such as %nn_build cnn --preset course-cnn.").format(model=model_label(model))
        )
    if names is None:
        return available
    if isinstance(names, str):
        wanted = [names] if names in available else [n.strip() for n in names.split(",") if n.strip()]
    else:
        wanted = list(names)
    for name in wanted:
        if name not in available:
            raise NNUsageError(
                _("Model {model} has no convolution or pooling layer named '{layer}'; choose one of: {choices}.").format(
                    model=model_label(model), layer=name, choices=", ".join(available))
            )
    return wanted


# ----------------------------------------------------------------------------- the image
def _as_batch(image: Any) -> np.ndarray:
    array = np.asarray(image, dtype="float32")
    if array.ndim == 3:
        array = array[None]
    if array.ndim != 4 or array.shape[0] != 1:
        raise NNUsageError(
            _("Feature maps need one image of shape (height, width, channels), not an array of shape {shape}.").format(
                shape=array.shape)
        )
    return array


def _check_image_fits(model, batch: np.ndarray) -> None:
    expected, got = model_input_shape(model), batch.shape[1:]
    if not shape_fits(expected, got):
        shown = "×".join("?" if e is None else str(e) for e in expected)
        raise NNUsageError(
            _("The image is {size} but model {model} expects {expected}; resize it (give a file path or DATA[i], "
              "which are resized for you).").format(size="×".join(map(str, got)), model=model_label(model),
                                                    expected=shown)
        )


# ----------------------------------------------------------------------------- the pass
def _to_hwc(outputs, layer) -> np.ndarray | None:
    from ..runtime.backend import to_numpy

    try:   # through keras.ops: a torch tensor that requires grad, a JAX array, a TensorFlow tensor
        array = np.asarray(to_numpy(outputs), dtype="float32")
    except (TypeError, ValueError, RuntimeError):
        return None
    if array.ndim != 4:
        return None
    array = array[0]
    if getattr(layer, "data_format", "channels_last") == "channels_first":
        array = np.transpose(array, (1, 2, 0))
    return array


def feature_maps(model, image: Any, layers: str | Sequence[str] | None = None) -> "OrderedDict[str, np.ndarray]":
    """Every conv and pool layer's output for one image: an ordered dict name → ``H×W×C`` array.

    ``image`` is an ``(h, w, 3)`` array of raw pixels (0–255: the model rescales them itself)
    or a file path (resized to the model's input size). ``layers`` restricts the result to
    some layer names. Works for Functional, Sequential (with or without ``Input``), subclass
    and nested models (a VGG16 base inside a transfer model); the order is the order in which
    the model runs its layers.

    Example::

        >>> maps = feature_maps(cnn, val.load_image(0))               # doctest: +SKIP
        >>> {name: m.shape for name, m in maps.items()}               # doctest: +SKIP
        {'conv2d': (148, 148, 16), 'max_pooling2d': (74, 74, 16), ...}
    """
    wanted = check_layers(model, layers)
    if isinstance(image, (str, os.PathLike)):
        from ..data.pixels import read_image

        image = read_image(image, model_image_size(model)).astype("float32")
    batch = _as_batch(image)
    _check_image_fits(model, batch)
    warn_pixel_scale(model, batch)   # data rescaled twice, or never: one line, once
    store: dict[str, np.ndarray | None] = {}
    layers_found = _feature_layers(model)
    with progress_bar(len(layers_found), _("Feature maps of {model}").format(model=model_label(model)),
                      unit="layer") as bar:

        def keep(name: str, layer) -> Callable[[Any], Any]:
            def hook(outputs):
                store[name] = _to_hwc(outputs, layer)
                if bar is not None:
                    bar.update()
                return outputs
            return hook

        with tapping((layer, keep(name, layer)) for name, layer in layers_found):
            _forward(model, batch)
    return OrderedDict((name, array) for name, array in store.items() if name in wanted and array is not None)


def _forward(model, batch: np.ndarray) -> None:
    """Run the model once on ``batch``; Keras/TensorFlow errors become one clear UsageError."""
    try:
        model(batch, training=False)
    except NNUsageError:
        raise
    except Exception as exc:  # TF raises InvalidArgumentError, ValueError… for an image that does not fit
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise NNUsageError(
            _("Model {model} could not run on an image of shape {shape} ({reason}); give an image of the size it was "
              "built for.").format(model=model_label(model), shape=batch.shape[1:], reason=reason[:200])
        ) from None


# ----------------------------------------------------------------------------- the course's normalisation
def normalise_map(channel: np.ndarray) -> np.ndarray:
    """One channel as the course shows it: subtract the mean, divide by the std (if not 0), ×64 +128,
    clip to 0–255, ``uint8``.

    Example::

        >>> normalise_map(np.array([[0.0, 1.0], [2.0, 3.0]]))
        array([[ 42,  99],
               [156, 213]], dtype=uint8)
    """
    x = np.asarray(channel, dtype="float64")
    x = x - x.mean()
    std = x.std()
    if std > 0:
        x = x / std
    return np.clip(x * 64 + 128, 0, 255).astype("uint8")


def normalise_maps(maps: np.ndarray) -> np.ndarray:
    """``normalise_map`` applied to every channel of an ``H×W×C`` array at once (``uint8`` ``H×W×C``).

    Example::

        >>> normalise_maps(np.dstack([np.eye(2), np.ones((2, 2))]))[..., 1].tolist()
        [[128, 128], [128, 128]]
    """
    x = np.asarray(maps, dtype="float32")
    x = x - x.mean(axis=(0, 1), keepdims=True)
    std = x.std(axis=(0, 1), keepdims=True)
    x = x / np.where(std > 0, std, 1.0)
    return np.clip(x * 64 + 128, 0, 255).astype("uint8")


__all__ = ["feature_maps", "conv_pool_layers", "check_layers", "is_feature_layer", "is_convolution", "is_pooling",
           "walk_layers",
           "normalise_map", "normalise_maps"]
