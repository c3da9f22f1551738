"""What every nnmagics dataset offers, whatever it was loaded from.

Two kinds exist: ``TableData`` (features and encoded labels held in memory) and
``ImageData`` (a folder of class sub-folders, its pixels decoded once into memory), fed to Keras
as ``tf.data`` on TensorFlow and as numpy batches on JAX and PyTorch (``batches``). Training,
diagnosis and transfer code only rely on the members listed here.
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..errors import NNUsageError
from ..i18n import _, num

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
    - ``class_names``: class names, index = encoded label (as ``keras.utils.image_dataset_from_directory``)
    - ``class_indices``: ``{name: index}`` (as Keras' ``DirectoryIterator``)
    - ``classes``: integer label of every sample, in the fixed (file/row) order, as
      ``DirectoryIterator.classes`` (``labels`` is the same array)
    - ``input_shape``: shape of one sample, e.g. ``(2,)`` or ``(150, 150, 3)``
    - ``class_mode``: how labels are fed to Keras (``binary``/``categorical``/``int``)
    - ``batch_size``: default batch size
    - ``len(data)``: number of samples
    - ``as_tf_dataset(...)``: a batched ``tf.data.Dataset`` of ``(x, y)`` (TensorFlow installed)
    - ``batches(...)``: what ``fit`` takes on the backend in use (``tf.data`` or numpy batches)
    - ``subset(index)``: the samples at ``index`` as a dataset of the same kind
    - ``split(fraction, seed)``: ``(train, validation)`` parts, stratified by class
    """

    kind = "base"
    class_names: list[str]
    labels: np.ndarray
    class_mode: str
    batch_size: int
    name: str | None = None

    @property
    def num_classes(self) -> int:
        """Number of classes."""
        return len(self.class_names)

    @property
    def classes(self) -> np.ndarray:
        """One integer label per sample, in the fixed order: ``DirectoryIterator.classes``.

        Example::

            >>> confusion_matrix(cats_val.classes, model.predict(cats_val).ravel() > 0.5)  # doctest: +SKIP
        """
        return np.asarray(self.labels, dtype=np.int64)

    @property
    def class_indices(self) -> dict[str, int]:
        """``{'cats': 0, 'dogs': 1}``, as Keras' ``DirectoryIterator.class_indices``."""
        return {c: i for i, c in enumerate(self.class_names)}

    def __setstate__(self, state: dict) -> None:
        if "class_names" not in state and isinstance(state.get("classes"), list):
            state["class_names"] = state.pop("classes")  # pickled by an nnmagics where .classes held the names
        state.pop("classes", None)
        self.__dict__.update(state)

    @property
    def input_shape(self) -> tuple[int, ...]:  # pragma: no cover - overridden
        raise NotImplementedError

    def __len__(self) -> int:
        return int(len(self.labels))

    def class_counts(self) -> dict[str, int]:
        """Number of samples per class name."""
        counts = np.bincount(np.asarray(self.labels, dtype=int), minlength=self.num_classes)
        return {c: int(n) for c, n in zip(self.class_names, counts)}

    def targets(self, class_mode: str | None = None) -> np.ndarray:
        """All labels encoded for Keras (``class_mode`` defaults to the dataset's)."""
        return encode_labels(self.labels, self.num_classes, class_mode or self.class_mode)

    def as_tf_dataset(self, *, batch_size: int | None = None, shuffle: bool = False,
                      seed: int | None = None, class_mode: str | None = None) -> Any:  # pragma: no cover
        """A batched ``tf.data.Dataset`` of ``(x, y)``; ``shuffle=False`` keeps the fixed order."""
        raise NotImplementedError

    def batches(self, *, batch_size: int | None = None, shuffle: bool = False, seed: int | None = None,
                class_mode: str | None = None, repeat: bool = False, x_only: bool = False) -> Any:  # pragma: no cover
        """What ``fit``/``evaluate``/``predict`` take on the backend in use: ``as_tf_dataset`` on TensorFlow,
        a ``keras.utils.PyDataset`` of numpy batches on JAX and PyTorch (``data/batches.py``)."""
        raise NotImplementedError

    def subset(self, index: Any, name: str | None = None) -> "Dataset":  # pragma: no cover - overridden
        """The samples at ``index``, in that order, as a dataset of the same kind."""
        raise NotImplementedError

    def split(self, fraction: float, seed: int | None = None) -> tuple["Dataset", "Dataset"]:
        """``(train, validation)``: ``fraction`` of the samples held out, stratified by class.

        The same ``seed`` gives the same split (``None`` means 0: a fixed split, run after run).
        Both parts keep the order of the dataset. Classes with a single sample cannot be
        stratified: the split is then random. Used by ``--val-split`` on tables and images alike.

        Example::

            >>> train, val = data.split(0.2, seed=0)                  # doctest: +SKIP
            >>> len(train), len(val)                                  # doctest: +SKIP
            (1600, 400)
        """
        if isinstance(fraction, bool) or not isinstance(fraction, (int, float, np.number)) \
                or not math.isfinite(float(fraction)) or not 0 < float(fraction) < 1:
            raise NNUsageError(_("The validation fraction must be a fraction between 0 and 1 (e.g. 0.2), "
                                 "not {value}.").format(value=repr(fraction)))
        from sklearn.model_selection import train_test_split

        labels = np.asarray(self.labels, dtype=int)
        counts = np.bincount(labels) if len(labels) else np.zeros(1, dtype=int)
        stratify = labels if counts[counts > 0].min() >= 2 else None
        try:
            train, val = train_test_split(np.arange(len(self)), test_size=float(fraction),
                                          random_state=0 if seed is None else int(seed), stratify=stratify)
        except ValueError as exc:
            raise NNUsageError(_("Cannot hold out {fraction} of {n} samples for validation ({reason}).").format(
                fraction=num(float(fraction), "g"), n=len(self), reason=exc)) from None
        return self.subset(np.sort(train)), self.subset(np.sort(val))
