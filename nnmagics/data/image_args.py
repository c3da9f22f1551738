"""The arguments of an image dataset: image size, batch size, class mode; each checked in one sentence.

Pure Python (no TensorFlow, no PIL)::

    parse_image_size("150x120")      # (150, 120)
    check_batch_size("20")           # 20
    check_class_mode("Binary")       # 'binary'
    parse_rescale("1/255")           # 0.00392156862745098
"""
from __future__ import annotations

import re
from typing import Any

from ..checks import positive_number, whole_number
from ..errors import NNUsageError, unknown
from ..i18n import _
from .base import CLASS_MODES
from .filenames import printable

DEFAULT_IMAGE_SIZE = (150, 150)
DEFAULT_BATCH_SIZE = 20
MAX_IMAGE_SIDE = 2048  # a batch of 20 float32 images of 2048×2048×3 is already 1 GB


def parse_image_size(value: Any) -> tuple[int, int]:
    """``150``, ``"150"``, ``"150x150"``, ``"150×120"`` or ``(150, 120)`` → ``(height, width)``.

    Example::

        >>> parse_image_size("150x120")
        (150, 120)
        >>> parse_image_size(64)
        (64, 64)
    """
    sizes: list[Any]
    if isinstance(value, str):
        match = re.fullmatch(r"[(\[]?\s*(\d+)\s*(?:(?:[x×X,*]|\s)\s*(\d+)\s*)?[)\]]?", value.strip())
        sizes = [g for g in match.groups() if g is not None] if match else []
    elif isinstance(value, (tuple, list)):
        sizes = list(value)
    else:
        sizes = [value]
    if len(sizes) == 1:
        sizes = sizes * 2
    try:
        if len(sizes) != 2:
            raise NNUsageError("two sides")  # internal: caught just below
        parsed = tuple(whole_number(s, "a side") for s in sizes)
    except NNUsageError:
        raise NNUsageError(
            _("Invalid image size {value}; give a positive size such as 150, '150x150' or (150, 150).").format(
                value=repr(value))
        ) from None
    if max(parsed) > MAX_IMAGE_SIDE:
        raise NNUsageError(_("Image size {height}×{width} is too large (each side at most {limit} "
                             "pixels: one batch would not fit in memory); the course uses 150, VGG16 224.").format(
                                 height=parsed[0], width=parsed[1], limit=MAX_IMAGE_SIDE))
    return parsed  # type: ignore[return-value]


def check_batch_size(value: Any) -> int:
    """A positive whole batch size, else ``NNUsageError``.

    Example::

        >>> check_batch_size("32")
        32
    """
    return whole_number(value, _("The batch size"), example="20")


def check_class_mode(value: str | None) -> str | None:
    """``None`` (choose from the number of classes) or one of ``binary``/``categorical``/``int``.

    Example::

        >>> check_class_mode(" Categorical ")
        'categorical'
    """
    if value is None:
        return None
    mode = str(value).strip().lower()
    if mode not in CLASS_MODES:
        raise unknown(_("Unknown class mode '{word}'."), value, CLASS_MODES)
    return mode


def parse_rescale(value: Any) -> float | None:
    """``ImageDataGenerator``'s ``rescale``: ``None``, a positive number, or ``"1/255"`` / ``"1./255"`` → a float.

    The pixels (0–255) are multiplied by it; ``None`` (or 1) keeps raw pixels.

    Example::

        >>> parse_rescale("1./255") == 1 / 255
        True
        >>> parse_rescale(None) is None
        True
    """
    if value is None:
        return None
    number = value
    if isinstance(value, str):
        match = re.fullmatch(r"\s*([0-9.eE+-]+)\s*(?:/\s*([0-9.eE+-]+)\s*)?", value)
        try:
            number = float(match.group(1)) / (float(match.group(2)) if match.group(2) else 1.0) if match else value
        except (ValueError, ZeroDivisionError):
            number = value
    scale = positive_number(number, _("The rescale factor"), example="--rescale 1/255")
    return None if scale == 1 else scale


def check_mode_fits(mode: str, classes: list[str], root: str) -> None:
    """One sentence when ``binary`` is asked of a folder that does not hold exactly two classes."""
    if mode == "binary" and len(classes) != 2:
        raise NNUsageError(
            _("class_mode 'binary' needs exactly 2 classes but '{folder}' has {n} "
              "({classes}); use class_mode 'categorical' or 'int'.").format(
                folder=printable(root), n=len(classes), classes=", ".join(classes))
        )


__all__ = ["parse_image_size", "check_batch_size", "check_class_mode", "check_mode_fits", "parse_rescale",
           "DEFAULT_IMAGE_SIZE", "DEFAULT_BATCH_SIZE", "MAX_IMAGE_SIDE"]
