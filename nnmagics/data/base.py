"""What every nnmagics dataset offers, whatever it was loaded from.

Two kinds exist: ``TableData`` (features and encoded labels held in memory) and
``ImageData`` (a folder of class sub-folders read through ``tf.data``). Training,
diagnosis and transfer code only rely on the members listed here.
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np

CLASS_MODES = ("binary", "categorical", "int")


def default_class_mode(num_classes: int) -> str:
    """'binary' for two classes (one sigmoid unit), 'int' otherwise (softmax, sparse labels)."""
    return "binary" if num_classes == 2 else "int"


def encode_labels(labels: np.ndarray, num_classes: int, class_mode: str) -> np.ndarray:
    """Integer labels → the targets Keras expects for ``class_mode``."""
    labels = np.asarray(labels)
    if class_mode == "binary":
        return labels.astype("float32")
    if class_mode == "categorical":
        return np.eye(num_classes, dtype="float32")[labels]
    return labels.astype("int32")


class Dataset:
    """Base of the dataset objects stored by ``%nn_data``.

    Members every subclass provides:

    - ``kind``: ``'table'`` or ``'images'``
    - ``classes``: class names, index = encoded label
    - ``labels``: integer label of every sample, in the fixed (file/row) order
    - ``input_shape``: shape of one sample, e.g. ``(2,)`` or ``(150, 150, 3)``
    - ``class_mode``: how labels are fed to Keras (``binary``/``categorical``/``int``)
    - ``batch_size``: default batch size
    - ``len(data)``: number of samples
    - ``as_tf_dataset(...)``: a batched ``tf.data.Dataset`` of ``(x, y)``
    """

    kind = "base"
    classes: list[str]
    labels: np.ndarray
    class_mode: str
    batch_size: int
    name: str | None = None

    @property
    def num_classes(self) -> int:
        """Number of classes."""
        return len(self.classes)

    @property
    def input_shape(self) -> tuple[int, ...]:  # pragma: no cover - overridden
        raise NotImplementedError

    def __len__(self) -> int:
        return int(len(self.labels))

    def class_counts(self) -> dict[str, int]:
        """Number of samples per class name."""
        counts = np.bincount(np.asarray(self.labels, dtype=int), minlength=self.num_classes)
        return {c: int(n) for c, n in zip(self.classes, counts)}

    def targets(self, class_mode: str | None = None) -> np.ndarray:
        """All labels encoded for Keras (``class_mode`` defaults to the dataset's)."""
        return encode_labels(self.labels, self.num_classes, class_mode or self.class_mode)

    def as_tf_dataset(self, *, batch_size: int | None = None, shuffle: bool = False,
                      seed: int | None = None, class_mode: str | None = None) -> Any:  # pragma: no cover
        """A batched ``tf.data.Dataset`` of ``(x, y)``; ``shuffle=False`` keeps the fixed order."""
        raise NotImplementedError

    def _describe_counts(self) -> str:
        return ", ".join(f"{c}: {n}" for c, n in self.class_counts().items())


def check_class_names(classes: Sequence[str]) -> list[str]:
    """Class names as plain strings (for display and for mapping tables)."""
    return [str(c) for c in classes]
