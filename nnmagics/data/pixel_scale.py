"""Pixels rescaled twice, or never: one sentence, once per (model, data) pair.

nnmagics' image models start with ``Rescaling(1/255)``; the course rescales the data
(``ImageDataGenerator(rescale=1./255)``, ``x /= 255``). Mixed, a CNN sees pixels in 0–1/255 and
learns nothing (0.50 instead of 1.00), or sees 0–255 where it expects 0–1. This module compares
what the data holds with what the model's first layers do:

- the data: an ``ImageData`` (raw 0–255, or × ``rescale``) or one image/batch as an array;
- the model: the layers it runs before its first layer with weights — a ``Rescaling`` that divides
  by ~255 or VGG16's ``preprocess_input`` layer wants raw pixels; none at all wants 0–1 pixels;
  any other layer (``Normalization``, ``Lambda``…) is not guessed at.

``pixel_scale_notes`` gives the sentence to training (a hint line in the panel and the text log);
``warn_pixel_scale`` warns (``PixelScaleWarning``, one line) where a model meets an image. Pure
Python and NumPy: Keras objects are only read.
"""
from __future__ import annotations

import weakref
from typing import Any

import numpy as np

from ..errors import warn_line
from ..i18n import _

# layers that move pixels around without changing their scale (augmentation, resizing, shape)
_NEUTRAL = ("InputLayer", "Resizing", "CenterCrop", "RandomCrop", "RandomFlip", "RandomRotation", "RandomTranslation",
            "RandomZoom", "RandomShear", "RandomContrast", "RandomBrightness", "FusedAugment", "Cropping2D",
            "ZeroPadding2D", "Reshape", "Permute", "Dropout", "SpatialDropout2D", "GaussianNoise", "Activation")
_RAW_PREPROCESS = ("VGG16Preprocess",)
_PRETRAINED_FIRST = ("block1_conv1",)    # the first layer of VGG16/VGG19 from keras.applications   # VGG16's preprocess_input inside the model: it wants 0–255

_warned: "weakref.WeakKeyDictionary[Any, set]" = weakref.WeakKeyDictionary()
_warned_ids: dict[int, set] = {}   # models that cannot be weakly referenced


class PixelScaleWarning(UserWarning):
    """Data and model disagree on the pixel scale (rescaled twice, or never)."""


def model_pixel_scale(model: Any) -> str | None:
    """``'raw'`` (the model rescales 0–255 pixels itself), ``'unit'`` (it expects 0–1 pixels) or None (unknown).

    Example::

        >>> model_pixel_scale(keras.Sequential([layers.Rescaling(1/255), layers.Conv2D(8, 3)]))  # doctest: +SKIP
        'raw'
    """
    for layer in _first_layers(model):
        kind = type(layer).__name__
        if kind == "Rescaling":
            scale = np.asarray(getattr(layer, "scale", 1.0), dtype="float64")
            return "raw" if scale.size and float(scale.max()) * 255 <= 1.5 else None
        if kind in _RAW_PREPROCESS:
            return "raw"
        if kind in _NEUTRAL or kind.startswith("Random"):
            continue
        if getattr(layer, "name", "") in _PRETRAINED_FIRST:
            return None  # a keras.applications base: it wants its own preprocess_input, not a scale we can judge
        # a layer with weights sees the pixels as they come; a normalisation layer makes any scale fit
        return "unit" if getattr(layer, "weights", None) and "Normalization" not in kind else None
    return None


def _first_layers(model: Any):
    """The model's layers in order, nested models (Sequential blocks, a VGG16 base) opened."""
    for layer in getattr(model, "layers", None) or []:
        if getattr(layer, "layers", None) and type(layer).__name__ in ("Sequential", "Functional", "Model"):
            yield from _first_layers(layer)
        else:
            yield layer


def data_pixel_scale(data: Any) -> str | None:
    """``'raw'`` (0–255), ``'unit'`` (0–1) or None (not pixels, or cannot tell) for a dataset or an image array.

    Example::

        >>> data_pixel_scale(np.full((150, 150, 3), 0.5))
        'unit'
    """
    if getattr(data, "kind", None) == "images":
        rescale = getattr(data, "rescale", None)
        top = 255.0 * (1.0 if rescale is None else float(rescale))
        return "raw" if top > 100 else "unit" if top <= 1.5 else None
    if getattr(data, "kind", None) is not None or isinstance(data, (str, bytes)):
        return None
    try:
        array = np.asarray(data, dtype="float32")
    except (TypeError, ValueError):
        return None
    if array.ndim < 3 or array.shape[-1] not in (1, 3) or not array.size:
        return None
    low, high = float(np.nanmin(array)), float(np.nanmax(array))
    if low < 0:
        return None
    return "unit" if 0 < high <= 1.0 else "raw" if high > 2.0 else None


def scale_mismatch(model: Any, data: Any, model_name: str | None = None, data_name: str | None = None) -> str | None:
    """The sentence saying how to fix a pixel-scale mismatch between ``model`` and ``data``, else None.

    Example::

        >>> scale_mismatch(cnn, cats_rescaled)                        # doctest: +SKIP
        "The pixels of 'cats' are already rescaled to 0–1 but model 'cnn' rescales them again ..."
    """
    wants, has = model_pixel_scale(model), data_pixel_scale(data)
    if wants is None or has is None or wants == has:
        return None
    model_label = model_name or getattr(model, 'name', 'model')
    name = data_name or (getattr(data, "name", None) if getattr(data, "kind", None) else None)
    if has == "unit":
        if name:
            sentence = _("The pixels of '{data}' are already rescaled to 0–1 but model '{model}' rescales them again "
                         "(a Rescaling(1/255) or preprocessing layer first), so it sees nearly black images: load the "
                         "data without --rescale (raw 0–255 pixels) or build the model without its rescale layer.")
        else:
            sentence = _("The image's pixels are already rescaled to 0–1 but model '{model}' rescales them again "
                         "(a Rescaling(1/255) or preprocessing layer first), so it sees nearly black images: load the "
                         "data without --rescale (raw 0–255 pixels) or build the model without its rescale layer.")
    elif name:
        sentence = _("The pixels of '{data}' are raw 0–255 values but model '{model}' does not rescale them: load the "
                     "data with --rescale 1/255 (ImageDataGenerator(rescale=1./255)) or start the model with a rescale "
                     "layer (layers.Rescaling(1/255)).")
    else:
        sentence = _("The image's pixels are raw 0–255 values but model '{model}' does not rescale them: load the "
                     "data with --rescale 1/255 (ImageDataGenerator(rescale=1./255)) or start the model with a rescale "
                     "layer (layers.Rescaling(1/255)).")
    return sentence.format(data=name, model=model_label)


def _first_time(model: Any, data: Any, sentence: str) -> bool:
    """True the first time this (model, data) pair gets ``sentence``."""
    key = (getattr(data, "root", None), getattr(data, "name", None), getattr(data, "rescale", None), sentence) \
        if getattr(data, "kind", None) else ("image", sentence)
    try:
        seen = _warned.setdefault(model, set())
    except TypeError:
        seen = _warned_ids.setdefault(id(model), set())
    if key in seen:
        return False
    seen.add(key)
    return True


def pixel_scale_notes(model: Any, data: Any, model_name: str | None = None, data_name: str | None = None) -> list[str]:
    """``[sentence]`` the first time ``model`` meets ``data`` with the wrong pixel scale, else ``[]`` (training's hints).

    Example::

        >>> notes += pixel_scale_notes(model, train_data)             # doctest: +SKIP
    """
    sentence = scale_mismatch(model, data, model_name, data_name)
    return [sentence] if sentence and _first_time(model, data, sentence) else []


def warn_pixel_scale(model: Any, data: Any, model_name: str | None = None, data_name: str | None = None) -> str | None:
    """Warn (``PixelScaleWarning``, one line) the first time ``model`` meets ``data`` with the wrong pixel scale.

    Returns the sentence when it warned. Example::

        >>> warn_pixel_scale(cnn, val.load_image(0))                  # doctest: +SKIP
    """
    notes = pixel_scale_notes(model, data, model_name, data_name)
    if not notes:
        return None
    warn_line(notes[0], PixelScaleWarning)
    return notes[0]


__all__ = ["PixelScaleWarning", "model_pixel_scale", "data_pixel_scale", "scale_mismatch", "pixel_scale_notes",
           "warn_pixel_scale"]
