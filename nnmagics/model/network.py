"""The checks a whole network of layer specs passes before anything is built, and its parameter count.

:func:`check_layers` is what ``build_model`` and ``%nn_build`` run on the parsed layers: an input first,
convolutions and pooling on images only, Flatten before Dense on images, every value safe to write into
code (``spec.check_spec``) and weights that fit in memory (``layer_sizes.check_size``). Example::

    from nnmagics.model.network import check_layers, count_params
    count_params(check_layers(parse_layers("input 2, dense 3 relu, dense 3 softmax")))   # 21
"""
from __future__ import annotations

from . import layer_sizes as ls
from ..errors import NNUsageError
from ..i18n import _
from .spec import LayerSpec, check_spec, format_layer, kind_of


def check_layers(specs: list[LayerSpec]) -> list[LayerSpec]:
    """The canonical specs once they form a valid network (an input first, conv/pool on images only, …)
    whose values are safe to write into code (:func:`check_spec`) and whose weights fit in memory.

    Example::

        check_layers(parse_layers("input 2, conv 16 3"))   # NNUsageError: 'conv 16 3' needs image inputs …
    """
    if not specs:
        raise NNUsageError(_("No layers given; pass --layers \"dense 3 relu, dense 3 softmax\", a cell of layers, "
                             "or --preset."))
    specs = [check_spec(spec) for spec in specs]
    if specs[0].kind != "input":
        raise NNUsageError(_("The first layer must be 'input' (e.g. input 2 or input 150x150x3), or use --from DATA "
                             "to infer it."))
    if any(s.kind == "input" for s in specs[1:]):
        raise NNUsageError(_("Only the first layer may be 'input'."))
    shape = list(specs[0].shape)
    for spec in specs[1:]:
        row = kind_of(spec.kind)
        if row.image_only and len(shape) != 3:
            raise NNUsageError(_(
                "'{layer}' needs image inputs (height x width x channels) but the input here is {shape}; "
                "use 'input 150x150x3' or Dense layers only.").format(
                layer=format_layer(spec), shape="x".join(map(str, specs[0].shape))))
        shape = list(row.shape(list(shape), spec.args)[0])
    if len(shape) != 1 and specs[-1].kind == "dense":
        raise NNUsageError(_("Add 'flatten' (or 'gap') before the Dense layers of an image network."))
    ls.check_size(specs, kind_of)
    return specs


def count_params(specs: list[LayerSpec]) -> int:
    """The parameter count of checked ``specs``, from the layer table, without building anything.

    Example::

        >>> from nnmagics.model.spec import parse_layers
        >>> count_params(parse_layers("input 2, dense 3 relu, dense 3 relu, dense 3 softmax"))
        33
    """
    return ls.count_params(specs, kind_of)
