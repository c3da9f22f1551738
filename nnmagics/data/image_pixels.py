"""An image folder's pixels, decoded once in parallel and kept in memory as ``uint8``.

``%nn_data`` already opens every file to check it; right after, :func:`decode_rows` decodes them
all with the pipeline's own decode and resize (``decode_resize``, several files at a
time through ``tf.data``), so no training cell, ``model.fit(cats)``, ``evaluate`` or feature pass
ever waits for a JPEG decoder, and a dataset trained three times (the course trains the same
folder plain, augmented, then with dropout) decodes once. The pixels are those of the checked
files: a file changed afterwards is still named before its pixels are served (``check_unchanged``).

The memory is bounded: folders whose pixels would take more than :func:`memory_budget` bytes
(``%config NNMagics.decoded_memory_mb``, 1,024 MB by default, and never more than a quarter of the
memory available) are decoded during the first epoch instead, as before.

Why by hand: Keras' ``image_dataset_from_directory`` decodes with its own resize (not the one
``read_image`` and ``--code`` promise) and keeps no per-file check; ``tf.data``'s ``cache()`` holds
the pixels but only fills during an epoch and cannot be shared with the ``PyDataset`` face.
"""
from __future__ import annotations

import os
from typing import Any, Sequence

import numpy as np

from ..config import settings
from ..i18n import _
from ..progress import progress_bar

_CHUNK = 64  # images per host transfer while decoding


def memory_budget() -> int:
    """Bytes of decoded pixels a dataset may keep from ``%nn_data`` on (the setting, at most 1/4 of free memory).

    Example::

        >>> memory_budget() > 0                                       # doctest: +SKIP
        True
    """
    budget = int(settings().decoded_memory_mb) * 1024 ** 2
    try:
        available = os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, OSError, ValueError):  # not Linux: the setting alone
        return budget
    return min(budget, available // 4)


def pixel_bytes(count: int, size: Sequence[int]) -> int:
    """Bytes that ``count`` decoded ``uint8`` RGB images of ``size`` (h, w) take.

    Example::

        >>> pixel_bytes(1000, (150, 150))
        67500000
    """
    return int(count) * int(size[0]) * int(size[1]) * 3


def decode_rows(paths: Sequence[str], sizes: Sequence[int], size: tuple[int, int], *,
                desc: str | None = None) -> np.ndarray:
    """Decode and resize ``paths`` in parallel → ``uint8`` ``(n, h, w, 3)``, in order.

    ``sizes`` are the files' byte sizes when checked (-1: unknown), so a file rewritten since
    fails with a message naming it. ``desc`` shows a progress bar when the job lasts over two
    seconds. Errors are TensorFlow's (callers explain them with ``explain_file_error``); on the JAX and
    PyTorch backends :func:`.decode.decode_files` decodes, and a changed file is one ``NNUsageError``.

    Example::

        >>> decode_rows(data._decode_paths[:2], data._decode_sizes[:2], (150, 150)).shape   # doctest: +SKIP
        (2, 150, 150, 3)
    """
    from ..runtime.backend import uses_tf

    if not uses_tf():   # JAX, PyTorch: PIL/simplejpeg in threads and numpy's resize, the same pixels
        from .decode import decode_files

        return decode_files(paths, sizes, size, desc=desc)
    import tensorflow as tf

    from .filenames import path_bytes

    n = len(paths)
    pixels = np.empty((n, size[0], size[1], 3), dtype=np.uint8)
    if n == 0:
        return pixels
    ds = tf.data.Dataset.from_tensor_slices((
        tf.constant([path_bytes(p) for p in paths], dtype=tf.string),
        tf.constant(list(sizes), dtype=tf.int64),
    ))
    ds = ds.map(lambda p, b: decode_resize(p, size, b), num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    ds = ds.batch(_CHUNK).prefetch(2)
    start = 0
    bar = progress_bar(n, desc, "image") if desc else None
    try:
        for chunk in ds:
            array = chunk.numpy()
            pixels[start:start + len(array)] = array
            start += len(array)
            if bar is not None:
                bar.update(len(array))
    finally:
        if bar is not None:
            bar.close()
    return pixels


class PixelStore:
    """The decoded pixels of an ``ImageData`` (a mixin): ``_pixels`` ``uint8`` ``(n, h, w, 3)`` and ``_have``.

    The dataset provides ``image_size``, ``labels``, ``_decode_paths``, ``_decode_sizes``,
    ``_decoded_cache`` and ``check_unchanged``; ``subset`` copies the decoded rows of a part.
    """

    @property
    def pixels_in_memory(self) -> bool:
        """Whether every image is decoded and kept in memory (``%nn_data`` does it when the pixels fit).

        Example::

            >>> cats.pixels_in_memory                                  # doctest: +SKIP
            True
        """
        return self._have is not None and len(self._have) == len(self) and bool(self._have.all())

    def load_pixels(self, *, desc: str | None = "Decoding images") -> "PixelStore":
        """Decode every image not decoded yet (in parallel, the pipeline's decode) and keep them as ``uint8``.

        ``load_images`` calls it when the pixels fit :func:`.image_pixels.memory_budget`; epochs,
        ``model.fit(data)``, ``evaluate`` and feature passes then read memory, not JPEGs. A file
        changed since the check is named in one sentence. Returns the dataset itself.

        Example::

            >>> big = load_images("photos/").load_pixels()             # doctest: +SKIP
        """
        if desc == "Decoding images":   # the default, shown in the language in use
            desc = _("Decoding images")
        self._fill(np.arange(len(self)), desc=desc)
        return self

    def _read(self, rows: np.ndarray) -> np.ndarray:
        """``uint8`` pixels of ``rows``: decoded once (the pipeline's decode and resize), then from memory."""
        rows = np.asarray(rows, dtype=np.int64)
        self._fill(rows)
        return self._pixels[rows]

    def _fill(self, rows: np.ndarray, desc: str | None = None) -> None:
        """Check the files of ``rows`` unchanged and decode those not in memory yet."""
        if self._pixels is None or self._have is None:
            h, w = self.image_size
            self._pixels = np.empty((len(self), h, w, 3), dtype=np.uint8)  # pages are touched as they fill
            self._have = np.zeros(len(self), dtype=bool)
        rows = np.asarray(rows, dtype=np.int64)
        self.check_unchanged(np.unique(rows).tolist())  # a file changed since %nn_data: one sentence, no stale pixels
        missing = np.unique(rows[~self._have[rows]])
        if len(missing):
            try:
                decoded = decode_rows([self._decode_paths[i] for i in missing],
                                      [self._decode_sizes[i] for i in missing], tuple(self.image_size), desc=desc)
            except Exception as exc:
                from .image_files import explain_file_error

                explained = explain_file_error(exc, self)
                if explained is not None:
                    raise explained from None
                raise
            self._pixels[missing] = decoded
            self._have[missing] = True

    def _batches_from_memory(self, size: int, shuffle: bool, seed: int | None, drop_remainder: bool) -> Any:
        """``(uint8 batch, int labels)`` gathered from the decoded pixels: only indices are shuffled and batched.

        One gather per batch instead of one copy per image (and no shuffle buffer holding a second
        copy of every image); the order is the one shuffling the images themselves would give.
        """
        import tensorflow as tf

        key = ("memory", tuple(self.image_size), len(self))
        if key not in self._decoded_cache:  # one tensor copy of the pixels per dataset
            self._decoded_cache[key] = (tf.constant(self._pixels), tf.constant(self.labels, dtype=tf.int32))
        pixels, labels = self._decoded_cache[key]
        ds = tf.data.Dataset.range(len(self))
        if shuffle:
            ds = ds.shuffle(len(self), seed=seed, reshuffle_each_iteration=True)
        ds = ds.batch(size, drop_remainder=drop_remainder)
        return ds.map(lambda rows: (tf.gather(pixels, rows), tf.gather(labels, rows)),
                      num_parallel_calls=tf.data.AUTOTUNE)


def decode_resize(path, size: tuple[int, int], expected_bytes=None):
    """Read, decode to RGB and resize one file → ``uint8`` ``(h, w, 3)`` tensor (inside a ``tf.data`` pipeline).

    Example::

        ds.map(lambda p, n: decode_resize(p, (150, 150), n))            # doctest: +SKIP

    With ``expected_bytes`` (its size when checked; -1 for unknown), a file truncated or
    rewritten since the check fails with a message naming it, instead of decoding other pixels.
    The resize is :func:`nnmagics.data.pixels.resize_pixels`, the one ``read_image`` uses.
    """
    import tensorflow as tf

    from .image_files import CHANGED_MARK
    from .pixels import resize_pixels

    contents = tf.io.read_file(path)
    if expected_bytes is not None:
        length = tf.cast(tf.strings.length(contents), tf.int64)
        same = tf.logical_or(tf.equal(length, expected_bytes), tf.less(expected_bytes, 0))
        with tf.control_dependencies([tf.debugging.Assert(same, [CHANGED_MARK, path])]):
            contents = tf.identity(contents)
    image = tf.io.decode_image(contents, channels=3, expand_animations=False, dtype=tf.uint8)
    image.set_shape([None, None, 3])
    return resize_pixels(image, size)


__all__ = ["PixelStore", "decode_rows", "memory_budget", "pixel_bytes"]
