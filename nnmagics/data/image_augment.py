"""An image dataset that augments its own training batches: ``%nn_data cats DIR --augment [PARAMS] --seed N``.

The course writes ``ImageDataGenerator(rotation_range=40, …).flow_from_directory(train_dir)`` and then
``model.fit(train_generator, epochs=…)``: the generator itself augments. ``set_augmentation`` gives an
``ImageData`` the same habit: its Keras face (``image_keras.ImageData``, a ``PyDataset``) then serves
every batch that ``fit``/``next()``/``for`` asks for through the fused transform
(``augment_fused``: one projective transform per image), applied to the ``uint8`` pixels of the
pixel store before they become float32.

- **Only training images**: the dataset's ``validation`` (the folder's ``validation/``), ``NAME_val``
  and the held-out part of ``split`` never augment; ``subset`` keeps the augmentation (a training
  subset). ``as_tf_dataset`` augments only when given ``augment=`` (``augmentation_layer(data)`` is
  the dataset's own); ``%nn_train`` uses the dataset's augmentation unless ``--augment`` is given there.
- **A new draw every epoch, repeatable**: the random numbers of batch ``i`` in epoch ``e`` come from
  ``(seed, e, i)``; the same seed gives the same pixels for the same epoch and batch, whatever order
  Keras asks for batches in. Without a seed, a random one is drawn once per dataset.

Example::

    cats = set_augmentation(cats, parse_augment("rotation_range=20"), seed=0)
    model.fit(cats, epochs=5, validation_data=cats_val)     # augmented training batches, plain validation
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ..i18n import _

_GETITEM, _NEXT = 0, 1   # the two streams of random numbers: fit's batches by index, next()/for


def set_augmentation(data, params, seed: int | None = None):
    """Make ``data`` (an image dataset) augment its training batches with ``params``; returns ``data``.

    ``params`` is an ``augment_fused.AugmentParams`` (``None`` turns the augmentation off); ``seed``
    also fixes the order of images per epoch (``data.seed``), so that a seed repeats exactly. The
    dataset's ``validation`` part is left as it is (never augmented).

    Example::

        >>> cats = set_augmentation(cats, COURSE_PARAMS, seed=0)   # doctest: +SKIP
        >>> x, y = cats[0]                                          # doctest: +SKIP
    """
    data.augmentation = params
    data.augment_seed = seed
    data.augment_key = int(seed) if seed is not None else int(np.random.SeedSequence().entropy % (2 ** 63))
    if seed is not None and hasattr(data, "_reset_batches"):
        data.seed = int(seed)
        data._reset_batches()
    return data


def augments(data) -> bool:
    """Whether ``data`` augments its own training batches (``%nn_data … --augment``).

    Example::

        >>> augments(cats), augments(cats_val)                      # doctest: +SKIP
        (True, False)
    """
    return getattr(data, "augmentation", None) is not None


def without_augmentation(data):
    """``data`` with its augmentation turned off (for a validation part); returns ``data``.

    Example::

        >>> val = without_augmentation(val)                         # doctest: +SKIP
    """
    if augments(data):
        data.augmentation = None
    return data


def batch_draws(key: int, stream: int, a: int, b: int, count: int) -> np.ndarray:
    """``(count, 8)`` uniform numbers in [0, 1) for one batch, a pure function of ``(key, stream, a, b)``.

    Example::

        >>> np.array_equal(batch_draws(0, 0, 1, 2, 4), batch_draws(0, 0, 1, 2, 4))
        True
    """
    rng = np.random.default_rng(np.random.SeedSequence([int(key), int(stream), int(a), int(b)]))
    return rng.random((int(count), 8), dtype=np.float32)


def augment_pixels(pixels: np.ndarray, draws: np.ndarray, params) -> np.ndarray:
    """``(B, h, w, 3)`` uint8 ``pixels`` through the fused transform drawn from ``draws``; uint8 out.

    Example::

        >>> out = augment_pixels(pixels, batch_draws(0, 0, 1, 0, len(pixels)), COURSE_PARAMS)  # doctest: +SKIP
    """
    if not len(pixels):
        return pixels
    import keras

    from .augment_fused import apply_transforms, random_parameters, transform_matrices

    h, w = float(pixels.shape[1]), float(pixels.shape[2])
    p = random_parameters(len(pixels), h, w, params=params, draws=draws)
    out = apply_transforms(pixels, transform_matrices(**p, height=h, width=w), params)
    return np.asarray(keras.ops.convert_to_numpy(out), dtype=pixels.dtype)


def augmented_batch(data, pixels: np.ndarray, stream: int, a: int, b: int) -> np.ndarray:
    """``pixels`` of one batch, augmented when ``data`` augments (else unchanged).

    Example::

        >>> x = augmented_batch(cats, pixels, 0, epoch, index)     # doctest: +SKIP
    """
    if not augments(data):
        return pixels
    key = getattr(data, "augment_key", None)
    if key is None:
        key = data.augment_key = int(np.random.SeedSequence().entropy % (2 ** 63))
    return augment_pixels(pixels, batch_draws(key, stream, a, b, len(pixels)), data.augmentation)


def augmentation_layer(data) -> Any:
    """The dataset's augmentation as a ``FusedAugment`` layer (seeded like it), or None: for
    ``data.as_tf_dataset(augment=augmentation_layer(data), seed=…)``.

    Example::

        >>> ds = cats.as_tf_dataset(shuffle=True, seed=0, augment=augmentation_layer(cats))   # doctest: +SKIP
    """
    if not augments(data):
        return None
    from .augment_fused import FusedAugment

    return FusedAugment(data.augmentation, seed=getattr(data, "augment_seed", None))


def describe(data) -> str | None:
    """One line saying that ``data`` augments (None when it does not), for ``%nn_data``'s output.

    Example::

        >>> describe(cats)                                          # doctest: +SKIP
        'Augments its training batches every epoch (model.fit(cats), %nn_train): ImageDataGenerator(...), seed 0.'
    """
    if not augments(data):
        return None
    seed = getattr(data, "augment_seed", None)
    name = getattr(data, "name", None) or "data"
    if seed is not None:
        sentence = _("Augments its training batches every epoch (model.fit({name}), %nn_train): {code}, seed {seed}; "
                     "validation images are not augmented.")
    else:
        sentence = _("Augments its training batches every epoch (model.fit({name}), %nn_train): {code}; "
                     "validation images are not augmented.")
    return sentence.format(name=name, code=data.augmentation.code(), seed=seed)


GETITEM_STREAM, NEXT_STREAM = _GETITEM, _NEXT

__all__ = ["set_augmentation", "augments", "without_augmentation", "batch_draws", "augment_pixels",
           "augmented_batch", "augmentation_layer", "describe"]
