"""Layer specs → a Keras model, built the course's three ways, and its equivalent plain Keras code.

The layer objects and the printed code come from one table (``_LAYERS``), so the code
``%nn_build --code`` shows always rebuilds the same model.
"""
from __future__ import annotations

import weakref
from typing import Any, Sequence

from .errors import NNUsageError, unknown
from .spec import LayerSpec, check_layers, complete_layers, parse_layers, preset_layers
from .spec_checks import check_name, check_spec

APIS = ("functional", "sequential", "subclass")

# the course's ImageDataGenerator augmentation, as Keras preprocessing layers
AUGMENT_CODE = [
    'layers.RandomFlip("horizontal")',
    "layers.RandomRotation(40 / 360, fill_mode=\"nearest\")",
    'layers.RandomTranslation(0.2, 0.2, fill_mode="nearest")',
    'layers.RandomShear(x_factor=0.2, y_factor=0.2, fill_mode="nearest")',
    'layers.RandomZoom(0.2, fill_mode="nearest")',
]

# model -> the specs it was built from (models are not always happy to carry extra attributes)
_SPECS: "weakref.WeakKeyDictionary[Any, list[LayerSpec]]" = weakref.WeakKeyDictionary()


def _lit(value: Any) -> str:
    """A checked value as a Python literal: ``repr``, with double quotes for plain words (Keras' style)."""
    if isinstance(value, str) and value.isidentifier():
        return f'"{value}"'
    return repr(value)


def layer_code(spec: LayerSpec) -> str:
    """The Keras expression that makes the layer, e.g. ``layers.Dense(3, activation="relu")``.

    Every value is checked (``spec_checks.check_spec``) and written as a literal, never pasted as text.

    Example::

        layer_code(LayerSpec("dense", {"units": 3, "activation": "relu"}))   # 'layers.Dense(3, activation="relu")'
    """
    check_spec(spec)
    a = spec.args
    act = f", activation={_lit(a['activation'])}" if a.get("activation") else ""
    if spec.kind == "dense":
        return f"layers.Dense({_lit(int(a['units']))}{act})"
    if spec.kind == "conv":
        kernel = a["kernel"] if isinstance(a["kernel"], int) else tuple(int(k) for k in a["kernel"])
        return f"layers.Conv2D({_lit(int(a['filters']))}, {_lit(kernel)}{act})"
    if spec.kind == "pool":
        return f"layers.MaxPooling2D({_lit(int(a['size']))})"
    if spec.kind == "flatten":
        return "layers.Flatten()"
    if spec.kind == "dropout":
        return f"layers.Dropout({float(a['rate']):g})"
    if spec.kind == "batchnorm":
        return "layers.BatchNormalization()"
    if spec.kind == "gap":
        return "layers.GlobalAveragePooling2D()"
    if spec.kind == "rescale":
        return f"layers.Rescaling({a['scale']})"  # check_spec: a number or a fraction such as 1/255
    if spec.kind == "augment":
        inner = ",\n        ".join(AUGMENT_CODE)
        return f'keras.Sequential([\n        {inner},\n    ], name="augmentation")'
    raise AssertionError(f"no code for {spec.kind}")  # pragma: no cover - input is handled by callers


def make_layer(spec: LayerSpec):
    """The Keras layer for ``spec`` (evaluated from ``layer_code`` so code and object never differ)."""
    import keras
    from keras import layers

    return eval(layer_code(spec), {"keras": keras, "layers": layers})  # noqa: S307 - our own generated code


def _input_shape_code(spec: LayerSpec) -> str:
    return _lit(tuple(int(d) for d in spec.shape))


def resolve_layers(layers: str | Sequence[LayerSpec] | None = None, *, preset: str | None = None,
                   data: Any = None, input_shape: Sequence[int] | None = None,
                   dropout: float | None = None) -> list[LayerSpec]:
    """Combine a layer text or spec list, a preset and a dataset into the final checked layer list."""
    if isinstance(layers, str):
        specs = parse_layers(layers)
    else:
        specs = list(layers or [])
    if preset:
        if specs:
            raise NNUsageError("Give either --preset or layers, not both.")
        specs = preset_layers(preset)
    num_classes = None
    if data is not None:
        input_shape = input_shape or getattr(data, "input_shape", None)
        num_classes = getattr(data, "num_classes", None)
        if input_shape is None or num_classes is None:
            raise NNUsageError(f"--from needs a dataset made by %nn_data, not a {type(data).__name__}.")
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
        raise unknown("API", api, APIS)
    specs = resolve_layers(layers, preset=preset, data=data, input_shape=input_shape, dropout=dropout)
    import keras

    namespace = {"keras": keras, "layers": keras.layers}
    exec(model_code(specs, api=api, name=name, imports=False), namespace)  # noqa: S102 - our own generated code
    model = namespace["model"]
    _SPECS[model] = specs
    return model


def specs_of(model) -> list[LayerSpec] | None:
    """The layer specs a model was built from by nnmagics (None for other models)."""
    try:
        return _SPECS.get(model)
    except TypeError:
        return None


def model_code(specs: str | Sequence[LayerSpec], *, api: str = "functional", name: str | None = None,
               imports: bool = True) -> str:
    """Plain Keras code that builds the network ``specs`` describes with the chosen API.

    Example::

        print(model_code("input 2, dense 3 relu, dense 3 softmax", api="sequential"))
    """
    specs = check_layers(parse_layers(specs) if isinstance(specs, str) else list(specs))
    if name is not None:
        check_name(name)
    api = api.lower()
    if api not in APIS:
        raise unknown("API", api, APIS)
    head = ["import keras", "from keras import layers", ""] if imports else []
    input_spec, body = specs[0], list(specs[1:])
    shape = _input_shape_code(input_spec)
    label = f", name={_lit(name)}" if name else ""
    if api == "sequential":
        lines = ["model = keras.Sequential([", f"    keras.Input(shape={shape}),"]
        lines += [f"    {layer_code(s)}," for s in body]
        lines += [f"]{label})"]
    elif api == "functional":
        lines = [f"inputs = keras.Input(shape={shape})"]
        previous = "inputs"
        for i, spec in enumerate(body):
            target = "outputs" if i == len(body) - 1 else "x"
            lines.append(f"{target} = {layer_code(spec)}({previous})")
            previous = target
        if not body:
            lines.append("outputs = inputs")
        lines.append(f"model = keras.Model(inputs=inputs, outputs=outputs{label})")
    else:
        lines = _subclass_code(input_spec, body, shape, label)
    return "\n".join(head + lines) + "\n"


def _subclass_code(input_spec: LayerSpec, body: list[LayerSpec], shape: str, label: str) -> list[str]:
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
        code = layer_code(spec).replace("\n", "\n        ")
        lines.append(f"        self.{attr} = {code}")
    lines += ["", "    def call(self, x, training=False):"]
    for attr, spec in zip(names, body):
        extra = ", training=training" if spec.kind in ("dropout", "batchnorm", "augment") else ""
        lines.append(f"        x = self.{attr}(x{extra})")
    lines += [
        "        return x",
        "",
        "",
        f"model = Net({label.lstrip(', ')})",
        f"model(keras.Input(shape={shape}))  # call it once so that its weights exist (summary, count_params)",
    ]
    return lines


def make_augmentation(seed: int | None = None):
    """The course's ImageDataGenerator augmentation (rotation 40°, shifts 0.2, shear 0.2, zoom 0.2,
    horizontal flip, nearest fill) as one Keras ``Sequential`` of preprocessing layers.

    Example::

        augment = make_augmentation(seed=0)
        batch = augment(images, training=True)
    """
    import keras
    from keras import layers

    if seed is None:
        return make_layer(LayerSpec("augment", {}))
    return keras.Sequential([
        layers.RandomFlip("horizontal", seed=seed),
        layers.RandomRotation(40 / 360, fill_mode="nearest", seed=seed),
        layers.RandomTranslation(0.2, 0.2, fill_mode="nearest", seed=seed),
        layers.RandomShear(x_factor=0.2, y_factor=0.2, fill_mode="nearest", seed=seed),
        layers.RandomZoom(0.2, fill_mode="nearest", seed=seed),
    ], name="augmentation")
