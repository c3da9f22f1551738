"""The size of a network before it is built: each layer kind's output shape and parameter count.

Every ``LayerKind.shape`` in ``nnmagics.model.spec`` is one of these functions: (input shape without the
batch axis, checked arguments) → (output shape, parameter count). ``check_size`` refuses a network whose
float32 weights would not fit, before Keras allocates anything.
"""
from __future__ import annotations

import math
import os
from typing import Sequence

from ..errors import NNUsageError
from ..i18n import _, num

MAX_WEIGHT_BYTES = 4 * 1024 ** 3  # float32 weights above this are refused (and above a quarter of the RAM)


def same_shape(shape: list[int], args: dict) -> tuple[list[int], int]:
    """Layers that keep the shape and have no weights (dropout, rescale, augment)."""
    return shape, 0


def dense_shape(shape, args):
    """``inputs × units + units``; the last axis becomes ``units``. Every ``LayerKind.shape`` has this form:
    (input shape without the batch axis, checked args) → (output shape, parameter count).

    Example::

        >>> dense_shape([2], {"units": 3})
        ([3], 9)
    """
    units = args["units"]
    return shape[:-1] + [units], shape[-1] * units + units


def conv_shape(shape, args):
    """``kh × kw × channels × filters + filters``; "valid" padding, stride 1 (Keras' defaults)."""
    kh, kw = args["kernel"] if isinstance(args["kernel"], tuple) else (args["kernel"],) * 2
    filters = args["filters"]
    return [shape[0] - kh + 1, shape[1] - kw + 1, filters], kh * kw * shape[-1] * filters + filters


def pool_shape(shape, args):
    """Pooling by ``size`` (stride = size, "valid" padding): height and width divided."""
    return [shape[0] // args["size"], shape[1] // args["size"], shape[2]], 0


def flatten_shape(shape, args):
    return [math.prod(shape)], 0


def gap_shape(shape, args):
    return [shape[-1]], 0


def batchnorm_shape(shape, args):
    """γ, β, moving mean and variance per channel."""
    return shape, 4 * shape[-1]


def count_params(specs: Sequence, kind_of) -> int:
    """The parameter count of checked ``specs``, computed from the table (``kind_of``: word → its row) without
    building anything (``network.count_params`` passes the layer table).

    Example::

        >>> from nnmagics.model.spec import kind_of, parse_layers
        >>> count_params(parse_layers("input 2, dense 3 relu, dense 3 relu, dense 3 softmax"), kind_of)
        33
    """
    shape = list(specs[0].args["shape"])
    total = 0
    for spec in specs[1:]:
        shape, params = kind_of(spec.kind).shape(list(shape), spec.args)
        total += params
        if any(d <= 0 for d in shape):
            raise NNUsageError(_("'{layer}' leaves nothing of the image (its output would be {shape}); use larger "
                                 "images or fewer conv/pool layers.").format(layer=spec, shape="x".join(map(str, shape))))
    return total


def memory_limit() -> int:
    """The most bytes of float32 weights a model may hold here: 4 GiB, or a quarter of the RAM if less.

    Example::

        >>> memory_limit() <= 4 * 1024 ** 3
        True
    """
    try:
        ram = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):  # not Linux/macOS
        return MAX_WEIGHT_BYTES
    return min(MAX_WEIGHT_BYTES, ram // 4)


def check_size(specs: Sequence, kind_of, limit: int | None = None) -> int:
    """The parameter count; a NNUsageError when the float32 weights would exceed ``limit`` bytes.

    Example::

        check_size(parse_layers("input 100000, dense 100000"), kind_of)
        # NNUsageError: This network would have 10,000,100,000 parameters (37.3 GiB of float32 weights) …
    """
    params = count_params(specs, kind_of)
    limit = memory_limit() if limit is None else limit
    if params * 4 > limit:
        raise NNUsageError(_(
            "This network would have {params} parameters ({size} GiB of float32 weights), more than the {limit} GiB "
            "allowed here; use fewer units, smaller inputs, or pool/gap before the Dense layers.").format(
            params=num(params, ","), size=num(params * 4 / 1024 ** 3, ".1f"), limit=num(limit / 1024 ** 3, ".1f")))
    return params
