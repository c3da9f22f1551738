"""The plain Keras code of a transfer model on any ``keras.applications`` base: what ``--code`` prints *and* what runs.

As for VGG16 (:mod:`.code`), :func:`app_build_code` writes the lines from an :class:`AppSpec` whose
values are all checked (a base from :data:`.bases.BASES`, a layer name that exists in that base,
whole numbers, a fraction, a path written with ``repr``) and :func:`.app_models.transfer_model`
runs those very lines. The model::

    Input (raw 0-255) → [Resizing] → ApplicationPreprocess(base's preprocess_input) → base (nested,
    frozen, optionally cut at a layer: the course's InceptionV3 at "mixed7") → pooling → head

The nested base keeps its own layers, so ``model.get_layer(base).get_layer("mixed6")`` and the
course's own fine-tuning loop work on it.
"""
from __future__ import annotations

from dataclasses import dataclass

from ..i18n import N_, _
from .bases import Base
from .code import head_lines, recompile_lines

# the docstring of the printed class, translated where the code is printed (its English is in the class below)
APP_PREPROCESS_DOC = N_("keras.applications.<application>.preprocess_input as a layer, so that the model takes raw "
                        "0-255 pixels.")

# the layer that puts a base's preprocess_input inside the model (a Lambda layer would not reload from .keras)
APP_PREPROCESS_CLASS = '''\
@keras.saving.register_keras_serializable(package="nnmagics")
class ApplicationPreprocess(layers.Layer):
    """keras.applications.<application>.preprocess_input as a layer, so that the model takes raw 0-255 pixels."""

    def __init__(self, application="vgg16", **kwargs):
        super().__init__(**kwargs)
        self.application = application

    def call(self, inputs):
        return getattr(keras.applications, self.application).preprocess_input(inputs)

    def get_config(self):
        return {**super().get_config(), "application": self.application}
'''

POOLINGS = {"avg": "GlobalAveragePooling2D", "max": "GlobalMaxPooling2D", "flatten": "Flatten"}
_POOLING_NAMES = {"avg": "gap", "max": "gmp", "flatten": "flatten"}


@dataclass(frozen=True)
class AppSpec:
    """Everything the code of a transfer model on a ``keras.applications`` base depends on (all checked)."""

    name: str
    base: Base
    mode: str                              # "features" | "replace-top"
    num_classes: int
    input_shape: tuple[int, int, int]
    cut: str | None = None                 # a layer of the base: the model keeps the base up to it
    pooling: str = "avg"                   # avg | max | flatten (features mode)
    head_units: int = 256
    dropout: float = 0.5


def app_imports(base: Base) -> str:
    """The import lines of the printed program.

    Example::

        >>> from nnmagics.transfer.bases import find_base
        >>> app_imports(find_base("inception_v3")).splitlines()[-1]
        'from keras.applications import InceptionV3'
    """
    return f"import keras\nfrom keras import layers\nfrom keras.applications import {base.cls}\n"


def app_build_code(spec: AppSpec, weights: str) -> list[str]:
    """The lines that build the model; ``weights`` is the literal given to Keras (``"imagenet"``, ``None``, a path).

    Example::

        >>> from nnmagics.transfer.bases import find_base
        >>> spec = AppSpec("tl", find_base("inception_v3"), "features", 2, (150, 150, 3), cut="mixed7")
        >>> app_build_code(spec, "None")[1]
        'base = keras.Model(base.input, base.get_layer("mixed7").output, name="inception_v3")  # cut at mixed7'
    """
    b, (h, w, _channels) = spec.base, spec.input_shape
    k = int(spec.num_classes)
    if spec.mode == "replace-top":
        lines = [f"full = {b.cls}(weights={weights})  # " + _("the whole network, ImageNet top included"),
                 f'base = keras.Model(full.input, full.layers[-2].output, name="{b.name}")  # '
                 + _("all but the last layer")]
    else:
        lines = [f"base = {b.cls}(weights={weights}, include_top=False, input_shape=({h}, {w}, 3))"]
        if spec.cut:
            lines.append(f'base = keras.Model(base.input, base.get_layer("{spec.cut}").output, name="{b.name}")'
                         + "  # " + _("cut at {layer}").format(layer=spec.cut))
        else:  # named so that model.get_layer(NAME) finds it (EfficientNetV2's name= picks its blocks)
            lines.append(f'base = keras.Model(base.input, base.output, name="{b.name}")')
    lines += ["base.trainable = False  # " + _("frozen: only the new head trains"),
              f"model = keras.Sequential(name={spec.name!r})",
              f"model.add(keras.Input(shape=({h}, {w}, 3)))  # " + _("raw pixels 0-255")]
    if spec.mode == "replace-top" and (h, w) != (b.size, b.size):
        lines.append(f'model.add(layers.Resizing({b.size}, {b.size}, name="resize_{b.size}"))'
                     + "  # " + _("the ImageNet top needs {size}x{size}").format(size=b.size))
    lines += [f'model.add(ApplicationPreprocess("{b.module}", name="preprocess"))',
              "model.add(base)"]
    if spec.mode == "features":
        pooling = POOLINGS[spec.pooling]
        lines.append(f'model.add(layers.{pooling}(name="{_POOLING_NAMES[spec.pooling]}"))')
        lines += head_lines(spec.head_units, spec.dropout)
    lines.append(f'model.add(layers.Dense({k}, activation="softmax", name="output"))')
    return lines


def app_fine_tune_code(base_name: str, after: str | None, optimizer: str | None = None,
                       learning_rate: float = 1e-5, compile_args: str | None = None) -> list[str]:
    """The lines of phase 2: the base's layers after ``after`` train (None: all), BatchNormalization stays frozen.

    Example::

        >>> app_fine_tune_code("inception_v3", "mixed6")[3]
        'for layer in base.layers:'
    """
    if after:
        title = _("phase 2: fine-tune after {layer} (BatchNormalization stays frozen: its statistics are "
                  "ImageNet's)").format(layer=after)
    else:
        title = _("phase 2: fine-tune every layer (BatchNormalization stays frozen: its statistics are ImageNet's)")
    lines = ["# " + title,
             f'base = model.get_layer("{base_name}")',
             "base.trainable = True",
             "for layer in base.layers:"]
    if after:
        lines = lines[:3] + ["unfreeze = False"] + lines[3:] + [
            "    layer.trainable = unfreeze and not isinstance(layer, layers.BatchNormalization)",
            f'    if layer.name == "{after}":',
            "        unfreeze = True"]
    else:
        lines.append("    layer.trainable = not isinstance(layer, layers.BatchNormalization)")
    return lines + recompile_lines(optimizer, learning_rate, compile_args)


def app_printed_code(spec: AppSpec, weights: str, phase_two: list[str] | None = None) -> str:
    """The whole program ``--code`` prints: imports, the preprocessing layer, the model, phase 2.

    Example::

        print(app_printed_code(spec, '"imagenet"'))
    """
    preprocess = APP_PREPROCESS_CLASS.replace(APP_PREPROCESS_DOC, _(APP_PREPROCESS_DOC))
    program = app_imports(spec.base) + "\n\n" + preprocess.rstrip("\n") + "\n\n\n"
    program += "\n".join(app_build_code(spec, weights)) + "\n"
    if phase_two:
        program += "\n" + "\n".join(phase_two) + "\n"
    return program


__all__ = ["AppSpec", "app_build_code", "app_fine_tune_code", "app_printed_code", "app_imports",
           "APP_PREPROCESS_CLASS", "POOLINGS"]
