"""What ``fit`` is fed: arrays for tables, a ``tf.data`` pipeline for images (augmented, repeated when asked).

Example::

    kwargs = make_inputs(data4, class_mode="int", batch_size=32, shuffle=True, seed=0)
    model.fit(**kwargs, epochs=3)
"""
from __future__ import annotations

from typing import Any


def make_inputs(data, *, class_mode: str, batch_size: int, shuffle: bool, seed: int | None,
                augment: bool = False, repeat: bool = False) -> dict[str, Any]:
    """Keyword arguments for ``fit``: ``x``/``y`` arrays for tables, an ``x`` pipeline for images."""
    if data.kind == "table" and not repeat:
        return {"x": data.X, "y": data.targets(class_mode), "batch_size": batch_size, "shuffle": shuffle}
    kwargs: dict[str, Any] = {"batch_size": batch_size, "shuffle": shuffle, "seed": seed, "class_mode": class_mode}
    if data.kind == "images" and augment:
        from ..build import make_augmentation

        kwargs["augment"] = make_augmentation(seed)
    ds = data.as_tf_dataset(**kwargs)
    if repeat:
        ds = ds.repeat()
    return {"x": ds, "shuffle": False}  # the pipeline shuffles itself


def validation_inputs(data, *, class_mode: str, batch_size: int, repeat: bool = False):
    """``validation_data`` for ``fit``: ``(x, y)`` arrays for tables, a pipeline for images (None without data).

    Example::

        model.fit(**make_inputs(...), validation_data=validation_inputs(val, class_mode="int", batch_size=32))
    """
    if data is None:
        return None
    inputs = make_inputs(data, class_mode=class_mode, batch_size=batch_size, shuffle=False, seed=None, repeat=repeat)
    return (inputs["x"], inputs["y"]) if "y" in inputs else inputs["x"]
