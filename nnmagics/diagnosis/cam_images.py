"""The images a Grad-CAM explains: a dataset's slice (true classes, file names), arrays of pixels or files.

``cam_images(model, images)`` turns what ``gradcam`` is given into a ``CamImages``: the model's inputs
(× the dataset's rescale), the pixels shown, the true classes and captions (``cats/cat.3.jpg``).

Example::

    cam_images(cnn, (cats_val, slice(0, 8))).source      # "images 0 to 7 of 'cats_val'"
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..checks import model_image_size
from ..errors import NNUsageError
from ..i18n import _, num

MAX_IMAGES = 32      # a grid stays readable, a CPU pass stays short
DEFAULT_COUNT = 8    # a dataset given alone: its first 8 images


@dataclass
class CamImages:
    """What Grad-CAM explains: the model's inputs, the pixels shown, the true classes and captions."""

    inputs: np.ndarray                  # n × h × w × 3 float32: what the model gets (× the data's rescale)
    shown: np.ndarray                   # n × h × w × 3 uint8: what the picture shows
    true: np.ndarray | None = None      # the true class of each image (image data only)
    captions: list[str] = field(default_factory=list)
    class_names: list[str] | None = None
    indices: list[int] | None = None    # the images' indices in ``data``
    data: Any = None
    source: str = "the images"


def _indices(data, which: Any) -> list[int]:
    n = len(data)
    if which is None:
        return list(range(min(DEFAULT_COUNT, n)))
    if isinstance(which, slice):
        return list(range(n))[which]
    if isinstance(which, (int, np.integer)) and not isinstance(which, bool):
        from ..data.refs import check_index

        return [check_index(data, int(which), getattr(data, "name", None) or "data")]
    return [int(i) for i in which]


def _source(data, indices: list[int]) -> str:
    name = getattr(data, 'name', None) or 'data'
    if len(indices) == 1:
        return _("image {i} of '{data}'").format(i=indices[0], data=name)
    if indices == list(range(indices[0], indices[-1] + 1)):
        return _("images {first} to {last} of '{data}'").format(first=indices[0], last=indices[-1], data=name)
    return _("{n} images of '{data}'").format(n=len(indices), data=name)


def _from_data(data, which: Any) -> CamImages:
    if getattr(data, "kind", None) == "table" or not hasattr(data, "load_image"):
        name = getattr(data, "name", None) or "the data"
        raise NNUsageError(_("Grad-CAM needs images, but '{name}' is a table; give an image dataset, e.g. "
                             "cats_val[0:8].").format(name=name))
    indices = _indices(data, which)
    _check_count(len(indices), getattr(data, "name", None) or "data")
    inputs = np.stack([data.load_image(i) for i in indices]).astype("float32")
    rescale = getattr(data, "rescale", None)
    shown = inputs / np.float32(rescale) if rescale else inputs
    captions = [_caption(data, i) for i in indices]
    true = np.asarray(data.labels, dtype="int64")[indices]
    return CamImages(inputs, np.clip(shown, 0, 255).round().astype("uint8"), true, captions, list(data.class_names),
                     indices, data, _source(data, indices))


def _caption(data, i: int) -> str:
    """``cats/cat.3.jpg``: the file within the dataset's folder (the class folder tells cats/0.png from dogs/0.png)."""
    from ..data.filenames import printable

    path, root = data.files[i], getattr(data, "root", None)
    inside = root and os.path.abspath(path).startswith(os.path.abspath(root) + os.sep)
    return printable(os.path.relpath(path, root) if inside else os.path.basename(path))


def _check_count(n: int, name: str) -> None:
    if n == 0:
        raise NNUsageError(_("No image to explain: the slice of '{name}' is empty; give one such as "
                             "{name}[0:8].").format(name=name))
    if n > MAX_IMAGES:
        raise NNUsageError(_("Grad-CAM shows at most {most} images at once, not {n}; give a shorter slice such as "
                             "{name}[0:8].").format(most=MAX_IMAGES, n=num(n, ","), name=name))


def cam_images(model, images: Any) -> CamImages:
    """The images of a Grad-CAM request: ``(dataset, slice|index|indices)``, a dataset (its first 8
    images), an ``h×w×3`` or ``n×h×w×3`` array of pixels, a file path, or a list of arrays/paths.

    Example::

        >>> cam_images(cnn, (cats_val, slice(0, 8))).source       # doctest: +SKIP
        "images 0 to 7 of 'cats_val'"
    """
    if isinstance(images, (int, np.integer, slice)) and not isinstance(images, bool):
        raise NNUsageError(_("An image index needs data to pick the images from; give DATA[a:b], e.g. cats_val[0:8]."))
    if isinstance(images, tuple) and len(images) == 2 and hasattr(images[0], "labels"):
        return _from_data(*images)
    if hasattr(images, "labels") and hasattr(images, "class_names"):
        return _from_data(images, None)
    if isinstance(images, (str, os.PathLike)) or (isinstance(images, np.ndarray) and images.ndim == 3):
        images = [images]
    items = list(images) if not isinstance(images, np.ndarray) else list(images.astype("float32"))
    _check_count(len(items), _("the images"))
    pixels, captions = [], []
    for i, item in enumerate(items):
        if isinstance(item, (str, os.PathLike)):
            from ..data.pixels import read_image

            pixels.append(read_image(item, model_image_size(model)).astype("float32"))
            captions.append(os.path.basename(os.fspath(item)))
        else:
            pixels.append(np.asarray(item, dtype="float32"))
            captions.append(_("image {i}").format(i=i))
    shapes = {p.shape for p in pixels}
    if len(shapes) != 1 or len(next(iter(shapes))) != 3:
        raise NNUsageError(_("Grad-CAM needs images of one size, each (height, width, channels); give files "
                             "(resized for you) or DATA[a:b]."))
    inputs = np.stack(pixels)
    return CamImages(inputs, np.clip(inputs, 0, 255).round().astype("uint8"), captions=captions,
                     source=_("the image") if len(items) == 1 else _("{n} images").format(n=len(items)))


__all__ = ["CamImages", "cam_images", "MAX_IMAGES", "DEFAULT_COUNT"]
