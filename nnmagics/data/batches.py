"""Batches as ``fit``/``evaluate``/``predict`` take them on the backend in use: ``Dataset.batches(...)``.

On TensorFlow this is the dataset's ``tf.data`` pipeline (``as_tf_dataset``), as always. On JAX and
PyTorch it is :class:`ArrayBatches`, a ``keras.utils.PyDataset`` of numpy ``(x, y)`` batches gathered
from memory (a table's arrays, an image folder's ``uint8`` pixel store): the same order for the same
seed (the rows of each pass are one permutation, shuffled again every pass), the same label
encoding, uint8 or float32 pixels, and the fused augmentation drawn per batch in order.

Example::

    ds = cats.batches(batch_size=20, shuffle=True, seed=0)        # tf.data or a PyDataset
    model.fit(ds, epochs=3)
"""
from __future__ import annotations

import math
from typing import Any, Callable

import numpy as np
from keras.utils import PyDataset

from ..i18n import _


class ArrayBatches(PyDataset):
    """A ``PyDataset`` of ``gather(rows)`` batches over ``n`` samples: shuffled per pass, finite or endless.

    ``gather(rows, batch_number)`` returns ``(x, y)`` numpy arrays for those rows (``batch_number``
    counts batches served since the start: the augmentation's draws follow it). ``repeat=True`` never
    ends (Keras then counts ``steps_per_epoch``); a finite one has ``ceil(n / batch_size)`` batches
    (``drop_remainder``: only full ones) and draws a new order when Keras begins each epoch.

    Example::

        ArrayBatches(len(X), 32, lambda rows, k: (X[rows], y[rows]), shuffle=True, seed=0)
    """

    def __init__(self, n: int, batch_size: int, gather: Callable[[np.ndarray, int], tuple], *,
                 shuffle: bool = False, seed: int | None = None, drop_remainder: bool = False,
                 repeat: bool = False, x_only: bool = False):
        super().__init__()   # workers=1: every batch is a gather from memory
        self.n, self.batch_size, self.gather = int(n), int(batch_size), gather
        self.shuffle, self.repeat, self.x_only = bool(shuffle), bool(repeat), bool(x_only)
        self.drop_remainder = bool(drop_remainder)
        self._rng = np.random.default_rng(seed)
        self._orders: dict[int, np.ndarray] = {}
        self._drawn = 0      # permutations drawn so far (pass 0, 1, …)
        self._pass = 0       # finite: the pass (epoch) being served
        self._served = 0

    @property
    def per_pass(self) -> int:
        """Batches in one pass over the samples."""
        return self.n // self.batch_size if self.drop_remainder else math.ceil(self.n / self.batch_size)

    @property
    def num_batches(self) -> int | None:
        """``None`` (endless) when repeating, else the batches of one pass."""
        return None if self.repeat else self.per_pass

    def _order(self, number: int) -> np.ndarray:
        """The rows of pass ``number`` (drawn in pass order, so that a seed repeats)."""
        while self._drawn <= number:   # pass k's order is the k-th permutation drawn, whoever asks first
            self._orders[self._drawn] = self._rng.permutation(self.n) if self.shuffle else np.arange(self.n)
            self._drawn += 1
        for old in [k for k in self._orders if k < number - 1]:
            del self._orders[old]
        return self._orders[number]

    def __getitem__(self, index: int):
        if not self.repeat and not 0 <= int(index) < self.per_pass:
            raise IndexError(_("Batch {index} is out of range ({n} batches).").format(index=index, n=self.per_pass))
        count = max(self.per_pass, 1)
        number, position = divmod(int(index), count) if self.repeat else (self._pass, int(index))
        rows = self._order(number)[position * self.batch_size:(position + 1) * self.batch_size]
        x, y = self.gather(rows, self._served)
        self._served += 1
        return (x,) if self.x_only else (x, y)

    def on_epoch_end(self) -> None:
        """Keras calls this after every epoch: a finite one serves the next pass (a new order) next time."""
        if not self.repeat:
            self._pass += 1

    def __iter__(self):
        for index in range(self.per_pass):
            yield self[index]
        self.on_epoch_end()


def table_batches(data, *, batch_size: int | None = None, shuffle: bool = False, seed: int | None = None,
                  class_mode: str | None = None, repeat: bool = False, x_only: bool = False) -> ArrayBatches:
    """A table's ``(X, targets)`` as numpy batches (targets encoded per ``class_mode``).

    Example::

        model.fit(table_batches(data4, batch_size=32, shuffle=True, seed=0), epochs=5)
    """
    X, targets = np.asarray(data.X), data.targets(class_mode)
    return ArrayBatches(len(X), batch_size or data.batch_size, lambda rows, k: (X[rows], targets[rows]),
                        shuffle=shuffle, seed=seed, repeat=repeat, x_only=x_only)


def image_batches(data, *, batch_size: int, shuffle: bool, seed: int | None, mode: str, dtype: str = "float32",
                  augment: Any = None, drop_remainder: bool = False, repeat: bool = False,
                  x_only: bool = False) -> ArrayBatches:
    """An image folder's batches from its ``uint8`` pixel store (decoded at the first read when not yet).

    ``dtype`` ``"uint8"``: the pixels as stored (for a model that casts in its step); else float32
    0–255 (× the dataset's ``rescale``). ``augment``: a fused augmentation (its ``(B, 8)`` numbers drawn
    per batch in order from ``seed``) or any callable on a batch (Keras layers get ``training=True``).

    Example::

        model.fit(image_batches(cats, batch_size=20, shuffle=True, seed=0, mode="binary"), epochs=3)
    """
    from .base import encode_labels
    from .augment_fused import augment_caller

    labels = np.asarray(data.labels)
    draws = np.random.default_rng(seed) if augment is not None and getattr(augment, "takes_draws", False) else None
    apply = augment_caller(augment) if augment is not None and draws is None else None

    def gather(rows: np.ndarray, served: int) -> tuple[np.ndarray, np.ndarray]:
        x = data._read(rows)
        if dtype != "uint8" or data.rescale is not None:
            x = x.astype(np.float32)
            if data.rescale is not None:
                x = x * np.float32(data.rescale)
        if draws is not None:
            from ..runtime.backend import to_numpy

            u = draws.uniform(size=(len(rows), 8)).astype(np.float32)
            x = np.asarray(to_numpy(augment(x, training=True, draws=u)), dtype=x.dtype)
        elif apply is not None:
            from ..runtime.backend import to_numpy

            x = np.asarray(to_numpy(apply(x)), dtype=x.dtype)
        return x, encode_labels(labels[rows], data.num_classes, mode)

    return ArrayBatches(len(data), batch_size, gather, shuffle=shuffle, seed=seed, drop_remainder=drop_remainder,
                        repeat=repeat, x_only=x_only)


__all__ = ["ArrayBatches", "image_batches", "table_batches"]
