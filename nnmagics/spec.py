"""The layer language of ``%nn_build`` → a neutral list of ``LayerSpec`` (pure Python).

One layer per line (cell form) or comma-separated (``--layers``)::

    input 2                 input 150x150x3
    dense 3 relu            conv 16 3 relu        pool 2
    flatten                 dropout 0.5           batchnorm
    gap                     augment               rescale 1/255

Blank lines and ``#`` comments are ignored.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from fractions import Fraction
from typing import Any

from .errors import NNUsageError, did_you_mean, unknown

ACTIVATIONS = (
    "relu", "sigmoid", "softmax", "tanh", "linear", "elu", "selu", "gelu", "swish", "silu",
    "softplus", "softsign", "leaky_relu", "relu6", "mish", "exponential", "hard_sigmoid",
    "log_softmax",
)

# word the user may type -> canonical layer kind
KIND_ALIASES = {
    "input": "input", "inputs": "input",
    "dense": "dense", "fc": "dense",
    "conv": "conv", "conv2d": "conv",
    "pool": "pool", "maxpool": "pool", "maxpooling": "pool", "maxpooling2d": "pool",
    "flatten": "flatten",
    "dropout": "dropout",
    "batchnorm": "batchnorm", "bn": "batchnorm", "batchnormalization": "batchnorm",
    "gap": "gap", "globalaveragepooling2d": "gap",
    "augment": "augment", "augmentation": "augment",
    "rescale": "rescale", "rescaling": "rescale",
}
LAYER_WORDS = ("input", "dense", "conv", "pool", "flatten", "dropout", "batchnorm", "gap", "augment", "rescale")

USAGE = {
    "input": "input 2  or  input 150x150x3",
    "dense": "dense UNITS [ACTIVATION], e.g. dense 3 relu",
    "conv": "conv FILTERS KERNEL [ACTIVATION], e.g. conv 16 3 relu",
    "pool": "pool SIZE, e.g. pool 2",
    "flatten": "flatten",
    "dropout": "dropout RATE, e.g. dropout 0.5",
    "batchnorm": "batchnorm",
    "gap": "gap",
    "augment": "augment",
    "rescale": "rescale 1/255",
}

PRESETS = {
    "course-dense": """
        input 2
        dense 3 relu
        dense 3 relu
        dense 3 softmax
    """,
    "course-cnn": """
        input 150x150x3
        rescale 1/255
        conv 16 3 relu
        pool 2
        conv 32 3 relu
        pool 2
        conv 64 3 relu
        pool 2
        flatten
        dense 512 relu
        dense 1 sigmoid
    """,
}


@dataclass(frozen=True)
class LayerSpec:
    """One layer: its kind and its arguments (``units``, ``activation``, ``shape``, …)."""

    kind: str
    args: dict[str, Any] = field(default_factory=dict)

    def __getattr__(self, name: str) -> Any:
        try:
            return self.__dict__["args"][name]
        except KeyError:
            raise AttributeError(name) from None

    def __str__(self) -> str:
        return format_layer(self)


def parse_layers(text: str) -> list[LayerSpec]:
    """Parse the layer language into ``LayerSpec`` objects.

    Example::

        >>> [str(s) for s in parse_layers("input 2, dense 3 relu, dense 3 softmax")]
        ['input 2', 'dense 3 relu', 'dense 3 softmax']
    """
    specs = []
    for raw in re.split(r"[\n,;]", text):
        line = raw.split("#", 1)[0].strip()
        if line:
            specs.append(parse_layer(line))
    return specs


def parse_layer(line: str) -> LayerSpec:
    """Parse one line such as ``conv 16 3 relu``."""
    words = line.split()
    word = words[0].lower()
    kind = KIND_ALIASES.get(word)
    if kind is None:
        raise unknown("layer", word, LAYER_WORDS)
    args = words[1:]
    try:
        return _PARSERS[kind](args)
    except _BadArgs as exc:
        raise NNUsageError(f"Cannot read '{line}': {exc}; write it as: {USAGE[kind]}.") from None


class _BadArgs(Exception):
    pass


def _count(args: list[str], low: int, high: int) -> None:
    if not low <= len(args) <= high:
        raise _BadArgs("wrong number of values")


def _positive_int(text: str, what: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise _BadArgs(f"{what} '{text}' is not a whole number") from None
    if value <= 0:
        raise _BadArgs(f"{what} must be positive, not {value}")
    return value


def _activation(text: str | None) -> str | None:
    if text is None:
        return None
    name = text.lower()
    if name not in ACTIVATIONS:
        raise unknown("activation", text, ACTIVATIONS)
    return name


def _shape(args: list[str]) -> tuple[int, ...]:
    if not args:
        raise _BadArgs("the shape is missing")
    for token in args:
        if not re.fullmatch(r"-?\d+([x×*]-?\d+)*", token.lower()):
            raise _BadArgs(f"'{token}' is not a size like 3, 3x3 or 150x150x3")
    parts = [p for a in args for p in re.split(r"[x×*]", a.lower()) if p]
    return tuple(_positive_int(p, "size") for p in parts)


def _parse_input(args):
    return LayerSpec("input", {"shape": _shape(args)})


def _parse_dense(args):
    _count(args, 1, 2)
    return LayerSpec("dense", {"units": _positive_int(args[0], "the number of units"),
                               "activation": _activation(args[1] if len(args) > 1 else None)})


def _parse_conv(args):
    _count(args, 2, 3)
    kernel = _shape([args[1]])
    if len(kernel) == 1:
        kernel = kernel * 2
    if len(kernel) != 2:
        raise _BadArgs("the kernel must be one size or HxW")
    return LayerSpec("conv", {"filters": _positive_int(args[0], "the number of filters"),
                              "kernel": kernel if kernel[0] != kernel[1] else kernel[0],
                              "activation": _activation(args[2] if len(args) > 2 else None)})


def _parse_pool(args):
    _count(args, 0, 1)
    return LayerSpec("pool", {"size": _positive_int(args[0], "the pool size") if args else 2})


def _parse_plain(kind):
    def parse(args):
        _count(args, 0, 0)
        return LayerSpec(kind, {})
    return parse


def _parse_dropout(args):
    _count(args, 1, 1)
    try:
        rate = float(args[0])
    except ValueError:
        raise _BadArgs(f"the rate '{args[0]}' is not a number") from None
    if not 0 <= rate < 1:
        raise NNUsageError(f"A dropout rate must be in [0, 1), not {args[0]}; 0.5 drops half the units.")
    return LayerSpec("dropout", {"rate": rate})


def _parse_rescale(args):
    _count(args, 0, 1)
    text = args[0] if args else "1/255"
    try:
        scale = Fraction(text)
    except (ValueError, ZeroDivisionError):
        raise _BadArgs(f"the scale '{text}' is not a number or fraction") from None
    return LayerSpec("rescale", {"scale": text, "value": float(scale)})


_PARSERS = {
    "input": _parse_input, "dense": _parse_dense, "conv": _parse_conv, "pool": _parse_pool,
    "flatten": _parse_plain("flatten"), "dropout": _parse_dropout, "batchnorm": _parse_plain("batchnorm"),
    "gap": _parse_plain("gap"), "augment": _parse_plain("augment"), "rescale": _parse_rescale,
}


def format_layer(spec: LayerSpec) -> str:
    """The layer-language line for ``spec`` (the inverse of ``parse_layer``)."""
    a = spec.args
    if spec.kind == "input":
        return "input " + "x".join(str(d) for d in a["shape"])
    if spec.kind == "dense":
        return " ".join(filter(None, ["dense", str(a["units"]), a.get("activation")]))
    if spec.kind == "conv":
        kernel = a["kernel"] if isinstance(a["kernel"], int) else "x".join(map(str, a["kernel"]))
        return " ".join(filter(None, ["conv", str(a["filters"]), str(kernel), a.get("activation")]))
    if spec.kind == "pool":
        return f"pool {a['size']}"
    if spec.kind == "dropout":
        return f"dropout {a['rate']:g}"
    if spec.kind == "rescale":
        return f"rescale {a['scale']}"
    return spec.kind


def preset_layers(name: str) -> list[LayerSpec]:
    """The layers of a named preset (``course-dense``, ``course-cnn``)."""
    key = name.lower()
    if key not in PRESETS:
        raise unknown("preset", name, PRESETS)
    return parse_layers(PRESETS[key])


def is_output_layer(spec: LayerSpec) -> bool:
    """A Dense layer ending in sigmoid or softmax reads as a classifier's output layer."""
    return spec.kind == "dense" and spec.args.get("activation") in ("sigmoid", "softmax")


def output_for(num_classes: int) -> LayerSpec:
    """The output layer for ``num_classes``: one sigmoid unit for two classes, else k softmax units."""
    if num_classes == 2:
        return LayerSpec("dense", {"units": 1, "activation": "sigmoid"})
    return LayerSpec("dense", {"units": num_classes, "activation": "softmax"})


def complete_layers(specs: list[LayerSpec], *, input_shape: tuple[int, ...] | None = None,
                    num_classes: int | None = None, dropout: float | None = None) -> list[LayerSpec]:
    """Fill in what the data tells: the input layer, the output layer, the course's dropout.

    - an ``input`` line is added from ``input_shape`` (or checked against it);
    - with ``num_classes``, a final sigmoid/softmax Dense is replaced by the right one, else appended;
    - ``dropout`` inserts a Dropout layer just before the output layer.
    """
    specs = list(specs)
    if input_shape is not None:
        shape = tuple(int(d) for d in input_shape)
        if specs and specs[0].kind == "input":
            if specs[0].shape != shape:
                raise NNUsageError(
                    f"The layers start with 'input {format_layer(specs[0])[6:]}' but the data's samples have shape "
                    f"{'x'.join(map(str, shape))}; remove the input line or fix it."
                )
        else:
            specs.insert(0, LayerSpec("input", {"shape": shape}))
    if num_classes is not None:
        wanted = output_for(num_classes)
        if specs and is_output_layer(specs[-1]):
            specs[-1] = wanted
        else:
            specs.append(wanted)
    if dropout is not None:
        if not 0 <= dropout < 1:
            raise NNUsageError(f"A dropout rate must be in [0, 1), not {dropout}; 0.5 drops half the units.")
        position = len(specs) - 1 if specs and is_output_layer(specs[-1]) else len(specs)
        specs.insert(position, LayerSpec("dropout", {"rate": float(dropout)}))
    return specs


def check_layers(specs: list[LayerSpec]) -> list[LayerSpec]:
    """Check the layers form a valid network (an input first, conv/pool on images only, …) whose values are
    safe to paste into code (``spec_checks.check_spec``) and whose weights fit in memory."""
    if not specs:
        raise NNUsageError("No layers given; pass --layers \"dense 3 relu, dense 3 softmax\", a cell of layers, or --preset.")
    from .spec_checks import check_size, check_spec

    for spec in specs:
        check_spec(spec)
    if specs[0].kind != "input":
        raise NNUsageError("The first layer must be 'input' (e.g. input 2 or input 150x150x3), or use --from DATA to infer it.")
    if any(s.kind == "input" for s in specs[1:]):
        raise NNUsageError("Only the first layer may be 'input'.")
    rank = len(specs[0].shape)
    for spec in specs[1:]:
        if spec.kind in ("conv", "pool", "gap", "augment") and rank != 3:
            raise NNUsageError(
                f"'{format_layer(spec)}' needs image inputs (height x width x channels) but the input here is "
                f"{'x'.join(map(str, specs[0].shape))}; use 'input 150x150x3' or Dense layers only."
            )
        if spec.kind in ("flatten", "gap"):
            rank = 1
    if rank != 1 and specs[-1].kind == "dense":
        raise NNUsageError("Add 'flatten' (or 'gap') before the Dense layers of an image network.")
    check_size(specs)
    return specs


def with_args(spec: LayerSpec, **changes: Any) -> LayerSpec:
    """A copy of ``spec`` with some arguments changed."""
    return replace(spec, args={**spec.args, **changes})
