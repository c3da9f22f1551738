"""ImageNet predictions with any ``keras.applications`` base: the course's recipe at the base's own size.

``imagenet_predict("dog.jpg", base="inception_v3")``: ``load_img(target_size=(299, 299))``, the base's
``preprocess_input``, ``predict``, the labels read offline (:mod:`nnmagics.transfer.imagenet_labels`, never
``decode_predictions``' download). ``base="vgg16"`` is :func:`.predict.vgg_predict` exactly.
"""
from __future__ import annotations

import os
from typing import Any

import numpy as np

from ..errors import NNUsageError
from ..i18n import _
from .bases import constructor, find_base, imagenet_weights, preprocess_function, weights_literal
from .predict import (DEFAULT_FOLDER_LIMIT, _check_top, _predict_files, course_image, expand_images, imagenet_frame,
                      vgg_predict)

_KEPT: dict[str, Any] = {}


def imagenet_network(base: Any = "vgg16", weights: Any = "imagenet", *, announce=print):
    """The whole network of ``base`` with its ImageNet top, kept for the next call (one at a time: they are large).

    Example::

        >>> imagenet_network("mobilenet_v2", "none").output_shape            # doctest: +SKIP
        (None, 1000)
    """
    b = find_base(base)
    literal, path = weights_literal(weights, b)
    key = f"{b.name}|{literal}"
    if key not in _KEPT:
        _KEPT.clear()
        try:
            with imagenet_weights(b, announce):
                _KEPT[key] = constructor(b)(weights=path if path else (None if literal == "None" else "imagenet"))
        except (ValueError, KeyError, OSError) as exc:
            if path is None:
                raise
            message = " ".join(str(exc).split())[:200]
            raise NNUsageError(_("'{file}' does not fit {base} with its ImageNet top ({message}); give Keras' "
                                 "whole-network {base} weights.").format(
                file=os.path.basename(path), base=b.cls, message=message)) from None
    return _KEPT[key]


def imagenet_predict(images: Any, *, base: Any = "vgg16", top: int = 5, weights: Any = "imagenet",
                     limit: int | None = DEFAULT_FOLDER_LIMIT, announce=print):
    """``base``'s ImageNet classes for an image (top ``top`` rows) or a folder/list (one top-1 row per image).

    The same columns and ``frame.attrs`` as :func:`.predict.vgg_predict`.

    Example::

        >>> imagenet_predict("dog.jpg", base="resnet50", top=3)             # doctest: +SKIP
    """
    b = find_base(base)
    if b.name == "vgg16":
        return vgg_predict(images, top=top, weights=weights, limit=limit, announce=announce)
    top = _check_top(top, 1000)
    files, many, total = expand_images(images, limit)
    model = imagenet_network(b, weights, announce=announce)
    preprocess = preprocess_function(b)
    kept, probs, skipped = _predict_files(
        files, lambda path: course_image(path, (b.size, b.size)),
        lambda batch: np.asarray(model.predict(preprocess(batch), verbose=0)), _("{model} predictions").format(model=b.cls))
    return imagenet_frame(kept, probs, skipped, total=total, many=many, top=top)


__all__ = ["imagenet_predict", "imagenet_network"]
