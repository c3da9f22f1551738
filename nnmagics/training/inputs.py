"""What ``fit`` is fed: arrays for tables, a pipeline for images (augmented, repeated when asked): ``tf.data``
on TensorFlow, numpy batches (``data/batches.py``) on JAX and PyTorch (``Dataset.batches``).

On a GPU/TPU the pipeline serves the cached **uint8** pixels as they are (a quarter of float32's
bytes to the device, measured 1.2–1.7× faster there) and the model that trains starts with a uint8
input, the course augmentation when asked and the cast (``augment_fused.training_model``): the CPU
only batches. Without an accelerator the pipeline casts to float32 and augments on the CPU.

Example::

    kwargs = make_inputs(data4, class_mode="int", batch_size=32, shuffle=True, seed=0)
    model.fit(**kwargs, epochs=3)
"""
from __future__ import annotations

from typing import Any, NamedTuple

from ..i18n import _


class Feed(NamedTuple):
    """How images reach the model: ``pixels`` served by the pipeline and where ``--augment`` runs."""

    pixels: str            # "uint8": cast on the device (GPU/TPU); "float32": cast in the pipeline (CPU)
    augment: Any = None    # an ``augment_fused.Placement``, or None without --augment

    @property
    def on_device(self) -> bool:
        """True when the model that trains starts with a uint8 input (``augment_fused.training_model``)."""
        return self.pixels == "uint8"


def input_feed(where, data, *, augment: bool) -> Feed:
    """How ``data`` is fed, from the device rule ``where`` (``augment_fused.placement`` of the devices).

    One rule for both: with a GPU or TPU (``where.where == "model"``) uint8 batches go to the device
    and the fused augmentation runs in the training step; otherwise the pipeline casts to float32 and
    augments on the CPU. Tables are always fed as they are.

    Example::

        input_feed(placement(["GPU:0", "CPU:0"]), cats, augment=True)
        # Feed(pixels='uint8', augment=Placement(where='model', ...))
    """
    images = getattr(data, "kind", None) == "images"
    if images and where.where == "model" and getattr(data, "rescale", None) is not None:
        # rescaled pixels (--rescale) are floats: they cannot travel as uint8, and the augmentation stays with them
        from ..data.augment_fused import Placement

        where = Placement("pipeline", _("pixels rescaled by the dataset (--rescale): augmentation in the input "
                                        "pipeline on the CPU, float32 batches to the device"))
    pixels = "uint8" if images and where.where == "model" else "float32"
    return Feed(pixels, where if augment and images else None)


def make_inputs(data, *, class_mode: str, batch_size: int, shuffle: bool, seed: int | None,
                augment: Any = False, repeat: bool = False, pixels: str = "float32") -> dict[str, Any]:
    """Keyword arguments for ``fit``: ``x``/``y`` arrays for tables, an ``x`` pipeline for images.

    ``augment``: the fused augmentation in the pipeline (CPU): True for the course's, or the
    ``AugmentParams`` of a dataset loaded with ``%nn_data --augment``; ``pixels="uint8"`` serves the
    images uncast, for a model with a uint8 input.

    Example::

        make_inputs(cats, class_mode="binary", batch_size=20, shuffle=True, seed=0, pixels="uint8")["x"]
    """
    if data.kind == "table" and not repeat:
        return {"x": data.X, "y": data.targets(class_mode), "batch_size": batch_size, "shuffle": shuffle}
    kwargs: dict[str, Any] = {"batch_size": batch_size, "shuffle": shuffle, "seed": seed, "class_mode": class_mode}
    if data.kind == "images" and augment:
        from ..data.augment_fused import COURSE_PARAMS, FusedAugment
        from ..model.build import make_augmentation

        course = augment is True or augment == COURSE_PARAMS   # the layer table's row, as --code prints it
        kwargs["augment"] = make_augmentation(seed) if course else FusedAugment(augment, seed=seed)
    if data.kind == "images" and pixels != "float32":
        kwargs["dtype"] = pixels
    return {"x": data.batches(**kwargs, repeat=repeat), "shuffle": False}  # the pipeline shuffles itself


def validation_inputs(data, *, class_mode: str, batch_size: int, repeat: bool = False, pixels: str = "float32",
                      steps: int | None = None):
    """``validation_data`` for ``fit``: ``(x, y)`` arrays for tables, a pipeline for images (None without data).

    ``steps`` (``validation_steps``, for ``data`` of that many batches: ``val_subset.plan_validation``):
    a finite pipeline in ``data``'s order, tables too, so that each validation ends after those batches
    even when Keras runs several steps per call (a repeated one would count some batches twice).

    Example::

        model.fit(**make_inputs(...), validation_data=validation_inputs(val, class_mode="int", batch_size=32))
    """
    if data is None:
        return None
    if steps is not None:
        kwargs = {"dtype": pixels} if data.kind == "images" and pixels != "float32" else {}
        return data.batches(batch_size=batch_size, shuffle=False, class_mode=class_mode, **kwargs)
    inputs = make_inputs(data, class_mode=class_mode, batch_size=batch_size, shuffle=False, seed=None, repeat=repeat,
                         pixels=pixels)
    return (inputs["x"], inputs["y"]) if "y" in inputs else inputs["x"]
