"""``ImageData``: a folder of class sub-folders, checked once, served as a cached ``tf.data`` pipeline.

The dataset remembers the size and modification time of every file it checked: a file deleted
or changed afterwards is named in one sentence (run ``%nn_data`` again) before an epoch reads
it, never a TensorFlow error mid-epoch, and never stale pixels. ``as_tf_dataset`` decodes in
parallel and caches the resized images as ``uint8`` (a quarter of float32's memory), so epochs
after the first do not decode at all. Images are served as raw pixels (float32, 0–255): models
carry their own preprocessing (or times ``rescale``, as ``ImageDataGenerator(rescale=1./255)``).
``subset`` and ``split`` give new datasets sharing the checks. What ``load_images`` returns is
its Keras face, :mod:`.image_keras` (a ``keras.utils.PyDataset``).
"""
from __future__ import annotations

import copy
import os
from typing import Any, Callable, Iterable

import numpy as np

from ..errors import NNUsageError
from ..i18n import _, ngettext, num
from .augment_fused import augment_caller
from .base import Dataset
from .filenames import path_bytes, printable
from .image_args import check_batch_size, check_class_mode, check_mode_fits
from .image_pixels import PixelStore
from .image_pixels import decode_resize as _decode_resize
from .image_files import CONVERT, changed_error, explain_file_error, file_stamps, inspect_file
from .pixels import read_image, shown_reason


class ImageData(PixelStore, Dataset):
    """A folder of class sub-folders, checked once, served as a cached ``tf.data`` pipeline.

    Build it with :func:`nnmagics.data.images.load_images`. ``files``/``labels`` are in the fixed
    order (class index, then file name); ``skipped`` lists ``(path, reason)`` for files left out;
    ``validation`` is the matching ``ImageData`` when the folder held ``validation/``.

    Example::

        >>> data = load_images("cats_and_dogs_filtered.zip")          # doctest: +SKIP
        >>> x, y = next(iter(data.as_tf_dataset()))                   # doctest: +SKIP
        >>> x.shape, y.shape                                          # doctest: +SKIP
        (TensorShape([20, 150, 150, 3]), TensorShape([20]))
        >>> train, val = data.split(0.2, seed=0)                      # doctest: +SKIP
    """

    kind = "images"

    def __init__(self, *, root: str, files: list[str], labels: np.ndarray, classes: list[str],
                 image_size: tuple[int, int], batch_size: int, class_mode: str,
                 skipped: list[tuple[str, str]], decode_paths: list[str], shapes: list[tuple],
                 name: str | None = None, validation: "ImageData | None" = None,
                 stamps: list[tuple[int, int]] | None = None, decode_sizes: list[int] | None = None,
                 rescale: float | None = None):
        self.root = root
        self.files = list(files)
        self.labels = np.asarray(labels, dtype=np.int64)
        self.class_names = list(classes)
        self.image_size = tuple(image_size)
        self.batch_size = int(batch_size)
        self.class_mode = class_mode
        self.rescale = rescale  # pixels × rescale (ImageDataGenerator's); None: raw 0–255
        self.skipped = list(skipped)
        self.name = name
        self.validation = validation
        self._decode_paths = list(decode_paths)
        self._shapes = list(shapes)
        # (size, mtime_ns) of each file when it was checked: the identity of the pixels served
        self._stamps = [tuple(s) for s in stamps] if stamps is not None else None
        self._decode_sizes = list(decode_sizes) if decode_sizes is not None else [-1] * len(self.files)
        self._decoded_cache: dict[Any, Any] = {}
        self._pixels: np.ndarray | None = None  # uint8 (n, h, w, 3): decoded once (image_pixels)
        self._have: np.ndarray | None = None    # which rows of _pixels are decoded

    def __getstate__(self) -> dict:
        state = dict(self.__dict__)
        state["_decoded_cache"] = {}  # tf.data objects do not pickle or deep-copy
        state.update(_pixels=None, _have=None)  # pixels are decoded again from the files
        return state

    def __setstate__(self, state: dict) -> None:
        state.setdefault("_stamps", None)  # pickled by an older nnmagics
        state.setdefault("rescale", None)
        state.setdefault("_decode_sizes", [-1] * len(state.get("files", [])))
        state.setdefault("_pixels", None)
        state.setdefault("_have", None)
        super().__setstate__(state)

    def subset(self, index: Iterable[int], name: str | None = None) -> "ImageData":
        """The images at ``index``, in that order, without a validation set.

        The part keeps each file's check (its stamp, converted copy, original shape): a file
        changed since ``%nn_data`` is named before the part's first epoch. ``split`` builds on it.

        Example::

            >>> first_ten = data.subset(range(10))                   # doctest: +SKIP
            >>> len(first_ten), first_ten.class_names                # doctest: +SKIP
            (10, ['cats', 'dogs'])
        """
        index = [int(i) for i in np.asarray(list(index), dtype=np.int64).ravel()]
        part = copy.copy(self)
        part.files = [self.files[i] for i in index]
        part.labels = np.asarray(self.labels)[index] if index else np.zeros(0, dtype=np.int64)
        part._decode_paths = [self._decode_paths[i] for i in index]
        part._shapes = [self._shapes[i] for i in index]
        part._stamps = [self._stamps[i] for i in index] if self._stamps is not None else None
        part._decode_sizes = [self._decode_sizes[i] for i in index]
        part.validation = None
        part._decoded_cache = {}
        part._pixels = part._have = None
        if self.pixels_in_memory:  # the part keeps its decoded rows (no second decode for a split)
            part._pixels = self._pixels[index]
            part._have = np.ones(len(index), dtype=bool)
        if name is not None:
            part.name = name
        return part

    # -- the files on disk -------------------------------------------------------------------
    def content_stamps(self) -> list[tuple[int, int]]:
        """``(size, mtime_ns)`` of every file as it was checked: the identity of the pixels served.

        Example::

            >>> data.content_stamps()[0]                              # doctest: +SKIP
            (23412, 1718000000000000000)
        """
        if self._stamps is not None:
            return list(self._stamps)
        return file_stamps(self.files)

    def changed_files(self, rows: Iterable[int] | None = None) -> list[tuple[str, str]]:
        """``(path, 'deleted' | 'changed')`` for every file that differs from what was checked.

        A converted RGB copy missing from the cache folder is simply made again. ``rows``: only
        those images (all by default).

        Example::

            >>> data.changed_files()                                  # doctest: +SKIP
            [('/data/cats/cat.3.jpg', 'deleted')]
        """
        if self._stamps is None:
            return []
        changed = []
        for i in range(len(self.files)) if rows is None else rows:
            path, stamp = self.files[i], self._stamps[i]
            try:
                stat = os.stat(path)
            except OSError:
                changed.append((path, "deleted"))
                continue
            if (stat.st_size, stat.st_mtime_ns) != tuple(stamp):
                changed.append((path, "changed"))
            elif self._decode_paths[i] != path and not os.path.exists(self._decode_paths[i]):
                if inspect_file(path, stat)[0] != CONVERT:  # re-makes the converted copy
                    changed.append((path, "changed"))
        return changed

    def check_unchanged(self, rows: Iterable[int] | None = None) -> None:
        """Raise ``NNUsageError`` naming a file deleted or changed since the check (run ``%nn_data`` again).

        Example::

            >>> data.check_unchanged()                                # doctest: +SKIP
            NNUsageError: The image file '/data/cats/cat.3.jpg' was deleted after %nn_data checked it; ...
        """
        changed = self.changed_files(rows)
        if changed:
            raise changed_error(changed)

    # -- description ---------------------------------------------------------------------
    @property
    def input_shape(self) -> tuple[int, int, int]:
        """``(height, width, 3)``."""
        return (self.image_size[0], self.image_size[1], 3)

    def __repr__(self) -> str:
        h, w = self.image_size
        counts = ", ".join(f"{c}: {num(n, ',')}" for c, n in self.class_counts().items())
        title = f"ImageData '{self.name}'" if self.name else "ImageData"
        text = _("{title}: {n} images {height}×{width} in {classes} classes ({counts}), "
                 "batch {batch}, class_mode {mode}").format(
                     title=title, n=num(len(self), ","), height=h, width=w, classes=self.num_classes, counts=counts,
                     batch=self.batch_size, mode=self.class_mode)
        if self.rescale is not None:
            text += f", rescale {_fraction(self.rescale)}"
        if getattr(self, "augmentation", None) is not None:   # %nn_data --augment (image_augment)
            text += _(", augmented every epoch")
        if self.validation is not None:
            text += _("; validation: {n} images").format(n=num(len(self.validation), ","))
            if self.validation.skipped:
                text += _(" ({n} skipped)").format(n=len(self.validation.skipped))
        if self.skipped:
            n = len(self.skipped)
            text += ngettext("; {n} file skipped (see .skipped)", "; {n} files skipped (see .skipped)", n).format(n=n)
        return text

    def _repr_html_(self) -> str:
        import html

        rows = "".join(f"<tr><td>{html.escape(c)}</td><td>{num(n, ',')}</td></tr>" for c, n in self.class_counts().items())
        skipped = ""
        if self.skipped:
            items = "".join(f"<li><code>{html.escape(printable(p))}</code>: {html.escape(shown_reason(r))}</li>"
                            for p, r in self.skipped[:20])
            more = "<li>" + _("… {n} more").format(n=len(self.skipped) - 20) + "</li>" if len(self.skipped) > 20 else ""
            summary = ngettext("{n} files skipped", "{n} files skipped", len(self.skipped)).format(n=len(self.skipped))
            skipped = f"<details><summary>{summary}</summary><ul>{items}{more}</ul></details>"
        memory = ""
        if self.pixels_in_memory:
            parts = [self] + ([self.validation] if getattr(self.validation, "pixels_in_memory", False) else [])
            size = sum(p._pixels.nbytes for p in parts) / 1e6
            memory = "<p>" + _("Pixels decoded once and kept in memory: {size} MB (no epoch decodes a file).").format(
                size=num(size, ",.1f")) + "</p>"
        from .image_augment import describe

        augment = f"<p>{html.escape(describe(self))}</p>" if describe(self) else ""
        header = "<tr><th>" + _("class") + "</th><th>" + _("images") + "</th></tr>"
        return (f"<div><b>{html.escape(repr(self))}</b><table>{header}"
                f"{rows}</table>{augment}{memory}{skipped}</div>")

    # -- pixels ----------------------------------------------------------------------------
    def _decoded(self, cache: bool | str) -> Any:
        """``(uint8 image, int label)`` elements, decoded in parallel and cached (shared by later pipelines)."""
        import tensorflow as tf

        size = tuple(self.image_size)
        key = (cache if isinstance(cache, str) else bool(cache), size, len(self._decode_paths))
        if key[0] and key in self._decoded_cache:
            return self._decoded_cache[key]
        ds = tf.data.Dataset.from_tensor_slices((
            tf.constant([path_bytes(p) for p in self._decode_paths], dtype=tf.string),  # bytes: any file name
            tf.constant(self.labels, dtype=tf.int32),
            tf.constant(self._decode_sizes, dtype=tf.int64),
        ))
        ds = ds.map(lambda p, y, n: (_decode_resize(p, size, n), y),
                    num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
        if isinstance(cache, str):
            os.makedirs(os.path.dirname(os.path.abspath(cache)) or ".", exist_ok=True)
            ds = ds.cache(cache)
        elif cache:
            ds = ds.cache()
        if key[0]:
            self._decoded_cache[key] = ds
        return ds

    def as_tf_dataset(self, *, batch_size: int | None = None, shuffle: bool = False, seed: int | None = None,
                      class_mode: str | None = None, cache: bool | str = True,
                      augment: Callable | None = None, drop_remainder: bool = False, dtype: str = "float32") -> Any:
        """A batched ``tf.data.Dataset`` of ``(float32 images 0–255, labels)`` (``dtype="uint8"``: the cached
        uint8 pixels as they are, for a model that casts on the accelerator).

        Order: decode (parallel) → cache (memory, or files at the prefix ``cache`` if a str)
        → shuffle (reshuffled each epoch) → batch → ``augment(x, training=True)`` → prefetch. When
        ``%nn_data`` already decoded the pixels (``pixels_in_memory``), batches are gathered from them.
        The fused augmentation (``FusedAugment``) gets its random numbers in batch order from a generator
        seeded with ``seed``, its transforms run in parallel: a seed repeats exactly.
        ``shuffle=False`` keeps the order of ``files``. Labels follow ``class_mode``:
        ``binary`` float32 0/1, ``categorical`` one-hot float32, ``int`` int32.

        ``augment``: a callable applied to each batch — ``FusedAugment(params, seed=0)``, any Keras layer
        or function. A dataset loaded with ``%nn_data … --augment`` augments its own ``PyDataset`` batches
        (``model.fit(data)``) but this pipeline only when asked: pass
        ``augment=image_augment.augmentation_layer(data)`` for the dataset's own (``%nn_train`` does).

        Example::

            >>> ds = data.as_tf_dataset(shuffle=True, seed=0)         # doctest: +SKIP
            >>> model.fit(ds, epochs=5)                               # doctest: +SKIP
            >>> ds = data.as_tf_dataset(shuffle=True, seed=0, augment=FusedAugment(seed=0))   # doctest: +SKIP
        """
        import tensorflow as tf

        size = self.batch_size if batch_size is None else check_batch_size(batch_size)
        mode = check_class_mode(class_mode) or self.class_mode
        check_mode_fits(mode, self.class_names, self.root)
        self.check_unchanged()
        if cache is True and self.pixels_in_memory:
            ds = self._batches_from_memory(size, shuffle, seed, drop_remainder)
        else:
            ds = self._decoded(cache)
            if shuffle:
                ds = ds.shuffle(len(self), seed=seed, reshuffle_each_iteration=True)
            ds = ds.batch(size, drop_remainder=drop_remainder)
        ds = ds.map(_label_encoder(mode, self.num_classes, dtype, self.rescale), num_parallel_calls=tf.data.AUTOTUNE)
        if augment is not None and getattr(augment, "takes_draws", False):
            # the fused augmentation: its random numbers drawn in batch order (a sequential map, cheap),
            # the transforms in parallel, so that a seed repeats exactly whatever order batches run in
            numbers = tf.random.Generator.from_seed(seed) if seed is not None else \
                tf.random.Generator.from_non_deterministic_state()
            ds = ds.map(lambda x, y: (x, y, numbers.uniform((tf.shape(x)[0], 8), dtype=tf.float32)))
            ds = ds.map(lambda x, y, u: (augment(x, training=True, draws=u), y), num_parallel_calls=tf.data.AUTOTUNE)
        elif augment is not None:
            apply = augment_caller(augment)
            ds = ds.map(lambda x, y: (apply(x), y), num_parallel_calls=tf.data.AUTOTUNE)
        return ds.prefetch(tf.data.AUTOTUNE)

    def batches(self, *, batch_size: int | None = None, shuffle: bool = False, seed: int | None = None,
                class_mode: str | None = None, augment: Callable | None = None, drop_remainder: bool = False,
                dtype: str = "float32", repeat: bool = False, x_only: bool = False) -> Any:
        """What ``fit``/``evaluate``/``predict`` take on the backend in use: ``as_tf_dataset`` on TensorFlow
        (``repeat``: endless, ``x_only``: images alone), numpy batches from the pixel store on JAX and PyTorch
        (``data/batches.py``), in the same order for the same seed.

        Example::

            >>> model.fit(cats.batches(shuffle=True, seed=0), epochs=5)   # doctest: +SKIP
        """
        from ..runtime.backend import uses_tf

        if uses_tf():
            ds = self.as_tf_dataset(batch_size=batch_size, shuffle=shuffle, seed=seed, class_mode=class_mode,
                                    augment=augment, drop_remainder=drop_remainder, dtype=dtype)
            ds = ds.repeat() if repeat else ds
            return ds.map(lambda x, y: x) if x_only else ds
        from .batches import image_batches

        size = self.batch_size if batch_size is None else check_batch_size(batch_size)
        mode = check_class_mode(class_mode) or self.class_mode
        check_mode_fits(mode, self.class_names, self.root)
        self.check_unchanged()
        return image_batches(self, batch_size=size, shuffle=shuffle, seed=seed, mode=mode, dtype=dtype,
                             augment=augment, drop_remainder=drop_remainder, repeat=repeat, x_only=x_only)

    def load_image(self, index_or_path: int | str | os.PathLike) -> np.ndarray:
        """One image as ``(h, w, 3)`` float32 0–255 (× ``rescale``): the pixels ``as_tf_dataset`` serves for it.

        ``index_or_path`` is an index into ``files`` (negative counts from the end) or the path
        of any image file, read with :func:`nnmagics.data.pixels.read_image` at this dataset's size.

        Example::

            >>> data.load_image(0).shape                              # doctest: +SKIP
            (150, 150, 3)
        """
        if isinstance(index_or_path, (int, np.integer)) and not isinstance(index_or_path, bool):
            index = int(index_or_path)
            if not -len(self) <= index < len(self):
                raise NNUsageError(
                    _("Image index {index} is out of range; this dataset has {n} images (0 to {last}).").format(
                        index=index, n=num(len(self), ","), last=len(self) - 1)
                )
        elif isinstance(index_or_path, (str, os.PathLike)):
            path = os.path.abspath(os.path.expanduser(os.fspath(index_or_path)))
            if path not in self.files:
                return self._scaled(read_image(path, self.image_size).astype(np.float32))
            index = self.files.index(path)
        else:
            raise NNUsageError(_("Give an image index or a file path, not a {type}.").format(
                type=type(index_or_path).__name__))
        self.check_unchanged([index])
        if self._have is not None and self._have[index]:
            return self._scaled(self._pixels[index].astype(np.float32))
        return self._scaled(read_image(self._decode_paths[index], self.image_size).astype(np.float32))

    def _scaled(self, pixels: np.ndarray) -> np.ndarray:
        """``pixels`` × ``rescale`` (unchanged without one)."""
        return pixels if self.rescale is None else pixels * np.float32(self.rescale)

    def original_shapes(self, n: int | None = None) -> list[tuple]:
        """The original ``(h, w, channels)`` of the first ``n`` files (all when ``n`` is None)."""
        shapes = self._shapes if n is None else self._shapes[: max(int(n), 0)]
        return [tuple(s) for s in shapes]


def _fraction(scale: float) -> str:
    """``1/255`` for 1/255, else the number: how a rescale factor reads."""
    inverse = 1 / scale
    return f"1/{round(inverse)}" if abs(inverse - round(inverse)) < 1e-6 else f"{scale:g}"


def _label_encoder(mode: str, num_classes: int, dtype: str = "float32", rescale: float | None = None) -> Callable:
    import tensorflow as tf

    def encode(x, y):
        x = tf.cast(x, dtype)   # uint8: no cast at all (the decoded cache is uint8)
        if rescale is not None:  # rescaled pixels are floats, whatever dtype asked
            x = tf.cast(x, tf.float32) * rescale
        if mode == "binary":
            return x, tf.cast(y, tf.float32)
        if mode == "categorical":
            return x, tf.one_hot(y, num_classes, dtype=tf.float32)
        return x, tf.cast(y, tf.int32)

    return encode


__all__ = ["ImageData", "explain_file_error"]
