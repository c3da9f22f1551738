"""The Keras face of ``ImageData``: a ``keras.utils.PyDataset`` of ``(x, y)`` batches, as ``flow_from_directory``.

``model.fit(cats, validation_data=cats_val)``, ``model.evaluate(cats_val)``,
``model.predict(cats_val)``, ``next(cats)`` and ``for x, y in cats`` work on what ``%nn_data``
made. Keras 3 (3.13 and 3.15 alike) takes a ``PyDataset`` in ``fit``/``evaluate``/``predict``
and asks it for ``num_batches`` batches by index; ``len(data)`` stays the number of images.

- **Pixels**: the ones ``as_tf_dataset`` serves, from the same ``uint8`` store (decoded when
  ``%nn_data`` loads the folder, :mod:`.image_pixels`, or at their first read when they did not
  fit its memory budget), served as float32 0–255, or × ``rescale`` when loaded with one.
- **Labels**: per ``class_mode``: ``binary`` float32 0/1, ``categorical`` one-hot, ``int`` int32.
- **Order**: a training set (``shuffle=True``, as ``flow_from_directory``'s default) draws a new
  order of images at every epoch; a validation set (``NAME_val``, ``.validation``, the held-out
  part of ``split``) has ``shuffle=False`` and keeps the file order, so ``model.predict(cats_val)``
  lines up with ``cats_val.classes``. Set ``data.shuffle`` to change it. Keras' own
  ``validation_steps=N`` then reads the first N batches of that order: when they miss a class, or hold
  a class at less than half its share, ``PartialValidationWarning`` says so once, in one sentence
  (``%nn_train --validation-steps N`` validates a part holding every class instead).
- **Augmentation** (``%nn_data cats DIR --augment``, :mod:`.image_augment`): a training set then
  serves its batches through the fused transform, a new draw every epoch (the same for the same
  ``--seed``, epoch and batch); validation parts never augment.

This module imports Keras; ``load_images`` imports it only when image data is loaded, so
``%load_ext nnmagics`` stays instant.
"""
from __future__ import annotations

import math
import warnings
from typing import Any, Iterable

import numpy as np
from keras.utils import PyDataset

from ..i18n import _

from .image_augment import GETITEM_STREAM, NEXT_STREAM, augmented_batch, without_augmentation
from .base import encode_labels
from .image_data import ImageData as _FolderData


class PartialValidationWarning(UserWarning):
    """Keras read a few batches of a dataset kept in file order (``validation_steps``) that miss a class."""


class ImageData(_FolderData, PyDataset):
    """An ``ImageData`` that Keras' ``fit``/``evaluate``/``predict`` take directly, batch by batch.

    It keeps the name users read in messages (``'cats' is an ImageData``); ``isinstance(x,
    nnmagics.data.image_data.ImageData)`` holds for it.

    ``shuffle``: a new order of images at every epoch (training sets); ``seed`` makes it repeatable.

    Example::

        >>> model.fit(cats, epochs=5, validation_data=cats_val)       # doctest: +SKIP
        >>> x, y = next(cats)                                         # doctest: +SKIP
        >>> x.shape, y.shape                                          # doctest: +SKIP
        ((20, 150, 150, 3), (20,))
        >>> confusion_matrix(cats_val.classes, model.predict(cats_val).ravel() > 0.5)   # doctest: +SKIP
    """

    def __init__(self, *, shuffle: bool = True, seed: int | None = None, **kwargs: Any):
        _FolderData.__init__(self, **kwargs)
        PyDataset.__init__(self)  # workers=1: batches come from memory once read
        self.shuffle = bool(shuffle)
        self.seed = seed
        self.augmentation = None   # an AugmentParams when the training batches augment (image_augment)
        self.augment_seed: int | None = None
        self.augment_key: int | None = None
        self._reset_batches()

    def _reset_batches(self) -> None:
        self._order: np.ndarray | None = None    # this epoch's order (None: file order)
        self._next_order: np.ndarray | None = None
        self._next_batch = 0
        self._rng = np.random.default_rng(self.seed)
        self._epoch = 0      # epochs begun (the augmentation's draws depend on it)
        self._passes = 0     # batches served by next()/for (their own draws)
        self._served: set[int] = set()   # batch positions Keras asked for since the epoch began
        self._warned_partial = False
        self._in_epoch = False           # between Keras' on_epoch_begin and on_epoch_end (not its first peek)

    def __setstate__(self, state: dict) -> None:
        for key, value in (("shuffle", True), ("seed", None), ("_workers", 1), ("_use_multiprocessing", False),
                           ("_max_queue_size", 10), ("augmentation", None), ("augment_seed", None),
                           ("augment_key", None)):
            state.setdefault(key, value)
        super().__setstate__(state)
        order = state.get("_order")
        self._reset_batches()
        self._order = order

    def subset(self, index: Iterable[int], name: str | None = None) -> "ImageData":
        """The images at ``index``, in that order (see ``ImageData.subset``), with its own batches.

        Example::

            >>> first_ten = cats.subset(range(10))                    # doctest: +SKIP
        """
        part = super().subset(index, name)
        part._reset_batches()
        return part

    def split(self, fraction: float, seed: int | None = None) -> tuple["ImageData", "ImageData"]:
        """``(train, validation)`` as ``Dataset.split``; the validation part keeps its order (``shuffle=False``)
        and has no augmentation (the training part keeps the dataset's, as ``subset`` does).

        Example::

            >>> train, val = cats.split(0.2, seed=0)                  # doctest: +SKIP
        """
        train, val = super().split(fraction, seed)
        val.shuffle = False
        without_augmentation(val)   # validation images are never augmented
        return train, val

    # -- what Keras asks -------------------------------------------------------------------
    @property
    def num_batches(self) -> int:
        """Batches per epoch: ``ceil(len(data) / batch_size)`` (``len(data)`` counts images)."""
        return math.ceil(len(self) / self.batch_size)

    def __getitem__(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        """Batch ``index`` of this epoch as ``(x, y)``, as ``DirectoryIterator[index]``.

        Example::

            >>> x, y = cats_val[0]                                    # doctest: +SKIP
        """
        count = self.num_batches
        if isinstance(index, (bool, np.bool_)) or not isinstance(index, (int, np.integer)):
            raise TypeError(_("Batch index must be an integer, not {type}.").format(type=type(index).__name__))
        position = int(index) + count if index < 0 else int(index)
        if not 0 <= position < count:
            raise IndexError(_("Batch {index} is out of range: '{name}' has {n} batches.").format(
                index=index, name=self.name or "data", n=count))
        order = self._order if self._order is not None else np.arange(len(self))
        rows = order[position * self.batch_size:(position + 1) * self.batch_size]
        if self._in_epoch:
            self._served.add(position)
        return self._batch(rows, GETITEM_STREAM, self._epoch, position)

    def on_epoch_begin(self) -> None:
        """Keras calls this before every epoch: a training set draws a new order (and, augmenting, new transforms)."""
        self._order = self._rng.permutation(len(self)) if self.shuffle else None
        self._epoch += 1
        self._served, self._in_epoch = set(), True

    def on_epoch_end(self) -> None:
        """Keras calls this after every epoch: the next epoch draws its order; a pass that read a few batches
        of the file order missing a class (``validation_steps``) is named once (``PartialValidationWarning``)."""
        served, self._served, self._in_epoch = self._served, set(), False
        if self.shuffle or self._warned_partial or not served or len(served) >= self.num_batches:
            return
        note = partial_pass_note(self, sorted(served))
        if note:
            self._warned_partial = True
            # an explicit location without source text: the notebook shows one line
            warnings.warn_explicit(note, PartialValidationWarning, filename="nnmagics", lineno=0, module="nnmagics")

    # -- what the course does ----------------------------------------------------------------
    def __next__(self) -> tuple[np.ndarray, np.ndarray]:
        """The next batch, endlessly, as ``next(train_generator)`` (a new order after each pass when shuffled).

        Example::

            >>> x, y = next(cats)                                     # doctest: +SKIP
        """
        if not len(self):
            raise StopIteration
        if self._next_batch == 0 or self._next_order is None:
            self._next_order = self._rng.permutation(len(self)) if self.shuffle else np.arange(len(self))
            self._next_batch = 0
        start = self._next_batch * self.batch_size
        rows = self._next_order[start:start + self.batch_size]
        self._next_batch = (self._next_batch + 1) % self.num_batches
        self._passes += 1
        return self._batch(rows, NEXT_STREAM, self._passes, 0)

    def __iter__(self):
        """One pass over the data, batch by batch (shuffled for a training set).

        Example::

            >>> for x, y in cats_val: ...                             # doctest: +SKIP
        """
        order = self._rng.permutation(len(self)) if self.shuffle else np.arange(len(self))
        for start in range(0, len(self), self.batch_size):
            self._passes += 1
            yield self._batch(order[start:start + self.batch_size], NEXT_STREAM, self._passes, 0)

    # -- pixels ------------------------------------------------------------------------------
    def _batch(self, rows: np.ndarray, stream: int = 0, a: int = 0, b: int = 0) -> tuple[np.ndarray, np.ndarray]:
        pixels = self._read(np.asarray(rows, dtype=np.int64))      # uint8, from the pixel store
        pixels = augmented_batch(self, pixels, stream, a, b)   # unchanged unless augmenting
        x = self._scaled(pixels.astype(np.float32))
        y = encode_labels(np.asarray(self.labels)[rows], self.num_classes, self.class_mode)
        return x, y


def partial_pass_note(data: ImageData, positions: list[int]) -> str | None:
    """One sentence when the batches at ``positions`` (file order) miss a class of ``data`` or hold one at less
    than half its share of the whole set; None when they are representative.

    Example::

        >>> partial_pass_note(cats_val, [0, 1])                      # doctest: +SKIP
        "Keras read only 2 of 50 batches of 'cats_val' (validation_steps) in file order, only 'cats': ..."
    """
    labels = np.asarray(data.labels, dtype=int)
    rows = np.concatenate([np.arange(p * data.batch_size, min((p + 1) * data.batch_size, len(data))) for p in positions])
    whole = np.bincount(labels, minlength=data.num_classes) / max(len(labels), 1)
    part = np.bincount(labels[rows], minlength=data.num_classes) / max(len(rows), 1)
    names = list(data.class_names)
    missing = [names[i] for i in range(len(names)) if whole[i] > 0 and part[i] == 0]
    thin = [names[i] for i in range(len(names)) if whole[i] > 0 and 0 < part[i] < whole[i] / 2]
    if not missing and not thin:
        return None
    held = ", ".join(repr(names[i]) for i in range(len(names)) if part[i] > 0)
    count, total, name = len(positions), data.num_batches, data.name or _("the data")
    if missing:
        sentence = _("Keras read only {count} of {total} batches of '{name}' (validation_steps) in file order, only "
                     "{classes}: leave validation_steps out or give {total} to validate every image, or use "
                     "%nn_train --validation-steps N, which validates a part holding every class.")
        classes = held
    else:
        sentence = _("Keras read only {count} of {total} batches of '{name}' (validation_steps) in file order, too few "
                     "{classes}: leave validation_steps out or give {total} to validate every image, or use "
                     "%nn_train --validation-steps N, which validates a part holding every class.")
        classes = ", ".join(map(repr, thin))
    return sentence.format(count=count, total=total, name=name, classes=classes)


__all__ = ["ImageData", "PartialValidationWarning", "partial_pass_note"]
