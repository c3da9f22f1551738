"""What the data and the presets add to a layer list: the course's presets, the input and output layers,
the course's dropout. Pure Python (no Keras import), like ``nnmagics.model.spec`` which it completes.

Example::

    complete_layers(parse_layers("dense 3 relu"), input_shape=(2,), num_classes=3)
    # [input 2, dense 3 relu, dense 3 softmax]
"""
from __future__ import annotations

from typing import Any

from . import spec_checks as sc
from ..errors import NNUsageError, unknown
from ..i18n import _
from .spec import LayerSpec, format_layer, parse_layer, parse_layers  # noqa: F401 - parse_layer: doctests

PRESETS = {
    "course-dense": "input 2, dense 3 relu, dense 3 relu, dense 3 softmax",
    "course-cnn": "input 150x150x3, rescale 1/255, conv 16 3 relu, pool 2, conv 32 3 relu, pool 2, conv 64 3 relu, "
                  "pool 2, flatten, dense 512 relu, dense 1 sigmoid",
}


def preset_layers(name: str) -> list[LayerSpec]:
    """The layers of a named preset (``course-dense``, ``course-cnn``).

    Example::

        >>> len(preset_layers("course-cnn"))
        11
    """
    key = name.lower()
    if key not in PRESETS:
        raise unknown(_("Unknown preset '{word}'."), name, PRESETS)
    return parse_layers(PRESETS[key])


def is_output_layer(spec: LayerSpec) -> bool:
    """A Dense layer ending in sigmoid or softmax reads as a classifier's output layer.

    Example::

        >>> is_output_layer(parse_layer("dense 3 softmax")), is_output_layer(parse_layer("dense 3 relu"))
        (True, False)
    """
    return spec.kind == "dense" and spec.args.get("activation") in ("sigmoid", "softmax")


def output_for(num_classes: int) -> LayerSpec:
    """The output layer for ``num_classes``: one sigmoid unit for two classes, else k softmax units.

    Example::

        >>> str(output_for(2)), str(output_for(3))
        ('dense 1 sigmoid', 'dense 3 softmax')
    """
    if num_classes == 2:
        return LayerSpec("dense", {"units": 1, "activation": "sigmoid"})
    return LayerSpec("dense", {"units": num_classes, "activation": "softmax"})


def complete_layers(specs: list[LayerSpec], *, input_shape: tuple[int, ...] | None = None,
                    num_classes: int | None = None, dropout: Any = None) -> list[LayerSpec]:
    """Fill in what the data tells: the input layer, the output layer, the course's dropout.

    - an ``input`` line is added from ``input_shape`` (or checked against it);
    - with ``num_classes``, a final sigmoid/softmax Dense is replaced by the right one, else appended;
    - ``dropout`` (a number or its text) inserts a Dropout layer just before the output layer.

    Example::

        >>> [str(s) for s in complete_layers(parse_layers("dense 3 relu"), input_shape=(2,), num_classes=3)]
        ['input 2', 'dense 3 relu', 'dense 3 softmax']
    """
    specs = list(specs)
    if input_shape is not None:
        shape = tuple(int(d) for d in input_shape)
        if specs and specs[0].kind == "input":
            if tuple(specs[0].shape) != shape:
                raise NNUsageError(_(
                    "The layers start with '{layer}' but the data's samples have shape {shape}; remove the input "
                    "line or fix it.").format(layer=format_layer(specs[0]), shape="x".join(map(str, shape))))
        else:
            specs.insert(0, LayerSpec("input", {"shape": shape}))
    if num_classes is not None:
        wanted = output_for(num_classes)
        if specs and is_output_layer(specs[-1]):
            specs[-1] = wanted
        else:
            specs.append(wanted)
    if dropout is not None:
        rate = sc.dropout_rate(dropout, "--dropout")
        position = len(specs) - 1 if specs and is_output_layer(specs[-1]) else len(specs)
        specs.insert(position, LayerSpec("dropout", {"rate": rate}))
    return specs
