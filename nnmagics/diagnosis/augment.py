"""``--augment-preview``: one image of a dataset under several draws of the course's augmentation."""
from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import NNUsageError
from ..i18n import _


def dataset_image(spec: Any, what: str) -> tuple[Any, int]:
    """``ImageData`` or ``(ImageData, i)`` → ``(data, i)``; a table or anything else is a UsageError.

    Example::

        >>> dataset_image((train, 3), "--augment-preview")            # doctest: +SKIP
        (ImageData 'train' …, 3)
    """
    data, index = (spec if isinstance(spec, tuple) else (spec, 0))
    if not hasattr(data, "load_image"):
        if getattr(data, "kind", None) == "table":
            raise NNUsageError(_("{what} needs an image dataset (an image folder loaded with %nn_data), not a table.").format(
                what=what))
        word = type(data).__name__
        article = "an" if word[:1].lower() in "aeiou" else "a"   # English grammar: French leaves it out
        raise NNUsageError(_("{what} needs an image dataset (an image folder loaded with %nn_data), not {article} "
                             "{type}.").format(what=what, article=article, type=word))
    return data, int(index)


def augment_preview(data: Any, index: int = 0, n: int = 8, seed: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """One image of ``data`` and ``n`` random draws of the course's augmentation (``make_augmentation``).

    ``data`` may also be ``(ImageData, i)``. Returns ``(original h×w×3, draws n×h×w×3)``, uint8.

    Example::

        >>> original, draws = augment_preview(train, index=0, n=8)    # doctest: +SKIP
        >>> draws.shape                                               # doctest: +SKIP
        (8, 150, 150, 3)
    """
    from ..model.build import make_augmentation
    from ..runtime.backend import to_numpy

    if isinstance(data, tuple):
        data, index = data
    data, index = dataset_image((data, index), "--augment-preview")
    image = np.round(data.load_image(index) / np.float32(getattr(data, "rescale", None) or 1))  # 0–255 if rescaled
    augment = make_augmentation(seed)
    batch = np.repeat(image[None], int(n), axis=0)
    draws = np.asarray(to_numpy(augment(batch, training=True)))   # a TF/JAX array or a torch tensor
    return np.clip(image, 0, 255).astype("uint8"), np.clip(np.round(draws), 0, 255).astype("uint8")


__all__ = ["augment_preview", "dataset_image"]
