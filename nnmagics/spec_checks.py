"""Checks on what goes into generated Keras code: model names, layer arguments, network size.

``build.py`` writes plain Keras code and runs it, so every value that reaches that code is
checked here first (pure Python, no TensorFlow import): names are Python identifiers, numbers
are numbers, activations come from a known list. The size check refuses a network whose
weights would not fit in memory before Keras allocates them.
"""
from __future__ import annotations

import keyword
import math
import os
import re
from fractions import Fraction
from typing import Any, Sequence

from .errors import NNUsageError, unknown

# the arguments each layer kind carries (LayerSpec.args keys)
LAYER_ARGS = {
    "input": {"shape"}, "dense": {"units", "activation"}, "conv": {"filters", "kernel", "activation"},
    "pool": {"size"}, "flatten": set(), "dropout": {"rate"}, "batchnorm": set(), "gap": set(),
    "augment": set(), "rescale": {"scale", "value"},
}
# a rescale factor as the user may write it: 1/255, 0.5, 2e-3, -1/127.5
_NUMBER = r"(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?"
_SCALE = re.compile(rf"-?{_NUMBER}(/{_NUMBER})?")
MAX_WEIGHT_BYTES = 4 * 1024 ** 3  # float32 weights above this are refused (and above a quarter of the RAM)


def check_name(name: Any, what: str = "model") -> str:
    """``name`` when it is a Python identifier (hence also a valid Keras name), else a NNUsageError.

    Example::

        >>> check_name("model_1")
        'model_1'
    """
    if not isinstance(name, str) or not name.isidentifier() or keyword.iskeyword(name):
        shown = name if isinstance(name, str) and len(name) <= 60 else f"{str(name)[:57]}…"
        raise NNUsageError(f"'{shown}' is not a valid {what} name; use letters, digits and underscores, "
                           f"starting with a letter (e.g. {what}_1).")
    return name


def _whole(value: Any, what: str, kind: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise NNUsageError(f"The {what} of a {kind} layer must be a positive whole number, not {value!r}.")
    return int(value)


def check_spec(spec) -> None:
    """Raise a NNUsageError unless ``spec`` (a ``LayerSpec``) holds only values of the expected types.

    Specs from the layer language always pass; this guards specs made in Python, whose
    values are pasted into generated code.

    Example::

        check_spec(LayerSpec("dense", {"units": 3, "activation": "relu"}))     # fine
        check_spec(LayerSpec("dense", {"units": "3); import os; (1"}))       # NNUsageError
    """
    from .spec import ACTIVATIONS, LAYER_WORDS, USAGE

    if not isinstance(getattr(spec, "kind", None), str) or not isinstance(getattr(spec, "args", None), dict):
        raise NNUsageError(f"Layers must be LayerSpec objects or the layer language (e.g. \"dense 3 relu\"), "
                           f"not a {type(spec).__name__}.")
    kind = spec.kind
    if kind not in LAYER_ARGS:
        raise unknown("layer", kind, LAYER_WORDS)
    args = spec.args
    extra = sorted(set(args) - LAYER_ARGS[kind])
    if extra:
        raise NNUsageError(f"A {kind} layer takes no argument '{str(extra[0])[:40]}'; its arguments are those of: "
                           f"{USAGE[kind]}.")
    if kind == "input":
        shape = args.get("shape")
        if not isinstance(shape, (tuple, list)) or not shape:
            raise NNUsageError(f"The shape of an input layer must be a tuple of sizes like (2,) or (150, 150, 3), "
                               f"not {shape!r}.")
        for size in shape:
            _whole(size, "size", kind)
    elif kind == "dense":
        _whole(args.get("units"), "number of units", kind)
    elif kind == "conv":
        _whole(args.get("filters"), "number of filters", kind)
        kernel = args.get("kernel")
        sizes = kernel if isinstance(kernel, (tuple, list)) else (kernel,)
        if len(sizes) not in (1, 2):
            raise NNUsageError(f"The kernel of a conv layer must be one size or (height, width), not {kernel!r}.")
        for size in sizes:
            _whole(size, "kernel size", kind)
    elif kind == "pool":
        _whole(args.get("size"), "size", kind)
    elif kind == "dropout":
        rate = args.get("rate")
        if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not 0 <= rate < 1:
            raise NNUsageError(f"A dropout rate must be in [0, 1), not {rate!r}; 0.5 drops half the units.")
    elif kind == "rescale":
        scale = args.get("scale")
        if not isinstance(scale, str) or not _SCALE.fullmatch(scale):
            raise NNUsageError(f"A rescale factor must be a number or a fraction like 1/255, not {scale!r}.")
        try:
            Fraction(scale)
        except (ValueError, ZeroDivisionError):
            raise NNUsageError(f"A rescale factor must be a number or a fraction like 1/255, not {scale!r}.") from None
    if kind in ("dense", "conv"):
        activation = args.get("activation")
        if activation is not None and activation not in ACTIVATIONS:
            raise unknown("activation", str(activation)[:40], ACTIVATIONS)


# -- size ---------------------------------------------------------------------------------------
def _conv_out(size: int, kernel: int) -> int:
    return size - kernel + 1  # Keras' default: "valid" padding, stride 1


def count_params(specs: Sequence) -> int:
    """The parameter count of checked ``specs``, computed without building anything.

    Example::

        >>> from nnmagics.spec import parse_layers
        >>> count_params(parse_layers("input 2, dense 3 relu, dense 3 relu, dense 3 softmax"))
        33
    """
    shape = list(specs[0].args["shape"])
    total = 0
    for spec in specs[1:]:
        a = spec.args
        if spec.kind == "dense":
            total += shape[-1] * a["units"] + a["units"]
            shape = shape[:-1] + [a["units"]]
        elif spec.kind == "conv":
            kh, kw = a["kernel"] if isinstance(a["kernel"], (tuple, list)) else (a["kernel"], a["kernel"])
            total += kh * kw * shape[-1] * a["filters"] + a["filters"]
            shape = [_conv_out(shape[0], kh), _conv_out(shape[1], kw), a["filters"]]
        elif spec.kind == "pool":
            shape = [shape[0] // a["size"], shape[1] // a["size"], shape[2]]
        elif spec.kind == "flatten":
            shape = [math.prod(shape)]
        elif spec.kind == "gap":
            shape = [shape[-1]]
        elif spec.kind == "batchnorm":
            total += 4 * shape[-1]
        if any(d <= 0 for d in shape):
            raise NNUsageError(f"'{spec}' leaves nothing of the image (its output would be "
                               f"{'x'.join(map(str, shape))}); use larger images or fewer conv/pool layers.")
    return total


def memory_limit() -> int:
    """The most bytes of float32 weights a model may hold here: 4 GiB, or a quarter of the RAM if less."""
    try:
        ram = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):  # not Linux/macOS
        return MAX_WEIGHT_BYTES
    return min(MAX_WEIGHT_BYTES, ram // 4)


def check_size(specs: Sequence, limit: int | None = None) -> int:
    """The parameter count; a NNUsageError when the float32 weights would exceed ``limit`` bytes.

    Example::

        check_size(parse_layers("input 100000, dense 100000"))
        # NNUsageError: This network would have 10,000,100,000 parameters (37.3 GiB of float32 weights) …
    """
    params = count_params(specs)
    limit = memory_limit() if limit is None else limit
    if params * 4 > limit:
        raise NNUsageError(
            f"This network would have {params:,} parameters ({params * 4 / 1024 ** 3:.1f} GiB of float32 weights), "
            f"more than the {limit / 1024 ** 3:.1f} GiB allowed here; use fewer units, smaller inputs, or "
            "pool/gap before the Dense layers."
        )
    return params
