"""The one way to turn an image file into pixels: ``read_image(path, size)``.

Every model input read from a single file (``ImageData.load_image``, feature maps, predictions on
a file) goes through :func:`read_image`, which gives exactly the pixels the dataset pipeline
(``ImageData.as_tf_dataset``) serves for the same file:

- the pixel cap (``%config NNMagics.max_image_pixels``) is checked from the file's header,
  before a pixel is decoded (a 90-megapixel PNG can weigh 342 KB on disk and 270 MB decoded);
- 8-bit JPEG (RGB or grayscale) and 8-bit PNG are decoded by TensorFlow, as the pipeline
  decodes them (on the JAX and PyTorch backends by :mod:`.decode`, the same pixels without TensorFlow) (TensorFlow's JPEG decoder differs from PIL's by up to a few grey levels, enough
  for a model to answer differently); every other file (CMYK JPEG, 16-bit PNG, palette, TIFF,
  WebP, GIF, BMP…) is converted by PIL with :func:`to_rgb`, as the pipeline's cached RGB copy is;
- ``size=(height, width)`` resizes with :func:`resize_pixels`, the pipeline's own resize
  (TensorFlow bilinear, half-pixel centres, no antialiasing, rounded back to ``uint8``).

:func:`read_rgb` is for display only (thumbnails, grids): the file at its original size through
PIL, without importing TensorFlow. PIL and TensorFlow are imported only inside the functions.
"""
from __future__ import annotations

import os
import re
import warnings
from typing import Any

import numpy as np

from ..config import settings
from ..errors import NNUsageError
from ..i18n import _, num
from .filenames import path_bytes, printable

TOO_LARGE = "image too large"   # internal: the English reason kept in the check cache (shown_reason translates)
_TOO_LARGE_SIZE = re.compile(re.escape(TOO_LARGE) + r" \((\d+)×(\d+) = ([0-9.]+) megapixels, over the limit of "
                             r"([^:]+): %config NNMagics.max_image_pixels\)")
_WITH_DETAIL = re.compile(r"(truncated image|corrupt image|cannot read the file) \((.*)\)", re.DOTALL)


def shown_reason(reason: str) -> str:
    """Why a file was skipped, in the language in use: the reasons are kept in English (the check cache
    stores them, code compares them) and translated where they are shown.

    Example::

        >>> shown_reason("not an image file")              # 'pas un fichier image' in French
        'not an image file'
    """
    fixed = {"empty file": _("empty file"), "not an image file": _("not an image file"),
             "file vanished while reading": _("file vanished while reading"),
             "not inside a class sub-folder": _("not inside a class sub-folder"),
             f"{TOO_LARGE} (over PIL's decompression-bomb limit)": _("image too large (over PIL's decompression-bomb "
                                                                     "limit)")}
    if reason in fixed:
        return fixed[reason]
    found = _TOO_LARGE_SIZE.fullmatch(reason)
    if found:
        width, height, megapixels, limit = found.groups()
        return _("image too large ({width}×{height} = {megapixels} megapixels, over the limit of {limit}: "
                 "%config NNMagics.max_image_pixels)").format(width=width, height=height,
                                                              megapixels=num(float(megapixels), ".1f"),
                                                              limit=num(float(limit), "g"))
    found = _WITH_DETAIL.fullmatch(reason)
    if found:
        kind, detail = found.groups()
        return {"truncated image": _("truncated image ({detail})"), "corrupt image": _("corrupt image ({detail})"),
                "cannot read the file": _("cannot read the file ({detail})")}[kind].format(detail=detail)
    return reason


# ----------------------------------------------------------------------------- the pixel cap
def max_pixels() -> int:
    """The largest image read, in pixels (``%config NNMagics.max_image_pixels``, 64 megapixels by default).

    Example::

        >>> max_pixels() > 1_000_000                                  # doctest: +SKIP
        True
    """
    return int(settings().max_image_pixels)


def too_large(shape: tuple | None) -> str | None:
    """The reason to refuse an image of ``shape`` ``(h, w, …)`` over the pixel cap, else None.

    Example::

        >>> too_large((100, 100, 3)) is None                          # doctest: +SKIP
        True
    """
    if not shape:
        return None
    height, width = int(shape[0]), int(shape[1])
    if height * width <= max_pixels():
        return None
    return (f"{TOO_LARGE} ({width}×{height} = {height * width / 1e6:.1f} megapixels, over the limit of "
            f"{max_pixels() / 1e6:g}: %config NNMagics.max_image_pixels)")


# ----------------------------------------------------------------------------- modes and decoders
def to_rgb(image) -> Any:
    """A PIL image in any mode → an 8-bit RGB PIL image (16-bit and float images are rescaled).

    Example::

        >>> to_rgb(Image.new("I;16", (4, 4), 65535)).getpixel((0, 0))  # doctest: +SKIP
        (255, 255, 255)
    """
    from PIL import Image

    mode = image.mode
    if mode.startswith("I") or mode == "F":
        arr = np.asarray(image).astype(np.float64)
        if mode.startswith("I;16"):
            top = 65535.0
        else:
            peak = float(arr.max()) if arr.size else 0.0
            top = 1.0 if peak <= 1.0 else 255.0 if peak <= 255 else 65535.0 if peak <= 65535 else peak
        gray = np.clip(np.round(arr / top * 255.0), 0, 255).astype(np.uint8)
        return Image.fromarray(gray).convert("RGB")  # 2-D uint8: mode L
    if mode == "RGB":
        return image
    if mode in ("P", "PA"):
        image = image.convert("RGBA")
    return image.convert("RGB")


def png_bit_depth(path: str) -> int:
    """Bit depth from a PNG's IHDR chunk (16-bit PNGs are converted rather than left to TensorFlow)."""
    with open(path, "rb") as fh:
        header = fh.read(26)
    return header[24] if len(header) >= 25 else 8


def tf_can_decode(path: str, fmt: str | None, mode: str) -> bool:
    """Whether ``tf.io.decode_image(channels=3)`` gives the right RGB pixels for this file.

    Only 8-bit JPEG (RGB or grayscale) and 8-bit PNG qualify: TensorFlow's decoders for
    CMYK JPEG, 16-bit PNG, BMP variants, GIF, TIFF and WebP are missing or version-dependent.

    Example::

        >>> tf_can_decode("cat.jpg", "JPEG", "CMYK")
        False
    """
    if fmt in ("JPEG", "MPO"):  # MPO: phone/camera JPEGs with extra frames; TF reads the first
        return mode in ("RGB", "L")
    if fmt == "PNG":
        return mode in ("RGB", "RGBA", "L", "LA", "P", "1") and png_bit_depth(path) <= 8
    return False


def resize_pixels(image: Any, size: tuple[int, int]) -> Any:
    """The pipeline's resize: ``uint8`` ``(h, w, 3)`` → ``uint8`` tensor of ``size`` ``(height, width)``.

    TensorFlow bilinear (``tf.image.resize``: half-pixel centres, no antialiasing, as Keras'
    ``image_dataset_from_directory``), rounded to the nearest grey level. The dataset pipeline and
    :func:`read_image` both call it, so a file and its dataset element give the same pixels.

    A numpy array is resized in numpy (``decode.resize_array``: the same arithmetic, the same pixels),
    without TensorFlow; a TensorFlow tensor (inside a ``tf.data`` map) by TensorFlow.

    Example::

        >>> resize_pixels(np.zeros((40, 30, 3), "uint8"), (10, 10)).shape
        (10, 10, 3)
    """
    if isinstance(image, np.ndarray):
        from .decode import resize_array

        return resize_array(image, size)
    import tensorflow as tf

    resized = tf.image.resize(image, size, method="bilinear")
    return tf.cast(tf.clip_by_value(tf.round(resized), 0.0, 255.0), tf.uint8)


# ----------------------------------------------------------------------------- reading a file
def _existing_file(path: str | os.PathLike) -> str:
    path = os.path.expanduser(os.fspath(path))
    if os.path.isdir(path):
        raise NNUsageError(_("'{path}' is a folder; give one image file, or DATA[i] for an image of a dataset.").format(
            path=printable(path)))
    if not os.path.isfile(path):
        raise NNUsageError(_("No such image file: '{path}'; check the path "
                             "(relative paths start from {cwd}).").format(path=printable(path),
                                                                          cwd=printable(os.getcwd())))
    return path


def _unreadable(path: str, exc: BaseException) -> NNUsageError:
    from PIL import UnidentifiedImageError

    try:
        empty = os.path.getsize(path) == 0
    except OSError:
        return NNUsageError(_("No such image file: '{path}' (it vanished while being read); check the path.").format(
            path=printable(path)))
    if isinstance(exc, UnidentifiedImageError) or empty:
        return NNUsageError(_("'{path}' is not an image file; give a .jpg or .png file.").format(path=printable(path)))
    reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:160]
    return NNUsageError(_("'{path}' is not an image that can be read ({reason}); give a .jpg or .png file.").format(
        path=printable(path), reason=reason))


def _refused(path: str, reason: str) -> NNUsageError:
    return NNUsageError(_("'{path}' is not read: {reason}; shrink the image, "
                          "or raise the limit if you have the memory.").format(path=printable(path),
                                                                              reason=shown_reason(reason)))


def _open(path: str) -> tuple[Any, bool]:
    """The file decoded by PIL, converted to RGB, and whether TensorFlow decodes it as is.

    The pixel cap is checked from the header first; a truncated file is an error even when the
    user's code set ``ImageFile.LOAD_TRUNCATED_IMAGES`` (the dataset check skips such files too).
    """
    from PIL import Image, ImageFile

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            with Image.open(path) as im:
                reason = too_large((im.size[1], im.size[0]))
                if reason is None:
                    truncated, ImageFile.LOAD_TRUNCATED_IMAGES = ImageFile.LOAD_TRUNCATED_IMAGES, False
                    try:
                        im.load()
                    finally:
                        ImageFile.LOAD_TRUNCATED_IMAGES = truncated
                    return to_rgb(im), tf_can_decode(path, im.format, im.mode)
        except Image.DecompressionBombError:
            reason = f"{TOO_LARGE} (over PIL's decompression-bomb limit)"
        except NNUsageError:
            raise
        except Exception as exc:  # noqa: BLE001 - PIL raises OSError, SyntaxError, ValueError… on bad files
            raise _unreadable(path, exc) from None
    raise _refused(path, reason)


def read_rgb(path: str | os.PathLike) -> np.ndarray:
    """The file's pixels at their original size as an ``(h, w, 3)`` ``uint8`` array, for display.

    PIL only (no TensorFlow import): thumbnails and image grids. Model inputs come from
    :func:`read_image`, which decodes as the dataset pipeline does. Images over
    ``%config NNMagics.max_image_pixels`` are refused from their header, before decoding.

    Example::

        >>> read_rgb("cats/cat.0.jpg").shape                      # doctest: +SKIP
        (374, 500, 3)
    """
    image, _format = _open(_existing_file(path))
    return np.asarray(image)


def read_image(path: str | os.PathLike, size: tuple[int, int] | None = None) -> np.ndarray:
    """An image file → ``uint8`` ``(h, w, 3)`` RGB pixels, resized to ``size`` ``(height, width)`` if given.

    The pixels are those ``ImageData.as_tf_dataset`` serves for the same file (same decoder,
    same conversion of grayscale/RGBA/CMYK/16-bit/palette images, same bilinear resize), so a
    model predicts the same on the file and on its dataset element. The pixel cap is checked
    from the header before decoding. A missing file, a folder, a file that is not an image, a
    damaged or oversized one is one ``NNUsageError`` sentence naming the file. Cast to float32
    for a model (``read_image(p, (150, 150)).astype("float32")``): nnmagics models take 0–255.

    Example::

        >>> read_image("cats/cat.0.jpg").shape                     # doctest: +SKIP
        (374, 500, 3)
        >>> read_image("cats/cat.0.jpg", (150, 150)).dtype         # doctest: +SKIP
        dtype('uint8')
    """
    path = _existing_file(path)
    image, tf_decodes = _open(path)
    if not tf_decodes and size is None:
        return np.asarray(image)
    from ..runtime.backend import uses_tf

    if not uses_tf():   # JAX, PyTorch: the pipeline's decoder without TensorFlow (data/decode.py)
        from .decode import decode_file, resize_array

        pixels = decode_file(path) if tf_decodes else np.asarray(image)
        return resize_array(pixels, (int(size[0]), int(size[1]))) if size is not None else pixels
    import tensorflow as tf

    if tf_decodes:
        try:
            pixels = tf.io.decode_image(tf.io.read_file(path_bytes(path)), channels=3,
                                        expand_animations=False, dtype=tf.uint8)
        except tf.errors.OpError as exc:
            raise _unreadable(path, Exception(getattr(exc, "message", str(exc)))) from None
    else:
        pixels = tf.constant(np.asarray(image))
    if size is not None:
        pixels = resize_pixels(pixels, (int(size[0]), int(size[1])))
    return pixels.numpy()


__all__ = ["read_image", "read_rgb", "resize_pixels", "to_rgb", "max_pixels", "too_large", "tf_can_decode",
           "TOO_LARGE", "shown_reason"]
