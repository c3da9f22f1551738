"""Which augmentation a fit uses: ``%nn_train --augment`` (the course's) wins, else the dataset's own.

A dataset loaded with ``%nn_data cats DIR --augment [PARAMS] --seed N`` augments its training
batches (``data.image_augment``); ``train(model, cats)`` then augments as it does (its parameters,
its seed when ``train`` has none), in the ``tf.data`` pipeline on a CPU or in the training step on
a GPU/TPU, exactly like ``--augment``. ``%nn_train --augment [PARAMS]`` (the course's parameters, or
``ImageDataGenerator`` keywords as ``%nn_data --augment`` takes them) wins over the dataset's.

Example::

    options, params, seed = training_augmentation(cnn, cats, options, "cnn", "cats")
    params.code()          # "ImageDataGenerator(rotation_range=20, ...)" from %nn_data's --augment
"""
from __future__ import annotations

from dataclasses import replace
from typing import Any

from ..errors import NNUsageError
from ..i18n import _
from .options import FitOptions, _has_augmentation


def training_augmentation(model, data, options: FitOptions, model_name: str, data_name: str,
                          requested: Any = None) -> tuple[FitOptions, Any, int | None]:
    """``(options, AugmentParams or None, seed)``: what augments this fit's training images.

    ``options.augment`` (``--augment``): ``requested``'s parameters (``True``/empty: the course's; a
    string of ``ImageDataGenerator`` keywords, a dict or an ``AugmentParams``) and ``options.seed``. Otherwise a
    dataset that augments (``%nn_data --augment``) gives its parameters and its seed (``options.seed``
    first), and ``options`` comes back with ``augment=True`` (the feature cache and the placement read it).

    Example::

        >>> training_augmentation(cnn, cats, FitOptions.parse(), "cnn", "cats")[1]   # doctest: +SKIP
        AugmentParams(rotation_range=40.0, ...)
    """
    from ..data.augment_fused import COURSE_PARAMS

    if options.augment:
        return options, augment_params(requested), options.seed
    params = getattr(data, "augmentation", None) if getattr(data, "kind", None) == "images" else None
    if params is None:
        return options, None, options.seed
    if _has_augmentation(model):
        raise NNUsageError(_("'{data}' augments its images (%nn_data --augment) and model '{model}' already "
                             "contains augmentation layers; load '{data}' without --augment or build the model "
                             "without 'augment'.").format(data=data_name, model=model_name))
    seed = options.seed if options.seed is not None else getattr(data, "augment_seed", None)
    return replace(options, augment=True), params, seed


def augment_params(requested: Any):
    """``train(augment=...)``'s value as ``AugmentParams``: ``True``, ``None`` or ``""`` → the course's;
    ``"rotation_range=20, …"`` → parsed and checked as ``%nn_data --augment``'s; a dict or ``AugmentParams``.

    Example::

        >>> augment_params("rotation_range=20").rotation_range
        20.0
    """
    from ..data.augment_args import parse_augment
    from ..data.augment_fused import COURSE_PARAMS, AugmentParams

    if isinstance(requested, AugmentParams):
        return requested
    if isinstance(requested, dict):
        return parse_augment(", ".join(f"{k}={v!r}" for k, v in requested.items()))
    if requested is None or requested is True or requested == "":
        return COURSE_PARAMS
    return parse_augment(str(requested))
