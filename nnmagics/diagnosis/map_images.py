"""The images a report shows feature maps for, and their maps, computed once per image.

A ``FeatureMapSet`` is what a ``DiagnosisReport`` carries for ``--feature-maps``: the model, the
images (a dataset browsed by index, a list of arrays or paths, or one image), the current image
and layer, and the maps of every image asked for so far. It is data, not a display: the gallery
widget that browses it (the feature gallery) is made by the display layer.
"""
from __future__ import annotations

import os
from collections import OrderedDict
from typing import Any, Callable

import numpy as np

from ..checks import model_image_size
from ..errors import NNUsageError
from ..i18n import _, num
from .maps import check_layers, feature_maps


class FeatureMapSet:
    """The feature maps of ``model`` for the images of ``images``, computed at most once per image.

    ``images`` is an ``ImageData`` (browsed by index), a list of arrays or paths, or one image.
    ``index`` and ``layer`` say which image and layer to show first (``layer`` None: all).
    Image files are resized to ``image_size``, by default the model's input size (the file's own
    size when the model does not say). ``compute_count`` says how many forward passes were run.

    Example::

        >>> maps = FeatureMapSet(cnn, val, index=3)                  # doctest: +SKIP
        >>> maps.layer_names[:2], maps.maps()["conv2d"].shape         # doctest: +SKIP
        (['conv2d', 'max_pooling2d'], (148, 148, 16))
        >>> maps.label(3)                                             # doctest: +SKIP
        "image 3 of 'val': cat.3.jpg (cats)"
    """

    def __init__(self, model, images: Any, *, index: int = 0, layer: str | None = None,
                 image_size: tuple[int, int] | None = None,
                 compute: Callable[[np.ndarray], "OrderedDict[str, np.ndarray]"] | None = None):
        check_layers(model, layer)  # a model without conv/pool layers, or an unknown layer: UsageError now
        self.model = model
        self.data = images if hasattr(images, "load_image") and hasattr(images, "files") else None
        if self.data is None:
            if isinstance(images, (str, os.PathLike)) or (isinstance(images, np.ndarray) and images.ndim == 3):
                images = [images]
            self.items = list(images)
            if not self.items:
                raise NNUsageError(_("Give at least one image for the feature-map gallery."))
        self.size = image_size or model_image_size(model)
        n = len(self)
        if not -n <= int(index) < n:
            raise NNUsageError(_("Image index {index} is out of range; there are {n} images (0 to {last}).").format(
                index=index, n=n, last=n - 1))
        self.index = int(index) % n
        self.layer = layer
        self.compute = compute or (lambda image: feature_maps(self.model, image))
        self._maps: dict[int, OrderedDict] = {}
        self.compute_count = 0

    def __len__(self) -> int:
        return len(self.data) if self.data is not None else len(self.items)

    def image(self, index: int) -> np.ndarray:
        """Image ``index`` as ``(h, w, 3)`` float32 pixels 0–255 (files read and resized)."""
        if self.data is not None:
            return self.data.load_image(index)
        item = self.items[index]
        if isinstance(item, (str, os.PathLike)):
            from ..data.pixels import read_image

            return read_image(item, self.size).astype("float32")
        return np.asarray(item, dtype="float32")

    def label(self, index: int) -> str:
        """How image ``index`` is named: "image 3 of 'val': cat.3.jpg (cats)", a file name, or "the image"."""
        if self.data is not None:
            name = os.path.basename(self.data.files[index])
            return _("image {i} of '{data}': {file} ({cls})").format(
                i=index, data=self.data.name or 'data', file=name, cls=self.data.class_names[int(self.data.labels[index])])
        item = self.items[index]
        if isinstance(item, (str, os.PathLike)):
            return os.path.basename(os.fspath(item))
        return _("image {i}").format(i=index) if len(self) > 1 else _("the image")

    def maps(self, index: int | None = None) -> "OrderedDict[str, np.ndarray]":
        """All conv/pool maps of image ``index`` (default: the current one), computed at most once."""
        index = self.index if index is None else int(index)
        if index not in self._maps:
            self._maps[index] = self.compute(self.image(index))
            self.compute_count += 1
        return self._maps[index]

    @property
    def layer_names(self) -> list[str]:
        """The conv/pool layers, in the order the model runs them."""
        return list(self.maps().keys())

    def title(self, index: int | None = None) -> str:
        """'Feature maps of 'cnn' for image 3 of 'val': cat.3.jpg (cats)'."""
        index = self.index if index is None else int(index)
        return _("Feature maps of '{model}' for {image}").format(model=getattr(self.model, 'name', 'model'),
                                                                 image=self.label(index))

    def text(self, index: int | None = None, layer: str | None = None) -> str:
        """A plain-text summary: one line per layer with its shape and value range."""
        index = self.index if index is None else int(index)
        layer = self.layer if layer is None else layer
        maps = self.maps(index)
        if layer is not None and layer not in maps:
            raise NNUsageError(_("No feature maps for layer '{layer}'; choose one of: {choices}.").format(
                layer=layer, choices=", ".join(maps)))
        names = list(maps) if layer is None else [layer]
        width = max(len(n) for n in names)
        lines = [self.title(index) + ":"]
        for name in names:
            fmap = maps[name]
            shape = "×".join(str(d) for d in fmap.shape)
            values = _("min {low}  mean {mean}  max {high}").format(
                low=num(fmap.min(), ".3g"), mean=num(fmap.mean(), ".3g"), high=num(fmap.max(), ".3g"))
            lines.append(f"  {name:<{width}}  {shape:>12}  {values}")
        return "\n".join(lines)


def feature_map_set(model, spec: Any, data: Any = None, layer: str | None = None) -> FeatureMapSet:
    """The ``FeatureMapSet`` of a ``--feature-maps`` value: an image path, an array, an index into
    ``data``, or ``(dataset, i)``. A model that does not say its input size gets the data's size.

    Example::

        >>> feature_map_set(cnn, (val, 3)).label(3)                   # doctest: +SKIP
        "image 3 of 'val': cat.3.jpg (cats)"
    """
    images, index = spec, 0
    if isinstance(spec, tuple):
        images, index = spec
    elif isinstance(spec, (int, np.integer)) and not isinstance(spec, bool):
        if data is None:
            raise NNUsageError(_("An image index needs data to pick the image from; give DATA[i] or a file path."))
        images, index = data, int(spec)
    if hasattr(images, "kind") and not hasattr(images, "load_image"):
        name = getattr(images, "name", None) or _("the data")
        raise NNUsageError(_("Feature maps need an image, but '{name}' is a table; give an image path or "
                             "IMAGES[i].").format(name=name))
    size = None
    if model_image_size(model) is None and hasattr(data, "image_size"):
        size = tuple(data.image_size)  # a model that does not say its input size: the data's size
    return FeatureMapSet(model, images, index=index, layer=layer, image_size=size)


__all__ = ["FeatureMapSet", "feature_map_set"]
