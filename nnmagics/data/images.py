"""Image folders (one sub-folder per class) → ``ImageData``: the entry point, ``load_images``.

The course reads ``cats_and_dogs_filtered`` with ``ImageDataGenerator.flow_from_directory``;
``load_images`` replaces it. The work is done by one module per job:

- :mod:`.image_args`: image size, batch size, class mode (one sentence each);
- :mod:`.layouts`: a folder of class sub-folders, ``train/`` + ``validation/``, or a ``.zip``;
- :mod:`.image_files`: every file checked once (cached by size and modification time),
  unreadable/truncated/oversized files skipped and listed in ``.skipped``, files TensorFlow
  cannot decode converted once to a cached RGB PNG;
- :mod:`.pixels`: the one image-file-to-pixels function (``read_image``) and the pixel cap;
- :mod:`.image_data`: the ``ImageData`` dataset (``as_tf_dataset``, ``subset``, ``split``);
- :mod:`.image_pixels`: every image decoded once, right after the check, kept in memory as ``uint8``
  when it fits the memory budget (``%config NNMagics.decoded_memory_mb``).

This module re-exports their public names, so ``from nnmagics.data.images import …`` keeps working.
TensorFlow and PIL are imported only inside the functions that need them.
"""
from __future__ import annotations

import os
from typing import Any

import numpy as np

from ..errors import NNUsageError
from ..files import cache_dir
from ..i18n import _, ngettext
from .base import default_class_mode
from .filenames import printable
from .image_args import (DEFAULT_BATCH_SIZE, DEFAULT_IMAGE_SIZE, MAX_IMAGE_SIDE, check_batch_size,
                         check_class_mode, check_mode_fits, parse_image_size, parse_rescale)
from .image_data import ImageData
from .image_files import (CONVERT, SKIP, TF, check_images, check_with_stats, decode_path, explain_file_error,
                          size_of)
from .layouts import TRAIN_DIRS, VALIDATION_DIRS, find_layout, require_classes, resolve_source, same_classes, scan
from .pixels import max_pixels, read_image, read_rgb, to_rgb


def _build(root: str, classes: list[str], per_class: list[list[str]], loose: list[str], *,
           image_size: tuple[int, int], batch_size: int, class_mode: str, name: str | None,
           rescale: float | None = None, shuffle: bool = True) -> ImageData:
    """Check the files of one part (train or validation) and assemble its ``ImageData`` (a Keras ``PyDataset``)."""
    from .image_keras import ImageData as KerasImageData  # imports Keras: only once image data is loaded

    all_paths = [p for files in per_class for p in files]
    records, stats = check_with_stats(all_paths, root)
    files, labels, decode_paths, shapes, stamps, decode_sizes = [], [], [], [], [], []
    skipped = [(p, "not inside a class sub-folder") for p in loose]
    for index, (class_name, class_files) in enumerate(zip(classes, per_class)):
        readable = 0
        for path in class_files:
            status, detail, shape = records[path]
            if status == SKIP:
                skipped.append((path, detail))
                continue
            stat = stats[path]
            decode = decode_path(path, records[path], stat)
            files.append(path)
            labels.append(index)
            decode_paths.append(decode)
            shapes.append(shape)
            stamps.append((stat.st_size, stat.st_mtime_ns))
            decode_sizes.append(stat.st_size if decode == path else size_of(decode))
            readable += 1
        if readable == 0:
            unreadable = len(class_files)
            folder = printable(os.path.join(root, class_name))
            if unreadable:
                sentence = ngettext("The class folder '{folder}' holds no readable image ({n} unreadable file); "
                                    "add images to it or remove it.",
                                    "The class folder '{folder}' holds no readable image ({n} unreadable files); "
                                    "add images to it or remove it.", unreadable)
            else:
                sentence = _("The class folder '{folder}' holds no readable image; add images to it or remove it.")
            raise NNUsageError(sentence.format(folder=folder, n=unreadable))
    return KerasImageData(root=root, files=files, labels=np.asarray(labels, dtype=np.int64),
                     classes=[printable(c) for c in classes], image_size=image_size, batch_size=batch_size,
                     class_mode=class_mode, skipped=skipped, decode_paths=decode_paths, shapes=shapes, name=name,
                     stamps=stamps, decode_sizes=decode_sizes, rescale=rescale, shuffle=shuffle)


def load_images(source: str | os.PathLike, *, image_size: Any = DEFAULT_IMAGE_SIZE, batch_size: int = DEFAULT_BATCH_SIZE,
                class_mode: str | None = None, name: str | None = None,
                extract_to: str | os.PathLike | None = None, rescale: Any = None) -> ImageData:
    """Load an image folder (one sub-folder per class), a folder with ``train/`` + ``validation/``, or a ``.zip``.

    ``image_size`` is ``150``, ``"150x150"`` or ``(h, w)``; ``class_mode`` defaults to
    ``binary`` for 2 classes and ``int`` otherwise. A zip is extracted (safely, once) next to
    it or into ``extract_to``. With ``train/`` and ``validation/`` the train set is returned and
    the validation set is its ``.validation``. ``rescale`` multiplies the pixels, as
    ``ImageDataGenerator(rescale=1./255)`` (``1/255`` or ``"1/255"``); left out, pixels stay 0–255
    (nnmagics' image models rescale them themselves). The result is a ``keras.utils.PyDataset``:
    ``model.fit(data, validation_data=data.validation)`` works as on ``flow_from_directory``.

    Example::

        >>> data = load_images("cats_and_dogs_filtered.zip", image_size=150)   # doctest: +SKIP
        >>> data                                                                # doctest: +SKIP
        ImageData 'train': 2,000 images 150×150 in 2 classes (cats: 1,000, dogs: 1,000), batch 20, ...
    """
    size = parse_image_size(image_size)
    batch = check_batch_size(batch_size)
    mode = check_class_mode(class_mode)
    scale = parse_rescale(rescale)
    folder = resolve_source(source, extract_to)
    train_root, val_root = find_layout(folder)
    train_scan = scan(train_root)
    require_classes(train_root, train_scan[0])
    val_scan = None
    if val_root is not None:
        val_scan = scan(val_root)
        if not val_scan[0]:
            require_classes(val_root, val_scan[0])
        same_classes(train_root, train_scan[0], val_root, val_scan[0])
    mode = mode or default_class_mode(len(train_scan[0]))
    check_mode_fits(mode, train_scan[0], train_root)

    options = dict(image_size=size, batch_size=batch, class_mode=mode, rescale=scale)
    data = _build(train_root, *train_scan, name=name or os.path.basename(train_root), **options)
    if val_root is not None and val_scan is not None:
        data.validation = _build(val_root, *val_scan, name=os.path.basename(val_root), shuffle=False, **options)
    _decode_if_it_fits(data)
    return data


def _decode_if_it_fits(data: ImageData) -> None:
    """Decode every image now (train and validation) when their pixels fit the memory budget (``image_pixels``)."""
    from .image_pixels import memory_budget, pixel_bytes

    parts = [data] + ([data.validation] if data.validation is not None else [])
    if pixel_bytes(sum(len(p) for p in parts), data.image_size) <= memory_budget():
        for part in parts:
            part.load_pixels(desc=_("Decoding {name}").format(name=part.name) if part.name else _("Decoding images"))


__all__ = ["ImageData", "load_images", "parse_image_size", "parse_rescale", "check_batch_size", "check_class_mode",
           "check_images", "cache_dir", "read_image", "read_rgb", "to_rgb", "max_pixels", "explain_file_error",
           "DEFAULT_IMAGE_SIZE", "DEFAULT_BATCH_SIZE", "MAX_IMAGE_SIDE", "TRAIN_DIRS", "VALIDATION_DIRS",
           "TF", "CONVERT", "SKIP"]
