"""Image files → ``uint8`` pixels without TensorFlow: the decoder of the JAX and PyTorch backends.

The same pixels as TensorFlow's pipeline (``image_pixels.decode_resize``), checked side by side
in ``tests/test_decode.py``:

- **JPEG** by simplejpeg (libjpeg-turbo with the fast integer DCT and fancy upsampling, what
  ``tf.io.decode_jpeg`` uses): identical pixels. Without simplejpeg, PIL decodes (its accurate DCT
  differs from TensorFlow's by up to a few grey levels, enough for a model to answer differently).
- **PNG** (8-bit, the only other kind the pipeline reads: other files were converted to RGB PNG
  copies when ``%nn_data`` checked them) by PIL, lossless: identical.
- **the resize** :func:`resize_array` is TensorFlow's bilinear (half-pixel centres, no antialiasing)
  written in numpy, float32 in the same order of operations, rounded half to even: identical.
  Not ``keras.ops.image.resize``: under JAX it compiles once per source size (≈ 0.2 s an image).

:func:`decode_files` decodes many files at once in threads (PIL and libjpeg release the GIL), in order.

Example::

    pixels = decode_files(["cats/cat.0.jpg"], [-1], (150, 150))    # (1, 150, 150, 3) uint8
"""
from __future__ import annotations

import io
import os
from concurrent.futures import ThreadPoolExecutor
from typing import Sequence

import numpy as np

from ..i18n import N_, _
from ..progress import progress_bar

_JPEG_MAGIC = b"\xff\xd8"


def _axis(n_in: int, n_out: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Source rows (low, high) and weights of TensorFlow's half-pixel bilinear along one axis."""
    scale = np.float32(n_in / n_out)
    where = (np.arange(n_out, dtype=np.float32) + np.float32(0.5)) * scale - np.float32(0.5)
    floor = np.floor(where)
    low = np.maximum(floor, 0).astype(np.intp)
    high = np.minimum(np.ceil(where), n_in - 1).astype(np.intp)
    return low, high, (where - floor).astype(np.float32)


def resize_array(image: np.ndarray, size: Sequence[int]) -> np.ndarray:
    """``uint8`` ``(h, w, c)`` → ``uint8`` of ``size`` ``(height, width)``: ``tf.image.resize`` bilinear, rounded.

    Example::

        >>> resize_array(np.zeros((40, 30, 3), "uint8"), (10, 10)).shape
        (10, 10, 3)
    """
    height, width = int(size[0]), int(size[1])
    image = np.asarray(image)
    if image.shape[:2] == (height, width):
        return image.astype(np.uint8, copy=False)
    y0, y1, wy = _axis(image.shape[0], height)
    x0, x1, wx = _axis(image.shape[1], width)
    pixels = image.astype(np.float32)
    top, bottom = pixels[y0], pixels[y1]
    wx = wx[None, :, None]
    top = top[:, x0] + (top[:, x1] - top[:, x0]) * wx
    bottom = bottom[:, x0] + (bottom[:, x1] - bottom[:, x0]) * wx
    out = top + (bottom - top) * wy[:, None, None]
    return np.clip(np.round(out), 0, 255).astype(np.uint8)


def decode_bytes(contents: bytes) -> np.ndarray:
    """A JPEG or PNG file's bytes → ``uint8`` ``(h, w, 3)`` RGB, as ``tf.io.decode_image(channels=3)``.

    Example::

        >>> decode_bytes(open("cat.jpg", "rb").read()).dtype          # doctest: +SKIP
        dtype('uint8')
    """
    if contents[:2] == _JPEG_MAGIC:
        try:
            import simplejpeg
        except ImportError:
            simplejpeg = None
        if simplejpeg is not None:
            try:
                return simplejpeg.decode_jpeg(contents, colorspace="RGB", fastdct=True, fastupsample=False)
            except ValueError:   # a JPEG libjpeg-turbo's fast path refuses (CMYK…): PIL below
                pass
    from PIL import Image

    with Image.open(io.BytesIO(contents)) as image:
        image.load()
        if image.mode in ("P", "PA"):
            image = image.convert("RGBA")
        return np.asarray(image.convert("RGB"))


def decode_file(path: str, size: Sequence[int] | None = None, expected_bytes: int = -1) -> np.ndarray:
    """One file → ``uint8`` ``(h, w, 3)``, resized to ``size`` when given.

    ``expected_bytes``: the file's size when ``%nn_data`` checked it (-1: unknown); a file deleted
    or rewritten since is one ``NNUsageError`` sentence naming it (run ``%nn_data`` again).

    Example::

        >>> decode_file("cats/cat.0.jpg", (150, 150)).shape           # doctest: +SKIP
        (150, 150, 3)
    """
    from .filenames import changed_error

    try:
        with open(path, "rb") as handle:
            contents = handle.read()
    except OSError:
        raise changed_error([(path, "deleted")]) from None
    if expected_bytes is not None and expected_bytes >= 0 and len(contents) != expected_bytes:
        raise changed_error([(path, "changed")])
    try:
        pixels = decode_bytes(contents)
    except Exception:  # noqa: BLE001 - PIL raises many types on a file that was replaced by garbage
        raise changed_error([(path, "changed")]) from None
    return resize_array(pixels, size) if size is not None else pixels


def decode_files(paths: Sequence[str], sizes: Sequence[int], size: Sequence[int], *,
                 desc: str | None = None) -> np.ndarray:
    """Decode and resize ``paths`` in threads → ``uint8`` ``(n, h, w, 3)``, in order (``sizes``: bytes when checked).

    Example::

        >>> decode_files(data._decode_paths[:2], data._decode_sizes[:2], (150, 150)).shape   # doctest: +SKIP
        (2, 150, 150, 3)
    """
    n = len(paths)
    pixels = np.empty((n, int(size[0]), int(size[1]), 3), dtype=np.uint8)
    if n == 0:
        return pixels
    bar = progress_bar(n, desc, "image") if desc else None

    def one(i: int) -> None:
        pixels[i] = decode_file(paths[i], size, sizes[i])
        if bar is not None:
            bar.update(1)

    try:
        with ThreadPoolExecutor(max_workers=min(8, os.cpu_count() or 1, n)) as pool:
            for done in pool.map(one, range(n)):
                del done
    finally:
        if bar is not None:
            bar.close()
    return pixels


def _comment(text: str) -> str:
    return "\n".join("    # " + line for line in text.splitlines())


def load_folder_code() -> str:
    """``LOAD_FOLDER`` with its comments in the language in use (what ``--code`` prints)."""
    code = LOAD_FOLDER
    for text in (_RESIZE_COMMENT, _LOAD_FOLDER_COMMENT):
        code = code.replace(_comment(text), _comment(_(text)))
    return code


# --code's twin of this decoder on JAX and PyTorch (``%nn_data``/``%nn_train``/``%nn_diagnose --code``): plain
# numpy and keras.utils.load_img, printed once before the data. ``resize_bilinear`` is ``resize_array`` written
# for a notebook (tests/test_decode.py checks they give the same pixels), so the printed program trains on
# nnmagics' own pixels.
LOAD_FOLDER = """\
def resize_bilinear(image, size):
    # TensorFlow's bilinear resize (half-pixel centres, no antialiasing) in numpy, rounded: nnmagics' pixels
    if image.shape[:2] == tuple(size):
        return image
    rows = []
    for n_in, n_out in zip(image.shape[:2], size):
        where = (np.arange(n_out, dtype=np.float32) + np.float32(0.5)) * np.float32(n_in / n_out) - np.float32(0.5)
        low = np.floor(where)
        rows.append((np.maximum(low, 0).astype(int), np.minimum(np.ceil(where), n_in - 1).astype(int), where - low))
    (y0, y1, wy), (x0, x1, wx) = rows
    pixels = image.astype(np.float32)
    top, bottom = pixels[y0], pixels[y1]
    top = top[:, x0] + (top[:, x1] - top[:, x0]) * wx[None, :, None]
    bottom = bottom[:, x0] + (bottom[:, x1] - bottom[:, x0]) * wx[None, :, None]
    return np.clip(np.round(top + (bottom - top) * wy[:, None, None]), 0, 255).astype(np.uint8)


def load_folder(root, class_names, size):
    # every image of each class folder, in file-name order, as uint8 RGB at nnmagics' size and pixels
    # (a JPEG decoded by PIL may differ from nnmagics' decoder by a few grey levels)
    paths = [os.path.join(root, c, f) for c in class_names for f in sorted(os.listdir(os.path.join(root, c)))
             if f.lower().endswith(('.jpg', '.jpeg', '.png', '.bmp', '.gif'))]
    labels = np.array([class_names.index(os.path.basename(os.path.dirname(p))) for p in paths])
    x = np.stack([resize_bilinear(np.asarray(keras.utils.load_img(p)), size) for p in paths])
    return x, labels
"""
_RESIZE_COMMENT = N_("TensorFlow's bilinear resize (half-pixel centres, no antialiasing) in numpy, rounded: nnmagics' pixels")
_LOAD_FOLDER_COMMENT = N_("every image of each class folder, in file-name order, as uint8 RGB at nnmagics' size and pixels\n"
                          "(a JPEG decoded by PIL may differ from nnmagics' decoder by a few grey levels)")


__all__ = ["LOAD_FOLDER", "load_folder_code", "decode_bytes", "decode_file", "decode_files", "resize_array"]
