"""Layer specs → a Keras model, built the course's three ways, and its equivalent plain Keras code.

The printed code is the code that runs: ``build_model`` executes ``model_code``, whose every layer
is written by its row of the layer table (``spec.LAYER_KINDS``) from checked, ``repr``'d values.
"""
from __future__ import annotations

import weakref
from typing import Any, Sequence

from ..errors import NNUsageError, unknown
from ..i18n import _
from .presets import complete_layers, preset_layers
from .network import check_layers
from .spec import LayerSpec, check_spec, kind_of, parse_layers
from .spec_checks import check_name

APIS = ("functional", "sequential", "subclass")
BASE_IMPORTS = ("import keras", "from keras import layers")

# model -> the specs it was built from (models are not always happy to carry extra attributes)
_SPECS: "weakref.WeakKeyDictionary[Any, list[LayerSpec]]" = weakref.WeakKeyDictionary()


def layer_code(spec: LayerSpec) -> str:
    """The Keras expression that makes the layer, e.g. ``layers.Dense(3, activation="relu")``.

    Read from the spec's row of the layer table (``spec.LayerKind.code``): every value is checked
    (``spec_checks.check_spec``) and written by its type's literal (``repr``), never pasted as text.

    Example::

        >>> layer_code(LayerSpec("dense", {"units": 3, "activation": "relu"}))
        'layers.Dense(3, activation="relu")'
        >>> layer_code(LayerSpec("augment", {"seed": 0}))
        'FusedAugment(seed=0)'
    """
    spec = check_spec(spec)
    return kind_of(spec.kind).code(spec.args)


def code_imports(specs: Sequence[LayerSpec]) -> list[str]:
    """The import lines the code of ``specs`` needs: Keras', then each kind's own (its row's ``imports``).

    Example::

        >>> code_imports(parse_layers("input 8x8x3, augment"))[-1]
        'from nnmagics.data.augment_fused import FusedAugment'
    """
    lines = list(BASE_IMPORTS)
    for spec in specs:
        lines += [line for line in kind_of(spec.kind).imports if line not in lines]
    return lines


def _run(code: str, specs: Sequence[LayerSpec]) -> dict:
    """Run generated ``code`` after the imports it needs; returns its namespace."""
    namespace: dict = {}
    exec("\n".join(code_imports(specs)), namespace)  # noqa: S102 - constant import lines of the table
    exec(code, namespace)  # noqa: S102 - our own generated code, every value checked and repr()'d
    return namespace


def make_layer(spec: LayerSpec):
    """The Keras layer for ``spec``, evaluated from ``layer_code`` so code and object never differ.

    Example::

        make_layer(LayerSpec("dense", {"units": 3}))     # a keras.layers.Dense
    """
    code = layer_code(spec)
    return _run(f"layer = {code}", [spec])["layer"]


# the augmentation, as ``%nn_build``'s ``augment`` line prints it and as ``make_augmentation`` runs it
AUGMENT_CODE = layer_code(LayerSpec("augment", {}))


def make_augmentation(seed: int | None = None):
    """The course's ImageDataGenerator augmentation (rotation 40°, shifts 0.2, shear 0.2, zoom 0.2,
    horizontal flip, nearest fill) as one ``FusedAugment`` layer: one projective transform per image.

    Made from the ``augment`` row of the layer table, as ``%nn_build``'s ``augment`` line and its
    ``--code`` (``AUGMENT_CODE``), so the printed code cannot drift from what trains.

    Example::

        augment = make_augmentation(seed=0)
        batch = augment(images, training=True)
    """
    return make_layer(LayerSpec("augment", {"seed": seed}))


def resolve_layers(layers: str | Sequence[LayerSpec] | None = None, *, preset: str | None = None,
                   data: Any = None, input_shape: Sequence[int] | None = None,
                   dropout: float | None = None) -> list[LayerSpec]:
    """Combine a layer text or spec list, a preset and a dataset into the final checked layer list.

    Example::

        >>> [str(s) for s in resolve_layers("dense 3 relu", input_shape=(2,), dropout=0.5)]
        ['input 2', 'dense 3 relu', 'dropout 0.5']
    """
    if isinstance(layers, str):
        specs = parse_layers(layers)
    else:
        specs = list(layers or [])
    if preset:
        if specs:
            raise NNUsageError(_("Give either --preset or layers, not both."))
        specs = preset_layers(preset)
    num_classes = None
    if data is not None:
        input_shape = input_shape or getattr(data, "input_shape", None)
        num_classes = getattr(data, "num_classes", None)
        if input_shape is None or num_classes is None:
            raise NNUsageError(_("--from needs a dataset made by %nn_data, not a {type}.").format(
                type=type(data).__name__))
    specs = complete_layers(specs, input_shape=input_shape, num_classes=num_classes, dropout=dropout)
    return check_layers(specs)


def build_model(layers: str | Sequence[LayerSpec] | None = None, *, api: str = "functional",
                preset: str | None = None, data: Any = None, input_shape: Sequence[int] | None = None,
                dropout: float | None = None, name: str | None = None):
    """Build a Keras model from the layer language, a preset or a spec list.

    ``api`` is ``functional`` (default), ``sequential`` or ``subclass``: the same network
    the course's three ways. ``data`` (a ``%nn_data`` dataset) fills in the input shape and
    the output layer. A model built inside a ``tf.distribute`` strategy scope lives there.

    Example::

        model = build_model("input 2, dense 3 relu, dense 3 relu, dense 3 softmax", api="sequential")
        model = build_model(preset="course-cnn", dropout=0.5)
    """
    if name is not None:
        check_name(name)
    api = (api or "functional").lower()
    if api not in APIS:
        raise unknown(_("Unknown API '{word}'."), api, APIS)
    specs = resolve_layers(layers, preset=preset, data=data, input_shape=input_shape, dropout=dropout)
    namespace: dict = {}
    exec(model_code(specs, api=api, name=name), namespace)  # noqa: S102 - the printed code, values checked and repr()'d
    model = namespace["model"]
    _SPECS[model] = specs
    return model


def specs_of(model) -> list[LayerSpec] | None:
    """The layer specs a model was built from by nnmagics (None for other models).

    Example::

        [str(s) for s in specs_of(build_model(preset="course-dense"))][:2]   # ['input 2', 'dense 3 relu']
    """
    try:
        return _SPECS.get(model)
    except TypeError:
        return None


def model_code(specs: str | Sequence[LayerSpec], *, api: str = "functional", name: str | None = None,
               imports: bool = True) -> str:
    """Plain Keras code that builds the network ``specs`` describes with the chosen API: the code that
    ``build_model`` runs (``--code`` prints it). Each layer's line comes from its row of the layer table.

    Example::

        print(model_code("input 2, dense 3 relu, dense 3 softmax", api="sequential"))
    """
    specs = check_layers(parse_layers(specs) if isinstance(specs, str) else list(specs))
    if name is not None:
        check_name(name)
    api = api.lower()
    if api not in APIS:
        raise unknown(_("Unknown API '{word}'."), api, APIS)
    head = code_imports(specs) + [""] if imports else []
    input_spec, body = specs[0], list(specs[1:])
    inputs = layer_code(input_spec)
    label = f', name="{name}"' if name else ""   # a checked identifier
    if api == "sequential":
        lines = ["model = keras.Sequential([", f"    {inputs},"]
        for spec in body:
            lines += _comment(spec, "    ") + [f"    {layer_code(spec)},"]
        lines += [f"]{label})"]
    elif api == "functional":
        lines = [f"inputs = {inputs}"]
        previous = "inputs"
        for i, spec in enumerate(body):
            target = "outputs" if i == len(body) - 1 else "x"
            lines += _comment(spec, "") + [f"{target} = {layer_code(spec)}({previous})"]
            previous = target
        if not body:
            lines.append("outputs = inputs")
        lines.append(f"model = keras.Model(inputs=inputs, outputs=outputs{label})")
    else:
        lines = _subclass_code(body, inputs, label)
    return "\n".join(head + lines) + "\n"


def _comment(spec: LayerSpec, indent: str) -> list[str]:
    """The comment line the spec's row prints above its code (none for most kinds)."""
    row = kind_of(spec.kind)
    return [f"{indent}# {row.comment(spec.args)}"] if row.comment else []


def _subclass_code(body: list[LayerSpec], inputs: str, label: str) -> list[str]:
    counts: dict[str, int] = {}
    names = []
    for spec in body:
        counts[spec.kind] = counts.get(spec.kind, 0) + 1
        names.append(f"{spec.kind}{counts[spec.kind]}")
    lines = [
        "class Net(keras.Model):",
        "    def __init__(self, **kwargs):",
        "        super().__init__(**kwargs)",
    ]
    for attr, spec in zip(names, body):
        lines += _comment(spec, "        ") + [f"        self.{attr} = {layer_code(spec)}"]
    lines += ["", "    def call(self, x, training=False):"]
    for attr, spec in zip(names, body):
        extra = ", training=training" if kind_of(spec.kind).training else ""
        lines.append(f"        x = self.{attr}(x{extra})")
    lines += [
        "        return x",
        "",
        "",
        f"model = Net({label.lstrip(', ')})",
        f"model({inputs})  # " + _("call it once so that its weights exist (summary, count_params)"),
    ]
    return lines
